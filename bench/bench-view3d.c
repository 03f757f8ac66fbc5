/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 3D view's frame rate (issue 14): the seed CT's metal and its bone at 300 HU decimated
 * to 500 k triangles, turned a little every frame in an 800x600 GtkGLArea (the app's
 * renderer, mm-gl-renderer.c), or with --software in a GtkDrawingArea through the CPU
 * rasteriser (mm-raster.c). Run under Xvfb for Mesa's llvmpipe:
 *   xvfb-run -a -s "-screen 0 1024x768x24" build/bench/bench-view3d [--software] [--seconds N] SERIES
 * Prints the extraction times, then frames per second over N seconds after a warm-up. */
#include "mm-camera.h"
#include "mm-dicom.h"
#include "mm-gl-renderer.h"
#include "mm-marching.h"
#include "mm-mesh-decimate.h"
#include "mm-mesh-order.h"
#include "mm-raster.h"
#include "mm-segment.h"

#include <epoxy/gl.h>
#include <gtk/gtk.h>
#include <stdio.h>
#include <sys/resource.h>
#include <string.h>

typedef struct
{
  MmMesh **parts;
  int n_parts;
  MmMesh *bone, *bone_ordered;
  int phase; /* 0: the bone as decimated, the old shading (before); 1: ordered for drawing;
                2: ordered and the depth-slope shading (as the app now) */
  double result_cpu[3], result_fps[3];
  MmCamera cam;
  MmGlRenderer *gl;
  bool software;
  double seconds;
  gint64 start, warm;
  int frames;
  double draw_ms; /* summed time inside the draw call (GL: to glFinish) */
  GtkWidget *area;
  GMainLoop *loop;
} Bench;

static const float background[3] = { 0.1f, 0.11f, 0.13f };
static const float bone_rgba[4] = { 0.93f, 0.90f, 0.82f, 0.35f };
static const float metal_rgba[4] = { 0.95f, 0.75f, 0.25f, 1 };

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static double
cpu_ms (void)
{
  struct rusage u;
  getrusage (RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec * 1e3 + u.ru_utime.tv_usec / 1e3 + u.ru_stime.tv_sec * 1e3 + u.ru_stime.tv_usec / 1e3;
}

static double cpu_start;
static const char *const phase_names[3] = {
  "as decimated, position varying (before)", "ordered for drawing, position varying",
  "ordered, depth-slope shading (after)" };

static void
frame_done (Bench *b, double ms)
{
  gint64 t = g_get_monotonic_time ();
  if (b->start == 0)
    b->start = t;
  if (b->warm == 0 && t - b->start > 1000000) /* one second of warm-up */
    {
      b->warm = t;
      cpu_start = cpu_ms ();
      b->frames = 0;
      b->draw_ms = 0;
    }
  b->frames++;
  b->draw_ms += ms;
  if (b->warm && t - b->warm > b->seconds * 1e6)
    {
      double s = (t - b->warm) / 1e6;
      /* CPU time of the whole process (llvmpipe's threads included) per frame: on a loaded
       * machine the wall time is mostly waiting; 2 * 1000 / this is the rate two idle cores
       * would reach. */
      double cpu = (cpu_ms () - cpu_start) / MAX (b->frames, 1);
      printf ("%s, 800x600, bone %s: %d frames in %.2f s = %.1f frames/s (target >= 30); %.1f ms per draw; "
              "%.1f ms of CPU per frame (%.1f frames/s on 2 idle cores)\n",
              b->software ? "software rasteriser (2 threads)" : "GL (GtkGLArea)",
              phase_names[b->phase], b->frames, s,
              b->frames / s, b->draw_ms / MAX (b->frames, 1), cpu, 2000.0 / MAX (cpu, 1e-3));
      b->result_cpu[b->phase] = cpu;
      b->result_fps[b->phase] = 2000.0 / MAX (cpu, 1e-3);
      if (b->phase == 2 || b->software)
        {
          if (!b->software)
            printf ("side by side: %.1f -> %.1f -> %.1f ms of CPU per frame (%.1f -> %.1f -> %.1f "
                    "frames/s on 2 idle cores)\n", b->result_cpu[0], b->result_cpu[1],
                    b->result_cpu[2], b->result_fps[0], b->result_fps[1], b->result_fps[2]);
          g_main_loop_quit (b->loop);
          return;
        }
      /* The same again with the next change: one run, the same load, side by side. */
      b->phase++;
      b->start = b->warm = 0;
      b->frames = 0;
      if (b->gl != NULL)
        {
          mm_gl_renderer_set_mesh (b->gl, b->n_parts, b->bone_ordered);
          mm_gl_renderer_set_legacy_shading (b->gl, b->phase < 2);
        }
    }
}

static gboolean
tick_cb (GtkWidget *w, GdkFrameClock *clock, gpointer data)
{
  Bench *b = data;
  mm_camera_rotate (&b->cam, 4, 1); /* about 1.8 degrees a frame */
  if (b->software)
    gtk_widget_queue_draw (w);
  else
    gtk_gl_area_queue_render (GTK_GL_AREA (w));
  return G_SOURCE_CONTINUE;
}

static void
items (Bench *b, int *slots, float (*rgba)[4], MmRasterItem *ri)
{
  for (int i = 0; i <= b->n_parts; i++)
    {
      slots[i] = i;
      memcpy (rgba[i], i < b->n_parts ? metal_rgba : bone_rgba, sizeof rgba[i]);
      ri[i].mesh = i < b->n_parts ? b->parts[i] : b->phase ? b->bone_ordered : b->bone;
      memcpy (ri[i].rgba, rgba[i], sizeof ri[i].rgba);
    }
}

static gboolean
render_cb (GtkGLArea *area, GdkGLContext *ctx, Bench *b)
{
  double t0 = now_ms ();
  if (b->gl == NULL)
    {
      g_autoptr (GError) error = NULL;
      b->gl = mm_gl_renderer_new (gdk_gl_context_get_use_es (ctx), &error);
      if (b->gl == NULL)
        {
          fprintf (stderr, "bench-view3d: %s\n", error->message);
          exit (1);
        }
      mm_gl_renderer_set_legacy_shading (b->gl, true); /* before: as the view drew */
      for (int i = 0; i < b->n_parts; i++)
        mm_gl_renderer_set_mesh (b->gl, i, b->parts[i]);
      mm_gl_renderer_set_mesh (b->gl, b->n_parts, b->bone);
      printf ("GL: %s, %s\n", glGetString (GL_RENDERER), glGetString (GL_VERSION));
    }
  g_autofree int *slots = g_new (int, b->n_parts + 1);
  g_autofree float (*rgba)[4] = g_malloc0_n (b->n_parts + 1, sizeof *rgba);
  g_autofree MmRasterItem *ri = g_new0 (MmRasterItem, b->n_parts + 1);
  items (b, slots, rgba, ri);
  b->cam.width = gtk_widget_get_width (GTK_WIDGET (area));
  b->cam.height = gtk_widget_get_height (GTK_WIDGET (area));
  glViewport (0, 0, b->cam.width, b->cam.height);
  mm_gl_renderer_draw (b->gl, &b->cam, slots, (const float (*)[4]) rgba, b->n_parts + 1, NULL, 0, background);
  glFinish ();
  frame_done (b, now_ms () - t0);
  return TRUE;
}

static void
software_cb (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  Bench *b = data;
  double t0 = now_ms ();
  g_autofree int *slots = g_new (int, b->n_parts + 1);
  g_autofree float (*rgba)[4] = g_malloc0_n (b->n_parts + 1, sizeof *rgba);
  g_autofree MmRasterItem *ri = g_new0 (MmRasterItem, b->n_parts + 1);
  items (b, slots, rgba, ri);
  b->cam.width = w;
  b->cam.height = h;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  mm_raster_draw (&b->cam, ri, b->n_parts + 1, NULL, 0, background,
                  (uint32_t *) cairo_image_surface_get_data (s), cairo_image_surface_get_stride (s), 2);
  cairo_surface_mark_dirty (s);
  cairo_set_source_surface (cr, s, 0, 0);
  cairo_paint (cr);
  cairo_surface_destroy (s);
  frame_done (b, now_ms () - t0);
}

/* A brush stroke's worth of metal (5x5x5 voxels) added at the first voxel of part `part`,
 * then the parts meshed again: all of them (what the view did) and only those near the change
 * (mm_marching_mask_parts_update, what it does now, finding the changed box by comparing the
 * masks included). Best of 15 each, as the machine is shared. */
static void
bench_edit (const MmVolume *vol, const MmMask *metal, MmMesh **parts, int part)
{
  g_autoptr (MmMask) edited = mm_mask_copy (metal);
  const int *s = parts[part]->seed, *d = vol->dims;
  for (int k = MAX (s[2] - 2, 0); k <= MIN (s[2] + 2, d[2] - 1); k++)
    for (int j = MAX (s[1] - 2, 0); j <= MIN (s[1] + 2, d[1] - 1); j++)
      for (int i = MAX (s[0] - 2, 0); i <= MIN (s[0] + 2, d[0] - 1); i++)
        mm_mask_slice (edited, k)[(size_t) j * d[0] + i] = 1;
  double full = G_MAXDOUBLE, inc = G_MAXDOUBLE;
  int n = 0, reused = 0;
  for (int rep = 0; rep < 15; rep++)
    {
      double t0 = now_ms ();
      MmMesh **all = mm_marching_mask_parts (vol, edited, &n, 2, NULL);
      full = MIN (full, now_ms () - t0);
      for (int i = 0; i < n; i++)
        mm_mesh_free (all[i]);
      g_free (all);
      /* The previous build's parts, built afresh (not timed): the update takes some. */
      int n_old = 0;
      MmMesh **old = mm_marching_mask_parts (vol, metal, &n_old, 2, NULL);
      t0 = now_ms ();
      MmMesh **upd = mm_marching_mask_parts_update (vol, edited, metal, old, n_old, &n, &reused, 2, NULL);
      inc = MIN (inc, now_ms () - t0);
      for (int i = 0; i < n_old; i++)
        mm_mesh_free (old[i]);
      for (int i = 0; i < n; i++)
        mm_mesh_free (upd[i]);
      g_free (old);
      g_free (upd);
    }
  printf ("metal after a 5x5x5 edit in part %d (%zu triangles): all %d parts meshed again %.1f ms; "
          "only the changed one(s) %.1f ms (%d of %d reused), best of 15\n",
          part + 1, parts[part]->n_triangles, n, full, inc, reused, n);
}

int
main (int argc, char **argv)
{
  Bench b = { .seconds = 5 };
  const char *dir = NULL;
  size_t budget = 500000;
  for (int a = 1; a < argc; a++)
    if (strcmp (argv[a], "--software") == 0)
      b.software = true;
    else if (strcmp (argv[a], "--seconds") == 0 && a + 1 < argc)
      {
        double v = atof (argv[++a]); /* not inside CLAMP: it names its argument thrice */
        b.seconds = CLAMP (v, 1, 600);
      }
    else if (strcmp (argv[a], "--max-triangles") == 0 && a + 1 < argc)
      {
        double v = atof (argv[++a]);
        budget = (size_t) CLAMP (v, 1000, 1e8);
      }
    else
      dir = argv[a];
  if (b.software)
    b.phase = 2; /* the ordered bone, as the app draws it; one measurement */
  if (dir == NULL)
    dir = g_getenv ("MM_SEED_CT");
  if (dir == NULL)
    {
      fprintf (stderr, "usage: bench-view3d [--software] [--seconds N] [--max-triangles N] SERIES_DIR "
                       "(or set MM_SEED_CT)\n");
      return 2;
    }
  g_autoptr (GError) error = NULL;
  const char *paths[] = { dir };
  g_autoptr (MmVolume) vol = mm_dicom_load (paths, 1, NULL, NULL, &error);
  if (vol == NULL)
    {
      fprintf (stderr, "bench-view3d: %s\n", error->message);
      return 1;
    }
  double load = -1;
  FILE *f = fopen ("/proc/loadavg", "r");
  if (f)
    {
      if (fscanf (f, "%lf", &load) != 1)
        load = -1;
      fclose (f);
    }
  printf ("series %s: %d x %d x %d; load average %.2f on %d cores\n", dir, vol->dims[0], vol->dims[1],
          vol->dims[2], load, g_get_num_processors ());
  MmSegmentParams p;
  mm_segment_params_init (&p);
  g_autoptr (MmMask) metal = mm_segment_metal (vol, &p, NULL, 2);
  double t0 = now_ms ();
  b.parts = mm_marching_mask_parts (vol, metal, &b.n_parts, 2, &error);
  double t1 = now_ms ();
  b.bone = mm_marching_threshold (vol, 300, 2, &error);
  double t2 = now_ms ();
  size_t bone_full = b.bone->n_triangles;
  mm_mesh_decimate (b.bone, budget);
  double t3 = now_ms ();
  b.bone_ordered = mm_mesh_concat (&b.bone, 1);
  mm_mesh_order_for_drawing (b.bone_ordered);
  double t4 = now_ms ();
  size_t metal_tris = 0;
  for (int i = 0; i < b.n_parts; i++)
    metal_tris += b.parts[i]->n_triangles;
  printf ("metal: %d parts, %zu triangles in %.1f ms (target 50 ms)\n", b.n_parts, metal_tris, t1 - t0);
  /* An edit in the largest part, then in the smallest. */
  int big = 0, small = 0;
  for (int i = 1; i < b.n_parts; i++)
    {
      if (b.parts[i]->n_triangles > b.parts[big]->n_triangles)
        big = i;
      if (b.parts[i]->n_triangles < b.parts[small]->n_triangles)
        small = i;
    }
  if (b.n_parts > 0)
    bench_edit (vol, metal, b.parts, big);
  if (small != big)
    bench_edit (vol, metal, b.parts, small);
  printf ("bone at 300 HU: %zu triangles in %.0f ms (target 1500 ms); decimated to %zu in %.0f ms\n",
          bone_full, t2 - t1, b.bone->n_triangles, t3 - t2);
  printf ("bone ordered for drawing in %.0f ms; vertices shaded per triangle (FIFO cache of 32): "
          "%.2f as decimated, %.2f ordered\n",
          t4 - t3, mm_mesh_order_acmr (b.bone, 32), mm_mesh_order_acmr (b.bone_ordered, 32));

  double lo[3], hi[3];
  mm_mesh_bounds (b.bone, lo, hi);
  b.cam.width = 800;
  b.cam.height = 600;
  mm_camera_set_standard (&b.cam, 'A');
  mm_camera_fit (&b.cam, lo, hi);

  gtk_init ();
  b.loop = g_main_loop_new (NULL, FALSE);
  GtkWidget *win = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (win), 800, 600);
  gtk_window_set_resizable (GTK_WINDOW (win), FALSE);
  if (b.software)
    {
      b.area = gtk_drawing_area_new ();
      gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (b.area), software_cb, &b, NULL);
    }
  else
    {
      b.area = gtk_gl_area_new ();
      gtk_gl_area_set_has_depth_buffer (GTK_GL_AREA (b.area), TRUE);
      g_signal_connect (b.area, "render", G_CALLBACK (render_cb), &b);
    }
  gtk_widget_set_size_request (b.area, 800, 600);
  gtk_window_set_child (GTK_WINDOW (win), b.area);
  gtk_widget_add_tick_callback (b.area, tick_cb, &b, NULL);
  gtk_window_present (GTK_WINDOW (win));
  g_main_loop_run (b.loop);
  return 0;
}
