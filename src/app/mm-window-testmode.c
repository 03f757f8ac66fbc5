/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The window's test modes: --screenshot (the window as a PNG once the series is on screen,
 * with the views' geometry and the texts drawn over them) and --bench-render (frame times
 * while the axial slice changes every frame). */
#include "mm-window-private.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


static void
print_view_geometry (MmWindow *self, FILE *out, double x0, double y0)
{
  double wl_w, wl_l;
  mm_viewer_get_window (self->viewer, &wl_w, &wl_l);
  for (int p = 0; p < 3; p++)
    {
      MmSliceView *view = self->views[p];
      if (!gtk_widget_get_visible (GTK_WIDGET (view)))
        continue;
      graphene_point_t origin;
      if (!gtk_widget_compute_point (GTK_WIDGET (view), GTK_WIDGET (self),
                                     &GRAPHENE_POINT_INIT (0, 0), &origin))
        continue;
      MmViewport vp;
      mm_slice_view_get_viewport (view, &vp);
      fprintf (out,
               "view plane=%d x=%.0f y=%.0f width=%d height=%d origin_x=%.17g origin_y=%.17g "
               "scale=%.17g zoom=%.17g depth=%d window=%.17g level=%.17g invert=%d\n",
               p, origin.x - x0, origin.y - y0, gtk_widget_get_width (GTK_WIDGET (view)),
               gtk_widget_get_height (GTK_WIDGET (view)), vp.origin_x, vp.origin_y, vp.scale,
               mm_slice_view_get_zoom_ratio (view),
               mm_viewer_get_depth (self->viewer, p), wl_w, wl_l,
               mm_viewer_get_invert (self->viewer));
      mm_slice_view_print_texts (view, out, origin.x - x0, origin.y - y0);
    }
  fflush (out);
}

static bool
save_screenshot (MmWindow *self, GError **error)
{
  GtkWidget *widget = GTK_WIDGET (self);
  /* Called right after a paint, so the paintable replays the frame just drawn. It is drawn at
   * its intrinsic size: any other size would resample it. Its bounds may extend beyond the
   * window's allocation (the client-side frame), so positions are given relative to them. */
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  int w = gdk_paintable_get_intrinsic_width (paintable);
  int h = gdk_paintable_get_intrinsic_height (paintable);
  graphene_rect_t bounds;
  if (!gtk_widget_compute_bounds (widget, widget, &bounds))
    graphene_rect_init (&bounds, 0, 0, w, h);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL || w <= 0 || h <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: nothing to draw (window %d x %d)",
                   self->screenshot_path, w, h);
      return false;
    }
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (self));
  g_autoptr (GdkTexture) texture
      = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (!gdk_texture_save_to_png (texture, self->screenshot_path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot write the PNG",
                   self->screenshot_path);
      return false;
    }
  printf ("screenshot %s width=%d height=%d first_frame_ms=%.0f\n", self->screenshot_path, w, h,
          self->first_frame_ms);
  print_view_geometry (self, stdout, bounds.origin.x, bounds.origin.y);
  return true;
}

/* Milliseconds since this process started (from /proc: its start time in clock ticks since
 * boot), so start-up figures include everything before main() too. */
double
mm_window_process_age_ms (void)
{
  g_autofree char *stat = NULL;
  if (!g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL))
    return -1;
  const char *p = strrchr (stat, ')'); /* the command name may hold spaces */
  if (p == NULL)
    return -1;
  g_auto (GStrv) fields = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (fields) < 20)
    return -1;
  /* Field 22 of stat; fields[0] here is field 3. */
  double start_s = g_ascii_strtod (fields[19], NULL) / sysconf (_SC_CLK_TCK);
  struct timespec now;
  clock_gettime (CLOCK_BOOTTIME, &now);
  return (now.tv_sec + now.tv_nsec / 1e9 - start_s) * 1000.0;
}

static int
compare_int64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

static void
before_paint_cb (GdkFrameClock *clock, MmWindow *self)
{
  self->paint_start = g_get_monotonic_time ();
}

static void
after_paint_cb (GdkFrameClock *clock, MmWindow *self)
{
  if (self->frame_times && self->paint_start)
    {
      gint64 dt = g_get_monotonic_time () - self->paint_start;
      gint64 rt = mm_slice_view_get_last_render_us (self->views[MM_PLANE_AXIAL]);
      g_array_append_val (self->frame_times, dt);
      g_array_append_val (self->render_times, rt);
    }
}

static void
screenshot_after_paint_cb (GdkFrameClock *clock, MmWindow *self)
{
  self->first_frame_ms = mm_window_process_age_ms ();
  g_signal_handlers_disconnect_by_func (clock, screenshot_after_paint_cb, self);
  g_autoptr (GError) error = NULL;
  if (!save_screenshot (self, &error))
    {
      g_printerr ("metalmark: %s\n", error->message);
      g_application_quit (g_application_get_default ());
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

static gboolean
test_mode_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  MmWindow *self = MM_WINDOW (widget);
  static int ticks; /* frames since the series came up */
  ticks++;
  if (self->bench_frames > 0)
    {
      if (ticks == 1)
        {
          self->frame_times = g_array_new (FALSE, FALSE, sizeof (gint64));
          self->render_times = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_signal_connect (clock, "before-paint", G_CALLBACK (before_paint_cb), self);
          g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), self);
        }
      if ((int) self->frame_times->len < self->bench_frames)
        {
          /* One slice change a frame, through the whole volume and back. */
          const MmVolume *vol = mm_viewer_get_volume (self->viewer);
          int n = vol->dims[2], step = ticks % (2 * n);
          mm_slice_view_go_to (self->views[MM_PLANE_AXIAL], step < n ? step : 2 * n - 1 - step);
          return G_SOURCE_CONTINUE;
        }
      g_signal_handlers_disconnect_by_func (clock, before_paint_cb, self);
      g_signal_handlers_disconnect_by_func (clock, after_paint_cb, self);
      gint64 *t = (gint64 *) self->frame_times->data, *r = (gint64 *) self->render_times->data;
      guint n = self->frame_times->len;
      qsort (t, n, sizeof *t, compare_int64);
      qsort (r, n, sizeof *r, compare_int64);
      int w = gtk_widget_get_width (GTK_WIDGET (self->views[MM_PLANE_AXIAL]));
      int h = gtk_widget_get_height (GTK_WIDGET (self->views[MM_PLANE_AXIAL]));
      printf ("bench-render frames=%u view=%dx%d overlay=%s renderer=%s\n"
              "  slice render (core + texture): p50_ms=%.3f p95_ms=%.3f\n"
              "  whole frame (snapshot + GSK):  p50_ms=%.3f p95_ms=%.3f max_ms=%.3f\n",
              n, w, h, mm_viewer_get_mask (self->viewer) ? "on" : "off",
              G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (self))),
              r[n / 2] / 1000.0, r[(size_t) (n * 0.95)] / 1000.0, t[n / 2] / 1000.0,
              t[(size_t) (n * 0.95)] / 1000.0, t[n - 1] / 1000.0);
      fflush (stdout);
      gtk_window_destroy (GTK_WINDOW (self));
      return G_SOURCE_REMOVE;
    }
  /* Screenshot: after the paint of this frame, when layout is done (a tick runs before
   * layout), the series is on screen; the progress bar must have finished sliding away. */
  if (gtk_revealer_get_child_revealed (self->progress_revealer))
    return G_SOURCE_CONTINUE;
  g_signal_connect (clock, "after-paint", G_CALLBACK (screenshot_after_paint_cb), self);
  gtk_widget_queue_draw (widget);
  return G_SOURCE_REMOVE;
}

void
mm_window_set_screenshot (MmWindow *self, const char *png_path)
{
  g_free (self->screenshot_path);
  self->screenshot_path = g_strdup (png_path);
}

void
mm_window_set_startup (MmWindow *self, gboolean segment, int preset)
{
  self->startup_segment = segment;
  self->startup_preset = preset;
}

void
mm_window_set_startup_view (MmWindow *self, double zoom_percent, gboolean invert)
{
  self->startup_zoom = zoom_percent;
  self->startup_invert = invert;
}

void
mm_window_set_bench_frames (MmWindow *self, int frames)
{
  self->bench_frames = frames;
}

void
mm_window_test_mode_start (MmWindow *self)
{
  self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), test_mode_tick_cb, NULL, NULL);
}
