/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The series reader on one path, as the DICOM fuzz targets run it. */
#pragma once

#include "mm-dicom.h"

/* Load path with one thread; traps unless exactly one of a volume and an error comes back. */
static inline void
mm_fuzz_load_dicom (const char *path)
{
  MmDicomLoadOptions opts;
  mm_dicom_load_options_init (&opts);
  opts.n_threads = 1;
  const char *paths[] = { path };
  g_autoptr (MmDicomReport) report = mm_dicom_report_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (MmVolume) vol = mm_dicom_load (paths, 1, &opts, report, &err);
  if ((vol == NULL) == (err == NULL))
    __builtin_trap ();
}
