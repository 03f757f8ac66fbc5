/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The figures of a volume without its histogram, for callers that print numbers only (`info`):
 * the same MmStats as mm_stats_compute with hist NULL and n_bins 0. */
#pragma once

#include "mm-stats.h"

G_BEGIN_DECLS

/* The same figures without the histogram (hist NULL, n_bins 0), in one vectorised pass: for
 * callers that print numbers only (`info`). Integer volumes give exactly mm_stats_compute's
 * figures; float volumes the same up to the order of the double sums. */
MmStats *mm_figures_compute (const MmVolume *vol, int n_threads);
/* The figures of a series streamed slice by slice (MmDicomLoadOptions.slice_func), never
 * holding the volume: add every slice (from any thread), then finish with the volume
 * the load returned (geometry and padding tags, no voxels). finish gives exactly what
 * mm_figures_compute gives on the loaded volume, or NULL when it cannot be known
 * from the slices' figures (padding that is not the volume's minimum, a slice missing):
 * then load the volume and call that. */
typedef struct _MmFiguresBuilder MmFiguresBuilder;
MmFiguresBuilder *mm_figures_builder_new (void);
void mm_figures_builder_add_slice (MmFiguresBuilder *b, int k, const int16_t *hu,
                                   const int dims[3]);
/* The same for a float series (every slice of one series is int16, or every one float). */
void mm_figures_builder_add_float_slice (MmFiguresBuilder *b, int k, const float *hu,
                                         const int dims[3]);
MmStats *mm_figures_builder_finish (MmFiguresBuilder *b, const MmVolume *vol);
void mm_figures_builder_free (MmFiguresBuilder *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmFiguresBuilder, mm_figures_builder_free)

G_END_DECLS
