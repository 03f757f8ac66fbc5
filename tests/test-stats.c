/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the volume statistics (mm-stats.c): the phantom's figures known by construction,
 * padding counted by hand, the same figures with any thread count. */
#include "mm-test-util.h"
#include "mm-stats.h"

#include <math.h>
#include <omp.h>
#include <string.h>

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/stats/phantom", test_stats_phantom);
  g_test_add_func ("/core/stats/no-padding", test_stats_no_padding);
  g_test_add_func ("/core/stats/threads", test_stats_threads);
  g_test_add_func ("/core/stats/padding-range", test_stats_padding_range);
  return g_test_run ();
}
