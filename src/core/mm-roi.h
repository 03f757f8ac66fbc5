/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Region-of-interest statistics: an ellipse, a rectangle or a freehand polygon on a plane
 * image, or a mask (the metal mask, one 3D component) on the volume. */
#pragma once

#include "mm-components.h"
#include "mm-mask.h"
#include "mm-volume.h"

G_BEGIN_DECLS

typedef enum
{
  MM_ROI_RECTANGLE,
  MM_ROI_ELLIPSE,
  MM_ROI_POLYGON,
} MmRoiShape;

/* A shape in continuous plane coordinates: pixel (u, v) spans [u, u + 1) x [v, v + 1), its
 * centre at (u + 0.5, v + 0.5) (mm_viewport_to_plane's coordinates).
 *
 * Partial pixels: a pixel belongs to the ROI when its centre lies inside the shape, so a
 * pixel counts whole or not at all and the area is the count times the pixel's area.
 * Rectangle: x0 <= cx <= x1 and y0 <= cy <= y1 (corners in any order). Ellipse: the one
 * inscribed in that box, ((cx - mx) / a)^2 + ((cy - my) / b)^2 <= 1. Polygon: the even-odd
 * rule, crossings counted on the half-open rule (an edge counts when exactly one of its ends
 * lies below the centre, y > cy), so a centre on an edge belongs to exactly one of two
 * polygons sharing it. Pixels outside the image do not exist: a shape cut by the image's
 * border holds only the pixels inside. */
typedef struct
{
  MmRoiShape shape;
  double x0, y0, x1, y1;  /* rectangle, ellipse: two opposite corners of the box */
  const double *points;   /* polygon: n_points (x, y) pairs, closed implicitly; borrowed */
  int n_points;
} MmRoi;

typedef struct
{
  uint64_t count;      /* pixels or voxels; 0 for an empty ROI, then every figure below is 0 */
  double area_mm2;     /* plane ROIs: count x pixel area */
  double volume_ml;    /* mask ROIs: count x voxel volume / 1000 */
  double mean, sd;     /* sd: population (divisor count), as numpy.std */
  double median;       /* of an even count, the mean of the two middle values (numpy) */
  double min, max;
} MmRoiStats;

/* Statistics of the pixels of values (width x height, row y at values + y * width) inside
 * roi; pixel_w x pixel_h mm is a pixel's area. Non-finite pixels (none from Metalmark's
 * planes) are skipped. False when the ROI is malformed (a polygon of fewer than 3 points,
 * a non-finite coordinate): then stats are zeroed. */
bool mm_roi_plane_stats (const float *values, int width, int height, double pixel_w,
                         double pixel_h, const MmRoi *roi, MmRoiStats *stats);

/* The ROI's pixels as a width x height 0/1 image (for drawing it, and for tests). */
bool mm_roi_plane_mask (const MmRoi *roi, int width, int height, uint8_t *out);

/* Statistics of vol's voxels where mask is nonzero; with comps, only those of component
 * label (1..n) of comps (which must label a mask on vol's grid; mask may then be NULL). */
bool mm_roi_volume_stats (const MmVolume *vol, const MmMask *mask, const MmComponents *comps,
                          int label, MmRoiStats *stats, int n_threads);

G_END_DECLS
