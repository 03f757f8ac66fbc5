/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of mask comparison: hand-computed cases, a brute-force surface distance
 * implementation on random masks, and 1 thread against 2. */
#include "mm-metrics.h"

#include <gio/gio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static MmMask *
mask_new (int nx, int ny, int nz)
{
  int dims[3] = { nx, ny, nz };
  return mm_mask_new (dims);
}

/* Set the voxels of the inclusive box [x0, x1] x [y0, y1] x [z0, z1]. */
static void
fill_box (MmMask *m, int x0, int x1, int y0, int y1, int z0, int z1)
{
  for (int k = z0; k <= z1; k++)
    for (int j = y0; j <= y1; j++)
      for (int i = x0; i <= x1; i++)
        m->data[((size_t) k * m->dims[1] + j) * m->dims[0] + i] = 1;
}

/* Balls of random centre and radius (in voxels), some of them touching the grid's edge:
 * blobby shapes with holes between them, so surfaces are not only convex faces. */
static void
fill_balls (MmMask *m, GRand *rand, int n_balls)
{
  for (int n = 0; n < n_balls; n++)
    {
      double c[3], r = g_rand_double_range (rand, 1.0, 5.0);
      for (int a = 0; a < 3; a++)
        c[a] = g_rand_double_range (rand, -1.0, m->dims[a]);
      for (int k = 0; k < m->dims[2]; k++)
        for (int j = 0; j < m->dims[1]; j++)
          for (int i = 0; i < m->dims[0]; i++)
            {
              double dx = i - c[0], dy = j - c[1], dz = (k - c[2]) * 1.7;
              if (dx * dx + dy * dy + dz * dz <= r * r)
                m->data[((size_t) k * m->dims[1] + j) * m->dims[0] + i] = 1;
            }
    }
}

static MmMetrics *
compute (const MmMask *truth, const MmMask *pred, double sx, double sy, double sz, int threads)
{
  const double spacing[3] = { sx, sy, sz };
  g_autoptr (GError) err = NULL;
  MmMetrics *m = mm_metrics_compute (truth, pred, spacing, threads, &err);
  g_assert_no_error (err);
  g_assert_nonnull (m);
  return m;
}

/* Two 10 x 10 x 10 cubes, the second shifted by 2 voxels along x (spacing 1 mm):
 * A = x 2..11, B = x 4..13, both y 2..11 and z 2..11.
 *
 * Overlap: x 4..11, 8 x 10 x 10 = 800 voxels; Dice = 2 * 800 / 2000 = 0.8, IoU = 800 / 1200.
 * Surface of each cube: 1000 - 8^3 interior = 488 voxels.
 * Distances from A's surface to B's surface:
 *  - on A's y or z faces (the 36-voxel ring of each x cross-section): for x 4..11 the voxel
 *    is on B's surface as well, 0 (8 x 36 = 288); for x = 3, 1 mm to (4, y, z) (36); for
 *    x = 2, 2 mm (36);
 *  - A's x = 2 face inside the ring (8 x 8 = 64): 2 mm to B's x = 4 face;
 *  - A's x = 11 face inside the ring (64), inside B: min(2 to B's x = 13 face, distance to
 *    its y and z faces): 1 mm on the outer ring of the 8 x 8 (64 - 36 = 28), else 2 (36).
 *  So 288 zeros, 64 ones, 136 twos: the sum is 336 mm. By symmetry (x -> 15 - x swaps A and
 *  B) B -> A is the same.
 * Pooled: 976 distances, 576 zeros, 128 ones, 272 twos.
 * ASSD = 2 * 336 / 976 = 42 / 61. HD95: rank 0.95 * 975 = 926.25, and ranks 704..975 are
 * 2 mm, so HD95 = 2 mm; Hausdorff = 2 mm. */
static void
test_cubes_shift_x (void)
{
  g_autoptr (MmMask) a = mask_new (18, 14, 14);
  g_autoptr (MmMask) b = mask_new (18, 14, 14);
  fill_box (a, 2, 11, 2, 11, 2, 11);
  fill_box (b, 4, 13, 2, 11, 2, 11);
  g_autoptr (MmMetrics) m = compute (a, b, 1, 1, 1, 0);
  g_assert_cmpuint (m->truth_voxels, ==, 1000);
  g_assert_cmpuint (m->pred_voxels, ==, 1000);
  g_assert_cmpuint (m->tp, ==, 800);
  g_assert_cmpuint (m->fp, ==, 200);
  g_assert_cmpuint (m->fn, ==, 200);
  g_assert_cmpuint (m->truth_surface_voxels, ==, 488);
  g_assert_cmpuint (m->pred_surface_voxels, ==, 488);
  g_assert_cmpfloat_with_epsilon (m->dice, 0.8, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->iou, 800.0 / 1200.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->precision, 0.8, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->recall, 0.8, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->hd95_mm, 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->assd_mm, 42.0 / 61.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->hausdorff_mm, 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->truth_ml, 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->volume_diff_ml, 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->volume_diff_percent, 0.0, 1e-12);
  /* Per slice: z 2..11 hold 100 voxels of each and 80 in common, Dice 0.8; the others none,
   * Dice 1 by convention. */
  g_assert_cmpuint (m->slices[5].truth_voxels, ==, 100);
  g_assert_cmpuint (m->slices[5].tp, ==, 80);
  g_assert_cmpfloat_with_epsilon (m->slices[5].dice, 0.8, 1e-12);
  g_assert_cmpfloat (m->slices[0].dice, ==, 1.0);
  g_assert_cmpuint (m->slices[13].pred_voxels, ==, 0);
}

/* The same cubes shifted by 2 slices along z. With isotropic 2.5 mm voxels every distance is
 * the one above times 2.5. With spacing (1, 1, 2.5) the roles of the faces change: from A
 * (z 2..11) to B (z 4..13),
 *  - the ring of y/x faces: 0 for z 4..11 (288), 2.5 mm for z = 3 (36), 5 mm for z = 2 (36);
 *  - A's z = 2 face inside the ring (64): 5 mm to B's z = 4 face;
 *  - A's z = 11 face inside the ring (64): min(5 mm to B's z = 13 face, the in-plane
 *    distance to B's x and y faces, 1 mm per voxel): 1 (28), 2 (20), 3 (12), 4 (4).
 *  Sum: 90 + 180 + 320 + 28 + 40 + 36 + 16 = 710 mm; B -> A the same by symmetry.
 * ASSD = 1420 / 976 = 355 / 244 mm. Pooled sorted: 576 zeros, then 56 ones, 40 twos,
 * 72 x 2.5, 24 threes, 8 fours and ranks 776..975 are 5 mm: HD95 (rank 926.25) = 5 mm =
 * 2 voxels x 2.5 mm, as is the Hausdorff distance. */
static void
test_cubes_shift_z_anisotropic (void)
{
  g_autoptr (MmMask) a = mask_new (14, 14, 18);
  g_autoptr (MmMask) b = mask_new (14, 14, 18);
  fill_box (a, 2, 11, 2, 11, 2, 11);
  fill_box (b, 2, 11, 2, 11, 4, 13);

  g_autoptr (MmMetrics) iso = compute (a, b, 2.5, 2.5, 2.5, 0);
  g_assert_cmpfloat_with_epsilon (iso->dice, 0.8, 1e-12);
  g_assert_cmpfloat_with_epsilon (iso->hd95_mm, 2.0 * 2.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (iso->assd_mm, 42.0 / 61.0 * 2.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (iso->hausdorff_mm, 2.0 * 2.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (iso->truth_ml, 1000 * 2.5 * 2.5 * 2.5 / 1000.0, 1e-12);

  g_autoptr (MmMetrics) m = compute (a, b, 1, 1, 2.5, 0);
  g_assert_cmpfloat_with_epsilon (m->dice, 0.8, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->iou, 800.0 / 1200.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->hd95_mm, 5.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->assd_mm, 355.0 / 244.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->hausdorff_mm, 5.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->truth_ml, 2.5, 1e-12);
}

/* Which HD95 convention: truth one voxel at x = 1, pred two at x = 3 and 4 (spacing 1).
 * truth -> pred: {2}; pred -> truth: {2, 3}. Pooled {2, 2, 3}: rank 0.95 * 2 = 1.9, so
 * HD95 = 2 + 0.9 * (3 - 2) = 2.9 (the larger directed 95th percentile would be 2.95).
 * ASSD = 7 / 3. */
static void
test_percentile_convention (void)
{
  g_autoptr (MmMask) a = mask_new (6, 3, 3);
  g_autoptr (MmMask) b = mask_new (6, 3, 3);
  fill_box (a, 1, 1, 1, 1, 1, 1);
  fill_box (b, 3, 4, 1, 1, 1, 1);
  g_autoptr (MmMetrics) m = compute (a, b, 1, 1, 1, 0);
  g_assert_cmpfloat (m->dice, ==, 0.0);
  g_assert_cmpfloat_with_epsilon (m->hd95_mm, 2.9, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->assd_mm, 7.0 / 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->hausdorff_mm, 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (m->volume_diff_percent, 100.0, 1e-12);
}

static void
test_identical (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  g_autoptr (MmMask) a = mask_new (40, 30, 20);
  fill_balls (a, rand, 6);
  g_autoptr (MmMask) b = mm_mask_copy (a);
  g_autoptr (MmMetrics) m = compute (a, b, 0.7, 0.7, 1.6, 0);
  g_assert_cmpuint (m->truth_voxels, >, 0);
  g_assert_cmpfloat (m->dice, ==, 1.0);
  g_assert_cmpfloat (m->iou, ==, 1.0);
  g_assert_cmpfloat (m->hd95_mm, ==, 0.0);
  g_assert_cmpfloat (m->assd_mm, ==, 0.0);
  g_assert_cmpfloat (m->hausdorff_mm, ==, 0.0);
  g_assert_cmpuint (m->fp + m->fn, ==, 0);
}

static void
test_empty (void)
{
  g_autoptr (MmMask) empty = mask_new (8, 8, 4);
  g_autoptr (MmMask) empty2 = mask_new (8, 8, 4);
  g_autoptr (MmMask) cube = mask_new (8, 8, 4);
  fill_box (cube, 2, 4, 2, 4, 1, 2);

  /* Nothing to find and nothing found: perfect. */
  g_autoptr (MmMetrics) both = compute (empty, empty2, 1, 1, 1, 0);
  g_assert_cmpfloat (both->dice, ==, 1.0);
  g_assert_cmpfloat (both->iou, ==, 1.0);
  g_assert_cmpfloat (both->precision, ==, 1.0);
  g_assert_cmpfloat (both->recall, ==, 1.0);
  g_assert_cmpfloat (both->hd95_mm, ==, 0.0);
  g_assert_cmpfloat (both->assd_mm, ==, 0.0);
  g_assert_cmpfloat (both->volume_diff_percent, ==, 0.0);

  /* Missed everything: no distance can be measured. */
  g_autoptr (MmMetrics) missed = compute (cube, empty, 1, 1, 1, 0);
  g_assert_cmpfloat (missed->dice, ==, 0.0);
  g_assert_cmpfloat (missed->iou, ==, 0.0);
  g_assert_true (isnan (missed->precision));
  g_assert_cmpfloat (missed->recall, ==, 0.0);
  g_assert_true (isnan (missed->hd95_mm));
  g_assert_true (isnan (missed->assd_mm));
  g_assert_true (isnan (missed->hausdorff_mm));
  g_assert_cmpuint (missed->fn, ==, 18);
  g_assert_cmpfloat_with_epsilon (missed->volume_diff_percent, -100.0, 1e-12);

  /* Found something where there is nothing. */
  g_autoptr (MmMetrics) spurious = compute (empty, cube, 1, 1, 1, 0);
  g_assert_cmpfloat (spurious->dice, ==, 0.0);
  g_assert_cmpfloat (spurious->precision, ==, 0.0);
  g_assert_true (isnan (spurious->recall));
  g_assert_true (isnan (spurious->hd95_mm));
  g_assert_true (isnan (spurious->volume_diff_percent));
  g_assert_cmpfloat_with_epsilon (spurious->volume_diff_ml, 0.018, 1e-12);
}

static void
test_errors (void)
{
  g_autoptr (MmMask) a = mask_new (8, 8, 4);
  g_autoptr (MmMask) b = mask_new (8, 8, 5);
  const double spacing[3] = { 1, 1, 1 }, bad[3] = { 1, 0, 1 };
  g_autoptr (GError) err = NULL;
  g_assert_null (mm_metrics_compute (a, b, spacing, 0, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (err->message, "8 x 8 x 5"));
  g_clear_error (&err);
  g_assert_null (mm_metrics_compute (a, a, bad, 0, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* ---- a deliberately naive second implementation ---- */

typedef struct
{
  double *p; /* x, y, z in mm */
  size_t n;
} Points;

static Points
surface_points (const MmMask *m, const double s[3])
{
  Points pts = { g_new (double, 3 * mm_mask_n_voxels (m)), 0 };
  const int *d = m->dims;
  for (int k = 0; k < d[2]; k++)
    for (int j = 0; j < d[1]; j++)
      for (int i = 0; i < d[0]; i++)
        {
          if (!m->data[((size_t) k * d[1] + j) * d[0] + i])
            continue;
          static const int nb[6][3] = { { -1, 0, 0 }, { 1, 0, 0 }, { 0, -1, 0 },
                                        { 0, 1, 0 },  { 0, 0, -1 }, { 0, 0, 1 } };
          bool surface = false;
          for (int n = 0; n < 6; n++)
            {
              int x = i + nb[n][0], y = j + nb[n][1], z = k + nb[n][2];
              if (x < 0 || y < 0 || z < 0 || x >= d[0] || y >= d[1] || z >= d[2]
                  || !m->data[((size_t) z * d[1] + y) * d[0] + x])
                surface = true;
            }
          if (!surface)
            continue;
          pts.p[3 * pts.n] = i * s[0];
          pts.p[3 * pts.n + 1] = j * s[1];
          pts.p[3 * pts.n + 2] = k * s[2];
          pts.n++;
        }
  return pts;
}

static void
brute_distances (const Points *from, const Points *to, double *out)
{
  for (size_t a = 0; a < from->n; a++)
    {
      double best = INFINITY;
      for (size_t b = 0; b < to->n; b++)
        {
          double dx = from->p[3 * a] - to->p[3 * b], dy = from->p[3 * a + 1] - to->p[3 * b + 1],
                 dz = from->p[3 * a + 2] - to->p[3 * b + 2];
          best = MIN (best, dx * dx + dy * dy + dz * dz);
        }
      out[a] = sqrt (best);
    }
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static void
test_brute_force (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  const double s[3] = { 0.68, 0.93, 2.2 };
  for (int trial = 0; trial < 6; trial++)
    {
      int nx = 12 + trial * 5, ny = 10 + trial * 3, nz = 4 + trial * 2;
      g_autoptr (MmMask) a = mask_new (nx, ny, nz);
      g_autoptr (MmMask) b = mask_new (nx, ny, nz);
      fill_balls (a, rand, 1 + trial);
      fill_balls (b, rand, 1 + trial);
      g_autoptr (MmMetrics) m = compute (a, b, s[0], s[1], s[2], 0);
      if (mm_mask_count (a) == 0 || mm_mask_count (b) == 0)
        continue;
      Points pa = surface_points (a, s), pb = surface_points (b, s);
      g_assert_cmpuint (m->truth_surface_voxels, ==, pa.n);
      g_assert_cmpuint (m->pred_surface_voxels, ==, pb.n);
      size_t n = pa.n + pb.n;
      g_autofree double *d = g_new (double, n);
      brute_distances (&pa, &pb, d);
      brute_distances (&pb, &pa, d + pa.n);
      double sum = 0;
      for (size_t x = 0; x < n; x++)
        sum += d[x];
      qsort (d, n, sizeof *d, cmp_double);
      /* numpy's default percentile: linear between the order statistics around rank. */
      double rank = 0.95 * (n - 1);
      size_t lo = (size_t) floor (rank), hi = MIN (lo + 1, n - 1);
      double hd95 = d[lo] + (rank - lo) * (d[hi] - d[lo]);
      g_assert_cmpfloat_with_epsilon (m->hd95_mm, hd95, 1e-9);
      g_assert_cmpfloat_with_epsilon (m->assd_mm, sum / n, 1e-9);
      g_assert_cmpfloat_with_epsilon (m->hausdorff_mm, d[n - 1], 1e-9);
      g_free (pa.p);
      g_free (pb.p);
    }
}

/* Every figure, per slice included, is identical with 1 and 2 threads: the distances are
 * gathered in raster order and summed in one fixed order, so not even rounding differs. */
static void
test_threads (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  g_autoptr (MmMask) a = mask_new (97, 83, 41);
  g_autoptr (MmMask) b = mask_new (97, 83, 41);
  fill_balls (a, rand, 40);
  fill_balls (b, rand, 40);
  g_autoptr (MmMetrics) one = compute (a, b, 0.8, 0.8, 1.25, 1);
  g_autoptr (MmMetrics) two = compute (a, b, 0.8, 0.8, 1.25, 2);
  g_assert_cmpuint (one->truth_surface_voxels, >, 1000);
  g_assert_true (one->dice > 0 && one->dice < 1);
  g_assert_cmpuint (one->tp, ==, two->tp);
  g_assert_cmpuint (one->fp, ==, two->fp);
  g_assert_cmpuint (one->fn, ==, two->fn);
  g_assert_cmpfloat (one->dice, ==, two->dice);
  g_assert_cmpfloat (one->hd95_mm, ==, two->hd95_mm);
  g_assert_cmpfloat (one->assd_mm, ==, two->assd_mm);
  g_assert_cmpfloat (one->hausdorff_mm, ==, two->hausdorff_mm);
  g_assert_cmpmem (one->slices, sizeof (MmSliceMetrics) * a->dims[2], two->slices,
                   sizeof (MmSliceMetrics) * a->dims[2]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/cubes/shift-x", test_cubes_shift_x);
  g_test_add_func ("/metrics/cubes/shift-z-anisotropic", test_cubes_shift_z_anisotropic);
  g_test_add_func ("/metrics/hd95/pooled-percentile", test_percentile_convention);
  g_test_add_func ("/metrics/identical", test_identical);
  g_test_add_func ("/metrics/empty", test_empty);
  g_test_add_func ("/metrics/errors", test_errors);
  g_test_add_func ("/metrics/random-vs-brute-force", test_brute_force);
  g_test_add_func ("/metrics/threads", test_threads);
  return g_test_run ();
}
