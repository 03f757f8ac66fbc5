/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Intensity statistics of a volume: extremes, means with and without padding, histogram. */
#pragma once

#include "mm-volume.h"

G_BEGIN_DECLS

typedef enum
{
  MM_PADDING_NONE,     /* no padding: mean_without_padding equals mean */
  MM_PADDING_TAG,      /* Pixel Padding Value (0028,0120) */
  MM_PADDING_DETECTED, /* the value filling the area outside the reconstruction circle */
} MmPaddingSource;

/* Histogram with 1 HU bins from hist_min to hist_min + n_bins - 1; float volumes are rounded
 * to the nearest HU and clamped into the int16 range for the histogram only. */
typedef struct
{
  double min, max, mean;
  double mean_without_padding; /* NaN when every voxel is padding */
  MmPaddingSource padding_source;
  double padding_value;     /* HU; meaningful unless padding_source is NONE */
  /* Padding is every value in [padding_lo, padding_hi]: the single padding_value, or with a
   * Pixel Padding Range Limit (0028,0121) the range between it and the value. */
  double padding_lo, padding_hi;
  double padding_fraction_outside_fov; /* for DETECTED: share of the out-of-circle pixels */
  uint64_t n_voxels, n_padding;
  int hist_min;
  int n_bins;
  uint64_t *hist;
} MmStats;

/* Compute statistics; the padding comes from the volume's Pixel Padding Value when it has one,
 * else it is detected outside the inscribed circle of each slice (see mm-stats.c for the rule).
 * n_threads <= 0 uses OpenMP's default. Integer volumes give bit-identical results for any
 * thread count (sums are exact in int64). */
MmStats *mm_stats_compute (const MmVolume *vol, int n_threads);
void mm_stats_free (MmStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmStats, mm_stats_free)

const char *mm_padding_source_name (MmPaddingSource src);

G_END_DECLS
