/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Oblique planes: the voxel index is an affine function of the output pixel, so each row
 * starts at one transformed point and steps by a fixed increment; each pixel is then eight
 * loads and seven lerps. Rows are split over threads. */
#include "mm-reslice.h"

#include <math.h>
#include <omp.h>

static double
dot3 (const double a[3], const double b[3])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void
cross3 (const double a[3], const double b[3], double c[3])
{
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

void
mm_reslice_plane_init (MmReslicePlane *p, const MmVolume *vol, MmPlane plane,
                       const double centre_ijk[3], int width, int height, double pixel_mm)
{
  mm_plane_screen_axes (vol, plane, p->right, p->down);
  mm_volume_index_to_lps (vol, centre_ijk[0], centre_ijk[1], centre_ijk[2], p->centre_lps);
  p->width = width;
  p->height = height;
  p->pixel_w = p->pixel_h = pixel_mm;
}

void
mm_reslice_plane_init_standard (MmReslicePlane *p, const MmVolume *vol, MmPlane plane,
                                int depth)
{
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  depth = CLAMP (depth, 0, g.depth - 1);
  /* The centre pixel's voxel, continuous: the mean of the first and last pixels' voxels. */
  int a[3], b[3];
  mm_plane_to_index (vol, plane, 0, 0, depth, a);
  mm_plane_to_index (vol, plane, g.width - 1, g.height - 1, depth, b);
  double c[3] = { 0.5 * (a[0] + b[0]), 0.5 * (a[1] + b[1]), 0.5 * (a[2] + b[2]) };
  mm_reslice_plane_init (p, vol, plane, c, g.width, g.height, 1);
  p->pixel_w = g.pixel_w;
  p->pixel_h = g.pixel_h;
}

bool
mm_reslice_plane_normalise (MmReslicePlane *p)
{
  double r[3], d[3];
  double lr = sqrt (dot3 (p->right, p->right));
  if (!(lr > 1e-12) || !isfinite (lr))
    return false;
  for (int a = 0; a < 3; a++)
    r[a] = p->right[a] / lr;
  double k = dot3 (p->down, r);
  for (int a = 0; a < 3; a++)
    d[a] = p->down[a] - k * r[a];
  double ld = sqrt (dot3 (d, d));
  /* Less than about a thousandth of a degree apart: no plane. */
  if (!(ld > 1e-6 * sqrt (dot3 (p->down, p->down))) || !isfinite (ld))
    return false;
  for (int a = 0; a < 3; a++)
    p->right[a] = r[a], p->down[a] = d[a] / ld;
  return true;
}

void
mm_reslice_plane_normal (const MmReslicePlane *p, double n[3])
{
  cross3 (p->right, p->down, n);
}

/* Rodrigues' rotation of v about the unit axis. */
static void
rotate (double v[3], const double axis[3], double c, double s)
{
  double kxv[3], k = dot3 (axis, v), out[3];
  cross3 (axis, v, kxv);
  for (int a = 0; a < 3; a++)
    out[a] = v[a] * c + kxv[a] * s + axis[a] * k * (1 - c);
  for (int a = 0; a < 3; a++)
    v[a] = out[a];
}

void
mm_reslice_plane_rotate (MmReslicePlane *p, const double axis[3], double angle)
{
  double len = sqrt (dot3 (axis, axis));
  g_return_if_fail (len > 0 && isfinite (len) && isfinite (angle));
  double u[3] = { axis[0] / len, axis[1] / len, axis[2] / len };
  double c = cos (angle), s = sin (angle);
  rotate (p->right, u, c, s);
  rotate (p->down, u, c, s);
  mm_reslice_plane_normalise (p);
}

void
mm_reslice_pixel_to_lps (const MmReslicePlane *p, double x, double y, double lps[3])
{
  double dx = (x - 0.5 - 0.5 * (p->width - 1)) * p->pixel_w;
  double dy = (y - 0.5 - 0.5 * (p->height - 1)) * p->pixel_h;
  for (int a = 0; a < 3; a++)
    lps[a] = p->centre_lps[a] + dx * p->right[a] + dy * p->down[a];
}

void
mm_reslice_pixel_to_index (const MmReslicePlane *p, const MmVolume *vol, double x, double y,
                           double ijk[3])
{
  double lps[3];
  mm_reslice_pixel_to_lps (p, x, y, lps);
  mm_volume_lps_to_index (vol, lps, ijk);
}

void
mm_reslice_plane_letters (const MmReslicePlane *p, char left[4], char right[4], char top[4],
                          char bottom[4])
{
  double l[3] = { -p->right[0], -p->right[1], -p->right[2] };
  double t[3] = { -p->down[0], -p->down[1], -p->down[2] };
  mm_direction_letters (l, left);
  mm_direction_letters (p->right, right);
  mm_direction_letters (t, top);
  mm_direction_letters (p->down, bottom);
}

/* Per axis: the lower corner index, its weight t, and the step to the upper neighbour (0 on
 * an axis of one voxel). */
typedef struct
{
  int n[3];
  size_t stride[3], up[3];
} Grid;

static void
grid_init (Grid *g, const MmVolume *vol)
{
  size_t s[3] = { 1, (size_t) vol->dims[0], mm_volume_slice_voxels (vol) };
  for (int a = 0; a < 3; a++)
    {
      g->n[a] = vol->dims[a];
      g->stride[a] = s[a];
      g->up[a] = vol->dims[a] > 1 ? s[a] : 0;
    }
}

/* Inside the box of voxel centres: offset of the lower corner and the three weights. */
static inline bool
locate (const Grid *g, double x, double y, double z, size_t *off, double t[3])
{
  double c[3] = { x, y, z };
  *off = 0;
  for (int a = 0; a < 3; a++)
    {
      /* A millionth of a voxel of slack: the edge pixels of a standard plane fall on the
       * box's faces, and the rounding of the LPS round trip must not drop them. */
      if (!(c[a] >= -1e-6 && c[a] <= g->n[a] - 1 + 1e-6))
        return false;
      c[a] = CLAMP (c[a], 0.0, (double) (g->n[a] - 1));
      int i0 = (int) c[a];
      if (i0 > g->n[a] - 2)
        i0 = MAX (g->n[a] - 2, 0);
      t[a] = c[a] - i0;
      *off += (size_t) i0 * g->stride[a];
    }
  return true;
}

#define TRILINEAR(V)                                                                          \
  do                                                                                          \
    {                                                                                         \
      double c00 = V[off] + t[0] * (V[off + g->up[0]] - V[off]);                              \
      size_t o1 = off + g->up[1];                                                             \
      double c10 = V[o1] + t[0] * (V[o1 + g->up[0]] - V[o1]);                                 \
      size_t o2 = off + g->up[2];                                                             \
      double c01 = V[o2] + t[0] * (V[o2 + g->up[0]] - V[o2]);                                 \
      size_t o3 = o2 + g->up[1];                                                              \
      double c11 = V[o3] + t[0] * (V[o3 + g->up[0]] - V[o3]);                                 \
      double c0 = c00 + t[1] * (c10 - c00), c1 = c01 + t[1] * (c11 - c01);                    \
      return c0 + t[2] * (c1 - c0);                                                           \
    }                                                                                         \
  while (0)

static inline double
trilinear (const MmVolume *vol, const Grid *g, size_t off, const double t[3])
{
  if (vol->type == MM_VOXEL_INT16)
    {
      const int16_t *v = vol->voxels;
      TRILINEAR (v);
    }
  const float *v = vol->voxels;
  TRILINEAR (v);
}

double
mm_reslice_sample (const MmVolume *vol, const double ijk[3], double outside)
{
  g_return_val_if_fail (vol != NULL && vol->voxels != NULL, outside);
  Grid g;
  grid_init (&g, vol);
  size_t off;
  double t[3];
  if (!locate (&g, ijk[0], ijk[1], ijk[2], &off, t))
    return outside;
  return trilinear (vol, &g, off, t);
}

/* Index of output pixel (0, 0)'s centre and the index steps of one pixel right and down. */
static void
index_frame (const MmVolume *vol, const MmReslicePlane *p, double o[3], double dx[3],
             double dy[3])
{
  double a[3], b[3];
  mm_reslice_pixel_to_index (p, vol, 0.5, 0.5, o);
  mm_reslice_pixel_to_index (p, vol, 1.5, 0.5, a);
  mm_reslice_pixel_to_index (p, vol, 0.5, 1.5, b);
  for (int c = 0; c < 3; c++)
    dx[c] = a[c] - o[c], dy[c] = b[c] - o[c];
}

void
mm_reslice_volume (const MmVolume *vol, const MmReslicePlane *p, float outside, float *out,
                   int n_threads)
{
  g_return_if_fail (vol != NULL && vol->voxels != NULL && p != NULL && out != NULL);
  Grid g;
  grid_init (&g, vol);
  double o[3], dx[3], dy[3];
  index_frame (vol, p, o, dx, dy);
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  int w = p->width;
#pragma omp parallel for num_threads (n_threads) schedule (static)
  for (int y = 0; y < p->height; y++)
    {
      float *row = out + (size_t) y * w;
      for (int x = 0; x < w; x++)
        {
          /* Each pixel from its own product, not a running sum: no drift across a row. */
          double c0 = o[0] + x * dx[0] + y * dy[0];
          double c1 = o[1] + x * dx[1] + y * dy[1];
          double c2 = o[2] + x * dx[2] + y * dy[2];
          size_t off;
          double t[3];
          row[x] = locate (&g, c0, c1, c2, &off, t) ? (float) trilinear (vol, &g, off, t)
                                                    : outside;
        }
    }
}

void
mm_reslice_mask (const MmVolume *vol, const MmMask *mask, const MmReslicePlane *p,
                 uint8_t *out, int n_threads)
{
  g_return_if_fail (vol != NULL && mask != NULL && p != NULL && out != NULL);
  g_return_if_fail (mask->dims[0] == vol->dims[0] && mask->dims[1] == vol->dims[1]
                    && mask->dims[2] == vol->dims[2]);
  Grid g;
  grid_init (&g, vol);
  double o[3], dx[3], dy[3];
  index_frame (vol, p, o, dx, dy);
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  int w = p->width;
#pragma omp parallel for num_threads (n_threads) schedule (static)
  for (int y = 0; y < p->height; y++)
    {
      uint8_t *row = out + (size_t) y * w;
      for (int x = 0; x < w; x++)
        {
          double c[3] = { o[0] + x * dx[0] + y * dy[0], o[1] + x * dx[1] + y * dy[1],
                          o[2] + x * dx[2] + y * dy[2] };
          size_t off = 0;
          bool in = true;
          for (int a = 0; a < 3 && in; a++)
            {
              double f = floor (c[a] + 0.5);
              in = f >= 0 && f < g.n[a];
              if (in)
                off += (size_t) f * g.stride[a];
            }
          row[x] = in ? mask->data[off] : 0;
        }
    }
}
