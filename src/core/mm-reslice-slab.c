/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Oblique slabs: one trilinear reslice per sample plane, folded into the output. */
#include "mm-reslice-slab.h"

#include <math.h>

double
mm_reslice_slab_step (const MmVolume *vol, double step_mm)
{
  g_return_val_if_fail (vol != NULL, 1.0);
  if (step_mm > 0 && isfinite (step_mm))
    return step_mm;
  double s = vol->spacing[0];
  for (int a = 1; a < 3; a++)
    if (vol->spacing[a] > 0 && vol->spacing[a] < s)
      s = vol->spacing[a];
  return s > 0 ? s : 1.0;
}

int
mm_reslice_slab_samples (double thickness_mm, double step)
{
  if (!(thickness_mm > 0) || !(step > 0) || !isfinite (thickness_mm))
    return 1;
  double m = floor (thickness_mm / (2 * step) + 1e-6);
  /* A sane bound: a slab through a whole series is a few thousand samples at most. */
  return (int) MIN (m, 4096.0) * 2 + 1;
}

void
mm_reslice_slab (const MmVolume *vol, const MmReslicePlane *p, double thickness_mm,
                 double step_mm, MmSlabMode mode, float outside, float *out, float *scratch,
                 int n_threads)
{
  g_return_if_fail (vol != NULL && p != NULL && out != NULL);
  double step = mm_reslice_slab_step (vol, step_mm);
  int n = mm_reslice_slab_samples (thickness_mm, step), m = n / 2;
  size_t px = (size_t) p->width * p->height;
  g_autofree float *own = NULL;
  if (scratch == NULL)
    scratch = own = g_new (float, px);
  /* Running figures: out holds max/min/sum, count the samples inside (NaN marks outside:
   * mm_reslice_volume writes the outside value we pass to every pixel it leaves out). */
  g_autofree uint16_t *count = g_new0 (uint16_t, px);
  /* The mean is summed in double: 31 float additions of bone HU would lose a hundredth. */
  g_autofree double *sum = mode == MM_SLAB_MEAN ? g_new0 (double, px) : NULL;
  double normal[3];
  mm_reslice_plane_normal (p, normal);
  for (size_t i = 0; i < px; i++)
    out[i] = 0;
  for (int k = -m; k <= m; k++)
    {
      MmReslicePlane q = *p;
      for (int a = 0; a < 3; a++)
        q.centre_lps[a] = p->centre_lps[a] + k * step * normal[a];
      mm_reslice_volume (vol, &q, NAN, scratch, n_threads);
      for (size_t i = 0; i < px; i++)
        {
          float v = scratch[i];
          if (isnan (v))
            continue;
          if (count[i] == 0)
            out[i] = v;
          else if (mode == MM_SLAB_MIP)
            out[i] = MAX (out[i], v);
          else if (mode == MM_SLAB_MINIP)
            out[i] = MIN (out[i], v);
          if (sum)
            sum[i] += v;
          count[i]++;
        }
    }
  for (size_t i = 0; i < px; i++)
    {
      if (count[i] == 0)
        out[i] = outside;
      else if (sum)
        out[i] = (float) (sum[i] / count[i]);
    }
}
