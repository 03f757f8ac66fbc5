/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmHistogram: a series' HU histogram (log counts) with a range [lower, upper] drawn over it;
 * dragging moves the nearer end. lower and upper are properties, bound to the threshold's
 * adjustments by its owner. */
#pragma once

#include "mm-stats.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MM_TYPE_HISTOGRAM (mm_histogram_get_type ())
G_DECLARE_FINAL_TYPE (MmHistogram, mm_histogram, MM, HISTOGRAM, GtkWidget)

/* stats is borrowed (NULL: none); it must live until the next call. */
void mm_histogram_set_stats (MmHistogram *self, const MmStats *stats);

G_END_DECLS
