/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Software z-buffer rasteriser for the 3D view (see mm-raster.h). */
#include "mm-raster.h"

#include <math.h>
#include <omp.h>
#include <string.h>

typedef struct
{
  float x, y, z; /* screen pixels, depth (larger nearer) */
} ScreenVertex;

static uint32_t
pack (float r, float g, float b)
{
  uint32_t R = (uint32_t) lrintf (CLAMP (r, 0.f, 1.f) * 255);
  uint32_t G = (uint32_t) lrintf (CLAMP (g, 0.f, 1.f) * 255);
  uint32_t B = (uint32_t) lrintf (CLAMP (b, 0.f, 1.f) * 255);
  return 0xff000000u | R << 16 | G << 8 | B;
}

static ScreenVertex *
project_all (const MmCamera *cam, const MmMesh *m)
{
  ScreenVertex *sv = g_try_new (ScreenVertex, MAX (m->n_vertices, 1));
  if (sv == NULL)
    return NULL;
#pragma omp parallel for schedule(static)
  for (size_t v = 0; v < m->n_vertices; v++)
    {
      double p[3] = { m->positions[3 * v], m->positions[3 * v + 1], m->positions[3 * v + 2] };
      double x, y, z;
      mm_camera_project (cam, p, &x, &y, &z);
      sv[v] = (ScreenVertex) { (float) x, (float) y, (float) z };
    }
  return sv;
}

/* Shade of a triangle from its LPS normal and the camera (two-sided headlight). */
static float
shade (const MmCamera *cam, const MmMesh *m, size_t t)
{
  const uint32_t *tri = m->triangles + 3 * t;
  const float *a = m->positions + 3 * tri[0], *b = m->positions + 3 * tri[1],
              *c = m->positions + 3 * tri[2];
  double u[3] = { b[0] - a[0], b[1] - a[1], b[2] - a[2] };
  double w[3] = { c[0] - a[0], c[1] - a[1], c[2] - a[2] };
  double n[3] = { u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0] };
  double len = sqrt (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  if (len == 0)
    return MM_RASTER_AMBIENT;
  double d = fabs (n[0] * cam->toward[0] + n[1] * cam->toward[1] + n[2] * cam->toward[2]) / len;
  return MM_RASTER_AMBIENT + MM_RASTER_DIFFUSE * (float) d;
}

/* Rasterise the front faces of one mesh into rows [y0, y1) with a depth test: opaque
 * (alpha 1) writes colour and depth; translucent blends over what is there and leaves the
 * depth, as the GL renderer does. */
static void
fill_band (const MmCamera *cam, const MmMesh *m, const ScreenVertex *sv, int y0, int y1,
           float *depth, const float *rgba, uint32_t *pixels, int stride)
{
  int w = cam->width;
  for (size_t t = 0; t < m->n_triangles; t++)
    {
      const uint32_t *tri = m->triangles + 3 * t;
      ScreenVertex A = sv[tri[0]], B = sv[tri[1]], C = sv[tri[2]];
      float minx = fminf (A.x, fminf (B.x, C.x)), maxx = fmaxf (A.x, fmaxf (B.x, C.x));
      float miny = fminf (A.y, fminf (B.y, C.y)), maxy = fmaxf (A.y, fmaxf (B.y, C.y));
      /* Pixel centres at +0.5 inside the box. */
      int ix0 = MAX ((int) ceilf (minx - 0.5f), 0), ix1 = MIN ((int) floorf (maxx - 0.5f), w - 1);
      int iy0 = MAX ((int) ceilf (miny - 0.5f), y0), iy1 = MIN ((int) floorf (maxy - 0.5f), y1 - 1);
      if (ix0 > ix1 || iy0 > iy1)
        continue;
      float area = (B.x - A.x) * (C.y - A.y) - (B.y - A.y) * (C.x - A.x);
      /* Counter-clockwise seen from outside is clockwise with y down: a positive area is a
       * back face, hidden on a closed mesh seen from outside (as GL culls them). */
      if (area > -1e-12f)
        continue;
      float inv = 1.0f / area;
      float s = shade (cam, m, t);
      uint32_t colour = pack (rgba[0] * s, rgba[1] * s, rgba[2] * s);
      float alpha = rgba[3];
      for (int y = iy0; y <= iy1; y++)
        {
          /* Sample a hair off the pixel's centre: an edge shared by two triangles of a
           * translucent surface then never passes through a sample exactly, so no pixel is
           * blended twice (GL's fill rule does this exactly). */
          float py = y + 0.5f + 0.000517f;
          uint32_t *row = (uint32_t *) ((uint8_t *) pixels + (size_t) y * stride);
          for (int x = ix0; x <= ix1; x++)
            {
              float px = x + 0.5f + 0.000731f;
              /* Barycentric weights; either winding (both sides are drawn). */
              float wa = ((B.x - px) * (C.y - py) - (B.y - py) * (C.x - px)) * inv;
              float wb = ((C.x - px) * (A.y - py) - (C.y - py) * (A.x - px)) * inv;
              float wc = 1 - wa - wb;
              if (wa < 0 || wb < 0 || wc < 0)
                continue;
              float z = wa * A.z + wb * B.z + wc * C.z;
              float *zb = depth + (size_t) y * w + x;
              if (z <= *zb)
                continue;
              if (alpha >= 1)
                {
                  *zb = z;
                  row[x] = colour;
                }
              else
                {
                  uint32_t old = row[x], out = 0xff000000u;
                  for (int sh = 0; sh <= 16; sh += 8)
                    {
                      float o = (float) ((old >> sh) & 0xff), n = (float) ((colour >> sh) & 0xff);
                      out |= (uint32_t) lrintf (o + alpha * (n - o)) << sh;
                    }
                  row[x] = out;
                }
            }
        }
    }
}

static void
draw_line (const MmCamera *cam, const MmRasterLine *l, uint32_t *pixels, int stride)
{
  double x0, y0, x1, y1;
  mm_camera_project (cam, l->a, &x0, &y0, NULL);
  mm_camera_project (cam, l->b, &x1, &y1, NULL);
  double n = ceil (MAX (fabs (x1 - x0), fabs (y1 - y0)));
  if (n > 1e5)
    return; /* zoomed absurdly: not worth drawing */
  uint32_t c = pack (l->rgba[0], l->rgba[1], l->rgba[2]);
  for (int i = 0; i <= (int) n; i++)
    {
      double f = n > 0 ? i / n : 0;
      int x = (int) floor (x0 + f * (x1 - x0)), y = (int) floor (y0 + f * (y1 - y0));
      if (x >= 0 && y >= 0 && x < cam->width && y < cam->height)
        ((uint32_t *) ((uint8_t *) pixels + (size_t) y * stride))[x] = c;
    }
}

bool
mm_raster_draw (const MmCamera *cam, const MmRasterItem *items, int n_items,
                const MmRasterLine *lines, int n_lines, const float background[3],
                uint32_t *pixels, int stride, int n_threads)
{
  g_return_val_if_fail (cam != NULL && pixels != NULL && cam->width > 0 && cam->height > 0, false);
  int w = cam->width, h = cam->height;
  float *depth = g_try_new (float, (size_t) w * h);
  ScreenVertex **sv = g_new0 (ScreenVertex *, MAX (n_items, 1));
  bool ok = depth != NULL;
  for (int i = 0; ok && i < n_items; i++)
    ok = (sv[i] = project_all (cam, items[i].mesh)) != NULL;
  if (ok)
    {
      uint32_t bg = pack (background[0], background[1], background[2]);
      int threads = n_threads > 0 ? n_threads : omp_get_max_threads ();
      /* Bands of rows, more than threads so a band full of the object does not hold the
       * others up; every band walks every triangle (the box test is cheap). */
      int bands = MIN (h, 4 * threads);
#pragma omp parallel for schedule(dynamic) num_threads(threads)
      for (int band = 0; band < bands; band++)
        {
          int y0 = band * h / bands, y1 = (band + 1) * h / bands;
          for (int y = y0; y < y1; y++)
            {
              uint32_t *row = (uint32_t *) ((uint8_t *) pixels + (size_t) y * stride);
              for (int x = 0; x < w; x++)
                {
                  row[x] = bg;
                  depth[(size_t) y * w + x] = -INFINITY;
                }
            }
          for (int i = 0; i < n_items; i++)
            if (items[i].rgba[3] >= 1)
              fill_band (cam, items[i].mesh, sv[i], y0, y1, depth, items[i].rgba, pixels, stride);
          for (int i = 0; i < n_items; i++)
            if (items[i].rgba[3] < 1)
              fill_band (cam, items[i].mesh, sv[i], y0, y1, depth, items[i].rgba, pixels, stride);
        }
      for (int l = 0; l < n_lines; l++)
        draw_line (cam, &lines[l], pixels, stride);
    }
  for (int i = 0; i < n_items; i++)
    g_free (sv[i]);
  g_free (sv);
  g_free (depth);
  return ok;
}
