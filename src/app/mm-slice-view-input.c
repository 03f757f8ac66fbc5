/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSliceView's pointer input: the HU/LPS probe under the pointer, the wheel, and drags
 * (window/level, pan, zoom, the tools' strokes and clicks, measurements, the oblique
 * handles, a click that moves the crosshair). */
#include "mm-slice-view-private.h"

#include <glib/gi18n.h>
#include <math.h>

void
mm_slice_view_probe (MmSliceView *self, double x, double y)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  int u, v;
  if (vol == NULL || !mm_slice_view_widget_to_plane (self, x, y, &u, &v))
    {
      mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_PROBE, NULL, NULL));
      return;
    }
  int ijk[3];
  double lps[3], hu;
  if (!mm_reading_image_probe (self->rimg, vol, u, v, &hu, lps, ijk))
    {
      mm_plane_to_index (vol, self->plane, u, v, mm_viewer_get_depth (self->viewer, self->plane), ijk);
      if (!mm_volume_slice_is_ready (vol, ijk[2]))
        {
          /* A progressive load has not decoded this slice yet. */
          mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_PROBE, NULL, NULL));
          return;
        }
      mm_volume_index_to_lps (vol, ijk[0], ijk[1], ijk[2], lps);
      hu = mm_volume_get (vol, ijk[0], ijk[1], ijk[2]);
    }
  g_autofree char *text = g_strdup_printf (_("%.0f %s · (%.1f, %.1f, %.1f) mm LPS · voxel (%d, %d, %d)"),
                                           hu, mm_volume_unit (vol), lps[0], lps[1], lps[2],
                                           ijk[0], ijk[1], ijk[2]);
  g_autofree char *brief = g_strdup_printf (_("%.0f %s · voxel (%d, %d, %d)"), hu, mm_volume_unit (vol),
                                            ijk[0], ijk[1], ijk[2]);
  g_autofree char *briefest = g_strdup_printf ("%.0f %s", hu, mm_volume_unit (vol));
  mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_PROBE, text, brief,
                                               briefest, NULL));
}

static void
motion_cb (GtkEventControllerMotion *c, double x, double y, MmSliceView *self)
{
  mm_slice_view_probe (self, x, y);
  self->pointer_in = true;
  self->pointer_x = x;
  self->pointer_y = y;
  if ((self->tool_active && self->cursor_mm > 0) || self->crosshair)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
leave_cb (GtkEventControllerMotion *c, MmSliceView *self)
{
  self->pointer_in = false;
  mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_PROBE, NULL, NULL));
  if (self->tool_active || self->crosshair)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
scroll_cb (GtkEventControllerScroll *c, double dx, double dy, MmSliceView *self)
{
  g_signal_emit (self, mm_slice_view_signals[INTERACTED], 0);
  GdkModifierType mods = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (c));
  if (mods & GDK_CONTROL_MASK)
    mm_slice_view_zoom_by (self, dy < 0 ? 1.1 : 1 / 1.1);
  else if (dy != 0)
    mm_slice_view_step (self, dy > 0 ? 1 : -1);
  return TRUE;
}

static void
drag_begin_cb (GtkGestureDrag *gesture, double x, double y, MmSliceView *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  g_signal_emit (self, mm_slice_view_signals[INTERACTED], 0);
  gtk_widget_grab_focus (GTK_WIDGET (self));
  self->rotation.active = false;
  if (button == 1 && self->crosshair && mm_viewer_get_volume (self->viewer))
    {
      MmViewport vp;
      mm_slice_view_get_viewport (self, &vp);
      if (mm_oblique_drag_begin (&self->rotation, self->reading, self->viewer, self->plane, &vp,
                                 gtk_widget_get_width (GTK_WIDGET (self)),
                                 gtk_widget_get_height (GTK_WIDGET (self)), x, y))
        {
          self->stroking = false;
          return;
        }
    }
  self->annotating = false;
  if (button == 1 && !self->tool_active && self->annotations
      && mm_viewer_get_volume (self->viewer))
    {
      MmViewport vp;
      MmAnnotFrame frame;
      mm_slice_view_get_viewport (self, &vp);
      self->annotating = mm_annotation_layer_press (self->annotations, self->plane,
                                                    mm_viewer_get_depth (self->viewer, self->plane),
                                                    mm_slice_view_annot_frame (self, &frame), &vp, x, y);
      if (self->annotating)
        return;
    }
  /* On a turned plane too: the tools panel paints the voxels the plane shows there
   * (mm_slice_view_get_oblique_plane). */
  if (button == 1 && self->tool_active)
    {
      double u, v;
      self->stroking = mm_slice_view_widget_to_plane_f (self, x, y, &u, &v);
      if (self->stroking)
        {
          self->last_u = u;
          self->last_v = v;
          g_signal_emit (self, mm_slice_view_signals[TOOL_STROKE], 0, u, v, u, v);
        }
      return;
    }
  self->stroking = false;
  self->dragging = self->drag_action[MIN (button, 3u)];
  self->drag_zoom = self->zoom; /* as last drawn */
  if (self->dragging == MM_DRAG_ZOOM)
    self->abs_zoom = 0; /* from here on relative to the fit */
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
  mm_viewer_get_window (self->viewer, &self->drag_window, &self->drag_level);
}

static void
drag_update_cb (GtkGestureDrag *gesture, double dx, double dy, MmSliceView *self)
{
  if (self->rotation.active || self->annotating)
    {
      double x0, y0;
      MmViewport vp;
      gtk_gesture_drag_get_start_point (gesture, &x0, &y0);
      mm_slice_view_get_viewport (self, &vp);
      if (self->rotation.active)
        mm_oblique_drag_update (&self->rotation, self->reading, self->viewer, self->plane, &vp,
                                x0 + dx, y0 + dy);
      else
        mm_annotation_layer_motion (self->annotations, &vp, x0 + dx, y0 + dy);
      return;
    }
  if (self->stroking)
    {
      double x0, y0, u, v;
      gtk_gesture_drag_get_start_point (gesture, &x0, &y0);
      self->pointer_x = x0 + dx;
      self->pointer_y = y0 + dy;
      if (mm_slice_view_widget_to_plane_f (self, x0 + dx, y0 + dy, &u, &v))
        {
          /* From the previous pointer event to this one: the stroke is a polyline. */
          g_signal_emit (self, mm_slice_view_signals[TOOL_STROKE], 0, self->last_u, self->last_v, u, v);
          self->last_u = u;
          self->last_v = v;
        }
      return;
    }
  switch (self->dragging)
    {
    case MM_DRAG_WINDOW_LEVEL:
      {
        /* Horizontal: width, vertical: level; faster for wide windows. */
        double k = MAX (1.0, self->drag_window / 256.0);
        mm_viewer_set_window (self->viewer, self->drag_window + dx * k, self->drag_level + dy * k);
        break;
      }
    case MM_DRAG_PAN:
      self->pan_x = self->drag_pan_x + dx;
      self->pan_y = self->drag_pan_y + dy;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      break;
    case MM_DRAG_ZOOM:
      self->zoom = CLAMP (self->drag_zoom * exp (-dy / 200.0), 0.1, 50.0);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      break;
    }
}

static void
drag_end_cb (GtkGestureDrag *gesture, double dx, double dy, MmSliceView *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  if (self->rotation.active)
    {
      self->rotation.active = false;
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  if (self->annotating)
    {
      self->annotating = false;
      mm_annotation_layer_release (self->annotations);
      return;
    }
  if (self->stroking)
    {
      self->stroking = false;
      g_signal_emit (self, mm_slice_view_signals[TOOL_DONE], 0);
      /* A click's tool (islands) works on a standard plane's voxel only. */
      if (hypot (dx, dy) <= 3 && !mm_reading_is_oblique (self->reading))
        g_signal_emit (self, mm_slice_view_signals[TOOL_CLICK], 0, self->last_u, self->last_v);
      return;
    }
  if (button != 1 || hypot (dx, dy) > 3)
    return;
  /* A click without a drag puts the crosshair there; the other planes follow. */
  double x0, y0;
  gtk_gesture_drag_get_start_point (gesture, &x0, &y0);
  int u, v;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  double fu, fv;
  if (vol && mm_reading_is_oblique (self->reading))
    {
      if (mm_slice_view_widget_to_plane_f (self, x0, y0, &fu, &fv))
        mm_reading_move_to_pixel (self->reading, self->viewer, self->plane, fu, fv);
    }
  else if (vol && mm_slice_view_widget_to_plane (self, x0, y0, &u, &v))
    {
      int ijk[3];
      mm_plane_to_index (vol, self->plane, u, v, mm_viewer_get_depth (self->viewer, self->plane), ijk);
      mm_viewer_set_cursor (self->viewer, ijk);
    }
}

/* A cancelled drag (grab lost) ends a measurement's drag as a release would. */
static void
drag_cancel_cb (GtkGesture *gesture, GdkEventSequence *sequence, MmSliceView *self)
{
  if (!self->annotating)
    return;
  self->annotating = false;
  mm_annotation_layer_release (self->annotations);
}

static void
add_drag (MmSliceView *self, guint button)
{
  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), button);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  g_signal_connect (drag, "cancel", G_CALLBACK (drag_cancel_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
}

void
mm_slice_view_input_init (MmSliceView *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL
                                                                | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  for (guint b = 1; b <= 3; b++)
    add_drag (self, b);
}

