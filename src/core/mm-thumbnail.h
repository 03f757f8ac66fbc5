/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A series' thumbnail for the series browser: one axial slice, fitted into a square, drawn
 * with the series' own window (vol's (0028,1050/1051): the browser loads the middle slice's
 * file alone, so it is that slice's) or, without one, the slice's range. No GTK: the app
 * wraps the pixels in a texture, the benchmark times them. */
#pragma once

#include "mm-volume.h"

#include <stdint.h>

G_BEGIN_DECLS

/* The window and level a thumbnail of slice k uses: the file's window when it has one, else
 * the slice's minimum to maximum. */
void mm_thumbnail_window (const MmVolume *vol, int k, double *window, double *level);

/* Slice k of vol (clamped) drawn into rgba (size x size, R G B A, stride size * 4), fitted with
 * its physical aspect, black around it. */
void mm_thumbnail_render (const MmVolume *vol, int k, int size, uint8_t *rgba);

G_END_DECLS
