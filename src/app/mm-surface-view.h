/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSurfaceView: the 3D view. The metal's parts (coloured, listed with volume and area), an
 * optional translucent bone surface, the three slice planes as outlines; rotate, pan, zoom
 * with the pointer, standard views by key, a click on a surface moves the crosshair. GL
 * through GtkGLArea, or the CPU rasteriser (mm-raster.c) when GL cannot be had or
 * MM_3D_SOFTWARE=1 is set. Meshes are built in the background (mm-surface-tasks.c). */
#pragma once

#include "mm-mesh-io.h"
#include "mm-viewer.h"

G_BEGIN_DECLS

#define MM_TYPE_SURFACE_VIEW (mm_surface_view_get_type ())
G_DECLARE_FINAL_TYPE (MmSurfaceView, mm_surface_view, MM, SURFACE_VIEW, GtkWidget)

MmSurfaceView *mm_surface_view_new (MmViewer *viewer);

/* Whether the view wants this key itself while it has the focus (the standard views A, P,
 * L, R, S, I), so that the window's single keys let it through. */
bool mm_surface_view_owns_key (guint keyval, GdkModifierType mods);

/* Shown or not: meshes are built only while the view is shown. */
void mm_surface_view_set_active (MmSurfaceView *self, bool active);

/* Emit "message" (a sentence for the user, shown as a toast by the window). */
void mm_surface_view_message (MmSurfaceView *self, const char *text);

/* True when drawing on the CPU (no GL). */
bool mm_surface_view_is_software (MmSurfaceView *self);

/* Turn to a standard view ('A', 'P', 'L', 'R', 'S', 'I'). */
void mm_surface_view_set_standard (MmSurfaceView *self, char view);

G_END_DECLS
