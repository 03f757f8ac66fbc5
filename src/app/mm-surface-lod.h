/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the 3D view draws while the pointer turns, pans or zooms it, and at rest (shared with
 * bench/bench-view3d.c, which measures both). Mesa's llvmpipe spends a frame on the bone's
 * triangles, hardly on its pixels: each triangle costs its vertex work, setup, binning and a
 * shader call per 4x4 block it touches, and at 500 k triangles in 800x600 most cover a pixel
 * or less (bench-view3d --sweep: 66-73 ms CPU per frame at 500 k whether drawn at full or half
 * resolution, 21 ms at 50 k, 10 ms for the metal alone). So while the view moves it draws a
 * coarser bone at full resolution; at rest the full bone (docs/view3d.md). */
#pragma once

#include "mm-mesh-order.h"

/* The bone's budget at rest (the 500 k) and while moving. */
#define MM_SURFACE_BONE_TRIANGLES 500000
#define MM_SURFACE_LOD_TRIANGLES 50000
/* The resolution while moving, as a fraction of the view's pixels along each side (1: full;
 * half resolution measured no faster, see above, and the stretch costs a blit). */
#define MM_SURFACE_LOD_SCALE 1.0f
/* The bone is drawn in flushed pieces of this many triangles (mm_gl_renderer_set_flush_triangles):
 * llvmpipe rasterises a piece on its threads while the drawing thread bins the next, instead of
 * binning all 500 k and then rasterising them (bench-view3d: the wait in glFinish 10.8 -> 0.4 ms
 * a frame; the picture is the same to the bit). About 25 000, a whole number of Mesa's draw
 * segments, so that each piece starts one where mm_mesh_order_corners expects it. */
#define MM_SURFACE_PIECE_TRIANGLES (73 * MM_MESH_ORDER_SEGMENT_TRIANGLES)
