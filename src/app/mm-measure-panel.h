/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmMeasurePanel: the measuring tools (Pointer, Distance, Angle, Profile, Ellipse,
 * Rectangle, Freehand), the list of the series' measurements with their figures, the HU
 * profile of the selected line, export as JSON or CSV, and the metal mask's volume and HU
 * statistics (whole or one 3D component). */
#pragma once

#include "mm-annotation-layer.h"
#include "mm-viewer.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MM_TYPE_MEASURE_PANEL (mm_measure_panel_get_type ())
G_DECLARE_FINAL_TYPE (MmMeasurePanel, mm_measure_panel, MM, MEASURE_PANEL, GtkBox)

/* What the panel shows and edits (both borrowed, kept by the owner as long as the panel). */
void mm_measure_panel_set_layer (MmMeasurePanel *self, MmAnnotationLayer *layer, MmViewer *viewer);
/* The tool buttons show tool (the window's win.measure-tool sets it on the layer). */
void mm_measure_panel_show_tool (MmMeasurePanel *self, MmMeasureTool tool);
/* The mask changed or went: its statistics shown are out of date. */
void mm_measure_panel_mask_changed (MmMeasurePanel *self);

/* Signal "message" (const char *): a sentence for a toast. */

G_END_DECLS
