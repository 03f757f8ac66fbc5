/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Slabs of an oblique plane: the maximum (MIP), minimum (MinIP) or mean of trilinear samples
 * taken along the plane's normal, the oblique counterpart of mm-slab. */
#pragma once

#include "mm-reslice.h"
#include "mm-slab.h"

G_BEGIN_DECLS

/* The sample step along the normal when step_mm <= 0: the volume's smallest spacing, so no
 * voxel layer is skipped in any direction. */
double mm_reslice_slab_step (const MmVolume *vol, double step_mm);

/* Number of samples per pixel, 2 * m + 1 with m = floor(thickness / (2 * step)) (a millionth
 * of a step of slack; m is capped at 4096, which callers avoid by a sane step): the samples at offsets k * step, k = -m..m, from the plane, i.e. the
 * same partial-plane rule as mm_slab_range (a sample counts when it lies within thickness / 2
 * of the plane). */
int mm_reslice_slab_samples (double thickness_mm, double step);

/* Fill out (p->width x p->height floats) with the slab of thickness_mm centred on p: at each
 * pixel the samples p's centre + k * step * normal (mm_reslice_plane_normal), each trilinear
 * as mm_reslice_volume gives it. Samples outside the volume's box of voxel centres do not
 * count (the mean divides by those inside); a pixel with none gets outside. scratch may be
 * NULL (then allocated for the call) or hold width x height floats. */
void mm_reslice_slab (const MmVolume *vol, const MmReslicePlane *p, double thickness_mm,
                      double step_mm, MmSlabMode mode, float outside, float *out, float *scratch,
                      int n_threads);

G_END_DECLS
