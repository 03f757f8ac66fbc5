/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Timing of the reading tools on a real series (issue 13's targets): an oblique 512 x 512
 * reslice with its mask overlay, and 30 mm MIP slabs in the three planes; each beside a
 * naive reference in C (voxel by voxel through the public index functions, one thread), and
 * bench/reading/reference.py times numpy and scipy on the same series.
 * Run by hand: bench-reading [SERIES_DIR] (default $MM_SEED_CT; without one, the 512 x 512
 * x 200 phantom generated in memory). */
#include "mm-dicom.h"
#include "mm-phantom.h"
#include "mm-reslice.h"
#include "mm-reslice-slab.h"
#include "mm-segment.h"
#include "mm-slab.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define SIDE 512
#define N_RUNS 200
#define N_REF 15

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
pct (double *t, int n, double q)
{
  qsort (t, n, sizeof *t, cmp_double);
  int at = (int) ceil (q * n) - 1;
  return t[CLAMP (at, 0, n - 1)];
}

/* Wall and CPU time of each run. */
typedef struct
{
  double wall[N_RUNS], cpu[N_RUNS];
  double w0, c0;
} Times;

static double now_ms (void);
static double cpu_ms (void);

static void
start (Times *t)
{
  t->w0 = now_ms ();
  t->c0 = cpu_ms ();
}

static void
stop (Times *t, int n)
{
  t->wall[n] = now_ms () - t->w0;
  t->cpu[n] = cpu_ms () - t->c0;
}

static void
report (const char *what, Times *tm, int n, double target, double ref_p50)
{
  double *t = tm->wall;
  double p50 = pct (t, n, 0.5), p95 = pct (t, n, 0.95);
  printf ("%-42s %3d runs  p50 %6.2f ms  p95 %6.2f ms  CPU p50 %6.2f ms  CPU p95 %6.2f ms", what,
          n, p50, p95, pct (tm->cpu, n, 0.5), pct (tm->cpu, n, 0.95));
  if (target > 0)
    printf ("  target p95 <= %4.1f ms %-6s", target, p95 <= target ? "met" : "MISSED");
  if (ref_p50 > 0)
    printf ("  naive/ours %5.1fx", ref_p50 / p50);
  printf ("\n");
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

/* CPU time of the whole process (every thread), ms: on a shared machine wall time includes
 * waiting for a core; CPU time is the work itself. */
static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The oblique plane of frame n: a drag of the crosshair handle, a tenth of a degree a frame. */
static void
frame_plane (const MmVolume *vol, int n, MmReslicePlane *p)
{
  double c[3] = { 0.5 * (vol->dims[0] - 1), 0.5 * (vol->dims[1] - 1), 0.5 * (vol->dims[2] - 1) };
  mm_reslice_plane_init (p, vol, MM_PLANE_CORONAL, c, SIDE, SIDE,
                         MIN (vol->spacing[0], vol->spacing[1]));
  const double s_axis[3] = { 0, 0, 1 }, r_axis[3] = { 1, 0, 0 };
  mm_reslice_plane_rotate (p, s_axis, (15 + 0.1 * n) * G_PI / 180);
  mm_reslice_plane_rotate (p, r_axis, (20 + 0.05 * n) * G_PI / 180);
}

/* Reference: every pixel through the public functions, one thread. */
static void
naive_reslice (const MmVolume *vol, const MmReslicePlane *p, float *out)
{
  for (int y = 0; y < p->height; y++)
    for (int x = 0; x < p->width; x++)
      {
        double ijk[3];
        mm_reslice_pixel_to_index (p, vol, x + 0.5, y + 0.5, ijk);
        out[(size_t) y * p->width + x] = (float) mm_reslice_sample (vol, ijk, -1024);
      }
}

static void
naive_mip (const MmVolume *vol, MmPlane plane, int depth, double th, float *out)
{
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  int first, last;
  mm_slab_range (vol, plane, depth, th, &first, &last);
  for (int v = 0; v < g.height; v++)
    for (int u = 0; u < g.width; u++)
      {
        double m = -INFINITY;
        for (int d = first; d <= last; d++)
          {
            int ijk[3];
            mm_plane_to_index (vol, plane, u, v, d, ijk);
            m = MAX (m, mm_volume_get (vol, ijk[0], ijk[1], ijk[2]));
          }
        out[(size_t) v * g.width + u] = (float) m;
      }
}

int
main (int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : g_getenv ("MM_SEED_CT");
  g_autoptr (GError) error = NULL;
  g_autoptr (MmVolume) vol = NULL;
  g_autoptr (MmPhantom) ph = NULL;
  if (dir)
    {
      const char *paths[] = { dir };
      vol = mm_dicom_load (paths, 1, NULL, NULL, &error);
      if (vol == NULL)
        {
          fprintf (stderr, "bench-reading: %s\n", error->message);
          return 1;
        }
    }
  else
    {
      MmPhantomParams pp;
      mm_phantom_params_init (&pp);
      pp.slices = 200;
      ph = mm_phantom_new (&pp, &error);
      if (ph == NULL)
        {
          fprintf (stderr, "bench-reading: %s\n", error->message);
          return 1;
        }
      vol = g_steal_pointer (&ph->volume);
      dir = "(generated phantom)";
    }
  double load[3] = { 0 };
  FILE *f = fopen ("/proc/loadavg", "r");
  if (f)
    {
      if (fscanf (f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
        load[0] = load[1] = load[2] = -1;
      fclose (f);
    }
  printf ("series %s: %d x %d x %d, spacing %.3f x %.3f x %.3f mm\n", dir, vol->dims[0],
          vol->dims[1], vol->dims[2], vol->spacing[0], vol->spacing[1], vol->spacing[2]);
  printf ("%d cores, %d OpenMP threads; load average %.2f %.2f %.2f at the start\n",
          g_get_num_processors (), omp_get_max_threads (), load[0], load[1], load[2]);

  MmSegmentParams sp;
  mm_segment_params_init (&sp);
  g_autoptr (MmMask) mask = mm_segment_metal (vol, &sp, NULL, 0);
  g_autofree float *img = g_new (float, (size_t) SIDE * SIDE * 4);
  g_autofree uint8_t *mimg = g_new (uint8_t, (size_t) SIDE * SIDE);
  /* Two configurations per case, one after the other: the automatic thread count (what the
   * app gets) and a team of two. Not interleaved frame by frame: libgomp's idle team threads
   * spin for a while after each parallel region and slowed the next one-thread frame. */
  static Times t[2], r;
  static const int conf[2] = { 0, 2 };
  static const char *conf_name[2] = { "", ", 2 threads" };
  MmReslicePlane p;
  int bmin[3], bmax[3];
  if (!mm_reslice_mask_bounds (mask, bmin, bmax))
    bmin[0] = bmin[1] = bmin[2] = 1, bmax[0] = bmax[1] = bmax[2] = 0;
  printf ("metal mask: %" G_GUINT64_FORMAT " voxels in the box %d..%d x %d..%d x %d..%d\n",
          mm_mask_count (mask), bmin[0], bmax[0], bmin[1], bmax[1], bmin[2], bmax[2]);

  for (int n = 0; n < N_REF; n++)
    {
      frame_plane (vol, n, &p);
      start (&r);
      naive_reslice (vol, &p, img);
      stop (&r, n);
    }
  double ref_reslice = pct (r.wall, N_REF, 0.5);
  for (int n = 0; n < 2 * N_RUNS; n++)
    {
      int c = n >= N_RUNS;
      frame_plane (vol, n % N_RUNS, &p);
      start (&t[c]);
      mm_reslice_volume (vol, &p, -1024, img, conf[c]);
      mm_reslice_mask (vol, mask, &p, mimg, conf[c]);
      stop (&t[c], n % N_RUNS);
    }
  for (int c = 0; c < 2; c++)
    {
      g_autofree char *what = g_strdup_printf ("oblique 512x512 + mask overlay%s", conf_name[c]);
      report (what, &t[c], N_RUNS, 8, 0);
    }
  /* The app's path: the mask's box computed once per edit, the lookup only inside it. */
  for (int n = 0; n < N_RUNS; n++)
    {
      frame_plane (vol, n, &p);
      start (&t[0]);
      mm_reslice_volume (vol, &p, -1024, img, 0);
      mm_reslice_mask_in (vol, mask, bmin, bmax, &p, mimg, 0);
      stop (&t[0], n);
    }
  report ("oblique 512x512 + mask in its box", &t[0], N_RUNS, 8, 0);
  for (int n = 0; n < 2 * N_RUNS; n++)
    {
      int c = n >= N_RUNS;
      frame_plane (vol, n % N_RUNS, &p);
      start (&t[c]);
      mm_reslice_volume (vol, &p, -1024, img, conf[c]);
      stop (&t[c], n % N_RUNS);
    }
  for (int c = 0; c < 2; c++)
    {
      g_autofree char *what = g_strdup_printf ("oblique 512x512 (image only)%s", conf_name[c]);
      report (what, &t[c], N_RUNS, 0, c ? 0 : ref_reslice);
    }
  printf ("%-42s %3d runs  p50 %6.2f ms  (per-pixel index + sample, 1 thread)\n",
          "  naive reference", N_REF, ref_reslice);

  /* The app's whole oblique frame (MmReadingImage, then the slice view's draw): reslice,
   * mask in its box, and the renderer's window/level and overlay into a 512 x 512 view. */
  {
    g_autoptr (MmRenderer) rd = mm_renderer_new ();
    g_autofree uint8_t *rgba = g_new (uint8_t, (size_t) SIDE * SIDE * 4);
    for (int n = 0; n < N_RUNS; n++)
      {
        frame_plane (vol, n, &p);
        start (&t[0]);
        g_autoptr (MmVolume) im = mm_reslice_image_new (vol, &p);
        mm_reslice_volume (vol, &p, -1024, im->voxels, 0);
        mm_reslice_mask_in (vol, mask, bmin, bmax, &p, mimg, 0);
        MmMask mview = { { p.width, p.height, 1 }, mimg };
        MmRenderStyle style = { .window = 4000, .level = 1000, .mask = &mview,
                                .overlay_rgb = { 255, 59, 48 }, .overlay_opacity = 0.45 };
        MmViewport vp;
        MmPlaneGeometry g;
        mm_plane_geometry (im, MM_PLANE_AXIAL, &g);
        mm_viewport_fit (&g, SIDE, SIDE, &vp);
        mm_renderer_draw (rd, im, MM_PLANE_AXIAL, 0, &style, &vp, rgba, SIDE, SIDE, SIDE * 4);
        stop (&t[0], n);
      }
    report ("oblique 512x512 + mask, drawn (app frame)", &t[0], N_RUNS, 8, 0);
    /* Oblique slabs (no target): one reslice per sample along the normal. */
    static const double thick[] = { 5, 10, 30 };
    for (int c = 0; c < 3; c++)
      {
        int runs = N_RUNS / 4;
        for (int n = 0; n < runs; n++)
          {
            frame_plane (vol, n, &p);
            start (&t[0]);
            mm_reslice_slab (vol, &p, thick[c], 0, MM_SLAB_MIP, -1024, img, img + SIDE * SIDE, 0);
            stop (&t[0], n);
          }
        g_autofree char *what = g_strdup_printf ("oblique MIP %g mm 512x512 (%d samples)", thick[c],
                                                 mm_reslice_slab_samples (thick[c], mm_reslice_slab_step (vol, 0)));
        report (what, &t[0], runs, 0, 0);
      }
  }

  static const char *names[] = { "axial", "coronal", "sagittal" };
  static const double targets[] = { 8, 12, 12 };
  for (MmPlane plane = MM_PLANE_AXIAL; plane <= MM_PLANE_SAGITTAL; plane++)
    {
      MmPlaneGeometry g;
      mm_plane_geometry (vol, plane, &g);
      for (int n = 0; n < N_REF; n++)
        {
          start (&r);
          naive_mip (vol, plane, g.depth / 2 + n % 7, 30, img);
          stop (&r, n);
        }
      double ref = pct (r.wall, N_REF, 0.5);
      int first, last;
      mm_slab_range (vol, plane, g.depth / 2, 30, &first, &last);
      for (int n = 0; n < 2 * N_RUNS; n++)
        {
          int c = n >= N_RUNS;
          /* Scrolling the slab through the volume. */
          int depth = g.depth / 2 - 20 + (n % N_RUNS) % 41;
          start (&t[c]);
          mm_slab_compute (vol, plane, depth, 30, MM_SLAB_MIP, img, conf[c]);
          stop (&t[c], n % N_RUNS);
        }
      for (int c = 0; c < 2; c++)
        {
          g_autofree char *what = g_strdup_printf ("MIP 30 mm %s (%d planes)%s", names[plane],
                                                   last - first + 1, conf_name[c]);
          report (what, &t[c], N_RUNS, targets[plane], c ? 0 : ref);
        }
    }
  for (MmSlabMode mode = MM_SLAB_MINIP; mode <= MM_SLAB_MEAN; mode++)
    {
      for (int n = 0; n < N_RUNS; n++)
        {
          start (&t[0]);
          mm_slab_compute (vol, MM_PLANE_AXIAL, vol->dims[2] / 2 - 20 + n % 41, 30, mode, img,
                           0);
          stop (&t[0], n);
        }
      g_autofree char *what = g_strdup_printf ("%s 30 mm axial", mm_slab_mode_name (mode));
      report (what, &t[0], N_RUNS, 0, 0);
    }
  if (f && (f = fopen ("/proc/loadavg", "r")))
    {
      if (fscanf (f, "%lf %lf %lf", &load[0], &load[1], &load[2]) == 3)
        printf ("load average %.2f %.2f %.2f at the end\n", load[0], load[1], load[2]);
      fclose (f);
    }
  return 0;
}
