/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The whole series reader on one file: structure check, header, and the pixel decoders
 * (native, RLE, JPEG lossless, JPEG-LS, JPEG 2000, deflate) through GDCM, into HU. */
#include "fuzz-common.h"
#include "fuzz-dicom-load.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  g_autofree char *path = mm_fuzz_write (NULL, "IM0001", data, size);
  mm_fuzz_load_dicom (path);
  return 0;
}
