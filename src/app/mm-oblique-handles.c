/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Oblique crosshair lines and their rotation handles, drawn with cairo over a slice view. */
#include "mm-oblique-handles.h"

#include <math.h>

void
mm_oblique_handles_centre (MmReading *reading, MmViewer *viewer, MmPlane plane,
                           const MmPlaneGeometry *g, const MmViewport *vp, double *x, double *y)
{
  double u, v;
  mm_reading_centre_in_plane (reading, viewer, plane, &u, &v);
  *x = vp->origin_x + u * g->pixel_w * vp->scale;
  *y = vp->origin_y + v * g->pixel_h * vp->scale;
}

void
mm_oblique_handles_positions (MmReading *reading, MmViewer *viewer, MmPlane plane,
                              const MmPlaneGeometry *g, const MmViewport *vp, int w, int h,
                              double pos[4][2])
{
  double cx, cy, dirs[2][2];
  mm_oblique_handles_centre (reading, viewer, plane, g, vp, &cx, &cy);
  mm_reading_cut_lines (reading, viewer, plane, dirs);
  double r = 0.3 * MIN (w, h);
  for (int k = 0; k < 4; k++)
    {
      double s = k % 2 ? -1 : 1;
      pos[k][0] = cx + s * r * dirs[k / 2][0];
      pos[k][1] = cy + s * r * dirs[k / 2][1];
    }
}

void
mm_oblique_handles_draw (GtkSnapshot *snapshot, MmReading *reading, MmViewer *viewer,
                         MmPlane plane, const MmPlaneGeometry *g, const MmViewport *vp, int w,
                         int h, bool handles)
{
  bool lines = mm_reading_is_oblique (reading);
  if (!lines && !handles)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_set_source_rgba (cr, 0.2, 0.8, 1.0, 0.7);
  double cx, cy, dirs[2][2];
  mm_oblique_handles_centre (reading, viewer, plane, g, vp, &cx, &cy);
  mm_reading_cut_lines (reading, viewer, plane, dirs);
  if (lines)
    {
      double len = hypot (w, h) + hypot (cx, cy);
      cairo_set_line_width (cr, 1);
      for (int k = 0; k < 2; k++)
        {
          cairo_move_to (cr, cx - len * dirs[k][0], cy - len * dirs[k][1]);
          cairo_line_to (cr, cx + len * dirs[k][0], cy + len * dirs[k][1]);
          cairo_stroke (cr);
        }
    }
  if (handles)
    {
      double pos[4][2];
      mm_oblique_handles_positions (reading, viewer, plane, g, vp, w, h, pos);
      for (int k = 0; k < 4; k++)
        {
          cairo_new_sub_path (cr);
          cairo_arc (cr, pos[k][0], pos[k][1], MM_OBLIQUE_HANDLE_RADIUS, 0, 2 * G_PI);
        }
      cairo_set_source_rgba (cr, 0.2, 0.8, 1.0, 0.9);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.8);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
    }
  cairo_destroy (cr);
}

bool
mm_oblique_handles_hit (MmReading *reading, MmViewer *viewer, MmPlane plane,
                        const MmPlaneGeometry *g, const MmViewport *vp, int w, int h, double x,
                        double y)
{
  double pos[4][2];
  mm_oblique_handles_positions (reading, viewer, plane, g, vp, w, h, pos);
  for (int k = 0; k < 4; k++)
    if (hypot (x - pos[k][0], y - pos[k][1]) <= MM_OBLIQUE_HANDLE_GRAB)
      return true;
  return false;
}

bool
mm_oblique_drag_begin (MmObliqueDrag *d, MmReading *reading, MmViewer *viewer, MmPlane plane,
                       const MmViewport *vp, int w, int h, double x, double y)
{
  MmPlaneGeometry g;
  mm_reading_get_geometry (reading, viewer, plane, &g);
  d->active = mm_oblique_handles_hit (reading, viewer, plane, &g, vp, w, h, x, y);
  if (d->active)
    {
      double cx, cy;
      mm_oblique_handles_centre (reading, viewer, plane, &g, vp, &cx, &cy);
      d->angle = atan2 (y - cy, x - cx);
    }
  return d->active;
}

void
mm_oblique_drag_update (MmObliqueDrag *d, MmReading *reading, MmViewer *viewer, MmPlane plane,
                        const MmViewport *vp, double x, double y)
{
  if (!d->active)
    return;
  MmPlaneGeometry g;
  double cx, cy;
  mm_reading_get_geometry (reading, viewer, plane, &g);
  mm_oblique_handles_centre (reading, viewer, plane, &g, vp, &cx, &cy);
  double a = atan2 (y - cy, x - cx);
  double turn = remainder (a - d->angle, 2 * G_PI);
  d->angle = a;
  mm_reading_rotate (reading, viewer, plane, turn);
}
