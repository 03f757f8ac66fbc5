/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ROI statistics. Plane ROIs are rasterised row by row into runs of pixel centres (the
 * rule is in mm-roi.h); the figures come from the gathered values: two-pass mean and SD in
 * double, the median by selection, so an empty ROI is a count of 0, never a division by
 * it. */
#include "mm-roi.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Columns [*lo, *hi] of row-run candidates: smallest u with u + 0.5 >= a, largest with
 * u + 0.5 <= b (inclusive) or < b (exclusive). Clipped to the image by the caller. */
/* Beyond this no image reaches, and below it doubles still step by whole pixels (the loops
 * below need u - 1 != u). */
#define COORD_LIMIT 1e9

static int
first_centre_at_or_after (double a)
{
  /* NaN (an overflowing crossing) starts past every pixel: an empty run. */
  a = isnan (a) ? COORD_LIMIT : CLAMP (a, -COORD_LIMIT, COORD_LIMIT);
  double u = ceil (a - 0.5);
  while (u - 0.5 >= a)
    u--;
  while (u + 0.5 < a)
    u++;
  return u < -1 ? -1 : u > G_MAXINT / 2 ? G_MAXINT / 2 : (int) u;
}

static int
last_centre_before (double b, bool inclusive)
{
  b = isnan (b) ? -COORD_LIMIT : CLAMP (b, -COORD_LIMIT, COORD_LIMIT);
  double u = floor (b - 0.5);
  while (inclusive ? u + 1.5 <= b : u + 1.5 < b)
    u++;
  while (inclusive ? u + 0.5 > b : u + 0.5 >= b)
    u--;
  return u < -1 ? -1 : u > G_MAXINT / 2 ? G_MAXINT / 2 : (int) u;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Calls run (y, u0, u1) for every run of ROI pixels in row y, u0..u1 inclusive, clipped to
 * the image. */
typedef void (*RunFunc) (int y, int u0, int u1, gpointer data);

static bool
roi_valid (const MmRoi *roi)
{
  if (roi->shape == MM_ROI_POLYGON)
    {
      if (roi->points == NULL || roi->n_points < 3)
        return false;
      for (int p = 0; p < 2 * roi->n_points; p++)
        if (!isfinite (roi->points[p]))
          return false;
      return true;
    }
  return isfinite (roi->x0) && isfinite (roi->y0) && isfinite (roi->x1) && isfinite (roi->y1);
}

static void
for_each_run (const MmRoi *roi, int width, int height, RunFunc run, gpointer data)
{
  if (roi->shape == MM_ROI_POLYGON)
    {
      const double *pt = roi->points;
      int n = roi->n_points;
      double ymin = pt[1], ymax = pt[1];
      for (int p = 1; p < n; p++)
        ymin = MIN (ymin, pt[2 * p + 1]), ymax = MAX (ymax, pt[2 * p + 1]);
      int v0 = MAX (0, first_centre_at_or_after (ymin));
      int v1 = MIN (height - 1, last_centre_before (ymax, true));
      g_autofree double *xs = g_new (double, n);
      for (int v = v0; v <= v1; v++)
        {
          double cy = v + 0.5;
          int m = 0;
          for (int p = 0, q = n - 1; p < n; q = p++)
            {
              double xi = pt[2 * p], yi = pt[2 * p + 1], xj = pt[2 * q], yj = pt[2 * q + 1];
              /* W. R. Franklin's crossing test: exactly one end above the centre's row. */
              if ((yi > cy) != (yj > cy))
                xs[m++] = (xj - xi) * (cy - yi) / (yj - yi) + xi;
            }
          qsort (xs, m, sizeof *xs, cmp_double);
          /* Inside: an odd number of crossings right of the centre (cx < x), i.e. cx in
           * [xs[2t], xs[2t + 1]). */
          for (int t = 0; t + 1 < m; t += 2)
            {
              int u0 = MAX (0, first_centre_at_or_after (xs[t]));
              int u1 = MIN (width - 1, last_centre_before (xs[t + 1], false));
              if (u0 <= u1)
                run (v, u0, u1, data);
            }
        }
      return;
    }

  double x0 = MIN (roi->x0, roi->x1), x1 = MAX (roi->x0, roi->x1);
  double y0 = MIN (roi->y0, roi->y1), y1 = MAX (roi->y0, roi->y1);
  int v0 = MAX (0, first_centre_at_or_after (y0));
  int v1 = MIN (height - 1, last_centre_before (y1, true));
  int ua = MAX (0, first_centre_at_or_after (x0));
  int ub = MIN (width - 1, last_centre_before (x1, true));
  if (roi->shape == MM_ROI_RECTANGLE)
    {
      if (ua <= ub)
        for (int v = v0; v <= v1; v++)
          run (v, ua, ub, data);
      return;
    }
  /* Ellipse: a zero-width one holds no pixel. */
  double a = 0.5 * (x1 - x0), b = 0.5 * (y1 - y0), mx = 0.5 * (x0 + x1), my = 0.5 * (y0 + y1);
  if (!(a > 0 && b > 0))
    return;
  for (int v = v0; v <= v1; v++)
    {
      double ty = (v + 0.5 - my) / b;
      int u0 = -1, u1 = -2;
      /* Pixel by pixel (the same expression the rule states), runs merged. */
      for (int u = ua; u <= ub; u++)
        {
          double tx = (u + 0.5 - mx) / a;
          if (tx * tx + ty * ty <= 1.0)
            {
              if (u0 < 0)
                u0 = u;
              u1 = u;
            }
        }
      if (u0 >= 0)
        run (v, u0, u1, data);
    }
}

typedef struct
{
  const float *values;
  int width;
  double *out;  /* NULL: count only */
  uint8_t *mask; /* mm_roi_plane_mask */
  uint64_t n;
} Gather;

static void
gather_run (int y, int u0, int u1, gpointer data)
{
  Gather *g = data;
  const float *row = g->values + (size_t) y * g->width;
  for (int u = u0; u <= u1; u++)
    if (isfinite (row[u]))
      {
        if (g->out)
          g->out[g->n] = row[u];
        g->n++;
      }
}

static void
mask_run (int y, int u0, int u1, gpointer data)
{
  Gather *g = data;
  memset (g->mask + (size_t) y * g->width + u0, 1, u1 - u0 + 1);
}

/* k-th smallest of x[0..n-1], reordering x so that x[0..k-1] <= x[k] <= x[k+1..]: Wirth's
 * selection, linear on average. */
static double
select_kth (double *x, size_t n, size_t k)
{
  ptrdiff_t l = 0, m = (ptrdiff_t) n - 1, kk = (ptrdiff_t) k;
  while (l < m)
    {
      double pivot = x[kk];
      ptrdiff_t i = l, j = m;
      do
        {
          while (x[i] < pivot)
            i++;
          while (pivot < x[j])
            j--;
          if (i <= j)
            {
              double t = x[i];
              x[i] = x[j];
              x[j] = t;
              i++;
              j--;
            }
        }
      while (i <= j);
      if (j < kk)
        l = i;
      if (kk < i)
        m = j;
    }
  return x[kk];
}

/* Every figure of the n values in x (reordered). */
static void
figures (double *x, size_t n, MmRoiStats *s)
{
  memset (s, 0, sizeof *s);
  s->count = n;
  if (n == 0)
    return;
  double sum = 0, lo = x[0], hi = x[0];
  for (size_t i = 0; i < n; i++)
    {
      sum += x[i];
      lo = MIN (lo, x[i]);
      hi = MAX (hi, x[i]);
    }
  s->mean = sum / n;
  double ss = 0;
  for (size_t i = 0; i < n; i++)
    ss += (x[i] - s->mean) * (x[i] - s->mean);
  s->sd = sqrt (ss / n);
  s->min = lo;
  s->max = hi;
  double upper = select_kth (x, n, n / 2);
  if (n % 2)
    s->median = upper;
  else
    {
      /* The largest of the lower half, which selection left below n / 2. */
      double lower = x[0];
      for (size_t i = 1; i < n / 2; i++)
        lower = MAX (lower, x[i]);
      s->median = 0.5 * (lower + upper);
    }
}

bool
mm_roi_plane_stats (const float *values, int width, int height, double pixel_w, double pixel_h,
                    const MmRoi *roi, MmRoiStats *stats)
{
  g_return_val_if_fail (values != NULL && roi != NULL && stats != NULL, false);
  memset (stats, 0, sizeof *stats);
  if (width <= 0 || height <= 0 || !roi_valid (roi))
    return false;
  Gather g = { values, width, NULL, NULL, 0 };
  for_each_run (roi, width, height, gather_run, &g);
  g_autofree double *x = g_new (double, MAX (g.n, 1));
  g.out = x;
  g.n = 0;
  for_each_run (roi, width, height, gather_run, &g);
  figures (x, g.n, stats);
  stats->area_mm2 = g.n * pixel_w * pixel_h;
  return true;
}

bool
mm_roi_plane_mask (const MmRoi *roi, int width, int height, uint8_t *out)
{
  g_return_val_if_fail (roi != NULL && out != NULL, false);
  if (width <= 0 || height <= 0)
    return false;
  memset (out, 0, (size_t) width * height);
  if (!roi_valid (roi))
    return false;
  Gather g = { NULL, width, NULL, out, 0 };
  for_each_run (roi, width, height, mask_run, &g);
  return true;
}

bool
mm_roi_volume_stats (const MmVolume *vol, const MmMask *mask, const MmComponents *comps,
                     int label, MmRoiStats *stats, int n_threads)
{
  g_return_val_if_fail (vol != NULL && vol->voxels != NULL && stats != NULL, false);
  memset (stats, 0, sizeof *stats);
  if (mask == NULL && comps == NULL)
    return false;
  if (mask && (mask->dims[0] != vol->dims[0] || mask->dims[1] != vol->dims[1]
               || mask->dims[2] != vol->dims[2]))
    return false;
  int lo[3] = { 0, 0, 0 }, hi[3] = { vol->dims[0] - 1, vol->dims[1] - 1, vol->dims[2] - 1 };
  if (comps)
    {
      if (label < 1 || label > mm_components_count (comps))
        return false;
      const MmComponent *c = mm_components_get (comps, label);
      for (int a = 0; a < 3; a++)
        lo[a] = MAX (lo[a], c->bbox_min[a]), hi[a] = MIN (hi[a], c->bbox_max[a]);
    }
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  int ni = vol->dims[0], nj = vol->dims[1];
  /* Count first, so the values fit one allocation; each slice's values then go to its own
   * place, which keeps the gathered order (and so the sums) the same for any thread count. */
  int nk = hi[2] - lo[2] + 1;
  if (nk <= 0)
    {
      stats->count = 0;
      return true;
    }
  g_autofree uint64_t *per = g_new0 (uint64_t, nk + 1);
#define IN_ROI(i, j, k)                                                                       \
  ((mask == NULL || mask->data[((size_t) (k) * nj + (j)) * ni + (i)])                        \
   && (comps == NULL || mm_components_label_at (comps, i, j, k) == label))
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 4)
  for (int k = lo[2]; k <= hi[2]; k++)
    {
      uint64_t n = 0;
      for (int j = lo[1]; j <= hi[1]; j++)
        for (int i = lo[0]; i <= hi[0]; i++)
          n += IN_ROI (i, j, k);
      per[k - lo[2] + 1] = n;
    }
  for (int k = 0; k < nk; k++)
    per[k + 1] += per[k];
  uint64_t total = per[nk];
  g_autofree double *x = g_try_new (double, MAX (total, 1));
  if (x == NULL)
    return false;
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 4)
  for (int k = lo[2]; k <= hi[2]; k++)
    {
      double *o = x + per[k - lo[2]];
      for (int j = lo[1]; j <= hi[1]; j++)
        for (int i = lo[0]; i <= hi[0]; i++)
          if (IN_ROI (i, j, k))
            *o++ = mm_volume_get (vol, i, j, k);
    }
#undef IN_ROI
  figures (x, total, stats);
  stats->volume_ml = total * mm_volume_voxel_mm3 (vol) / 1000.0;
  return true;
}
