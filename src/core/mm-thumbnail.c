/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Series thumbnails (mm-thumbnail.h): the renderer of the views, at thumbnail size. */
#include "mm-thumbnail.h"

#include "mm-render.h"

#include <math.h>

void
mm_thumbnail_window (const MmVolume *vol, int k, double *window, double *level)
{
  g_return_if_fail (vol != NULL && window != NULL && level != NULL);
  if (vol->has_window && vol->window_width >= 1 && isfinite (vol->window_center))
    {
      *window = vol->window_width;
      *level = vol->window_center;
      return;
    }
  double lo = INFINITY, hi = -INFINITY;
  size_t n = (size_t) vol->dims[0] * vol->dims[1], base = n * (size_t) k;
  for (size_t i = 0; i < n; i++)
    {
      double v = vol->type == MM_VOXEL_INT16 ? ((const int16_t *) vol->voxels)[base + i]
                                             : ((const float *) vol->voxels)[base + i];
      if (isfinite (v))
        {
          lo = v < lo ? v : lo;
          hi = v > hi ? v : hi;
        }
    }
  if (!(hi >= lo))
    lo = hi = 0;
  *window = hi - lo + 1;
  *level = (hi + lo + 1) / 2; /* lo maps to 0 and hi to 255 (PS3.3 C.11.2.1.2.1) */
}

void
mm_thumbnail_render (const MmVolume *vol, int k, int size, uint8_t *rgba)
{
  g_return_if_fail (vol != NULL && rgba != NULL && size > 0);
  k = CLAMP (k, 0, vol->dims[2] - 1);
  MmRenderStyle style = { 0 };
  mm_thumbnail_window (vol, k, &style.window, &style.level);
  MmPlaneGeometry g;
  mm_plane_geometry (vol, MM_PLANE_AXIAL, &g);
  MmViewport vp;
  mm_viewport_fit (&g, size, size, &vp);
  g_autoptr (MmRenderer) r = mm_renderer_new ();
  mm_renderer_draw (r, vol, MM_PLANE_AXIAL, k, &style, &vp, rgba, size, size, size * 4);
}
