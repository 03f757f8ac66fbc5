/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmToolsPanel: what the mask is (its label) and the annotation tools: threshold (with
 * histogram and live preview), brush, eraser and islands, hole filling, interpolation between
 * slices, clearing, undo and redo. Every operation is one step of the mask session. */
#pragma once

#include "mm-mask-session.h"
#include "mm-slice-view.h"
#include "mm-viewer.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MM_TYPE_TOOLS_PANEL (mm_tools_panel_get_type ())
G_DECLARE_FINAL_TYPE (MmToolsPanel, mm_tools_panel, MM, TOOLS_PANEL, GtkBox)

/* What the panel works on (both borrowed, kept by the owner as long as the panel): the
 * session it edits and observes, the viewer whose volume, slice and preview it uses. */
void mm_tools_panel_set_session (MmToolsPanel *self, MmMaskSession *session, MmViewer *viewer);
/* A view whose tool strokes and clicks the panel handles. */
void mm_tools_panel_add_view (MmToolsPanel *self, MmSliceView *view);
/* The viewer shows a new series: its histogram and the threshold it suggests. */
void mm_tools_panel_series_changed (MmToolsPanel *self);

/* What the window's actions do (win.tool, win.radius-up/down, win.segment). */
void mm_tools_panel_toggle_tool (MmToolsPanel *self, const char *id);
void mm_tools_panel_scale_radius (MmToolsPanel *self, double factor);
/* Ctrl+M: the default segmentation (threshold 3000 HU on every slice) as one step. */
void mm_tools_panel_segment (MmToolsPanel *self);

/* Signal "message" (const char *): a sentence for a toast. */

G_END_DECLS
