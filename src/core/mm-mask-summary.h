/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a mask is, in the figures an annotator checks: voxels, volume, slices, components. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

G_BEGIN_DECLS

typedef struct
{
  uint64_t voxels;
  double volume_ml; /* voxels times the voxel volume */
  int slices;       /* axial slices holding at least one voxel */
  int components;   /* 26-connected, as metalmark-cli segment counts them */
} MmMaskSummary;

/* The summary of mask on vol's grid (vol gives the voxel volume; NULL: volume_ml 0).
 * n_threads <= 0 uses OpenMP's default. */
void mm_mask_summarize (const MmMask *mask, const MmVolume *vol, int n_threads,
                        MmMaskSummary *out);

/* The same without components (set to -1): one pass over the non-empty slices, cheap enough
 * after every edit. */
void mm_mask_summarize_counts (const MmMask *mask, const MmVolume *vol, MmMaskSummary *out);

G_END_DECLS
