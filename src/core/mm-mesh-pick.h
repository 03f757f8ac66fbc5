/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Picking: where a ray first meets a set of triangle meshes (the 3D view's click). */
#pragma once

#include "mm-mesh.h"

G_BEGIN_DECLS

typedef struct
{
  int mesh;        /* index into the meshes given */
  size_t triangle; /* triangle of that mesh */
  double t;        /* distance along the ray (dir is unit: mm) */
  double point[3]; /* origin + t dir */
} MmMeshHit;

/* The nearest intersection with t > 0 of the ray (origin, dir) with the triangles of
 * meshes[0..n) (either side of a triangle counts; NULL meshes are skipped). Moeller-Trumbore
 * on every triangle, split over OpenMP threads: 30 k triangles of metal take well under a
 * millisecond, 500 k of bone a few. False when the ray meets nothing. */
bool mm_mesh_pick (const MmMesh *const *meshes, int n, const double origin[3],
                   const double dir[3], MmMeshHit *hit);

G_END_DECLS
