/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The label stack manifest (manifest.json) beside the phantom's truth PNGs: the stack read
 * alone (eval, train) and for the series (export --mask, the app), and its geometry. */
#include "fuzz-common.h"
#include "mm-label-stack.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  const MmPhantom *ph = mm_fuzz_phantom ();
  static char *dir;
  if (dir == NULL)
    {
      dir = g_build_filename (mm_fuzz_dir (), "stack", NULL);
      g_autoptr (GError) err = NULL;
      if (!mm_label_stack_write (dir, ph->truth, ph->volume, NULL, 1, &err))
        g_error ("fuzz: %s", err->message);
    }
  g_autofree char *path = mm_fuzz_write (dir, MM_LABEL_STACK_MANIFEST, data, size);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmMask) alone = mm_label_stack_read (dir, NULL, &err);
  if ((alone == NULL) == (err == NULL))
    __builtin_trap ();
  if (alone)
    {
      double spacing[3];
      GPtrArray *uids = NULL;
      g_clear_error (&err);
      if (mm_label_stack_read_geometry (dir, spacing, &uids, &err))
        g_ptr_array_unref (uids);
    }
  g_clear_error (&err);
  g_autoptr (MmMask) matched = mm_label_stack_read (dir, ph->volume, &err);
  if ((matched == NULL) == (err == NULL))
    __builtin_trap ();
  return 0;
}
