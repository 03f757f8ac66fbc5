/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The lower HU bound suggested for segmenting metal, read off a series' histogram. */
#include "mm-threshold.h"

#define DEFAULT_LOWER 3000 /* metalmark-cli segment's default */
#define NO_METAL_BELOW 2500
#define CLIP_HU 3071

static uint64_t
bins_sum (const MmStats *st, int lo_hu, int hi_hu)
{
  /* Voxels with lo_hu <= HU < hi_hu. */
  uint64_t n = 0;
  for (int hu = MAX (lo_hu, st->hist_min); hu < hi_hu && hu - st->hist_min < st->n_bins; hu++)
    n += st->hist[hu - st->hist_min];
  return n;
}

void
mm_threshold_suggest (const MmVolume *vol, const MmStats *st, MmThresholdSuggestion *out)
{
  g_return_if_fail (vol != NULL && out != NULL);
  out->reason = MM_THRESHOLD_NOT_HU;
  out->lower = DEFAULT_LOWER;
  out->n_near = 0;
  if (st == NULL || st->n_bins <= 0 || !mm_volume_is_hu (vol) || vol->not_acquired)
    return;
  int at_clip = CLIP_HU - st->hist_min;
  if (st->max == CLIP_HU && at_clip >= 0 && at_clip < st->n_bins && st->hist[at_clip] > 100)
    {
      out->reason = MM_THRESHOLD_CLIPPED;
      out->lower = CLIP_HU;
      return;
    }
  if (bins_sum (st, NO_METAL_BELOW, G_MAXINT) == 0)
    {
      out->reason = MM_THRESHOLD_NO_METAL;
      return;
    }
  /* The emptiest 100 HU between cortical bone (up to ~2000 HU) and metal; ties go to the
   * lower window, windows reaching past the histogram's top are not tried. */
  int best = -1;
  uint64_t best_n = G_MAXUINT64;
  for (int hu = 2000; hu <= 4000 && hu + 100 - st->hist_min <= st->n_bins; hu += 50)
    {
      uint64_t n = bins_sum (st, hu, hu + 100);
      if (n < best_n)
        best_n = n, best = hu + 50;
    }
  out->reason = MM_THRESHOLD_EMPTIEST;
  out->lower = MAX (best, NO_METAL_BELOW);
  out->n_near = best < 0 ? 0 : best_n;
}
