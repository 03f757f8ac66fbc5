/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Measurement geometry: plane distances and angles in mm, and HU profiles sampled from the
 * volume itself (trilinear), so that an oblique plane's profile is not interpolated twice. */
#include "mm-measure.h"

#include "mm-reslice.h"

#include <math.h>

double
mm_measure_distance (double x0, double y0, double x1, double y1, double pixel_w, double pixel_h)
{
  return hypot ((x1 - x0) * pixel_w, (y1 - y0) * pixel_h);
}

double
mm_measure_angle (double ax, double ay, double bx, double by, double cx, double cy,
                  double pixel_w, double pixel_h)
{
  double ux = (ax - bx) * pixel_w, uy = (ay - by) * pixel_h;
  double vx = (cx - bx) * pixel_w, vy = (cy - by) * pixel_h;
  if ((ux == 0 && uy == 0) || (vx == 0 && vy == 0))
    return NAN;
  /* atan2 of cross and dot: accurate near 0 and 180 degrees, where acos is not. */
  return fabs (atan2 (ux * vy - uy * vx, ux * vx + uy * vy)) * 180.0 / G_PI;
}

int
mm_measure_profile_samples (const double a[3], const double b[3], double step_mm,
                            int max_samples)
{
  double len = sqrt ((b[0] - a[0]) * (b[0] - a[0]) + (b[1] - a[1]) * (b[1] - a[1])
                     + (b[2] - a[2]) * (b[2] - a[2]));
  if (!(step_mm > 0) || !isfinite (len))
    return 2;
  double n = ceil (len / step_mm - 1e-9) + 1;
  if (n < 2)
    n = 2;
  return n > max_samples ? MAX (max_samples, 2) : (int) n;
}

void
mm_measure_profile (const MmVolume *vol, const double a[3], const double b[3], int n,
                    double *hu, double *pos_mm)
{
  g_return_if_fail (vol != NULL && hu != NULL && n >= 2);
  double len = sqrt ((b[0] - a[0]) * (b[0] - a[0]) + (b[1] - a[1]) * (b[1] - a[1])
                     + (b[2] - a[2]) * (b[2] - a[2]));
  for (int s = 0; s < n; s++)
    {
      double t = (double) s / (n - 1), p[3], ijk[3];
      for (int c = 0; c < 3; c++)
        p[c] = a[c] + t * (b[c] - a[c]);
      mm_volume_lps_to_index (vol, p, ijk);
      hu[s] = mm_reslice_sample (vol, ijk, NAN);
      if (pos_mm)
        pos_mm[s] = t * len;
    }
}
