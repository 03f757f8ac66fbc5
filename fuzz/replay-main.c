/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The main of the replay tools (fuzz-replay-*), built in every build without libFuzzer: runs
 * the target's LLVMFuzzerTestOneInput on each file named (a folder: on each file in it), as
 * a libFuzzer binary does with file arguments. A crash is the process dying; exit 0 else. */
#include "fuzz-common.h"

#include <stdio.h>

static int
run_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) err = NULL;
  if (!g_file_get_contents (path, &data, &len, &err))
    {
      fprintf (stderr, "%s\n", err->message);
      return 2;
    }
  fprintf (stderr, "Running: %s\n", path);
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  fprintf (stderr, "Executed %s\n", path);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE|DIR...\n", argv[0]);
      return 2;
    }
  int rc = 0;
  for (int i = 1; i < argc; i++)
    {
      if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          rc |= run_file (argv[i]);
          continue;
        }
      g_autoptr (GDir) d = g_dir_open (argv[i], 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)))
        {
          g_autofree char *path = g_build_filename (argv[i], name, NULL);
          if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
            rc |= run_file (path);
        }
    }
  return rc;
}
