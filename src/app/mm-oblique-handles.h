/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The crosshair of oblique MPR in a slice view: the lines where the two other planes cut the
 * view (any angle) and the round handles on them that turn those planes when dragged. */
#pragma once

#include "mm-reading.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Handle radius and grab distance, screen pixels. */
#define MM_OBLIQUE_HANDLE_RADIUS 6.0
#define MM_OBLIQUE_HANDLE_GRAB 12.0

/* The crosshair centre in widget coordinates for viewport vp and plane geometry g. */
void mm_oblique_handles_centre (MmReading *reading, MmViewer *viewer, MmPlane plane,
                                const MmPlaneGeometry *g, const MmViewport *vp, double *x,
                                double *y);

/* Where the four handles are (two on each line, either side of the centre, at 30 % of the
 * view's smaller side). */
void mm_oblique_handles_positions (MmReading *reading, MmViewer *viewer, MmPlane plane,
                                   const MmPlaneGeometry *g, const MmViewport *vp, int w, int h,
                                   double pos[4][2]);

/* Draw the lines (only when the planes are turned: the standard crosshair is the slice
 * view's own) and, when handles is true, the handles. */
void mm_oblique_handles_draw (GtkSnapshot *snapshot, MmReading *reading, MmViewer *viewer,
                              MmPlane plane, const MmPlaneGeometry *g, const MmViewport *vp,
                              int w, int h, bool handles);

/* Whether widget point (x, y) grabs a handle. */
bool mm_oblique_handles_hit (MmReading *reading, MmViewer *viewer, MmPlane plane,
                             const MmPlaneGeometry *g, const MmViewport *vp, int w, int h,
                             double x, double y);

/* A handle's drag: the pointer's angle about the crosshair centre at the last update. */
typedef struct
{
  bool active;
  double angle;
} MmObliqueDrag;

/* Start a drag when (x, y) grabs a handle (vp: the view's viewport, w x h its size). */
bool mm_oblique_drag_begin (MmObliqueDrag *d, MmReading *reading, MmViewer *viewer,
                            MmPlane plane, const MmViewport *vp, int w, int h, double x, double y);
/* The pointer is at (x, y): turn the other planes by the change of its angle about the
 * crosshair centre (which the turn does not move). Screen x right, y down: a positive angle
 * turns right towards down, the right-handed turn about the view's normal (right x down). */
void mm_oblique_drag_update (MmObliqueDrag *d, MmReading *reading, MmViewer *viewer,
                             MmPlane plane, const MmViewport *vp, double x, double y);

G_END_DECLS
