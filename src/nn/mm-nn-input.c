/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-nn-input.h"

static inline float
clamp01 (float v)
{
  return v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
}

static inline void
transform_one (int16_t hu, float *c0, float *c1, float *c2)
{
  float v = (float) hu;
  *c0 = clamp01 ((v + 1000.f) * (1.f / 2000.f));
  *c1 = clamp01 (v * (1.f / 4000.f));
  *c2 = clamp01 ((v - 2000.f) * (1.f / 18000.f));
}

void
mm_nn_input_transform (const int16_t *hu, size_t n, float *out)
{
  for (size_t i = 0; i < n; i++)
    transform_one (hu[i], &out[i], &out[n + i], &out[2 * n + i]);
}

void
mm_nn_input_transform_rect (const int16_t *slice, int stride, int x0, int y0, int w, int h,
                            float *out)
{
  size_t plane = (size_t) w * h;
  for (int y = 0; y < h; y++)
    {
      const int16_t *row = slice + (size_t) (y0 + y) * stride + x0;
      size_t o = (size_t) y * w;
      for (int x = 0; x < w; x++)
        transform_one (row[x], &out[o + x], &out[plane + o + x], &out[2 * plane + o + x]);
    }
}
