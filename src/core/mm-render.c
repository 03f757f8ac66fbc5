/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Planes of a volume on screen: nearest-neighbour reformats through a window/level table. */
#include "mm-render.h"

#include <math.h>
#include <string.h>

void
mm_plane_geometry (const MmVolume *vol, MmPlane plane, MmPlaneGeometry *g)
{
  switch (plane)
    {
    case MM_PLANE_AXIAL:
    default: /* not a plane: the stored slices, rather than a geometry left unset */
      *g = (MmPlaneGeometry){ vol->dims[0], vol->dims[1], vol->spacing[0], vol->spacing[1],
                              vol->dims[2] };
      break;
    case MM_PLANE_CORONAL:
      *g = (MmPlaneGeometry){ vol->dims[0], vol->dims[2], vol->spacing[0], vol->spacing[2],
                              vol->dims[1] };
      break;
    case MM_PLANE_SAGITTAL:
      *g = (MmPlaneGeometry){ vol->dims[1], vol->dims[2], vol->spacing[1], vol->spacing[2],
                              vol->dims[0] };
      break;
    }
}

void
mm_plane_to_index (const MmVolume *vol, MmPlane plane, int u, int v, int d, int ijk[3])
{
  int last = vol->dims[2] - 1;
  switch (plane)
    {
    case MM_PLANE_CORONAL:
      ijk[0] = u, ijk[1] = d, ijk[2] = last - v;
      break;
    case MM_PLANE_SAGITTAL:
      ijk[0] = d, ijk[1] = u, ijk[2] = last - v;
      break;
    case MM_PLANE_AXIAL:
    default:
      ijk[0] = u, ijk[1] = v, ijk[2] = d;
      break;
    }
}

void
mm_index_to_plane (const MmVolume *vol, MmPlane plane, const int ijk[3], int *u, int *v, int *d)
{
  int last = vol->dims[2] - 1;
  switch (plane)
    {
    case MM_PLANE_AXIAL:
      *u = ijk[0], *v = ijk[1], *d = ijk[2];
      break;
    case MM_PLANE_CORONAL:
      *u = ijk[0], *v = last - ijk[2], *d = ijk[1];
      break;
    case MM_PLANE_SAGITTAL:
      *u = ijk[1], *v = last - ijk[2], *d = ijk[0];
      break;
    }
}

void
mm_plane_screen_axes (const MmVolume *vol, MmPlane plane, double right[3], double down[3])
{
  const double *row = vol->direction, *col = vol->direction + 3, *nrm = vol->direction + 6;
  for (int a = 0; a < 3; a++)
    switch (plane)
      {
      case MM_PLANE_AXIAL:
        right[a] = row[a], down[a] = col[a];
        break;
      case MM_PLANE_CORONAL:
        right[a] = row[a], down[a] = -nrm[a];
        break;
      case MM_PLANE_SAGITTAL:
        right[a] = col[a], down[a] = -nrm[a];
        break;
      }
}

void
mm_direction_letters (const double d[3], char out[4])
{
  /* LPS: +x is the patient's left, +y posterior, +z superior. */
  const char pos[3] = { 'L', 'P', 'S' }, neg[3] = { 'R', 'A', 'I' };
  int order[3] = { 0, 1, 2 };
  for (int a = 0; a < 3; a++)
    for (int b = a + 1; b < 3; b++)
      if (fabs (d[order[b]]) > fabs (d[order[a]]))
        {
          int t = order[a];
          order[a] = order[b];
          order[b] = t;
        }
  int n = 0;
  for (int a = 0; a < 3; a++)
    {
      double c = d[order[a]];
      /* Components below ~0.1 (about 6 degrees) do not make the label oblique. */
      if (a > 0 && fabs (c) < 0.1)
        break;
      out[n++] = c >= 0 ? pos[order[a]] : neg[order[a]];
    }
  out[n] = 0;
}

void
mm_viewport_fit (const MmPlaneGeometry *g, int out_w, int out_h, MmViewport *vp)
{
  double mm_w = g->width * g->pixel_w, mm_h = g->height * g->pixel_h;
  vp->scale = MIN (out_w / mm_w, out_h / mm_h);
  vp->origin_x = 0.5 * (out_w - mm_w * vp->scale);
  vp->origin_y = 0.5 * (out_h - mm_h * vp->scale);
}

void
mm_viewport_to_plane (const MmPlaneGeometry *g, const MmViewport *vp, double x, double y,
                      double *u, double *v)
{
  *u = (x - vp->origin_x) / vp->scale / g->pixel_w;
  *v = (y - vp->origin_y) / vp->scale / g->pixel_h;
}

struct _MmRenderer
{
  uint8_t lut[65536]; /* window/level of every int16 value */
  double lut_window, lut_level;
  bool lut_invert, lut_valid;
  int *col_u;         /* plane column of each output column */
  int col_cap;
};

MmRenderer *
mm_renderer_new (void)
{
  return g_new0 (MmRenderer, 1);
}

void
mm_renderer_free (MmRenderer *r)
{
  if (r == NULL)
    return;
  g_free (r->col_u);
  g_free (r);
}

static void
update_lut (MmRenderer *r, const MmRenderStyle *s)
{
  if (r->lut_valid && r->lut_window == s->window && r->lut_level == s->level
      && r->lut_invert == s->invert)
    return;
  for (int v = 0; v < 65536; v++)
    {
      uint8_t g = mm_window_value (v - 32768, s->window, s->level);
      r->lut[v] = s->invert ? 255 - g : g;
    }
  r->lut_window = s->window;
  r->lut_level = s->level;
  r->lut_invert = s->invert;
  r->lut_valid = true;
}

/* Voxel offset of plane pixel (u, v) at depth d. */
static inline size_t
plane_offset (const MmVolume *vol, MmPlane plane, int u, int v, int d)
{
  int ijk[3];
  mm_plane_to_index (vol, plane, u, v, d, ijk);
  return ((size_t) ijk[2] * vol->dims[1] + ijk[1]) * vol->dims[0] + ijk[0];
}

static inline bool
mask_at (const MmVolume *vol, const MmMask *m, MmPlane plane, const MmPlaneGeometry *g, int u,
         int v, int d)
{
  if (u < 0 || v < 0 || u >= g->width || v >= g->height)
    return false;
  return m->data[plane_offset (vol, plane, u, v, d)] != 0;
}

void
mm_renderer_draw (MmRenderer *r, const MmVolume *vol, MmPlane plane, int depth,
                  const MmRenderStyle *s, const MmViewport *vp, uint8_t *rgba, int out_w,
                  int out_h, int stride)
{
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  depth = CLAMP (depth, 0, g.depth - 1);
  if (vol->type == MM_VOXEL_INT16)
    update_lut (r, s);
  if (r->col_cap < out_w)
    {
      r->col_u = g_renew (int, r->col_u, out_w);
      r->col_cap = out_w;
    }
  for (int x = 0; x < out_w; x++)
    {
      double u = floor ((x + 0.5 - vp->origin_x) / vp->scale / g.pixel_w);
      r->col_u[x] = (u < 0 || u >= g.width) ? -1 : (int) u;
    }
  const MmMask *m = s->mask;
  double a = CLAMP (s->overlay_opacity, 0.0, 1.0);
  int blend[3], keep = (int) lrint ((1.0 - a) * 256);
  for (int c = 0; c < 3; c++)
    blend[c] = (int) lrint (a * 256 * s->overlay_rgb[c]);

  for (int y = 0; y < out_h; y++)
    {
      uint8_t *px = rgba + (size_t) y * stride;
      double vf = floor ((y + 0.5 - vp->origin_y) / vp->scale / g.pixel_h);
      if (vf < 0 || vf >= g.height)
        {
          for (int x = 0; x < out_w; x++)
            px[4 * x] = px[4 * x + 1] = px[4 * x + 2] = 0, px[4 * x + 3] = 255;
          continue;
        }
      int v = (int) vf;
      /* Along a screen row the voxel offset grows by a fixed step per plane column. */
      size_t row_base = plane_offset (vol, plane, 0, v, depth);
      size_t step = g.width > 1 ? plane_offset (vol, plane, 1, v, depth) - row_base : 1;
      /* Every voxel of a screen row lies in one slice. A progressive load may still be
       * writing it: black until it is in. */
      if (!mm_volume_slice_is_ready (vol, (int) (row_base / mm_volume_slice_voxels (vol))))
        {
          for (int x = 0; x < out_w; x++)
            px[4 * x] = px[4 * x + 1] = px[4 * x + 2] = 0, px[4 * x + 3] = 255;
          continue;
        }
      for (int x = 0; x < out_w; x++, px += 4)
        {
          int u = r->col_u[x];
          if (u < 0)
            {
              px[0] = px[1] = px[2] = 0;
              px[3] = 255;
              continue;
            }
          size_t off = row_base + (size_t) u * step;
          uint8_t grey;
          if (vol->type == MM_VOXEL_INT16)
            grey = r->lut[((const int16_t *) vol->voxels)[off] + 32768];
          else
            {
              grey = mm_window_value (((const float *) vol->voxels)[off], s->window, s->level);
              if (s->invert)
                grey = 255 - grey;
            }
          px[0] = px[1] = px[2] = grey;
          px[3] = 255;
          if (s->preview)
            {
              double hu = vol->type == MM_VOXEL_INT16 ? ((const int16_t *) vol->voxels)[off]
                                                      : ((const float *) vol->voxels)[off];
              if (hu >= s->preview_lower && hu <= s->preview_upper)
                for (int c = 0; c < 3; c++)
                  px[c] = (uint8_t) ((grey * keep + blend[c]) >> 8);
            }
          else if (m && m->data[off])
            {
              bool draw = true;
              if (s->outline)
                draw = !(mask_at (vol, m, plane, &g, u - 1, v, depth)
                         && mask_at (vol, m, plane, &g, u + 1, v, depth)
                         && mask_at (vol, m, plane, &g, u, v - 1, depth)
                         && mask_at (vol, m, plane, &g, u, v + 1, depth));
              if (draw)
                for (int c = 0; c < 3; c++)
                  px[c] = (uint8_t) ((grey * keep + blend[c]) >> 8);
            }
        }
    }
}
