/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What mm-marching.c shares with mm-marching-splice.c: the case table and the geometry's
 * handedness. Not installed, not for other modules. */
#pragma once

#include "mm-components.h"
#include "mm-mask.h"
#include "mm-mesh.h"
#include "mm-volume.h"

#define MM_MC_MAX_TRIS 12
typedef struct
{
  int n;                          /* triangles */
  uint8_t tri[MM_MC_MAX_TRIS][3]; /* edge ids */
} MmMcCase;

/* The 256 cases by corner bits (corner c is (c & 1, c >> 1 & 1, c >> 2 & 1)), built once. */
const MmMcCase *mm_mc_cases (void);
/* Edge e = axis * 4 + q: its corner with bit axis clear. */
int mm_mc_edge_corner_low (int e);
/* Whether the index to patient mapping is a reflection (triangles then reversed). */
bool mm_mc_geometry_reflects (const MmVolume *vol);

/* The mesh of component `label` of comps (labels of crop, a mask whose (0, 0, 0) is voxel lo
 * of vol) rebuilt from old, the previous build's mesh of the same component, by marching
 * cubes in the cells around the changed voxels [clo, chi] only: old's triangles in those cells
 * are replaced, the rest kept with their vertices. The caller guarantees that the component
 * and old's component hold the same voxels outside [clo, chi]. The result is the same set of
 * triangles as meshing the component whole (vertex order differs). NULL when this does not
 * pay (the changed box is a large part of the component) or old's geometry is not what
 * marching cubes on this grid made: the caller then meshes the component whole. */
MmMesh *mm_mc_splice (const MmVolume *vol, const MmMesh *old, const MmMask *crop, const int lo[3],
                      const MmComponents *comps, int label, const int clo[3], const int chi[3]);
