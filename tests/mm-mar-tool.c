/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Metal artifact reduction (src/core/mm-mar.c) on raw files, for tests/ct/test_mar.py and
 * bench/mar:
 *   mm-mar-tool METHOD N PIXEL_MM HU MASK OUT [VIEWS DOWNSAMPLE]
 * METHOD li or nmar; HU and OUT: N x N float32 HU, MASK: N x N uint8 (nonzero: metal).
 * Prints the wall and CPU time on stderr. */
#include "mm-mar.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *
read_all (const char *path, size_t want)
{
  gchar *data = NULL;
  gsize len = 0;
  g_autoptr (GError) err = NULL;
  if (!g_file_get_contents (path, &data, &len, &err) || len != want)
    {
      fprintf (stderr, "mm-mar-tool: %s: %s\n", path,
               err ? err->message : "not the size the arguments say");
      exit (2);
    }
  return data;
}

static int
parse_int (const char *s, int lo, int hi)
{
  char *end;
  long v = strtol (s, &end, 10);
  if (*end || v < lo || v > hi)
    {
      fprintf (stderr, "mm-mar-tool: '%s' is not a number in %d..%d\n", s, lo, hi);
      exit (2);
    }
  return (int) v;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) err = NULL;
  MmMarParams p;
  mm_mar_params_init (&p);
  if ((argc != 7 && argc != 9) || !mm_mar_method_from_name (argv[1], &p.method))
    {
      fprintf (stderr, "usage: mm-mar-tool li|nmar N PIXEL_MM HU MASK OUT [VIEWS DOWNSAMPLE]\n");
      return 2;
    }
  int n = parse_int (argv[2], 8, 4096);
  double px = g_ascii_strtod (argv[3], NULL);
  if (argc == 9)
    {
      p.n_views = parse_int (argv[7], 16, 4096);
      p.downsample = parse_int (argv[8], 0, 4);
    }
  g_autofree float *hu = read_all (argv[4], sizeof (float) * n * n);
  g_autofree guint8 *mask = read_all (argv[5], (size_t) n * n);
  g_autofree float *out = g_new (float, (size_t) n * n);
  clock_t c0 = clock ();
  gint64 t0 = g_get_monotonic_time ();
  if (!mm_mar_slice (&p, n, n, px, hu, mask, out, &err))
    {
      fprintf (stderr, "mm-mar-tool: %s\n", err->message);
      return 1;
    }
  fprintf (stderr, "%s: %.3f s wall, %.3f s CPU\n", mm_mar_method_label (p.method),
           (g_get_monotonic_time () - t0) / 1e6, (double) (clock () - c0) / CLOCKS_PER_SEC);
  g_autoptr (GError) werr = NULL;
  if (!g_file_set_contents (argv[6], (const char *) out, sizeof (float) * n * n, &werr))
    {
      fprintf (stderr, "mm-mar-tool: %s\n", werr->message);
      return 2;
    }
  return 0;
}
