/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Editing operations against brute-force truths: distances computed voxel by voxel, drawn
 * shapes with known holes. */
#include "mm-test-util.h"
#include "mm-edit.h"
#include "mm-edit-oblique.h"
#include "mm-segment.h"

#include <math.h>
#include <string.h>

static MmVolume *
plain_volume (int w, int h, int d, double sx, double sy, double sz)
{
  int dims[3] = { w, h, d };
  MmVolume *vol = mm_volume_new (dims, MM_VOXEL_INT16);
  memset (vol->voxels, 0, mm_volume_n_voxels (vol) * 2);
  vol->spacing[0] = sx, vol->spacing[1] = sy, vol->spacing[2] = sz;
  for (int k = 0; k < d; k++)
    vol->slices[k].position[2] = k * sz;
  return vol;
}

static void
count_touch (int k, gpointer data)
{
  int *touched = data;
  touched[k]++;
}

static double
dist_point_segment (double px, double py, double ax, double ay, double bx, double by)
{
  double vx = bx - ax, vy = by - ay, wx = px - ax, wy = py - ay;
  double t = (vx * wx + vy * wy) / MAX (vx * vx + vy * vy, 1e-12);
  t = CLAMP (t, 0.0, 1.0);
  double dx = px - (ax + t * vx), dy = py - (ay + t * vy);
  return sqrt (dx * dx + dy * dy);
}

static void
test_brush_stroke (void)
{
  g_autoptr (MmVolume) vol = plain_volume (80, 60, 5, 0.8, 0.5, 2.0);
  g_autoptr (MmMask) m = mm_mask_new (vol->dims);
  MmBrush b = { .radius_mm = 3.0, .value = 1 };
  int touched[5] = { 0 };
  /* A fast drag: two pointer events far apart. Plane coordinates are pixels; centres +0.5. */
  double u0 = 10.5, v0 = 12.5, u1 = 70.5, v1 = 40.5;
  uint64_t changed = mm_edit_brush_segment (m, vol, MM_PLANE_AXIAL, 2, u0, v0, u1, v1, &b,
                                            count_touch, touched);
  g_assert_cmpint (touched[2], ==, 1);
  g_assert_cmpint (touched[1] + touched[3], ==, 0);
  uint64_t painted = 0;
  for (int j = 0; j < 60; j++)
    for (int i = 0; i < 80; i++)
      {
        /* Voxel centre (i, j) in mm against the segment between the stamp centres. */
        double d = dist_point_segment (i * 0.8, j * 0.5, (u0 - 0.5) * 0.8, (v0 - 0.5) * 0.5,
                                       (u1 - 0.5) * 0.8, (v1 - 0.5) * 0.5);
        uint8_t v = mm_mask_slice (m, 2)[j * 80 + i];
        painted += v;
        if (d <= 3.0 - 3.0 / 8) /* stamps a quarter radius apart: no gaps inside this */
          g_assert_cmpint (v, ==, 1);
        if (d > 3.0 + 1e-9)
          g_assert_cmpint (v, ==, 0);
      }
  g_assert_cmpuint (changed, ==, painted);
  g_assert_true (mm_mask_slice_is_empty (m, 1) && mm_mask_slice_is_empty (m, 3));

  /* The eraser along the same path clears it; painting again changes nothing. */
  MmBrush e = b;
  e.value = 0;
  g_assert_cmpuint (mm_edit_brush_segment (m, vol, MM_PLANE_AXIAL, 2, u0, v0, u1, v1, &e, NULL,
                                           NULL), ==, painted);
  g_assert_true (mm_mask_slice_is_empty (m, 2));
  memset (touched, 0, sizeof touched);
  g_assert_cmpuint (mm_edit_brush_segment (m, vol, MM_PLANE_AXIAL, 2, u0, v0, u1, v1, &e,
                                           count_touch, touched), ==, 0);
  g_assert_cmpint (touched[2], ==, 0); /* nothing changed, nothing touched */
}

static void
test_brush_sphere_and_hu (void)
{
  g_autoptr (MmVolume) vol = plain_volume (30, 30, 30, 1.0, 1.0, 1.5);
  int16_t *v = vol->voxels;
  for (size_t x = 0; x < mm_volume_n_voxels (vol); x++)
    v[x] = (x % 7 == 0) ? 5000 : 100; /* some "metal" voxels scattered */
  g_autoptr (MmMask) m = mm_mask_new (vol->dims);
  MmBrush b = { .radius_mm = 6.0, .sphere = true, .value = 1, .hu_limited = true,
                .hu_lower = 3000, .hu_upper = 30000 };
  mm_edit_brush_segment (m, vol, MM_PLANE_AXIAL, 15, 15.5, 15.5, 15.5, 15.5, &b, NULL, NULL);
  for (int k = 0; k < 30; k++)
    for (int j = 0; j < 30; j++)
      for (int i = 0; i < 30; i++)
        {
          size_t x = ((size_t) k * 30 + j) * 30 + i;
          double d = sqrt ((i - 15.0) * (i - 15.0) + (j - 15.0) * (j - 15.0)
                           + (k - 15.0) * 1.5 * (k - 15.0) * 1.5);
          g_assert_cmpint (m->data[x], ==, d <= 6.0 && v[x] >= 3000);
        }
}

static void
test_threshold_range (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (64, 20, 1, 0, 0);
  g_autoptr (MmMask) m = mm_mask_new (ph->volume->dims);
  int touched[20] = { 0 };
  mm_edit_threshold (m, ph->volume, 5, 14, 3000, INFINITY, count_touch, touched);
  size_t sl = 64 * 64;
  for (int k = 0; k < 20; k++)
    {
      if (k < 5 || k > 14)
        {
          g_assert_true (mm_mask_slice_is_empty (m, k));
          g_assert_cmpint (touched[k], ==, 0);
        }
      else
        {
          g_assert_cmpmem (mm_mask_slice (m, k), sl, mm_mask_slice (ph->truth, k), sl);
          g_assert_cmpint (touched[k], ==, !mm_mask_slice_is_empty (ph->truth, k));
        }
    }
}

static void
test_islands (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (96, 30, 1, 0, 0);
  g_autoptr (MmMask) m = mm_mask_copy (ph->truth);
  /* Find a voxel of the smaller object (the fragment, HU 4000). */
  int ijk[3] = { -1, -1, -1 };
  for (int k = 0; k < 30 && ijk[0] < 0; k++)
    for (int j = 0; j < 96 && ijk[0] < 0; j++)
      for (int i = 0; i < 96; i++)
        if (mm_volume_get (ph->volume, i, j, k) == ph->object_hu[1])
          {
            ijk[0] = i, ijk[1] = j, ijk[2] = k;
            break;
          }
  g_assert_cmpint (ijk[0], >=, 0);
  g_assert_cmpuint (mm_edit_island (m, ijk, MM_ISLAND_REMOVE, NULL, NULL), ==, ph->object_voxels[1]);
  g_assert_cmpuint (mm_mask_count (m), ==, ph->object_voxels[0]);
  g_autoptr (MmMask) m2 = mm_mask_copy (ph->truth);
  g_assert_cmpuint (mm_edit_island (m2, ijk, MM_ISLAND_KEEP_ONLY, NULL, NULL), ==, ph->object_voxels[0]);
  g_assert_cmpuint (mm_mask_count (m2), ==, ph->object_voxels[1]);
  /* Background voxel: nothing. */
  int corner[3] = { 0, 0, 0 };
  g_assert_cmpuint (mm_edit_island (m2, corner, MM_ISLAND_REMOVE, NULL, NULL), ==, 0);
  /* Small components by volume. */
  g_autoptr (MmMask) m3 = mm_mask_copy (ph->truth);
  double vox = mm_volume_voxel_mm3 (ph->volume);
  mm_edit_remove_small (m3, ph->volume, (ph->object_voxels[1] + 1) * vox, NULL, NULL);
  g_assert_cmpuint (mm_mask_count (m3), ==, ph->object_voxels[0]);
}

static void
test_fill_holes (void)
{
  g_autoptr (MmVolume) vol = plain_volume (40, 40, 3, 1, 1, 1);
  g_autoptr (MmMask) m = mm_mask_new (vol->dims);
  uint8_t *s = mm_mask_slice (m, 1);
  /* A ring (hole inside) and a "C" (open to the outside: no hole). */
  for (int j = 0; j < 40; j++)
    for (int i = 0; i < 40; i++)
      {
        double r = hypot (i - 10, j - 10);
        if (r >= 4 && r <= 7)
          s[j * 40 + i] = 1;
        if (i >= 25 && i <= 35 && j >= 25 && j <= 35 && !(i > 27 && i < 33 && j > 27))
          s[j * 40 + i] = 1;
      }
  g_autoptr (MmMask) before = mm_mask_copy (m);
  uint64_t changed = mm_edit_fill_holes (m, 0, 2, NULL, NULL);
  uint64_t expect = 0;
  for (int j = 0; j < 40; j++)
    for (int i = 0; i < 40; i++)
      {
        bool hole = hypot (i - 10, j - 10) < 4;
        expect += hole;
        g_assert_cmpint (s[j * 40 + i], ==, mm_mask_slice (before, 1)[j * 40 + i] || hole);
      }
  g_assert_cmpuint (changed, ==, expect);
}

static void
test_interpolate (void)
{
  /* Discs of radius 4 and 10 mm five slices apart: between them the radius grows linearly. */
  g_autoptr (MmVolume) vol = plain_volume (50, 50, 7, 1, 1, 2);
  g_autoptr (MmMask) m = mm_mask_new (vol->dims);
  for (int j = 0; j < 50; j++)
    for (int i = 0; i < 50; i++)
      {
        double r = hypot (i - 25, j - 25);
        mm_mask_slice (m, 1)[j * 50 + i] = r <= 4;
        mm_mask_slice (m, 6)[j * 50 + i] = r <= 10;
      }
  g_autofree uint8_t *preview = g_malloc (4 * 50 * 50);
  uint64_t would = mm_edit_interpolate (m, vol, 1, 6, false, preview, NULL, NULL);
  g_assert_true (mm_mask_slice_is_empty (m, 3)); /* preview only */
  int touched[7] = { 0 };
  uint64_t changed = mm_edit_interpolate (m, vol, 1, 6, true, NULL, count_touch, touched);
  g_assert_cmpuint (would, ==, changed);
  for (int k = 2; k <= 5; k++)
    {
      g_assert_cmpint (touched[k], ==, 1);
      g_assert_cmpmem (mm_mask_slice (m, k), 2500, preview + (k - 2) * 2500, 2500);
      double radius = 4 + (10 - 4) * (k - 1) / 5.0;
      for (int j = 0; j < 50; j++)
        for (int i = 0; i < 50; i++)
          {
            double r = hypot (i - 25, j - 25);
            if (r <= radius - 1.0)
              g_assert_cmpint (mm_mask_slice (m, k)[j * 50 + i], ==, 1);
            if (r >= radius + 1.0)
              g_assert_cmpint (mm_mask_slice (m, k)[j * 50 + i], ==, 0);
          }
    }
  g_assert_cmpint (mm_edit_next_slice_with_mask (m, 0, 1), ==, 1);
  g_assert_cmpint (mm_edit_next_slice_with_mask (m, 6, 1), ==, -1);
  g_assert_cmpint (mm_edit_next_slice_with_mask (m, 6, -1), ==, 5);
}

typedef struct
{
  int calls[64];
  const MmMask *mask;
  uint64_t before[64]; /* voxels set in the slice when touched: before its first change */
} TouchLog;

static void
touch_log_cb (int k, gpointer data)
{
  TouchLog *t = data;
  t->calls[k]++;
  size_t n = (size_t) t->mask->dims[0] * t->mask->dims[1];
  t->before[k] = 0;
  for (size_t x = 0; x < n; x++)
    t->before[k] += t->mask->data[(size_t) k * n + x];
}

/* The brush on a plane turned by 45 degrees (anisotropic voxels): disc and sphere set exactly
 * the voxels a brute force over every plane pixel / every voxel finds, each touched slice is
 * reported once and before it changes, the HU range limits the brush, and the eraser along
 * the same stroke clears what it painted. */
static void
test_brush_oblique (void)
{
  int dims[3] = { 30, 26, 14 };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_INT16);
  vol->spacing[0] = vol->spacing[1] = 0.8, vol->spacing[2] = 2.0;
  for (int k = 0; k < dims[2]; k++)
    vol->slices[k].position[2] = -5 + 2.0 * k;
  for (size_t x = 0; x < mm_volume_n_voxels (vol); x++)
    ((int16_t *) vol->voxels)[x] = (int16_t) ((x * 2654435761u >> 9) % 2000);
  MmReslicePlane p;
  double c[3] = { 14.5, 12.5, 6.5 };
  mm_reslice_plane_init (&p, vol, MM_PLANE_AXIAL, c, 1, 1, 0.8);
  const double axis[3] = { 1, 0, 0 };
  mm_reslice_plane_rotate (&p, axis, G_PI / 4);
  mm_reslice_plane_cover (&p, vol, 0.8);
  double u0 = p.width * 0.3, v0 = p.height * 0.4, u1 = p.width * 0.6, v1 = p.height * 0.55;
  for (int sphere = 0; sphere < 2; sphere++)
    for (int limited = 0; limited < 2; limited++)
      {
        g_autoptr (MmMask) m = mm_mask_new (vol->dims);
        g_autoptr (MmMask) want = mm_mask_new (vol->dims);
        MmBrush b = { .radius_mm = 2.5, .sphere = sphere, .value = 1, .hu_limited = limited,
                      .hu_lower = 500, .hu_upper = 1500 };
        double r = b.radius_mm;
        double a3[3], b3[3];
        mm_reslice_pixel_to_lps (&p, u0, v0, a3);
        mm_reslice_pixel_to_lps (&p, u1, v1, b3);
        if (!sphere)
          for (int y = 0; y < p.height; y++)
            for (int x = 0; x < p.width; x++)
              {
                /* distance (mm) in the plane from the pixel centre to the segment */
                double px = (x + 0.5 - u0) * 0.8, py = (y + 0.5 - v0) * 0.8;
                double dx = (u1 - u0) * 0.8, dy = (v1 - v0) * 0.8;
                double t = CLAMP ((px * dx + py * dy) / (dx * dx + dy * dy), 0, 1);
                if (hypot (px - t * dx, py - t * dy) > r)
                  continue;
                double ijk[3];
                mm_reslice_pixel_to_index (&p, vol, x + 0.5, y + 0.5, ijk);
                int i = (int) floor (ijk[0] + 0.5), j = (int) floor (ijk[1] + 0.5),
                    k = (int) floor (ijk[2] + 0.5);
                if (i >= 0 && j >= 0 && k >= 0 && i < dims[0] && j < dims[1] && k < dims[2])
                  want->data[((size_t) k * dims[1] + j) * dims[0] + i] = 1;
              }
        else
          for (int k = 0; k < dims[2]; k++)
            for (int j = 0; j < dims[1]; j++)
              for (int i = 0; i < dims[0]; i++)
                {
                  double q[3], d[3], e[3], dd = 0, de = 0;
                  mm_volume_index_to_lps (vol, i, j, k, q);
                  for (int x = 0; x < 3; x++)
                    d[x] = q[x] - a3[x], e[x] = b3[x] - a3[x], dd += d[x] * e[x], de += e[x] * e[x];
                  double t = CLAMP (dd / de, 0, 1), dist = 0;
                  for (int x = 0; x < 3; x++)
                    dist += (d[x] - t * e[x]) * (d[x] - t * e[x]);
                  if (sqrt (dist) <= r)
                    want->data[((size_t) k * dims[1] + j) * dims[0] + i] = 1;
                }
        uint64_t n_want = 0;
        for (size_t x = 0; x < mm_mask_n_voxels (want); x++)
          {
            int16_t hu = ((int16_t *) vol->voxels)[x];
            if (limited && (hu < 500 || hu > 1500))
              want->data[x] = 0;
            n_want += want->data[x];
          }
        TouchLog log = { .mask = m };
        uint64_t n = mm_edit_brush_oblique (m, vol, &p, u0, v0, u1, v1, &b, touch_log_cb, &log);
        g_assert_cmpuint (n, ==, n_want);
        g_assert_cmpuint (n_want, >, 20);
        g_assert_cmpmem (m->data, mm_mask_n_voxels (m), want->data, mm_mask_n_voxels (want));
        /* the stroke spans several axial slices: the plane is turned */
        int slices = 0;
        for (int k = 0; k < dims[2]; k++)
          {
            bool has = false;
            for (int x = 0; x < dims[0] * dims[1]; x++)
              has |= want->data[(size_t) k * dims[0] * dims[1] + x];
            g_assert_cmpint (log.calls[k], ==, has ? 1 : 0);
            if (has)
              g_assert_cmpuint (log.before[k], ==, 0);
            slices += has;
          }
        g_assert_cmpint (slices, >=, 3);
        /* the eraser along the same stroke clears it */
        b.value = 0;
        g_assert_cmpuint (mm_edit_brush_oblique (m, vol, &p, u0, v0, u1, v1, &b, NULL, NULL), ==,
                          n_want);
        for (size_t x = 0; x < mm_mask_n_voxels (m); x++)
          g_assert_cmpint (m->data[x], ==, 0);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/edit/brush/stroke-no-gaps", test_brush_stroke);
  g_test_add_func ("/edit/brush/sphere-hu-range", test_brush_sphere_and_hu);
  g_test_add_func ("/edit/brush/oblique-plane", test_brush_oblique);
  g_test_add_func ("/edit/threshold/slice-range", test_threshold_range);
  g_test_add_func ("/edit/islands", test_islands);
  g_test_add_func ("/edit/fill-holes", test_fill_holes);
  g_test_add_func ("/edit/interpolate", test_interpolate);
  return g_test_run ();
}
