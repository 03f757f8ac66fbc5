/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DICOM structure check and header reader (pass 1 of the series reader): one file, as
 * every file of a folder a user opens goes through it. */
#include "fuzz-common.h"
#include "mm-dicom-private.hh"

#include <gdcmTrace.h>

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  gdcm::Trace::SetDebug (false);
  gdcm::Trace::SetWarning (false);
  gdcm::Trace::SetError (false);
  g_autofree char *path = mm_fuzz_write (nullptr, "IM0001", data, size);
  mm::SliceHeader h = mm::read_slice_header (path);
  /* A usable header is what pass 2 trusts: the sizes it will allocate from. */
  if (h.usable && (h.rows <= 0 || h.cols <= 0))
    __builtin_trap ();
  return 0;
}
