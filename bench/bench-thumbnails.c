/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The series browser's work off the main thread, timed as the app does it (issue 13 target:
 * thumbnails of every series within 0.5 s of opening the folder): the header scan, then
 * for each series its middle slice decoded and drawn at 72 x 72 with its window, one after
 * the other on one thread (mm-thumbnailer.c). p50 / p95 over RUNS runs of: scan, first
 * thumbnail, all thumbnails (each from the start of the run). The page cache is warm after
 * the first run; the first run's figures are printed apart ("cold").
 * Usage: bench-thumbnails PATH [RUNS]   (PATH: a folder or DICOMDIR) */
#include "mm-dicom.h"
#include "mm-thumbnail.h"

#include <stdio.h>
#include <stdlib.h>

static int
cmp (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
pct (double *v, int n, double p)
{
  qsort (v, n, sizeof *v, cmp);
  int i = (int) (p * (n - 1) + 0.5);
  return v[i];
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: bench-thumbnails PATH [RUNS]\n");
      return 2;
    }
  int runs = argc > 2 ? atoi (argv[2]) : 20;
  if (runs < 1 || runs > 1000)
    runs = 20;
  double *scan = g_new (double, runs), *first = g_new (double, runs), *all = g_new (double, runs);
  guint n_series = 0;
  for (int r = 0; r < runs; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      MmDicomLoadOptions opts;
      mm_dicom_load_options_init (&opts);
      const char *paths[] = { argv[1] };
      g_autoptr (MmDicomReport) rep = mm_dicom_report_new ();
      g_autoptr (GError) err = NULL;
      if (!mm_dicom_scan (paths, 1, &opts, rep, &err))
        {
          fprintf (stderr, "bench-thumbnails: %s\n", err->message);
          return 1;
        }
      scan[r] = (g_get_monotonic_time () - t0) / 1000.0;
      n_series = rep->series->len;
      guint8 rgba[72 * 72 * 4];
      for (guint s = 0; s < rep->series->len; s++)
        {
          const MmDicomSeriesInfo *info = rep->series->pdata[s];
          MmDicomLoadOptions one;
          mm_dicom_load_options_init (&one);
          one.n_threads = 1;
          const char *file[] = { info->middle_file };
          g_autoptr (MmVolume) vol = info->middle_file ? mm_dicom_load (file, 1, &one, NULL, NULL)
                                                       : NULL;
          if (vol)
            mm_thumbnail_render (vol, vol->dims[2] / 2, 72, rgba);
          if (s == 0)
            first[r] = (g_get_monotonic_time () - t0) / 1000.0;
        }
      all[r] = (g_get_monotonic_time () - t0) / 1000.0;
      if (r == 0)
        printf ("%s: %u series; cold run: scan %.1f ms, first thumbnail %.1f ms, all %.1f ms\n",
                argv[1], n_series, scan[0], first[0], all[0]);
    }
  printf ("%-30s %3d runs  p50 %7.1f ms  p95 %7.1f ms\n", "scan (headers)", runs,
          pct (scan, runs, 0.5), pct (scan, runs, 0.95));
  printf ("%-30s %3d runs  p50 %7.1f ms  p95 %7.1f ms\n", "first thumbnail", runs,
          pct (first, runs, 0.5), pct (first, runs, 0.95));
  double p95 = pct (all, runs, 0.95);
  printf ("%-30s %3d runs  p50 %7.1f ms  p95 %7.1f ms  target p95 <= 500 ms %s\n",
          "all thumbnails", runs, pct (all, runs, 0.5), p95, p95 <= 500 ? "met" : "MISSED");
  double load[3];
  if (getloadavg (load, 3) == 3)
    printf ("load average %.2f %.2f %.2f\n", load[0], load[1], load[2]);
  g_free (scan);
  g_free (first);
  g_free (all);
  return 0;
}
