/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Triangle and vertex order for drawing: the same surface, laid out so that triangles that
 * follow each other share vertices. A GL driver shades each vertex of an indexed draw once
 * per stay in its small post-transform cache; a decimated mesh's triangles come in no useful
 * order, so Mesa's llvmpipe shaded most vertices several times (see docs/view3d.md). */
#pragma once

#include "mm-mesh.h"

G_BEGIN_DECLS

/* Sort the triangles along a Z-order (Morton) curve of their centroids, then fan them around
 * cached vertices (tipsify, a FIFO of 16), and number the vertices in the order the
 * triangles first use them (positions moved to match; unused vertices dropped). Each triangle keeps its corners and their cyclic order, so the surface,
 * its orientation, volume and area are unchanged. */
void mm_mesh_order_for_drawing (MmMesh *mesh);

/* Mesa's draw module (draw_pt_vsplit.c, Mesa 22.3) splits an indexed triangle draw into
 * segments of 1 023 indices and, before shading, looks each index up in a direct-mapped cache
 * of 256 entries emptied at every segment. A draw that starts at a multiple of this many
 * triangles keeps the segments where mm_mesh_order_corners expects them. */
#define MM_MESH_ORDER_SEGMENT_TRIANGLES 341

/* Turn each triangle's corners cyclically (the same triangle, the same winding, the same
 * picture) so that the corners found in that cache come first and the others last,
 * simulating it over the triangles in order (after mm_mesh_order_for_drawing, which puts
 * shared vertices close together). A miss anywhere in a triangle is a branch the
 * CPU cannot predict; hit, hit, then maybe a miss is one it mostly can: llvmpipe's drawing
 * thread spends ~1.5 ms less per frame on a 500 k bone (docs/view3d-llvmpipe.md). Idempotent
 * in practice (a triangle's corners rarely share a cache entry). */
void mm_mesh_order_corners (MmMesh *mesh);

/* The mean number of vertices a FIFO post-transform cache of cache_size entries shades per
 * triangle (the ACMR: 0.5 is the best a closed mesh can do, 3 the worst). */
double mm_mesh_order_acmr (const MmMesh *mesh, int cache_size);

G_END_DECLS
