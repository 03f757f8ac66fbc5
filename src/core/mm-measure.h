/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Measurement geometry on a plane image: distance, angle, and the HU profile along a line. */
#pragma once

#include "mm-volume.h"

G_BEGIN_DECLS

/* Distance in mm between plane points (x0, y0) and (x1, y1) (continuous plane pixels) on a
 * plane whose pixels are pixel_w x pixel_h mm: true for every plane whose screen axes are
 * orthogonal, standard or oblique. */
double mm_measure_distance (double x0, double y0, double x1, double y1, double pixel_w,
                            double pixel_h);

/* Angle at vertex (bx, by) between the rays to a and c, degrees 0..180, in mm (so true on
 * anisotropic pixels); NaN when a ray has zero length. */
double mm_measure_angle (double ax, double ay, double bx, double by, double cx, double cy,
                         double pixel_w, double pixel_h);

/* Samples of a profile from LPS point a to LPS point b: the largest count whose step is at
 * most step_mm, at least 2 (both ends); capped at max_samples. */
int mm_measure_profile_samples (const double a[3], const double b[3], double step_mm,
                                int max_samples);

/* n samples (n >= 2) evenly from a to b inclusive: hu[s] trilinear (mm_reslice_sample; outside
 * the volume NaN) and, when pos_mm is not NULL, the distance of sample s from a. */
void mm_measure_profile (const MmVolume *vol, const double a[3], const double b[3], int n,
                         double *hu, double *pos_mm);

G_END_DECLS
