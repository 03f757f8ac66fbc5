/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The brush and eraser on an oblique (turned) plane: the voxels nearest to the plane's
 * sample points under the brush are painted, so what is painted is what the plane shows. */
#pragma once

#include "mm-edit.h"
#include "mm-reslice.h"

G_BEGIN_DECLS

/* One brush segment from (u0, v0) to (u1, v1), continuous pixel coordinates of p (pixel x
 * spans [x, x + 1)). Disc (brush->sphere false): every pixel of p whose centre lies within
 * radius_mm of the segment (in the plane, mm) sets the voxel nearest to that centre (each
 * index rounded half up, as mm_reslice_mask looks it up); pixels outside the volume do
 * nothing. Sphere: every voxel whose centre lies within radius_mm of the segment in 3D.
 * value, hu_limited, hu_lower and hu_upper as in mm_edit_brush_segment; touch is called once
 * per axial slice before its first change. Returns the voxels changed. */
uint64_t mm_edit_brush_oblique (MmMask *mask, const MmVolume *vol, const MmReslicePlane *p,
                                double u0, double v0, double u1, double v1,
                                const MmBrush *brush, MmTouchFunc touch, gpointer data);

G_END_DECLS
