/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Timing of the annotation paths on a real series: brush dab to a redrawn view, threshold
 * preview of one slice, threshold plus components of the whole volume, undo of that.
 * Run by hand: bench-edit SERIES_DIR (default $MM_SEED_CT). */
#include "mm-dicom.h"
#include "mm-edit.h"
#include "mm-history.h"
#include "mm-render.h"
#include "mm-segment.h"

#include <stdio.h>
#include <stdlib.h>

#define VIEW_W 940
#define VIEW_H 740

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static void
report (const char *what, double *t, int n, double target)
{
  qsort (t, n, sizeof *t, cmp_double);
  double p95 = t[(int) (n * 0.95)];
  if (target > 0)
    printf ("%-44s p50 %8.3f ms  p95 %8.3f ms  target %6.1f ms  %s\n", what, t[n / 2], p95,
            target, p95 <= target ? "met" : "MISSED");
  else
    printf ("%-44s p50 %8.3f ms  p95 %8.3f ms\n", what, t[n / 2], p95);
}

int
main (int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : g_getenv ("MM_SEED_CT");
  if (dir == NULL)
    {
      fprintf (stderr, "usage: bench-edit SERIES_DIR (or set MM_SEED_CT)\n");
      return 2;
    }
  g_autoptr (GError) error = NULL;
  const char *paths[] = { dir };
  g_autoptr (MmVolume) vol = mm_dicom_load (paths, 1, NULL, NULL, &error);
  if (vol == NULL)
    {
      fprintf (stderr, "bench-edit: %s\n", error->message);
      return 1;
    }
  printf ("series %s: %d x %d x %d, view %d x %d, %d threads\n", dir, vol->dims[0], vol->dims[1],
          vol->dims[2], VIEW_W, VIEW_H, g_get_num_processors ());

  MmSegmentParams p;
  mm_segment_params_init (&p);
  g_autoptr (MmMask) mask = mm_segment_metal (vol, &p, NULL, 0);
  g_autoptr (MmHistory) hist = mm_history_new (mask, SIZE_MAX);
  g_autoptr (MmRenderer) r = mm_renderer_new ();
  g_autofree uint8_t *rgba = g_malloc ((size_t) VIEW_W * VIEW_H * 4);
  MmPlaneGeometry g;
  mm_plane_geometry (vol, MM_PLANE_AXIAL, &g);
  MmViewport vp;
  mm_viewport_fit (&g, VIEW_W, VIEW_H, &vp);
  MmRenderStyle style = { .window = 4000, .level = 1000, .mask = mask,
                          .overlay_rgb = { 255, 59, 48 }, .overlay_opacity = 0.45 };
  int k = vol->dims[2] / 2;
  enum { N = 200 };
  double t[N];

  /* Brush dab to redrawn frame: one stamp (3 mm), its undo step, the view re-rendered. */
  MmBrush b = { .radius_mm = 3, .value = 1 };
  for (int n = 0; n < N; n++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double u = 100 + n, v = 200 + (n % 50);
      mm_history_begin (hist, "dab");
      mm_edit_brush_segment (mask, vol, MM_PLANE_AXIAL, k, u, v, u + 2, v + 1, &b,
                             mm_history_touch_cb, hist);
      mm_history_commit (hist);
      mm_renderer_draw (r, vol, MM_PLANE_AXIAL, k, &style, &vp, rgba, VIEW_W, VIEW_H, VIEW_W * 4);
      t[n] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  report ("brush dab + undo step + view render", t, N, 2.0);

  /* Threshold preview: the view rendered with the HU-range predicate, another slice each time. */
  style.preview = true;
  style.preview_lower = 2000;
  style.preview_upper = 32767;
  for (int n = 0; n < N; n++)
    {
      gint64 t0 = g_get_monotonic_time ();
      style.preview_lower = 2000 + 10 * n;
      mm_renderer_draw (r, vol, MM_PLANE_AXIAL, n % vol->dims[2], &style, &vp, rgba, VIEW_W,
                        VIEW_H, VIEW_W * 4);
      t[n] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  report ("threshold preview of one slice (view render)", t, N, 5.0);

  /* Whole volume: threshold and 26-connected components, as "Segment Metal" with a minimum
   * volume; then the threshold as an undoable edit, and its undo. */
  enum { M = 9 };
  double ts[M], tu[M], te[M];
  p.min_volume_mm3 = 50;
  for (int n = 0; n < M; n++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autofree bool *keep = NULL;
      g_autoptr (MmComponents) c = mm_segment_metal_components (vol, &p, NULL, &keep, 0);
      ts[n] = (g_get_monotonic_time () - t0) / 1000.0;

      double lower = n % 2 ? 3000 : 1500; /* alternate so every step changes the mask */
      t0 = g_get_monotonic_time ();
      mm_history_begin (hist, "threshold");
      mm_edit_threshold (mask, vol, 0, vol->dims[2] - 1, lower, 32767, mm_history_touch_cb, hist);
      mm_history_commit (hist);
      te[n] = (g_get_monotonic_time () - t0) / 1000.0;
      t0 = g_get_monotonic_time ();
      mm_history_undo (hist, NULL, NULL);
      tu[n] = (g_get_monotonic_time () - t0) / 1000.0;
      mm_history_redo (hist, NULL, NULL);
    }
  report ("threshold + components, whole volume", ts, M, 100.0);
  report ("threshold as an undoable edit, whole volume", te, M, 0);
  report ("undo of a whole-volume threshold", tu, M, 50.0);
  return 0;
}
