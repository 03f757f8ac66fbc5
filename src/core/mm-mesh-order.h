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

/* The mean number of vertices a FIFO post-transform cache of cache_size entries shades per
 * triangle (the ACMR: 0.5 is the best a closed mesh can do, 3 the worst). */
double mm_mesh_order_acmr (const MmMesh *mesh, int cache_size);

G_END_DECLS
