/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Decimation of a closed mesh to a triangle budget by quadric edge collapse. */
#pragma once

#include "mm-mesh.h"

G_BEGIN_DECLS

/* Collapse edges, cheapest first by the Garland-Heckbert quadric error (the summed squared
 * distance to the planes of the original triangles around the merged vertices), until the
 * mesh has at most max_triangles triangles. A collapse is refused when it would break the
 * 2-manifold (the link condition: the edge's two ends share exactly the two vertices opposite
 * it), shrink a closed part below a tetrahedron, or flip a triangle; so a closed, oriented
 * manifold stays one. Returns false (the mesh as far as it went, still valid) when no
 * allowed collapse remains above the budget. */
bool mm_mesh_decimate (MmMesh *mesh, size_t max_triangles);

G_END_DECLS
