/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Forward projection for the CT simulator and for metal artifact reduction: line integrals of
 * a 4-channel image along the rays of a fan-beam (equiangular arc detector, as clinical CTs
 * have) or parallel-beam geometry, by Joseph's method (P. M. Joseph, IEEE TMI 1 (1982) 192):
 * along the ray's major axis, one linear interpolation per column or row. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

#define MM_CT_CHANNELS 4
#define MM_CT_MAX_VIEWS 16384
#define MM_CT_MAX_DETECTORS 8192
#define MM_CT_MAX_IMAGE 4096

typedef enum
{
  MM_CT_FAN,
  MM_CT_PARALLEL,
} MmCtBeam;

typedef struct
{
  MmCtBeam beam;
  int n_views, n_det;
  double det_offset; /* channels: the central ray meets channel (n_det - 1) / 2 + det_offset */
  double det_pitch;  /* fan: angle between channels (radians); parallel: mm */
  double sid_mm, sdd_mm; /* fan: source to isocentre, source to detector */
  double start_rad, arc_rad; /* view v at start + v * arc / n_views; arc may be negative */
} MmCtGeometry;

/* An image in the xy plane: pixel (i, j) centred at ((i - cx) pixel_mm, (j - cy) pixel_mm),
 * 4 values per pixel (interleaved). Outside box (i0, j0, i1, j1 inclusive) it is zero. */
typedef struct
{
  int n;
  double pixel_mm, cx, cy;
  const float *data;
  int box[4];
} MmCtImage;

/* The simulator's fan beam, modelled on a clinical 64-row scanner's published figures:
 * source-isocentre 595 mm, source-detector 1085.6 mm, 736 channels of 1.2858 mm on the arc
 * (0.0679 degrees; 50 cm field of view), n_views over 360 degrees. */
void mm_ct_geometry_fan_default (MmCtGeometry *g, int n_views);
/* Parallel beam over 180 degrees, n_det channels pitch_mm apart. */
void mm_ct_geometry_parallel (MmCtGeometry *g, int n_views, int n_det, double pitch_mm);
bool mm_ct_geometry_check (const MmCtGeometry *g, GError **error);
/* The radius (mm) of the circle every view sees. */
double mm_ct_geometry_fov_radius (const MmCtGeometry *g);
double mm_ct_view_angle (const MmCtGeometry *g, int view);
/* Ray of (view, channel): origin (the source, or far before the image in parallel beam) and
 * unit direction, in mm. */
void mm_ct_ray (const MmCtGeometry *g, int view, double channel, double o[2], double d[2]);
/* sino[(view * n_det + channel) * 4 + c]: the line integral (mm times value) of channel c.
 * OpenMP over views. FALSE only when memory for a transposed copy of the image runs out. */
bool mm_ct_project (const MmCtGeometry *g, const MmCtImage *img, float *sino);
/* The same for an image of one value per pixel (img->data n x n, img->box set by the
 * caller): sino[view * n_det + channel]. A quarter of the memory traffic of mm_ct_project. */
bool mm_ct_project_single (const MmCtGeometry *g, const MmCtImage *img, float *sino);
/* The smallest box holding every nonzero pixel of a 4-channel n x n image; FALSE if none. */
bool mm_ct_image_box (const float *data, int n, int box[4]);

G_END_DECLS
