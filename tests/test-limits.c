/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Limits of mm-limits.h that no command line reaches: the edit journal's size at the limit,
 * one byte past it and as a sparse 30 GB file; the JSON depth scan against the depth
 * json-glib itself builds, on random JSON decorated with everything its scanner skips. */
#include "mm-test-util.h"
#include "mm-journal.h"
#include "mm-json.h"
#include "mm-limits.h"
#include "mm-phantom.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* ---- journal ---- */

typedef struct
{
  MmPhantom *ph;
  char *dir, *journal;
  MmMask *edited; /* the mask the journal holds */
} Fixture;

/* A project folder whose journal holds one group (slice 1 filled) and was never folded,
 * as after a crash. */
static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  MmPhantomParams p;
  mm_phantom_params_init (&p);
  p.size = 32;
  p.slices = 4;
  g_autoptr (GError) err = NULL;
  f->ph = mm_phantom_new (&p, &err);
  g_assert_no_error (err);
  f->dir = mm_test_tmp_dir ("mm-limits");
  f->journal = g_build_filename (f->dir, MM_JOURNAL_FILE, NULL);
  f->edited = mm_mask_new (f->ph->volume->dims);
  MmJournal *j = mm_journal_open (f->dir, f->ph->volume, f->edited, NULL, &err);
  g_assert_no_error (err);
  memset (mm_mask_slice (f->edited, 1), 1, 32 * 32 / 2);
  int k = 1;
  g_assert_true (mm_journal_append (j, &k, 1, &err));
  g_assert_no_error (err);
  mm_journal_close (j);
  g_assert_true (g_file_test (f->journal, G_FILE_TEST_IS_REGULAR));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  mm_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->journal);
  mm_mask_free (f->edited);
  mm_phantom_free (f->ph);
}

/* The journal grown to size bytes with a hole (costs no disk), then opened on a new mask:
 * refused (the error returned) or recovered (NULL returned, the mask checked). */
static GError *
open_grown (Fixture *f, guint64 size, MmMask **mask_out)
{
  g_assert_cmpint (truncate (f->journal, (off_t) size), ==, 0);
  g_autoptr (MmMask) mask = mm_mask_new (f->ph->volume->dims);
  GError *err = NULL;
  bool recovered = false;
  MmJournal *j = mm_journal_open (f->dir, f->ph->volume, mask, &recovered, &err);
  if (j)
    {
      g_assert_true (recovered);
      mm_journal_close (j);
    }
  *mask_out = g_steal_pointer (&mask);
  return err;
}

static void
expect_refused (Fixture *f, guint64 size)
{
  g_autoptr (MmMask) mask = NULL;
  g_autoptr (GError) err = open_grown (f, size, &mask);
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (err->message, f->journal));
  g_assert_nonnull (strstr (err->message, "more than"));
  g_assert_null (strchr (err->message, '\n'));
  /* Left as it is on disk, the mask untouched. */
  g_assert_cmpint (mm_test_file_size (f->journal), ==, (goffset) size);
  g_assert_cmpuint (mm_mask_count (mask), ==, 0);
}

static void
test_journal_at_limit (Fixture *f, gconstpointer data)
{
  goffset good = mm_test_file_size (f->journal);
  g_autoptr (MmMask) mask = NULL;
  g_autoptr (GError) err = open_grown (f, MM_LIMIT_JOURNAL_BYTES, &mask);
  g_assert_no_error (err);
  /* The group is recovered and the zeros after it are cut off as a torn tail. */
  g_assert_true (mm_mask_equal (mask, f->edited));
  g_assert_cmpint (mm_test_file_size (f->journal), ==, good);
}

static void
test_journal_past_limit (Fixture *f, gconstpointer data)
{
  expect_refused (f, MM_LIMIT_JOURNAL_BYTES + 1);
}

static void
test_journal_sparse_30gb (Fixture *f, gconstpointer data)
{
  /* It aborted in g_malloc: run where an abort fails only this test. */
  if (g_test_subprocess ())
    {
      expect_refused (f, 30ull << 30);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* ---- JSON depth ---- */

/* Nesting of a parsed tree, counted the way mm_json_depth counts brackets. */
static int
tree_depth (JsonNode *node)
{
  int deepest = 0;
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (a); i++)
        deepest = MAX (deepest, tree_depth (json_array_get_element (a, i)));
      return deepest + 1;
    }
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter it;
      JsonNode *member;
      json_object_iter_init (&it, json_node_get_object (node));
      while (json_object_iter_next (&it, NULL, &member))
        deepest = MAX (deepest, tree_depth (member));
      return deepest + 1;
    }
  return 0;
}

/* Decoration json-glib skips or reads as a scalar, full of characters that open or close
 * something elsewhere. */
static const char *const noise[] = {
  "/* [ { \" ' */", "/* \" */", "/* ' [[ */", "/**/", "/* ] } */",
};
static const char *const scalars[] = {
  "\"[\"", "\"{{\"", "\"a\\\"[\"", "\"'\"", "\"/*\"", "'['", "'\"[{'", "'/*'", "'a\\'",
  "\"\\\\\"", "1", "-2.5e3", "true", "null",
};

static void
random_json (GRand *r, GString *s, int depth_left)
{
  if (g_rand_int_range (r, 0, 3) == 0)
    g_string_append (s, noise[g_rand_int_range (r, 0, G_N_ELEMENTS (noise))]);
  int kind = depth_left > 0 ? g_rand_int_range (r, 0, 3) : 2;
  if (kind == 2)
    g_string_append (s, scalars[g_rand_int_range (r, 0, G_N_ELEMENTS (scalars))]);
  else
    {
      int n = g_rand_int_range (r, 0, 4);
      g_string_append_c (s, kind == 0 ? '[' : '{');
      for (int i = 0; i < n; i++)
        {
          if (i)
            g_string_append_c (s, ',');
          if (kind == 1)
            g_string_append_printf (s, "\"k%d\":", i);
          random_json (r, s, depth_left - 1);
        }
      g_string_append_c (s, kind == 0 ? ']' : '}');
    }
  if (g_rand_int_range (r, 0, 3) == 0)
    g_string_append (s, noise[g_rand_int_range (r, 0, G_N_ELEMENTS (noise))]);
}

static void
test_json_depth_matches_json_glib (void)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (10);
  int parsed = 0;
  for (int t = 0; t < 3000; t++)
    {
      g_autoptr (GString) s = g_string_new (NULL);
      random_json (r, s, g_rand_int_range (r, 0, 12));
      g_autoptr (JsonParser) p = json_parser_new ();
      if (!json_parser_load_from_data (p, s->str, (gssize) s->len, NULL)
          || json_parser_get_root (p) == NULL)
        continue; /* e.g. a lone comment */
      parsed++;
      int want = tree_depth (json_parser_get_root (p));
      int got = mm_json_depth (s->str, s->len, 1000);
      if (got != want)
        g_error ("depth %d counted, json-glib built %d, for: %s", got, want, s->str);
    }
  g_assert_cmpint (parsed, >, 2000);
}

static void
test_json_depth_limit (void)
{
  /* At the limit it parses; one past and the 200 KB of '[' of the issue are refused by
   * the scan, with the name, before json-glib recurses. */
  for (int depth = MM_LIMIT_JSON_DEPTH; depth <= MM_LIMIT_JSON_DEPTH + 1; depth++)
    {
      g_autoptr (GString) s = g_string_new ("/* \" */");
      for (int k = 0; k < depth; k++)
        g_string_append_c (s, '[');
      for (int k = 0; k < depth; k++)
        g_string_append_c (s, ']');
      g_autoptr (JsonParser) p = json_parser_new ();
      g_autoptr (GError) err = NULL;
      bool ok = mm_json_load_data (p, s->str, -1, "x.json", "test file", &err);
      g_assert_true (ok == (depth <= MM_LIMIT_JSON_DEPTH));
      if (!ok)
        g_assert_cmpstr (err->message, ==, "x.json: cannot read the test file: the JSON nests "
                                           "more than 64 levels deep; Metalmark never writes "
                                           "that");
    }
  g_autofree char *deep = g_strnfill (200000, '[');
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_null (mm_json_parse_object (p, deep));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/limits/journal/at-limit", Fixture, NULL, fixture_set_up,
              test_journal_at_limit, fixture_tear_down);
  g_test_add ("/limits/journal/past-limit", Fixture, NULL, fixture_set_up,
              test_journal_past_limit, fixture_tear_down);
  g_test_add ("/limits/journal/sparse-30gb", Fixture, NULL, fixture_set_up,
              test_journal_sparse_30gb, fixture_tear_down);
  g_test_add_func ("/limits/json/depth-matches-json-glib", test_json_depth_matches_json_glib);
  g_test_add_func ("/limits/json/depth-limit", test_json_depth_limit);
  return g_test_run ();
}
