/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Brush and eraser on oblique planes (mm-edit-oblique.h). */
#include "mm-edit-oblique.h"

#include "mm-limits.h"

#include <math.h>

typedef struct
{
  MmMask *mask;
  const MmVolume *vol;
  const MmBrush *brush;
  MmTouchFunc touch;
  gpointer data;
  uint8_t *seen; /* per axial slice: touched in this call */
  uint64_t changed;
} Painter;

static void
paint_voxel (Painter *pt, int i, int j, int k)
{
  const int *d = pt->mask->dims;
  if (i < 0 || j < 0 || k < 0 || i >= d[0] || j >= d[1] || k >= d[2])
    return;
  size_t off = ((size_t) k * d[1] + j) * d[0] + i;
  const MmBrush *b = pt->brush;
  if (pt->mask->data[off] == b->value)
    return;
  if (b->hu_limited && b->value != 0)
    {
      double hu = pt->vol->type == MM_VOXEL_INT16 ? ((const int16_t *) pt->vol->voxels)[off]
                                                  : ((const float *) pt->vol->voxels)[off];
      if (!(hu >= b->hu_lower && hu <= b->hu_upper))
        return;
    }
  if (!pt->seen[k])
    {
      pt->seen[k] = 1;
      if (pt->touch)
        pt->touch (k, pt->data);
    }
  pt->mask->data[off] = b->value;
  pt->changed++;
}

/* Squared distance from p to the segment a-b (any dimension n). */
static double
segment_dist2 (const double *p, const double *a, const double *b, int n)
{
  double ab2 = 0, t = 0;
  for (int x = 0; x < n; x++)
    {
      ab2 += (b[x] - a[x]) * (b[x] - a[x]);
      t += (p[x] - a[x]) * (b[x] - a[x]);
    }
  t = ab2 > 0 ? CLAMP (t / ab2, 0.0, 1.0) : 0.0;
  double d2 = 0;
  for (int x = 0; x < n; x++)
    {
      double q = a[x] + t * (b[x] - a[x]) - p[x];
      d2 += q * q;
    }
  return d2;
}

uint64_t
mm_edit_brush_oblique (MmMask *mask, const MmVolume *vol, const MmReslicePlane *p, double u0,
                       double v0, double u1, double v1, const MmBrush *brush, MmTouchFunc touch,
                       gpointer data)
{
  g_return_val_if_fail (mask && vol && p && brush, 0);
  g_return_val_if_fail (mask->dims[0] == vol->dims[0] && mask->dims[1] == vol->dims[1]
                            && mask->dims[2] == vol->dims[2], 0);
  double r = brush->radius_mm;
  if (!(r > 0) || !isfinite (r) || !isfinite (u0) || !isfinite (v0) || !isfinite (u1)
      || !isfinite (v1) || !(p->pixel_w > 0) || !(p->pixel_h > 0))
    return 0;
  Painter pt = { mask, vol, brush, touch, data, g_new0 (uint8_t, vol->dims[2]), 0 };
  if (!brush->sphere)
    {
      /* The plane's pixels under the brush: their box, cut to the plane. */
      double a[2] = { u0 * p->pixel_w, v0 * p->pixel_h }, b[2] = { u1 * p->pixel_w, v1 * p->pixel_h };
      double x0 = floor (MIN (u0, u1) - r / p->pixel_w) - 1, x1 = ceil (MAX (u0, u1) + r / p->pixel_w) + 1;
      double y0 = floor (MIN (v0, v1) - r / p->pixel_h) - 1, y1 = ceil (MAX (v0, v1) + r / p->pixel_h) + 1;
      x0 = MAX (x0, 0), y0 = MAX (y0, 0);
      x1 = MIN (x1, p->width - 1), y1 = MIN (y1, p->height - 1);
      for (int y = (int) y0; y <= (int) y1; y++)
        for (int x = (int) x0; x <= (int) x1; x++)
          {
            double c[2] = { (x + 0.5) * p->pixel_w, (y + 0.5) * p->pixel_h };
            if (segment_dist2 (c, a, b, 2) > r * r)
              continue;
            double ijk[3];
            mm_reslice_pixel_to_index (p, vol, x + 0.5, y + 0.5, ijk);
            paint_voxel (&pt, (int) floor (ijk[0] + 0.5), (int) floor (ijk[1] + 0.5),
                         (int) floor (ijk[2] + 0.5));
          }
    }
  else
    {
      /* A ball swept along the segment in 3D: the voxels in the box of both ends' balls. */
      double a[3], b[3], ia[3], ib[3];
      mm_reslice_pixel_to_lps (p, u0, v0, a);
      mm_reslice_pixel_to_lps (p, u1, v1, b);
      mm_volume_lps_to_index (vol, a, ia);
      mm_volume_lps_to_index (vol, b, ib);
      int lo[3], hi[3];
      for (int x = 0; x < 3; x++)
        {
          /* The volume's axes may be turned in LPS: a radius in voxels along any axis is at
           * most r over the smallest spacing. */
          double rv = r / MIN (vol->spacing[0], MIN (vol->spacing[1], vol->spacing[2]));
          lo[x] = (int) MAX (floor (MIN (ia[x], ib[x]) - rv) - 1, 0);
          hi[x] = (int) MIN (ceil (MAX (ia[x], ib[x]) + rv) + 1, vol->dims[x] - 1);
        }
      for (int k = lo[2]; k <= hi[2]; k++)
        for (int j = lo[1]; j <= hi[1]; j++)
          for (int i = lo[0]; i <= hi[0]; i++)
            {
              double c[3];
              mm_volume_index_to_lps (vol, i, j, k, c);
              if (segment_dist2 (c, a, b, 3) <= r * r)
                paint_voxel (&pt, i, j, k);
            }
    }
  g_free (pt.seen);
  return pt.changed;
}
