/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 3D view's frame rate (issue 14): the seed CT's metal and its bone at 300 HU, turned a
 * little every frame in an 800x600 GtkGLArea (the app's renderer, mm-gl-renderer.c), or with
 * --software in a GtkDrawingArea through the CPU rasteriser (mm-raster.c). Run under Xvfb for
 * Mesa's llvmpipe:
 *   xvfb-run -a -s "-screen 0 1024x768x24" build/bench/bench-view3d [--software] [--seconds N]
 *       [--max-triangles N] [--lod-triangles N] [--sweep | --flush-sweep | --rest N [--flush N]]
 *       [--cache DIR] SERIES
 * Phases, one after the other in one run (the same load): the view at rest (bone at the full
 * budget) drawn in one call and in flushed pieces (MM_SURFACE_PIECE_TRIANGLES, as the view
 * draws it), and turning (the coarse bone, MM_SURFACE_LOD_*) both ways. With --sweep a grid
 * of bone sizes x resolutions instead (where llvmpipe's time goes), --flush-sweep the 500 k
 * bone in pieces of several sizes, twice, --rest N the 500 k bone N times, one call and
 * pieces of --flush in turn. Each phase prints frames/s in wall time, the process's CPU time
 * per frame (llvmpipe's threads included), the drawing thread's (where llvmpipe shades
 * vertices, sets up and bins triangles), the X server's (Xvfb receives every frame: GLX on
 * Xvfb puts the image), and how much of the rasteriser threads' work ran during the draw
 * calls rather than in glFinish. The first frame checks that the pieces draw the same
 * pixels as one call (12 directions; MM_BENCH_SHOT=FILE.ppm keeps the first to look at). */
#include "bench-mesh-common.h"
#include "mm-camera.h"
#include "mm-gl-renderer.h"
#include "mm-marching.h"
#include "mm-mesh-decimate.h"
#include "mm-mesh-order.h"
#include "mm-raster.h"
#include "mm-surface-lod.h"

#include <epoxy/gl.h>
#include <gtk/gtk.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  char name[96];
  int bone;    /* index into Bench.bones, -1: the metal alone */
  float scale; /* resolution while drawing (1: full) */
  int flush;   /* mm_gl_renderer_set_flush_triangles */
} Phase;

typedef struct
{
  double wall_fps, cpu_ms, main_ms, x_ms, load;
  double draw_ms, raster_during_ms, raster_after_ms; /* per frame, see render_cb */
} Result;

typedef struct
{
  MmMesh **parts;
  int n_parts;
  MmMesh *bones[5];
  int n_bones;
  Phase phases[16];
  Result results[16];
  int n_phases, phase;
  MmCamera cam;
  MmGlRenderer *gl;
  bool software;
  double seconds;
  gint64 start, warm;
  int frames;
  double cpu_start, main_start, x_start;
  double draw_ms, raster_during_ms, raster_after_ms; /* summed since the warm-up */
  GtkWidget *area;
  GMainLoop *loop;
} Bench;

static const float background[3] = { 0.1f, 0.11f, 0.13f };
static const float bone_rgba[4] = { 0.93f, 0.90f, 0.82f, 0.35f };
static const float metal_rgba[4] = { 0.95f, 0.75f, 0.25f, 1 };

/* The X server's CPU time (ms) when it is Xvfb serving our DISPLAY, else -1: found by its
 * command line (xvfb-run starts it as "Xvfb :N ..."). */
static int xvfb_pid = -1;

static void
find_xvfb (void)
{
  const char *display = g_getenv ("DISPLAY");
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  if (display == NULL || proc == NULL)
    return;
  for (const char *e; (e = g_dir_read_name (proc)) != NULL;)
    {
      if (!g_ascii_isdigit (e[0]))
        continue;
      g_autofree char *path = g_build_filename ("/proc", e, "cmdline", NULL);
      g_autofree char *cmd = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &cmd, &len, NULL) || len == 0)
        continue;
      g_autofree char *base = g_path_get_basename (cmd);
      if (strcmp (base, "Xvfb") != 0)
        continue;
      for (gsize at = strlen (cmd) + 1; at < len; at += strlen (cmd + at) + 1)
        if (strcmp (cmd + at, display) == 0)
          {
            xvfb_pid = atoi (e);
            return;
          }
    }
}

static double
xvfb_cpu_ms (void)
{
  if (xvfb_pid < 0)
    return -1;
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", xvfb_pid);
  g_autofree char *stat = NULL;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return -1;
  const char *p = strrchr (stat, ')'); /* the command may hold spaces */
  unsigned long ut = 0, st = 0;
  /* After ")": state, then fields 4..13, utime and stime are fields 14 and 15. */
  if (p == NULL
      || sscanf (p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
    return -1;
  return (ut + st) * 1000.0 / sysconf (_SC_CLK_TCK);
}

/* CPU time (ms) of the calling thread: the drawing thread, where llvmpipe shades vertices,
 * sets up and bins triangles (its rasteriser threads do the rest). */
static double
thread_cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time (ms) of llvmpipe's rasteriser threads ("llvmpipe-N") so far, from their schedstat
 * (ns): read around the draw calls it tells whether they rasterised while this thread was
 * still binning (a flushed piece) or only once the frame was finished. */
static double
raster_cpu_ms (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  double sum = 0;
  for (const char *e; dir != NULL && (e = g_dir_read_name (dir)) != NULL;)
    {
      char path[64], comm[32] = "";
      g_snprintf (path, sizeof path, "/proc/self/task/%s/comm", e);
      FILE *f = fopen (path, "r");
      if (f == NULL)
        continue;
      bool raster = fgets (comm, sizeof comm, f) != NULL && g_str_has_prefix (comm, "llvmpipe");
      fclose (f);
      g_snprintf (path, sizeof path, "/proc/self/task/%s/schedstat", e);
      unsigned long long ns = 0;
      if (raster && (f = fopen (path, "r")) != NULL)
        {
          if (fscanf (f, "%llu", &ns) == 1)
            sum += ns / 1e6;
          fclose (f);
        }
    }
  return sum;
}

static void
print_result (const Bench *b, int i)
{
  const Result *r = &b->results[i];
  printf ("%-58s %6.1f fps  %6.1f ms CPU (%5.1f drawing thread)", b->phases[i].name, r->wall_fps, r->cpu_ms,
          r->main_ms);
  if (r->x_ms >= 0)
    printf (" + %5.1f ms Xvfb", r->x_ms);
  printf ("  (%5.1f fps on 2 idle cores)  load %.1f\n",
          2000.0 / MAX (r->cpu_ms + MAX (r->x_ms, 0), 1e-3), r->load);
  /* On two idle cores: the drawing thread's time and the X server's, plus the rasteriser
   * threads' work not done during the draw calls spread over both cores (what they did
   * meanwhile ran on the other core). On a loaded machine they get less done meanwhile, so
   * this leans high. */
  if (r->draw_ms > 0)
    printf ("    draw calls %.1f ms (drawing thread), rasteriser threads %.1f ms meanwhile, %.1f ms in "
            "glFinish; on 2 idle cores ~%.1f ms a frame (%.1f fps)\n",
            r->draw_ms, r->raster_during_ms, r->raster_after_ms,
            r->main_ms + MAX (r->x_ms, 0) + (r->cpu_ms - r->main_ms - r->raster_during_ms) / 2,
            1000.0 / (r->main_ms + MAX (r->x_ms, 0) + (r->cpu_ms - r->main_ms - r->raster_during_ms) / 2));
  fflush (stdout);
}

static void
frame_done (Bench *b)
{
  gint64 t = g_get_monotonic_time ();
  if (b->start == 0)
    b->start = t;
  if (b->warm == 0 && t - b->start > 1000000) /* one second of warm-up */
    {
      b->warm = t;
      b->cpu_start = bench_cpu_ms ();
      b->main_start = thread_cpu_ms ();
      b->draw_ms = b->raster_during_ms = b->raster_after_ms = 0;
      b->x_start = xvfb_cpu_ms ();
      b->frames = 0;
    }
  b->frames++;
  if (b->warm == 0 || t - b->warm <= b->seconds * 1e6)
    return;
  Result *r = &b->results[b->phase];
  double s = (t - b->warm) / 1e6, load[3];
  /* CPU time of the whole process per frame: on a loaded machine the wall time is mostly
   * waiting; 2000 / (ours + the X server's) is the rate two idle cores would reach. */
  r->wall_fps = b->frames / s;
  r->cpu_ms = (bench_cpu_ms () - b->cpu_start) / b->frames;
  r->main_ms = (thread_cpu_ms () - b->main_start) / b->frames;
  r->draw_ms = b->draw_ms / b->frames;
  r->raster_during_ms = b->raster_during_ms / b->frames;
  r->raster_after_ms = b->raster_after_ms / b->frames;
  r->x_ms = b->x_start >= 0 ? (xvfb_cpu_ms () - b->x_start) / b->frames : -1;
  bench_load_average (load);
  r->load = load[0];
  print_result (b, b->phase);
  if (++b->phase == b->n_phases)
    {
      g_main_loop_quit (b->loop);
      return;
    }
  b->start = b->warm = 0;
  b->frames = 0;
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

/* The metal parts then this phase's bone (if any): n items. */
static int
items (Bench *b, float (*rgba)[4], const MmMesh **meshes, int *slots)
{
  const Phase *p = &b->phases[b->phase];
  int n = 0, base = 0;
  for (int i = 0; i < b->n_parts; i++, n++)
    {
      memcpy (rgba[n], metal_rgba, sizeof rgba[n]);
      meshes[n] = b->parts[i];
      slots[n] = base + i;
    }
  if (p->bone >= 0)
    {
      memcpy (rgba[n], bone_rgba, sizeof rgba[n]);
      meshes[n] = b->bones[p->bone];
      slots[n++] = base + b->n_parts + p->bone;
    }
  return n;
}

static void
upload (Bench *b)
{
  for (int i = 0; i < b->n_parts; i++)
    mm_gl_renderer_set_mesh (b->gl, i, b->parts[i]);
  for (int i = 0; i < b->n_bones; i++)
    mm_gl_renderer_set_mesh (b->gl, b->n_parts + i, b->bones[i]);
}

/* The picture drawn in flushed pieces against the one drawn in one call, and with the
 * bone's corners turned (mm_mesh_order_corners) against the corners as before, from several
 * directions: how many pixels differ (and by how much at most). */
static void
check_pictures (Bench *b, int w, int h)
{
  int n = b->n_parts + 1, slots[n];
  float rgba[n][4];
  for (int i = 0; i < n; i++)
    {
      memcpy (rgba[i], i < b->n_parts ? metal_rgba : bone_rgba, sizeof rgba[i]);
      slots[i] = i; /* the metal's parts, then the bone at the full budget */
    }
  g_autofree uint8_t *pix[3] = { g_malloc ((size_t) w * h * 4), g_malloc ((size_t) w * h * 4),
                                 g_malloc ((size_t) w * h * 4) };
  MmCamera cam = b->cam;
  long differ[2] = { 0, 0 }, total = 0, over3 = 0;
  int worst[2] = { 0, 0 };
  for (int view = 0; view < 12; view++)
    {
      mm_camera_rotate (&cam, 37, 23); /* directions all around */
      for (int v = 0; v < 3; v++)
        {
          /* 0: one call, 1: pieces, 2: the corners as before, in pieces */
          slots[n - 1] = b->n_parts + (v == 2 ? 3 : 0);
          mm_gl_renderer_set_flush_triangles (b->gl, v ? MM_SURFACE_PIECE_TRIANGLES : 0);
          mm_gl_renderer_draw (b->gl, &cam, slots, (const float (*)[4]) rgba, n, NULL, 0, background);
          glReadPixels (0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, pix[v]);
        }
      const char *shot = g_getenv ("MM_BENCH_SHOT"); /* the first direction in pieces, as PPM */
      FILE *f = view == 0 && shot ? fopen (shot, "wb") : NULL;
      if (f != NULL)
        {
          fprintf (f, "P6\n%d %d\n255\n", w, h);
          for (int y = h - 1; y >= 0; y--) /* GL rows go up */
            for (int x = 0; x < w; x++)
              fwrite (pix[1] + 4 * ((size_t) y * w + x), 1, 3, f);
          fclose (f);
        }
      for (long i = 0; i < (long) w * h; i++)
        for (int k = 0; k < 2; k++)
          {
            const uint8_t *a = pix[k == 0 ? 0 : 2], *c = pix[1];
            int d = 0;
            for (int ch = 0; ch < 3; ch++)
              d = MAX (d, abs (a[4 * i + ch] - c[4 * i + ch]));
            differ[k] += d > 0;
            over3 += k == 1 && d > 3;
            worst[k] = MAX (worst[k], d);
          }
      total += (long) w * h;
    }
  slots[n - 1] = b->n_parts;
  mm_gl_renderer_set_flush_triangles (b->gl, 0);
  printf ("picture check, 12 directions: %ld of %ld pixels differ (at most by %d levels) between the "
          "bone drawn in one call and in flushed pieces; %ld (at most by %d levels, %ld by more than 3) "
          "between its corners turned and as before\n",
          differ[0], total, worst[0], differ[1], worst[1], over3);
}

static gboolean
render_cb (GtkGLArea *area, GdkGLContext *ctx, Bench *b)
{
  if (b->gl == NULL)
    {
      g_autoptr (GError) error = NULL;
      b->gl = mm_gl_renderer_new (gdk_gl_context_get_use_es (ctx), &error);
      if (b->gl == NULL)
        {
          fprintf (stderr, "bench-view3d: %s\n", error->message);
          exit (1);
        }
      upload (b);
      printf ("GL: %s, %s; LP_NUM_THREADS=%s\n", glGetString (GL_RENDERER), glGetString (GL_VERSION),
              g_getenv ("LP_NUM_THREADS") ? g_getenv ("LP_NUM_THREADS") : "(unset)");
    }
  int n_max = b->n_parts + 1;
  g_autofree int *slots = g_new (int, n_max);
  g_autofree float (*rgba)[4] = g_malloc0_n (n_max, sizeof *rgba);
  g_autofree const MmMesh **meshes = g_new (const MmMesh *, n_max);
  int n = items (b, rgba, meshes, slots);
  b->cam.width = gtk_widget_get_width (GTK_WIDGET (area));
  b->cam.height = gtk_widget_get_height (GTK_WIDGET (area));
  glViewport (0, 0, b->cam.width, b->cam.height);
  mm_gl_renderer_set_resolution (b->gl, b->phases[b->phase].scale);
  mm_gl_renderer_set_flush_triangles (b->gl, b->phases[b->phase].flush);
  static bool checked;
  if (!checked)
    {
      checked = true;
      check_pictures (b, b->cam.width, b->cam.height);
    }
  double r0 = raster_cpu_ms (), m0 = thread_cpu_ms ();
  mm_gl_renderer_draw (b->gl, &b->cam, slots, (const float (*)[4]) rgba, n, NULL, 0, background);
  double r1 = raster_cpu_ms (), m1 = thread_cpu_ms ();
  glFinish ();
  double r2 = raster_cpu_ms ();
  b->draw_ms += m1 - m0;
  b->raster_during_ms += r1 - r0;
  b->raster_after_ms += r2 - r1;
  frame_done (b);
  return TRUE;
}

static void
software_cb (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  Bench *b = data;
  int n_max = b->n_parts + 1;
  g_autofree int *slots = g_new (int, n_max);
  g_autofree float (*rgba)[4] = g_malloc0_n (n_max, sizeof *rgba);
  g_autofree const MmMesh **meshes = g_new (const MmMesh *, n_max);
  g_autofree MmRasterItem *ri = g_new0 (MmRasterItem, n_max);
  int n = items (b, rgba, meshes, slots);
  for (int i = 0; i < n; i++)
    {
      ri[i].mesh = meshes[i];
      memcpy (ri[i].rgba, rgba[i], sizeof ri[i].rgba);
    }
  b->cam.width = w;
  b->cam.height = h;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  mm_raster_draw (&b->cam, ri, n, NULL, 0, background, (uint32_t *) cairo_image_surface_get_data (s),
                  cairo_image_surface_get_stride (s), 2);
  cairo_surface_mark_dirty (s);
  cairo_set_source_surface (cr, s, 0, 0);
  cairo_paint (cr);
  cairo_surface_destroy (s);
  frame_done (b);
}

/* The bone decimated to budget and ordered for drawing, from dir's cache when it has it. */
static MmMesh *
bone_at (const MmMesh *full, size_t budget, const char *cache, const char *series_key)
{
  g_autofree char *key = g_strdup_printf ("bone-%s-%zu", series_key, budget);
  MmMesh *m = cache ? bench_mesh_cache_load (cache, key) : NULL;
  if (m != NULL)
    {
      printf ("bone decimated to %zu: from the cache (%s)\n", m->n_triangles, cache);
      return m;
    }
  MmMesh *copy = (MmMesh *) full;
  m = mm_mesh_concat (&copy, 1);
  double t0 = bench_now_ms ();
  mm_mesh_decimate (m, budget);
  double t1 = bench_now_ms ();
  mm_mesh_order_for_drawing (m);
  printf ("bone decimated to %zu in %.0f ms, ordered for drawing in %.0f ms\n", m->n_triangles,
          t1 - t0, bench_now_ms () - t1);
  if (cache)
    bench_mesh_cache_save (cache, key, m);
  return m;
}

static void
add_phase (Bench *b, int bone, float scale, int flush, const char *what)
{
  g_assert (b->n_phases < (int) G_N_ELEMENTS (b->phases));
  Phase *p = &b->phases[b->n_phases++];
  p->bone = bone;
  p->scale = scale;
  p->flush = flush;
  g_autofree char *pieces = flush > 0 ? g_strdup_printf (", pieces of %d k", flush / 1000) : g_strdup ("");
  if (bone < 0)
    g_snprintf (p->name, sizeof p->name, "%s: metal alone, %.0f%% res%s", what, scale * 100, pieces);
  else
    g_snprintf (p->name, sizeof p->name, "%s: bone %zu k, %.0f%% res%s", what,
                b->bones[bone]->n_triangles / 1000, scale * 100, pieces);
}

int
main (int argc, char **argv)
{
  Bench b = { .seconds = 5 };
  mm_gl_renderer_prepare_software (); /* as the app's main does */
  const char *dir = NULL, *cache = NULL;
  size_t budget = 500000, lod_before = 150000;
  bool sweep = false, flush_sweep = false;
  int rest_only = 0, flush = MM_SURFACE_PIECE_TRIANGLES;
  for (int a = 1; a < argc; a++)
    if (strcmp (argv[a], "--software") == 0)
      b.software = true;
    else if (strcmp (argv[a], "--sweep") == 0)
      sweep = true;
    else if (strcmp (argv[a], "--flush-sweep") == 0)
      flush_sweep = true;
    else if (strcmp (argv[a], "--rest") == 0 && a + 1 < argc)
      rest_only = atoi (argv[++a]);
    else if (strcmp (argv[a], "--flush") == 0 && a + 1 < argc)
      flush = MAX (atoi (argv[++a]), 0);
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
    else if (strcmp (argv[a], "--lod-triangles") == 0 && a + 1 < argc)
      {
        double v = atof (argv[++a]);
        lod_before = (size_t) CLAMP (v, 1000, 1e8);
      }
    else if (strcmp (argv[a], "--cache") == 0 && a + 1 < argc)
      cache = argv[++a];
    else
      dir = argv[a];
  if (dir == NULL)
    dir = g_getenv ("MM_SEED_CT");
  if (dir == NULL)
    {
      fprintf (stderr, "usage: bench-view3d [--software] [--sweep] [--seconds N] [--max-triangles N] "
                       "[--lod-triangles N] [--cache DIR] SERIES_DIR (or set MM_SEED_CT)\n");
      return 2;
    }
  g_autoptr (MmMask) metal = NULL;
  g_autoptr (MmVolume) vol = bench_load_series ("bench-view3d", dir, 2, &metal);
  if (vol == NULL)
    return 1;
  double load[3];
  bench_load_average (load);
  printf ("series %s: %d x %d x %d; load average %.2f %.2f %.2f on %d cores\n", dir, vol->dims[0],
          vol->dims[1], vol->dims[2], load[0], load[1], load[2], g_get_num_processors ());
  g_autoptr (GError) error = NULL;
  double t0 = bench_now_ms ();
  b.parts = mm_marching_mask_parts (vol, metal, &b.n_parts, 2, &error);
  double t1 = bench_now_ms ();
  size_t metal_tris = 0;
  for (int i = 0; i < b.n_parts; i++)
    metal_tris += b.parts[i]->n_triangles;
  printf ("metal: %d parts, %zu triangles in %.1f ms (target 50 ms)\n", b.n_parts, metal_tris, t1 - t0);

  g_autofree char *series_key = g_strdup_printf ("%dx%dx%d-%08x", vol->dims[0], vol->dims[1], vol->dims[2],
                                                 g_str_hash (dir));
  g_autofree char *key = g_strdup_printf ("bone-%s-%zu", series_key, budget);
  MmMesh *full = NULL;
  b.bones[0] = cache ? bench_mesh_cache_load (cache, key) : NULL;
  if (b.bones[0] != NULL)
    printf ("bone decimated to %zu: from the cache (%s)\n", b.bones[0]->n_triangles, cache);
  else
    {
      t0 = bench_now_ms ();
      full = mm_marching_threshold (vol, 300, 2, &error);
      printf ("bone at 300 HU: %zu triangles in %.0f ms (target 1500 ms)\n", full->n_triangles,
              bench_now_ms () - t0);
      b.bones[0] = bone_at (full, budget, cache, series_key);
    }
  /* The coarser bones come from the decimated one, as the view builds its own. */
  b.bones[1] = bone_at (b.bones[0], lod_before, cache, series_key);
  b.bones[2] = bone_at (b.bones[0], MM_SURFACE_LOD_TRIANGLES, cache, series_key);
  /* The cache holds the bones ordered for drawing (as an older bench wrote them, so both
   * share it); their corners are turned here as the view turns them, and the 500 k and 50 k
   * bones kept as they were for the phases "corners as before". */
  b.bones[3] = mm_mesh_concat (&b.bones[0], 1);
  b.bones[4] = mm_mesh_concat (&b.bones[2], 1);
  for (int i = 0; i < 3; i++)
    mm_mesh_order_corners (b.bones[i]);
  b.n_bones = 5;
  mm_mesh_free (full);

  if (sweep)
    {
      const float scales[] = { 1.0f, 0.5f };
      for (int s = 0; s < 2; s++)
        {
          for (int i = 0; i < 3; i++)
            add_phase (&b, i, scales[s], 0, "sweep");
          add_phase (&b, -1, scales[s], 0, "sweep");
        }
    }
  else if (rest_only > 0)
    for (int i = 0; i < MIN (rest_only, 16); i++)
      add_phase (&b, 0, 1, i % 2 ? flush : 0, "at rest");
  else if (flush_sweep)
    {
      /* The 500 k bone drawn in one call and in pieces flushed one after the other, twice. */
      const int pieces[] = { 0, 100000, 50000, 25000, 12500 };
      for (int round = 0; round < 2; round++)
        for (int i = 0; i < (int) G_N_ELEMENTS (pieces); i++)
          add_phase (&b, 0, 1, pieces[i], round ? "turning, round 2" : "turning, round 1");
    }
  else
    {
      /* Before and now side by side: the corners as before in pieces of 25 000 (the view
       * until now), then the corners turned in pieces as the view draws them now. */
      float lod = b.software ? 1 : MM_SURFACE_LOD_SCALE;
      for (int round = 0; round < 2; round++)
        {
          add_phase (&b, 3, 1, 25000, round ? "at rest, before (2)" : "at rest, before");
          add_phase (&b, 0, 1, MM_SURFACE_PIECE_TRIANGLES, round ? "at rest, now (2)" : "at rest, now");
        }
      add_phase (&b, 4, lod, 25000, "turning, before");
      add_phase (&b, 2, lod, MM_SURFACE_PIECE_TRIANGLES, "turning, now");
    }

  double lo[3], hi[3];
  mm_mesh_bounds (b.bones[0], lo, hi);
  b.cam.width = 800;
  b.cam.height = 600;
  mm_camera_set_standard (&b.cam, 'A');
  mm_camera_fit (&b.cam, lo, hi);

  gtk_init ();
  find_xvfb ();
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
  printf ("%s, 800x600, %.0f s a phase after 1 s of warm-up; CPU per frame is this process's "
          "(llvmpipe's threads included)%s:\n",
          b.software ? "software rasteriser (2 threads)" : "GL (GtkGLArea)", b.seconds,
          xvfb_pid >= 0 ? " and the X server's" : "");
  gtk_window_present (GTK_WINDOW (win));
  g_main_loop_run (b.loop);
  printf ("\nsummary (wall frames/s, CPU ms per frame, load average at the end of the phase):\n");
  for (int i = 0; i < b.n_phases; i++)
    print_result (&b, i);
  return 0;
}
