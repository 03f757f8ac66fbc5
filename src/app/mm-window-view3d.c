/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmWindow's 3D view: the layouts with it ("three-3d": three planes and the 3D view in a
 * 2x2 grid; "3d": the 3D view alone), its actions and its messages as toasts. */
#include "mm-window-private.h"

#include "mm-surface-view.h"

#include <glib/gi18n.h>

static void
place (MmWindow *self, GtkWidget *child, int column, int row, int width, int height)
{
  GtkLayoutManager *lm = gtk_widget_get_layout_manager (GTK_WIDGET (self->views_grid));
  GtkGridLayoutChild *lc = GTK_GRID_LAYOUT_CHILD (gtk_layout_manager_get_layout_child (lm, child));
  gtk_grid_layout_child_set_column (lc, column);
  gtk_grid_layout_child_set_row (lc, row);
  gtk_grid_layout_child_set_column_span (lc, width);
  gtk_grid_layout_child_set_row_span (lc, height);
}

void
mm_window_view3d_layout (MmWindow *self)
{
  GtkWidget *axial = GTK_WIDGET (self->views[MM_PLANE_AXIAL]);
  GtkWidget *coronal = GTK_WIDGET (self->views[MM_PLANE_CORONAL]);
  GtkWidget *sagittal = GTK_WIDGET (self->views[MM_PLANE_SAGITTAL]);
  GtkWidget *v3 = GTK_WIDGET (self->surface_view);
  switch (self->layout_3d)
    {
    case 1: /* three planes + 3D: axial and coronal above, sagittal and 3D below */
      place (self, axial, 0, 0, 1, 1);
      place (self, coronal, 1, 0, 1, 1);
      place (self, sagittal, 0, 1, 1, 1);
      place (self, v3, 1, 1, 1, 1);
      for (int p = 0; p < 3; p++)
        {
          gtk_widget_set_visible (GTK_WIDGET (self->views[p]), TRUE);
          mm_slice_view_set_crosshair (self->views[p], TRUE);
        }
      break;
    case 2: /* the 3D view alone */
      for (int p = 0; p < 3; p++)
        gtk_widget_set_visible (GTK_WIDGET (self->views[p]), FALSE);
      place (self, v3, 0, 0, 1, 1);
      break;
    default: /* as mm-window.c lays them out: axial large, coronal and sagittal stacked */
      place (self, axial, 0, 0, 1, 2);
      place (self, coronal, 1, 0, 1, 1);
      place (self, sagittal, 1, 1, 1, 1);
      place (self, v3, 2, 0, 1, 2);
      break;
    }
  gtk_widget_set_visible (v3, self->layout_3d != 0);
  mm_surface_view_set_active (self->surface_view, self->layout_3d != 0);
}

static const char *const layout_names[] = { "one", "three", "three-3d", "3d" };

bool
mm_window_layout_valid (const char *name)
{
  for (size_t i = 0; i < G_N_ELEMENTS (layout_names); i++)
    if (g_strcmp0 (name, layout_names[i]) == 0)
      return true;
  return false;
}

void
mm_window_view3d_read_layout (MmWindow *self, const char *name)
{
  self->layout_3d = g_strcmp0 (name, "three-3d") == 0 ? 1 : g_strcmp0 (name, "3d") == 0 ? 2 : 0;
  if (self->layout_3d == 1)
    self->three_views = TRUE;
  else if (self->layout_3d == 0)
    self->three_views = g_strcmp0 (name, "three") == 0;
}

void
mm_window_set_layout (MmWindow *self, const char *name)
{
  g_return_if_fail (mm_window_layout_valid (name));
  if (self->layout_3d == 0 && (g_strcmp0 (name, "one") == 0 || g_strcmp0 (name, "three") == 0))
    {
      mm_window_set_three_views (self, g_strcmp0 (name, "three") == 0);
      return;
    }
  mm_window_view3d_read_layout (self, name);
  if (self->layout_3d == 0)
    {
      mm_window_set_three_views (self, self->three_views);
      return;
    }
  mm_window_view3d_layout (self);
  gtk_toggle_button_set_active (self->layout_button, self->layout_3d == 1);
  if (self->settings)
    g_settings_set_string (self->settings, "layout", name);
}

static void
layout_action (GtkWidget *widget, const char *action, GVariant *param)
{
  const char *name = g_variant_get_string (param, NULL);
  if (mm_window_layout_valid (name))
    mm_window_set_layout (MM_WINDOW (widget), name);
}

/* Shift+V: three planes + 3D, then 3D alone, then back to the planes. */
static void
cycle_3d_action (GtkWidget *widget, const char *action, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  mm_window_set_layout (self, self->layout_3d == 0 ? "three-3d" : self->layout_3d == 1 ? "3d" : "three");
}

static void
message_cb (MmSurfaceView *view, const char *text, MmWindow *self)
{
  mm_window_toast (self, text);
}

void
mm_window_view3d_class_init (GtkWidgetClass *klass)
{
  gtk_widget_class_install_action (klass, "win.layout", "s", layout_action);
  gtk_widget_class_install_action (klass, "win.cycle-3d", NULL, cycle_3d_action);
}

void
mm_window_view3d_init (MmWindow *self)
{
  self->surface_view = mm_surface_view_new (self->viewer);
  gtk_widget_set_hexpand (GTK_WIDGET (self->surface_view), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self->surface_view), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (self->surface_view), FALSE);
  gtk_grid_attach (self->views_grid, GTK_WIDGET (self->surface_view), 2, 0, 1, 2);
  g_signal_connect (self->surface_view, "message", G_CALLBACK (message_cb), self);
}
