/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Exact Euclidean distance transforms (Felzenszwalb & Huttenlocher, "Distance Transforms of
 * Sampled Functions", Theory of Computing 8, 2012): one line, and built on it, a slice. The
 * metrics (mm-metrics.c) run the same line transform over whole volumes. */
#include "mm-distance.h"

#include <math.h>
#include <string.h>

void
mm_distance_1d (const double *f, double *d, int n, double s, int *v, double *z)
{
  double s2 = s * s;
  int k = -1;
  for (int q = 0; q < n; q++)
    {
      if (isinf (f[q]))
        continue;
      if (k < 0)
        {
          k = 0;
          v[0] = q;
          z[0] = -INFINITY;
          z[1] = INFINITY;
          continue;
        }
      double fq = f[q] + s2 * (double) q * q, x;
      for (;;)
        {
          int r = v[k];
          x = (fq - (f[r] + s2 * (double) r * r)) / (2.0 * s2 * (q - r));
          if (x > z[k])
            break;
          k--; /* z[0] is -inf, so k never goes below 0 here */
        }
      k++;
      v[k] = q;
      z[k] = x;
      z[k + 1] = INFINITY;
    }
  if (k < 0)
    {
      for (int p = 0; p < n; p++)
        d[p] = INFINITY;
      return;
    }
  int j = 0;
  for (int p = 0; p < n; p++)
    {
      while (z[j + 1] < p)
        j++;
      double t = s * (p - v[j]);
      d[p] = t * t + f[v[j]];
    }
}

void
mm_distance_squared_2d (const uint8_t *seed, int w, int h, double sx, double sy, double *out)
{
  int n = MAX (w, h);
  g_autofree double *f = g_new (double, n), *d = g_new (double, n), *z = g_new (double, n + 1);
  g_autofree int *v = g_new (int, n);
  for (int i = 0; i < w; i++)
    {
      for (int j = 0; j < h; j++)
        f[j] = seed[(size_t) j * w + i] ? 0 : INFINITY;
      mm_distance_1d (f, d, h, sy, v, z);
      for (int j = 0; j < h; j++)
        out[(size_t) j * w + i] = d[j];
    }
  for (int j = 0; j < h; j++)
    {
      memcpy (f, out + (size_t) j * w, w * sizeof (double));
      mm_distance_1d (f, d, w, sx, v, z);
      memcpy (out + (size_t) j * w, d, w * sizeof (double));
    }
}

void
mm_distance_signed_2d (const uint8_t *slice, int w, int h, double sx, double sy, float *out)
{
  size_t n = (size_t) w * h;
  g_autofree uint8_t *inv = g_malloc (n);
  g_autofree double *din = g_new (double, n), *dout = g_new (double, n);
  for (size_t p = 0; p < n; p++)
    inv[p] = !slice[p];
  /* Outside: the distance to the nearest inside pixel; inside: to the nearest outside one. */
  mm_distance_squared_2d (slice, w, h, sx, sy, dout);
  mm_distance_squared_2d (inv, w, h, sx, sy, din);
  for (size_t p = 0; p < n; p++)
    {
      /* Half a pixel puts the zero level on the boundary between pixels. */
      double half = 0.5 * MIN (sx, sy);
      out[p] = slice[p] ? (float) -(sqrt (din[p]) - half) : (float) (sqrt (dout[p]) - half);
      if (!isfinite (out[p]))
        out[p] = slice[p] ? -1e9f : 1e9f;
    }
}
