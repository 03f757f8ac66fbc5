/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmAnnotationLayer: the measurements of the shown series (a core MmAnnotationList) as the
 * slice views draw and edit them: the measuring tool, drawing new items with the pointer,
 * dragging their ends, selection and deletion, and keeping them in the series' project
 * folder (measurements.json) after every change. */
#pragma once

#include "mm-annotation.h"
#include "mm-viewer.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  MM_MEASURE_POINTER,
  MM_MEASURE_DISTANCE,
  MM_MEASURE_ANGLE,
  MM_MEASURE_PROFILE,
  MM_MEASURE_ELLIPSE,
  MM_MEASURE_RECTANGLE,
  MM_MEASURE_FREEHAND,
  MM_MEASURE_N_TOOLS
} MmMeasureTool;

#define MM_TYPE_ANNOTATION_LAYER (mm_annotation_layer_get_type ())
G_DECLARE_FINAL_TYPE (MmAnnotationLayer, mm_annotation_layer, MM, ANNOTATION_LAYER, GObject)

MmAnnotationLayer *mm_annotation_layer_new (MmViewer *viewer);

/* "pointer", "distance", "angle", "profile", "ellipse", "rectangle", "freehand". */
const char *mm_measure_tool_id (MmMeasureTool tool);
bool mm_measure_tool_parse (const char *id, MmMeasureTool *tool);
void mm_annotation_layer_set_tool (MmAnnotationLayer *self, MmMeasureTool tool);
MmMeasureTool mm_annotation_layer_get_tool (MmAnnotationLayer *self);

/* The series now shown: its measurements are read from project_dir (NULL: none, nothing
 * saved) and saved there after every change. A file that cannot be read is reported by the
 * "message" signal and left as it is (not overwritten until the user changes something). */
void mm_annotation_layer_set_series (MmAnnotationLayer *self, const char *project_dir);
const char *mm_annotation_layer_get_path (MmAnnotationLayer *self);

MmAnnotationList *mm_annotation_layer_get_list (MmAnnotationLayer *self);
/* Figures of an item (cached until it changes). */
const MmAnnotationFigures *mm_annotation_layer_figures (MmAnnotationLayer *self, const MmAnnotation *a);
guint mm_annotation_layer_get_selected (MmAnnotationLayer *self); /* 0: none */
void mm_annotation_layer_select (MmAnnotationLayer *self, guint id);
void mm_annotation_layer_delete (MmAnnotationLayer *self, guint id);

/* Pointer handling of a view showing plane at depth through vp (widget coordinates), or,
 * when frame is not NULL, the oblique plane frame (mm_annot_frame_from_reslice of the
 * view's plane): items of that plane only are hit, new ones are made on it. press returns
 * true when the layer takes the drag (a new item, a handle, an item moved). */
bool mm_annotation_layer_press (MmAnnotationLayer *self, MmPlane plane, int depth,
                                const MmAnnotFrame *frame, const MmViewport *vp, double x,
                                double y);
void mm_annotation_layer_motion (MmAnnotationLayer *self, const MmViewport *vp, double x, double y);
void mm_annotation_layer_release (MmAnnotationLayer *self);

/* Draw the items of plane at depth (frame NULL), or of the oblique plane frame. */
void mm_annotation_layer_draw (MmAnnotationLayer *self, cairo_t *cr, MmPlane plane, int depth,
                               const MmAnnotFrame *frame, const MmViewport *vp);

/* Write the list with its figures as JSON or CSV (atomically). */
bool mm_annotation_layer_export (MmAnnotationLayer *self, const char *path, bool csv, GError **error);

/* Signals: "changed" (guint what: 1 the drawing, 2 the list or a figure changed), "message"
 * (const char *: a sentence for a toast). */
#define MM_ANNOTATION_CHANGED_DRAWING 1u
#define MM_ANNOTATION_CHANGED_LIST 2u

G_END_DECLS
