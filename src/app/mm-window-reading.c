/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The window's reading tools: the row above the views (MmReadingBar), cine, oblique reset,
 * slab cycling, saving and copying the active view, as the "reading.*" action group. */
#include "mm-window-private.h"
#include "mm-reading-bar.h"
#include "mm-reading.h"
#include "mm-view-export.h"

#include <glib/gi18n.h>

static MmSliceView *
export_view (MmWindow *self)
{
  MmSliceView *v = self->active;
  if (v == NULL || !gtk_widget_get_visible (GTK_WIDGET (v)))
    v = self->views[MM_PLANE_AXIAL];
  return v;
}

/* One cine frame: the next slice of the active view, back to the first after the last. */
static void
cine_step (gpointer data)
{
  MmWindow *self = data;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    return;
  MmSliceView *view = export_view (self);
  MmPlane plane = mm_slice_view_get_plane (view);
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  int before = mm_viewer_get_depth (self->viewer, plane);
  if (before >= g.depth - 1)
    mm_slice_view_go_to (view, 0);
  else
    {
      mm_slice_view_step (view, 1);
      /* An oblique plane can stop short of the last slice at the volume's box: loop there. */
      if (mm_viewer_get_depth (self->viewer, plane) == before)
        mm_slice_view_go_to (view, 0);
    }
}

static void
cine_change_state (GSimpleAction *action, GVariant *state, gpointer data)
{
  MmWindow *self = data;
  bool play = g_variant_get_boolean (state);
  mm_cine_set_playing (self->cine, play && mm_viewer_get_volume (self->viewer) != NULL);
  g_simple_action_set_state (action, g_variant_new_boolean (mm_cine_is_playing (self->cine)));
}

static void
cine_activate (GSimpleAction *action, GVariant *param, gpointer data)
{
  g_autoptr (GVariant) state = g_action_get_state (G_ACTION (action));
  g_action_change_state (G_ACTION (action), g_variant_new_boolean (!g_variant_get_boolean (state)));
}

static void
reset_oblique_activate (GSimpleAction *action, GVariant *param, gpointer data)
{
  MmWindow *self = data;
  mm_reading_reset_oblique (mm_viewer_get_reading (self->viewer));
}

static void
slab_cycle_activate (GSimpleAction *action, GVariant *param, gpointer data)
{
  MmWindow *self = data;
  MmReading *r = mm_viewer_get_reading (self->viewer);
  int mode = mm_reading_get_slab_mode (r) + 1;
  mm_reading_set_slab (r, mode > MM_SLAB_MEAN ? MM_READING_SLAB_OFF : mode,
                       mm_reading_get_slab_thickness (r));
}

static void
saved_cb (gpointer data, const char *path, const char *error)
{
  MmWindow *self = data;
  g_autofree char *base = path ? g_path_get_basename (path) : NULL;
  g_autofree char *msg = path ? g_strdup_printf (_("Saved the view as %s"), base) : g_strdup (error);
  if (msg)
    mm_window_toast (self, msg);
  g_object_unref (self); /* held while the dialog was open */
}

static void
save_view_activate (GSimpleAction *action, GVariant *param, gpointer data)
{
  MmWindow *self = data;
  if (mm_viewer_get_volume (self->viewer) == NULL)
    return;
  mm_view_export_save_dialog (GTK_WINDOW (self), export_view (self), g_variant_get_boolean (param),
                              saved_cb, g_object_ref (self));
}

static void
copy_view_activate (GSimpleAction *action, GVariant *param, gpointer data)
{
  MmWindow *self = data;
  g_autoptr (GError) err = NULL;
  if (mm_viewer_get_volume (self->viewer) == NULL)
    return;
  if (mm_view_export_copy (export_view (self), &err))
    mm_window_toast (self, _("Copied the view to the clipboard"));
  else
    mm_window_toast (self, err->message);
}

static const GActionEntry reading_actions[] = {
  { "cine", cine_activate, NULL, "false", cine_change_state },
  { "reset-oblique", reset_oblique_activate },
  { "slab-cycle", slab_cycle_activate },
  { "save-view", save_view_activate, "b" }, /* true: with the texts and crosshair */
  { "copy-view", copy_view_activate },
};

void
mm_window_reading_init (MmWindow *self)
{
  self->cine = mm_cine_new (cine_step, self);
  GSimpleActionGroup *group = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (group), reading_actions,
                                   G_N_ELEMENTS (reading_actions), self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "reading", G_ACTION_GROUP (group));
  g_object_unref (group);
  /* The row goes above the views, in the column that holds them and the slice slider. */
  GtkWidget *column = gtk_widget_get_parent (GTK_WIDGET (self->views_grid));
  MmReadingBar *bar = mm_reading_bar_new (self->viewer, self->cine);
  /* In a scroller: on a narrow screen the row scrolls instead of widening the views'
   * column past the window. */
  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_AUTOMATIC,
                                  GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (bar));
  gtk_box_insert_child_after (GTK_BOX (column), scroller, NULL);
}

void
mm_window_reading_dispose (MmWindow *self)
{
  g_clear_pointer (&self->cine, mm_cine_free);
}
