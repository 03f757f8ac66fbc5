/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Planes of a volume on screen: reformat geometry, window/level, mask overlay, orientation
 * letters. No GTK: the app draws what this computes, and the tests recompute it. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

G_BEGIN_DECLS

typedef enum
{
  MM_PLANE_AXIAL,    /* the slices as stored: u = i (right), v = j (down), depth k */
  MM_PLANE_CORONAL,  /* u = i, v = last slice - k (up along the normal), depth j */
  MM_PLANE_SAGITTAL, /* u = j, v = last slice - k, depth i */
} MmPlane;

typedef struct
{
  int width, height;     /* pixels of the plane image */
  double pixel_w, pixel_h; /* mm of one pixel, across and down */
  int depth;             /* planes along the normal */
} MmPlaneGeometry;

void mm_plane_geometry (const MmVolume *vol, MmPlane plane, MmPlaneGeometry *g);

/* Voxel index of plane pixel (u, v) at depth d, and back. */
void mm_plane_to_index (const MmVolume *vol, MmPlane plane, int u, int v, int d, int ijk[3]);
void mm_index_to_plane (const MmVolume *vol, MmPlane plane, const int ijk[3], int *u, int *v,
                        int *d);

/* Patient (LPS) directions of screen right and screen down for the plane. */
void mm_plane_screen_axes (const MmVolume *vol, MmPlane plane, double right[3], double down[3]);

/* The orientation letter (L, R, A, P, S, I) of the main axis of direction d; for an oblique
 * direction two or three letters, strongest first (e.g. "LP"). */
void mm_direction_letters (const double d[3], char out[4]);

/* DICOM linear window (PS3.3 C.11.2.1.2.1) to 0..255. */
static inline uint8_t
mm_window_value (double x, double window, double level)
{
  if (window < 1)
    window = 1;
  double lo = level - 0.5 - (window - 1) / 2, hi = level - 0.5 + (window - 1) / 2;
  if (x <= lo)
    return 0;
  if (x > hi)
    return 255;
  double y = ((x - (level - 0.5)) / (window - 1) + 0.5) * 255.0;
  return (uint8_t) (y < 0 ? 0 : y > 255 ? 255 : y + 0.5);
}

typedef struct
{
  double window, level;
  bool invert;
  const MmMask *mask;      /* may be NULL */
  uint8_t overlay_rgb[3];
  double overlay_opacity;  /* 0..1 */
  bool outline;            /* only the mask's edge */
  bool preview;            /* overlay lower <= HU <= upper instead of the mask (threshold tool) */
  double preview_lower, preview_upper;
} MmRenderStyle;

/* Output pixel (x, y) shows the plane pixel under its centre: u = floor((x + 0.5 - origin_x) /
 * scale / pixel_w), likewise v; scale is screen pixels per mm. Outside the plane: black. */
typedef struct
{
  double origin_x, origin_y;
  double scale;
} MmViewport;

/* Fit the plane into out_w x out_h, centred, keeping the physical aspect. */
void mm_viewport_fit (const MmPlaneGeometry *g, int out_w, int out_h, MmViewport *vp);

/* Render plane pixel coordinates of screen point (x, y) (continuous, in plane pixels). */
void mm_viewport_to_plane (const MmPlaneGeometry *g, const MmViewport *vp, double x, double y,
                           double *u, double *v);

typedef struct _MmRenderer MmRenderer;

/* A renderer caches the window/level lookup table of an int16 volume between frames. */
MmRenderer *mm_renderer_new (void);
void mm_renderer_free (MmRenderer *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmRenderer, mm_renderer_free)

/* Draw plane at depth into rgba (out_w x out_h, stride bytes a row, R G B A bytes). */
void mm_renderer_draw (MmRenderer *r, const MmVolume *vol, MmPlane plane, int depth,
                       const MmRenderStyle *style, const MmViewport *vp, uint8_t *rgba,
                       int out_w, int out_h, int stride);

G_END_DECLS
