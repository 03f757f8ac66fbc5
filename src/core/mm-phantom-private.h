/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What mm-phantom.c (public API, variant 0, geometry and UIDs) and the random variants
 * (mm-phantom-variant.c, drawing on mm-phantom-shape.c, -scene.c and -implant.c) share: the
 * generator and the variants' entry point. */
#pragma once

#include "mm-phantom.h"

G_BEGIN_DECLS

/* splitmix64: a tiny, well-mixed generator; a per-slice stream keeps noise independent of the
 * thread count. */
static inline guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static inline double
uniform01 (guint64 *state)
{
  return ((splitmix64 (state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Fills vol (int16 HU) and truth for variant p->variant >= 1, and the figures of ph, for voxel
 * (i, j, k) at (i * pixel_mm, j * pixel_mm, k * slice_mm) - half mm from the volume centre. */
void mm_phantom_fill_variant (const MmPhantomParams *p, const double half[3], MmVolume *vol,
                              MmMask *truth, MmPhantom *ph);

G_END_DECLS
