/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A series thumbnail over DICOMweb: the WADO-RS rendered resource of the series' middle
 * instance, as the server's PNG bytes (no decoding here: no GTK in the network layer; the
 * app decodes them). The answer is bounded and checked before anyone decodes it. */
#pragma once

#include "mm-pacs-server.h"

G_BEGIN_DECLS

#define MM_PACS_THUMB_MAX_BYTES (2u << 20) /* a larger "thumbnail" is refused */
#define MM_PACS_THUMB_MAX_SIDE 1024        /* pixels, either side */
#define MM_PACS_THUMB_VIEWPORT 64          /* asked for: viewport=64,64 */

/* The PNG of the middle instance of the series (QIDO-RS lists the instances, ordered by
 * Instance Number where given), rendered by the server at about 64x64. Only image/png is
 * asked for: Orthanc's DICOMweb plugin 1.7 answers 400 to an Accept with several types.
 * NULL with G_IO_ERROR_NOT_SUPPORTED when the server has no rendered resource (404, 406,
 * 400) or the series no instance; otherwise NULL with a one-line error for an answer that is
 * not a PNG, larger than MM_PACS_THUMB_MAX_BYTES, or wider or taller than
 * MM_PACS_THUMB_MAX_SIDE. */
GBytes *mm_pacs_thumbnail (MmPacsServer *srv, const char *study_uid, const char *series_uid,
                           GCancellable *cancellable, GError **error);

/* The width and height of a PNG from its header; false when data is not a PNG. */
bool mm_pacs_png_size (const guint8 *data, gsize len, guint32 *width, guint32 *height);

G_END_DECLS
