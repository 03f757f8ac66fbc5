/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the PNG label stacks (mm-label-stack.c): round trip, and the errors of damaged
 * or mismatched stacks. */
#include "mm-test-util.h"
#include "mm-label-stack.h"
#include "mm-png.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

/* ---- label stacks ---- */

static void
test_label_stack_round_trip (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (64, 12, 1, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_label_stack_write (dir, ph->truth, ph->volume, NULL, 0, &err));
  g_assert_no_error (err);

  /* Without a volume: manifest order. */
  g_autoptr (MmMask) back = mm_label_stack_read (dir, NULL, &err);
  g_assert_no_error (err);
  g_assert_true (mm_mask_equal (back, ph->truth));

  /* With a volume whose slices are in reverse order: matched by SOP Instance UID. */
  MmVolume *v = ph->volume;
  int n = v->dims[2];
  for (int k = 0; k < n / 2; k++)
    {
      char *t = v->slices[k].sop_instance_uid;
      v->slices[k].sop_instance_uid = v->slices[n - 1 - k].sop_instance_uid;
      v->slices[n - 1 - k].sop_instance_uid = t;
    }
  g_autoptr (MmMask) rev = mm_label_stack_read (dir, v, &err);
  g_assert_no_error (err);
  size_t sl = (size_t) v->dims[0] * v->dims[1];
  for (int k = 0; k < n; k++)
    g_assert_cmpmem (mm_mask_slice (rev, k), sl, mm_mask_slice (ph->truth, n - 1 - k), sl);

  /* No temporary files left behind. */
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  int files = 0;
  while ((name = g_dir_read_name (d)))
    {
      g_assert_null (strstr (name, ".tmp"));
      files++;
    }
  g_dir_close (d);
  g_assert_cmpint (files, ==, n + 1);
  mm_test_rm_rf (dir);
}

static void
test_label_stack_errors (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 5, 1, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test");
  g_autoptr (GError) err = NULL;
  mm_test_expect_stack_error (dir, NULL, "manifest.json");
  g_assert_true (mm_label_stack_write (dir, ph->truth, ph->volume, NULL, 0, &err));

  /* A first write into an empty folder is generation 1. */
  g_autofree char *name2
      = mm_label_stack_file_name_gen (2, 5, ph->volume->slices[2].instance_number, 1);
  g_autofree char *p2 = g_build_filename (dir, name2, NULL);
  g_autofree char *p2_away = g_strconcat (p2, ".away", NULL);

  /* Missing PNG. */
  g_assert_cmpint (g_rename (p2, p2_away), ==, 0);
  mm_test_expect_stack_error (dir, NULL, name2);
  mm_test_expect_stack_error (dir, NULL, "missing");
  g_assert_cmpint (g_rename (p2_away, p2), ==, 0);

  /* Mis-sized PNG. */
  uint8_t small[8 * 8] = { 0 };
  g_assert_true (mm_png_write_gray8 (p2, small, 8, 8, false, &err));
  mm_test_expect_stack_error (dir, NULL, "8 x 8");
  /* Not binary. */
  g_autofree uint8_t *grey = g_malloc0 (32 * 32);
  grey[5] = 17;
  g_assert_true (mm_png_write_gray8 (p2, grey, 32, 32, false, &err));
  mm_test_expect_stack_error (dir, NULL, "value 17");
  grey[5] = 0;
  g_assert_true (mm_png_write_gray8 (p2, grey, 32, 32, false, &err));

  /* Misnamed: the manifest names slice 3's file for slice 3 under another name. */
  g_autofree char *manifest = g_build_filename (dir, "manifest.json", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (manifest, &text, NULL, NULL));
  /* A first write into an empty folder is generation 1. */
  g_autofree char *name3
      = mm_label_stack_file_name_gen (3, 5, ph->volume->slices[3].instance_number, 1);
  GString *bad = g_string_new (text);
  g_string_replace (bad, name3, "slice3.png", 1);
  g_assert_true (g_file_set_contents (manifest, bad->str, -1, NULL));
  g_string_free (bad, TRUE);
  mm_test_expect_stack_error (dir, NULL, "misnamed");

  /* An empty manifest: json-glib parses it without a root node, which the reader took for
   * a node (a critical, fatal in the tests); found by fuzz-label-manifest. The JSON loader
   * refuses it first, saying so. */
  g_assert_true (g_file_set_contents (manifest, "", 0, NULL));
  mm_test_expect_stack_error (dir, NULL, "empty");
  double spacing[3];
  g_assert_false (mm_label_stack_read_geometry (dir, spacing, NULL, &err));
  g_assert_nonnull (strstr (err->message, manifest));
  g_clear_error (&err);
  g_assert_true (g_file_set_contents (manifest, text, -1, NULL));

  /* A series of another size. */
  g_autoptr (MmPhantom) other = mm_test_phantom (32, 6, 1, 0, 0);
  mm_test_expect_stack_error (dir, other->volume, "32 x 32 x 5");
  mm_test_rm_rf (dir);
}

/* A manifest whose members hold other JSON types than the writer gives them (hand-edited or
 * hostile): refused with an error naming what is wrong, never a GLib critical (json-glib's
 * getters emit one for a member of another type; fatal in the tests). Found by
 * fuzz-label-manifest. */
static void
test_label_stack_wrong_types (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 3, 1, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_label_stack_write (dir, ph->truth, ph->volume, NULL, 0, &err));
  g_autofree char *manifest = g_build_filename (dir, "manifest.json", NULL);
  g_autofree char *good = NULL;
  g_assert_true (g_file_get_contents (manifest, &good, NULL, NULL));
  static const struct
  {
    bool in_slice; /* the member of the second "slices" entry, else of the manifest */
    const char *member, *json, *needle;
  } cases[] = {
    { false, "format", "{}", "not a Metalmark label stack manifest" },
    { false, "version", "[1]", "unsupported label stack version" },
    { false, "dims", "5", "lacks \"dims\"" },
    { false, "dims", "[\"32\", 32, 3]", "\"dims\" [0] is not positive" },
    { false, "slices", "{}", "lacks \"dims\" or \"slices\"" },
    { false, "slices", "[1, 2, 3]", "not an object" },
    { true, "index", "\"1\"", "valid index" },
    { true, "file", "7", "valid index or file" },
    { true, "instance_number", "\"2\"", "instance_number" },
    { true, "instance_number", "{}", "instance_number" },
    { true, "sop_instance_uid", "[]", "not a slice of this series" },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_assert_true (json_parser_load_from_data (parser, good, -1, NULL));
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      if (cases[c].in_slice)
        o = json_array_get_object_element (json_object_get_array_member (o, "slices"), 1);
      json_object_set_member (o, cases[c].member, json_from_string (cases[c].json, NULL));
      g_autofree char *bad = json_to_string (json_parser_get_root (parser), FALSE);
      g_assert_true (g_file_set_contents (manifest, bad, -1, NULL));
      g_test_message ("%s", bad);
      mm_test_expect_stack_error (dir, ph->volume, cases[c].needle);
    }
  g_assert_true (g_file_set_contents (manifest, good, -1, NULL));

  /* The geometry reader: "spacing_mm" of strings. */
  g_autoptr (MmMask) ok = mm_label_stack_read (dir, ph->volume, &err);
  g_assert_no_error (err);
  GString *bad = g_string_new (good);
  g_assert_cmpuint (g_string_replace (bad, "\"spacing_mm\" : [", "\"spacing_mm\" : [\"1\", ", 1), ==, 1);
  g_assert_true (g_file_set_contents (manifest, bad->str, -1, NULL));
  g_string_free (bad, TRUE);
  double spacing[3];
  g_assert_false (mm_label_stack_read_geometry (dir, spacing, NULL, &err));
  g_assert_nonnull (strstr (err->message, "spacing_mm"));
  mm_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/label-stack/round-trip", test_label_stack_round_trip);
  g_test_add_func ("/core/label-stack/errors", test_label_stack_errors);
  g_test_add_func ("/core/label-stack/wrong-types", test_label_stack_wrong_types);
  return g_test_run ();
}
