/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of atomic file replacement (mm-atomic.c). */
#include "mm-test-util.h"
#include "mm-atomic.h"

#include <string.h>

static void
test_atomic_write (void)
{
  g_autofree char *dir = mm_test_tmp_dir ("mm-test");
  g_autofree char *path = g_build_filename (dir, "f.txt", NULL);
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_atomic_write (path, "old", 3, true, &err));
  g_assert_true (mm_atomic_write (path, "new!", 4, true, &err));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "new!");
  /* A folder that does not exist: an error naming the file, nothing written. */
  g_autofree char *bad = g_build_filename (dir, "no", "such", "f.txt", NULL);
  g_assert_false (mm_atomic_write (bad, "x", 1, true, &err));
  g_assert_nonnull (strstr (err->message, bad));
  mm_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/atomic/write", test_atomic_write);
  return g_test_run ();
}
