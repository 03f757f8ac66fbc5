/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Metal segmentation: a parallel threshold pass, then components on runs. */
#include "mm-segment.h"

#include "mm-components.h"

#include <math.h>
#include <omp.h>
#include <string.h>

void
mm_segment_params_init (MmSegmentParams *params)
{
  params->lower = MM_METAL_THRESHOLD_DEFAULT;
  params->has_upper = false;
  params->upper = 0;
  params->min_volume_mm3 = MM_METAL_MIN_VOLUME_DEFAULT;
}

MmMask *
mm_segment_threshold (const MmVolume *vol, const MmSegmentParams *p, int n_threads)
{
  g_return_val_if_fail (vol != NULL && p != NULL, NULL);
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  MmMask *mask = mm_mask_new_uninitialized (vol->dims); /* every voxel is written below */
  if (mask == NULL)
    return NULL;

  size_t slice = mm_volume_slice_voxels (vol);
  double upper = p->has_upper ? p->upper : INFINITY;
  if (vol->type == MM_VOXEL_INT16)
    {
      /* Integer bounds so the inner loop vectorises: v >= ceil(lower), v <= floor(upper). */
      int lo = (int) CLAMP (ceil (p->lower), -40000.0, 40000.0);
      int hi = (int) CLAMP (floor (upper), -40000.0, 40000.0);
#pragma omp parallel for num_threads (n_threads) schedule (static)
      for (int k = 0; k < vol->dims[2]; k++)
        {
          const int16_t *v = (const int16_t *) vol->voxels + (size_t) k * slice;
          uint8_t *m = mm_mask_slice (mask, k);
          for (size_t x = 0; x < slice; x++)
            m[x] = (v[x] >= lo) & (v[x] <= hi);
        }
    }
  else
    {
#pragma omp parallel for num_threads (n_threads) schedule (static)
      for (int k = 0; k < vol->dims[2]; k++)
        {
          const float *v = (const float *) vol->voxels + (size_t) k * slice;
          uint8_t *m = mm_mask_slice (mask, k);
          for (size_t x = 0; x < slice; x++)
            m[x] = (v[x] >= p->lower) & (v[x] <= upper);
        }
    }
  return mask;
}

bool *
mm_segment_select (const MmComponents *comps, const MmVolume *vol, const MmSegmentParams *p,
                   MmSegmentResult *res)
{
  int n = mm_components_count (comps);
  double voxel_mm3 = mm_volume_voxel_mm3 (vol);
  bool *keep = g_new0 (bool, n + 1);
  MmSegmentResult r = { 0 };
  for (int l = 1; l <= n; l++)
    {
      const MmComponent *c = mm_components_get (comps, l);
      keep[l] = (double) c->voxels * voxel_mm3 >= p->min_volume_mm3;
      if (keep[l])
        {
          r.components++;
          r.metal_voxels += c->voxels;
        }
      else
        {
          r.components_dropped++;
          r.voxels_dropped += c->voxels;
        }
    }
  for (int k = 0; k < vol->dims[2]; k++)
    r.slices_with_metal += mm_components_slice_has (comps, keep, k);
  r.volume_ml = (double) r.metal_voxels * voxel_mm3 / 1000.0;
  if (res)
    *res = r;
  return keep;
}

MmComponents *
mm_segment_metal_components (const MmVolume *vol, const MmSegmentParams *p,
                             MmSegmentResult *res, bool **keep_out, int n_threads)
{
  g_return_val_if_fail (vol != NULL && p != NULL && keep_out != NULL, NULL);
  double upper = p->has_upper ? p->upper : INFINITY;
  MmComponents *comps = mm_components_label_range (vol, p->lower, upper, n_threads);
  *keep_out = mm_segment_select (comps, vol, p, res);
  return comps;
}

MmMask *
mm_segment_metal (const MmVolume *vol, const MmSegmentParams *p, MmSegmentResult *res,
                  int n_threads)
{
  g_autofree bool *keep = NULL;
  g_autoptr (MmComponents) comps = mm_segment_metal_components (vol, p, res, &keep, n_threads);
  MmMask *mask = mm_mask_new_uninitialized (vol->dims);
  if (mask == NULL)
    return NULL;
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
#pragma omp parallel for num_threads (n_threads) schedule (static)
  for (int k = 0; k < vol->dims[2]; k++)
    mm_components_paint_slice (comps, keep, k, mm_mask_slice (mask, k), 1);
  return mask;
}
