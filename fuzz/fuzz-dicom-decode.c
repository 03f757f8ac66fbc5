/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The whole series reader on one file: structure check, header, and the pixel decoders
 * (native, RLE, JPEG lossless, JPEG-LS, JPEG 2000, deflate) through GDCM, into HU. */
#include "fuzz-common.h"
#include "mm-dicom.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  g_autofree char *path = mm_fuzz_write (NULL, "IM0001", data, size);
  MmDicomLoadOptions opts;
  mm_dicom_load_options_init (&opts);
  opts.n_threads = 1;
  const char *paths[] = { path };
  g_autoptr (MmDicomReport) report = mm_dicom_report_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (MmVolume) vol = mm_dicom_load (paths, 1, &opts, report, &err);
  if ((vol == NULL) == (err == NULL))
    __builtin_trap (); /* exactly one of a volume and an error */
  return 0;
}
