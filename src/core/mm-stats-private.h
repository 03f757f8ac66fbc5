/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared by mm-stats.c and mm-figures.c: the padding rule (see mm-stats.c). */
#pragma once

#include "mm-stats.h"

#define MM_STATS_HIST_BINS 65536
/* Detected padding lies at or below this (air clipped at -1024 inside the body is tissue). */
#define MM_STATS_PADDING_MAX_HU (-1025)

/* Padding detection looks at slices 0, step, 2 * step...: the step for n_slices. */
int mm_stats_padding_sample_step (int n_slices);
/* Count slice k's values outside its inscribed circle (to the nearest HU, bin v + 32768)
 * into counts, from slice (int16, when given) or the volume; returns how many. */
uint64_t mm_stats_count_corners (const MmVolume *vol, const int16_t *slice, int k,
                                 uint32_t *counts);
/* Set st's padding source, value and range: the volume's Pixel Padding Value (and Range
 * Limit), else the value detected outside the reconstruction circle, from corner_counts when
 * given (the sampled slices' counts) or from the volume. */
void mm_stats_choose_padding (const MmVolume *vol, const uint32_t *corner_counts,
                              uint64_t corner_total, MmStats *st);
