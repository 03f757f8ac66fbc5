/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The window's side of measuring: the annotation layer on the three views, the measure panel,
 * the series' measurements loaded and kept in its project folder, and the win.measure-*
 * actions (their keys are viewer keys, mm-viewer-keys.c). */
#include "mm-window-private.h"

#include "mm-path.h"

#include <glib/gi18n.h>

static void
layer_changed_cb (MmAnnotationLayer *layer, guint what, MmWindow *self)
{
  for (int p = 0; p < 3; p++)
    gtk_widget_queue_draw (GTK_WIDGET (self->views[p]));
}

static void
message_cb (GObject *source, const char *text, MmWindow *self)
{
  mm_window_toast (self, text);
}

static void
mask_changed_cb (MmViewer *viewer, guint what, MmWindow *self)
{
  if (what & MM_VIEWER_CHANGED_MASK)
    mm_measure_panel_mask_changed (self->measure_panel);
}

void
mm_window_measure_init (MmWindow *self)
{
  self->annotations = mm_annotation_layer_new (self->viewer);
  g_signal_connect_object (self->annotations, "changed", G_CALLBACK (layer_changed_cb), self, 0);
  g_signal_connect_object (self->annotations, "message", G_CALLBACK (message_cb), self, 0);
  g_signal_connect_object (self->measure_panel, "message", G_CALLBACK (message_cb), self, 0);
  g_signal_connect_object (self->viewer, "changed", G_CALLBACK (mask_changed_cb), self, 0);
  mm_measure_panel_set_layer (self->measure_panel, self->annotations, self->viewer);
  for (int p = 0; p < 3; p++)
    mm_slice_view_set_annotations (self->views[p], self->annotations);
}

void
mm_window_measure_series_changed (MmWindow *self, bool loaded)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  /* Test and benchmark runs keep nothing, as the mask session does. */
  bool keep = loaded && vol != NULL && self->screenshot_path == NULL && self->bench_frames <= 0;
  g_autofree char *dir = keep ? mm_project_dir_for (mm_viewer_get_source (self->viewer), vol->series_uid)
                              : NULL;
  mm_annotation_layer_set_series (self->annotations, dir);
  mm_measure_panel_mask_changed (self->measure_panel);
}

void
mm_window_measure_dispose (MmWindow *self)
{
  g_clear_object (&self->annotations);
}

/* ---- actions ---- */

static void
tool_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  MmMeasureTool tool;
  if (!mm_measure_tool_parse (g_variant_get_string (param, NULL), &tool))
    return;
  /* A measuring tool and a mask tool never both take the left button. */
  if (tool != MM_MEASURE_POINTER)
    mm_tools_panel_toggle_tool (self->tools_panel, "none");
  mm_annotation_layer_set_tool (self->annotations, tool);
  mm_measure_panel_show_tool (self->measure_panel, tool);
}

static void
delete_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  mm_annotation_layer_delete (self->annotations, mm_annotation_layer_get_selected (self->annotations));
}

void
mm_window_measure_class_init (GtkWidgetClass *klass)
{
  g_type_ensure (MM_TYPE_MEASURE_PANEL);
  gtk_widget_class_install_action (klass, "win.measure-tool", "s", tool_action);
  gtk_widget_class_install_action (klass, "win.measure-delete", NULL, delete_action);
}

/* A mask tool was chosen: the measuring tool goes back to the pointer. */
void
mm_window_measure_mask_tool (MmWindow *self)
{
  mm_annotation_layer_set_tool (self->annotations, MM_MEASURE_POINTER);
  mm_measure_panel_show_tool (self->measure_panel, MM_MEASURE_POINTER);
}
