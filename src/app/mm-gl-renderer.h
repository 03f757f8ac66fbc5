/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 3D view's GL path (GtkGLArea through libepoxy): meshes in buffers on the GPU, drawn
 * as mm-raster.c draws them on the CPU (flat headlight shading, the translucent surface's
 * front-most layer, lines on top). GL 3.3 core or GLES 3.0, whichever GDK gave: the same
 * shaders with their version line chosen at run time (Mesa's llvmpipe offers both). */
#pragma once

#include "mm-raster.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MmGlRenderer MmGlRenderer;

/* Before the process makes any GL context (main, before GTK starts): when LP_NUM_THREADS is
 * unset, asks Mesa's software GL (llvmpipe; no other driver reads it) for one rasteriser
 * thread fewer than the CPUs, so that the drawing thread, which does llvmpipe's vertex work and
 * binning alone, keeps a core of its own. */
void mm_gl_renderer_prepare_software (void);

/* With the GL context current. NULL with an error when the shaders do not build. */
MmGlRenderer *mm_gl_renderer_new (bool es, GError **error);
/* With the context current (its buffers go with it). */
void mm_gl_renderer_free (MmGlRenderer *r);

/* Shade with the varying-based program the view used before the depth-slope one (for
 * bench-view3d's before / after figures); the picture is the same. */
void mm_gl_renderer_set_legacy_shading (MmGlRenderer *r, bool legacy);

/* Draw a mesh of more than n triangles in pieces of n, with a glFlush before and after each
 * (0: in one call). */
void mm_gl_renderer_set_flush_triangles (MmGlRenderer *r, int n);

/* Draw the meshes into a buffer of this fraction of the viewport's pixels along each side,
 * stretched over the viewport (linear filter), and the lines at full resolution: fewer
 * pixels to shade while the view moves. 1 (or anything out of (0, 1)): full resolution. */
void mm_gl_renderer_set_resolution (MmGlRenderer *r, float fraction);

/* Upload a mesh (or replace the one in that slot; NULL empties it). Slots are numbered by the
 * caller; the mesh is not kept. */
void mm_gl_renderer_set_mesh (MmGlRenderer *r, int slot, const MmMesh *mesh);
void mm_gl_renderer_clear (MmGlRenderer *r);

/* Draw (the caller set the viewport, in device pixels): the slots with their colours, then
 * the lines. */
void mm_gl_renderer_draw (MmGlRenderer *r, const MmCamera *cam, const int *slots,
                          const float (*rgba)[4], int n, const MmRasterLine *lines, int n_lines,
                          const float background[3]);

G_END_DECLS
