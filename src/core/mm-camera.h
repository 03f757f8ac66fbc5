/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmCamera: an orthographic view of patient space (LPS mm) for the 3D view, shared by the GL
 * renderer, the software rasteriser and picking, so all three map a point to the same pixel.
 * Orthographic rather than perspective: a surgeon compares sizes across the picture, and the
 * silhouette is then a plain projection of the mask (what the GUI test checks). */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef struct
{
  double right[3];  /* unit LPS vector pointing to the screen's right */
  double up[3];     /* unit LPS vector pointing up the screen */
  double toward[3]; /* unit LPS vector from the scene towards the viewer (right x up) */
  double centre[3]; /* LPS mm shown at the centre of the view */
  double scale;     /* pixels per mm */
  double radius;    /* mm: the scene's half depth around centre (near and far planes) */
  int width, height; /* pixels */
} MmCamera;

/* A standard view by its letter, as in 3D Slicer: 'A' from the front (patient's left on the
 * right of the screen, head up), 'P' from behind, 'L' from the patient's left, 'R' from the
 * right, 'S' from above (anterior up), 'I' from below (anterior up, as an axial slice).
 * Keeps centre and scale. False for another letter. */
bool mm_camera_set_standard (MmCamera *cam, char view);

/* Centre on the box and scale it to fill 90 % of the smaller side whatever the direction. */
void mm_camera_fit (MmCamera *cam, const double min[3], const double max[3]);

/* Turn the scene as a trackball: dx pixels right turns it about the screen's up axis (its front
 * moves right), dy pixels down about the screen's right axis (its front moves down). */
void mm_camera_rotate (MmCamera *cam, double dx, double dy);
/* Move the scene with the pointer by dx, dy pixels. */
void mm_camera_pan (MmCamera *cam, double dx, double dy);
/* Zoom by factor about the view's centre (clamped to a sane range). */
void mm_camera_zoom (MmCamera *cam, double factor);

/* Screen position (pixels, y down, the pixel's centre at +0.5) and depth (mm towards the
 * viewer from the centre: larger is nearer) of an LPS point. */
void mm_camera_project (const MmCamera *cam, const double lps[3], double *sx, double *sy,
                        double *depth);
/* The viewing ray through screen point (sx, sy): origin in front of the scene, unit
 * direction into it. */
void mm_camera_ray (const MmCamera *cam, double sx, double sy, double origin[3], double dir[3]);

/* The GL clip matrix (column-major, 4x4) mapping LPS to clip space, depth -1 near, +1 far. */
void mm_camera_gl_matrix (const MmCamera *cam, float m[16]);

G_END_DECLS
