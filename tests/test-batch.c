/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the batch bookkeeping (mm-batch.c): folder names from UIDs, shards, the Slurm
 * environment, parameter hashes, status states and atomic publication. */
#include "mm-test-util.h"
#include "mm-batch.h"

#include <glib/gstdio.h>
#include <string.h>

static void
test_folder_name (void)
{
  g_autofree char *ok = mm_batch_folder_name ("1.2.840.10008.5.1.4.1.1.2");
  g_assert_cmpstr (ok, ==, "1.2.840.10008.5.1.4.1.1.2");
  /* Anything that is not a valid UID is hashed: never a path from a DICOM value. */
  const char *bad[] = { "../../etc", "1.2/3", "", ".", "..", "1..2", "1.2.", ".1",
                        "1.2.3#2", "1 2", "a.b",
                        "1.2345678901234567890123456789012345678901234567890123456789012345" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *h = mm_batch_folder_name (bad[i]);
      g_assert_true (g_str_has_prefix (h, "h-"));
      g_assert_cmpuint (strlen (h), ==, 34);
      for (const char *c = h + 2; *c; c++)
        g_assert_true (g_ascii_isxdigit (*c));
    }
  /* Distinct values, distinct names; the same value, the same name. */
  g_autofree char *a = mm_batch_folder_name ("1.2.3#2");
  g_autofree char *b = mm_batch_folder_name ("1.2.3#3");
  g_autofree char *a2 = mm_batch_folder_name ("1.2.3#2");
  g_assert_cmpstr (a, !=, b);
  g_assert_cmpstr (a, ==, a2);
}

static void
test_shard_of (void)
{
  /* Stable: a known value (the first 16 hex digits of the SHA-256 of "1.2.3", from
   * GChecksum's hex string rather than the digest bytes), and every UID in exactly one shard. */
  g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "1.2.3", -1);
  g_autofree char *head = g_strndup (hex, 16);
  guint64 first = g_ascii_strtoull (head, NULL, 16);
  g_assert_cmpuint (mm_batch_shard_of ("1.2.3", 7), ==, first % 7);
  guint counts[4] = { 0 };
  for (int i = 0; i < 400; i++)
    {
      g_autofree char *uid = g_strdup_printf ("1.2.826.0.1.%d", i);
      guint k = mm_batch_shard_of (uid, 4);
      g_assert_cmpuint (k, <, 4);
      g_assert_cmpuint (mm_batch_shard_of (uid, 4), ==, k);
      counts[k]++;
    }
  /* Spread: 100 expected per shard; 50 is more than 5 standard deviations away. */
  for (int k = 0; k < 4; k++)
    g_assert_cmpuint (counts[k], >, 50);
  g_assert_cmpuint (mm_batch_shard_of ("anything", 1), ==, 0);
}

static void
test_parse_shard (void)
{
  guint k = 9, n = 9;
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_batch_parse_shard ("0/1", &k, &n, &err));
  g_assert_cmpuint (k, ==, 0);
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (mm_batch_parse_shard ("3/4", &k, &n, &err));
  g_assert_cmpuint (k, ==, 3);
  const char *bad[] = { "4/4", "1/0", "-1/4", "1/-4", "1", "1/2/3", "a/b", " 1/2", "1/2 ",
                        "", "0/1000001", "1/+2", "0x1/2" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&err);
      k = n = 9;
      g_assert_false (mm_batch_parse_shard (bad[i], &k, &n, &err));
      g_assert_nonnull (err);
      g_assert_nonnull (strstr (err->message, "--shard"));
      g_assert_cmpuint (k, ==, 9);
    }
}

static void
test_shard_env (void)
{
  guint k = 9, n = 9;
  g_autoptr (GError) err = NULL;
  char *none[] = { "PATH=/bin", NULL };
  g_assert_false (mm_batch_shard_from_env (none, &k, &n, &err));
  g_assert_null (err);
  char *zero[] = { "SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_COUNT=4",
                   "SLURM_ARRAY_TASK_MIN=0", "SLURM_ARRAY_TASK_MAX=3", NULL };
  g_assert_true (mm_batch_shard_from_env (zero, &k, &n, &err));
  g_assert_cmpuint (k, ==, 2);
  g_assert_cmpuint (n, ==, 4);
  /* --array=1-4: task 1 is shard 0. */
  char *one[] = { "SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=4",
                  "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_MAX=4", NULL };
  g_assert_true (mm_batch_shard_from_env (one, &k, &n, &err));
  g_assert_cmpuint (k, ==, 0);
  /* A step or a list: task ids are not shards. */
  char *step[] = { "SLURM_ARRAY_TASK_ID=4", "SLURM_ARRAY_TASK_COUNT=3",
                   "SLURM_ARRAY_TASK_MIN=0", "SLURM_ARRAY_TASK_MAX=4", NULL };
  g_assert_false (mm_batch_shard_from_env (step, &k, &n, &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, "gaps or a step"));
  g_clear_error (&err);
  char *junk[] = { "SLURM_ARRAY_TASK_ID=x", "SLURM_ARRAY_TASK_COUNT=4", NULL };
  g_assert_false (mm_batch_shard_from_env (junk, &k, &n, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);
  char *past[] = { "SLURM_ARRAY_TASK_ID=4", "SLURM_ARRAY_TASK_COUNT=4", NULL };
  g_assert_false (mm_batch_shard_from_env (past, &k, &n, &err));
  g_assert_nonnull (err);
}

static void
test_params_hash (void)
{
  char *a[] = { "--threshold", "3000", NULL };
  char *b[] = { "--threshold", "2000", NULL };
  char *c[] = { "--threshold3000", NULL };
  g_autofree char *ha = mm_batch_params_hash ("segment", "1.0", a);
  g_autofree char *ha2 = mm_batch_params_hash ("segment", "1.0", a);
  g_autofree char *hb = mm_batch_params_hash ("segment", "1.0", b);
  g_autofree char *hc = mm_batch_params_hash ("segment", "1.0", c);
  g_autofree char *hv = mm_batch_params_hash ("segment", "1.1", a);
  g_autofree char *hi = mm_batch_params_hash ("info", "1.0", a);
  g_autofree char *hn = mm_batch_params_hash ("segment", "1.0", NULL);
  g_assert_cmpstr (ha, ==, ha2);
  g_assert_cmpstr (ha, !=, hb);
  g_assert_cmpstr (ha, !=, hc);
  g_assert_cmpstr (ha, !=, hv);
  g_assert_cmpstr (ha, !=, hi);
  g_assert_cmpstr (ha, !=, hn);
}

static void
test_inputs_hash (void)
{
  g_autofree char *dir = mm_test_tmp_dir ("mm-batch");
  g_autofree char *f = g_build_filename (dir, "a.dcm", NULL);
  g_assert_true (g_file_set_contents (f, "abc", -1, NULL));
  char *files[] = { f, NULL };
  g_autofree char *h1 = mm_batch_inputs_hash (files);
  g_autofree char *h1b = mm_batch_inputs_hash (files);
  g_assert_cmpstr (h1, ==, h1b);
  g_assert_true (g_file_set_contents (f, "abcd", -1, NULL)); /* another size */
  g_autofree char *h2 = mm_batch_inputs_hash (files);
  g_assert_cmpstr (h1, !=, h2);
  g_unlink (f);
  g_autofree char *h3 = mm_batch_inputs_hash (files); /* gone */
  g_assert_cmpstr (h3, !=, h2);
  mm_test_rm_rf (dir);
}

static void
test_index (void)
{
  g_autofree char *dir = mm_test_tmp_dir ("mm-batch");
  g_autofree char *path = g_build_filename (dir, "index.tsv", NULL);
  g_autoptr (GPtrArray) series = g_ptr_array_new_with_free_func (
    (GDestroyNotify) mm_batch_series_free);
  const char *uids[] = { "1.2.3", "1.2.3#2", "9" };
  for (int i = 0; i < 3; i++)
    {
      MmBatchSeries *bs = g_new0 (MmBatchSeries, 1);
      bs->uid = g_strdup (uids[i]);
      bs->files = g_new0 (char *, i + 2);
      for (int f = 0; f <= i; f++)
        bs->files[f] = g_strdup_printf ("/data/s %d/f-%d.dcm", i, f);
      bs->n_files = i + 1;
      g_ptr_array_add (series, bs);
    }
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_batch_index_write (path, series, &err));
  g_autoptr (GPtrArray) back = mm_batch_index_read (path, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (back->len, ==, 3);
  for (int i = 0; i < 3; i++)
    {
      MmBatchSeries *a = series->pdata[i], *b = back->pdata[i];
      g_assert_cmpstr (a->uid, ==, b->uid);
      g_assert_cmpuint (b->n_files, ==, (guint) i + 1);
      g_assert_true (g_strv_equal ((const char *const *) a->files,
                                   (const char *const *) b->files));
    }
  /* A path with a line break cannot be written (it would read back as two lines). */
  MmBatchSeries *bad = series->pdata[0];
  g_free (bad->files[0]);
  bad->files[0] = g_strdup ("/data/a\n1.2.9\t/etc/passwd");
  g_assert_false (mm_batch_index_write (path, series, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);
  /* Hostile or damaged index files: an error naming the file and line, no series. */
  const char *texts[] = {
    "",
    "1.2.3\t/a.dcm\n",
    "# metalmark batch index 1: series UID, tab, file path\n1.2.3 /a.dcm\n",
    "# metalmark batch index 1: series UID, tab, file path\n\t/a.dcm\n",
    "# metalmark batch index 1: series UID, tab, file path\n1.2.3\t\n",
    "# metalmark batch index 1: series UID, tab, file path\n1.2.3\t/a\t/b\n",
    "# metalmark batch index 1: series UID, tab, file path\n1.2.3\t/a.dcm",
    "# metalmark batch index 1: series UID, tab, file path\n1.2.3\t/\xff.dcm\n",
  };
  for (guint t = 0; t < G_N_ELEMENTS (texts); t++)
    {
      g_assert_true (g_file_set_contents (path, texts[t], -1, NULL));
      g_autoptr (GPtrArray) none = mm_batch_index_read (path, &err);
      g_assert_null (none);
      g_assert_nonnull (err);
      g_assert_nonnull (strstr (err->message, path));
      g_clear_error (&err);
    }
  mm_test_rm_rf (dir);
}

static JsonNode *
status_new (const char *state, const char *hash)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, state);
  json_builder_set_member_name (b, "parameters_hash");
  json_builder_add_string_value (b, hash);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static guint
count_entries (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return 0;
  guint n = 0;
  while (g_dir_read_name (d))
    n++;
  g_dir_close (d);
  return n;
}

static void
test_status_and_commit (void)
{
  g_autofree char *root = mm_test_tmp_dir ("mm-batch");
  g_autoptr (GError) err = NULL;
  g_assert_cmpint (mm_batch_state (root, "1.2.3", "H", NULL), ==, MM_BATCH_TODO);

  /* A task killed mid-series leaves its work folder: nothing looks done, and the next
   * begin for that series clears it. */
  g_autofree char *w1 = mm_batch_begin (root, "1.2.3", &err);
  g_assert_no_error (err);
  g_autofree char *half = g_build_filename (w1, "half.png", NULL);
  g_assert_true (g_file_set_contents (half, "x", 1, NULL));
  g_assert_cmpint (mm_batch_state (root, "1.2.3", "H", NULL), ==, MM_BATCH_TODO);
  g_autoptr (GPtrArray) none = mm_batch_list (root, &err);
  g_assert_cmpuint (none->len, ==, 0);
  g_autofree char *w2 = mm_batch_begin (root, "1.2.3", &err);
  g_assert_no_error (err);
  g_assert_false (g_file_test (w1, G_FILE_TEST_EXISTS));
  /* Another series' work folder is left alone. */
  g_autofree char *other = mm_batch_begin (root, "1.2.4", &err);
  g_assert_true (g_file_test (other, G_FILE_TEST_IS_DIR));

  g_autofree char *out = g_build_filename (w2, "out.txt", NULL);
  g_assert_true (g_file_set_contents (out, "first", -1, NULL));
  g_autoptr (JsonNode) s1 = status_new ("failed", "H");
  g_assert_true (mm_batch_commit (root, "1.2.3", w2, s1, &err));
  g_assert_no_error (err);
  g_assert_false (g_file_test (w2, G_FILE_TEST_EXISTS));
  g_assert_cmpint (mm_batch_state (root, "1.2.3", "H", NULL), ==, MM_BATCH_FAILED);
  g_assert_cmpint (mm_batch_state (root, "1.2.3", "G", NULL), ==, MM_BATCH_STALE);

  /* Done again over the failed folder: replaced whole, the old files gone. */
  g_autofree char *w3 = mm_batch_begin (root, "1.2.3", &err);
  g_autofree char *out3 = g_build_filename (w3, "new.txt", NULL);
  g_assert_true (g_file_set_contents (out3, "second", -1, NULL));
  g_autoptr (JsonNode) s2 = status_new ("done", "H");
  json_object_set_string_member (json_node_get_object (s2), "inputs_hash", "I");
  g_assert_true (mm_batch_commit (root, "1.2.3", w3, s2, &err));
  g_assert_cmpint (mm_batch_state (root, "1.2.3", "H", NULL), ==, MM_BATCH_DONE);
  g_autofree char *final = g_build_filename (root, "1.2.3", NULL);
  g_assert_cmpuint (count_entries (final), ==, 2); /* new.txt, status.json */
  g_autofree char *old_out = g_build_filename (final, "out.txt", NULL);
  g_assert_false (g_file_test (old_out, G_FILE_TEST_EXISTS));
  g_autofree char *partial = g_build_filename (root, MM_BATCH_PARTIAL_DIR, NULL);
  g_assert_cmpuint (count_entries (partial), ==, 1); /* only 1.2.4's work folder */

  /* The same options on changed input files: done again. */
  g_assert_cmpint (mm_batch_state (root, "1.2.3", "H", "I"), ==, MM_BATCH_DONE);
  g_assert_cmpint (mm_batch_state (root, "1.2.3", "H", "J"), ==, MM_BATCH_STALE);

  g_autoptr (GPtrArray) names = mm_batch_list (root, &err);
  g_assert_cmpuint (names->len, ==, 1);
  g_assert_cmpstr (names->pdata[0], ==, "1.2.3");

  /* A status.json that is not ours: not done. */
  g_autofree char *sp = g_build_filename (final, MM_BATCH_STATUS_FILE, NULL);
  g_assert_true (g_file_set_contents (sp, "{\"state\": \"done\"", -1, NULL));
  g_assert_cmpint (mm_batch_state (root, "1.2.3", "H", NULL), ==, MM_BATCH_TODO);
  g_assert_true (g_file_set_contents (sp, "[1]", -1, NULL));
  g_assert_cmpint (mm_batch_state (root, "1.2.3", "H", NULL), ==, MM_BATCH_TODO);
  mm_test_rm_rf (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/batch/folder-name", test_folder_name);
  g_test_add_func ("/core/batch/shard-of", test_shard_of);
  g_test_add_func ("/core/batch/parse-shard", test_parse_shard);
  g_test_add_func ("/core/batch/shard-env", test_shard_env);
  g_test_add_func ("/core/batch/params-hash", test_params_hash);
  g_test_add_func ("/core/batch/inputs-hash", test_inputs_hash);
  g_test_add_func ("/core/batch/status-commit", test_status_and_commit);
  g_test_add_func ("/core/batch/index", test_index);
  return g_test_run ();
}
