/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Taubin lambda/mu smoothing of a mesh: removes the voxel terraces without the shrinking of
 * plain Laplacian smoothing. */
#pragma once

#include "mm-mesh.h"

G_BEGIN_DECLS

/* Taubin's defaults: a shrinking step lambda then an inflating step mu per iteration,
 * pass-band k_PB = 1/lambda + 1/mu = 0.113 (G. Taubin, "A signal processing approach to fair
 * surface design", SIGGRAPH 1995). */
#define MM_MESH_TAUBIN_LAMBDA 0.5
#define MM_MESH_TAUBIN_MU (-0.53)

/* iterations lambda/mu pairs of umbrella (uniform neighbour mean) steps. The connectivity is
 * kept, so a closed, oriented manifold stays one. */
void mm_mesh_smooth_taubin (MmMesh *mesh, int iterations, double lambda, double mu,
                            int n_threads);

G_END_DECLS
