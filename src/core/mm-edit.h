/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Editing operations on a metal mask: brush and eraser, threshold over a slice range,
 * islands, hole filling and interpolation between slices. Each operation reports the slices
 * it is about to change through touch (for undo and autosave) before changing them. */
#pragma once

#include "mm-mask.h"
#include "mm-render.h"
#include "mm-volume.h"

G_BEGIN_DECLS

/* Called once per slice k (axial index) before the first change to it in an operation. */
typedef void (*MmTouchFunc) (int k, gpointer user_data);

typedef struct
{
  double radius_mm;
  bool sphere;         /* 3D ball instead of a disc in the plane */
  uint8_t value;       /* 1 brush, 0 eraser */
  bool hu_limited;     /* paint only voxels with lower <= HU <= upper */
  double hu_lower, hu_upper;
} MmBrush;

/* Stamp the brush along the segment from (u0, v0) to (u1, v1) in plane coordinates (pixels,
 * continuous) at depth d of plane, with stamps close enough that a fast drag leaves no gaps.
 * Returns the voxels whose value changed. */
uint64_t mm_edit_brush_segment (MmMask *mask, const MmVolume *vol, MmPlane plane, int depth,
                                double u0, double v0, double u1, double v1,
                                const MmBrush *brush, MmTouchFunc touch, gpointer data);

/* Set slices first..last to the threshold [lower, upper] of the volume (replacing their
 * mask). Returns the voxels changed. */
uint64_t mm_edit_threshold (MmMask *mask, const MmVolume *vol, int first, int last,
                            double lower, double upper, MmTouchFunc touch, gpointer data);

typedef enum
{
  MM_ISLAND_REMOVE,    /* delete the component under the voxel */
  MM_ISLAND_KEEP_ONLY, /* delete every other component */
} MmIslandAction;

/* 3D 26-connected components, as segment uses. Returns voxels changed (0 when the voxel is
 * background). */
uint64_t mm_edit_island (MmMask *mask, const int ijk[3], MmIslandAction action,
                         MmTouchFunc touch, gpointer data);
/* Remove components smaller than min_mm3. */
uint64_t mm_edit_remove_small (MmMask *mask, const MmVolume *vol, double min_mm3,
                               MmTouchFunc touch, gpointer data);

/* Fill the holes (background not connected to the slice border, 4-connected) of slices
 * first..last. */
uint64_t mm_edit_fill_holes (MmMask *mask, int first, int last, MmTouchFunc touch,
                             gpointer data);

/* Shape-based interpolation: the slices strictly between k0 and k1 get the zero level of the
 * linear blend of the signed distance maps (in mm) of slices k0 and k1. out (w x h x (k1-k0-1))
 * receives the preview when not NULL; apply writes it into mask. */
uint64_t mm_edit_interpolate (MmMask *mask, const MmVolume *vol, int k0, int k1, bool apply,
                              uint8_t *out, MmTouchFunc touch, gpointer data);

/* Make mask equal to src (same dims): only the slices that differ are touched and copied.
 * Returns the slices changed. */
int mm_edit_replace (MmMask *mask, const MmMask *src, MmTouchFunc touch, gpointer data);

/* Erase slices first..last (only those holding voxels are touched). Returns the voxels
 * erased. */
uint64_t mm_edit_clear (MmMask *mask, int first, int last, MmTouchFunc touch, gpointer data);

/* Next / previous slice (from k, exclusive) holding mask voxels, or -1. */
int mm_edit_next_slice_with_mask (const MmMask *mask, int k, int direction);

G_END_DECLS
