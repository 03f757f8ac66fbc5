/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the imaging core against truths known by construction or computed by a
 * second, deliberately naive implementation in this file. */
#include "mm-test-util.h"
#include "mm-atomic.h"
#include "mm-components.h"
#include "mm-label-stack.h"
#include "mm-phantom.h"
#include "mm-png.h"
#include "mm-segment.h"
#include "mm-stats.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <omp.h>
#include <string.h>

static double
dice (const MmMask *a, const MmMask *b)
{
  uint64_t inter = 0, na = 0, nb = 0;
  for (size_t x = 0; x < mm_mask_n_voxels (a); x++)
    {
      inter += a->data[x] && b->data[x];
      na += a->data[x] != 0;
      nb += b->data[x] != 0;
    }
  return na + nb ? 2.0 * inter / (double) (na + nb) : 1.0;
}

/* ---- geometry ---- */

static void
test_volume_geometry (void)
{
  /* A hand-checked case: 4 x 3 x 2 voxels, spacing 0.5 x 2 x 3 mm, rows along +y, columns
   * along -x, so the normal is +z. */
  int dims[3] = { 4, 3, 2 };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_INT16);
  const double dir[9] = { 0, 1, 0, -1, 0, 0, 0, 0, 1 };
  memcpy (vol->direction, dir, sizeof dir);
  vol->spacing[0] = 0.5;
  vol->spacing[1] = 2.0;
  vol->spacing[2] = 3.0;
  const double p0[3] = { 10, 20, 30 }, p1[3] = { 10, 20, 33 };
  memcpy (vol->slices[0].position, p0, sizeof p0);
  memcpy (vol->slices[1].position, p1, sizeof p1);

  double lps[3], ijk[3];
  mm_volume_index_to_lps (vol, 3, 2, 1, lps);
  /* (10,20,33) + 3*0.5*(0,1,0) + 2*2*(-1,0,0) = (6, 21.5, 33) */
  g_assert_cmpfloat_with_epsilon (lps[0], 6.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (lps[1], 21.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (lps[2], 33.0, 1e-12);
  mm_volume_lps_to_index (vol, lps, ijk);
  g_assert_cmpfloat_with_epsilon (ijk[0], 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (ijk[1], 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (ijk[2], 1.0, 1e-12);

  double c[3], ras[3];
  mm_volume_centre_lps (vol, c);
  /* midpoint of (10,20,30) and (6,21.5,33) */
  g_assert_cmpfloat_with_epsilon (c[0], 8.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (c[1], 20.75, 1e-12);
  g_assert_cmpfloat_with_epsilon (c[2], 31.5, 1e-12);
  mm_lps_to_ras (c, ras);
  g_assert_cmpfloat (ras[0], ==, -8.0);
  g_assert_cmpfloat (ras[1], ==, -20.75);
  g_assert_cmpfloat (ras[2], ==, 31.5);
  g_assert_cmpstr (mm_volume_orientation_name (vol), ==, "axial");
}

static void
test_phantom_centre_tilted (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (64, 9, 1, 0, 25.0);
  double c[3];
  mm_volume_centre_lps (ph->volume, c);
  for (int a = 0; a < 3; a++)
    g_assert_cmpfloat_with_epsilon (c[a], ph->centre_lps[a], 1e-9);
  g_assert_cmpstr (mm_volume_orientation_name (ph->volume), ==, "oblique");
}

/* ---- phantom variants ---- */

static MmPhantom *
variant_phantom (int size, int slices, int variant, guint64 seed, double noise)
{
  MmPhantomParams p;
  mm_phantom_params_init (&p);
  p.size = size;
  p.slices = slices;
  p.variant = variant;
  p.seed = seed;
  p.noise_sd = noise;
  g_autoptr (GError) err = NULL;
  MmPhantom *ph = mm_phantom_new (&p, &err);
  g_assert_no_error (err);
  return ph;
}

/* FNV-1a over int16 values, low byte first, or over bytes. */
static guint64
fnv1a (const void *data, size_t n, bool int16)
{
  guint64 h = 0xcbf29ce484222325ULL;
  const uint8_t *b = data;
  const int16_t *w = data;
  for (size_t x = 0; x < n; x++)
    if (int16)
      {
        uint16_t v = (uint16_t) w[x];
        h = (h ^ (v & 0xff)) * 0x100000001b3ULL;
        h = (h ^ (v >> 8)) * 0x100000001b3ULL;
      }
    else
      h = (h ^ b[x]) * 0x100000001b3ULL;
  return h;
}

/* Variant 0 is bit for bit what it was before variants existed: the hashes were taken (with
 * pydicom) from the series and truth the original implementation wrote for these parameters. */
static void
test_phantom_fixed_unchanged (void)
{
  MmPhantomParams p;
  mm_phantom_params_init (&p);
  g_assert_cmpint (p.variant, ==, 0);
  p.size = 64;
  p.slices = 12;
  p.seed = 8;
  p.noise_sd = 30;
  p.tilt_deg = 12;
  g_autoptr (GError) err = NULL;
  g_autoptr (MmPhantom) ph = mm_phantom_new (&p, &err);
  g_assert_no_error (err);
  size_t n = mm_volume_n_voxels (ph->volume);
  g_assert_cmphex (fnv1a (ph->volume->voxels, n, true), ==, 0xd8c1e32db032de1aULL);
  g_assert_cmphex (fnv1a (ph->truth->data, n, false), ==, 0xa64e71e269b95905ULL);
  g_assert_cmpuint (ph->metal_voxels, ==, 100);
  g_assert_cmpint (ph->variant, ==, 0);
  g_assert_cmpint (ph->n_objects, ==, 2);
  g_assert_cmpstr (ph->objects[0].kind, ==, "stem");
  g_assert_cmpuint (ph->objects[0].voxels, ==, ph->object_voxels[0]);
  g_assert_cmpuint (ph->objects[1].voxels, ==, ph->object_voxels[1]);
}

/* Every voxel of a variant outside its truth is below 3000 HU and every one inside at or above
 * it, whatever the noise, so the default segmentation finds exactly the truth. */
static void
test_phantom_variant_truth_is_threshold (void)
{
  int with_metal = 0;
  for (int v = 1; v <= 12; v++)
    for (int nz = 0; nz < 2; nz++)
      {
        double noise = nz ? (v % 4 == 0 ? 400 : 20) : 0;
        g_autoptr (MmPhantom) ph = variant_phantom (192, 24, v, 3, noise);
        const int16_t *hu = ph->volume->voxels;
        size_t n = mm_volume_n_voxels (ph->volume);
        uint64_t inside = 0;
        for (size_t x = 0; x < n; x++)
          {
            if (ph->truth->data[x])
              g_assert_cmpint (hu[x], >=, 3000);
            else
              g_assert_cmpint (hu[x], <, 3000);
            inside += ph->truth->data[x];
          }
        g_assert_cmpuint (inside, ==, ph->metal_voxels);
        uint64_t by_object = 0;
        for (int o = 0; o < ph->n_objects; o++)
          by_object += ph->objects[o].voxels;
        g_assert_cmpuint (by_object, ==, ph->metal_voxels);
        g_assert_cmpint (ph->n_objects, <=, 4);
        g_assert_cmpint (ph->n_objects == 0, ==, v % 10 == 0);

        MmSegmentParams sp;
        mm_segment_params_init (&sp);
        MmSegmentResult res;
        g_autoptr (MmMask) m = mm_segment_metal (ph->volume, &sp, &res, 0);
        g_assert_true (mm_mask_equal (m, ph->truth));
        g_assert_cmpuint (res.metal_voxels, ==, ph->metal_voxels);
        g_assert_cmpint (res.components, ==, ph->metal_components);
        with_metal += ph->metal_voxels > 0;

        if (noise == 0)
          {
            /* The noise-free figures are those of the voxels. */
            g_autoptr (MmStats) st = mm_stats_compute (ph->volume, 0);
            g_assert_cmpfloat (st->max, ==, ph->max_hu);
            g_assert_cmpfloat (st->min, ==, ph->min_hu);
            g_assert_cmpfloat_with_epsilon (st->mean, ph->mean_hu, 1e-9);
            g_assert_cmpuint (st->n_padding, ==, ph->n_padding);
            g_assert_cmpfloat_with_epsilon (st->mean_without_padding,
                                            ph->mean_without_padding_hu, 1e-9);
          }
      }
  g_assert_cmpint (with_metal, >=, 18);
}

/* The same (seed, variant) gives the same phantom with 1 or 2 threads; any other differs. */
/* Pixel Padding Range Limit: every value between it and the Pixel Padding Value (either
 * order) is padding, for int16 and float volumes alike; counted by hand here. */
static void
test_stats_padding_range (void)
{
  const int dims[3] = { 4, 2, 1 };
  const double values[8] = { -2000, -1500, -1000, -999, 0, 40, -1000.5, 3000 };
  for (int t = 0; t < 2; t++)
    {
      MmVoxelType type = t == 0 ? MM_VOXEL_INT16 : MM_VOXEL_FLOAT32;
      g_autoptr (MmVolume) vol = mm_volume_new (dims, type);
      for (int x = 0; x < 8; x++)
        if (type == MM_VOXEL_INT16)
          ((int16_t *) vol->voxels)[x] = (int16_t) (x == 6 ? -1001 : values[x]);
        else
          ((float *) vol->voxels)[x] = (float) values[x];
      vol->has_padding_value = true;
      vol->padding_value_hu = -1000; /* the limit below the value: the order does not matter */
      vol->has_padding_range = true;
      vol->padding_limit_hu = -2000;
      g_autoptr (MmStats) st = mm_stats_compute (vol, 2);
      /* Padding: -2000, -1500, -1000 and -1001 (or -1000.5); kept: -999, 0, 40, 3000. */
      g_assert_cmpint (st->n_padding, ==, 4);
      g_assert_cmpfloat_with_epsilon (st->mean_without_padding, (-999 + 0 + 40 + 3000) / 4.0,
                                      1e-9);
      g_assert_cmpfloat (st->padding_lo, ==, -2000);
      g_assert_cmpfloat (st->padding_hi, ==, -1000);
    }
}

static void
test_phantom_variant_deterministic (void)
{
  int threads = omp_get_max_threads ();
  omp_set_num_threads (1);
  g_autoptr (MmPhantom) a = variant_phantom (128, 20, 5, 7, 20);
  omp_set_num_threads (2);
  g_autoptr (MmPhantom) b = variant_phantom (128, 20, 5, 7, 20);
  omp_set_num_threads (threads);
  size_t n = mm_volume_n_voxels (a->volume);
  g_assert_cmpmem (a->volume->voxels, n * 2, b->volume->voxels, n * 2);
  g_assert_true (mm_mask_equal (a->truth, b->truth));
  g_assert_cmpstr (a->volume->series_uid, ==, b->volume->series_uid);
  g_assert_cmpfloat (a->mean_hu, ==, b->mean_hu);
  g_assert_cmpint (a->metal_components, ==, b->metal_components);

  g_autoptr (MmPhantom) other_variant = variant_phantom (128, 20, 6, 7, 20);
  g_autoptr (MmPhantom) other_seed = variant_phantom (128, 20, 5, 8, 20);
  g_autoptr (MmPhantom) fixed = variant_phantom (128, 20, 0, 7, 20);
  for (int i = 0; i < 3; i++)
    {
      MmPhantom *o = i == 0 ? other_variant : i == 1 ? other_seed : fixed;
      g_assert_true (memcmp (a->volume->voxels, o->volume->voxels, n * 2) != 0);
      g_assert_false (mm_mask_equal (a->truth, o->truth));
      g_assert_cmpstr (a->volume->series_uid, !=, o->volume->series_uid);
    }
}

/* Noise only adds noise: the SD asked for, neighbours correlated as in a real CT, nothing
 * else changed. */
static void
test_phantom_variant_noise (void)
{
  g_autoptr (MmPhantom) clean = variant_phantom (128, 8, 3, 1, 0);
  g_autoptr (MmPhantom) noisy = variant_phantom (128, 8, 3, 1, 15);
  const int16_t *a = clean->volume->voxels, *b = noisy->volume->voxels;
  int n = 128;
  double s2 = 0, sx = 0, sy = 0, sum = 0;
  uint64_t count = 0;
  for (int k = 0; k < 8; k++)
    for (int j = 1; j < n; j++)
      for (int i = 1; i < n; i++)
        {
          size_t x = ((size_t) k * n + j) * n + i;
          bool soft = true;
          for (int d = 0; d < 3; d++)
            {
              size_t y = d == 0 ? x : d == 1 ? x - 1 : x - n;
              soft = soft && a[y] > -900 && a[y] < 2000;
            }
          if (!soft)
            continue;
          double e = b[x] - a[x], ex = b[x - 1] - a[x - 1], ey = b[x - n] - a[x - n];
          sum += e, s2 += e * e, sx += e * ex, sy += e * ey;
          count++;
        }
  g_assert_cmpuint (count, >, 20000);
  g_assert_cmpfloat (fabs (sum / count), <, 1.0);
  g_assert_cmpfloat (fabs (sqrt (s2 / count) - 15), <, 1.0);
  g_assert_cmpfloat (fabs (sx / s2 - 0.67), <, 0.08);
  g_assert_cmpfloat (fabs (sy / s2 - 0.67), <, 0.08);
  g_assert_true (mm_mask_equal (clean->truth, noisy->truth));
  g_assert_cmpfloat (clean->mean_hu, ==, noisy->mean_hu);
}

static void
test_phantom_variant_negative (void)
{
  for (int v = 10; v <= 30; v += 10)
    {
      g_autoptr (MmPhantom) ph = variant_phantom (96, 10, v, 1, 20);
      g_assert_cmpint (ph->n_objects, ==, 0);
      g_assert_cmpuint (ph->metal_voxels, ==, 0);
      g_assert_cmpint (ph->metal_components, ==, 0);
      g_assert_cmpuint (mm_mask_count (ph->truth), ==, 0);
      g_assert_cmpfloat (ph->max_hu, <, 3000);
    }
  MmPhantomParams p;
  mm_phantom_params_init (&p);
  p.variant = -1;
  g_autoptr (GError) err = NULL;
  g_assert_null (mm_phantom_new (&p, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* ---- statistics ---- */

static void
test_stats_phantom (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (96, 30, 1, 0, 0);
  g_autoptr (MmStats) st = mm_stats_compute (ph->volume, 0);
  g_assert_cmpfloat (st->max, ==, ph->max_hu);
  g_assert_cmpfloat (st->min, ==, ph->min_hu);
  g_assert_cmpfloat_with_epsilon (st->mean, ph->mean_hu, 1e-9);
  g_assert_cmpint (st->padding_source, ==, MM_PADDING_DETECTED);
  g_assert_cmpfloat (st->padding_value, ==, MM_PHANTOM_PADDING_HU);
  g_assert_cmpuint (st->n_padding, ==, ph->n_padding);
  g_assert_cmpfloat_with_epsilon (st->mean_without_padding, ph->mean_without_padding_hu, 1e-9);

  /* With a Pixel Padding Value the tag wins, whatever is outside the circle. */
  ph->volume->has_padding_value = true;
  ph->volume->padding_value_hu = -1000; /* the phantom's air */
  g_autoptr (MmStats) st2 = mm_stats_compute (ph->volume, 0);
  g_assert_cmpint (st2->padding_source, ==, MM_PADDING_TAG);
  g_assert_cmpfloat (st2->padding_value, ==, -1000);
  g_assert_cmpuint (st2->n_padding, >, 0);
}

static void
test_stats_no_padding (void)
{
  /* A volume with noise everywhere, including the corners: no padding may be claimed. */
  int dims[3] = { 32, 32, 4 };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_INT16);
  int16_t *v = vol->voxels;
  GRand *r = g_rand_new_with_seed (7);
  for (size_t x = 0; x < mm_volume_n_voxels (vol); x++)
    v[x] = (int16_t) g_rand_int_range (r, -1100, 1500);
  g_rand_free (r);
  g_autoptr (MmStats) st = mm_stats_compute (vol, 1);
  g_assert_cmpint (st->padding_source, ==, MM_PADDING_NONE);
  g_assert_cmpfloat (st->mean_without_padding, ==, st->mean);
  /* The naive mean. */
  double sum = 0;
  for (size_t x = 0; x < mm_volume_n_voxels (vol); x++)
    sum += v[x];
  g_assert_cmpfloat_with_epsilon (st->mean, sum / mm_volume_n_voxels (vol), 1e-9);
}

static void
test_stats_threads (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (64, 17, 1, 40, 0);
  g_autoptr (MmStats) a = mm_stats_compute (ph->volume, 1);
  g_autoptr (MmStats) b = mm_stats_compute (ph->volume, 4);
  g_assert_cmpfloat (a->mean, ==, b->mean);
  g_assert_cmpfloat (a->mean_without_padding, ==, b->mean_without_padding);
  g_assert_cmpfloat (a->min, ==, b->min);
  g_assert_cmpfloat (a->max, ==, b->max);
  g_assert_cmpint (a->n_bins, ==, b->n_bins);
  g_assert_cmpmem (a->hist, a->n_bins * sizeof (uint64_t), b->hist, b->n_bins * sizeof (uint64_t));
}

/* ---- components: compared with a plain flood fill ---- */

static int
flood_fill_labels (const MmMask *m, int *labels)
{
  int w = m->dims[0], h = m->dims[1], d = m->dims[2];
  size_t n = mm_mask_n_voxels (m);
  memset (labels, 0, n * sizeof (int));
  int next = 0;
  GArray *stack = g_array_new (FALSE, FALSE, sizeof (size_t));
  for (size_t s = 0; s < n; s++)
    {
      if (!m->data[s] || labels[s])
        continue;
      labels[s] = ++next;
      g_array_append_val (stack, s);
      while (stack->len)
        {
          size_t x = g_array_index (stack, size_t, stack->len - 1);
          g_array_set_size (stack, stack->len - 1);
          int i = x % w, j = (x / w) % h, k = x / ((size_t) w * h);
          for (int dk = -1; dk <= 1; dk++)
            for (int dj = -1; dj <= 1; dj++)
              for (int di = -1; di <= 1; di++)
                {
                  int ii = i + di, jj = j + dj, kk = k + dk;
                  if (ii < 0 || jj < 0 || kk < 0 || ii >= w || jj >= h || kk >= d)
                    continue;
                  size_t y = ((size_t) kk * h + jj) * w + ii;
                  if (m->data[y] && !labels[y])
                    {
                      labels[y] = next;
                      g_array_append_val (stack, y);
                    }
                }
        }
    }
  g_array_free (stack, TRUE);
  return next;
}

static void
test_components_random (void)
{
  /* Random masks of several densities: the run-based labelling must give the same partition
   * as the flood fill, numbered the same way (scan order of first voxel). */
  const double densities[] = { 0.05, 0.2, 0.35, 0.6 };
  GRand *r = g_rand_new_with_seed (42);
  for (size_t t = 0; t < G_N_ELEMENTS (densities); t++)
    for (int threads = 1; threads <= 3; threads += 2)
      {
        int dims[3] = { 23, 17, 11 };
        g_autoptr (MmMask) m = mm_mask_new (dims);
        for (size_t x = 0; x < mm_mask_n_voxels (m); x++)
          m->data[x] = g_rand_double (r) < densities[t];
        g_autofree int *ref = g_new (int, mm_mask_n_voxels (m));
        int n_ref = flood_fill_labels (m, ref);
        g_autoptr (MmComponents) c = mm_components_label (m, threads);
        g_assert_cmpint (mm_components_count (c), ==, n_ref);
        g_autofree uint64_t *sizes = g_new0 (uint64_t, n_ref + 1);
        for (int k = 0; k < dims[2]; k++)
          for (int j = 0; j < dims[1]; j++)
            for (int i = 0; i < dims[0]; i++)
              {
                size_t x = ((size_t) k * dims[1] + j) * dims[0] + i;
                g_assert_cmpint (mm_components_label_at (c, i, j, k), ==, ref[x]);
                sizes[ref[x]]++;
              }
        for (int l = 1; l <= n_ref; l++)
          g_assert_cmpuint (mm_components_get (c, l)->voxels, ==, sizes[l]);
      }
  g_rand_free (r);
}

static void
test_components_diagonal (void)
{
  /* Two voxels touching only at a corner across slices are one component (26-connected);
   * one voxel two columns away is another. */
  int dims[3] = { 5, 5, 2 };
  g_autoptr (MmMask) m = mm_mask_new (dims);
  m->data[(0 * 5 + 1) * 5 + 1] = 1;  /* (1,1,0) */
  m->data[(1 * 5 + 2) * 5 + 2] = 1;  /* (2,2,1) */
  m->data[(1 * 5 + 2) * 5 + 4] = 1;  /* (4,2,1) */
  g_autoptr (MmComponents) c = mm_components_label (m, 1);
  g_assert_cmpint (mm_components_count (c), ==, 2);
  g_assert_cmpint (mm_components_label_at (c, 1, 1, 0), ==, mm_components_label_at (c, 2, 2, 1));
  g_assert_cmpint (mm_components_get (c, 1)->voxels, ==, 2);
  g_assert_cmpint (mm_components_get (c, 2)->voxels, ==, 1);
}

/* ---- segmentation ---- */

static void
test_segment_phantom (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (128, 40, 1, 0, 0);
  MmSegmentParams p;
  mm_segment_params_init (&p);
  MmSegmentResult res;
  g_autoptr (MmMask) m = mm_segment_metal (ph->volume, &p, &res, 0);
  g_assert_cmpfloat (dice (m, ph->truth), ==, 1.0);
  g_assert_true (mm_mask_equal (m, ph->truth));
  g_assert_cmpuint (res.metal_voxels, ==, ph->metal_voxels);
  g_assert_cmpint (res.components, ==, ph->metal_components);

  /* min-volume between the two objects' volumes drops the fragment only. */
  double vox = mm_volume_voxel_mm3 (ph->volume);
  p.min_volume_mm3 = (ph->object_voxels[1] + 1) * vox;
  g_assert_cmpuint (ph->object_voxels[1], <, ph->object_voxels[0]);
  g_autoptr (MmMask) m2 = mm_segment_metal (ph->volume, &p, &res, 0);
  g_assert_cmpint (res.components, ==, 1);
  g_assert_cmpint (res.components_dropped, ==, 1);
  g_assert_cmpuint (res.metal_voxels, ==, ph->object_voxels[0]);

  /* An upper bound below the stem's HU keeps only the fragment. */
  mm_segment_params_init (&p);
  p.has_upper = true;
  p.upper = ph->object_hu[0] - 1;
  g_autoptr (MmMask) m3 = mm_segment_metal (ph->volume, &p, &res, 0);
  g_assert_cmpuint (res.metal_voxels, ==, ph->object_voxels[1]);
}

static void
test_segment_noise_threads (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (128, 40, 1, 60, 0);
  MmSegmentParams p;
  mm_segment_params_init (&p);
  MmSegmentResult r1, r2;
  g_autoptr (MmMask) a = mm_segment_metal (ph->volume, &p, &r1, 1);
  g_autoptr (MmMask) b = mm_segment_metal (ph->volume, &p, &r2, 2);
  g_assert_cmpfloat (dice (a, ph->truth), >=, 0.99);
  g_assert_true (mm_mask_equal (a, b));
  g_assert_cmpuint (r1.metal_voxels, ==, r2.metal_voxels);
  g_assert_cmpint (r1.components, ==, r2.components);
}

/* ---- label stacks ---- */

static void
test_label_stack_round_trip (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (64, 12, 1, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_label_stack_write (dir, ph->truth, ph->volume, NULL, 0, &err));
  g_assert_no_error (err);

  /* Without a volume: manifest order. */
  g_autoptr (MmMask) back = mm_label_stack_read (dir, NULL, &err);
  g_assert_no_error (err);
  g_assert_true (mm_mask_equal (back, ph->truth));

  /* With a volume whose slices are in reverse order: matched by SOP Instance UID. */
  MmVolume *v = ph->volume;
  int n = v->dims[2];
  for (int k = 0; k < n / 2; k++)
    {
      char *t = v->slices[k].sop_instance_uid;
      v->slices[k].sop_instance_uid = v->slices[n - 1 - k].sop_instance_uid;
      v->slices[n - 1 - k].sop_instance_uid = t;
    }
  g_autoptr (MmMask) rev = mm_label_stack_read (dir, v, &err);
  g_assert_no_error (err);
  size_t sl = (size_t) v->dims[0] * v->dims[1];
  for (int k = 0; k < n; k++)
    g_assert_cmpmem (mm_mask_slice (rev, k), sl, mm_mask_slice (ph->truth, n - 1 - k), sl);

  /* No temporary files left behind. */
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  int files = 0;
  while ((name = g_dir_read_name (d)))
    {
      g_assert_null (strstr (name, ".tmp"));
      files++;
    }
  g_dir_close (d);
  g_assert_cmpint (files, ==, n + 1);
  mm_test_rm_rf (dir);
}

static void
expect_read_error (const char *dir, const MmVolume *vol, const char *needle)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (MmMask) m = mm_label_stack_read (dir, vol, &err);
  g_assert_null (m);
  g_assert_nonnull (err);
  if (strstr (err->message, needle) == NULL)
    g_error ("error \"%s\" does not mention \"%s\"", err->message, needle);
  g_assert_null (strchr (err->message, '\n'));
}

static void
test_label_stack_errors (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 5, 1, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test");
  g_autoptr (GError) err = NULL;
  expect_read_error (dir, NULL, "manifest.json");
  g_assert_true (mm_label_stack_write (dir, ph->truth, ph->volume, NULL, 0, &err));

  /* A first write into an empty folder is generation 1. */
  g_autofree char *name2
      = mm_label_stack_file_name_gen (2, 5, ph->volume->slices[2].instance_number, 1);
  g_autofree char *p2 = g_build_filename (dir, name2, NULL);
  g_autofree char *p2_away = g_strconcat (p2, ".away", NULL);

  /* Missing PNG. */
  g_assert_cmpint (g_rename (p2, p2_away), ==, 0);
  expect_read_error (dir, NULL, name2);
  expect_read_error (dir, NULL, "missing");
  g_assert_cmpint (g_rename (p2_away, p2), ==, 0);

  /* Mis-sized PNG. */
  uint8_t small[8 * 8] = { 0 };
  g_assert_true (mm_png_write_gray8 (p2, small, 8, 8, false, &err));
  expect_read_error (dir, NULL, "8 x 8");
  /* Not binary. */
  g_autofree uint8_t *grey = g_malloc0 (32 * 32);
  grey[5] = 17;
  g_assert_true (mm_png_write_gray8 (p2, grey, 32, 32, false, &err));
  expect_read_error (dir, NULL, "value 17");
  grey[5] = 0;
  g_assert_true (mm_png_write_gray8 (p2, grey, 32, 32, false, &err));

  /* Misnamed: the manifest names slice 3's file for slice 3 under another name. */
  g_autofree char *manifest = g_build_filename (dir, "manifest.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (manifest, &text, NULL, NULL));
  /* A first write into an empty folder is generation 1. */
  g_autofree char *name3
      = mm_label_stack_file_name_gen (3, 5, ph->volume->slices[3].instance_number, 1);
  GString *bad = g_string_new (text);
  g_string_replace (bad, name3, "slice3.png", 1);
  g_assert_true (g_file_set_contents (manifest, bad->str, -1, NULL));
  g_string_free (bad, TRUE);
  expect_read_error (dir, NULL, "misnamed");

  /* An empty manifest: json-glib parses it without a root node, which the reader took for
   * a node (a critical, fatal in the tests); found by fuzz-label-manifest. The JSON loader
   * refuses it first, saying so. */
  g_assert_true (g_file_set_contents (manifest, "", 0, NULL));
  expect_read_error (dir, NULL, "empty");
  double spacing[3];
  g_assert_false (mm_label_stack_read_geometry (dir, spacing, NULL, &err));
  g_assert_nonnull (strstr (err->message, manifest));
  g_clear_error (&err);
  g_assert_true (g_file_set_contents (manifest, text, -1, NULL));

  /* A series of another size. */
  g_autoptr (MmPhantom) other = mm_test_phantom (32, 6, 1, 0, 0);
  expect_read_error (dir, other->volume, "32 x 32 x 5");
  mm_test_rm_rf (dir);
}

/* A manifest whose members hold other JSON types than the writer gives them (hand-edited or
 * hostile): refused with an error naming what is wrong, never a GLib critical (json-glib's
 * getters emit one for a member of another type; fatal in the tests). Found by
 * fuzz-label-manifest. */
static void
test_label_stack_wrong_types (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 3, 1, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_label_stack_write (dir, ph->truth, ph->volume, NULL, 0, &err));
  g_autofree char *manifest = g_build_filename (dir, "manifest.json", NULL);
  g_autofree char *good = NULL;
  g_assert_true (g_file_get_contents (manifest, &good, NULL, NULL));
  static const struct
  {
    bool in_slice; /* the member of the second "slices" entry, else of the manifest */
    const char *member, *json, *needle;
  } cases[] = {
    { false, "format", "{}", "not a Metalmark label stack manifest" },
    { false, "version", "[1]", "unsupported label stack version" },
    { false, "dims", "5", "lacks \"dims\"" },
    { false, "dims", "[\"32\", 32, 3]", "\"dims\" [0] is not positive" },
    { false, "slices", "{}", "lacks \"dims\" or \"slices\"" },
    { false, "slices", "[1, 2, 3]", "not an object" },
    { true, "index", "\"1\"", "valid index" },
    { true, "file", "7", "valid index or file" },
    { true, "instance_number", "\"2\"", "instance_number" },
    { true, "instance_number", "{}", "instance_number" },
    { true, "sop_instance_uid", "[]", "not a slice of this series" },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_assert_true (json_parser_load_from_data (parser, good, -1, NULL));
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      if (cases[c].in_slice)
        o = json_array_get_object_element (json_object_get_array_member (o, "slices"), 1);
      json_object_set_member (o, cases[c].member, json_from_string (cases[c].json, NULL));
      g_autofree char *bad = json_to_string (json_parser_get_root (parser), FALSE);
      g_assert_true (g_file_set_contents (manifest, bad, -1, NULL));
      g_test_message ("%s", bad);
      expect_read_error (dir, ph->volume, cases[c].needle);
    }
  g_assert_true (g_file_set_contents (manifest, good, -1, NULL));

  /* The geometry reader: "spacing_mm" of strings. */
  g_autoptr (MmMask) ok = mm_label_stack_read (dir, ph->volume, &err);
  g_assert_no_error (err);
  GString *bad = g_string_new (good);
  g_assert_cmpuint (g_string_replace (bad, "\"spacing_mm\" : [", "\"spacing_mm\" : [\"1\", ", 1), ==, 1);
  g_assert_true (g_file_set_contents (manifest, bad->str, -1, NULL));
  g_string_free (bad, TRUE);
  double spacing[3];
  g_assert_false (mm_label_stack_read_geometry (dir, spacing, NULL, &err));
  g_assert_nonnull (strstr (err->message, "spacing_mm"));
  mm_test_rm_rf (dir);
}

static void
test_atomic_write (void)
{
  g_autofree char *dir = mm_test_tmp_dir ("mm-test");
  g_autofree char *path = g_build_filename (dir, "f.txt", NULL);
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_atomic_write (path, "old", 3, true, &err));
  g_assert_true (mm_atomic_write (path, "new!", 4, true, &err));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "new!");
  /* A folder that does not exist: an error naming the file, nothing written. */
  g_autofree char *bad = g_build_filename (dir, "no", "such", "f.txt", NULL);
  g_assert_false (mm_atomic_write (bad, "x", 1, true, &err));
  g_assert_nonnull (strstr (err->message, bad));
  mm_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/volume/geometry", test_volume_geometry);
  g_test_add_func ("/core/volume/phantom-centre-tilted", test_phantom_centre_tilted);
  g_test_add_func ("/core/phantom/fixed-unchanged", test_phantom_fixed_unchanged);
  g_test_add_func ("/core/phantom/variant-truth-is-threshold",
                   test_phantom_variant_truth_is_threshold);
  g_test_add_func ("/core/phantom/variant-deterministic", test_phantom_variant_deterministic);
  g_test_add_func ("/core/phantom/variant-noise", test_phantom_variant_noise);
  g_test_add_func ("/core/phantom/variant-negative", test_phantom_variant_negative);
  g_test_add_func ("/core/stats/phantom", test_stats_phantom);
  g_test_add_func ("/core/stats/no-padding", test_stats_no_padding);
  g_test_add_func ("/core/stats/threads", test_stats_threads);
  g_test_add_func ("/core/stats/padding-range", test_stats_padding_range);
  g_test_add_func ("/core/components/random-vs-flood-fill", test_components_random);
  g_test_add_func ("/core/components/diagonal", test_components_diagonal);
  g_test_add_func ("/core/segment/phantom", test_segment_phantom);
  g_test_add_func ("/core/segment/noise-threads", test_segment_noise_threads);
  g_test_add_func ("/core/label-stack/round-trip", test_label_stack_round_trip);
  g_test_add_func ("/core/label-stack/errors", test_label_stack_errors);
  g_test_add_func ("/core/label-stack/wrong-types", test_label_stack_wrong_types);
  g_test_add_func ("/core/atomic/write", test_atomic_write);
  return g_test_run ();
}
