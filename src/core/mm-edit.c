/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Editing operations on a metal mask. */
#include "mm-edit.h"

#include "mm-components.h"
#include "mm-distance.h"

#include <math.h>
#include <string.h>

/* Touch tracking within one operation: each slice is reported once. */
typedef struct
{
  MmTouchFunc func;
  gpointer data;
  uint8_t *seen;
} Touch;

static void
touch_init (Touch *t, const MmMask *mask, MmTouchFunc func, gpointer data)
{
  t->func = func;
  t->data = data;
  t->seen = g_new0 (uint8_t, mask->dims[2]);
}

static inline void
touch_slice (Touch *t, int k)
{
  if (!t->seen[k])
    {
      t->seen[k] = 1;
      if (t->func)
        t->func (k, t->data);
    }
}

static void
touch_clear (Touch *t)
{
  g_free (t->seen);
}

static inline bool
hu_allows (const MmBrush *b, const MmVolume *vol, size_t off)
{
  if (!b->hu_limited || b->value == 0)
    return true;
  double hu = vol->type == MM_VOXEL_INT16 ? ((const int16_t *) vol->voxels)[off]
                                          : ((const float *) vol->voxels)[off];
  return hu >= b->hu_lower && hu <= b->hu_upper;
}

/* One stamp centred at voxel-space point c (continuous i, j, k). */
static uint64_t
stamp (MmMask *mask, const MmVolume *vol, const double c[3], const MmBrush *b, bool sphere,
       MmPlane plane, Touch *t)
{
  const double *sp = vol->spacing;
  double r = b->radius_mm;
  int lo[3], hi[3];
  for (int a = 0; a < 3; a++)
    {
      double ext = r / sp[a];
      lo[a] = MAX (0, (int) floor (c[a] - ext));
      hi[a] = MIN (mask->dims[a] - 1, (int) ceil (c[a] + ext));
    }
  if (!sphere)
    {
      /* A disc in the plane: the axis along the plane's normal stays at the centre. */
      int axis = plane == MM_PLANE_AXIAL ? 2 : plane == MM_PLANE_CORONAL ? 1 : 0;
      lo[axis] = hi[axis] = (int) lrint (c[axis]);
    }
  uint64_t changed = 0;
  int w = mask->dims[0], h = mask->dims[1];
  for (int k = lo[2]; k <= hi[2]; k++)
    for (int j = lo[1]; j <= hi[1]; j++)
      for (int i = lo[0]; i <= hi[0]; i++)
        {
          double dx = (i - c[0]) * sp[0], dy = (j - c[1]) * sp[1], dz = (k - c[2]) * sp[2];
          if (!sphere)
            {
              if (plane == MM_PLANE_AXIAL)
                dz = 0;
              else if (plane == MM_PLANE_CORONAL)
                dy = 0;
              else
                dx = 0;
            }
          if (dx * dx + dy * dy + dz * dz > r * r)
            continue;
          size_t off = ((size_t) k * h + j) * w + i;
          if (mask->data[off] == b->value || !hu_allows (b, vol, off))
            continue;
          touch_slice (t, k);
          mask->data[off] = b->value;
          changed++;
        }
  return changed;
}

uint64_t
mm_edit_brush_segment (MmMask *mask, const MmVolume *vol, MmPlane plane, int depth, double u0,
                       double v0, double u1, double v1, const MmBrush *brush, MmTouchFunc touch,
                       gpointer data)
{
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  /* Stamps at most a quarter radius apart (in mm) along the segment. */
  double du = (u1 - u0) * g.pixel_w, dv = (v1 - v0) * g.pixel_h;
  double len = sqrt (du * du + dv * dv);
  int steps = (int) ceil (len / MAX (brush->radius_mm / 4.0, 0.05));
  Touch t;
  touch_init (&t, mask, touch, data);
  uint64_t changed = 0;
  for (int s = 0; s <= steps; s++)
    {
      double f = steps ? (double) s / steps : 0.0;
      double u = u0 + f * (u1 - u0), v = v0 + f * (v1 - v0);
      /* Plane to voxel coordinates; pixel u covers [u, u+1), its centre is u + 0.5. */
      int iu = (int) floor (u), iv = (int) floor (v), ijk[3];
      mm_plane_to_index (vol, plane, iu, iv, depth, ijk);
      double c[3] = { ijk[0], ijk[1], ijk[2] };
      double fu = u - 0.5 - iu, fv = v - 0.5 - iv; /* sub-pixel offsets */
      switch (plane)
        {
        case MM_PLANE_AXIAL:
          c[0] += fu, c[1] += fv;
          break;
        case MM_PLANE_CORONAL:
          c[0] += fu, c[2] -= fv;
          break;
        case MM_PLANE_SAGITTAL:
          c[1] += fu, c[2] -= fv;
          break;
        }
      changed += stamp (mask, vol, c, brush, brush->sphere, plane, &t);
    }
  touch_clear (&t);
  return changed;
}

uint64_t
mm_edit_threshold (MmMask *mask, const MmVolume *vol, int first, int last, double lower,
                   double upper, MmTouchFunc touch, gpointer data)
{
  first = MAX (first, 0);
  last = MIN (last, mask->dims[2] - 1);
  size_t slice = (size_t) mask->dims[0] * mask->dims[1];
  /* Which slices change is found first (in parallel), so touch runs on this thread only. */
  g_autofree uint8_t *differs = g_new0 (uint8_t, mask->dims[2]);
#pragma omp parallel for schedule (dynamic, 4)
  for (int k = first; k <= last; k++)
    for (size_t x = 0; x < slice && !differs[k]; x++)
      {
        size_t off = (size_t) k * slice + x;
        double hu = vol->type == MM_VOXEL_INT16 ? ((const int16_t *) vol->voxels)[off]
                                                : ((const float *) vol->voxels)[off];
        differs[k] = mask->data[off] != (hu >= lower && hu <= upper);
      }
  for (int k = first; k <= last; k++)
    if (differs[k] && touch)
      touch (k, data);
  uint64_t changed = 0;
#pragma omp parallel for schedule (dynamic, 4) reduction (+ : changed)
  for (int k = first; k <= last; k++)
    {
      if (!differs[k])
        continue;
      for (size_t x = 0; x < slice; x++)
        {
          size_t off = (size_t) k * slice + x;
          double hu = vol->type == MM_VOXEL_INT16 ? ((const int16_t *) vol->voxels)[off]
                                                  : ((const float *) vol->voxels)[off];
          uint8_t v = hu >= lower && hu <= upper;
          changed += mask->data[off] != v;
          mask->data[off] = v;
        }
    }
  return changed;
}

/* Remove the components l of mask with !keep[l], telling touch about each slice they span. */
static uint64_t
filter_components (MmMask *mask, const MmComponents *comps, const bool *keep,
                   MmTouchFunc touch, gpointer data)
{
  Touch t;
  touch_init (&t, mask, touch, data);
  uint64_t changed = 0;
  int n = mm_components_count (comps);
  for (int l = 1; l <= n; l++)
    if (!keep[l])
      {
        const MmComponent *c = mm_components_get (comps, l);
        changed += c->voxels;
        for (int k = c->bbox_min[2]; k <= c->bbox_max[2]; k++)
          touch_slice (&t, k);
      }
  if (changed)
    mm_components_filter (comps, mask, keep, 0);
  touch_clear (&t);
  return changed;
}

uint64_t
mm_edit_island (MmMask *mask, const int ijk[3], MmIslandAction action, MmTouchFunc touch,
                gpointer data)
{
  g_autoptr (MmComponents) comps = mm_components_label (mask, 0);
  int label = mm_components_label_at (comps, ijk[0], ijk[1], ijk[2]);
  if (label == 0)
    return 0;
  int n = mm_components_count (comps);
  g_autofree bool *keep = g_new (bool, n + 1);
  for (int l = 0; l <= n; l++)
    keep[l] = action == MM_ISLAND_REMOVE ? l != label : l == label;
  return filter_components (mask, comps, keep, touch, data);
}

uint64_t
mm_edit_remove_small (MmMask *mask, const MmVolume *vol, double min_mm3, MmTouchFunc touch,
                      gpointer data)
{
  g_autoptr (MmComponents) comps = mm_components_label (mask, 0);
  int n = mm_components_count (comps);
  double vox = mm_volume_voxel_mm3 (vol);
  g_autofree bool *keep = g_new (bool, n + 1);
  for (int l = 1; l <= n; l++)
    keep[l] = mm_components_get (comps, l)->voxels * vox >= min_mm3;
  return filter_components (mask, comps, keep, touch, data);
}

uint64_t
mm_edit_fill_holes (MmMask *mask, int first, int last, MmTouchFunc touch, gpointer data)
{
  int w = mask->dims[0], h = mask->dims[1];
  first = MAX (first, 0);
  last = MIN (last, mask->dims[2] - 1);
  Touch t;
  touch_init (&t, mask, touch, data);
  uint64_t changed = 0;
  g_autofree uint8_t *outside = g_malloc ((size_t) w * h);
  g_autofree int *stack = g_new (int, (size_t) w * h);
  for (int k = first; k <= last; k++)
    {
      uint8_t *s = mm_mask_slice (mask, k);
      /* Background reached from the border (4-connected) is outside; the rest is a hole. */
      memset (outside, 0, (size_t) w * h);
      int top = 0;
      for (int i = 0; i < w; i++)
        for (int e = 0; e < 2; e++)
          {
            int p = (e ? h - 1 : 0) * w + i;
            if (!s[p] && !outside[p])
              outside[p] = 1, stack[top++] = p;
          }
      for (int j = 0; j < h; j++)
        for (int e = 0; e < 2; e++)
          {
            int p = j * w + (e ? w - 1 : 0);
            if (!s[p] && !outside[p])
              outside[p] = 1, stack[top++] = p;
          }
      while (top > 0)
        {
          int p = stack[--top], x = p % w, y = p / w;
          const int nb[4][2] = { { 1, 0 }, { -1, 0 }, { 0, 1 }, { 0, -1 } };
          for (int n = 0; n < 4; n++)
            {
              int xx = x + nb[n][0], yy = y + nb[n][1];
              if (xx < 0 || yy < 0 || xx >= w || yy >= h)
                continue;
              int q = yy * w + xx;
              if (!s[q] && !outside[q])
                outside[q] = 1, stack[top++] = q;
            }
        }
      for (size_t p = 0; p < (size_t) w * h; p++)
        if (!s[p] && !outside[p])
          {
            touch_slice (&t, k);
            s[p] = 1;
            changed++;
          }
    }
  touch_clear (&t);
  return changed;
}

uint64_t
mm_edit_interpolate (MmMask *mask, const MmVolume *vol, int k0, int k1, bool apply,
                     uint8_t *out, MmTouchFunc touch, gpointer data)
{
  if (k0 > k1)
    {
      int tmp = k0;
      k0 = k1;
      k1 = tmp;
    }
  if (k0 < 0 || k1 >= mask->dims[2] || k1 - k0 < 2)
    return 0;
  int w = mask->dims[0], h = mask->dims[1];
  size_t n = (size_t) w * h;
  g_autofree float *d0 = g_new (float, n), *d1 = g_new (float, n);
  mm_distance_signed_2d (mm_mask_slice (mask, k0), w, h, vol->spacing[0], vol->spacing[1], d0);
  mm_distance_signed_2d (mm_mask_slice (mask, k1), w, h, vol->spacing[0], vol->spacing[1], d1);
  /* Position along the normal decides the blend, so irregular spacing is honoured. */
  double z0 = mm_volume_slice_z (vol, k0), z1 = mm_volume_slice_z (vol, k1);
  Touch t;
  touch_init (&t, mask, touch, data);
  uint64_t changed = 0;
  for (int k = k0 + 1; k < k1; k++)
    {
      double f = (mm_volume_slice_z (vol, k) - z0) / (z1 - z0);
      uint8_t *s = mm_mask_slice (mask, k);
      uint8_t *o = out ? out + (size_t) (k - k0 - 1) * n : NULL;
      for (size_t p = 0; p < n; p++)
        {
          uint8_t v = (1.0 - f) * d0[p] + f * d1[p] <= 0;
          if (o)
            o[p] = v;
          if (apply && s[p] != v)
            {
              touch_slice (&t, k);
              s[p] = v;
              changed++;
            }
          else if (!apply)
            changed += s[p] != v;
        }
    }
  touch_clear (&t);
  return changed;
}

int
mm_edit_next_slice_with_mask (const MmMask *mask, int k, int direction)
{
  for (int kk = k + (direction >= 0 ? 1 : -1); kk >= 0 && kk < mask->dims[2];
       kk += direction >= 0 ? 1 : -1)
    if (!mm_mask_slice_is_empty (mask, kk))
      return kk;
  return -1;
}

int
mm_edit_replace (MmMask *mask, const MmMask *src, MmTouchFunc touch, gpointer data)
{
  g_return_val_if_fail (mask != NULL && src != NULL, 0);
  g_return_val_if_fail (memcmp (mask->dims, src->dims, sizeof mask->dims) == 0, 0);
  size_t n = (size_t) mask->dims[0] * mask->dims[1];
  int changed = 0;
  for (int k = 0; k < mask->dims[2]; k++)
    if (memcmp (mm_mask_slice (mask, k), mm_mask_slice (src, k), n) != 0)
      {
        if (touch)
          touch (k, data);
        memcpy (mm_mask_slice (mask, k), mm_mask_slice (src, k), n);
        changed++;
      }
  return changed;
}

uint64_t
mm_edit_clear (MmMask *mask, int first, int last, MmTouchFunc touch, gpointer data)
{
  g_return_val_if_fail (mask != NULL, 0);
  first = MAX (first, 0);
  last = MIN (last, mask->dims[2] - 1);
  uint64_t erased = 0;
  for (int k = first; k <= last; k++)
    if (!mm_mask_slice_is_empty (mask, k))
      {
        if (touch)
          touch (k, data);
        erased += mm_mask_count_slice (mask, k);
        memset (mm_mask_slice (mask, k), 0, (size_t) mask->dims[0] * mask->dims[1]);
      }
  return erased;
}
