/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-ct-fbp.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

bool
mm_ct_window_from_name (const char *name, MmCtWindow *w)
{
  if (g_strcmp0 (name, "ramp") == 0)
    *w = MM_CT_WINDOW_RAMP;
  else if (g_strcmp0 (name, "shepp-logan") == 0)
    *w = MM_CT_WINDOW_SHEPP_LOGAN;
  else if (g_strcmp0 (name, "hann") == 0)
    *w = MM_CT_WINDOW_HANN;
  else
    return false;
  return true;
}

/* In-place iterative radix-2 FFT of m (a power of two) complex values re/im; inverse without
 * the 1/m. */
static void
fft (double *re, double *im, int m, bool inverse)
{
  for (int i = 1, j = 0; i < m; i++)
    {
      int bit = m >> 1;
      for (; j & bit; bit >>= 1)
        j ^= bit;
      j ^= bit;
      if (i < j)
        {
          double t = re[i];
          re[i] = re[j], re[j] = t;
          t = im[i], im[i] = im[j], im[j] = t;
        }
    }
  for (int len = 2; len <= m; len <<= 1)
    {
      double a = (inverse ? 2 : -2) * G_PI / len, wr = cos (a), wi = sin (a);
      for (int i = 0; i < m; i += len)
        {
          double cr = 1, ci = 0;
          for (int k = 0; k < len / 2; k++)
            {
              int p = i + k, q = p + len / 2;
              double xr = re[q] * cr - im[q] * ci, xi = re[q] * ci + im[q] * cr;
              re[q] = re[p] - xr, im[q] = im[p] - xi;
              re[p] += xr, im[p] += xi;
              double t = cr * wr - ci * wi;
              ci = cr * wi + ci * wr, cr = t;
            }
        }
    }
}

/* The filter's spectrum (real: the kernel is even) for m-point circular convolution. The
 * spatial kernel is the band-limited ramp of sample spacing tau (Kak and Slaney eq. 61);
 * for the equiangular fan it is weighted by (n tau / sin n tau)^2 / 2 (eq. 117). The factor
 * tau of the discrete convolution is included. */
static void
filter_spectrum (const MmCtGeometry *g, MmCtWindow window, int m, double *h)
{
  double *re = g_new0 (double, m), *im = g_new0 (double, m);
  double tau = g->det_pitch;
  for (int k = 0; k < m; k++)
    {
      int n = k <= m / 2 ? k : k - m;
      double v = n == 0 ? 1 / (4 * tau * tau) : (n & 1) ? -1 / (G_PI * G_PI * n * n * tau * tau) : 0;
      if (g->beam == MM_CT_FAN)
        {
          double x = n * tau, r = n == 0 ? 1 : x / sin (x);
          v *= 0.5 * r * r;
        }
      re[k] = v * tau;
    }
  fft (re, im, m, false);
  for (int k = 0; k < m; k++)
    {
      double f = (k <= m / 2 ? k : m - k) / (0.5 * m); /* 0..1 of Nyquist */
      double w = 1;
      if (window == MM_CT_WINDOW_SHEPP_LOGAN && f > 0)
        w = sin (G_PI * f / 2) / (G_PI * f / 2);
      else if (window == MM_CT_WINDOW_HANN)
        w = 0.5 * (1 + cos (G_PI * f));
      h[k] = re[k] * w;
    }
  g_free (re);
  g_free (im);
}

bool
mm_ct_fbp (const MmCtGeometry *g, const float *sino, MmCtWindow window, int n,
           double pixel_mm, double cx, double cy, float outside, float *image, GError **error)
{
  if (!mm_ct_geometry_check (g, error))
    return false;
  if (n < 1 || n > MM_CT_MAX_IMAGE || !(pixel_mm > 0) || !isfinite (cx) || !isfinite (cy))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "CT reconstruction: the image must be 1..4096 pixels of positive size");
      return false;
    }
  int nd = g->n_det, nv = g->n_views, m = 1;
  while (m < 2 * nd)
    m <<= 1;
  /* Fan beam: the filtered view resampled on a uniform grid of tan(gamma), oversampled 4 x,
   * so that back-projection needs no arctangent; parallel: on the channels themselves. */
  int over = g->beam == MM_CT_FAN ? 4 : 1, nt = nd * over;
  double c0 = 0.5 * (nd - 1) + g->det_offset;
  double t_lo = 0, t_step = 1;
  if (g->beam == MM_CT_FAN)
    {
      double ga = (0 - c0) * g->det_pitch, gb = (nd - 1 - c0) * g->det_pitch;
      t_lo = tan (ga);
      t_step = (tan (gb) - t_lo) / (nt - 1);
    }
  float *table = g_try_new (float, (size_t) nv * nt);
  double *h = g_new (double, m);
  if (table == NULL)
    {
      g_free (h);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "CT reconstruction: not enough memory for %d filtered views", nv);
      return false;
    }
  filter_spectrum (g, window, m, h);

#pragma omp parallel
  {
    double *re = g_new (double, m), *im = g_new (double, m), *q = g_new (double, nd);
#pragma omp for schedule (dynamic, 8)
    for (int v = 0; v < nv; v++)
      {
        memset (re, 0, sizeof (double) * m);
        memset (im, 0, sizeof (double) * m);
        for (int c = 0; c < nd; c++)
          {
            double p = sino[(size_t) v * nd + c];
            if (g->beam == MM_CT_FAN) /* R' = R D cos(gamma) */
              p *= g->sid_mm * cos ((c - c0) * g->det_pitch);
            re[c] = p;
          }
        fft (re, im, m, false);
        for (int k = 0; k < m; k++)
          re[k] *= h[k], im[k] *= h[k];
        fft (re, im, m, true);
        for (int c = 0; c < nd; c++)
          q[c] = re[c] / m;
        float *row = table + (size_t) v * nt;
        if (g->beam == MM_CT_PARALLEL)
          for (int c = 0; c < nd; c++)
            row[c] = (float) q[c];
        else
          for (int k = 0; k < nt; k++)
            {
              double ch = atan (t_lo + k * t_step) / g->det_pitch + c0;
              int c = (int) floor (ch);
              double f = ch - c;
              double a = c >= 0 && c < nd ? q[c] : 0, b = c + 1 >= 0 && c + 1 < nd ? q[c + 1] : 0;
              row[k] = (float) ((1 - f) * a + f * b);
            }
      }
    g_free (re);
    g_free (im);
    g_free (q);
  }
  g_free (h);

  double dbeta = fabs (g->arc_rad) / nv;
  double r_fov = mm_ct_geometry_fov_radius (g);
  double *cs = g_new (double, 2 * nv);
  for (int v = 0; v < nv; v++)
    {
      double b = mm_ct_view_angle (g, v);
      cs[2 * v] = cos (b), cs[2 * v + 1] = sin (b);
    }
#pragma omp parallel for schedule (dynamic, 4)
  for (int j = 0; j < n; j++)
    {
      double y = (j - cy) * pixel_mm;
      float *out = image + (size_t) j * n;
      float *acc = g_new0 (float, n), *kpos = g_new (float, n), *wgt = g_new (float, n);
      /* Only the pixels inside the field of view, the rest is outside. */
      double half = r_fov * r_fov - y * y;
      int i_lo = n, i_hi = -1;
      if (half >= 0)
        {
          double xr = sqrt (half) / pixel_mm;
          i_lo = MAX (0, (int) ceil (cx - xr)), i_hi = MIN (n - 1, (int) floor (cx + xr));
        }
      for (int v = 0; v < nv; v++)
        {
          const float *row = table + (size_t) v * nt;
          double cb = cs[2 * v], sb = cs[2 * v + 1];
          if (g->beam == MM_CT_PARALLEL)
            {
              /* k linear in i. */
              float k0 = (float) (((i_lo - cx) * pixel_mm * cb + y * sb) / g->det_pitch + c0);
              float dk = (float) (pixel_mm * cb / g->det_pitch);
              for (int i = i_lo; i <= i_hi; i++)
                {
                  float k = k0 + (i - i_lo) * dk;
                  if (!(k >= 0 && k < nt - 1))
                    continue;
                  int kl = (int) k;
                  float f = k - kl;
                  acc[i] += row[kl] + f * (row[kl + 1] - row[kl]);
                }
              continue;
            }
          /* d = P - S; a along the central ray -(cb, sb), b along its left normal: both
           * linear in i. 1/L^2 = 1 / (a^2 (1 + t^2)) with t = b / a. */
          double dx0 = (i_lo - cx) * pixel_mm - g->sid_mm * cb, dy = y - g->sid_mm * sb;
          float a0 = (float) (-(dx0 * cb + dy * sb)), da = (float) (-pixel_mm * cb);
          float b0 = (float) (-cb * dy + sb * dx0), db = (float) (sb * pixel_mm);
          float tl = (float) t_lo, its = (float) (1 / t_step), kmax = (float) (nt - 1);
          /* Two passes so that the first (divisions, weights) vectorizes: position and
           * weight per pixel, out-of-range pixels weighted 0 at a safe position. */
          int cnt = i_hi - i_lo + 1;
          for (int q = 0; q < cnt; q++)
            {
              float a = a0 + q * da, b = b0 + q * db;
              float ia = 1.0f / a, t = b * ia;
              float k = (t - tl) * its;
              /* Branch-free (a mask product), so that the loop vectorizes. */
              float in = (float) ((k >= 0) & (k < kmax));
              kpos[q] = MIN (MAX (k, 0.0f), kmax - 1);
              wgt[q] = in * ia * ia / (1 + t * t);
            }
          float *ac = acc + i_lo;
          for (int q = 0; q < cnt; q++)
            {
              int kl = (int) kpos[q];
              float f = kpos[q] - kl;
              ac[q] += wgt[q] * (row[kl] + f * (row[kl + 1] - row[kl]));
            }
        }
      for (int i = 0; i < n; i++)
        out[i] = i >= i_lo && i <= i_hi ? (float) (acc[i] * dbeta) : outside;
      g_free (acc);
      g_free (kpos);
      g_free (wgt);
    }
  g_free (cs);
  g_free (table);
  return true;
}
