/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Oblique planes: the voxel index is an affine function of the output pixel, so each row
 * starts at one transformed point and steps by a fixed increment; each pixel is then eight
 * loads and seven lerps. Rows are split over threads. */
#include "mm-reslice.h"

#include "mm-limits.h"

#include <math.h>
#include <omp.h>
#include <string.h>

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

void
mm_reslice_plane_cover (MmReslicePlane *p, const MmVolume *vol, double pixel_mm)
{
  g_return_if_fail (p != NULL && vol != NULL && pixel_mm > 0 && isfinite (pixel_mm));
  /* The farthest corner from the centre along each axis; corners are those of the box of
   * voxel centres (what mm_reslice_sample treats as inside). */
  double half_w = 0, half_h = 0;
  for (int c = 0; c < 8; c++)
    {
      double lps[3];
      mm_volume_index_to_lps (vol, (c & 1) ? vol->dims[0] - 1 : 0, (c & 2) ? vol->dims[1] - 1 : 0,
                              (c & 4) ? vol->dims[2] - 1 : 0, lps);
      double d[3] = { lps[0] - p->centre_lps[0], lps[1] - p->centre_lps[1],
                      lps[2] - p->centre_lps[2] };
      half_w = MAX (half_w, fabs (dot3 (d, p->right)));
      half_h = MAX (half_h, fabs (dot3 (d, p->down)));
    }
  /* Pixel centres at centre + k * pixel, |k| <= n: n * pixel >= half. A millionth of a pixel
   * of slack so that an extent of exactly n pixels does not round up to n + 1. */
  const double cap = (MM_LIMIT_IMAGE_SIDE - 1) / 2;
  double nw = ceil (half_w / pixel_mm - 1e-6), nh = ceil (half_h / pixel_mm - 1e-6);
  p->width = 2 * (int) CLAMP (nw, 0, cap) + 1;
  p->height = 2 * (int) CLAMP (nh, 0, cap) + 1;
  p->pixel_w = p->pixel_h = pixel_mm;
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

MmVolume *
mm_reslice_image_new (const MmVolume *vol, const MmReslicePlane *p)
{
  g_return_val_if_fail (vol != NULL && p != NULL && p->width > 0 && p->height > 0, NULL);
  int dims[3] = { p->width, p->height, 1 };
  MmVolume *img = mm_volume_new (dims, MM_VOXEL_FLOAT32);
  if (img == NULL)
    return NULL;
  double n[3];
  mm_reslice_plane_normal (p, n);
  for (int a = 0; a < 3; a++)
    img->direction[a] = p->right[a], img->direction[3 + a] = p->down[a],
    img->direction[6 + a] = n[a];
  img->spacing[0] = p->pixel_w;
  img->spacing[1] = p->pixel_h;
  img->spacing[2] = MIN (p->pixel_w, p->pixel_h);
  mm_reslice_pixel_to_lps (p, 0.5, 0.5, img->slices[0].position);
  g_free (img->unit);
  img->unit = g_strdup (mm_volume_unit (vol));
  return img;
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

/* Where samples count as inside, per axis. Trilinear: lo <= c <= hi (the box of voxel
 * centres with a millionth of a voxel of slack, see mm-reslice.h). Nearest: lo <= c + 0.5 < hi
 * (the cells of voxels lo..hi - 1). */
typedef struct
{
  double lo[3], hi[3];
  bool nearest;
} Box;

static void
box_trilinear (const Grid *g, Box *b)
{
  for (int a = 0; a < 3; a++)
    b->lo[a] = -1e-6, b->hi[a] = g->n[a] - 1 + 1e-6;
  b->nearest = false;
}

static inline bool
box_has (const Box *b, const double o[3], const double dx[3], const double dy[3], int x, int y)
{
  for (int a = 0; a < 3; a++)
    {
      double c = o[a] + x * dx[a] + y * dy[a];
      if (b->nearest ? !(c + 0.5 >= b->lo[a] && c + 0.5 < b->hi[a])
                     : !(c >= b->lo[a] && c <= b->hi[a]))
        return false;
    }
  return true;
}

/* Columns [*xa, *xb] of row y whose sample lies in the box (empty: xa > xb). The indices are
 * linear in x, so the inside is one interval: estimated by division, then settled with the
 * very test each pixel would get (box_has). */
static void
row_span (const Box *box, const double o[3], const double dx[3], const double dy[3], int y,
          int w, int *xa, int *xb)
{
  double lo = 0, hi = w - 1;
  for (int a = 0; a < 3; a++)
    {
      double c = o[a] + y * dy[a] + (box->nearest ? 0.5 : 0);
      if (dx[a] == 0)
        {
          if (!(c >= box->lo[a] && c <= box->hi[a]))
            lo = 1, hi = 0;
          continue;
        }
      double e0 = (box->lo[a] - c) / dx[a], e1 = (box->hi[a] - c) / dx[a];
      lo = MAX (lo, MIN (e0, e1));
      hi = MIN (hi, MAX (e0, e1));
    }
  *xa = 1, *xb = 0;
  if (!(lo <= hi + 2)) /* NaN or clearly empty */
    return;
  int a = (int) CLAMP (ceil (lo), 0, w - 1), b = (int) CLAMP (floor (hi), 0, w - 1);
  while (a <= b && !box_has (box, o, dx, dy, a, y))
    a++;
  while (b >= a && !box_has (box, o, dx, dy, b, y))
    b--;
  if (a > b)
    return;
  while (a > 0 && box_has (box, o, dx, dy, a - 1, y))
    a--;
  while (b < w - 1 && box_has (box, o, dx, dy, b + 1, y))
    b++;
  *xa = a, *xb = b;
}

/* n_threads <= 0: one thread up to 512 x 512 pixels, OpenMP's default above. One core
 * reslices 512 x 512 in about 3 ms (seed CT, bench-reading); two take 2.3 ms on an idle
 * machine, but on the shared one (load 8 on 2 cores) the team's p50 was 23 ms against 14 ms
 * for one thread: each frame waits for the thread that got no core, and libgomp's idle
 * threads spin on the cores the work needs. */
static int
auto_threads (const MmReslicePlane *p, int n_threads)
{
  if (n_threads > 0)
    return n_threads;
  return (double) p->width * p->height <= 512.0 * 512.0 ? 1 : omp_get_max_threads ();
}

/* Pixels ahead whose cells are prefetched. */
#define PF 8

/* The trilinear loop over a row span, without any test per pixel: the span is inside. */
#define RESLICE_SPAN(T)                                                                       \
  do                                                                                          \
    {                                                                                         \
      const T *V = vol->voxels;                                                               \
      for (int x = xa; x <= xb; x++)                                                          \
        {                                                                                     \
          double c[3] = { o[0] + x * dx[0] + y * dy[0], o[1] + x * dx[1] + y * dy[1],         \
                          o[2] + x * dx[2] + y * dy[2] };                                     \
          size_t off = 0;                                                                     \
          double t[3];                                                                        \
          for (int a = 0; a < 3; a++)                                                         \
            {                                                                                 \
              double ca = CLAMP (c[a], 0.0, hi[a]);                                           \
              int i0 = MIN ((int) ca, top[a]);                                                \
              t[a] = ca - i0;                                                                 \
              off += (size_t) i0 * g.stride[a];                                               \
            }                                                                                 \
          size_t u0 = g.up[0], u1 = g.up[1], u2 = g.up[2];                                     \
          /* The four voxel rows of the cell PF pixels ahead: memory latency, not arithmetic, \
           * is what an oblique walk through 100 MB costs. */                                \
          if (x + PF <= xb)                                                                   \
            {                                                                                 \
              size_t pf = 0;                                                                  \
              for (int a = 0; a < 3; a++)                                                     \
                pf += (size_t) MIN ((int) CLAMP (c[a] + PF * dx[a], 0.0, hi[a]), top[a])       \
                      * g.stride[a];                                                          \
              __builtin_prefetch (V + pf);                                                    \
              __builtin_prefetch (V + pf + u1);                                               \
              __builtin_prefetch (V + pf + u2);                                               \
              __builtin_prefetch (V + pf + u1 + u2);                                          \
            }                                                                                 \
          double c00 = V[off] + t[0] * (V[off + u0] - V[off]);                                \
          double c10 = V[off + u1] + t[0] * (V[off + u1 + u0] - V[off + u1]);                 \
          double c01 = V[off + u2] + t[0] * (V[off + u2 + u0] - V[off + u2]);                 \
          double c11 = V[off + u2 + u1] + t[0] * (V[off + u2 + u1 + u0] - V[off + u2 + u1]);  \
          double v0 = c00 + t[1] * (c10 - c00), v1 = c01 + t[1] * (c11 - c01);                \
          row[x] = (float) (v0 + t[2] * (v1 - v0));                                           \
        }                                                                                     \
    }                                                                                         \
  while (0)

void
mm_reslice_volume (const MmVolume *vol, const MmReslicePlane *p, float outside, float *out,
                   int n_threads)
{
  g_return_if_fail (vol != NULL && vol->voxels != NULL && p != NULL && out != NULL);
  Grid g;
  grid_init (&g, vol);
  double o[3], dx[3], dy[3];
  index_frame (vol, p, o, dx, dy);
  n_threads = auto_threads (p, n_threads);
  int w = p->width;
  /* The lower corner of a cell stops one short of the last voxel (t = 1 there). */
  int top[3];
  double hi[3];
  for (int a = 0; a < 3; a++)
    top[a] = MAX (g.n[a] - 2, 0), hi[a] = g.n[a] - 1;
  bool i16 = vol->type == MM_VOXEL_INT16;
  Box box;
  box_trilinear (&g, &box);
  /* Rows in small chunks taken in turn: on a loaded machine a thread that loses its core
   * holds up only its chunk, not half the image. */
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 16)
  for (int y = 0; y < p->height; y++)
    {
      float *row = out + (size_t) y * w;
      int xa, xb;
      row_span (&box, o, dx, dy, y, w, &xa, &xb);
      for (int x = 0; x < MIN (xa, w); x++)
        row[x] = outside;
      for (int x = MAX (xb + 1, 0); x < w; x++)
        row[x] = outside;
      if (xa > xb)
        continue;
      if (i16)
        RESLICE_SPAN (int16_t);
      else
        RESLICE_SPAN (float);
    }
}

bool
mm_reslice_mask_bounds (const MmMask *mask, int bmin[3], int bmax[3])
{
  g_return_val_if_fail (mask != NULL, false);
  int lo[3] = { G_MAXINT, G_MAXINT, G_MAXINT }, hi[3] = { -1, -1, -1 };
  int ni = mask->dims[0], nj = mask->dims[1];
  for (int k = 0; k < mask->dims[2]; k++)
    {
      if (mm_mask_slice_is_empty (mask, k))
        continue;
      const uint8_t *s = mm_mask_slice (mask, k);
      for (int j = 0; j < nj; j++)
        {
          const uint8_t *r = s + (size_t) j * ni;
          const uint8_t *first = memchr (r, 1, ni);
          if (first == NULL)
            {
              /* Values other than 0 and 1 are not a mask's, but count them too. */
              int i = 0;
              while (i < ni && r[i] == 0)
                i++;
              if (i == ni)
                continue;
              first = r + i;
            }
          int i1 = ni - 1;
          while (r[i1] == 0)
            i1--;
          int c[3] = { (int) (first - r), j, k };
          for (int a = 0; a < 3; a++)
            lo[a] = MIN (lo[a], c[a]);
          hi[0] = MAX (hi[0], i1), hi[1] = MAX (hi[1], j), hi[2] = MAX (hi[2], k);
        }
    }
  if (hi[2] < 0)
    return false;
  memcpy (bmin, lo, sizeof lo);
  memcpy (bmax, hi, sizeof hi);
  return true;
}

void
mm_reslice_mask (const MmVolume *vol, const MmMask *mask, const MmReslicePlane *p,
                 uint8_t *out, int n_threads)
{
  g_return_if_fail (mask != NULL);
  int bmin[3] = { 0, 0, 0 }, bmax[3] = { mask->dims[0] - 1, mask->dims[1] - 1, mask->dims[2] - 1 };
  mm_reslice_mask_in (vol, mask, bmin, bmax, p, out, n_threads);
}

void
mm_reslice_mask_in (const MmVolume *vol, const MmMask *mask, const int bmin[3],
                    const int bmax[3], const MmReslicePlane *p, uint8_t *out, int n_threads)
{
  g_return_if_fail (vol != NULL && mask != NULL && p != NULL && out != NULL);
  g_return_if_fail (mask->dims[0] == vol->dims[0] && mask->dims[1] == vol->dims[1]
                    && mask->dims[2] == vol->dims[2]);
  Grid g;
  grid_init (&g, vol);
  double o[3], dx[3], dy[3];
  index_frame (vol, p, o, dx, dy);
  n_threads = auto_threads (p, n_threads);
  int w = p->width;
  Box box = { .nearest = true };
  for (int a = 0; a < 3; a++)
    {
      box.lo[a] = MAX (bmin[a], 0);
      box.hi[a] = MIN (bmax[a], g.n[a] - 1) + 1;
    }
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 16)
  for (int y = 0; y < p->height; y++)
    {
      uint8_t *row = out + (size_t) y * w;
      int xa, xb;
      row_span (&box, o, dx, dy, y, w, &xa, &xb);
      memset (row, 0, w);
      for (int x = xa; x <= xb; x++)
        {
          /* Inside the span every c + 0.5 is >= 0, so truncation is floor (and no libm call:
           * floor is one only with SSE4.1). */
          size_t off = 0, pf = 0;
          for (int a = 0; a < 3; a++)
            {
              double c = o[a] + x * dx[a] + y * dy[a] + 0.5;
              off += (size_t) MIN ((int) c, g.n[a] - 1) * g.stride[a];
              pf += (size_t) CLAMP ((int) (c + PF * dx[a]), 0, g.n[a] - 1) * g.stride[a];
            }
          __builtin_prefetch (mask->data + pf);
          row[x] = mask->data[off];
        }
    }
}
