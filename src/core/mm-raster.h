/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 3D view's software path: a z-buffer rasteriser of triangle meshes on the CPU (OpenMP
 * over bands of rows), for machines where GL cannot be had. It draws what the GL renderer
 * draws: the front faces (meshes are closed, seen from outside) of opaque parts flat-shaded
 * by a headlight, then the front faces of translucent surfaces that lie in front of them,
 * blended in triangle order without writing depth, then line segments on top. */
#pragma once

#include "mm-camera.h"
#include "mm-mesh.h"

G_BEGIN_DECLS

typedef struct
{
  const MmMesh *mesh;
  float rgba[4]; /* colour, alpha < 1 draws it as the translucent layer */
} MmRasterItem;

typedef struct
{
  double a[3], b[3]; /* LPS mm */
  float rgba[4];
} MmRasterLine;

/* Draw into pixels (cam->width x cam->height, stride in bytes), 32-bit native 0xAARRGGBB,
 * premultiplied (cairo's ARGB32), cleared to background first. n_threads <= 0: OpenMP's
 * default. Returns false without memory for the depth buffer. */
bool mm_raster_draw (const MmCamera *cam, const MmRasterItem *items, int n_items,
                     const MmRasterLine *lines, int n_lines, const float background[3],
                     uint32_t *pixels, int stride, int n_threads);

/* The headlight's shade of a triangle by its unit normal's part towards the viewer (two-sided,
 * so a surface seen from inside is not black): shared with the GL shader's constants. */
#define MM_RASTER_AMBIENT 0.3f
#define MM_RASTER_DIFFUSE 0.7f

G_END_DECLS
