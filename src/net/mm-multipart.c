/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-multipart.h"

#include <gio/gio.h>
#include <string.h>

typedef enum
{
  ST_PREAMBLE, /* before the first delimiter */
  ST_AFTER,    /* just after a delimiter: "--" (the end) or padding and CRLF */
  ST_HEADERS,  /* a part's header lines, up to the empty line */
  ST_BODY,     /* a part's content, up to CRLF "--" boundary */
  ST_END,      /* after the closing delimiter: the epilogue is ignored */
} State;

struct MmMultipart
{
  MmMultipartHandler handler;
  gpointer user;
  char *delim;      /* "\r\n--" boundary */
  gsize delim_len;
  GByteArray *buf;  /* bytes received and not yet consumed */
  State state;
  guint n_parts;
  bool failed;
};

/* RFC 2046 bchars: DIGIT / ALPHA / "'()+_,-./:=? " (a space, but not last). */
static bool
boundary_ok (const char *b)
{
  gsize n = strlen (b);
  if (n == 0 || n > MM_MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ')
    return false;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (b[i]) && strchr ("'()+_,-./:=? ", b[i]) == NULL)
      return false;
  return true;
}

MmMultipart *
mm_multipart_new (const char *boundary, const MmMultipartHandler *handler, gpointer user,
                  GError **error)
{
  if (boundary == NULL || !boundary_ok (boundary))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "the multipart boundary is empty, longer than %d characters or has "
                   "characters RFC 2046 does not allow", MM_MULTIPART_BOUNDARY_MAX);
      return NULL;
    }
  MmMultipart *mp = g_new0 (MmMultipart, 1);
  mp->handler = *handler;
  mp->user = user;
  mp->delim = g_strconcat ("\r\n--", boundary, NULL);
  mp->delim_len = strlen (mp->delim);
  mp->buf = g_byte_array_new ();
  mp->state = ST_PREAMBLE;
  return mp;
}

void
mm_multipart_free (MmMultipart *mp)
{
  if (mp == NULL)
    return;
  g_free (mp->delim);
  g_byte_array_unref (mp->buf);
  g_free (mp);
}

gsize
mm_multipart_buffered (const MmMultipart *mp)
{
  return mp->buf->len;
}

guint
mm_multipart_n_parts (const MmMultipart *mp)
{
  return mp->n_parts;
}

static bool
fail (MmMultipart *mp, GError **error, const char *why)
{
  mp->failed = true;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed multipart answer: %s",
               why);
  return false;
}

static void
consume (MmMultipart *mp, gsize n)
{
  g_byte_array_remove_range (mp->buf, 0, (guint) n);
}

/* The Content-Type value among the header lines (case-insensitive name), trimmed. */
static char *
header_content_type (const char *headers)
{
  g_auto (GStrv) lines = g_strsplit (headers, "\r\n", -1);
  for (char **l = lines; *l; l++)
    if (g_ascii_strncasecmp (*l, "content-type:", 13) == 0)
      return g_strstrip (g_strdup (*l + 13));
  return g_strdup ("");
}

/* One step of the state machine on the buffered bytes; *progress tells whether it could
 * consume anything (else it needs more bytes). */
static bool
step (MmMultipart *mp, bool *progress, GError **error)
{
  const guint8 *d = mp->buf->data;
  gsize n = mp->buf->len;
  *progress = false;
  switch (mp->state)
    {
    case ST_PREAMBLE:
      {
        /* The first delimiter may open the body without the CRLF before it. */
        const char *dash = mp->delim + 2;
        gsize dash_len = mp->delim_len - 2;
        if (n >= dash_len && memcmp (d, dash, dash_len) == 0)
          {
            consume (mp, dash_len);
            mp->state = ST_AFTER;
            *progress = true;
            return true;
          }
        if (n < dash_len)
          return true;
        const guint8 *hit = memmem (d, n, mp->delim, mp->delim_len);
        if (hit != NULL)
          {
            consume (mp, (gsize) (hit - d) + mp->delim_len);
            mp->state = ST_AFTER;
            *progress = true;
          }
        else if (n > mp->delim_len)
          {
            /* A preamble is allowed but is not kept: drop all but a possible start. */
            consume (mp, n - mp->delim_len);
            *progress = true;
          }
        return true;
      }
    case ST_AFTER:
      {
        if (n < 2)
          return true;
        if (d[0] == '-' && d[1] == '-')
          {
            consume (mp, 2);
            mp->state = ST_END;
            *progress = true;
            return true;
          }
        gsize i = 0;
        while (i < n && (d[i] == ' ' || d[i] == '\t') && i < 256)
          i++;
        if (i >= 256)
          return fail (mp, error, "too much padding after a boundary");
        if (n < i + 2)
          return true;
        if (d[i] != '\r' || d[i + 1] != '\n')
          return fail (mp, error, "a boundary is not followed by a line end");
        consume (mp, i + 2);
        mp->state = ST_HEADERS;
        *progress = true;
        return true;
      }
    case ST_HEADERS:
      {
        const guint8 *end = NULL;
        if (n >= 2 && d[0] == '\r' && d[1] == '\n')
          end = d; /* a part without headers */
        else
          {
            const guint8 *hit = memmem (d, MIN (n, (gsize) MM_MULTIPART_HEADER_MAX + 4),
                                        "\r\n\r\n", 4);
            if (hit != NULL)
              end = hit + 2;
          }
        if (end == NULL)
          {
            if (n > MM_MULTIPART_HEADER_MAX)
              return fail (mp, error, "a part's headers are longer than 16 KiB");
            return true;
          }
        g_autofree char *headers = g_strndup ((const char *) d, (gsize) (end - d));
        g_autofree char *ctype = header_content_type (headers);
        consume (mp, (gsize) (end - d) + 2);
        mp->state = ST_BODY;
        *progress = true;
        if (mp->handler.part_begin && !mp->handler.part_begin (ctype, mp->user, error))
          {
            mp->failed = true;
            return false;
          }
        return true;
      }
    case ST_BODY:
      {
        const guint8 *hit = memmem (d, n, mp->delim, mp->delim_len);
        gsize data_len = hit ? (gsize) (hit - d) : (n >= mp->delim_len ? n - mp->delim_len + 1 : 0);
        if (data_len > 0 && mp->handler.part_data
            && !mp->handler.part_data (d, data_len, mp->user, error))
          {
            mp->failed = true;
            return false;
          }
        if (hit)
          {
            consume (mp, data_len + mp->delim_len);
            mp->state = ST_AFTER;
            mp->n_parts++;
            *progress = true;
            if (mp->handler.part_end && !mp->handler.part_end (mp->user, error))
              {
                mp->failed = true;
                return false;
              }
          }
        else if (data_len > 0)
          {
            consume (mp, data_len);
            *progress = true;
          }
        return true;
      }
    case ST_END:
      if (n > 0)
        consume (mp, n);
      return true;
    }
  return true;
}

/* Inside a part's content, most bytes go to the callback straight from the caller's chunk,
 * without passing through buf (two copies of every byte less). buf then holds only the
 * last delim_len - 1 bytes of the previous chunk, which may start a delimiter. Returns the
 * bytes of data consumed; the rest goes through the general path. */
static gsize
body_fast (MmMultipart *mp, const guint8 *data, gsize len, GError **error, bool *ok)
{
  *ok = true;
  gsize keep = mp->delim_len - 1;
  if (mp->state != ST_BODY || mp->buf->len > keep || len < keep + 1)
    return 0;
  if (mp->buf->len > 0)
    {
      /* Could a delimiter begin in the held tail? Look at the tail and the chunk's start. */
      guint8 window[2 * (MM_MULTIPART_BOUNDARY_MAX + 4)];
      gsize t = mp->buf->len;
      memcpy (window, mp->buf->data, t);
      memcpy (window + t, data, keep);
      if (memmem (window, t + keep, mp->delim, mp->delim_len) != NULL)
        return 0;
      if (mp->handler.part_data
          && !mp->handler.part_data (mp->buf->data, t, mp->user, error))
        {
          mp->failed = true;
          *ok = false;
          return 0;
        }
      g_byte_array_set_size (mp->buf, 0);
    }
  const guint8 *hit = memmem (data, len, mp->delim, mp->delim_len);
  /* Up to the delimiter, or all but what may start one. */
  gsize n = hit ? (gsize) (hit - data) : len - keep;
  if (n > 0 && mp->handler.part_data && !mp->handler.part_data (data, n, mp->user, error))
    {
      mp->failed = true;
      *ok = false;
      return 0;
    }
  return n;
}

bool
mm_multipart_feed (MmMultipart *mp, const guint8 *data, gsize len, GError **error)
{
  g_return_val_if_fail (!mp->failed, false);
  /* The epilogue after the closing delimiter is ignored without being stored. */
  if (mp->state == ST_END)
    return true;
  bool ok;
  gsize done = body_fast (mp, data, len, error, &ok);
  if (!ok)
    return false;
  data += done;
  len -= done;
  g_byte_array_append (mp->buf, data, (guint) len);
  bool progress = true;
  while (progress && mp->buf->len > 0)
    if (!step (mp, &progress, error))
      return false;
  return true;
}

bool
mm_multipart_finish (MmMultipart *mp, GError **error)
{
  if (mp->failed)
    return fail (mp, error, "the parse already failed");
  if (mp->state == ST_END)
    return true;
  if (mp->state == ST_PREAMBLE && mp->n_parts == 0)
    return fail (mp, error, "the body has no part (no boundary found)");
  mp->failed = true;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
               "the multipart answer ended early, after %u complete parts (truncated "
               "transfer)", mp->n_parts);
  return false;
}

char *
mm_multipart_boundary (const char *content_type, GError **error)
{
  if (content_type == NULL
      || g_ascii_strncasecmp (content_type, "multipart/related", 17) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "the server answered with content type '%s', not multipart/related",
                   content_type ? content_type : "(none)");
      return NULL;
    }
  g_auto (GStrv) params = g_strsplit (content_type, ";", -1);
  for (char **p = params + 1; *p; p++)
    {
      char *v = g_strstrip (*p);
      if (g_ascii_strncasecmp (v, "boundary=", 9) != 0)
        continue;
      v += 9;
      gsize n = strlen (v);
      if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
        return g_strndup (v + 1, n - 2);
      return g_strdup (v);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "the server's multipart/related answer names no boundary");
  return NULL;
}
