/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Mask comparison: overlap counts per slice, then surface distances from an exact separable
 * Euclidean distance transform in mm (its lines by mm-distance.c), blocked and threaded here
 * for whole volumes. */
#include "mm-metrics.h"

#include "mm-alloc.h"
#include "mm-distance.h"
#include "mm-volume.h"

#include <gio/gio.h>
#include <math.h>
#include <omp.h>
#include <string.h>

/* Lines of a pass along y or z are handled this many at a time: neighbouring columns sit
 * side by side in memory, so gathering a block of them reads whole cache lines instead of
 * one double per line. */
#define LINE_BLOCK 16

/* An axis-aligned box of the grid, inclusive bounds. */
typedef struct
{
  int lo[3], hi[3];
  int n[3]; /* hi - lo + 1 */
} Box;

static inline size_t
box_index (const Box *b, int i, int j, int k)
{
  return ((size_t) (k - b->lo[2]) * b->n[1] + (size_t) (j - b->lo[1])) * b->n[0]
         + (size_t) (i - b->lo[0]);
}

/* A mask voxel is on the surface when one of its 6 neighbours is outside the mask; beyond
 * the edge of the grid counts as outside (scipy's binary_erosion with border_value 0). */
static inline bool
on_surface (const uint8_t *m, const int dims[3], int i, int j, int k)
{
  size_t row = (size_t) dims[0], slice = (size_t) dims[0] * dims[1];
  size_t v = (size_t) k * slice + (size_t) j * row + (size_t) i;
  if (!m[v])
    return false;
  return i == 0 || !m[v - 1] || i == dims[0] - 1 || !m[v + 1] || j == 0 || !m[v - row]
         || j == dims[1] - 1 || !m[v + row] || k == 0 || !m[v - slice] || k == dims[2] - 1
         || !m[v + slice];
}

/* One pass along y (axis 1) or z (axis 2) of the box, in place. */
static void
edt_pass (double *buf, const Box *b, int axis, double s, int n_threads)
{
  int len = b->n[axis];
  size_t stride = axis == 1 ? (size_t) b->n[0] : (size_t) b->n[0] * b->n[1];
  /* Lines are (block of columns) x (the remaining axis): k for a pass along y, j along z. */
  int other = axis == 1 ? b->n[2] : b->n[1];
  int n_blocks = (b->n[0] + LINE_BLOCK - 1) / LINE_BLOCK;
  size_t other_step = axis == 1 ? (size_t) b->n[0] * b->n[1] : (size_t) b->n[0];
#pragma omp parallel num_threads (n_threads)
  {
    g_autofree double *f = g_new (double, (size_t) LINE_BLOCK * len);
    g_autofree double *d = g_new (double, len);
    g_autofree int *v = g_new (int, len);
    g_autofree double *z = g_new (double, len + 1);
#pragma omp for schedule (dynamic, 4)
    for (long job = 0; job < (long) other * n_blocks; job++)
      {
        int o = (int) (job / n_blocks), i0 = (int) (job % n_blocks) * LINE_BLOCK;
        int nb = MIN (LINE_BLOCK, b->n[0] - i0);
        double *base = buf + (size_t) o * other_step + (size_t) i0;
        for (int t = 0; t < len; t++)
          for (int c = 0; c < nb; c++)
            f[(size_t) c * len + t] = base[(size_t) t * stride + c];
        for (int c = 0; c < nb; c++)
          {
            double *line = f + (size_t) c * len;
            mm_distance_1d (line, d, len, s, v, z);
            memcpy (line, d, sizeof (double) * len);
          }
        for (int t = 0; t < len; t++)
          for (int c = 0; c < nb; c++)
            base[(size_t) t * stride + c] = f[(size_t) c * len + t];
      }
  }
}

/* buf (box-sized) := squared distance in mm from each voxel of the box to the nearest
 * surface voxel of m. Every surface voxel lies in the box, so cropping changes nothing. */
static void
surface_edt (const MmMask *m, const Box *b, const double spacing[3], double *buf,
             int n_threads)
{
  /* Along x the input is binary, so a forward and a backward scan give the exact distance. */
  long n_lines = (long) b->n[1] * b->n[2];
#pragma omp parallel for num_threads (n_threads) schedule (static)
  for (long line = 0; line < n_lines; line++)
    {
      int j = b->lo[1] + (int) (line % b->n[1]), k = b->lo[2] + (int) (line / b->n[1]);
      double *out = buf + box_index (b, b->lo[0], j, k);
      int last = -1;
      for (int t = 0; t < b->n[0]; t++)
        {
          if (on_surface (m->data, m->dims, b->lo[0] + t, j, k))
            last = t;
          out[t] = last < 0 ? INFINITY : (double) (t - last);
        }
      int next = -1;
      for (int t = b->n[0] - 1; t >= 0; t--)
        {
          if (out[t] == 0.0)
            next = t;
          double dist = out[t];
          if (next >= 0 && next - t < dist)
            dist = next - t;
          out[t] = isinf (dist) ? INFINITY : (spacing[0] * dist) * (spacing[0] * dist);
        }
    }
  edt_pass (buf, b, 1, spacing[1], n_threads);
  edt_pass (buf, b, 2, spacing[2], n_threads);
}

/* Distances (mm) from every surface voxel of from to the surface of to, written to out in
 * raster order (slice, row, column), so the result is the same for any thread count.
 * offsets[k - lo[2]] is where slice k's voxels start in out. */
static void
directed_distances (const MmMask *from, const MmMask *to, const Box *b,
                    const double spacing[3], double *buf, const size_t *offsets, double *out,
                    int n_threads)
{
  surface_edt (to, b, spacing, buf, n_threads);
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 1)
  for (int k = b->lo[2]; k <= b->hi[2]; k++)
    {
      size_t o = offsets[k - b->lo[2]];
      for (int j = b->lo[1]; j <= b->hi[1]; j++)
        for (int i = b->lo[0]; i <= b->hi[0]; i++)
          if (on_surface (from->data, from->dims, i, j, k))
            out[o++] = sqrt (buf[box_index (b, i, j, k)]);
    }
}

/* Surface voxels of m per slice of the box; offsets (n[2] + 1 entries) their prefix sums. */
static size_t
surface_offsets (const MmMask *m, const Box *b, size_t *offsets, int n_threads)
{
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 1)
  for (int k = b->lo[2]; k <= b->hi[2]; k++)
    {
      size_t c = 0;
      for (int j = b->lo[1]; j <= b->hi[1]; j++)
        for (int i = b->lo[0]; i <= b->hi[0]; i++)
          c += on_surface (m->data, m->dims, i, j, k);
      offsets[k - b->lo[2] + 1] = c;
    }
  offsets[0] = 0;
  for (int k = 0; k < b->n[2]; k++)
    offsets[k + 1] += offsets[k];
  return offsets[b->n[2]];
}

/* The k-th smallest of a[0..n-1] (Numerical Recipes' select), reordering a so that
 * everything after index k is >= it. */
static double
select_kth (double *a, size_t n, size_t k)
{
#define SWAP(x, y) do { double tmp_ = (x); (x) = (y); (y) = tmp_; } while (0)
  size_t l = 0, ir = n - 1;
  for (;;)
    {
      if (ir <= l + 1)
        {
          if (ir == l + 1 && a[ir] < a[l])
            SWAP (a[l], a[ir]);
          return a[k];
        }
      size_t mid = l + (ir - l) / 2;
      SWAP (a[mid], a[l + 1]);
      if (a[l] > a[ir])
        SWAP (a[l], a[ir]);
      if (a[l + 1] > a[ir])
        SWAP (a[l + 1], a[ir]);
      if (a[l] > a[l + 1])
        SWAP (a[l], a[l + 1]);
      size_t i = l + 1, j = ir;
      double pivot = a[l + 1];
      for (;;)
        {
          do
            i++;
          while (a[i] < pivot);
          do
            j--;
          while (a[j] > pivot);
          if (j < i)
            break;
          SWAP (a[i], a[j]);
        }
      a[l + 1] = a[j];
      a[j] = pivot;
      if (j >= k)
        ir = j - 1;
      if (j <= k)
        l = i;
    }
#undef SWAP
}

/* The 95th percentile with numpy's default (linear) interpolation: rank 0.95 (n - 1). */
static double
percentile_95 (double *a, size_t n)
{
  double rank = 0.95 * (double) (n - 1);
  size_t lo = (size_t) floor (rank);
  double frac = rank - (double) lo;
  double v_lo = select_kth (a, n, lo);
  if (frac == 0.0 || lo + 1 >= n)
    return v_lo;
  double v_hi = INFINITY;
  for (size_t x = lo + 1; x < n; x++)
    v_hi = MIN (v_hi, a[x]);
  return v_lo + frac * (v_hi - v_lo);
}

static bool
surface_metrics (MmMetrics *r, const MmMask *truth, const MmMask *pred, const Box *b,
                 int n_threads, GError **error)
{
  size_t box_voxels = (size_t) b->n[0] * b->n[1] * b->n[2];
  g_autofree size_t *off_t = g_new (size_t, b->n[2] + 1);
  g_autofree size_t *off_p = g_new (size_t, b->n[2] + 1);
  size_t nt = surface_offsets (truth, b, off_t, n_threads);
  size_t np = surface_offsets (pred, b, off_p, n_threads);
  r->truth_surface_voxels = nt;
  r->pred_surface_voxels = np;

  double *buf = mm_alloc_large (box_voxels * sizeof (double), false);
  g_autofree double *dist = g_try_new (double, nt + np);
  if (buf == NULL || dist == NULL)
    {
      mm_free_large (buf);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Not enough memory for the surface distance transform (%zu MB)",
                   (box_voxels * sizeof (double) + (nt + np) * sizeof (double)) >> 20);
      return false;
    }
  directed_distances (truth, pred, b, r->spacing, buf, off_t, dist, n_threads);
  directed_distances (pred, truth, b, r->spacing, buf, off_p, dist + nt, n_threads);
  mm_free_large (buf);

  /* Summed in one fixed order, so the mean does not depend on the thread count. */
  double sum = 0.0, max = 0.0;
  for (size_t x = 0; x < nt + np; x++)
    {
      sum += dist[x];
      max = MAX (max, dist[x]);
    }
  r->assd_mm = sum / (double) (nt + np);
  r->hausdorff_mm = max;
  r->hd95_mm = percentile_95 (dist, nt + np);
  return true;
}

static double
ratio_or_nan (double num, double den)
{
  return den > 0 ? num / den : NAN;
}

MmMetrics *
mm_metrics_compute (const MmMask *truth, const MmMask *pred, const double spacing[3],
                    int n_threads, GError **error)
{
  g_return_val_if_fail (truth && pred && spacing, NULL);
  if (memcmp (truth->dims, pred->dims, sizeof truth->dims) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The predicted mask is %d x %d x %d voxels and the reference mask "
                   "%d x %d x %d; they must be on the same grid to be compared",
                   pred->dims[0], pred->dims[1], pred->dims[2], truth->dims[0], truth->dims[1],
                   truth->dims[2]);
      return NULL;
    }
  /* Positive and finite is not enough: the distance transform works on squared distances,
   * and 1e-170 squares to 0 (its parabolas then never intersect and it reads v[-1]), 1e200
   * to infinity. */
  for (int a = 0; a < 3; a++)
    if (!mm_spacing_is_sane (spacing[a]))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "The voxel spacing %g x %g x %g mm is not usable: every value must be "
                     "between %g and %g mm",
                     spacing[0], spacing[1], spacing[2], MM_SPACING_MIN_MM, MM_SPACING_MAX_MM);
        return NULL;
      }
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();

  const int *dims = truth->dims;
  g_autoptr (MmMetrics) r = g_new0 (MmMetrics, 1);
  memcpy (r->dims, dims, sizeof r->dims);
  memcpy (r->spacing, spacing, sizeof r->spacing);
  r->slices = g_new0 (MmSliceMetrics, dims[2]);

  /* Per slice: the counts and the slice's bounding box of either mask, merged below. */
  g_autofree int *bb = g_new (int, (size_t) 4 * dims[2]);
  size_t slice = (size_t) dims[0] * dims[1];
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 1)
  for (int k = 0; k < dims[2]; k++)
    {
      MmSliceMetrics *s = &r->slices[k];
      int *box = bb + 4 * k;
      box[0] = dims[0], box[1] = -1, box[2] = dims[1], box[3] = -1;
      if (mm_mask_slice_is_empty (truth, k) && mm_mask_slice_is_empty (pred, k))
        {
          s->dice = 1.0;
          continue;
        }
      const uint8_t *t = mm_mask_slice (truth, k), *p = mm_mask_slice (pred, k);
      uint64_t ct = 0, cp = 0, tp = 0;
      for (size_t x = 0; x < slice; x++)
        {
          bool a = t[x] != 0, c = p[x] != 0;
          ct += a;
          cp += c;
          tp += a && c;
          if (a || c)
            {
              int i = (int) (x % dims[0]), j = (int) (x / dims[0]);
              box[0] = MIN (box[0], i);
              box[1] = MAX (box[1], i);
              box[2] = MIN (box[2], j);
              box[3] = MAX (box[3], j);
            }
        }
      s->truth_voxels = ct;
      s->pred_voxels = cp;
      s->tp = tp;
      s->dice = ct + cp ? 2.0 * (double) tp / (double) (ct + cp) : 1.0;
    }

  Box b = { { dims[0], dims[1], dims[2] }, { -1, -1, -1 }, { 0, 0, 0 } };
  for (int k = 0; k < dims[2]; k++)
    {
      const MmSliceMetrics *s = &r->slices[k];
      r->truth_voxels += s->truth_voxels;
      r->pred_voxels += s->pred_voxels;
      r->tp += s->tp;
      if (bb[4 * k + 1] < 0)
        continue;
      b.lo[0] = MIN (b.lo[0], bb[4 * k]);
      b.hi[0] = MAX (b.hi[0], bb[4 * k + 1]);
      b.lo[1] = MIN (b.lo[1], bb[4 * k + 2]);
      b.hi[1] = MAX (b.hi[1], bb[4 * k + 3]);
      b.lo[2] = MIN (b.lo[2], k);
      b.hi[2] = MAX (b.hi[2], k);
    }
  r->fp = r->pred_voxels - r->tp;
  r->fn = r->truth_voxels - r->tp;

  double voxel_ml = spacing[0] * spacing[1] * spacing[2] / 1000.0;
  r->truth_ml = (double) r->truth_voxels * voxel_ml;
  r->pred_ml = (double) r->pred_voxels * voxel_ml;
  r->volume_diff_ml = ((double) r->pred_voxels - (double) r->truth_voxels) * voxel_ml;

  if (r->truth_voxels == 0 && r->pred_voxels == 0)
    {
      /* Nothing to find and nothing found: a perfect answer, not an undefined one. */
      r->dice = r->iou = r->precision = r->recall = 1.0;
      r->hd95_mm = r->assd_mm = r->hausdorff_mm = 0.0;
      r->volume_diff_percent = 0.0;
      return g_steal_pointer (&r);
    }
  double tp = (double) r->tp, fp = (double) r->fp, fn = (double) r->fn;
  r->dice = 2.0 * tp / (2.0 * tp + fp + fn);
  r->iou = tp / (tp + fp + fn);
  r->precision = ratio_or_nan (tp, tp + fp);
  r->recall = ratio_or_nan (tp, tp + fn);
  r->volume_diff_percent =
      ratio_or_nan (100.0 * ((double) r->pred_voxels - (double) r->truth_voxels),
                    (double) r->truth_voxels);
  if (r->truth_voxels == 0 || r->pred_voxels == 0)
    {
      /* One surface is missing: there is no distance to report. */
      r->hd95_mm = r->assd_mm = r->hausdorff_mm = NAN;
      return g_steal_pointer (&r);
    }

  for (int a = 0; a < 3; a++)
    b.n[a] = b.hi[a] - b.lo[a] + 1;
  if (!surface_metrics (r, truth, pred, &b, n_threads, error))
    return NULL;
  return g_steal_pointer (&r);
}

void
mm_metrics_free (MmMetrics *metrics)
{
  if (metrics == NULL)
    return;
  g_free (metrics->slices);
  g_free (metrics);
}
