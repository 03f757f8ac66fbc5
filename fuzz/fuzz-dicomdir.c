/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A DICOMDIR given to the reader (as `metalmark-cli info DICOMDIR` and the app's Open do):
 * its parse, its Referenced File IDs, and whatever they lead to in its folder. */
#include "fuzz-common.h"
#include "fuzz-dicom-load.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  static char *dir;
  if (dir == NULL)
    {
      /* A folder of its own, so that the IDs the DICOMDIR names are looked up in it. */
      dir = g_build_filename (mm_fuzz_dir (), "disc", NULL);
      g_mkdir_with_parents (dir, 0700);
    }
  g_autofree char *path = mm_fuzz_write (dir, "DICOMDIR", data, size);
  mm_fuzz_load_dicom (path);
  return 0;
}
