/* SPDX-License-Identifier: GPL-3.0-or-later */
/* 3D connected components of a binary mask (26-connected), computed on row runs. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

G_BEGIN_DECLS

typedef struct
{
  uint64_t voxels;
  int bbox_min[3], bbox_max[3]; /* inclusive, in voxel indices */
  double centroid[3];           /* mean voxel index (i, j, k) */
} MmComponent;

typedef struct _MmComponents MmComponents;

/* Label the components of mask. Labels are numbered 1..n in scan order (slice, row, column of
 * each component's first voxel), so the result is the same for any thread count. */
MmComponents *mm_components_label (const MmMask *mask, int n_threads);
/* The same for the voxels of vol within [lower, upper] HU, without building a mask. */
MmComponents *mm_components_label_range (const MmVolume *vol, double lower, double upper,
                                         int n_threads);
/* Components built slice by slice, as slices arrive (from a streaming reader), without the
 * volume in memory: each slice's voxels within [lower, upper] HU. Slices may be added from
 * several threads at once, each once; finish takes the builder. */
typedef struct _MmComponentsBuilder MmComponentsBuilder;
MmComponentsBuilder *mm_components_builder_new (const int dims[3], double lower, double upper);
void mm_components_builder_add_slice (MmComponentsBuilder *b, int k, const int16_t *hu);
MmComponents *mm_components_builder_finish (MmComponentsBuilder *b, int n_threads);

void mm_components_free (MmComponents *comps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmComponents, mm_components_free)

int mm_components_count (const MmComponents *comps);
/* Component of label (1..n). */
const MmComponent *mm_components_get (const MmComponents *comps, int label);
/* Label of the voxel, 0 for background. */
int mm_components_label_at (const MmComponents *comps, int i, int j, int k);

/* Clear from mask (which must be the labelled one) every component whose label has
 * keep[label] == false; keep has n + 1 entries, keep[0] ignored. */
void mm_components_filter (const MmComponents *comps, MmMask *mask, const bool *keep,
                           int n_threads);

/* Write slice k as value where a component with keep[label] (all, when keep is NULL) lies and 0
 * elsewhere, into out (columns x rows); returns the voxels painted. */
uint64_t mm_components_paint_slice (const MmComponents *comps, const bool *keep, int k,
                                    uint8_t *out, uint8_t value);
/* Whether slice k holds any voxel of a kept component. */
bool mm_components_slice_has (const MmComponents *comps, const bool *keep, int k);

G_END_DECLS
