/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-ct-project.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

void
mm_ct_geometry_fan_default (MmCtGeometry *g, int n_views)
{
  memset (g, 0, sizeof *g);
  g->beam = MM_CT_FAN;
  g->n_views = n_views;
  g->n_det = 736;
  g->sid_mm = 595.0;
  g->sdd_mm = 1085.6;
  g->det_pitch = 1.2858 / 1085.6;
  g->det_offset = 0;
  g->start_rad = 0;
  g->arc_rad = 2 * G_PI;
}

void
mm_ct_geometry_parallel (MmCtGeometry *g, int n_views, int n_det, double pitch_mm)
{
  memset (g, 0, sizeof *g);
  g->beam = MM_CT_PARALLEL;
  g->n_views = n_views;
  g->n_det = n_det;
  g->det_pitch = pitch_mm;
  g->arc_rad = G_PI;
}

bool
mm_ct_geometry_check (const MmCtGeometry *g, GError **error)
{
  const char *why = NULL;
  if (g->n_views < 1 || g->n_views > MM_CT_MAX_VIEWS)
    why = "the number of views is out of range (1..16384)";
  else if (g->n_det < 2 || g->n_det > MM_CT_MAX_DETECTORS)
    why = "the number of detector channels is out of range (2..8192)";
  else if (!(g->det_pitch > 0) || !(fabs (g->det_offset) < g->n_det / 2.0))
    why = "the detector pitch must be positive and its offset inside the detector";
  else if (!(fabs (g->arc_rad) > 0 && fabs (g->arc_rad) <= 4 * G_PI) || !isfinite (g->start_rad))
    why = "the scan arc must be between 0 and 720 degrees";
  else if (g->beam == MM_CT_FAN
           && (!(g->sid_mm > 0 && g->sdd_mm > g->sid_mm && g->sdd_mm < 1e5)
               || !(g->n_det * g->det_pitch < G_PI * 0.95)))
    why = "the fan needs 0 < source-isocentre < source-detector distance and a fan under 171 "
          "degrees";
  if (why)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "CT geometry: %s", why);
  return why == NULL;
}

double
mm_ct_geometry_fov_radius (const MmCtGeometry *g)
{
  double half = 0.5 * (g->n_det - 1) - fabs (g->det_offset);
  if (g->beam == MM_CT_PARALLEL)
    return half * g->det_pitch;
  return g->sid_mm * sin (half * g->det_pitch);
}

double
mm_ct_view_angle (const MmCtGeometry *g, int view)
{
  return g->start_rad + view * g->arc_rad / g->n_views;
}

void
mm_ct_ray (const MmCtGeometry *g, int view, double channel, double o[2], double d[2])
{
  double b = mm_ct_view_angle (g, view), cb = cos (b), sb = sin (b);
  double t = (channel - 0.5 * (g->n_det - 1) - g->det_offset) * g->det_pitch;
  if (g->beam == MM_CT_FAN)
    {
      /* Source at sid (cos b, sin b); the central ray u = -(cos b, sin b) turned by the fan
       * angle t towards u's left normal (-u_y, u_x). */
      double ux = -cb, uy = -sb, ct = cos (t), st = sin (t);
      o[0] = g->sid_mm * cb, o[1] = g->sid_mm * sb;
      d[0] = ux * ct - uy * st, d[1] = uy * ct + ux * st;
    }
  else
    {
      /* Detector coordinate t along (cos b, sin b); rays along (-sin b, cos b). */
      double far = 1e6;
      d[0] = -sb, d[1] = cb;
      o[0] = t * cb - far * d[0], o[1] = t * sb - far * d[1];
    }
}

/* Joseph's method in pixel-index space, only over the image's box; nc values per pixel (4,
 * or 1: a constant in each caller, so that the inlined loops are specialised). */
static inline __attribute__ ((always_inline)) void
ray_integral (const MmCtImage *img, const float *trans, const double o_mm[2], const double d[2],
              const int nc, float *out)
{
  const int n = img->n, *bx = img->box;
  double ox = o_mm[0] / img->pixel_mm + img->cx, oy = o_mm[1] / img->pixel_mm + img->cy;
  float acc[4] = { 0, 0, 0, 0 };
  bool x_major = fabs (d[0]) >= fabs (d[1]);
  /* Major axis a (column index when x-major), minor axis b. */
  double oa = x_major ? ox : oy, ob = x_major ? oy : ox;
  double da = x_major ? d[0] : d[1], db = x_major ? d[1] : d[0];
  int a0 = x_major ? bx[0] : bx[1], a1 = x_major ? bx[2] : bx[3];
  int b0 = x_major ? bx[1] : bx[0], b1 = x_major ? bx[3] : bx[2];
  double slope = db / da;
  float w = (float) (img->pixel_mm / fabs (da));
  /* The range of a in which the ray's b lies within [b0 - 1, b1 + 1]. */
  double alo = a0, ahi = a1;
  if (fabs (slope) > 1e-12)
    {
      double t0 = oa + (b0 - 1 - ob) / slope, t1 = oa + (b1 + 1 - ob) / slope;
      alo = MAX (alo, ceil (MIN (t0, t1)));
      ahi = MIN (ahi, floor (MAX (t0, t1)));
    }
  else if (ob < b0 - 1 || ob > b1 + 1)
    ahi = alo - 1;
  /* Steps along the major axis go to the next 4 floats: y-major rays read the transposed
   * copy, else every step would be a cache miss. */
  const float *px = x_major ? img->data : trans;
  size_t step_a = nc, step_b = (size_t) n * nc;
  /* bpos >= b0 - 1 >= -1 in range: truncation of bpos + 2 is floor + 2, without libm. */
  double bpos = ob + (alo - oa) * slope;
  for (int a = (int) alo; a <= (int) ahi; a++, bpos += slope)
    {
      int bl = (int) (bpos + 2) - 2;
      float f = (float) (bpos - bl);
      const float *row = px + (size_t) a * step_a;
      if (bl >= b0 && bl < b1)
        {
          const float *p0 = row + bl * step_b, *p1 = p0 + step_b;
          for (int c = 0; c < nc; c++)
            acc[c] += p0[c] + f * (p1[c] - p0[c]);
          continue;
        }
      if (bl >= b0 && bl <= b1)
        for (int c = 0; c < nc; c++)
          acc[c] += (1 - f) * row[bl * step_b + c];
      if (bl + 1 >= b0 && bl + 1 <= b1)
        for (int c = 0; c < nc; c++)
          acc[c] += f * row[(bl + 1) * step_b + c];
    }
  for (int c = 0; c < nc; c++)
    out[c] = acc[c] * w;
}

/* nc values per pixel and per ray. */
static inline __attribute__ ((always_inline)) bool
project (const MmCtGeometry *g, const MmCtImage *img, const int nc, float *sino)
{
  int n = img->n;
  float *trans = g_try_new (float, (size_t) n * n * nc);
  if (trans == NULL)
    return false;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++)
      memcpy (trans + ((size_t) i * n + j) * nc, img->data + ((size_t) j * n + i) * nc,
              nc * sizeof (float));
#pragma omp parallel for schedule (dynamic, 4)
  for (int v = 0; v < g->n_views; v++)
    for (int ch = 0; ch < g->n_det; ch++)
      {
        double o[2], d[2];
        mm_ct_ray (g, v, ch, o, d);
        ray_integral (img, trans, o, d, nc, sino + ((size_t) v * g->n_det + ch) * nc);
      }
  g_free (trans);
  return true;
}

bool
mm_ct_project (const MmCtGeometry *g, const MmCtImage *img, float *sino)
{
  return project (g, img, 4, sino);
}

bool
mm_ct_project_single (const MmCtGeometry *g, const MmCtImage *img, float *sino)
{
  return project (g, img, 1, sino);
}

bool
mm_ct_image_box (const float *data, int n, int box[4])
{
  int i0 = n, j0 = n, i1 = -1, j1 = -1;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++)
      {
        const float *p = data + ((size_t) j * n + i) * 4;
        if (p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 0)
          {
            i0 = MIN (i0, i), i1 = MAX (i1, i);
            j0 = MIN (j0, j), j1 = MAX (j1, j);
          }
      }
  box[0] = i0, box[1] = j0, box[2] = i1, box[3] = j1;
  return i1 >= 0;
}
