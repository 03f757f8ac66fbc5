/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Connected components on row runs: metal is a small share of a CT, so the work scales with
 * the number of runs rather than with the voxel count, and no int32 label volume (4 bytes a
 * voxel) is ever allocated. */
#include "mm-components.h"

#include <math.h>
#include <omp.h>
#include <string.h>

typedef struct
{
  int32_t x0, x1; /* inclusive columns */
} Run;

struct _MmComponents
{
  int dims[3];
  Run *runs;
  size_t n_runs;
  size_t *row_start; /* dims[1]*dims[2] + 1 offsets into runs, row (k, j) at k*dims[1] + j */
  int32_t *run_label;
  int n;
  MmComponent *comps; /* n + 1 entries, [0] unused */
};

static inline size_t
uf_find (size_t *parent, size_t x)
{
  while (parent[x] != x)
    {
      parent[x] = parent[parent[x]]; /* path halving */
      x = parent[x];
    }
  return x;
}

static inline void
uf_union (size_t *parent, size_t a, size_t b)
{
  a = uf_find (parent, a);
  b = uf_find (parent, b);
  /* The smaller index becomes the root, which keeps roots deterministic. */
  if (a < b)
    parent[b] = a;
  else if (b < a)
    parent[a] = b;
}

/* Union every run of row a with the runs of row b that touch it, diagonals included
 * (8-connectivity in a plane, 26 across planes). */
static void
union_rows (const MmComponents *c, size_t *parent, size_t a0, size_t a1, size_t b0, size_t b1)
{
  size_t b = b0;
  for (size_t a = a0; a < a1; a++)
    {
      const Run *ra = &c->runs[a];
      while (b < b1 && c->runs[b].x1 < ra->x0 - 1)
        b++;
      for (size_t bb = b; bb < b1 && c->runs[bb].x0 <= ra->x1 + 1; bb++)
        uf_union (parent, a, bb);
    }
}

/* Where runs come from: the nonzero voxels of a mask, or the voxels of a volume within
 * [lo, hi]. */
typedef struct
{
  const MmMask *mask;
  const MmVolume *vol;
  const int16_t *slice16; /* one int16 slice (the builder's), instead of mask or vol */
  int lo16, hi16;
  double lo, hi;
} RunSource;

/* Append the runs of row j of slice k where the predicate holds. */
#define EXTRACT_RUNS(row, inside)                                                          \
  do                                                                                       \
    {                                                                                      \
      int i_ = 0;                                                                          \
      while (i_ < w)                                                                       \
        {                                                                                  \
          while (i_ < w && !(inside (row[i_])))                                            \
            i_++;                                                                          \
          if (i_ == w)                                                                     \
            break;                                                                         \
          Run r_ = { i_, 0 };                                                              \
          while (i_ < w && (inside (row[i_])))                                             \
            i_++;                                                                          \
          r_.x1 = i_ - 1;                                                                  \
          g_array_append_val (out, r_);                                                    \
        }                                                                                  \
    }                                                                                      \
  while (0)

static void
source_row_runs (const RunSource *src, int j, int k, int w, int h, GArray *out)
{
  size_t offset = ((size_t) k * h + j) * w;
  if (src->slice16)
    {
      const int16_t *row = src->slice16 + (size_t) j * w;
      const int lo = src->lo16, hi = src->hi16;
#define IN_RANGE(v) ((v) >= lo && (v) <= hi)
      EXTRACT_RUNS (row, IN_RANGE);
#undef IN_RANGE
    }
  else if (src->mask)
    {
      const uint8_t *row = src->mask->data + offset;
#define NONZERO(v) ((v) != 0)
      EXTRACT_RUNS (row, NONZERO);
#undef NONZERO
    }
  else if (src->vol->type == MM_VOXEL_INT16)
    {
      const int16_t *row = (const int16_t *) src->vol->voxels + offset;
      const int lo = src->lo16, hi = src->hi16;
#define IN_RANGE(v) ((v) >= lo && (v) <= hi)
      EXTRACT_RUNS (row, IN_RANGE);
#undef IN_RANGE
    }
  else
    {
      const float *row = (const float *) src->vol->voxels + offset;
      const double lo = src->lo, hi = src->hi;
#define IN_RANGE(v) ((v) >= lo && (v) <= hi)
      EXTRACT_RUNS (row, IN_RANGE);
#undef IN_RANGE
    }
}

static MmComponents *
components_alloc (const int dims[3])
{
  MmComponents *c = g_new0 (MmComponents, 1);
  memcpy (c->dims, dims, sizeof c->dims);
  c->row_start = g_new0 (size_t, (size_t) dims[1] * dims[2] + 1);
  return c;
}

/* Runs of slice k; the per-row counts go into row_start (each slice its own rows). */
static GArray *
slice_runs_of (MmComponents *c, const RunSource *src, int k)
{
  int w = c->dims[0], h = c->dims[1];
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (Run));
  for (int j = 0; j < h; j++)
    {
      guint before = runs->len;
      source_row_runs (src, j, k, w, h, runs);
      c->row_start[(size_t) k * h + j + 1] = runs->len - before;
    }
  return runs;
}

static MmComponents *finish_runs (MmComponents *c, GArray **slice_runs, int n_threads);

static MmComponents *
label_runs (const int dims[3], const RunSource *src, int n_threads)
{
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  MmComponents *c = components_alloc (dims);
  /* 1. Runs of each slice, in parallel. */
  GArray **slice_runs = g_new0 (GArray *, dims[2]);
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 4)
  for (int k = 0; k < dims[2]; k++)
    slice_runs[k] = slice_runs_of (c, src, k);
  return finish_runs (c, slice_runs, n_threads);
}

/* Phases 2 to 4 on the runs of every slice (taken over and freed). */
static MmComponents *
finish_runs (MmComponents *c, GArray **slice_runs, int n_threads)
{
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  int w = c->dims[0], h = c->dims[1], d = c->dims[2];
  (void) w;
  size_t n_rows = (size_t) h * d;
  for (size_t r = 0; r < n_rows; r++)
    c->row_start[r + 1] += c->row_start[r];
  c->n_runs = c->row_start[n_rows];
  c->runs = g_new (Run, MAX (c->n_runs, 1));
  for (int k = 0; k < d; k++)
    {
      GArray *runs = slice_runs[k];
      if (runs && runs->len)
        memcpy (c->runs + c->row_start[(size_t) k * h], runs->data, runs->len * sizeof (Run));
      if (runs)
        g_array_free (runs, TRUE);
    }
  g_free (slice_runs);

  size_t *parent = g_new (size_t, MAX (c->n_runs, 1));
  for (size_t r = 0; r < c->n_runs; r++)
    parent[r] = r;

  /* 2. Unions within each slice: trees never cross slices yet, so slices are independent. */
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 4)
  for (int k = 0; k < d; k++)
    for (int j = 1; j < h; j++)
      {
        size_t row = (size_t) k * h + j;
        union_rows (c, parent, c->row_start[row], c->row_start[row + 1],
                    c->row_start[row - 1], c->row_start[row]);
      }

  /* 3. Unions between consecutive slices, serially: cheap, proportional to the runs. */
  for (int k = 1; k < d; k++)
    for (int j = 0; j < h; j++)
      {
        size_t row = (size_t) k * h + j;
        for (int dj = -1; dj <= 1; dj++)
          {
            int jj = j + dj;
            if (jj < 0 || jj >= h)
              continue;
            size_t prev = (size_t) (k - 1) * h + jj;
            union_rows (c, parent, c->row_start[row], c->row_start[row + 1],
                        c->row_start[prev], c->row_start[prev + 1]);
          }
      }

  /* 4. Number the roots in scan order and gather per-component figures. */
  c->run_label = g_new (int32_t, MAX (c->n_runs, 1));
  GArray *comps = g_array_new (FALSE, TRUE, sizeof (MmComponent));
  g_array_set_size (comps, 1);
  g_autofree double *sums = NULL;
  for (size_t r = 0; r < c->n_runs; r++)
    {
      size_t root = uf_find (parent, r);
      if (root == r)
        {
          MmComponent nc = { 0 };
          for (int a = 0; a < 3; a++)
            {
              nc.bbox_min[a] = G_MAXINT;
              nc.bbox_max[a] = G_MININT;
            }
          g_array_append_val (comps, nc);
          c->run_label[r] = comps->len - 1;
        }
      else
        c->run_label[r] = c->run_label[root]; /* root < r, so already numbered */
    }
  g_free (parent);

  c->n = comps->len - 1;
  c->comps = (MmComponent *) g_array_free (comps, FALSE);
  for (int k = 0; k < d; k++)
    for (int j = 0; j < h; j++)
      {
        size_t row = (size_t) k * h + j;
        for (size_t r = c->row_start[row]; r < c->row_start[row + 1]; r++)
          {
            MmComponent *cc = &c->comps[c->run_label[r]];
            const Run *run = &c->runs[r];
            uint64_t len = run->x1 - run->x0 + 1;
            cc->voxels += len;
            cc->centroid[0] += 0.5 * (double) (run->x0 + run->x1) * len;
            cc->centroid[1] += (double) j * len;
            cc->centroid[2] += (double) k * len;
            int lo[3] = { run->x0, j, k }, hi[3] = { run->x1, j, k };
            for (int a = 0; a < 3; a++)
              {
                cc->bbox_min[a] = MIN (cc->bbox_min[a], lo[a]);
                cc->bbox_max[a] = MAX (cc->bbox_max[a], hi[a]);
              }
          }
      }
  for (int l = 1; l <= c->n; l++)
    for (int a = 0; a < 3; a++)
      c->comps[l].centroid[a] /= (double) c->comps[l].voxels;
  return c;
}

MmComponents *
mm_components_label (const MmMask *mask, int n_threads)
{
  g_return_val_if_fail (mask != NULL, NULL);
  RunSource src = { .mask = mask };
  return label_runs (mask->dims, &src, n_threads);
}

MmComponents *
mm_components_label_range (const MmVolume *vol, double lower, double upper, int n_threads)
{
  g_return_val_if_fail (vol != NULL, NULL);
  RunSource src = { .vol = vol, .lo = lower, .hi = upper };
  /* Integer bounds for int16 voxels: v >= ceil(lower) and v <= floor(upper). */
  src.lo16 = (int) CLAMP (ceil (lower), -40000.0, 40000.0);
  src.hi16 = (int) CLAMP (floor (upper), -40000.0, 40000.0);
  return label_runs (vol->dims, &src, n_threads);
}

struct _MmComponentsBuilder
{
  MmComponents *c;
  GArray **slice_runs;
  int lo16, hi16;
};

MmComponentsBuilder *
mm_components_builder_new (const int dims[3], double lower, double upper)
{
  MmComponentsBuilder *b = g_new0 (MmComponentsBuilder, 1);
  b->c = components_alloc (dims);
  b->slice_runs = g_new0 (GArray *, dims[2]);
  b->lo16 = (int) CLAMP (ceil (lower), -40000.0, 40000.0);
  b->hi16 = (int) CLAMP (floor (upper), -40000.0, 40000.0);
  return b;
}

void
mm_components_builder_add_slice (MmComponentsBuilder *b, int k, const int16_t *hu)
{
  g_return_if_fail (k >= 0 && k < b->c->dims[2] && b->slice_runs[k] == NULL);
  /* The rows of hu, which holds slice k alone (slice16 rows are not offset by k). */
  RunSource src = { .slice16 = hu, .lo16 = b->lo16, .hi16 = b->hi16 };
  b->slice_runs[k] = slice_runs_of (b->c, &src, k);
}

MmComponents *
mm_components_builder_finish (MmComponentsBuilder *b, int n_threads)
{
  MmComponents *c = finish_runs (b->c, b->slice_runs, n_threads);
  g_free (b);
  return c;
}

uint64_t
mm_components_paint_slice (const MmComponents *comps, const bool *keep, int k, uint8_t *out,
                           uint8_t value)
{
  int w = comps->dims[0], h = comps->dims[1];
  uint64_t count = 0;
  memset (out, 0, (size_t) w * h);
  for (int j = 0; j < h; j++)
    {
      size_t row = (size_t) k * h + j;
      for (size_t r = comps->row_start[row]; r < comps->row_start[row + 1]; r++)
        if (keep == NULL || keep[comps->run_label[r]])
          {
            const Run *run = &comps->runs[r];
            memset (out + (size_t) j * w + run->x0, value, run->x1 - run->x0 + 1);
            count += run->x1 - run->x0 + 1;
          }
    }
  return count;
}

bool
mm_components_slice_has (const MmComponents *comps, const bool *keep, int k)
{
  int h = comps->dims[1];
  for (size_t r = comps->row_start[(size_t) k * h]; r < comps->row_start[(size_t) (k + 1) * h]; r++)
    if (keep == NULL || keep[comps->run_label[r]])
      return true;
  return false;
}

void
mm_components_free (MmComponents *comps)
{
  if (comps == NULL)
    return;
  g_free (comps->runs);
  g_free (comps->row_start);
  g_free (comps->run_label);
  g_free (comps->comps);
  g_free (comps);
}

int
mm_components_count (const MmComponents *comps)
{
  return comps->n;
}

const MmComponent *
mm_components_get (const MmComponents *comps, int label)
{
  g_return_val_if_fail (label >= 1 && label <= comps->n, NULL);
  return &comps->comps[label];
}

int
mm_components_label_at (const MmComponents *comps, int i, int j, int k)
{
  if (i < 0 || j < 0 || k < 0 || i >= comps->dims[0] || j >= comps->dims[1]
      || k >= comps->dims[2])
    return 0;
  size_t row = (size_t) k * comps->dims[1] + j;
  for (size_t r = comps->row_start[row]; r < comps->row_start[row + 1]; r++)
    if (comps->runs[r].x0 <= i && i <= comps->runs[r].x1)
      return comps->run_label[r];
  return 0;
}

void
mm_components_filter (const MmComponents *comps, MmMask *mask, const bool *keep,
                      int n_threads)
{
  g_return_if_fail (memcmp (comps->dims, mask->dims, sizeof mask->dims) == 0);
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  int w = mask->dims[0], h = mask->dims[1];
#pragma omp parallel for num_threads (n_threads) schedule (static)
  for (int k = 0; k < mask->dims[2]; k++)
    for (int j = 0; j < h; j++)
      {
        size_t row = (size_t) k * h + j;
        uint8_t *line = mm_mask_slice (mask, k) + (size_t) j * w;
        for (size_t r = comps->row_start[row]; r < comps->row_start[row + 1]; r++)
          if (!keep[comps->run_label[r]])
            memset (line + comps->runs[r].x0, 0, comps->runs[r].x1 - comps->runs[r].x0 + 1);
      }
}
