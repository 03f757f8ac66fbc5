/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The lower HU bound suggested for segmenting metal, read off a series' histogram. */
#pragma once

#include "mm-stats.h"

G_BEGIN_DECLS

typedef enum
{
  MM_THRESHOLD_NOT_HU,     /* the values are not HU (or not an acquired image): no suggestion */
  MM_THRESHOLD_CLIPPED,    /* many voxels at 3071 HU: a 12-bit scale clips metal and bone alike */
  MM_THRESHOLD_NO_METAL,   /* no voxel above 2500 HU */
  MM_THRESHOLD_EMPTIEST,   /* the emptiest 100 HU between cortical bone and metal */
} MmThresholdReason;

typedef struct
{
  MmThresholdReason reason;
  double lower;      /* the suggested lower bound in HU (3000, the CLI's default, when none) */
  uint64_t n_near;   /* EMPTIEST: voxels within ±50 HU of lower */
} MmThresholdSuggestion;

/* The suggestion for vol (whose statistics are stats): what the threshold tool starts with.
 * Lower bounds tried: 2050 .. 4050 HU in steps of 50, never below 2500. */
void mm_threshold_suggest (const MmVolume *vol, const MmStats *stats, MmThresholdSuggestion *out);

G_END_DECLS
