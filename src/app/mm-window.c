/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmWindow: loading (with the series picker), the views and their actions, the metadata
 * panel, the mask overlay, and the screenshot / benchmark modes. */
#include "mm-window-private.h"
#include "mm-viewer-keys.h"
#include "mm-scroll-guard.h"

#include "mm-info.h"
#include "mm-label-stack.h"
#include "mm-loader.h"
#include "mm-segment.h"
#include "mm-slice-view.h"
#include "mm-text.h"
#include "mm-viewer.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define APP_ID "io.github.metalmark.Metalmark"
#define MAX_RECENT 10

G_DEFINE_FINAL_TYPE (MmWindow, mm_window, ADW_TYPE_APPLICATION_WINDOW)

static void load_series (MmWindow *self, const char *path, const char *series_uid);

void
mm_window_toast (MmWindow *self, const char *message)
{
  /* Toast titles are markup in libadwaita 1.2: a path may hold & or <. */
  g_autofree char *escaped = g_markup_escape_text (message, -1);
  AdwToast *t = adw_toast_new (escaped);
  adw_toast_set_timeout (t, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, t);
}

/* ---- layout ---- */

static void
apply_layout (MmWindow *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->views[MM_PLANE_CORONAL]), self->three_views);
  gtk_widget_set_visible (GTK_WIDGET (self->views[MM_PLANE_SAGITTAL]), self->three_views);
  for (int p = 0; p < 3; p++)
    mm_slice_view_set_crosshair (self->views[p], self->three_views);
  gtk_toggle_button_set_active (self->layout_button, self->three_views);
}

void
mm_window_set_three_views (MmWindow *self, gboolean three)
{
  self->three_views = three;
  apply_layout (self);
  if (self->settings)
    g_settings_set_string (self->settings, "layout", three ? "three" : "one");
}

static void
three_views_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  mm_window_set_three_views (self, !self->three_views);
}

/* ---- metadata panel ---- */

static void
fill_metadata (MmWindow *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->metadata_grid))))
    gtk_grid_remove (self->metadata_grid, child);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  const MmStats *st = mm_viewer_get_stats (self->viewer);
  const MmDicomReport *rep = mm_viewer_get_report (self->viewer);
  if (vol == NULL)
    return;
  g_autoptr (GPtrArray) rows = mm_info_rows (vol, st);
  guint n = 0;
  for (; n < rows->len; n++)
    {
      const MmInfoRow *row = rows->pdata[n];
      GtkWidget *label = gtk_label_new (row->label);
      GtkWidget *value = gtk_label_new (row->value);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_yalign (GTK_LABEL (label), 0);
      gtk_label_set_xalign (GTK_LABEL (value), 0);
      gtk_label_set_wrap (GTK_LABEL (value), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (value), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_selectable (GTK_LABEL (value), TRUE);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_add_css_class (value, "numeric");
      gtk_widget_set_hexpand (value, TRUE);
      gtk_grid_attach (self->metadata_grid, label, 0, n, 1, 1);
      gtk_grid_attach (self->metadata_grid, value, 1, n, 1, 1);
    }
  if (rep)
    {
      g_autofree char *files = g_strdup_printf (_("%u read, %u skipped"), rep->files_read,
                                                rep->files_skipped);
      GtkWidget *label = gtk_label_new (_("Files"));
      GtkWidget *value = gtk_label_new (files);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_xalign (GTK_LABEL (value), 0);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_grid_attach (self->metadata_grid, label, 0, n, 1, 1);
      gtk_grid_attach (self->metadata_grid, value, 1, n, 1, 1);

      GString *w = g_string_new (NULL);
      for (guint i = 0; i < rep->warnings->len; i++)
        {
          g_autofree char *line = mm_text_printable (rep->warnings->pdata[i]);
          g_string_append_printf (w, "%s%s", i ? "\n" : "", line);
        }
      gtk_label_set_text (self->warnings_label, w->str);
      g_autofree char *title = g_strdup_printf (g_dngettext (NULL, "%u warning", "%u warnings",
                                                             rep->warnings->len),
                                                rep->warnings->len);
      gtk_expander_set_label (self->warnings_expander, title);
      gtk_widget_set_visible (GTK_WIDGET (self->warnings_expander), rep->warnings->len > 0);
      g_string_free (w, TRUE);
    }
}

static void
copy_info_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    return;
  g_autofree char *text = mm_info_format_text (vol, mm_viewer_get_stats (self->viewer));
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text);
  mm_window_toast (self, _("Copied the series figures"));
}

/* ---- recent folders ---- */

static void
update_recent_menu (MmWindow *self)
{
  g_autoptr (GMenu) menu = g_menu_new ();
  if (self->settings)
    {
      g_auto (GStrv) recent = g_settings_get_strv (self->settings, "recent-folders");
      for (int i = 0; recent[i]; i++)
        {
          g_autoptr (GMenuItem) item = g_menu_item_new (recent[i], NULL);
          g_menu_item_set_action_and_target (item, "win.open-recent", "s", recent[i]);
          g_menu_append_item (menu, item);
        }
    }
  gtk_menu_button_set_menu_model (self->recent_button, G_MENU_MODEL (menu));
}

static void
remember_recent (MmWindow *self, const char *path)
{
  if (self->settings == NULL)
    return;
  g_auto (GStrv) old = g_settings_get_strv (self->settings, "recent-folders");
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_strv_builder_add (b, path);
  int n = 1;
  for (int i = 0; old[i] && n < MAX_RECENT; i++)
    if (g_strcmp0 (old[i], path) != 0)
      {
        g_strv_builder_add (b, old[i]);
        n++;
      }
  g_auto (GStrv) recent = g_strv_builder_end (b);
  g_settings_set_strv (self->settings, "recent-folders", (const char *const *) recent);
  update_recent_menu (self);
}

static void
open_recent_action (GtkWidget *widget, const char *name, GVariant *param)
{
  mm_window_open (MM_WINDOW (widget), g_variant_get_string (param, NULL));
}

/* ---- screenshot and benchmark ---- */

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
               "scale=%.17g depth=%d window=%.17g level=%.17g invert=%d\n",
               p, origin.x - x0, origin.y - y0, gtk_widget_get_width (GTK_WIDGET (view)),
               gtk_widget_get_height (GTK_WIDGET (view)), vp.origin_x, vp.origin_y, vp.scale,
               mm_viewer_get_depth (self->viewer, p), wl_w, wl_l,
               mm_viewer_get_invert (self->viewer));
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
static double
process_age_ms (void)
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
  self->first_frame_ms = process_age_ms ();
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
mm_window_set_bench_frames (MmWindow *self, int frames)
{
  self->bench_frames = frames;
}

/* ---- loading ---- */

static void
progress_cb (double fraction, gpointer user_data)
{
  MmWindow *self = user_data;
  gtk_progress_bar_set_fraction (self->progress_bar, fraction);
}

void
mm_window_update_slice_marks (MmWindow *self)
{
  gtk_scale_clear_marks (self->slice_scale);
  const MmMask *mask = mm_viewer_get_mask (self->viewer);
  if (mask == NULL)
    return;
  for (int k = 0; k < mask->dims[2]; k++)
    if (!mm_mask_slice_is_empty (mask, k))
      gtk_scale_add_mark (self->slice_scale, k + 1, GTK_POS_BOTTOM, NULL);
}

static void
slice_scale_changed_cb (GtkAdjustment *adj, MmWindow *self)
{
  int k = (int) lrint (gtk_adjustment_get_value (adj)) - 1;
  if (k != mm_viewer_get_depth (self->viewer, MM_PLANE_AXIAL))
    mm_viewer_set_depth (self->viewer, MM_PLANE_AXIAL, k);
}

static void
viewer_cursor_cb (MmViewer *viewer, guint what, MmWindow *self)
{
  const MmVolume *vol = mm_viewer_get_volume (viewer);
  if (vol == NULL)
    return;
  int slice = mm_viewer_get_depth (viewer, MM_PLANE_AXIAL) + 1;
  if (what & MM_VIEWER_CHANGED_VOLUME)
    gtk_adjustment_configure (self->slice_adjustment, slice, 1, vol->dims[2], 1, 10, 0);
  else if (what & MM_VIEWER_CHANGED_CURSOR)
    gtk_adjustment_set_value (self->slice_adjustment, slice);
}

void
mm_window_set_progress (MmWindow *self, const char *text, double fraction)
{
  gtk_revealer_set_reveal_child (self->progress_revealer, text != NULL);
  if (text)
    {
      gtk_progress_bar_set_text (self->progress_bar, text);
      gtk_progress_bar_set_fraction (self->progress_bar, fraction);
    }
}

static void
set_loading (MmWindow *self, const char *path)
{
  gtk_revealer_set_reveal_child (self->progress_revealer, path != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-load", path != NULL);
  if (path)
    {
      g_autofree char *text = g_strdup_printf (_("Reading %s"), path);
      gtk_progress_bar_set_text (self->progress_bar, text);
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
    }
}

static void
show_volume (MmWindow *self, MmLoadResult *r)
{
  const char *source = self->loading_path;
  MmVolume *vol = g_steal_pointer (&r->volume);
  MmDicomReport *report = g_steal_pointer (&r->report);
  mm_window_tools_series_changed (self, false);
  mm_viewer_set_volume (self->viewer, vol, g_steal_pointer (&r->stats), report, source);
  gtk_stack_set_visible_child_name (self->main_stack, "viewer");
  g_autofree char *base = g_path_get_basename (source);
  adw_window_title_set_title (self->window_title, base);
  g_autofree char *what = mm_text_printable (vol->series_description ? vol->series_description
                                             : (vol->modality ? vol->modality : _("Series")));
  g_autofree char *subtitle = g_strdup_printf (_("%s · %d × %d × %d"), what,
                                               vol->dims[0], vol->dims[1], vol->dims[2]);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_window_set_title (GTK_WINDOW (self), base);
  fill_metadata (self);
  mm_window_tools_series_changed (self, true);
  remember_recent (self, source);
  gtk_widget_grab_focus (GTK_WIDGET (self->views[MM_PLANE_AXIAL]));
  self->active = self->views[MM_PLANE_AXIAL];
  if (report->files_skipped > 0)
    {
      g_autofree char *msg = g_strdup_printf (g_dngettext (NULL, "%u file skipped: see the warnings in the panel",
                                                           "%u files skipped: see the warnings in the panel",
                                                           report->files_skipped),
                                              report->files_skipped);
      mm_window_toast (self, msg);
    }
  /* The benchmark draws with the overlay on, as an annotator works. */
  if (self->bench_frames > 0 || self->startup_segment)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.segment", NULL);
  if (self->startup_preset >= 0)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.preset", "i", self->startup_preset);
  if (self->screenshot_path || self->bench_frames > 0)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), test_mode_tick_cb, NULL, NULL);
}

static void
load_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MmLoadResult) r = mm_load_finish (result, &error);
  if (self->session == NULL) /* the window was closed while loading */
    {
      g_object_unref (self);
      return;
    }
  set_loading (self, NULL);
  g_clear_object (&self->cancellable);
  if (r == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mm_window_toast (self, error->message);
      if (self->screenshot_path || self->bench_frames > 0)
        {
          g_printerr ("metalmark: %s\n", error->message);
          gtk_window_destroy (GTK_WINDOW (self));
        }
    }
  else
    show_volume (self, r);
  g_object_unref (self);
}

typedef struct
{
  MmWindow *window;
  GtkListBox *list;
  GPtrArray *uids;
} PickerData;

static void
picker_response_cb (AdwMessageDialog *dialog, const char *response, PickerData *pd)
{
  if (g_strcmp0 (response, "open") == 0)
    {
      GtkListBoxRow *row = gtk_list_box_get_selected_row (pd->list);
      int index = row ? gtk_list_box_row_get_index (row) : 0;
      load_series (pd->window, pd->window->loading_path, pd->uids->pdata[index]);
    }
  g_object_unref (pd->window);
  g_ptr_array_unref (pd->uids);
  g_free (pd);
}

/* Several series: a list to pick from, the largest CT first and selected. */
static void
show_series_picker (MmWindow *self, const MmDicomReport *report)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Choose a Series"), NULL);
  g_autofree char *body = g_strdup_printf (_("%u series were found in %s."), report->series->len,
                                           self->loading_path);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog), body);
  GtkWidget *list = gtk_list_box_new ();
  gtk_widget_add_css_class (list, "boxed-list");
  PickerData *pd = g_new0 (PickerData, 1);
  pd->window = g_object_ref (self);
  pd->list = GTK_LIST_BOX (list);
  pd->uids = g_ptr_array_new_with_free_func (g_free);
  for (guint s = 0; s < report->series->len; s++)
    {
      const MmDicomSeriesInfo *info = report->series->pdata[s];
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *desc = mm_text_printable (info->description ? info->description
                                                                   : _("(no description)"));
      g_autofree char *modality = mm_text_printable (info->modality ? info->modality
                                                                    : (info->is_ct ? "CT" : "?"));
      g_autofree char *uid = mm_text_printable (info->uid);
      /* Titles are markup by default: the description is text. */
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), desc);
      g_autofree char *sub = g_strdup_printf (g_dngettext (NULL, "%s · %u slice · %s", "%s · %u slices · %s",
                                                           info->n_files),
                                              modality, info->n_files, uid);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), sub);
      gtk_list_box_append (GTK_LIST_BOX (list), row);
      g_ptr_array_add (pd->uids, g_strdup (info->uid));
    }
  gtk_list_box_select_row (GTK_LIST_BOX (list), gtk_list_box_get_row_at_index (GTK_LIST_BOX (list), 0));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), list);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "open",
                                    _("_Open"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "open",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "open");
  g_signal_connect (dialog, "response", G_CALLBACK (picker_response_cb), pd);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
scan_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MmLoadResult) r = mm_load_finish (result, &error);
  if (self->session == NULL) /* the window was closed while scanning */
    {
      g_object_unref (self);
      return;
    }
  g_clear_object (&self->cancellable);
  if (r == NULL)
    {
      set_loading (self, NULL);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mm_window_toast (self, error->message);
      if (self->screenshot_path || self->bench_frames > 0)
        {
          g_printerr ("metalmark: %s\n", error->message);
          gtk_window_destroy (GTK_WINDOW (self));
        }
    }
  else if (r->report->series->len > 1 && !self->screenshot_path && self->bench_frames == 0)
    {
      set_loading (self, NULL);
      show_series_picker (self, r->report);
    }
  else
    load_series (self, self->loading_path, NULL);
  g_object_unref (self);
}

static void
load_series (MmWindow *self, const char *path, const char *series_uid)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_loading (self, path);
  mm_load_async (path, series_uid, false, self->cancellable, progress_cb, self, load_done_cb,
                 g_object_ref (self));
}

void
mm_window_open (MmWindow *self, const char *path)
{
  g_return_if_fail (MM_IS_WINDOW (self) && path != NULL);
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  g_free (self->loading_path);
  self->loading_path = g_steal_pointer (&abs);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_loading (self, self->loading_path);
  /* Headers first: with several series the user picks before any pixel is read. */
  mm_load_async (self->loading_path, NULL, true, self->cancellable, NULL, NULL, scan_done_cb,
                 g_object_ref (self));
}

static void
cancel_load_action (GtkWidget *widget, const char *name, GVariant *param)
{
  g_cancellable_cancel (MM_WINDOW (widget)->cancellable);
  mm_ai_cancel (MM_WINDOW (widget)->ai);
}

static void
chooser_response_cb (GtkNativeDialog *chooser, int response, MmWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      const char *purpose = g_object_get_data (G_OBJECT (chooser), "purpose");
      if (path && g_strcmp0 (purpose, "mask") == 0)
        {
          const MmVolume *vol = mm_viewer_get_volume (self->viewer);
          g_autoptr (GError) error = NULL;
          g_autoptr (MmMask) mask = vol ? mm_label_stack_read (path, vol, &error) : NULL;
          if (mask == NULL)
            mm_window_toast (self, error ? error->message : _("Open a series first"));
          else if (!mm_mask_session_replace (self->session, g_steal_pointer (&mask),
                                             MM_MASK_SOURCE_FILE, path, &error))
            mm_window_toast (self, error->message);
        }
      else if (path)
        mm_window_open (self, path);
    }
  g_object_unref (chooser);
}

static void
run_chooser (MmWindow *self, const char *title, GtkFileChooserAction action, const char *purpose)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action,
                                                               _("_Open"), _("_Cancel"));
  g_object_set_data_full (G_OBJECT (chooser), "purpose", g_strdup (purpose), g_free);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
open_action (GtkWidget *widget, const char *name, GVariant *param)
{
  run_chooser (MM_WINDOW (widget), _("Open a Series Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
               "series");
}

static void
open_file_action (GtkWidget *widget, const char *name, GVariant *param)
{
  run_chooser (MM_WINDOW (widget), _("Open a DICOMDIR or DICOM File"), GTK_FILE_CHOOSER_ACTION_OPEN,
               "series");
}

static void
open_mask_action (GtkWidget *widget, const char *name, GVariant *param)
{
  run_chooser (MM_WINDOW (widget), _("Open a PNG Label Stack Folder"),
               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "mask");
}

static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, MmWindow *self)
{
  GSList *files = g_value_get_boxed (value);
  if (files == NULL)
    return FALSE;
  g_autofree char *path = g_file_get_path (files->data);
  if (path == NULL)
    return FALSE;
  mm_window_open (self, path);
  return TRUE;
}

/* ---- viewer actions ---- */

static MmSliceView *
active_view (MmWindow *self)
{
  return self->active ? self->active : self->views[MM_PLANE_AXIAL];
}

static void
view_interacted_cb (MmSliceView *view, MmWindow *self)
{
  self->active = view;
}

static void
slice_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmSliceView *view = active_view (MM_WINDOW (widget));
  if (g_str_equal (name, "win.slice-first"))
    mm_slice_view_go_to (view, 0);
  else if (g_str_equal (name, "win.slice-last"))
    mm_slice_view_go_to (view, -1);
  else
    mm_slice_view_step (view, g_variant_get_int32 (param));
}

static void
zoom_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmSliceView *view = active_view (MM_WINDOW (widget));
  if (g_str_equal (name, "win.zoom-in"))
    mm_slice_view_zoom_by (view, 1.25);
  else if (g_str_equal (name, "win.zoom-out"))
    mm_slice_view_zoom_by (view, 1 / 1.25);
  else
    mm_slice_view_reset (view);
}

static void
reset_view_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  for (int p = 0; p < 3; p++)
    mm_slice_view_reset (self->views[p]);
  mm_viewer_set_invert (self->viewer, false);
  if (vol && vol->has_window)
    mm_viewer_set_window (self->viewer, vol->window_width, vol->window_center);
}

static void
invert_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  mm_viewer_set_invert (self->viewer, !mm_viewer_get_invert (self->viewer));
}

/* Presets radiologists know (OHIF's), and one for metal that none of them has: wide enough
 * that a stem's inner structure and the bone around it are both readable. */
static const struct
{
  double window, level;
} builtin_presets[] = { { 400, 40 }, { 1500, -600 }, { 150, 90 }, { 2500, 480 }, { 80, 40 },
                        { 4000, 1000 } };

static void
preset_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  int n = g_variant_get_int32 (param);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    return;
  if (n == 0)
    {
      if (vol->has_window)
        mm_viewer_set_window (self->viewer, vol->window_width, vol->window_center);
      return;
    }
  double w = 0, l = 0;
  bool found = false;
  if (self->settings)
    {
      g_autoptr (GVariant) presets = g_settings_get_value (self->settings, "window-presets");
      if (n >= 1 && n <= (int) g_variant_n_children (presets))
        {
          g_variant_get_child (presets, n - 1, "(&sdd)", NULL, &w, &l);
          found = true;
        }
    }
  if (!found && n >= 1 && n <= (int) G_N_ELEMENTS (builtin_presets))
    {
      w = builtin_presets[n - 1].window;
      l = builtin_presets[n - 1].level;
      found = true;
    }
  if (found)
    mm_viewer_set_window (self->viewer, w, l);
}

static void
overlay_changed_cb (MmWindow *self)
{
  GdkRGBA color;
  gtk_color_chooser_get_rgba (GTK_COLOR_CHOOSER (self->overlay_color_button), &color);
  double opacity = gtk_adjustment_get_value (self->overlay_opacity);
  bool outline = gtk_check_button_get_active (self->overlay_outline_check);
  mm_viewer_set_overlay (self->viewer, &color, opacity, outline);
  if (self->settings)
    {
      g_autofree char *hex = g_strdup_printf ("#%02x%02x%02x", (int) lrint (color.red * 255),
                                              (int) lrint (color.green * 255), (int) lrint (color.blue * 255));
      g_settings_set_string (self->settings, "overlay-color", hex);
      g_settings_set_double (self->settings, "overlay-opacity", opacity);
      g_settings_set_boolean (self->settings, "overlay-outline", outline);
    }
}

/* ---- settings ---- */

static MmDragAction
drag_action_from_string (const char *s)
{
  if (g_strcmp0 (s, "pan") == 0)
    return MM_DRAG_PAN;
  if (g_strcmp0 (s, "zoom") == 0)
    return MM_DRAG_ZOOM;
  return MM_DRAG_WINDOW_LEVEL;
}

static void
drag_settings_changed_cb (GSettings *settings, const char *key, MmWindow *self)
{
  static const char *const keys[] = { NULL, "left-drag", "middle-drag", "right-drag" };
  for (guint b = 1; b <= 3; b++)
    {
      g_autofree char *value = g_settings_get_string (settings, keys[b]);
      for (int p = 0; p < 3; p++)
        mm_slice_view_set_drag_action (self->views[p], b, drag_action_from_string (value));
    }
}

static void
load_settings (MmWindow *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = source ? g_settings_schema_source_lookup (source, APP_ID, TRUE)
                                              : NULL;
  if (schema == NULL)
    {
      g_warning ("GSettings schema %s is not installed: settings will not be kept", APP_ID);
      return;
    }
  self->settings = g_settings_new (APP_ID);
  gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
  g_autofree char *layout = g_settings_get_string (self->settings, "layout");
  self->three_views = g_strcmp0 (layout, "three") == 0;
  g_autofree char *hex = g_settings_get_string (self->settings, "overlay-color");
  GdkRGBA color;
  if (gdk_rgba_parse (&color, hex))
    gtk_color_chooser_set_rgba (GTK_COLOR_CHOOSER (self->overlay_color_button), &color);
  gtk_adjustment_set_value (self->overlay_opacity, g_settings_get_double (self->settings, "overlay-opacity"));
  gtk_check_button_set_active (self->overlay_outline_check,
                               g_settings_get_boolean (self->settings, "overlay-outline"));
  g_signal_connect (self->settings, "changed::left-drag", G_CALLBACK (drag_settings_changed_cb), self);
  g_signal_connect (self->settings, "changed::middle-drag", G_CALLBACK (drag_settings_changed_cb), self);
  g_signal_connect (self->settings, "changed::right-drag", G_CALLBACK (drag_settings_changed_cb), self);
  drag_settings_changed_cb (self->settings, NULL, self);
}

static gboolean
mm_window_close_request (GtkWindow *window)
{
  MmWindow *self = MM_WINDOW (window);
  mm_mask_session_save_now (self->session);
  if (self->settings && !self->screenshot_path && self->bench_frames == 0)
    {
      int w, h;
      gtk_window_get_default_size (window, &w, &h);
      g_settings_set_int (self->settings, "window-width", w);
      g_settings_set_int (self->settings, "window-height", h);
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
    }
  return GTK_WINDOW_CLASS (mm_window_parent_class)->close_request (window);
}

/* ---- GObject ---- */

static void
mm_window_dispose (GObject *object)
{
  MmWindow *self = MM_WINDOW (object);
  /* Before the widget tree goes: the tools save quietly and drop their widgets. */
  g_clear_pointer (&self->ai, mm_ai_free);
  if (self->viewer)
    mm_viewer_set_mask (self->viewer, NULL); /* borrowed from the session */
  g_clear_object (&self->session); /* folds the journal */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->settings)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), MM_TYPE_WINDOW);
  G_OBJECT_CLASS (mm_window_parent_class)->dispose (object);
}

static void
mm_window_finalize (GObject *object)
{
  MmWindow *self = MM_WINDOW (object);
  g_clear_object (&self->viewer);
  g_free (self->loading_path);
  g_free (self->screenshot_path);
  g_clear_pointer (&self->frame_times, g_array_unref);
  g_clear_pointer (&self->render_times, g_array_unref);
  G_OBJECT_CLASS (mm_window_parent_class)->finalize (object);
}

static void
add_key (GtkWidgetClass *klass, guint key, GdkModifierType mods, const char *action,
         const char *format, ...)
{
  /* A binding for an action with an optional parameter. */
  va_list ap;
  va_start (ap, format);
  GVariant *args = format ? g_variant_new_va (format, NULL, &ap) : NULL;
  va_end (ap);
  GtkShortcut *shortcut = gtk_shortcut_new (gtk_keyval_trigger_new (key, mods),
                                            gtk_named_action_new (action));
  if (args)
    gtk_shortcut_set_arguments (shortcut, args);
  gtk_widget_class_add_shortcut (klass, shortcut);
  g_object_unref (shortcut);
}

static void
mm_window_class_init (MmWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->dispose = mm_window_dispose;
  object_class->finalize = mm_window_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = mm_window_close_request;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/metalmark/Metalmark/ui/mm-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MmWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, recent_button);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, layout_button);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, views_grid);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, metadata_grid);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, warnings_expander);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, warnings_label);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, overlay_color_button);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, overlay_opacity);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, overlay_opacity_scale);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, overlay_outline_check);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, tools_panel);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, ai_box);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, detect_button);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, slice_scale);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, slice_adjustment);
  mm_window_tools_class_init (widget_class);
  mm_window_export_class_init (widget_class);
  mm_ai_class_init (widget_class);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.open-file", NULL, open_file_action);
  gtk_widget_class_install_action (widget_class, "win.open-mask", NULL, open_mask_action);
  gtk_widget_class_install_action (widget_class, "win.open-recent", "s", open_recent_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-load", NULL, cancel_load_action);
  gtk_widget_class_install_action (widget_class, "win.copy-info", NULL, copy_info_action);
  gtk_widget_class_install_action (widget_class, "win.three-views", NULL, three_views_action);
  gtk_widget_class_install_action (widget_class, "win.slice", "i", slice_action);
  gtk_widget_class_install_action (widget_class, "win.slice-first", NULL, slice_action);
  gtk_widget_class_install_action (widget_class, "win.slice-last", NULL, slice_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-fit", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.invert", NULL, invert_action);
  gtk_widget_class_install_action (widget_class, "win.reset-view", NULL, reset_view_action);
  gtk_widget_class_install_action (widget_class, "win.preset", "i", preset_action);

  add_key (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  add_key (widget_class, GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.open-file", NULL);
  add_key (widget_class, GDK_KEY_Escape, 0, "win.cancel-load", NULL);
  /* The single keys (slices, zoom, presets, layout, tools) are in mm-viewer-keys.c. */
}

static void
mm_window_init (MmWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->startup_preset = -1;
  self->viewer = mm_viewer_new ();
  for (int p = 0; p < 3; p++)
    {
      self->views[p] = mm_slice_view_new (self->viewer, p);
      gtk_widget_set_hexpand (GTK_WIDGET (self->views[p]), TRUE);
      gtk_widget_set_vexpand (GTK_WIDGET (self->views[p]), TRUE);
      g_signal_connect (self->views[p], "interacted", G_CALLBACK (view_interacted_cb), self);
    }
  /* Axial large on the left, coronal and sagittal stacked on the right. */
  gtk_grid_attach (self->views_grid, GTK_WIDGET (self->views[MM_PLANE_AXIAL]), 0, 0, 1, 2);
  gtk_grid_attach (self->views_grid, GTK_WIDGET (self->views[MM_PLANE_CORONAL]), 1, 0, 1, 1);
  gtk_grid_attach (self->views_grid, GTK_WIDGET (self->views[MM_PLANE_SAGITTAL]), 1, 1, 1, 1);
  mm_viewer_keys_attach (GTK_WIDGET (self));
  mm_scroll_guard_attach (GTK_WIDGET (self->overlay_opacity_scale));
  load_settings (self);
  apply_layout (self);
  update_recent_menu (self);
  gtk_widget_set_visible (GTK_WIDGET (self->warnings_expander), FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-load", FALSE);
  g_signal_connect_swapped (self->overlay_color_button, "color-set", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->overlay_opacity, "value-changed", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->overlay_outline_check, "toggled", G_CALLBACK (overlay_changed_cb), self);
  overlay_changed_cb (self);

  mm_window_tools_init (self);
  self->ai = mm_ai_new (self);
  g_signal_connect_object (self->viewer, "changed", G_CALLBACK (viewer_cursor_cb), self, 0);
  g_signal_connect (self->slice_adjustment, "value-changed", G_CALLBACK (slice_scale_changed_cb), self);

  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
}

MmWindow *
mm_window_new (AdwApplication *app)
{
  return g_object_new (MM_TYPE_WINDOW, "application", app, NULL);
}
