/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSliceView's instance, shared by mm-slice-view.c (drawing, texts, API) and
 * mm-slice-view-input.c (pointer input). Not for other files. */
#pragma once

#include "mm-slice-view.h"
#include "mm-slice-overlay.h"
#include "mm-oblique-handles.h"
#include "mm-reading.h"

G_BEGIN_DECLS

struct _MmSliceView
{
  GtkWidget parent_instance;

  /* owned */
  MmSliceOverlay *overlay; /* drawn texts: they never change the view's size */
  MmViewer *viewer;
  MmRenderer *renderer;
  guint8 *pixels;
  gsize pixels_size;

  MmPlane plane;
  double zoom;         /* 1: the plane fits the widget */
  double abs_zoom;     /* > 0: screen pixels per image pixel, whatever the view's size (until
                        * the user zooms by a factor or resets): zoom follows from it */
  double pan_x, pan_y; /* screen pixels */
  bool crosshair;
  MmDragAction drag_action[4];

  /* drag state */
  MmDragAction dragging;
  double drag_zoom, drag_pan_x, drag_pan_y, drag_window, drag_level;
  gulong changed_id;
  gint64 last_render_us; /* the core render and texture of the last frame */

  /* tool mode */
  bool tool_active;
  double cursor_mm;
  bool pointer_in;
  double pointer_x, pointer_y;
  bool stroking;
  double last_u, last_v;

  /* reading tools (mm-reading.c, mm-oblique-handles.c) */
  MmReading *reading;    /* the viewer's, owned reference */
  MmReadingImage *rimg;  /* owned: slab or oblique image of this view */
  gulong reading_id;
  MmObliqueDrag rotation; /* a handle being dragged */
  bool bare;             /* drawing for an export without overlays */
  bool hide_handles;     /* drawing for an export: no handles */
  /* measurements (owned reference; mm-annotation-layer.c draws and edits them) */
  MmAnnotationLayer *annotations;
  bool annotating;
};

enum
{
  INTERACTED,
  TOOL_STROKE,
  TOOL_DONE,
  TOOL_CLICK,
  N_SIGNALS
};
extern guint mm_slice_view_signals[N_SIGNALS];

/* Continuous plane coordinates (pixels) of a widget point; false without a volume. */
bool mm_slice_view_widget_to_plane_f (MmSliceView *self, double x, double y, double *u, double *v);
/* The plane pixel under a widget point; false outside the plane. */
bool mm_slice_view_widget_to_plane (MmSliceView *self, double x, double y, int *u, int *v);
/* The oblique plane this view shows, for the measurements (NULL on standard planes). */
const MmAnnotFrame *mm_slice_view_annot_frame (MmSliceView *self, MmAnnotFrame *frame);
/* A text changed: redraw, and tell assistive technologies. */
void mm_slice_view_overlay_changed (MmSliceView *self, gboolean changed);
/* The readout of the value and position under a widget point. */
void mm_slice_view_probe (MmSliceView *self, double x, double y);
/* The pointer controllers (motion, wheel, a drag per button). */
void mm_slice_view_input_init (MmSliceView *self);

G_END_DECLS
