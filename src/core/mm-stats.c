/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Intensity statistics: one parallel pass builds a full-range histogram, everything else
 * (min, max, exact mean, padding count) is read off it. */
#include "mm-stats.h"
#include "mm-stats-private.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#define HIST_MIN (-32768)
#define HIST_BINS MM_STATS_HIST_BINS

/* Detected padding must fill at least this share of the pixels outside the inscribed circle,
 * and lie below air (-1024 HU): air clipped at -1024 inside the body is tissue, not padding. */
#define PADDING_MIN_SHARE 0.90
#define PADDING_MAX_HU ((double) MM_STATS_PADDING_MAX_HU)

static inline int
hu_bin (double v)
{
  double r = nearbyint (v);
  if (r < HIST_MIN)
    r = HIST_MIN;
  if (r > HIST_MIN + HIST_BINS - 1)
    r = HIST_MIN + HIST_BINS - 1;
  return (int) r - HIST_MIN;
}

static void
fold_histograms (uint32_t *sub, uint64_t *total)
{
  for (int b = 0; b < HIST_BINS; b++)
    {
      total[b] += (uint64_t) sub[b] + sub[HIST_BINS + b] + sub[2 * HIST_BINS + b]
                  + sub[3 * HIST_BINS + b];
      sub[b] = sub[HIST_BINS + b] = sub[2 * HIST_BINS + b] = sub[3 * HIST_BINS + b] = 0;
    }
}

/* Histogram of the whole volume with per-thread partials merged at the end. */
static uint64_t *
volume_histogram (const MmVolume *vol, double *fsum, int n_threads)
{
  uint64_t *hist = g_new0 (uint64_t, HIST_BINS);
  size_t slice = mm_volume_slice_voxels (vol);
  int n_slices = vol->dims[2];
  double float_sum = 0.0;

#pragma omp parallel num_threads (n_threads) reduction (+ : float_sum)
  {
    /* Four interleaved 32-bit sub-histograms: long runs of one value (padding, air) would
     * otherwise chain every increment on one counter. */
    uint32_t *sub = g_new0 (uint32_t, 4 * HIST_BINS);
    uint64_t *local = g_new0 (uint64_t, HIST_BINS);
    uint64_t pending = 0;
#pragma omp for schedule (static)
    for (int k = 0; k < n_slices; k++)
      {
        switch (vol->type)
          {
          case MM_VOXEL_INT16:
            {
              const int16_t *p = (const int16_t *) vol->voxels + (size_t) k * slice;
              size_t n = 0;
              for (; n + 4 <= slice; n += 4)
                {
                  sub[(int) p[n] - HIST_MIN]++;
                  sub[HIST_BINS + (int) p[n + 1] - HIST_MIN]++;
                  sub[2 * HIST_BINS + (int) p[n + 2] - HIST_MIN]++;
                  sub[3 * HIST_BINS + (int) p[n + 3] - HIST_MIN]++;
                }
              for (; n < slice; n++)
                sub[(int) p[n] - HIST_MIN]++;
              break;
            }
          case MM_VOXEL_FLOAT32:
            {
              const float *p = (const float *) vol->voxels + (size_t) k * slice;
              for (size_t n = 0; n < slice; n++)
                {
                  sub[hu_bin (p[n])]++;
                  float_sum += p[n];
                }
              break;
            }
          }
        /* No counter can exceed the voxels counted since the last fold: fold before that
         * could reach 2^32. */
        pending += slice;
        if (pending > UINT32_MAX - slice)
          {
            fold_histograms (sub, local);
            pending = 0;
          }
      }
    fold_histograms (sub, local);
#pragma omp critical
    for (int b = 0; b < HIST_BINS; b++)
      hist[b] += local[b];
    g_free (local);
    g_free (sub);
  }
  *fsum = float_sum;
  return hist;
}

/* Padding detection looks at every step-th slice: padding is the same on every slice. */
int
mm_stats_padding_sample_step (int n_slices)
{
  return MAX (1, n_slices / 8);
}

/* Count slice k's values outside its inscribed circle (to the nearest HU) into counts, from
 * slice (int16, when given) or the volume; returns how many were counted. */
uint64_t
mm_stats_count_corners (const MmVolume *vol, const int16_t *slice, int k, uint32_t *counts)
{
  int w = vol->dims[0], h = vol->dims[1];
  double cx = 0.5 * (w - 1), cy = 0.5 * (h - 1);
  /* Two pixels beyond the inscribed circle, so the circle's own edge does not count. */
  double r = 0.5 * MIN (w, h) + 2.0;
  uint64_t total = 0;
#define CORNER_VALUE(i, j) (slice ? (double) slice[(size_t) (j) * w + (i)] : mm_volume_get (vol, i, j, k))
  for (int j = 0; j < h; j++)
    {
      double dy = j - cy;
      if (dy * dy > r * r)
        {
          for (int i = 0; i < w; i++)
            counts[hu_bin (CORNER_VALUE (i, j))]++;
          total += w;
          continue;
        }
      /* Only the parts of the row left and right of the circle. */
      double half = sqrt (r * r - dy * dy);
      for (int i = 0; i < w; i++)
        if (fabs (i - cx) > half)
          {
            counts[hu_bin (CORNER_VALUE (i, j))]++;
            total++;
          }
    }
#undef CORNER_VALUE
  return total;
}

/* The most frequent corner value is padding when it fills enough of the corners and lies
 * below air. */
static bool
padding_verdict (const uint32_t *counts, uint64_t total, double *value, double *share)
{
  if (total == 0)
    return false;
  int best = 0;
  for (int b = 1; b < HIST_BINS; b++)
    if (counts[b] > counts[best])
      best = b;
  *share = (double) counts[best] / (double) total;
  *value = best + HIST_MIN;
  return *share >= PADDING_MIN_SHARE && *value <= PADDING_MAX_HU;
}

static bool
padding_too_small (const MmVolume *vol)
{
  return vol->dims[0] < 16 || vol->dims[1] < 16;
}

/* Look for a single value filling the corners outside the reconstruction circle, as scanners
 * write there (e.g. -2048 or -3024 HU). Values are taken to the nearest HU. */
static bool
detect_padding (const MmVolume *vol, double *value, double *share)
{
  if (padding_too_small (vol))
    return false;
  g_autofree uint32_t *counts = g_new0 (uint32_t, HIST_BINS);
  uint64_t total = 0;
  int step = mm_stats_padding_sample_step (vol->dims[2]);
  for (int k = 0; k < vol->dims[2]; k += step)
    total += mm_stats_count_corners (vol, NULL, k, counts);
  return padding_verdict (counts, total, value, share);
}

/* Where the padding comes from: the volume's Pixel Padding Value (and Range Limit), else the
 * value detected outside the reconstruction circle, else none. */
void
mm_stats_choose_padding (const MmVolume *vol, const uint32_t *corner_counts, uint64_t corner_total,
                     MmStats *st)
{
  if (vol->has_padding_value)
    {
      st->padding_source = MM_PADDING_TAG;
      st->padding_value = vol->padding_value_hu;
    }
  else
    {
      double value, share = 0;
      bool found = corner_counts ? !padding_too_small (vol)
                                       && padding_verdict (corner_counts, corner_total, &value,
                                                           &share)
                                 : detect_padding (vol, &value, &share);
      if (found)
        {
          st->padding_source = MM_PADDING_DETECTED;
          st->padding_value = value;
        }
      st->padding_fraction_outside_fov = share;
    }
  st->padding_lo = st->padding_hi = st->padding_value;
  if (st->padding_source == MM_PADDING_TAG && vol->has_padding_range)
    {
      st->padding_lo = MIN (vol->padding_value_hu, vol->padding_limit_hu);
      st->padding_hi = MAX (vol->padding_value_hu, vol->padding_limit_hu);
    }
}

static void
choose_padding (const MmVolume *vol, MmStats *st)
{
  mm_stats_choose_padding (vol, NULL, 0, st);
}

MmStats *
mm_stats_compute (const MmVolume *vol, int n_threads)
{
  g_return_val_if_fail (vol != NULL, NULL);
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();

  MmStats *st = g_new0 (MmStats, 1);
  double fsum = 0.0;
  uint64_t *hist = volume_histogram (vol, &fsum, n_threads);

  int lo = 0, hi = HIST_BINS - 1;
  while (lo < HIST_BINS && hist[lo] == 0)
    lo++;
  while (hi > lo && hist[hi] == 0)
    hi--;

  st->n_voxels = mm_volume_n_voxels (vol);
  st->hist_min = lo + HIST_MIN;
  st->n_bins = hi - lo + 1;
  st->hist = g_new (uint64_t, st->n_bins);
  memcpy (st->hist, hist + lo, st->n_bins * sizeof (uint64_t));

  if (vol->type == MM_VOXEL_INT16)
    {
      /* Exact: an int64 sum of at most 2^63 / 2^15 voxels cannot overflow. */
      int64_t sum = 0;
      for (int b = lo; b <= hi; b++)
        sum += (int64_t) hist[b] * (b + HIST_MIN);
      st->min = lo + HIST_MIN;
      st->max = hi + HIST_MIN;
      st->mean = (double) sum / (double) st->n_voxels;
    }
  else
    {
      const float *p = vol->voxels;
      double mn = p[0], mx = p[0];
      size_t n = st->n_voxels;
#pragma omp parallel for num_threads (n_threads) reduction (min : mn) reduction (max : mx)
      for (size_t x = 0; x < n; x++)
        {
          mn = MIN (mn, p[x]);
          mx = MAX (mx, p[x]);
        }
      st->min = mn;
      st->max = mx;
      st->mean = fsum / (double) n;
    }
  g_free (hist);

  choose_padding (vol, st);
  st->mean_without_padding = st->mean;
  if (st->padding_source != MM_PADDING_NONE)
    {
      double plo = st->padding_lo, phi = st->padding_hi;
      if (vol->type == MM_VOXEL_INT16)
        {
          /* Exact from the integer histogram: voxels are whole HU. */
          int64_t sum = 0;
          for (int b = 0; b < st->n_bins; b++)
            {
              int v = b + st->hist_min;
              if (v >= plo && v <= phi)
                st->n_padding += st->hist[b];
              else
                sum += (int64_t) st->hist[b] * v;
            }
          uint64_t rest = st->n_voxels - st->n_padding;
          st->mean_without_padding = rest ? (double) sum / (double) rest : NAN;
        }
      else
        {
          /* Float voxels within half a unit of the padding range are padding. */
          const float *p = vol->voxels;
          size_t n = st->n_voxels;
          uint64_t count = 0;
          double sum = 0;
#pragma omp parallel for num_threads (n_threads) reduction (+ : count, sum)
          for (size_t x = 0; x < n; x++)
            {
              if (p[x] > plo - 0.5 && p[x] < phi + 0.5)
                count++;
              else
                sum += p[x];
            }
          st->n_padding = count;
          uint64_t rest = n - count;
          st->mean_without_padding = rest ? sum / (double) rest : NAN;
        }
    }
  return st;
}

void
mm_stats_free (MmStats *stats)
{
  if (stats == NULL)
    return;
  g_free (stats->hist);
  g_free (stats);
}

const char *
mm_padding_source_name (MmPaddingSource src)
{
  switch (src)
    {
    case MM_PADDING_NONE:
      return "none";
    case MM_PADDING_TAG:
      return "pixel-padding-value";
    case MM_PADDING_DETECTED:
      return "detected-outside-fov";
    }
  return "none";
}
