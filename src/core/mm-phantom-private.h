/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What mm-phantom.c (public API, variant 0, geometry and UIDs) and the random variants
 * (mm-phantom-variant.c, drawing on mm-phantom-shape.c, -scene.c and -implant.c) share: the
 * generator and the variants' entry point. */
#pragma once

#include "mm-phantom.h"
#include "mm-random.h"

G_BEGIN_DECLS

/* Fills vol (int16 HU) and truth for variant p->variant >= 1, and the figures of ph, for voxel
 * (i, j, k) at (i * pixel_mm, j * pixel_mm, k * slice_mm) - half mm from the volume centre. */
void mm_phantom_fill_variant (const MmPhantomParams *p, const double half[3], MmVolume *vol,
                              MmMask *truth, MmPhantom *ph);

G_END_DECLS
