/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Timing of undo/redo and autosave on a 512 x 512 x 200 mask: whole-volume steps, a stroke,
 * journal appends and folds. Run by hand: bench-history [SLICES] [DIR]. */
#include "mm-history.h"
#include "mm-journal.h"
#include "mm-phantom.h"

#include <glib/gstdio.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPEAT 7

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return v[n / 2];
}

typedef enum { OP_THRESHOLD, OP_INVERT, OP_BODY } Op;

static void
whole_volume_op (MmMask *mask, const MmVolume *vol, Op op)
{
  int n = mask->dims[2];
  size_t slice = (size_t) mask->dims[0] * mask->dims[1];
#pragma omp parallel for schedule (static)
  for (int k = 0; k < n; k++)
    {
      uint8_t *p = mm_mask_slice (mask, k);
      const int16_t *hu = (const int16_t *) vol->voxels + (size_t) k * slice;
      for (size_t x = 0; x < slice; x++)
        p[x] = op == OP_INVERT ? !p[x] : op == OP_THRESHOLD ? hu[x] >= 300 : hu[x] >= -500;
    }
}

/* One whole-volume step, then undo and redo REPEAT times: medians. */
static void
bench_whole (MmHistory *h, MmMask *mask, const MmVolume *vol, Op op, const char *name)
{
  int n = mask->dims[2];
  g_autoptr (MmMask) before = mm_mask_copy (mask);
  double t0 = now_ms ();
  mm_history_begin (h, name);
  mm_history_touch_range (h, 0, n - 1);
  double t1 = now_ms ();
  whole_volume_op (mask, vol, op);
  double t2 = now_ms ();
  size_t bytes0 = mm_history_get_bytes (h);
  mm_history_commit (h);
  double t3 = now_ms ();
  int n_changed;
  mm_history_get_changed (h, &n_changed);
  size_t step = mm_history_get_bytes (h) - bytes0;

  g_autoptr (MmMask) after = mm_mask_copy (mask);
  double undo[REPEAT], redo[REPEAT];
  for (int r = 0; r < REPEAT; r++)
    {
      double a = now_ms ();
      mm_history_undo (h, NULL, NULL);
      undo[r] = now_ms () - a;
      if (!mm_mask_equal (mask, before))
        g_error ("undo of %s did not restore the mask", name);
      a = now_ms ();
      mm_history_redo (h, NULL, NULL);
      redo[r] = now_ms () - a;
      if (!mm_mask_equal (mask, after))
        g_error ("redo of %s did not restore the mask", name);
    }
  printf ("%-28s %4d slices changed  step %8.1f kB   touch %6.1f ms  commit %6.1f ms  "
          "undo %6.2f ms  redo %6.2f ms   (the operation itself %.1f ms)\n",
          name, n_changed, step / 1024.0, t1 - t0, t3 - t2, median (undo, REPEAT),
          median (redo, REPEAT), t2 - t1);
}

int
main (int argc, char **argv)
{
  int slices = argc > 1 ? atoi (argv[1]) : 200;
  MmPhantomParams p;
  mm_phantom_params_init (&p);
  p.size = 512;
  p.slices = slices;
  g_autoptr (GError) err = NULL;
  g_autoptr (MmPhantom) ph = mm_phantom_new (&p, &err);
  if (ph == NULL)
    {
      fprintf (stderr, "bench-history: %s\n", err->message);
      return 1;
    }
  MmVolume *vol = ph->volume;
  g_autoptr (MmMask) mask = mm_mask_copy (ph->truth);
  printf ("mask %d x %d x %d (%.1f MB), %d OpenMP threads\n", mask->dims[0], mask->dims[1],
          mask->dims[2], mm_mask_n_voxels (mask) / 1e6, omp_get_max_threads ());

  g_autoptr (MmHistory) h = mm_history_new (mask, (size_t) 512 << 20);
  bench_whole (h, mask, vol, OP_THRESHOLD, "threshold >= 300 HU (bone)");
  bench_whole (h, mask, vol, OP_BODY, "threshold >= -500 HU (body)");
  bench_whole (h, mask, vol, OP_INVERT, "invert (every voxel flips)");

  /* A brush stroke: 30 dabs of radius 12 along a line on one slice. */
  double commit[REPEAT], undo[REPEAT];
  int k = slices / 2;
  for (int r = 0; r < REPEAT; r++)
    {
      mm_history_begin (h, "Brush");
      mm_history_touch (h, k);
      uint8_t *s = mm_mask_slice (mask, k);
      for (int d = 0; d < 30; d++)
        for (int j = -12; j <= 12; j++)
          for (int i = -12; i <= 12; i++)
            if (i * i + j * j <= 144)
              s[(200 + j + r) * 512 + 100 + 5 * d + i] = 1;
      double a = now_ms ();
      mm_history_commit (h);
      double b = now_ms ();
      mm_history_undo (h, NULL, NULL);
      double c = now_ms ();
      mm_history_redo (h, NULL, NULL);
      commit[r] = b - a;
      undo[r] = c - b;
    }
  printf ("%-28s %4d slice  changed  commit %.3f ms  undo %.3f ms\n", "brush stroke", 1,
          median (commit, REPEAT), median (undo, REPEAT));
  printf ("history holds %d steps in %.1f kB\n", mm_history_get_n_undo (h),
          mm_history_get_bytes (h) / 1024.0);

  /* Autosave. */
  g_autofree char *dir = argc > 2 ? g_strdup (argv[2]) : g_dir_make_tmp ("mm-bench-XXXXXX", &err);
  if (dir == NULL)
    {
      fprintf (stderr, "bench-history: %s\n", err->message);
      return 1;
    }
  g_autoptr (MmMask) jm = mm_mask_copy (mask);
  double t0 = now_ms ();
  MmJournal *j = mm_journal_open (dir, vol, jm, NULL, &err);
  if (j == NULL)
    {
      fprintf (stderr, "bench-history: %s\n", err->message);
      return 1;
    }
  double t1 = now_ms ();
  g_autofree int *all = g_new (int, slices);
  for (int s = 0; s < slices; s++)
    all[s] = s;
  double app1[REPEAT];
  for (int r = 0; r < REPEAT; r++)
    {
      double a = now_ms ();
      mm_journal_append (j, &k, 1, NULL);
      app1[r] = now_ms () - a;
    }
  double t2 = now_ms ();
  mm_journal_append (j, all, slices, NULL);
  double t3 = now_ms ();
  bool ok = mm_journal_fold (j, &err);
  double t4 = now_ms ();
  mm_journal_append (j, &k, 1, NULL);
  double t5 = now_ms ();
  ok = ok && mm_journal_fold (j, &err);
  double t6 = now_ms ();
  mm_journal_append (j, all, slices, NULL);
  mm_journal_close (j);
  g_autoptr (MmMask) back = mm_mask_new (mask->dims);
  double t7 = now_ms ();
  bool recovered = false;
  j = mm_journal_open (dir, vol, back, &recovered, &err);
  double t8 = now_ms ();
  if (!ok || j == NULL || !recovered || !mm_mask_equal (back, jm))
    {
      fprintf (stderr, "bench-history: journal round trip failed: %s\n",
               err ? err->message : "masks differ");
      return 1;
    }
  mm_journal_fold (j, NULL);
  mm_journal_close (j);
  double t9 = now_ms ();
  j = mm_journal_open (dir, vol, back, NULL, NULL);
  double t10 = now_ms ();
  mm_journal_close (j);
  printf ("journal in %s: open (no stack) %.1f ms; append 1 slice + fdatasync %.2f ms; "
          "append all %d slices %.1f ms\n", dir, t1 - t0, median (app1, REPEAT), slices,
          t3 - t2);
  printf ("fold: first (whole stack) %.1f ms, then one dirty slice %.1f ms\n", t4 - t3, t6 - t5);
  printf ("open: stack only %.1f ms, stack + %d-slice journal %.1f ms\n", t10 - t9, slices,
          t8 - t7);
  if (argc <= 2)
    {
      GDir *d = g_dir_open (dir, 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)))
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_unlink (path);
        }
      if (d)
        g_dir_close (d);
      g_rmdir (dir);
    }
  return 0;
}
