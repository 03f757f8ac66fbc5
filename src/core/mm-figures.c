/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The figures `info` prints (extremes, means with and without padding, padding count) without
 * a histogram: one vectorised pass over a volume, or, for a series streamed slice by slice,
 * each slice's figures taken as it is decoded (see mm-figures.h). */
#include "mm-figures.h"
#include "mm-stats-private.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* Voxels summed per int32 block: 16384 * 32768 = 2^29 cannot overflow. */
#define FIGURES_BLOCK 16384

/* The block loops are built for AVX2 and for the x86-64 baseline, the CPU picking one at
 * load time (SSE2 lacks 32-bit min/max). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MM_CLONES __attribute__ ((target_clones ("avx2", "default")))
#else
#define MM_CLONES
#endif

typedef struct
{
  int32_t mn, mx, s, ps, pc;
} BlockInt16;

MM_CLONES static BlockInt16
block_int16 (const int16_t *p, size_t len, int plo, int phi)
{
  int32_t s = 0, ps = 0, pc = 0, bmn = INT16_MAX, bmx = INT16_MIN;
#pragma omp simd reduction (min : bmn) reduction (max : bmx) reduction (+ : s, ps, pc)
  for (size_t x = 0; x < len; x++)
    {
      int32_t v = p[x];
      int32_t in = (v >= plo) & (v <= phi);
      bmn = MIN (bmn, v);
      bmx = MAX (bmx, v);
      s += v;
      pc += in;
      ps += in ? v : 0;
    }
  return (BlockInt16){ bmn, bmx, s, ps, pc };
}

typedef struct
{
  float mn, mx;
  double s, ps;
  uint32_t pc;
} BlockFloat;

MM_CLONES static BlockFloat
block_float (const float *p, size_t len, float lo, float hi)
{
  double s = 0, ps = 0;
  uint32_t pc = 0;
  float bmn = INFINITY, bmx = -INFINITY;
#pragma omp simd reduction (min : bmn) reduction (max : bmx) reduction (+ : s, ps, pc)
  for (size_t x = 0; x < len; x++)
    {
      /* Branch-free (no && and no MIN/MAX on floats), or the loop stays scalar. */
      float v = p[x];
      uint32_t in = (uint32_t) (v > lo) & (uint32_t) (v < hi);
      bmn = v < bmn ? v : bmn;
      bmx = v > bmx ? v : bmx;
      s += (double) v;
      pc += in;
      ps += (double) (in ? v : 0.0f);
    }
  return (BlockFloat){ bmn, bmx, s, ps, pc };
}

/* Extremes, sum and padding of an int16 volume in one vectorised pass (no histogram):
 * exact, as the histogram's figures are. Padding is [plo, phi] in whole HU. */
static void
figures_int16 (const MmVolume *vol, int n_threads, int plo, int phi, MmStats *st)
{
  const int16_t *vox = vol->voxels;
  size_t n = mm_volume_n_voxels (vol);
  size_t n_blocks = (n + FIGURES_BLOCK - 1) / FIGURES_BLOCK;
  int mn = INT16_MAX, mx = INT16_MIN;
  int64_t sum = 0, pad_sum = 0, pad_count = 0;
#pragma omp parallel for num_threads (n_threads) schedule (static) \
    reduction (min : mn) reduction (max : mx) reduction (+ : sum, pad_sum, pad_count)
  for (size_t b = 0; b < n_blocks; b++)
    {
      const int16_t *p = vox + b * FIGURES_BLOCK;
      size_t len = MIN ((size_t) FIGURES_BLOCK, n - b * FIGURES_BLOCK);
      BlockInt16 r = block_int16 (p, len, plo, phi);
      mn = MIN (mn, r.mn);
      mx = MAX (mx, r.mx);
      sum += r.s;
      pad_sum += r.ps;
      pad_count += r.pc;
    }
  st->min = mn;
  st->max = mx;
  st->mean = (double) sum / (double) n;
  st->n_padding = pad_count;
  uint64_t rest = n - (uint64_t) pad_count;
  st->mean_without_padding = rest ? (double) (sum - pad_sum) / (double) rest : NAN;
}

/* The same for float voxels; padding is within half a unit of [plo, phi], as in
 * mm_stats_compute. */
static void
figures_float (const MmVolume *vol, int n_threads, double plo, double phi, MmStats *st)
{
  const float *vox = vol->voxels;
  size_t n = mm_volume_n_voxels (vol);
  size_t n_blocks = (n + FIGURES_BLOCK - 1) / FIGURES_BLOCK;
  float mn = INFINITY, mx = -INFINITY;
  double sum = 0, pad_sum = 0;
  uint64_t pad_count = 0;
  const float lo = (float) (plo - 0.5), hi = (float) (phi + 0.5);
#pragma omp parallel for num_threads (n_threads) schedule (static) \
    reduction (min : mn) reduction (max : mx) reduction (+ : sum, pad_sum, pad_count)
  for (size_t b = 0; b < n_blocks; b++)
    {
      const float *p = vox + b * FIGURES_BLOCK;
      size_t len = MIN ((size_t) FIGURES_BLOCK, n - b * FIGURES_BLOCK);
      BlockFloat r = block_float (p, len, lo, hi);
      mn = MIN (mn, r.mn);
      mx = MAX (mx, r.mx);
      sum += r.s;
      pad_sum += r.ps;
      pad_count += r.pc;
    }
  st->min = mn;
  st->max = mx;
  st->mean = sum / (double) n;
  st->n_padding = pad_count;
  uint64_t rest = n - pad_count;
  st->mean_without_padding = rest ? (sum - pad_sum) / (double) rest : NAN;
}

/* An int16 slice's figures: extremes, exact sum, and how many voxels hold its minimum. */
typedef struct
{
  bool has_figures;
  int32_t fig_min, fig_max;
  uint32_t fig_n_min;
  int64_t fig_sum;
} SliceFigures;

/* The figures from the reader's per-slice ones, when every slice has them and the padding
 * (if any) is the single value that is the volume's minimum, as scanners write it: then the
 * padding voxels are exactly those at each slice's minimum where that is the volume's.
 * False (nothing set) otherwise: the caller reads the voxels. */
static bool
figures_from_slices (const SliceFigures *figs, int n_slices, bool pad, MmStats *st)
{
  int32_t mn = INT16_MAX, mx = INT16_MIN;
  int64_t sum = 0;
  for (int k = 0; k < n_slices; k++)
    {
      const SliceFigures *s = &figs[k];
      if (!s->has_figures)
        return false;
      mn = MIN (mn, s->fig_min);
      mx = MAX (mx, s->fig_max);
      sum += s->fig_sum;
    }
  uint64_t n = st->n_voxels, pad_count = 0;
  if (pad)
    {
      if (st->padding_lo != st->padding_hi || st->padding_lo != mn)
        return false;
      for (int k = 0; k < n_slices; k++)
        if (figs[k].fig_min == mn)
          pad_count += figs[k].fig_n_min;
    }
  st->min = mn;
  st->max = mx;
  st->mean = (double) sum / (double) n;
  st->n_padding = pad_count;
  uint64_t rest = n - pad_count;
  int64_t pad_sum = (int64_t) pad_count * mn;
  st->mean_without_padding = rest ? (double) (sum - pad_sum) / (double) rest : NAN;
  return true;
}

MmStats *
mm_figures_compute (const MmVolume *vol, int n_threads)
{
  g_return_val_if_fail (vol != NULL, NULL);
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  MmStats *st = g_new0 (MmStats, 1);
  st->n_voxels = mm_volume_n_voxels (vol);
  mm_stats_choose_padding (vol, NULL, 0, st);
  bool pad = st->padding_source != MM_PADDING_NONE;
  if (vol->type == MM_VOXEL_INT16)
    {
      /* Whole HU in [padding_lo, padding_hi]; an empty range when there is no padding. */
      int plo = pad ? (int) CLAMP (ceil (st->padding_lo), INT16_MIN - 1, INT16_MAX + 1) : 1;
      int phi = pad ? (int) CLAMP (floor (st->padding_hi), INT16_MIN - 1, INT16_MAX + 1) : 0;
      figures_int16 (vol, n_threads, plo, phi, st);
    }
  else
    figures_float (vol, n_threads, pad ? st->padding_lo : INFINITY,
                   pad ? st->padding_hi : -INFINITY, st);
  if (!pad)
    st->mean_without_padding = st->mean;
  return st;
}

/* Figures of a streamed series. */
/* A float slice's figures: extremes, sum, and the voxels within half a unit of its minimum
 * to the nearest HU (the padding rule for float volumes) with their sum. */
typedef struct
{
  bool has;
  float mn, mx;
  double sum, at_min_sum;
  uint64_t at_min;
} FloatFigures;

/* Values a detected padding can take, HU -32768 .. MM_STATS_PADDING_MAX_HU: every voxel in
 * that range but at its slice's minimum is counted by value (few in a CT: artefacts below
 * the padding), so the padding count is known whatever value the detection picks. */
#define LOW_BINS (MM_STATS_PADDING_MAX_HU + 32768 + 1)

struct _MmFiguresBuilder
{
  GMutex lock;
  int dims[3];
  SliceFigures *figs;    /* int16 slices, dims[2] */
  FloatFigures *ffigs;   /* float slices, dims[2] */
  uint32_t *corners;     /* MM_STATS_HIST_BINS corner counts of the sampled slices */
  uint64_t corner_total;
  uint64_t *low;         /* LOW_BINS: voxels by value (nearest HU), not at a slice minimum */
  double *low_sum;       /* LOW_BINS: their sum (float slices) */  /* The last slice's minimum (whole HU; NO_GUESS before the first): a series' slices share
   * their minimum (the padding), so a slice is read once when it has it (slice_int16,
   * slice_float). Only a hint: a slice with another minimum is read again. Atomic, as
   * slices come from several threads. */
  gint guess;
};

#define NO_GUESS G_MININT

MmFiguresBuilder *
mm_figures_builder_new (void)
{
  MmFiguresBuilder *b = g_new0 (MmFiguresBuilder, 1);
  g_mutex_init (&b->lock);
  b->guess = NO_GUESS;
  return b;
}

static bool
builder_start (MmFiguresBuilder *b, int k, const int dims[3])
{
  g_mutex_lock (&b->lock);
  if (b->figs == NULL)
    {
      memcpy (b->dims, dims, sizeof b->dims);
      b->figs = g_new0 (SliceFigures, dims[2]);
      b->ffigs = g_new0 (FloatFigures, dims[2]);
      b->corners = g_new0 (uint32_t, MM_STATS_HIST_BINS);
      b->low = g_new0 (uint64_t, LOW_BINS);
      b->low_sum = g_new0 (double, LOW_BINS);
    }
  g_mutex_unlock (&b->lock);
  g_return_val_if_fail (k >= 0 && k < b->dims[2] && memcmp (dims, b->dims, sizeof b->dims) == 0,
                        false);
  return true;
}

/* An int16 slice in one pass, for when its minimum is g: extremes, sum, the voxels equal to
 * g and those in [g, top] (the figures and the low bins' count at once). */
typedef struct
{
  int32_t mn, mx, s, eq, in;
} SliceInt16;

MM_CLONES static SliceInt16
slice_int16 (const int16_t *p, size_t len, int32_t g, int32_t top)
{
  int32_t s = 0, eq = 0, in = 0, bmn = INT16_MAX, bmx = INT16_MIN;
#pragma omp simd reduction (min : bmn) reduction (max : bmx) reduction (+ : s, eq, in)
  for (size_t x = 0; x < len; x++)
    {
      int32_t v = p[x];
      bmn = MIN (bmn, v);
      bmx = MAX (bmx, v);
      s += v;
      eq += v == g;
      in += (v >= g) & (v <= top);
    }
  return (SliceInt16){ bmn, bmx, s, eq, in };
}

/* slice_int16 over a whole slice, block by block: the extremes, the sum, how many voxels
 * equal g and how many lie in [g, MM_STATS_PADDING_MAX_HU] (wide: a slice's sum does not fit
 * a block's 32 bits). */
typedef struct
{
  int32_t mn, mx;
  int64_t s;
  uint64_t eq, in;
} SliceTotals;

static SliceTotals
int16_pass (const int16_t *hu, size_t n, int32_t g)
{
  SliceTotals t = { INT16_MAX, INT16_MIN, 0, 0, 0 };
  for (size_t x = 0; x < n; x += FIGURES_BLOCK)
    {
      SliceInt16 r = slice_int16 (hu + x, MIN ((size_t) FIGURES_BLOCK, n - x), g,
                                  MM_STATS_PADDING_MAX_HU);
      t.mn = MIN (t.mn, r.mn);
      t.mx = MAX (t.mx, r.mx);
      t.s += r.s;
      t.eq += (uint32_t) r.eq;
      t.in += (uint32_t) r.in;
    }
  return t;
}

/* A float slice in one pass, for when its minimum rounds to a guessed value: block_float's
 * figures with the padding bound top (below) and, within (glo, ghi), count and sum (at). */
typedef struct
{
  float mn, mx;
  double s, as;
  uint32_t below, at;
} SliceFloat;

MM_CLONES static SliceFloat
slice_float (const float *p, size_t len, float top, float glo, float ghi)
{
  double s = 0, as = 0;
  uint32_t below = 0, at = 0;
  float bmn = INFINITY, bmx = -INFINITY;
#pragma omp simd reduction (min : bmn) reduction (max : bmx) reduction (+ : s, as, below, at)
  for (size_t x = 0; x < len; x++)
    {
      /* Branch-free, as in block_float; the same expressions, so the same figures. */
      float v = p[x];
      uint32_t b = (uint32_t) (v > -INFINITY) & (uint32_t) (v < top);
      uint32_t a = (uint32_t) (v > glo) & (uint32_t) (v < ghi);
      bmn = v < bmn ? v : bmn;
      bmx = v > bmx ? v : bmx;
      s += (double) v;
      below += b;
      at += a;
      as += (double) (a ? v : 0.0f);
    }
  return (SliceFloat){ bmn, bmx, s, as, below, at };
}

/* The padding detection's corner counts of slice k, when it is one of the sampled slices. */
static void
builder_corners (MmFiguresBuilder *b, int k, const void *hu, MmVoxelType type)
{
  if (k % mm_stats_padding_sample_step (b->dims[2]) != 0)
    return;
  /* The slice as a one-slice volume: the corners of slice k are those of slice 0 of it. */
  MmVolume one = { .dims = { b->dims[0], b->dims[1], 1 }, .type = type, .voxels = (void *) hu };
  g_autofree uint32_t *counts = g_new0 (uint32_t, MM_STATS_HIST_BINS);
  uint64_t total = mm_stats_count_corners (&one, NULL, 0, counts);
  g_mutex_lock (&b->lock);
  for (int v = 0; v < MM_STATS_HIST_BINS; v++)
    b->corners[v] += counts[v];
  b->corner_total += total;
  g_mutex_unlock (&b->lock);
}

void
mm_figures_builder_add_slice (MmFiguresBuilder *b, int k, const int16_t *hu, const int dims[3])
{
  if (!builder_start (b, k, dims))
    return;
  size_t n = (size_t) dims[0] * dims[1];
  SliceFigures *f = &b->figs[k];
  /* One pass when the slice's minimum is the last slice's (the usual case); else a second
   * pass with the minimum the first one found, which then counts exactly as a hit does. */
  int32_t g = g_atomic_int_get (&b->guess);
  SliceTotals t = int16_pass (hu, n, g == NO_GUESS ? INT16_MIN : g);
  if (n > 0 && t.mn != g)
    {
      t = int16_pass (hu, n, t.mn);
      g_atomic_int_set (&b->guess, t.mn);
    }
  uint64_t eq = t.eq, in = t.in;
  *f = (SliceFigures){ n > 0 && eq <= UINT32_MAX, t.mn, t.mx,
                       (uint32_t) MIN (eq, (uint64_t) UINT32_MAX), t.s };
  builder_corners (b, k, hu, MM_VOXEL_INT16);
  if (n == 0 || f->fig_min > MM_STATS_PADDING_MAX_HU)
    return;
  /* Values that could be padding other than the slice's minimum (counted already). */
  uint64_t n_low = in - eq;
  if (n_low == 0)
    return;
  int lo = f->fig_min + 32768;
  g_autofree uint32_t *local = g_new0 (uint32_t, LOW_BINS - lo);
  for (size_t x = 0; x < n; x++)
    if (hu[x] <= MM_STATS_PADDING_MAX_HU && hu[x] != f->fig_min)
      local[hu[x] + 32768 - lo]++;
  g_mutex_lock (&b->lock);
  for (int v = lo; v < LOW_BINS; v++)
    b->low[v] += local[v - lo];
  g_mutex_unlock (&b->lock);
}

void
mm_figures_builder_add_float_slice (MmFiguresBuilder *b, int k, const float *hu,
                                    const int dims[3])
{
  if (!builder_start (b, k, dims))
    return;
  size_t n = (size_t) dims[0] * dims[1];
  FloatFigures *f = &b->ffigs[k];
  /* One pass: extremes, sum, and how many values could be padding (below top). */
  const float top = MM_STATS_PADDING_MAX_HU + 0.5f;
  /* The voxels near the minimum counted in the same pass when it rounds to the last
   * slice's (the usual case), else in a second pass. */
  int32_t g = g_atomic_int_get (&b->guess);
  const float gf = g == NO_GUESS ? NAN : (float) g;
  float mn = INFINITY, mx = -INFINITY;
  double sum = 0;
  uint64_t below = 0;
  uint64_t at_min = 0;
  double at_min_sum = 0;
  for (size_t x = 0; x < n; x += FIGURES_BLOCK)
    {
      SliceFloat r = slice_float (hu + x, MIN ((size_t) FIGURES_BLOCK, n - x), top, gf - 0.5f,
                                  gf + 0.5f);
      mn = MIN (mn, r.mn);
      mx = MAX (mx, r.mx);
      sum += r.s;
      below += r.below;
      at_min += r.at;
      at_min_sum += r.as;
    }
  float r0 = nearbyintf (mn);
  bool once = g != NO_GUESS && r0 == gf;
  if (!once && isfinite (r0) && fabsf (r0) < 1e9f)
    g_atomic_int_set (&b->guess, (gint) r0);
  if (!once)
    {
      at_min = 0;
      at_min_sum = 0;
    }
  /* The same function as a hit's pass, so the sum near the minimum is the same whichever
   * slice finished first (the order of the threads). */
  for (size_t x = 0; x < n && !once; x += FIGURES_BLOCK)
    {
      SliceFloat r = slice_float (hu + x, MIN ((size_t) FIGURES_BLOCK, n - x), top, r0 - 0.5f,
                                  r0 + 0.5f);
      at_min += r.at;
      at_min_sum += r.as;
    }
  *f = (FloatFigures){ n > 0, mn, mx, sum, at_min_sum, at_min };
  builder_corners (b, k, hu, MM_VOXEL_FLOAT32);
  if (r0 > MM_STATS_PADDING_MAX_HU || !isfinite (r0))
    return;
  /* Values within half a unit of a possible padding value other than the slice's minimum's;
   * values exactly halfway are padding for no value (the rule's bounds are strict). */
  if (below == at_min)
    return; /* every value below top is at the slice's minimum (the usual padding) */
  int lo = (int) r0 + 32768;
  g_autofree uint32_t *local = NULL;
  g_autofree double *local_sum = NULL;
  for (size_t x = 0; x < n; x++)
    {
      float v = hu[x];
      if (!(v < top) || (v > r0 - 0.5f && v < r0 + 0.5f))
        continue;
      float r = nearbyintf (v);
      if (fabsf (v - r) == 0.5f || r < -32768)
        continue;
      if (local == NULL)
        {
          local = g_new0 (uint32_t, LOW_BINS - lo);
          local_sum = g_new0 (double, LOW_BINS - lo);
        }
      local[(int) r + 32768 - lo]++;
      local_sum[(int) r + 32768 - lo] += v;
    }
  if (local == NULL)
    return;
  g_mutex_lock (&b->lock);
  for (int v = lo; v < LOW_BINS; v++)
    {
      b->low[v] += local[v - lo];
      b->low_sum[v] += local_sum[v - lo];
    }
  g_mutex_unlock (&b->lock);
}

/* The builder's int16 figures: as figures_from_slices, and a padding value at or below
 * MM_STATS_PADDING_MAX_HU that is not the volume's minimum is counted from the low bins. */
static bool
builder_int16_figures (const MmFiguresBuilder *b, bool pad, MmStats *st)
{
  if (figures_from_slices (b->figs, b->dims[2], pad, st))
    return true;
  if (!pad || st->padding_lo != st->padding_hi || st->padding_lo > MM_STATS_PADDING_MAX_HU
      || st->padding_lo != nearbyint (st->padding_lo) || st->padding_lo < -32768)
    return false;
  if (!figures_from_slices (b->figs, b->dims[2], false, st))
    return false; /* a slice missing */
  int p = (int) st->padding_lo;
  uint64_t pad_count = b->low[p + 32768];
  for (int k = 0; k < b->dims[2]; k++)
    if (b->figs[k].fig_min == p)
      pad_count += b->figs[k].fig_n_min;
  int64_t sum = 0;
  for (int k = 0; k < b->dims[2]; k++)
    sum += b->figs[k].fig_sum;
  uint64_t rest = st->n_voxels - pad_count;
  st->n_padding = pad_count;
  st->mean_without_padding = rest ? (double) (sum - (int64_t) pad_count * p) / (double) rest
                                  : NAN;
  return true;
}

/* As figures_from_slices for float slices: the padding (if any) must be a single value,
 * the volume's minimum to the nearest HU; its voxels are then those within half a unit of
 * it, all in slices whose own minimum rounds to it. */
static bool
float_figures_from_slices (const FloatFigures *figs, int n_slices, const uint64_t *low,
                           const double *low_sum, bool pad, MmStats *st)
{
  float mn = INFINITY, mx = -INFINITY;
  double sum = 0;
  for (int k = 0; k < n_slices; k++)
    {
      if (!figs[k].has)
        return false;
      mn = MIN (mn, figs[k].mn);
      mx = MAX (mx, figs[k].mx);
      sum += figs[k].sum;
    }
  uint64_t n = st->n_voxels, pad_count = 0;
  double pad_sum = 0;
  if (pad)
    {
      double p = st->padding_lo;
      if (st->padding_lo != st->padding_hi || p != nearbyint (p) || p < -32768
          || (p > MM_STATS_PADDING_MAX_HU && p != nearbyintf (mn)))
        return false;
      for (int k = 0; k < n_slices; k++)
        if (nearbyintf (figs[k].mn) == p)
          {
            pad_count += figs[k].at_min;
            pad_sum += figs[k].at_min_sum;
          }
      if (p <= MM_STATS_PADDING_MAX_HU)
        {
          pad_count += low[(int) p + 32768];
          pad_sum += low_sum[(int) p + 32768];
        }
    }
  st->min = mn;
  st->max = mx;
  st->mean = sum / (double) n;
  st->n_padding = pad_count;
  uint64_t rest = n - pad_count;
  st->mean_without_padding = rest ? (sum - pad_sum) / (double) rest : NAN;
  return true;
}

MmStats *
mm_figures_builder_finish (MmFiguresBuilder *b, const MmVolume *vol)
{
  g_return_val_if_fail (b != NULL && vol != NULL, NULL);
  MmStats *st = NULL;
  if (b->figs && memcmp (b->dims, vol->dims, sizeof b->dims) == 0)
    {
      st = g_new0 (MmStats, 1);
      st->n_voxels = mm_volume_n_voxels (vol);
      mm_stats_choose_padding (vol, b->corners, b->corner_total, st);
      bool pad = st->padding_source != MM_PADDING_NONE;
      bool ok = vol->type == MM_VOXEL_INT16
                    ? builder_int16_figures (b, pad, st)
                    : float_figures_from_slices (b->ffigs, vol->dims[2], b->low, b->low_sum,
                                                 pad, st);
      if (!ok)
        g_clear_pointer (&st, mm_stats_free);
      else if (!pad)
        st->mean_without_padding = st->mean;
    }
  return st;
}

void
mm_figures_builder_free (MmFiguresBuilder *b)
{
  if (b == NULL)
    return;
  g_mutex_clear (&b->lock);
  g_free (b->figs);
  g_free (b->ffigs);
  g_free (b->corners);
  g_free (b->low);
  g_free (b->low_sum);
  g_free (b);
}
