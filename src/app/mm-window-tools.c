/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The window's side of annotation: its mask session wired to the viewer, the slice marks and
 * the toasts; the tool actions and their keys, forwarded to the tools panel and the session. */
#include "mm-window-private.h"

#include "mm-edit.h"

#include <glib/gi18n.h>

static void
session_changed_cb (MmMaskSession *session, MmWindow *self)
{
  /* The viewer shows the session's mask (created on the first edit, dropped with a series). */
  const MmMask *mask = mm_mask_session_get_mask (session);
  if (mask != mm_viewer_get_mask (self->viewer))
    mm_viewer_set_mask (self->viewer, mask);
  else
    mm_viewer_mask_edited (self->viewer);
  mm_window_update_slice_marks (self);
}

static void
session_undo_cb (MmMaskSession *session, GParamSpec *pspec, MmWindow *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", mm_mask_session_get_can_undo (session));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo", mm_mask_session_get_can_redo (session));
}

static void
message_cb (GObject *source, const char *text, MmWindow *self)
{
  mm_window_toast (self, text);
}

void
mm_window_tools_init (MmWindow *self)
{
  self->session = mm_mask_session_new ();
  g_signal_connect_object (self->session, "changed", G_CALLBACK (session_changed_cb), self, 0);
  g_signal_connect_object (self->session, "message", G_CALLBACK (message_cb), self, 0);
  g_signal_connect_object (self->session, "notify::can-undo", G_CALLBACK (session_undo_cb), self, 0);
  g_signal_connect_object (self->session, "notify::can-redo", G_CALLBACK (session_undo_cb), self, 0);
  g_signal_connect_object (self->tools_panel, "message", G_CALLBACK (message_cb), self, 0);
  mm_tools_panel_set_session (self->tools_panel, self->session, self->viewer);
  for (int p = 0; p < 3; p++)
    mm_tools_panel_add_view (self->tools_panel, self->views[p]);
  session_undo_cb (self->session, NULL, self);
}

void
mm_window_tools_series_changed (MmWindow *self, bool loaded)
{
  if (!loaded)
    {
      /* Before the viewer lets the old volume go: fold its edits, drop its mask. */
      mm_viewer_set_mask (self->viewer, NULL);
      mm_mask_session_set_series (self->session, NULL, NULL, false);
      return;
    }
  /* Test and benchmark runs edit in memory only. */
  mm_mask_session_set_series (self->session, mm_viewer_get_volume (self->viewer),
                              mm_viewer_get_source (self->viewer),
                              self->screenshot_path != NULL || self->bench_frames > 0);
  mm_tools_panel_series_changed (self->tools_panel);
}

/* ---- actions ---- */

static void
tool_action (GtkWidget *widget, const char *name, GVariant *param)
{
  const char *id = g_variant_get_string (param, NULL);
  if (!g_str_equal (id, "none"))
    mm_window_measure_mask_tool (MM_WINDOW (widget));
  mm_tools_panel_toggle_tool (MM_WINDOW (widget)->tools_panel, id);
}

static void
undo_redo_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmMaskSession *session = MM_WINDOW (widget)->session;
  if (g_str_equal (name, "win.undo"))
    mm_mask_session_undo (session);
  else
    mm_mask_session_redo (session);
}

static void
radius_action (GtkWidget *widget, const char *name, GVariant *param)
{
  mm_tools_panel_scale_radius (MM_WINDOW (widget)->tools_panel,
                               g_str_equal (name, "win.radius-up") ? 1.25 : 1 / 1.25);
}

static void
next_metal_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  const MmMask *mask = mm_mask_session_get_mask (self->session);
  if (mask == NULL)
    return;
  int k = mm_viewer_get_depth (self->viewer, MM_PLANE_AXIAL);
  int next = mm_edit_next_slice_with_mask (mask, k, g_variant_get_int32 (param));
  if (next >= 0)
    mm_viewer_set_depth (self->viewer, MM_PLANE_AXIAL, next);
}

static void
segment_action (GtkWidget *widget, const char *name, GVariant *param)
{
  /* Ctrl+M: the default segmentation, as one undoable step. */
  mm_tools_panel_segment (MM_WINDOW (widget)->tools_panel);
}

static void
add_key (GtkWidgetClass *klass, guint key, GdkModifierType mods, const char *action)
{
  GtkShortcut *s = gtk_shortcut_new (gtk_keyval_trigger_new (key, mods), gtk_named_action_new (action));
  gtk_widget_class_add_shortcut (klass, s);
  g_object_unref (s);
}

void
mm_window_tools_class_init (GtkWidgetClass *klass)
{
  g_type_ensure (MM_TYPE_TOOLS_PANEL);
  gtk_widget_class_install_action (klass, "win.tool", "s", tool_action);
  gtk_widget_class_install_action (klass, "win.undo", NULL, undo_redo_action);
  gtk_widget_class_install_action (klass, "win.redo", NULL, undo_redo_action);
  gtk_widget_class_install_action (klass, "win.radius-up", NULL, radius_action);
  gtk_widget_class_install_action (klass, "win.radius-down", NULL, radius_action);
  gtk_widget_class_install_action (klass, "win.next-metal", "i", next_metal_action);
  gtk_widget_class_install_action (klass, "win.segment", NULL, segment_action);
  add_key (klass, GDK_KEY_m, GDK_CONTROL_MASK, "win.segment");
  add_key (klass, GDK_KEY_z, GDK_CONTROL_MASK, "win.undo");
  add_key (klass, GDK_KEY_Z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.redo");
  /* The tool letters, [ ] and N are viewer keys (mm-viewer-keys.c): they work from any
   * widget but a text field. */
}
