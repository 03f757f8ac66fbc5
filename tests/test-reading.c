/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The reading tools' core against brute-force truths: slabs recomputed voxel by voxel through
 * mm_plane_to_index (int16 and float volumes, 1 and 2 threads), trilinear reslices of a
 * linear field (which trilinear interpolation reproduces exactly), ROI figures of images
 * whose answers are known by hand, and the edge cases (empty ROI, malformed ROI, zero-length
 * angle arm). tests/reading/test_reading.py checks the same against numpy and scipy. */
#include "mm-measure.h"
#include "mm-reslice.h"
#include "mm-reslice-slab.h"
#include "mm-roi.h"
#include "mm-slab.h"

#include <math.h>
#include <string.h>

/* A w x h x d volume with anisotropic spacing and pseudo-random values. */
static MmVolume *
random_volume (int w, int h, int d, MmVoxelType type, guint32 seed)
{
  int dims[3] = { w, h, d };
  MmVolume *vol = mm_volume_new (dims, type);
  vol->spacing[0] = 0.7, vol->spacing[1] = 0.9, vol->spacing[2] = 1.3;
  for (int k = 0; k < d; k++)
    vol->slices[k].position[2] = 5 + k * 1.3;
  GRand *r = g_rand_new_with_seed (seed);
  for (size_t x = 0; x < mm_volume_n_voxels (vol); x++)
    if (type == MM_VOXEL_INT16)
      ((int16_t *) vol->voxels)[x] = (int16_t) g_rand_int_range (r, -2000, 3000);
    else
      ((float *) vol->voxels)[x] = (float) g_rand_double_range (r, -2000, 3000);
  g_rand_free (r);
  return vol;
}

static void
test_slab_brute (void)
{
  for (int t = 0; t < 2; t++)
    {
      MmVoxelType type = t ? MM_VOXEL_FLOAT32 : MM_VOXEL_INT16;
      g_autoptr (MmVolume) vol = random_volume (23, 17, 11, type, 7 + t);
      for (MmPlane plane = MM_PLANE_AXIAL; plane <= MM_PLANE_SAGITTAL; plane++)
        {
          MmPlaneGeometry g;
          mm_plane_geometry (vol, plane, &g);
          double s = plane == MM_PLANE_AXIAL ? 1.3 : plane == MM_PLANE_CORONAL ? 0.9 : 0.7;
          g_autofree float *a = g_new (float, g.width * g.height);
          g_autofree float *b = g_new (float, g.width * g.height);
          for (int depth = 0; depth < g.depth; depth += 3)
            for (double th = 0; th <= 12; th += 1.7)
              for (MmSlabMode mode = MM_SLAB_MIP; mode <= MM_SLAB_MEAN; mode++)
                {
                  mm_slab_compute (vol, plane, depth, th, mode, a, 1);
                  mm_slab_compute (vol, plane, depth, th, mode, b, 2);
                  g_assert_cmpmem (a, g.width * g.height * 4, b, g.width * g.height * 4);
                  for (int v = 0; v < g.height; v++)
                    for (int u = 0; u < g.width; u++)
                      {
                        double acc = mode == MM_SLAB_MIP ? -INFINITY : mode == MM_SLAB_MINIP
                                                                            ? INFINITY
                                                                            : 0;
                        int n = 0;
                        for (int d = 0; d < g.depth; d++)
                          {
                            /* The rule: the plane's centre within half the thickness. */
                            if (fabs ((d - depth) * s) > th / 2 + 1e-6 * s)
                              continue;
                            int ijk[3];
                            mm_plane_to_index (vol, plane, u, v, d, ijk);
                            double x = mm_volume_get (vol, ijk[0], ijk[1], ijk[2]);
                            acc = mode == MM_SLAB_MIP ? MAX (acc, x)
                                  : mode == MM_SLAB_MINIP ? MIN (acc, x)
                                                          : acc + x;
                            n++;
                          }
                        if (mode == MM_SLAB_MEAN)
                          acc /= n;
                        float got = a[v * g.width + u];
                        /* Float volumes: sums in another order, a float's rounding. */
                        if (type == MM_VOXEL_INT16 || mode != MM_SLAB_MEAN)
                          g_assert_cmpfloat (got, ==, (float) acc);
                        else
                          g_assert_cmpfloat_with_epsilon (got, acc, 1e-3);
                      }
                }
        }
    }
}

static void
test_slab_range (void)
{
  g_autoptr (MmVolume) vol = random_volume (8, 8, 40, MM_VOXEL_INT16, 1);
  int f, l;
  /* 1.3 mm slices: 30 mm holds centres within 15 mm, 11 planes each side. */
  mm_slab_range (vol, MM_PLANE_AXIAL, 20, 30, &f, &l);
  g_assert_cmpint (f, ==, 9);
  g_assert_cmpint (l, ==, 31);
  /* Exactly two spacings: the planes at +-1.3 mm lie on the slab's faces and count. */
  mm_slab_range (vol, MM_PLANE_AXIAL, 20, 2.6, &f, &l);
  g_assert_cmpint (f, ==, 19);
  g_assert_cmpint (l, ==, 21);
  mm_slab_range (vol, MM_PLANE_AXIAL, 20, 2.59, &f, &l);
  g_assert_cmpint (f, ==, 20);
  g_assert_cmpint (l, ==, 20);
  /* Cut at the ends, not shifted; NaN and negative: the plane alone. */
  mm_slab_range (vol, MM_PLANE_AXIAL, 1, 30, &f, &l);
  g_assert_cmpint (f, ==, 0);
  g_assert_cmpint (l, ==, 12);
  mm_slab_range (vol, MM_PLANE_AXIAL, 5, NAN, &f, &l);
  g_assert_cmpint (f, ==, 5);
  g_assert_cmpint (l, ==, 5);
  mm_slab_range (vol, MM_PLANE_AXIAL, 5, -3, &f, &l);
  g_assert_cmpint (f, ==, 5);
  g_assert_cmpint (l, ==, 5);
  mm_slab_range (vol, MM_PLANE_AXIAL, 5, 1e300, &f, &l);
  g_assert_cmpint (f, ==, 0);
  g_assert_cmpint (l, ==, 39);
}

/* f(i, j, k) = 3 i - 2 j + 5 k + 0.25: trilinear interpolation reproduces it exactly. */
static double
linear (double i, double j, double k)
{
  return 3 * i - 2 * j + 5 * k + 0.25;
}

static void
test_reslice_linear (void)
{
  int dims[3] = { 30, 25, 20 };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_FLOAT32);
  vol->spacing[0] = 0.8, vol->spacing[1] = 0.6, vol->spacing[2] = 1.5;
  /* A tilted grid: rotation about x by 20 degrees. */
  double t = 20 * G_PI / 180;
  const double dir[9] = { 1, 0, 0, 0, cos (t), sin (t), 0, -sin (t), cos (t) };
  memcpy (vol->direction, dir, sizeof dir);
  for (int k = 0; k < dims[2]; k++)
    for (int a = 0; a < 3; a++)
      vol->slices[k].position[a] = 10 * (a + 1) + k * 1.5 * dir[6 + a];
  for (int k = 0; k < dims[2]; k++)
    for (int j = 0; j < dims[1]; j++)
      for (int i = 0; i < dims[0]; i++)
        ((float *) vol->voxels)[((size_t) k * dims[1] + j) * dims[0] + i] = linear (i, j, k);

  MmReslicePlane p;
  double c[3] = { 14.2, 11.7, 9.1 };
  mm_reslice_plane_init (&p, vol, MM_PLANE_CORONAL, c, 41, 37, 0.9);
  double ax[3] = { 0.3, -1, 0.4 };
  mm_reslice_plane_rotate (&p, ax, 0.6);
  double n[3];
  mm_reslice_plane_normal (&p, n);
  g_assert_cmpfloat_with_epsilon (n[0] * n[0] + n[1] * n[1] + n[2] * n[2], 1, 1e-12);
  g_assert_cmpfloat_with_epsilon (p.right[0] * p.down[0] + p.right[1] * p.down[1]
                                    + p.right[2] * p.down[2], 0, 1e-12);
  g_autofree float *a = g_new (float, 41 * 37), *b = g_new (float, 41 * 37);
  mm_reslice_volume (vol, &p, -5000, a, 1);
  mm_reslice_volume (vol, &p, -5000, b, 2);
  g_assert_cmpmem (a, sizeof (float) * 41 * 37, b, sizeof (float) * 41 * 37);
  int inside = 0, outside = 0;
  for (int y = 0; y < 37; y++)
    for (int x = 0; x < 41; x++)
      {
        double ijk[3];
        mm_reslice_pixel_to_index (&p, vol, x + 0.5, y + 0.5, ijk);
        bool in = true;
        for (int q = 0; q < 3; q++)
          in = in && ijk[q] >= 1e-6 && ijk[q] <= dims[q] - 1 - 1e-6;
        bool out = false;
        for (int q = 0; q < 3; q++)
          out = out || ijk[q] < -1e-5 || ijk[q] > dims[q] - 1 + 1e-5;
        if (in)
          {
            g_assert_cmpfloat_with_epsilon (a[y * 41 + x], linear (ijk[0], ijk[1], ijk[2]),
                                            1e-3);
            inside++;
          }
        else if (out)
          {
            g_assert_cmpfloat (a[y * 41 + x], ==, -5000);
            outside++;
          }
      }
  g_assert_cmpint (inside, >, 200);
  g_assert_cmpint (outside, >, 50);
  /* As an image the renderer draws: its voxels are the plane's pixels, its geometry their
   * LPS, and the drawing is the window of each value. */
  g_autoptr (MmVolume) im = mm_reslice_image_new (vol, &p);
  mm_reslice_volume (vol, &p, -5000, im->voxels, 1);
  g_assert_cmpmem (im->voxels, sizeof (float) * 41 * 37, a, sizeof (float) * 41 * 37);
  for (int y = 0; y < 37; y += 6)
    for (int x = 0; x < 41; x += 5)
      {
        double l1[3], l2[3];
        mm_volume_index_to_lps (im, x, y, 0, l1);
        mm_reslice_pixel_to_lps (&p, x + 0.5, y + 0.5, l2);
        for (int q = 0; q < 3; q++)
          g_assert_cmpfloat_with_epsilon (l1[q], l2[q], 1e-9);
      }
  g_autoptr (MmRenderer) rd = mm_renderer_new ();
  MmRenderStyle style = { .window = 400, .level = 40 };
  MmViewport vp = { 0, 0, 1 / 0.9 }; /* one screen pixel per plane pixel */
  g_autofree uint8_t *rgba = g_new (uint8_t, 41 * 37 * 4);
  mm_renderer_draw (rd, im, MM_PLANE_AXIAL, 0, &style, &vp, rgba, 41, 37, 41 * 4);
  for (int x = 0; x < 41 * 37; x++)
    g_assert_cmpint (rgba[4 * x], ==, mm_window_value (a[x], 400, 40));

  /* The centre pixel's LPS is the centre (odd size). */
  double lps[3], want[3];
  mm_reslice_pixel_to_lps (&p, 20.5, 18.5, lps);
  mm_volume_index_to_lps (vol, c[0], c[1], c[2], want);
  for (int q = 0; q < 3; q++)
    g_assert_cmpfloat_with_epsilon (lps[q], want[q], 1e-9);
}

/* Oblique slabs of the linear field: each sample is exact, so the slab of a pixel is the
 * max / min / mean of linear() at the samples' indices, found here by walking the normal
 * in voxel indices (mm_volume_lps_to_index), with samples outside the box of voxel centres
 * left out. */
static void
test_reslice_slab_linear (void)
{
  int dims[3] = { 30, 25, 20 };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_FLOAT32);
  vol->spacing[0] = 0.8, vol->spacing[1] = 0.6, vol->spacing[2] = 1.5;
  for (int k = 0; k < dims[2]; k++)
    vol->slices[k].position[2] = 7 + k * 1.5;
  for (int k = 0; k < dims[2]; k++)
    for (int j = 0; j < dims[1]; j++)
      for (int i = 0; i < dims[0]; i++)
        ((float *) vol->voxels)[((size_t) k * dims[1] + j) * dims[0] + i] = linear (i, j, k);
  MmReslicePlane p;
  double c[3] = { 14.2, 11.7, 9.1 };
  mm_reslice_plane_init (&p, vol, MM_PLANE_AXIAL, c, 33, 29, 0.7);
  double ax[3] = { 1, 0.5, 0 };
  mm_reslice_plane_rotate (&p, ax, 0.5);
  double step = mm_reslice_slab_step (vol, 0);
  g_assert_cmpfloat (step, ==, 0.6);
  int n = mm_reslice_slab_samples (6.0, step);
  g_assert_cmpint (n, ==, 11); /* 6 mm / 0.6 mm: offsets -5..5 steps, the ends exactly in */
  g_assert_cmpint (mm_reslice_slab_samples (0.5, step), ==, 1);
  double nrm[3];
  mm_reslice_plane_normal (&p, nrm);
  const MmSlabMode modes[] = { MM_SLAB_MIP, MM_SLAB_MINIP, MM_SLAB_MEAN };
  g_autofree float *a = g_new (float, 33 * 29), *b = g_new (float, 33 * 29);
  for (int mi = 0; mi < 3; mi++)
    {
      mm_reslice_slab (vol, &p, 6.0, 0, modes[mi], -5000, a, NULL, 1);
      mm_reslice_slab (vol, &p, 6.0, 0, modes[mi], -5000, b, NULL, 2);
      g_assert_cmpmem (a, sizeof (float) * 33 * 29, b, sizeof (float) * 33 * 29);
      int full = 0, partial = 0, none = 0;
      for (int y = 0; y < 29; y++)
        for (int x = 0; x < 33; x++)
          {
            double lps[3], best = 0, sum = 0;
            int cnt = 0;
            bool clear = true; /* no sample within 1e-5 of a face: its fate is certain */
            mm_reslice_pixel_to_lps (&p, x + 0.5, y + 0.5, lps);
            for (int k = -5; k <= 5; k++)
              {
                double q[3], ijk[3];
                for (int d = 0; d < 3; d++)
                  q[d] = lps[d] + k * 0.6 * nrm[d];
                mm_volume_lps_to_index (vol, q, ijk);
                bool in = true;
                for (int d = 0; d < 3; d++)
                  {
                    in = in && ijk[d] >= 0 && ijk[d] <= dims[d] - 1;
                    clear = clear && (fabs (ijk[d]) > 1e-5 && fabs (ijk[d] - (dims[d] - 1)) > 1e-5);
                  }
                if (!in)
                  continue;
                double f = linear (ijk[0], ijk[1], ijk[2]);
                if (cnt == 0 || (modes[mi] == MM_SLAB_MIP && f > best)
                    || (modes[mi] == MM_SLAB_MINIP && f < best))
                  best = f;
                sum += f;
                cnt++;
              }
            if (!clear)
              continue;
            double want = cnt == 0 ? -5000 : modes[mi] == MM_SLAB_MEAN ? sum / cnt : best;
            g_assert_cmpfloat_with_epsilon (a[y * 33 + x], want, 2e-3);
            if (cnt == 11)
              full++;
            else if (cnt > 0)
              partial++;
            else
              none++;
          }
      g_assert_cmpint (full, >, 100);
      g_assert_cmpint (partial, >, 20);
      g_assert_cmpint (none, >, 20);
    }
  /* A thickness under two steps is the plane alone: mm_reslice_volume's image. */
  mm_reslice_slab (vol, &p, 1.0, 0, MM_SLAB_MIP, -5000, a, NULL, 1);
  mm_reslice_volume (vol, &p, -5000, b, 1);
  g_assert_cmpmem (a, sizeof (float) * 33 * 29, b, sizeof (float) * 33 * 29);
}

static void
test_reslice_standard (void)
{
  g_autoptr (MmVolume) vol = random_volume (19, 13, 9, MM_VOXEL_INT16, 3);
  g_autoptr (MmMask) m = mm_mask_new (vol->dims);
  for (size_t x = 0; x < mm_mask_n_voxels (m); x++)
    m->data[x] = (x * 2654435761u >> 7) & 1;
  for (MmPlane plane = MM_PLANE_AXIAL; plane <= MM_PLANE_SAGITTAL; plane++)
    {
      MmPlaneGeometry g;
      mm_plane_geometry (vol, plane, &g);
      for (int d = 0; d < g.depth; d += g.depth - 1)
        {
          MmReslicePlane p;
          mm_reslice_plane_init_standard (&p, vol, plane, d);
          g_assert_cmpint (p.width, ==, g.width);
          g_assert_cmpint (p.height, ==, g.height);
          g_autofree float *img = g_new (float, g.width * g.height);
          g_autofree uint8_t *mi = g_new (uint8_t, g.width * g.height);
          mm_reslice_volume (vol, &p, -9999, img, 2);
          mm_reslice_mask (vol, m, &p, mi, 2);
          for (int v = 0; v < g.height; v++)
            for (int u = 0; u < g.width; u++)
              {
                int ijk[3];
                mm_plane_to_index (vol, plane, u, v, d, ijk);
                g_assert_cmpfloat_with_epsilon (img[v * g.width + u],
                                                mm_volume_get (vol, ijk[0], ijk[1], ijk[2]),
                                                1e-3);
                size_t off = ((size_t) ijk[2] * vol->dims[1] + ijk[1]) * vol->dims[0] + ijk[0];
                g_assert_cmpint (mi[v * g.width + u], ==, m->data[off]);
              }
        }
    }
}

/* Continuous pixel position (pixel x spans [x, x + 1)) of the projection of lps on p. */
static void
project_on_plane (const MmReslicePlane *p, const double lps[3], double *x, double *y)
{
  double d[3] = { lps[0] - p->centre_lps[0], lps[1] - p->centre_lps[1],
                  lps[2] - p->centre_lps[2] };
  *x = (d[0] * p->right[0] + d[1] * p->right[1] + d[2] * p->right[2]) / p->pixel_w
       + (p->width - 1) / 2.0 + 0.5;
  *y = (d[0] * p->down[0] + d[1] * p->down[1] + d[2] * p->down[2]) / p->pixel_h
       + (p->height - 1) / 2.0 + 0.5;
}

/* A plane turned by 45 degrees on an anisotropic volume (0.8 x 0.8 x 2.5 mm): sized with
 * mm_reslice_plane_cover it holds the projection of every corner voxel's centre within its
 * outermost pixels, keeps its pixel, is no larger than needed, and shows the whole volume
 * (its border pixels are outside it); the standard plane's size (the old one) cuts corners. */
static void
test_reslice_cover (void)
{
  g_autoptr (MmVolume) vol = random_volume (40, 30, 20, MM_VOXEL_INT16, 21);
  vol->spacing[0] = vol->spacing[1] = 0.8, vol->spacing[2] = 2.5;
  for (int k = 0; k < 20; k++)
    vol->slices[k].position[2] = -10 + k * 2.5;
  const double axes[][3] = { { 1, 0, 0 }, { 0, 1, 0 }, { 0.6, 0, 0.8 }, { 0.48, 0.6, 0.64 } };
  for (MmPlane plane = MM_PLANE_AXIAL; plane <= MM_PLANE_SAGITTAL; plane++)
    for (guint a = 0; a < G_N_ELEMENTS (axes); a++)
      {
        MmPlaneGeometry g;
        mm_plane_geometry (vol, plane, &g);
        double pix = MIN (g.pixel_w, g.pixel_h);
        double c[3] = { 19.5, 14.5, 9.5 };
        MmReslicePlane p;
        /* The old size: the standard plane's extent in square pixels. */
        mm_reslice_plane_init (&p, vol, plane, c, (int) lround (g.width * g.pixel_w / pix),
                               (int) lround (g.height * g.pixel_h / pix), pix);
        mm_reslice_plane_rotate (&p, axes[a], G_PI / 4);
        MmReslicePlane old = p;
        mm_reslice_plane_cover (&p, vol, pix);
        g_assert_cmpfloat (p.pixel_w, ==, pix);
        g_assert_cmpfloat (p.pixel_h, ==, pix);
        g_assert_cmpint (p.width % 2, ==, 1);
        g_assert_cmpint (p.height % 2, ==, 1);
        double lo_x = INFINITY, hi_x = -INFINITY, lo_y = INFINITY, hi_y = -INFINITY;
        bool old_cut = false;
        for (int k = 0; k < 8; k++)
          {
            double lps[3], x, y, ox, oy;
            mm_volume_index_to_lps (vol, (k & 1) ? 39 : 0, (k & 2) ? 29 : 0, (k & 4) ? 19 : 0,
                                    lps);
            project_on_plane (&p, lps, &x, &y);
            /* Within the span of the outermost pixel centres (0.5 .. size - 0.5). */
            g_assert_cmpfloat (x, >=, 0.5 - 1e-6);
            g_assert_cmpfloat (x, <=, p.width - 0.5 + 1e-6);
            g_assert_cmpfloat (y, >=, 0.5 - 1e-6);
            g_assert_cmpfloat (y, <=, p.height - 0.5 + 1e-6);
            lo_x = MIN (lo_x, x), hi_x = MAX (hi_x, x), lo_y = MIN (lo_y, y), hi_y = MAX (hi_y, y);
            project_on_plane (&old, lps, &ox, &oy);
            old_cut |= ox < 0.5 - 1e-6 || ox > old.width - 0.5 + 1e-6 || oy < 0.5 - 1e-6
                       || oy > old.height - 0.5 + 1e-6;
          }
        /* No larger than needed: at most one pixel beyond the extremes on each side. */
        g_assert_cmpfloat (lo_x, <, 1.5 + 1e-6);
        g_assert_cmpfloat (hi_x, >, p.width - 1.5 - 1e-6);
        g_assert_cmpfloat (lo_y, <, 1.5 + 1e-6);
        g_assert_cmpfloat (hi_y, >, p.height - 1.5 - 1e-6);
        /* The old size (the standard plane's extent) cut corners of every one of these. */
        g_assert_true (old_cut);
        /* The whole volume shows: no pixel of the border rows and columns lies inside the
         * box of voxel centres except at the rim itself (a corner on the pixel centre). */
        g_autofree float *img = g_new (float, (size_t) p.width * p.height);
        mm_reslice_volume (vol, &p, -9999, img, 1);
        int inside = 0;
        for (int u = 0; u < p.width; u++)
          inside += (img[u] != -9999) + (img[(size_t) (p.height - 1) * p.width + u] != -9999);
        for (int v = 1; v < p.height - 1; v++)
          inside += (img[(size_t) v * p.width] != -9999)
                    + (img[(size_t) v * p.width + p.width - 1] != -9999);
        g_assert_cmpint (inside, <=, 4);
      }
}

/* The mask within its bounds equals the mask looked up everywhere, on oblique planes. */
static void
test_reslice_mask_bounds (void)
{
  g_autoptr (MmVolume) vol = random_volume (40, 36, 30, MM_VOXEL_INT16, 9);
  g_autoptr (MmMask) m = mm_mask_new (vol->dims);
  int bmin[3], bmax[3];
  g_assert_false (mm_reslice_mask_bounds (m, bmin, bmax));
  GRand *r = g_rand_new_with_seed (4);
  for (int n = 0; n < 60; n++)
    {
      int i = g_rand_int_range (r, 12, 30), j = g_rand_int_range (r, 5, 20);
      int k = g_rand_int_range (r, 8, 25);
      m->data[((size_t) k * 36 + j) * 40 + i] = 1;
    }
  m->data[((size_t) 8 * 36 + 5) * 40 + 12] = 1;
  m->data[((size_t) 24 * 36 + 19) * 40 + 29] = 1;
  g_assert_true (mm_reslice_mask_bounds (m, bmin, bmax));
  const int want_min[3] = { 12, 5, 8 }, want_max[3] = { 29, 19, 24 };
  g_assert_cmpmem (bmin, sizeof bmin, want_min, sizeof want_min);
  g_assert_cmpmem (bmax, sizeof bmax, want_max, sizeof want_max);
  g_autofree uint8_t *a = g_new (uint8_t, 70 * 64), *b = g_new (uint8_t, 70 * 64);
  for (int n = 0; n < 20; n++)
    {
      MmReslicePlane p;
      double c[3] = { g_rand_double_range (r, 10, 30), g_rand_double_range (r, 8, 28),
                      g_rand_double_range (r, 8, 22) };
      mm_reslice_plane_init (&p, vol, (MmPlane) (n % 3), c, 70, 64,
                             g_rand_double_range (r, 0.3, 1.2));
      double ax[3] = { g_rand_double_range (r, -1, 1), g_rand_double_range (r, -1, 1), 1 };
      mm_reslice_plane_rotate (&p, ax, g_rand_double_range (r, -1, 1));
      mm_reslice_mask (vol, m, &p, a, 1);
      mm_reslice_mask_in (vol, m, bmin, bmax, &p, b, 2);
      g_assert_cmpmem (a, 70 * 64, b, 70 * 64);
    }
  g_rand_free (r);
}

static void
test_roi_known (void)
{
  /* 6 x 4 image, values 0..23 row by row, pixels 0.5 x 2 mm. */
  float img[24];
  for (int x = 0; x < 24; x++)
    img[x] = x;
  MmRoiStats s;
  /* Pixel centres 1.5..3.5 and 0.5..1.5: columns 1-3 of rows 0-1. */
  MmRoi r = { MM_ROI_RECTANGLE, 1.5, 0.2, 3.6, 1.5 };
  g_assert_true (mm_roi_plane_stats (img, 6, 4, 0.5, 2, &r, &s));
  g_assert_cmpuint (s.count, ==, 6);
  g_assert_cmpfloat (s.area_mm2, ==, 6.0);
  g_assert_cmpfloat (s.min, ==, 1);
  g_assert_cmpfloat (s.max, ==, 9);
  g_assert_cmpfloat (s.mean, ==, 5);
  g_assert_cmpfloat (s.median, ==, 5); /* (3 + 7) / 2 */
  g_assert_cmpfloat_with_epsilon (s.sd, sqrt ((16 + 9 + 4 + 4 + 9 + 16) / 6.0), 1e-12);
  /* Cut by the border: only the pixels inside count; odd count, median the middle one. */
  MmRoi c = { MM_ROI_RECTANGLE, 4.5, 2.5, 100, 100 };
  g_assert_true (mm_roi_plane_stats (img, 6, 4, 0.5, 2, &c, &s));
  g_assert_cmpuint (s.count, ==, 4); /* 16, 17, 22, 23 */
  g_assert_cmpfloat (s.median, ==, 19.5);
  MmRoi c3 = { MM_ROI_RECTANGLE, -10, 3.2, 2.6, 100 };
  g_assert_true (mm_roi_plane_stats (img, 6, 4, 0.5, 2, &c3, &s));
  g_assert_cmpuint (s.count, ==, 3); /* 18, 19, 20 */
  g_assert_cmpfloat (s.median, ==, 19);
  /* Empty: outside the image, and a zero-width ellipse. Count 0, zeros, no NaN. */
  MmRoi e = { MM_ROI_RECTANGLE, -5, -5, -1, -1 };
  g_assert_true (mm_roi_plane_stats (img, 6, 4, 0.5, 2, &e, &s));
  g_assert_cmpuint (s.count, ==, 0);
  g_assert_true (s.mean == 0 && s.sd == 0 && s.median == 0 && s.min == 0 && s.max == 0);
  MmRoi z = { MM_ROI_ELLIPSE, 2, 1, 2, 3 };
  g_assert_true (mm_roi_plane_stats (img, 6, 4, 0.5, 2, &z, &s));
  g_assert_cmpuint (s.count, ==, 0);
  /* Huge coordinates (an API caller's, not the CLI's, which stops at 1e6): the whole image,
   * in finite time. */
  MmRoi huge = { MM_ROI_RECTANGLE, -1e300, -1e300, 1e300, 1e300 };
  g_assert_true (mm_roi_plane_stats (img, 6, 4, 0.5, 2, &huge, &s));
  g_assert_cmpuint (s.count, ==, 24);
  double far[6] = { -1e300, -1e300, 1e300, -1e300, 0, 1e300 };
  MmRoi farp = { .shape = MM_ROI_POLYGON, .points = far, .n_points = 3 };
  g_assert_true (mm_roi_plane_stats (img, 6, 4, 0.5, 2, &farp, &s));
  g_assert_cmpuint (s.count, <=, 24);
  /* Malformed: two points, a NaN. */
  double two[4] = { 0, 0, 3, 3 };
  MmRoi bad = { .shape = MM_ROI_POLYGON, .points = two, .n_points = 2 };
  g_assert_false (mm_roi_plane_stats (img, 6, 4, 0.5, 2, &bad, &s));
  MmRoi nan = { MM_ROI_ELLIPSE, 0, NAN, 3, 3 };
  g_assert_false (mm_roi_plane_stats (img, 6, 4, 0.5, 2, &nan, &s));
  /* A triangle with its corners on pixel centres: (0.5,0.5)-(5.5,0.5)-(0.5,3.5). Row 0's
   * centres lie on the top edge: the edges from the top corners cross there (their far ends
   * lie below), so the row counts from x 0.5 (inclusive) to 5.5 (exclusive), u 0..4. Row 1
   * (y 1.5): x < 5.5 - 5 / 3, u 0..3; row 2: x < 5.5 - 10 / 3, u 0..1; row 3 lies on the
   * bottom corner, where no edge has an end below: nothing. */
  double tri[6] = { 0.5, 0.5, 5.5, 0.5, 0.5, 3.5 };
  MmRoi t = { .shape = MM_ROI_POLYGON, .points = tri, .n_points = 3 };
  uint8_t m[24];
  g_assert_true (mm_roi_plane_mask (&t, 6, 4, m));
  const uint8_t want[24] = { 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0,
                             1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
  g_assert_cmpmem (m, 24, want, 24);
}

static void
test_roi_volume (void)
{
  g_autoptr (MmVolume) vol = random_volume (12, 10, 8, MM_VOXEL_INT16, 5);
  g_autoptr (MmMask) m = mm_mask_new (vol->dims);
  /* Two blobs: a 2x2x2 cube and a single voxel. */
  for (int k = 1; k < 3; k++)
    for (int j = 1; j < 3; j++)
      for (int i = 1; i < 3; i++)
        m->data[(k * 10 + j) * 12 + i] = 1;
  m->data[(6 * 10 + 8) * 12 + 10] = 1;
  g_autoptr (MmComponents) comps = mm_components_label (m, 1);
  g_assert_cmpint (mm_components_count (comps), ==, 2);
  MmRoiStats s1, s2, all;
  g_assert_true (mm_roi_volume_stats (vol, m, NULL, 0, &all, 2));
  g_assert_true (mm_roi_volume_stats (vol, m, comps, 1, &s1, 1));
  g_assert_true (mm_roi_volume_stats (vol, NULL, comps, 2, &s2, 2));
  g_assert_cmpuint (all.count, ==, 9);
  g_assert_cmpuint (s1.count, ==, 8);
  g_assert_cmpuint (s2.count, ==, 1);
  g_assert_cmpfloat (s2.mean, ==, mm_volume_get (vol, 10, 8, 6));
  g_assert_cmpfloat (s2.sd, ==, 0);
  g_assert_cmpfloat_with_epsilon (all.mean * 9, s1.mean * 8 + s2.mean, 1e-9);
  g_assert_cmpfloat_with_epsilon (all.volume_ml, 9 * 0.7 * 0.9 * 1.3 / 1000, 1e-15);
  g_assert_false (mm_roi_volume_stats (vol, m, comps, 3, &s1, 1));
  g_autoptr (MmMask) empty = mm_mask_new (vol->dims);
  g_assert_true (mm_roi_volume_stats (vol, empty, NULL, 0, &s1, 2));
  g_assert_cmpuint (s1.count, ==, 0);
  g_assert_true (s1.mean == 0 && s1.volume_ml == 0);
}

static void
test_measure (void)
{
  /* Anisotropic pixels, 1 x 2 mm: a right angle in pixels is not one in mm. */
  g_assert_cmpfloat_with_epsilon (mm_measure_angle (1, 1, 0, 0, 1, -1, 1, 2),
                                  2 * atan (2) * 180 / G_PI, 1e-9);
  g_assert_cmpfloat_with_epsilon (mm_measure_angle (1, 0, 0, 0, -1, 1e-12, 1, 1), 180, 1e-6);
  g_assert_true (isnan (mm_measure_angle (1, 1, 1, 1, 2, 2, 1, 1)));
  g_assert_cmpfloat (mm_measure_distance (0, 0, 3, 2, 1, 2), ==, 5);
  double a[3] = { 0, 0, 0 }, b[3] = { 3, 4, 0 };
  g_assert_cmpint (mm_measure_profile_samples (a, b, 1, 1000), ==, 6);
  g_assert_cmpint (mm_measure_profile_samples (a, b, 0.99, 1000), ==, 7);
  g_assert_cmpint (mm_measure_profile_samples (a, b, 100, 1000), ==, 2);
  g_assert_cmpint (mm_measure_profile_samples (a, b, 1e-9, 1000), ==, 1000);
  g_assert_cmpint (mm_measure_profile_samples (a, a, 1, 1000), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/reading/slab/brute-force", test_slab_brute);
  g_test_add_func ("/reading/slab/range", test_slab_range);
  g_test_add_func ("/reading/reslice/linear-field", test_reslice_linear);
  g_test_add_func ("/reading/reslice/slab-linear-field", test_reslice_slab_linear);
  g_test_add_func ("/reading/reslice/standard-plane", test_reslice_standard);
  g_test_add_func ("/reading/reslice/mask-bounds", test_reslice_mask_bounds);
  g_test_add_func ("/reading/reslice/cover-turned-plane", test_reslice_cover);
  g_test_add_func ("/reading/roi/known", test_roi_known);
  g_test_add_func ("/reading/roi/volume", test_roi_volume);
  g_test_add_func ("/reading/measure", test_measure);
  return g_test_run ();
}
