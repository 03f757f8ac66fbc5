/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The PNG reader of label stacks (mm_png_read_gray8), with chunk CRCs repaired so that
 * mutations reach libpng's decoder rather than its checksum check. */
#include "fuzz-common.h"
#include "mm-png.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  g_autofree uint8_t *copy = g_memdup2 (data, size);
  mm_fuzz_fix_png_crcs (copy, size);
  g_autofree char *path = mm_fuzz_write (NULL, "mask-0000.png", copy, size);
  g_autofree uint8_t *px = NULL;
  /* The reader takes the size the stack expects: take the size the header declares (when
   * the header check passes), so the decoder itself is reached. */
  MmPngHeader hdr;
  g_autoptr (GError) err = NULL;
  if (!mm_png_read_header (path, &hdr, &err))
    return 0;
  int w = (int) hdr.width, h = (int) hdr.height;
  if (mm_png_read_gray8 (path, w, h, &px, &err))
    {
      /* Touch every pixel the reader claims: ASan checks the buffer is that large. */
      volatile unsigned sum = 0;
      for (size_t i = 0; i < (size_t) w * h; i++)
        sum += px[i];
    }
  return 0;
}
