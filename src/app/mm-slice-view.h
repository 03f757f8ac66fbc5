/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSliceView: one plane of the viewer's volume, with its labels (slice, W/L, HU under the
 * pointer, orientation letters) and the mouse handling of a radiology viewer. */
#pragma once

#include "mm-annotation-layer.h"
#include "mm-viewer.h"

#include <stdio.h>

G_BEGIN_DECLS

typedef enum
{
  MM_DRAG_WINDOW_LEVEL,
  MM_DRAG_PAN,
  MM_DRAG_ZOOM,
} MmDragAction;

#define MM_TYPE_SLICE_VIEW (mm_slice_view_get_type ())
G_DECLARE_FINAL_TYPE (MmSliceView, mm_slice_view, MM, SLICE_VIEW, GtkWidget)

MmSliceView *mm_slice_view_new (MmViewer *viewer, MmPlane plane);
MmPlane mm_slice_view_get_plane (MmSliceView *self);
/* The oblique plane the view shows (its pixels are the "tool-stroke" coordinates); false on
 * the standard planes. */
bool mm_slice_view_get_oblique_plane (MmSliceView *self, MmReslicePlane *p);

/* Which drag does what, per mouse button (1 left, 2 middle, 3 right). */
void mm_slice_view_set_drag_action (MmSliceView *self, guint button, MmDragAction action);

/* With a tool active, a left drag no longer windows: it emits "tool-stroke" (u0, v0, u1, v1 in
 * plane pixels, continuous; on press u0 == u1) per pointer event and "tool-done" on release; a
 * click emits "tool-click" (u, v). cursor_mm > 0 draws a circle of that radius at the pointer. */
void mm_slice_view_set_tool (MmSliceView *self, bool active, double cursor_mm);

/* The measurements drawn over the plane; while no mask tool is active, a left press the
 * layer takes (a new measurement, a handle) is its drag, not windowing. */
void mm_slice_view_set_annotations (MmSliceView *self, MmAnnotationLayer *layer);

void mm_slice_view_step (MmSliceView *self, int delta);  /* slices, clamped */
void mm_slice_view_go_to (MmSliceView *self, int depth); /* -1: last */
void mm_slice_view_zoom_by (MmSliceView *self, double factor);
void mm_slice_view_reset (MmSliceView *self);           /* fit, no pan */
/* Zoom to ratio screen pixels per image pixel (1: "100 %"), centred. */
void mm_slice_view_set_zoom_ratio (MmSliceView *self, double ratio);
double mm_slice_view_get_zoom_ratio (MmSliceView *self);
/* The patient direction letters the slice numbers run from and to ("I", "S"). */
void mm_slice_view_get_depth_direction (MmSliceView *self, char from[4], char to[4]);
void mm_slice_view_set_crosshair (MmSliceView *self, bool shown);

/* Where the image is drawn, in widget coordinates, and the viewport mapping (for the
 * screenshot test, which recomputes the picture independently). */
void mm_slice_view_get_viewport (MmSliceView *self, MmViewport *vp);

/* Microseconds the last frame spent rendering the plane (core renderer and texture). */
gint64 mm_slice_view_get_last_render_us (MmSliceView *self);

const char *mm_slice_view_get_slice_text (MmSliceView *self);
const char *mm_slice_view_get_window_text (MmSliceView *self);
/* The texts drawn at the last frame and where (mm-slice-overlay.h), for the screenshot mode. */
void mm_slice_view_print_texts (MmSliceView *self, FILE *out, double x0, double y0);

/* For an export (mm-view-export.c) drawing the view again: bare leaves out the texts, the
 * crosshair and the handles; handles_hidden only the handles. Set back after drawing. */
void mm_slice_view_set_bare (MmSliceView *self, bool bare);
void mm_slice_view_set_handles_hidden (MmSliceView *self, bool hidden);

G_END_DECLS
