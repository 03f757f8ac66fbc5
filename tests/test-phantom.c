/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the synthetic CT (mm-phantom*.c): its geometry, variant 0 bit for bit, and the
 * variants' truth, determinism and noise. */
#include "mm-test-util.h"
#include "mm-segment.h"
#include "mm-stats.h"

#include <gio/gio.h>
#include <math.h>
#include <omp.h>
#include <string.h>

/* ---- references ---- */

/* A reference outlives the first free (an export writing the series the user closed), and
 * a header copy starts with a reference of its own (ASan reports the use after free that a
 * shared count would cause). */
static void
test_volume_ref (void)
{
  int dims[3] = { 3, 2, 2 };
  MmVolume *vol = mm_volume_new (dims, MM_VOXEL_INT16);
  int16_t *v = vol->voxels;
  for (size_t i = 0; i < mm_volume_n_voxels (vol); i++)
    v[i] = (int16_t) (i * 7);
  vol->series_uid = g_strdup ("1.2.3");
  g_assert_false (mm_volume_is_shared (vol));
  g_assert_true (mm_volume_ref (vol) == vol);
  g_assert_true (mm_volume_is_shared (vol));
  MmVolume *head = mm_volume_copy_header (vol);
  g_assert_false (mm_volume_is_shared (head));
  mm_volume_free (vol); /* the viewer lets go */
  g_assert_false (mm_volume_is_shared (vol));
  g_assert_cmpint (mm_volume_get (vol, 2, 1, 1), ==, 11 * 7);
  g_assert_cmpstr (vol->series_uid, ==, "1.2.3");
  mm_volume_free (vol); /* the export ends */
  g_assert_cmpstr (head->series_uid, ==, "1.2.3");
  mm_volume_free (head);
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
        g_autoptr (MmPhantom) ph = mm_test_phantom_variant (192, 24, v, 3, noise);
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
static void
test_phantom_variant_deterministic (void)
{
  int threads = omp_get_max_threads ();
  omp_set_num_threads (1);
  g_autoptr (MmPhantom) a = mm_test_phantom_variant (128, 20, 5, 7, 20);
  omp_set_num_threads (2);
  g_autoptr (MmPhantom) b = mm_test_phantom_variant (128, 20, 5, 7, 20);
  omp_set_num_threads (threads);
  size_t n = mm_volume_n_voxels (a->volume);
  g_assert_cmpmem (a->volume->voxels, n * 2, b->volume->voxels, n * 2);
  g_assert_true (mm_mask_equal (a->truth, b->truth));
  g_assert_cmpstr (a->volume->series_uid, ==, b->volume->series_uid);
  g_assert_cmpfloat (a->mean_hu, ==, b->mean_hu);
  g_assert_cmpint (a->metal_components, ==, b->metal_components);

  g_autoptr (MmPhantom) other_variant = mm_test_phantom_variant (128, 20, 6, 7, 20);
  g_autoptr (MmPhantom) other_seed = mm_test_phantom_variant (128, 20, 5, 8, 20);
  g_autoptr (MmPhantom) fixed = mm_test_phantom_variant (128, 20, 0, 7, 20);
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
  g_autoptr (MmPhantom) clean = mm_test_phantom_variant (128, 8, 3, 1, 0);
  g_autoptr (MmPhantom) noisy = mm_test_phantom_variant (128, 8, 3, 1, 15);
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
      g_autoptr (MmPhantom) ph = mm_test_phantom_variant (96, 10, v, 1, 20);
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/volume/geometry", test_volume_geometry);
  g_test_add_func ("/core/volume/ref", test_volume_ref);
  g_test_add_func ("/core/volume/phantom-centre-tilted", test_phantom_centre_tilted);
  g_test_add_func ("/core/phantom/fixed-unchanged", test_phantom_fixed_unchanged);
  g_test_add_func ("/core/phantom/variant-truth-is-threshold",
                   test_phantom_variant_truth_is_threshold);
  g_test_add_func ("/core/phantom/variant-deterministic", test_phantom_variant_deterministic);
  g_test_add_func ("/core/phantom/variant-noise", test_phantom_variant_noise);
  g_test_add_func ("/core/phantom/variant-negative", test_phantom_variant_negative);
  return g_test_run ();
}
