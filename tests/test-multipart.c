/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mm-multipart: the incremental multipart/related parser against bodies built here, fed whole,
 * byte by byte and split at every position (the network splits anywhere); parts whose
 * content holds near-boundaries; truncated bodies, oversized headers, bad boundaries; and
 * its memory staying bounded on a large part. */
#include "mm-multipart.h"

#include <gio/gio.h>
#include <string.h>

typedef struct
{
  GPtrArray *types; /* char * */
  GPtrArray *parts; /* GByteArray * of each part */
  guint64 max_buffered;
  bool open;
} Collect;

static bool
on_begin (const char *ctype, gpointer user, GError **error)
{
  Collect *c = user;
  g_assert_false (c->open);
  c->open = true;
  g_ptr_array_add (c->types, g_strdup (ctype));
  g_ptr_array_add (c->parts, g_byte_array_new ());
  return true;
}

static bool
on_data (const guint8 *data, gsize len, gpointer user, GError **error)
{
  Collect *c = user;
  g_assert_true (c->open);
  g_assert_cmpuint (len, >, 0);
  g_byte_array_append (c->parts->pdata[c->parts->len - 1], data, (guint) len);
  return true;
}

static bool
on_end (gpointer user, GError **error)
{
  Collect *c = user;
  g_assert_true (c->open);
  c->open = false;
  return true;
}

static const MmMultipartHandler handler = { on_begin, on_data, on_end };

static void
collect_init (Collect *c)
{
  memset (c, 0, sizeof *c);
  c->types = g_ptr_array_new_with_free_func (g_free);
  c->parts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);
}

static void
collect_clear (Collect *c)
{
  g_ptr_array_unref (c->types);
  g_ptr_array_unref (c->parts);
}

/* The contents of the test body: the second holds "\r\n--bound" (not the whole boundary) and
 * the third is empty. */
static const char *contents[] = { "first part", "a\r\n--boun\r\n--boundar-y\r\n--", "",
                                  "last\r\n" };

static GByteArray *
body (bool preamble, bool closed)
{
  GByteArray *b = g_byte_array_new ();
  GString *s = g_string_new (preamble ? "preamble text\r\n" : "");
  for (guint i = 0; i < G_N_ELEMENTS (contents); i++)
    g_string_append_printf (s, "%s--boundary\r\nContent-Type: application/dicom\r\n\r\n%s",
                            i == 0 ? "" : "\r\n", contents[i]);
  if (closed)
    g_string_append (s, "\r\n--boundary--\r\nepilogue");
  g_byte_array_append (b, (const guint8 *) s->str, (guint) s->len);
  g_string_free (s, TRUE);
  return b;
}

static void
check_parts (Collect *c)
{
  g_assert_cmpuint (c->parts->len, ==, G_N_ELEMENTS (contents));
  for (guint i = 0; i < c->parts->len; i++)
    {
      GByteArray *p = c->parts->pdata[i];
      g_assert_cmpstr (c->types->pdata[i], ==, "application/dicom");
      g_assert_cmpuint (p->len, ==, strlen (contents[i]));
      g_assert_true (p->len == 0 || memcmp (p->data, contents[i], p->len) == 0); /* an empty part has no data */
    }
}

/* Feed b split at cut (and, with step 1, byte by byte). */
static bool
parse (GByteArray *b, gsize cut, gsize step, Collect *c, GError **error)
{
  g_autoptr (MmMultipart) mp = mm_multipart_new ("boundary", &handler, c, error);
  g_assert_nonnull (mp);
  gsize pos = 0;
  if (cut > 0)
    {
      if (!mm_multipart_feed (mp, b->data, cut, error))
        return false;
      pos = cut;
    }
  while (pos < b->len)
    {
      gsize n = MIN (step, b->len - pos);
      if (!mm_multipart_feed (mp, b->data + pos, n, error))
        return false;
      pos += n;
    }
  return mm_multipart_finish (mp, error);
}

static void
test_every_split (void)
{
  for (int pre = 0; pre < 2; pre++)
    {
      g_autoptr (GByteArray) b = body (pre, true);
      for (gsize cut = 0; cut <= b->len; cut++)
        {
          Collect c;
          collect_init (&c);
          g_autoptr (GError) err = NULL;
          g_assert_true (parse (b, cut, b->len, &c, &err));
          g_assert_no_error (err);
          check_parts (&c);
          collect_clear (&c);
        }
      Collect c;
      collect_init (&c);
      g_autoptr (GError) err = NULL;
      g_assert_true (parse (b, 0, 1, &c, &err));
      check_parts (&c);
      collect_clear (&c);
    }
}

/* Larger parts full of prefixes of the delimiter (CRLF "--boundary" itself never occurs in
 * them), fed in every chunk size from 1 to 300: the path that hands content over without
 * copying meets near-delimiters at every offset of a chunk and of the held tail. */
static void
test_chunked (void)
{
  static const char *frags[] = { "\r\n--boundar", "\r\n-", "\r", "xyz", "\r\n--b", "--boundary" };
  GPtrArray *want = g_ptr_array_new_with_free_func (g_free);
  GString *s = g_string_new (NULL);
  guint32 rnd = 12345;
  for (guint p = 0; p < 3; p++)
    {
      GString *c = g_string_new (NULL);
      while (c->len < 2500)
        {
          rnd = rnd * 1103515245u + 12345u;
          g_string_append (c, frags[(rnd >> 16) % G_N_ELEMENTS (frags)]);
        }
      g_string_append_printf (s, "%s--boundary\r\nContent-Type: application/dicom\r\n\r\n%s",
                              p == 0 ? "" : "\r\n", c->str);
      g_ptr_array_add (want, g_string_free (c, FALSE));
    }
  g_string_append (s, "\r\n--boundary--\r\n");
  for (gsize step = 1; step <= 300; step++)
    {
      Collect c;
      collect_init (&c);
      g_autoptr (GError) err = NULL;
      g_autoptr (MmMultipart) mp = mm_multipart_new ("boundary", &handler, &c, &err);
      for (gsize pos = 0; pos < s->len; pos += step)
        g_assert_true (mm_multipart_feed (mp, (const guint8 *) s->str + pos,
                                          MIN (step, s->len - pos), &err));
      g_assert_true (mm_multipart_finish (mp, &err));
      g_assert_cmpuint (c.parts->len, ==, 3);
      for (guint p = 0; p < 3; p++)
        {
          GByteArray *got = c.parts->pdata[p];
          g_assert_cmpuint (got->len, ==, strlen (want->pdata[p]));
          g_assert_true (got->len == 0 || memcmp (got->data, want->pdata[p], got->len) == 0);
        }
      collect_clear (&c);
    }
  g_string_free (s, TRUE);
  g_ptr_array_unref (want);
}

static void
test_truncated (void)
{
  g_autoptr (GByteArray) full = body (false, true);
  /* Every prefix short of the closing delimiter is an error, never a success. */
  gsize closing = full->len - strlen ("--\r\nepilogue");
  for (gsize len = 0; len < closing; len++)
    {
      g_autoptr (GByteArray) b = g_byte_array_new ();
      g_byte_array_append (b, full->data, (guint) len);
      Collect c;
      collect_init (&c);
      g_autoptr (GError) err = NULL;
      g_assert_false (parse (b, 0, 7, &c, &err));
      g_assert_nonnull (err);
      g_assert_cmpuint (c.parts->len, <=, G_N_ELEMENTS (contents));
      collect_clear (&c);
    }
}

static void
test_hostile (void)
{
  Collect c;
  collect_init (&c);
  g_autoptr (GError) err = NULL;
  /* Boundaries RFC 2046 does not allow. */
  g_assert_null (mm_multipart_new ("", &handler, &c, &err));
  g_clear_error (&err);
  g_autofree char *long_b = g_strnfill (71, 'b');
  g_assert_null (mm_multipart_new (long_b, &handler, &c, &err));
  g_clear_error (&err);
  g_assert_null (mm_multipart_new ("a\r\nb", &handler, &c, &err));
  g_clear_error (&err);

  /* Headers without end: refused once past the cap, not buffered forever. */
  g_autoptr (MmMultipart) mp = mm_multipart_new ("boundary", &handler, &c, &err);
  g_assert_true (mm_multipart_feed (mp, (const guint8 *) "--boundary\r\n", 12, &err));
  g_autofree char *junk = g_strnfill (1000, 'x');
  bool ok = true;
  for (int i = 0; i < 40 && ok; i++)
    ok = mm_multipart_feed (mp, (const guint8 *) junk, 1000, &err);
  g_assert_false (ok);
  g_assert_true (strstr (err->message, "16 KiB") != NULL);
  g_clear_error (&err);

  /* A delimiter followed by something else than a line end. */
  g_autoptr (MmMultipart) mp2 = mm_multipart_new ("boundary", &handler, &c, &err);
  g_assert_false (mm_multipart_feed (mp2, (const guint8 *) "--boundaryXY\r\n", 14, &err));
  g_clear_error (&err);
  /* No boundary at all. */
  g_autoptr (MmMultipart) mp3 = mm_multipart_new ("boundary", &handler, &c, &err);
  g_assert_true (mm_multipart_feed (mp3, (const guint8 *) "<html></html>", 13, &err));
  g_assert_false (mm_multipart_finish (mp3, &err));
  g_clear_error (&err);
  collect_clear (&c);
}

/* 64 MiB of part content fed in 64 KiB chunks: the parser's own buffer stays a chunk plus a
 * delimiter (its data goes straight to the callback). */
static void
test_bounded (void)
{
  Collect c;
  collect_init (&c);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmMultipart) mp = mm_multipart_new ("boundary", &handler, &c, &err);
  const char *head = "--boundary\r\nContent-Type: application/dicom\r\n\r\n";
  g_assert_true (mm_multipart_feed (mp, (const guint8 *) head, strlen (head), &err));
  g_autofree guint8 *chunk = g_malloc (65536);
  memset (chunk, '-', 65536); /* dashes: the worst case for a delimiter search */
  for (int i = 0; i < 1024; i++)
    {
      g_assert_true (mm_multipart_feed (mp, chunk, 65536, &err));
      g_assert_cmpuint (mm_multipart_buffered (mp), <, 65536 + 64);
      /* The collector keeps only the count, not the bytes. */
      GByteArray *p = c.parts->pdata[0];
      g_byte_array_set_size (p, 0);
    }
  const char *tail = "\r\n--boundary--\r\n";
  g_assert_true (mm_multipart_feed (mp, (const guint8 *) tail, strlen (tail), &err));
  g_assert_true (mm_multipart_finish (mp, &err));
  g_assert_cmpuint (mm_multipart_n_parts (mp), ==, 1);
  collect_clear (&c);
}

static void
test_boundary_param (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *a = mm_multipart_boundary (
    "multipart/related; type=\"application/dicom\"; boundary=\"abc def\"", &err);
  g_assert_cmpstr (a, ==, "abc def");
  g_autofree char *b = mm_multipart_boundary ("Multipart/Related;boundary=xyz", &err);
  g_assert_cmpstr (b, ==, "xyz");
  g_assert_null (mm_multipart_boundary ("application/json", &err));
  g_clear_error (&err);
  g_assert_null (mm_multipart_boundary ("multipart/related; type=x", &err));
  g_clear_error (&err);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/multipart/every-split", test_every_split);
  g_test_add_func ("/multipart/chunked", test_chunked);
  g_test_add_func ("/multipart/truncated", test_truncated);
  g_test_add_func ("/multipart/hostile", test_hostile);
  g_test_add_func ("/multipart/bounded", test_bounded);
  g_test_add_func ("/multipart/boundary-param", test_boundary_param);
  return g_test_run ();
}
