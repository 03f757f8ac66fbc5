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

/* What a PNG's IHDR chunk declares, read and checked (valid per the PNG specification,
 * sides at most MM_LIMIT_IMAGE_SIDE) without decoding anything. */
typedef struct
{
  guint32 width, height;
  int bit_depth, colour_type;
  bool interlaced;
} MmPngHeader;

bool mm_png_read_header (const char *path, MmPngHeader *header, GError **error);

/* Read a PNG that must be width x height pixels as 8-bit grey (other formats are converted
 * by libpng). The header is checked first, so nothing of another size is ever allocated or
 * decoded. *pixels is g_malloc'd. */
bool mm_png_read_gray8 (const char *path, int width, int height, uint8_t **pixels,
                        GError **error);

G_END_DECLS
