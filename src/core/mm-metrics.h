/* SPDX-License-Identifier: GPL-3.0-or-later */
/* How far a predicted metal mask is from a reference one: overlap, surface distances in mm,
 * volume difference, and per-slice figures. */
#pragma once

#include "mm-mask.h"

G_BEGIN_DECLS

/* Conventions (the same in the CLI's JSON, where NaN is written as null):
 *
 * - Surface of a mask: its voxels with at least one 6-neighbour outside the mask; voxels
 *   beyond the edge of the grid count as outside. This is the usual definition (DeepMind's
 *   surface-distance package, MedPy, scipy's binary_erosion with a 6-connected structure and
 *   border_value 0).
 * - Surface distance: from the centre of each surface voxel of one mask to the centre of the
 *   nearest surface voxel of the other, in mm with the grid's real (anisotropic) spacing.
 * - HD95: the 95th percentile of the union of both directed distance sets (truth -> pred and
 *   pred -> truth pooled), with linear interpolation between order statistics as numpy's
 *   default percentile: the value at rank 0.95 * (n - 1). This is MedPy's hd95. (The other
 *   common one, the larger of the two directed 95th percentiles, is not what this reports.)
 * - ASSD: the mean of the pooled distances, (sum over truth's surface + sum over pred's) /
 *   (number of truth surface voxels + number of pred surface voxels), as Heimann et al. 2009
 *   define it. (MedPy's assd, the mean of the two directed means, differs from this when the
 *   two surfaces have different sizes.)
 * - Both masks empty: Dice, IoU, precision and recall 1, every distance 0, volume difference
 *   0 ml and 0 %.
 * - Exactly one mask empty: Dice and IoU 0; the distances are NaN (there is no surface to
 *   measure to). A ratio whose denominator is 0 is NaN: precision when pred is empty, recall
 *   and the relative volume difference when truth is empty.
 * - Per slice, Dice follows the same rule: 1 when neither mask has a voxel in the slice. */

typedef struct
{
  uint64_t truth_voxels;
  uint64_t pred_voxels;
  uint64_t tp;
  double dice;
} MmSliceMetrics;

typedef struct
{
  int dims[3];       /* columns, rows, slices */
  double spacing[3]; /* mm: column, row, slice */

  uint64_t truth_voxels, pred_voxels;
  uint64_t tp, fp, fn;
  uint64_t truth_surface_voxels, pred_surface_voxels;

  double dice, iou, precision, recall;

  double hd95_mm;      /* see the conventions above; NaN when exactly one mask is empty */
  double assd_mm;
  double hausdorff_mm; /* the largest surface distance either way (HD100) */

  double truth_ml, pred_ml;
  double volume_diff_ml;      /* pred - truth: positive when pred is larger */
  double volume_diff_percent; /* 100 * (pred - truth) / truth */

  MmSliceMetrics *slices; /* dims[2] entries, slice 0 first */
} MmMetrics;

/* Compare pred with truth (the reference). The masks must be on the same grid: dims must
 * agree, and spacing (mm, [column, row, slice]) must be positive. n_threads <= 0: all cores.
 * The result does not depend on n_threads, bit for bit. NULL with error on bad input or
 * when the working memory cannot be had. */
MmMetrics *mm_metrics_compute (const MmMask *truth, const MmMask *pred, const double spacing[3],
                               int n_threads, GError **error);
void mm_metrics_free (MmMetrics *metrics);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmMetrics, mm_metrics_free)

G_END_DECLS
