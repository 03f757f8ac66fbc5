/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An incremental multipart/related (RFC 2046) body parser: bytes are fed in chunks of any
 * size as they arrive from the network, parts come out as callbacks, and memory stays
 * bounded (a part's headers, at most MM_MULTIPART_HEADER_MAX, plus one delimiter), so a
 * WADO-RS answer of unknown length is never held. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* The headers of one part may take at most this many bytes: a real part has two or three
 * short lines; more is a broken or hostile server. */
#define MM_MULTIPART_HEADER_MAX (16u << 10)
/* RFC 2046: a boundary is 1 to 70 characters. */
#define MM_MULTIPART_BOUNDARY_MAX 70

typedef struct
{
  /* A part starts; content_type is its Content-Type header ("" when it has none). Return
   * false with error set to stop the parse. */
  bool (*part_begin) (const char *content_type, gpointer user, GError **error);
  /* Some bytes of the current part's content (any split; never across parts). */
  bool (*part_data) (const guint8 *data, gsize len, gpointer user, GError **error);
  /* The current part is complete. */
  bool (*part_end) (gpointer user, GError **error);
} MmMultipartHandler;

typedef struct MmMultipart MmMultipart;

/* A parser for the given boundary (without the leading "--"); NULL with error when the
 * boundary is empty, longer than 70 characters or has bytes RFC 2046 does not allow. */
MmMultipart *mm_multipart_new (const char *boundary, const MmMultipartHandler *handler,
                               gpointer user, GError **error);
void mm_multipart_free (MmMultipart *mp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmMultipart, mm_multipart_free)

/* Feed the next len bytes of the body. False with error (one line) on a malformed body or
 * when a callback fails; the parser must not be fed again then. */
bool mm_multipart_feed (MmMultipart *mp, const guint8 *data, gsize len, GError **error);

/* The body ended: false with error unless the closing delimiter was seen (a truncated
 * answer). */
bool mm_multipart_finish (MmMultipart *mp, GError **error);

/* Bytes the parser holds right now (for the tests of its bound). */
gsize mm_multipart_buffered (const MmMultipart *mp);

/* Number of complete parts so far. */
guint mm_multipart_n_parts (const MmMultipart *mp);

/* The boundary parameter of a multipart Content-Type header value (quotes removed), newly
 * allocated; NULL with error when the type is not multipart/related or has no boundary. */
char *mm_multipart_boundary (const char *content_type, GError **error);

G_END_DECLS
