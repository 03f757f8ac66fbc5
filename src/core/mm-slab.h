/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Slabs of a standard plane: the maximum (MIP), minimum (MinIP) or mean of the planes within
 * a thickness in mm, as one plane image of HU floats. */
#pragma once

#include "mm-render.h"

G_BEGIN_DECLS

typedef enum
{
  MM_SLAB_MIP,
  MM_SLAB_MINIP,
  MM_SLAB_MEAN,
} MmSlabMode;

/* "mip", "minip", "mean"; NULL for anything else (parse returns false). */
const char *mm_slab_mode_name (MmSlabMode mode);
bool mm_slab_mode_parse (const char *name, MmSlabMode *mode);

/* The planes a slab of thickness_mm centred on plane depth holds, first..last inclusive.
 * Rule (partial planes): a plane counts when its centre lies within the slab, i.e. within
 * thickness_mm / 2 of the current plane's centre along the normal (a millionth of a
 * spacing of slack for rounding); so the slab holds 2 * floor(thickness / (2 * spacing)) + 1
 * planes, never fewer than the current one, and is cut (not shifted) at the volume's ends.
 * depth is clamped into the volume. */
void mm_slab_range (const MmVolume *vol, MmPlane plane, int depth, double thickness_mm,
                    int *first, int *last);

/* Write the slab's plane image into out: mm_plane_geometry's width x height floats, row v
 * at out + v * width, pixel (u, v) as in mm_plane_to_index. MEAN divides by the planes
 * actually held (fewer at the volume's ends). Exact for MIP and MinIP; the mean is summed in
 * int32 for an int16 volume (exact) and in double for a float one. n_threads <= 0:
 * automatic, one thread for slabs under 16 million voxels (a 30 mm slab of a 512 x 512 series
 * takes about half a millisecond on one core, and a team only adds waiting on a loaded
 * machine), OpenMP's default above. */
void mm_slab_compute (const MmVolume *vol, MmPlane plane, int depth, double thickness_mm,
                      MmSlabMode mode, float *out, int n_threads);

G_END_DECLS
