/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Exact Euclidean distance transforms in mm, on anisotropic grids: the one implementation the
 * metrics (surface distances, HD95) and the editing tools (shape-based interpolation) share. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Squared distance along one line of n samples s mm apart, from f (squared distances so far,
 * INFINITY where none): d[p] = min over q of (s (p - q))^2 + f[q], INFINITY everywhere when f
 * is. The lower envelope of the parabolas rooted at the finite f[q], in O(n); v and z are
 * scratch of n and n + 1 entries. f and d must not overlap. */
void mm_distance_1d (const double *f, double *d, int n, double s, int *v, double *z);

/* out[j * w + i] := squared distance (mm^2) from pixel (i, j) of a w x h slice, pixels sx by sy
 * mm, to the nearest pixel whose seed is not 0; INFINITY when there is none. */
void mm_distance_squared_2d (const uint8_t *seed, int w, int h, double sx, double sy,
                             double *out);

/* Signed distance (mm) of every pixel of a w x h binary slice to its boundary, taken half a
 * pixel (half the smaller spacing) from the pixel centres: the distance to the nearest pixel of
 * the other class minus that half, negative inside (slice != 0), positive outside. A slice of
 * one class only gives -1e9 / 1e9. */
void mm_distance_signed_2d (const uint8_t *slice, int w, int h, double sx, double sy,
                            float *out);

G_END_DECLS
