/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmWindow: loading (the series picker is mm-series-picker.c), the views and their actions,
 * the mask overlay and the settings. The metadata panel, export and the test modes are in
 * mm-window-metadata.c, mm-window-export.c and mm-window-testmode.c. */
#include "mm-window-private.h"
#include "mm-viewer-keys.h"
#include "mm-scroll-guard.h"

#include "mm-label-stack.h"
#include "mm-loader.h"
#include "mm-prescan.h"
#include "mm-timing.h"
#include "mm-pacs-dialog.h"
#include "mm-preferences-window.h"
#include "mm-segment.h"
#include "mm-series-picker.h"
#include "mm-slice-view.h"
#include "mm-text.h"
#include "mm-viewer.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

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
  mm_window_view3d_layout (self);
}

void
mm_window_set_three_views (MmWindow *self, gboolean three)
{
  self->three_views = three;
  self->layout_3d = 0;
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
  if (what & (MM_VIEWER_CHANGED_VOLUME | MM_VIEWER_CHANGED_CURSOR))
    mm_window_tags_update (self);
  if (self->loading_shared && (what & (MM_VIEWER_CHANGED_VOLUME | MM_VIEWER_CHANGED_CURSOR)))
    mm_load_shared_want_slice (self->loading_shared, slice - 1); /* decoded next */
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

/* What the series is, for the title: its description, else its modality and orientation
 * ("CT, axial"), so that a series without a description is never just "Series". */
static char *
describe_series (const MmVolume *vol)
{
  if (vol->series_description && *vol->series_description)
    return mm_text_printable (vol->series_description);
  g_autofree char *modality = mm_text_printable (vol->modality && *vol->modality ? vol->modality
                                                                                 : _("Image"));
  const char *orientation = mm_volume_orientation_name (vol);
  return orientation && *orientation ? g_strdup_printf (_("%s, %s"), modality, orientation)
                                     : g_steal_pointer (&modality);
}

/* The slider's end letters: slice 1 at the left end lies towards from, the last towards to. */
static void
show_slice_direction (MmWindow *self)
{
  char from[4], to[4];
  mm_slice_view_get_depth_direction (self->views[MM_PLANE_AXIAL], from, to);
  gtk_label_set_text (self->slice_from_label, from);
  gtk_label_set_text (self->slice_to_label, to);
  g_autofree char *tip = g_strdup_printf (_("Axial slice, numbered from %s to %s; ticks mark slices "
                                            "with mask voxels (N, Shift+N jump between them)"),
                                          from, to);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->slice_scale), tip);
}

/* The series on screen, from its first slice on (a progressive load fills it afterwards:
 * shared is then its loader's, else NULL and vol is owned here). */
static void
show_volume (MmWindow *self, MmVolume *vol, MmLoadShared *shared)
{
  const char *source = self->loading_path;
  mm_window_mar_series_changed (self);
  mm_window_tools_series_changed (self, false);
  mm_window_measure_series_changed (self, false);
  if (shared)
    mm_viewer_set_volume_full (self->viewer, vol, NULL, NULL, source,
                               (GDestroyNotify) mm_load_shared_unref,
                               mm_load_shared_ref (shared));
  else
    mm_viewer_set_volume (self->viewer, vol, NULL, NULL, source);
  gtk_stack_set_visible_child_name (self->main_stack, "viewer");
  g_autofree char *base = g_path_get_basename (source);
  adw_window_title_set_title (self->window_title, base);
  g_autofree char *what = describe_series (vol);
  g_autofree char *subtitle = g_strdup_printf (_("%s · %d × %d × %d"), what,
                                               vol->dims[0], vol->dims[1], vol->dims[2]);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  g_autofree char *title = g_strdup_printf (_("%s – %s"), base, what);
  gtk_window_set_title (GTK_WINDOW (self), title);
  show_slice_direction (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->views[MM_PLANE_AXIAL]));
  self->active = self->views[MM_PLANE_AXIAL];
}

/* The whole series is in: its figures, the tools, and what waits for the whole series. */
static void
series_complete (MmWindow *self, MmLoadResult *r)
{
  const char *source = self->loading_path;
  MmDicomReport *report = g_steal_pointer (&r->report);
  mm_viewer_set_figures (self->viewer, g_steal_pointer (&r->stats), report);
  mm_window_progressive_set_loading (self, false);
  mm_window_metadata_fill (self);
  mm_window_tools_series_changed (self, true);
  mm_window_measure_series_changed (self, true);
  remember_recent (self, source);
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
  int preset = self->startup_preset;
  if (preset < 0 && self->settings)
    preset = g_settings_get_int (self->settings, "default-preset");
  if (preset > 0 || (preset == 0 && self->startup_preset == 0))
    gtk_widget_activate_action (GTK_WIDGET (self), "win.preset", "i", preset);
  if (self->startup_invert)
    mm_viewer_set_invert (self->viewer, true);
  if (self->startup_zoom > 0)
    for (int p = 0; p < 3; p++)
      mm_slice_view_set_zoom_ratio (self->views[p], self->startup_zoom / 100);
  if (self->screenshot_path || self->bench_frames > 0)
    mm_window_test_mode_start (self);
  mm_window_progressive_bench_done (self);
}

/* Main loop, once the first slice of a progressive load is in. */
static void
first_slice_cb (GObject *target, MmVolume *vol, MmLoadShared *shared)
{
  MmWindow *self = MM_WINDOW (target);
  if (self->session == NULL) /* the window was closed */
    return;
  mm_timing_mark ("main loop: first slice to show");
  mm_window_progressive_set_loading (self, true);
  g_clear_pointer (&self->loading_shared, mm_load_shared_unref);
  self->loading_shared = mm_load_shared_ref (shared);
  show_volume (self, vol, shared);
  mm_window_progressive_first_paint (self, shared);
  mm_window_progressive_bench_first (self);
}

static void
more_slices_cb (GObject *target)
{
  MmWindow *self = MM_WINDOW (target);
  if (self->session != NULL)
    mm_viewer_voxels_arrived (self->viewer);
}

static void
load_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MmLoadResult) r = mm_load_finish (result, &error);
  if (self->session == NULL /* the window was closed while loading */
      || g_task_get_cancellable (G_TASK (result)) != self->cancellable) /* a newer load runs */
    {
      g_object_unref (self);
      return;
    }
  set_loading (self, NULL);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->loading_shared, mm_load_shared_unref);
  if (r == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mm_window_toast (self, error->message);
      /* A series partly shown stays unusable: back to the start page. */
      gtk_stack_set_visible_child_name (self->main_stack, "empty");
      if (self->screenshot_path || self->bench_frames > 0)
        {
          g_printerr ("metalmark: %s\n", error->message);
          gtk_window_destroy (GTK_WINDOW (self));
        }
    }
  else
    {
      if (r->volume) /* read afresh: it replaces the one shown */
        show_volume (self, g_steal_pointer (&r->volume), NULL);
      series_complete (self, r);
    }
  g_object_unref (self);
}

static void
series_chosen_cb (MmSeriesPicker *picker, const char *uid, MmWindow *self)
{
  load_series (self, self->loading_path, uid);
}

/* Several series: a list to pick from, the largest CT first and selected. */
static void
show_series_picker (MmWindow *self, const MmDicomReport *report)
{
  MmSeriesPicker *picker = mm_series_picker_new (GTK_WINDOW (self), report, self->loading_path);
  mm_series_picker_set_start_time (picker, self->open_time);
  const MmDicomReport *shown = mm_viewer_get_report (self->viewer);
  if (shown && shown->chosen_uid && g_strcmp0 (mm_viewer_get_source (self->viewer),
                                                self->loading_path) == 0)
    mm_series_picker_select (picker, shown->chosen_uid);
  g_signal_connect_object (picker, "series-chosen", G_CALLBACK (series_chosen_cb), self, 0);
  gtk_window_present (GTK_WINDOW (picker));
}

/* win.series-browser (Ctrl+B): the series of the folder opened last, again, without scanning
 * it again. */
static void
series_browser_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  if (self->scan_report == NULL)
    {
      mm_window_toast (self, _("Open a folder first"));
      return;
    }
  g_free (self->loading_path);
  self->loading_path = g_strdup (self->scan_path);
  self->open_time = 0;
  show_series_picker (self, self->scan_report);
}

static void
scan_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MmLoadResult) r = mm_load_finish (result, &error);
  if (self->session == NULL /* the window was closed while scanning */
      || g_task_get_cancellable (G_TASK (result)) != self->cancellable) /* a newer load runs */
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
  else
    {
      /* Kept for the series browser (Ctrl+B), also with one series. */
      g_clear_pointer (&self->scan_report, mm_dicom_report_free);
      self->scan_report = g_steal_pointer (&r->report);
      g_clear_pointer (&self->scan, mm_dicom_scan_unref);
      self->scan = g_steal_pointer (&r->scan);
      g_free (self->scan_path);
      self->scan_path = g_strdup (self->loading_path);
      if (self->scan_report->series->len > 1 && !self->screenshot_path && self->bench_frames == 0)
        {
          set_loading (self, NULL);
          show_series_picker (self, self->scan_report);
        }
      else
        load_series (self, self->loading_path, NULL);
    }
  g_object_unref (self);
}

static void
load_series (MmWindow *self, const char *path, const char *series_uid)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_loading (self, path);
  /* The headers the scan of this folder read, when it was this folder: not read again. */
  MmDicomScan *scan = g_strcmp0 (path, self->scan_path) == 0 ? self->scan : NULL;
  mm_load_progressive_async (path, series_uid, scan, self->cancellable, progress_cb, self,
                             G_OBJECT (self), first_slice_cb, more_slices_cb, load_done_cb,
                             g_object_ref (self));
}

void
mm_window_open (MmWindow *self, const char *path)
{
  g_return_if_fail (MM_IS_WINDOW (self) && path != NULL);
  g_autofree char *abs = g_canonicalize_filename (path, NULL);
  self->open_time = g_get_monotonic_time ();
  g_clear_pointer (&self->scan_report, mm_dicom_report_free);
  g_clear_pointer (&self->scan, mm_dicom_scan_unref);
  g_clear_pointer (&self->scan_path, g_free);
  g_free (self->loading_path);
  self->loading_path = g_steal_pointer (&abs);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_loading (self, self->loading_path);
  /* Headers first: with several series the user picks before any pixel is read. The folder
   * named on the command line was scanned while the app started (mm-prescan.h). */
  g_object_ref (self); /* released by scan_done_cb */
  if (!mm_prescan_take (self->loading_path, self->cancellable, scan_done_cb, self))
    mm_load_async (self->loading_path, NULL, true, self->cancellable, NULL, NULL, scan_done_cb,
                   self);
}

static void
cancel_load_action (GtkWidget *widget, const char *name, GVariant *param)
{
  g_cancellable_cancel (MM_WINDOW (widget)->cancellable);
  mm_model_panel_cancel_detection (MM_WINDOW (widget)->model_panel);
  mm_window_mar_cancel (MM_WINDOW (widget));
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
pacs_retrieved (MmWindow *self, const char *path)
{
  mm_window_open (self, path);
}

/* "Open from PACS…" (mm-pacs-dialog.c): the retrieved series opens like a folder. */
static void
open_pacs_action (GtkWidget *widget, const char *name, GVariant *param)
{
  /* One per window, hidden between uses (it keeps its server and results). */
  MmPacsDialog *dialog = g_object_get_data (G_OBJECT (widget), "mm-pacs-dialog");
  if (dialog == NULL)
    {
      dialog = mm_pacs_dialog_new (GTK_WINDOW (widget), MM_WINDOW (widget)->settings);
      gtk_window_set_destroy_with_parent (GTK_WINDOW (dialog), TRUE);
      g_signal_connect_object (dialog, "series-retrieved", G_CALLBACK (pacs_retrieved), widget,
                               G_CONNECT_SWAPPED);
      g_object_set_data (G_OBJECT (widget), "mm-pacs-dialog", dialog);
    }
  gtk_window_present (GTK_WINDOW (dialog));
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
  else if (g_str_equal (name, "win.zoom-actual"))
    mm_slice_view_set_zoom_ratio (view, 1.0); /* 100 %: one screen pixel per image pixel */
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
  mm_window_view3d_read_layout (self, layout);
  /* Bound both ways: the panel and the preferences window show the same overlay. */
  g_settings_bind_with_mapping (self->settings, "overlay-color", self->overlay_color_button, "rgba",
                                G_SETTINGS_BIND_DEFAULT, mm_settings_get_rgba, mm_settings_set_rgba,
                                NULL, NULL);
  g_settings_bind (self->settings, "overlay-opacity", self->overlay_opacity, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "overlay-outline", self->overlay_outline_check, "active",
                   G_SETTINGS_BIND_DEFAULT);
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
  mm_window_model_dispose (self);
  mm_window_mar_dispose (self);
  mm_window_reading_dispose (self);
  mm_window_tags_dispose (self);
  if (self->viewer)
    mm_viewer_set_mask (self->viewer, NULL); /* borrowed from the session */
  g_clear_object (&self->session); /* folds the journal */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->loading_shared, mm_load_shared_unref);
  if (self->settings)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), MM_TYPE_WINDOW);
  mm_window_measure_dispose (self);
  G_OBJECT_CLASS (mm_window_parent_class)->dispose (object);
}

static void
mm_window_finalize (GObject *object)
{
  MmWindow *self = MM_WINDOW (object);
  g_clear_object (&self->viewer);
  g_free (self->loading_path);
  g_free (self->screenshot_path);
  g_clear_pointer (&self->scan_report, mm_dicom_report_free);
  g_clear_pointer (&self->scan, mm_dicom_scan_unref);
  g_free (self->scan_path);
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

  g_type_ensure (MM_TYPE_MODEL_PANEL);
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
  gtk_widget_class_bind_template_child (widget_class, MmWindow, model_panel);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, measure_panel);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, detect_button);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, slice_scale);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, slice_adjustment);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, slice_from_label);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, slice_to_label);
  gtk_widget_class_bind_template_child (widget_class, MmWindow, mar_button);
  mm_window_tools_class_init (widget_class);
  mm_window_export_class_init (widget_class);
  mm_window_pacs_class_init (widget_class);
  mm_window_model_class_init (widget_class);
  mm_window_measure_class_init (widget_class);
  mm_window_view3d_class_init (widget_class);
  mm_window_mar_class_init (widget_class);

  gtk_widget_class_install_action (widget_class, "win.open", NULL, open_action);
  gtk_widget_class_install_action (widget_class, "win.open-file", NULL, open_file_action);
  gtk_widget_class_install_action (widget_class, "win.open-mask", NULL, open_mask_action);
  gtk_widget_class_install_action (widget_class, "win.open-pacs", NULL, open_pacs_action);
  gtk_widget_class_install_action (widget_class, "win.open-recent", "s", open_recent_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-load", NULL, cancel_load_action);
  gtk_widget_class_install_action (widget_class, "win.series-browser", NULL,
                                   series_browser_action);
  mm_window_metadata_class_init (widget_class);
  mm_window_tags_class_init (widget_class);
  gtk_widget_class_install_action (widget_class, "win.three-views", NULL, three_views_action);
  gtk_widget_class_install_action (widget_class, "win.slice", "i", slice_action);
  gtk_widget_class_install_action (widget_class, "win.slice-first", NULL, slice_action);
  gtk_widget_class_install_action (widget_class, "win.slice-last", NULL, slice_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-fit", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.zoom-actual", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "win.invert", NULL, invert_action);
  gtk_widget_class_install_action (widget_class, "win.reset-view", NULL, reset_view_action);
  gtk_widget_class_install_action (widget_class, "win.preset", "i", preset_action);

  add_key (widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  add_key (widget_class, GDK_KEY_o, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.open-file", NULL);
  add_key (widget_class, GDK_KEY_p, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.open-pacs", NULL);
  add_key (widget_class, GDK_KEY_Escape, 0, "win.cancel-load", NULL);
  add_key (widget_class, GDK_KEY_b, GDK_CONTROL_MASK, "win.series-browser", NULL);
  add_key (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "win.zoom-actual", NULL);
  /* The single keys (slices, zoom, presets, layout, tools) are in mm-viewer-keys.c. */
}

static void
mm_window_init (MmWindow *self)
{
  mm_timing_mark ("window: template to build");
  gtk_widget_init_template (GTK_WIDGET (self));
  mm_timing_mark ("window: template built");
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
  mm_window_view3d_init (self);
  mm_viewer_keys_attach (GTK_WIDGET (self));
  mm_scroll_guard_attach (GTK_WIDGET (self->overlay_opacity_scale));
  load_settings (self);
  apply_layout (self);
  update_recent_menu (self);
  gtk_widget_set_visible (GTK_WIDGET (self->warnings_expander), FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-load", FALSE);
  g_signal_connect_swapped (self->overlay_color_button, "notify::rgba", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->overlay_opacity, "value-changed", G_CALLBACK (overlay_changed_cb), self);
  g_signal_connect_swapped (self->overlay_outline_check, "toggled", G_CALLBACK (overlay_changed_cb), self);
  overlay_changed_cb (self);

  mm_timing_mark ("window: views and settings");
  mm_window_tools_init (self);
  mm_timing_mark ("window: tools");
  mm_window_model_init (self);
  mm_window_reading_init (self);
  mm_window_mar_init (self);
  mm_timing_mark ("window: model, reading");
  mm_window_measure_init (self);
  mm_timing_mark ("window: measure");
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
