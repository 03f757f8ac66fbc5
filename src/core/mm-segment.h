/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Metal segmentation: HU threshold, 3D components, small components dropped. */
#pragma once

#include "mm-components.h"
#include "mm-mask.h"
#include "mm-volume.h"

G_BEGIN_DECLS

#define MM_METAL_THRESHOLD_DEFAULT 3000.0
#define MM_METAL_MIN_VOLUME_DEFAULT 0.0

typedef struct
{
  double lower;          /* HU >= lower is metal */
  bool has_upper;
  double upper;          /* and HU <= upper, when has_upper */
  double min_volume_mm3; /* components below this volume are dropped; 0 keeps all */
} MmSegmentParams;

typedef struct
{
  uint64_t metal_voxels;
  double volume_ml;
  int components;         /* kept */
  int components_dropped; /* below min_volume_mm3 */
  uint64_t voxels_dropped;
  int slices_with_metal;
} MmSegmentResult;

void mm_segment_params_init (MmSegmentParams *params);

/* Voxels in [lower, upper] as a 0/1 mask, no component filtering (the threshold tool's
 * preview uses this). */
MmMask *mm_segment_threshold (const MmVolume *vol, const MmSegmentParams *params, int n_threads);

/* Threshold and label the 26-connected components straight from the volume (no mask is
 * built); *keep_out (g_free) says which labels survive min_volume_mm3. */
MmComponents *mm_segment_metal_components (const MmVolume *vol, const MmSegmentParams *params,
                                           MmSegmentResult *result, bool **keep_out,
                                           int n_threads);

/* Which components of comps (labelled from vol's grid) survive min_volume_mm3, and the
 * result figures: keep[1..n] (g_free). vol's voxels are not read. */
bool *mm_segment_select (const MmComponents *comps, const MmVolume *vol,
                         const MmSegmentParams *params, MmSegmentResult *result);

/* Threshold, then drop 26-connected components smaller than min_volume_mm3. */
MmMask *mm_segment_metal (const MmVolume *vol, const MmSegmentParams *params,
                          MmSegmentResult *result, int n_threads);

G_END_DECLS
