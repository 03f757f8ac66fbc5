/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A DICOMweb server's WADO-RS answer: multipart/related bytes streamed through the
 * incremental parser in chunks of any size, as libsoup hands them over. The input's first
 * line is the Content-Type header the boundary comes from; its first byte after that picks
 * the chunk size. Checked: the content delivered never exceeds the bytes fed, the parser
 * buffers no more than a part's header limit and a boundary, and a refusal is one line. */
#include "fuzz-common.h"
#include "mm-multipart.h"

#include <string.h>

typedef struct
{
  gsize delivered;
  int depth; /* 1 inside a part */
} Count;

static bool
begin (const char *content_type, gpointer user, GError **error)
{
  Count *c = user;
  g_assert (content_type != NULL && c->depth == 0);
  c->depth = 1;
  return true;
}

static bool
part_data (const guint8 *data, gsize len, gpointer user, GError **error)
{
  Count *c = user;
  g_assert (c->depth == 1 && (len == 0 || data != NULL));
  c->delivered += len;
  return true;
}

static bool
end (gpointer user, GError **error)
{
  Count *c = user;
  g_assert (c->depth == 1);
  c->depth = 0;
  return true;
}

static void
one_line (const GError *error)
{
  g_assert (error != NULL && error->message[0] != '\0' && strchr (error->message, '\n') == NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  const uint8_t *nl = memchr (data, '\n', size);
  if (nl == NULL || nl + 1 >= data + size)
    return 0;
  g_autofree char *content_type = g_strndup ((const char *) data, nl - data);
  const uint8_t *body = nl + 2;
  size_t chunk = 1 + nl[1] % 64u;
  size_t len = size - (size_t) (body - data);
  if (chunk > 48)
    chunk = len > 0 ? len : 1; /* sometimes the whole answer at once */

  g_autoptr (GError) error = NULL;
  g_autofree char *boundary = mm_multipart_boundary (content_type, &error);
  if (boundary == NULL)
    {
      one_line (error);
      return 0;
    }
  static const MmMultipartHandler handler = { begin, part_data, end };
  Count count = { 0 };
  g_autoptr (MmMultipart) mp = mm_multipart_new (boundary, &handler, &count, &error);
  if (mp == NULL)
    {
      one_line (error);
      return 0;
    }
  bool ok = true;
  for (size_t pos = 0; ok && pos < len; pos += chunk)
    {
      size_t n = MIN (chunk, len - pos);
      ok = mm_multipart_feed (mp, body + pos, n, &error);
      g_assert (count.delivered <= pos + n);
      g_assert (mm_multipart_buffered (mp) <= MM_MULTIPART_HEADER_MAX + 2 * MM_MULTIPART_BOUNDARY_MAX + 16);
    }
  if (ok)
    ok = mm_multipart_finish (mp, &error);
  if (!ok)
    one_line (error);
  else
    g_assert (count.depth == 0);
  return 0;
}
