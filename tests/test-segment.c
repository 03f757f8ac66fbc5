/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the threshold segmentation (mm-segment.c) against the phantom's truth. */
#include "mm-test-util.h"
#include "mm-segment.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/segment/phantom", test_segment_phantom);
  g_test_add_func ("/core/segment/noise-threads", test_segment_noise_threads);
  return g_test_run ();
}
