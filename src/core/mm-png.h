/* SPDX-License-Identifier: GPL-3.0-or-later */
/* 8-bit grayscale PNG files through libpng, written atomically. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Encode width x height 8-bit gray pixels as a PNG in memory. */
GBytes *mm_png_encode_gray8 (const uint8_t *pixels, int width, int height, GError **error);

/* Write width x height 8-bit gray pixels to path: temp file, fsync, rename. When durable is
 * false the fsync is left to the caller (who syncs a whole batch at once). */
bool mm_png_write_gray8 (const char *path, const uint8_t *pixels, int width, int height,
                         bool durable, GError **error);

/* Read an 8-bit grayscale PNG (other formats are converted to gray by libpng). *pixels is
 * g_malloc'd. */
bool mm_png_read_gray8 (const char *path, uint8_t **pixels, int *width, int *height,
                        GError **error);

G_END_DECLS
