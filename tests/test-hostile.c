/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Hostile names and files around the writers: DICOM values reduced to safe names, outputs
 * that are links or devices refused, a journal that survives a long UID and damage in its
 * middle, label stacks that are all old or all new. */
#include "mm-test-util.h"
#include "mm-atomic.h"
#include "mm-journal.h"
#include "mm-label-stack.h"
#include "mm-path.h"
#include "mm-phantom.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- safe names ---- */

/* A name is safe when it is one non-empty component, not "." or "..", not hidden, of
 * printable ASCII without '/', and short enough for any file system. */
static void
assert_safe (const char *name)
{
  g_assert_nonnull (name);
  size_t n = strlen (name);
  g_assert_cmpuint (n, >, 0);
  g_assert_cmpuint (n, <=, MM_SAFE_NAME_MAX);
  g_assert_cmpint (name[0], !=, '.');
  for (size_t i = 0; i < n; i++)
    {
      g_assert_true (g_ascii_isalnum (name[i]) || strchr ("-_.", name[i]));
    }
}

static void
test_safe_name (void)
{
  /* A real UID is kept as it is: project folders of existing series keep their names. */
  const char *uid = "1.2.826.0.1.3680043.8.498.12345678901234567890123456789012345678";
  g_autofree char *same = mm_safe_name (uid, -1);
  g_assert_cmpstr (same, ==, uid);

  const char *bad[] = { "..", ".", "../../../../x", "/etc/passwd", "a/b", "a\\b", "",
                        ".hidden", "tab\there", "esc\033[2Jx", "caf\xc3\xa9", "-" };
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      char *s = mm_safe_name (bad[i], -1);
      assert_safe (s);
      g_assert_null (strchr (s, '/'));
      g_assert_cmpstr (s, !=, "..");
      /* Different values, different names. */
      g_assert_false (g_hash_table_contains (seen, s));
      g_hash_table_add (seen, s);
    }
  g_autofree char *empty = mm_safe_name ("", -1), *null = mm_safe_name (NULL, -1);
  g_assert_cmpstr (empty, ==, "unknown");
  g_assert_cmpstr (null, ==, "unknown");

  /* NUL inside a value (the length says where it ends): replaced, the rest not lost. */
  g_autofree char *nul1 = mm_safe_name ("1.2\0../x", 8), *nul2 = mm_safe_name ("1.2\0../y", 8);
  assert_safe (nul1);
  g_assert_true (g_str_has_prefix (nul1, "1.2_.._x-"));
  g_assert_cmpstr (nul1, !=, nul2);
  /* "a/b" and "a_b" must not share a folder. */
  g_autofree char *slash = mm_safe_name ("a/b", -1), *under = mm_safe_name ("a_b", -1);
  g_assert_cmpstr (under, ==, "a_b");
  g_assert_cmpstr (slash, !=, under);

  /* Very long: a readable prefix and a hash; two values differing at the end differ. */
  GString *a = g_string_new (NULL);
  for (int i = 0; i < 2000; i++)
    g_string_append_c (a, '0' + i % 10);
  g_autofree char *la = mm_safe_name (a->str, -1);
  a->str[1999] = 'x';
  g_autofree char *lb = mm_safe_name (a->str, -1);
  assert_safe (la);
  assert_safe (lb);
  g_assert_true (g_str_has_prefix (la, "0123456789"));
  g_assert_cmpstr (la, !=, lb);
  g_string_free (a, TRUE);

  /* The name works as a folder under a base and stays in it. */
  g_autofree char *base = mm_test_tmp_dir ("mm-test-hostile");
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *s = mm_safe_name (bad[i], -1);
      g_autofree char *path = g_build_filename (base, s, NULL);
      g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
      g_autofree char *parent = g_path_get_dirname (path);
      g_assert_cmpstr (parent, ==, base);
    }
  g_autofree char *lpath = g_build_filename (base, la, NULL);
  g_assert_cmpint (g_mkdir (lpath, 0755), ==, 0);
  mm_test_rm_rf (base);
}

/* The app's project folder for a series whose parent is read-only (a CD copy) and whose UID
 * is hostile: under $XDG_DATA_HOME/metalmark/projects, never above it. */
static void
test_project_dir (void)
{
  g_autofree char *base = mm_test_tmp_dir ("mm-test-hostile");
  g_autofree char *ro = g_build_filename (base, "cd", NULL);
  g_autofree char *series = g_build_filename (ro, "series", NULL);
  g_assert_cmpint (g_mkdir_with_parents (series, 0755), ==, 0);
  g_assert_cmpint (g_chmod (ro, 0555), ==, 0);
  g_autofree char *projects
      = g_build_filename (g_get_user_data_dir (), "metalmark", "projects", NULL);
  const char *uids[] = { "../../../../x", "/etc", "..", "", NULL };
  for (guint i = 0; i < G_N_ELEMENTS (uids); i++)
    {
      g_autofree char *dir = mm_project_dir_for (series, uids[i]);
      g_autofree char *parent = g_path_get_dirname (dir);
      g_autofree char *canon = g_canonicalize_filename (dir, NULL);
      g_assert_cmpstr (parent, ==, projects);
      g_assert_cmpstr (canon, ==, dir);
    }
  /* A real UID keeps its name; a writable parent gets the folder beside the series. */
  g_autofree char *real = mm_project_dir_for (series, "1.2.3.4");
  g_autofree char *want = g_build_filename (projects, "1.2.3.4", NULL);
  g_assert_cmpstr (real, ==, want);
  g_assert_cmpint (g_chmod (ro, 0755), ==, 0);
  g_autofree char *beside = mm_project_dir_for (series, "../../../../x");
  g_autofree char *want2 = g_strconcat (series, ".metalmark", NULL);
  g_assert_cmpstr (beside, ==, want2);
  mm_test_rm_rf (base);
}

/* ---- outputs that are not regular files ---- */

static void
test_atomic_refuses (void)
{
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-hostile");
  g_autofree char *outside = g_build_filename (dir, "outside.txt", NULL);
  g_autofree char *link = g_build_filename (dir, "out.png", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo.png", NULL);
  g_autofree char *sub = g_build_filename (dir, "sub.png", NULL);
  g_autofree char *plain = g_build_filename (dir, "plain.png", NULL);
  g_assert_true (g_file_set_contents (outside, "precious", -1, NULL));
  g_assert_cmpint (symlink (outside, link), ==, 0);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);

  const char *targets[] = { link, fifo, sub };
  for (guint t = 0; t < G_N_ELEMENTS (targets); t++)
    {
      g_autoptr (GError) err = NULL;
      g_assert_false (mm_atomic_write (targets[t], "new", 3, false, &err));
      g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
      g_assert_nonnull (strstr (err->message, targets[t]));
      g_clear_error (&err);
      /* The batch half: prepared while the name was free, refused at commit. */
      g_autofree char *tmp = NULL;
      g_assert_false (mm_atomic_prepare (targets[t], "new", 3, &tmp, &err));
    }
  GStatBuf st;
  g_assert_cmpint (g_lstat (link, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));
  g_assert_cmpint (g_lstat (fifo, &st), ==, 0);
  g_assert_true (S_ISFIFO (st.st_mode));
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (outside, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "precious");

  /* A link planted between prepare and commit is refused too, and the temporary removed. */
  g_autoptr (GError) err = NULL;
  g_autofree char *tmp = NULL;
  g_assert_true (mm_atomic_prepare (plain, "new", 3, &tmp, &err));
  g_assert_cmpint (symlink (outside, plain), ==, 0);
  g_assert_false (mm_atomic_commit (tmp, plain, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
  g_clear_error (&err);
  g_unlink (plain);

  /* A regular file is replaced as before. */
  g_assert_true (g_file_set_contents (plain, "old", -1, NULL));
  g_assert_true (mm_atomic_write (plain, "new", 3, false, &err));
  g_assert_no_error (err);
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (plain, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "new");
  mm_test_rm_rf (dir);
}

/* ---- journal ---- */

static void
test_journal_symlink (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (24, 4, 1, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-hostile");
  g_autofree char *other = mm_test_tmp_dir ("mm-test-hostile");
  g_autofree char *jpath = g_build_filename (dir, MM_JOURNAL_FILE, NULL);
  g_autofree char *target = g_build_filename (other, "victim.bin", NULL);

  /* A genuine journal of this series, with a torn tail, elsewhere: opened through a link,
   * the old code cut the link's target. */
  {
    g_autoptr (MmMask) m = mm_mask_new (ph->volume->dims);
    MmJournal *j = mm_test_journal_open (other, ph->volume, m, NULL);
    mm_test_draw_disc (m, 1, 10, 10, 5, 1);
    int k = 1;
    mm_test_journal_append (j, &k, 1);
    mm_journal_close (j);
    g_autofree char *src = g_build_filename (other, MM_JOURNAL_FILE, NULL);
    g_autofree char *bytes = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
    g_autofree char *torn = g_malloc (len + 7);
    memcpy (torn, bytes, len);
    memcpy (torn + len, "garbage", 7);
    g_assert_true (g_file_set_contents (target, torn, len + 7, NULL));
    g_unlink (src);
  }
  goffset before = mm_test_file_size (target);
  g_assert_cmpint (symlink (target, jpath), ==, 0);
  g_autoptr (MmMask) m = mm_mask_new (ph->volume->dims);
  g_autoptr (GError) err = NULL;
  MmJournal *j = mm_journal_open (dir, ph->volume, m, NULL, &err);
  g_assert_null (j);
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_assert_nonnull (strstr (err->message, jpath));
  g_assert_cmpint (mm_test_file_size (target), ==, before);

  /* The project folder itself a link (shipped beside a series): refused, nothing written
   * where it points. */
  g_autofree char *proj = g_build_filename (dir, "series.metalmark", NULL);
  g_autofree char *away = mm_test_tmp_dir ("mm-test-hostile");
  g_assert_cmpint (symlink (away, proj), ==, 0);
  g_clear_error (&err);
  g_assert_null (mm_journal_open (proj, ph->volume, m, NULL, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_assert_nonnull (strstr (err->message, proj));
  g_autoptr (GDir) d = g_dir_open (away, 0, NULL);
  g_assert_null (g_dir_read_name (d));
  mm_test_rm_rf (away);
  mm_test_rm_rf (dir);
  mm_test_rm_rf (other);
}

/* A Series UID of 2000 characters: the app must still recognise its own journal. */
static void
test_journal_long_uid (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (24, 4, 1, 0, 0);
  g_free (ph->volume->series_uid);
  GString *uid = g_string_new ("1.2.3.");
  while (uid->len < 2000)
    g_string_append (uid, "4.");
  ph->volume->series_uid = g_string_free (uid, FALSE);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-hostile");
  g_autoptr (MmMask) m = mm_mask_new (ph->volume->dims);
  MmJournal *j = mm_test_journal_open (dir, ph->volume, m, NULL);
  mm_test_draw_disc (m, 2, 12, 12, 6, 1);
  int k = 2;
  mm_test_journal_append (j, &k, 1);
  mm_journal_close (j); /* the crash */

  g_autoptr (MmMask) again = mm_mask_new (ph->volume->dims);
  bool recovered = false;
  j = mm_test_journal_open (dir, ph->volume, again, &recovered);
  g_assert_true (recovered);
  g_assert_true (mm_mask_equal (again, m));
  mm_journal_close (j);

  /* And another series with the same first 1024 characters is still another series. */
  ph->volume->series_uid[1990] = '9';
  g_autoptr (GError) err = NULL;
  g_assert_null (mm_journal_open (dir, ph->volume, again, NULL, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  mm_test_rm_rf (dir);
}

#define N_GROUPS 10

/* Damage in the middle of a journal: the groups touched are skipped and counted, every
 * other group is applied. The truth: the slices each group wrote, kept aside. */
static void
test_journal_resync (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 8, 3, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-hostile");
  g_autofree char *jpath = g_build_filename (dir, MM_JOURNAL_FILE, NULL);
  g_autoptr (MmMask) m = mm_mask_new (ph->volume->dims);
  goffset ends[N_GROUPS + 1];
  int gk[N_GROUPS][2], gn[N_GROUPS];
  MmMask *after[N_GROUPS];

  MmJournal *j = mm_test_journal_open (dir, ph->volume, m, NULL);
  GRand *r = g_rand_new_with_seed (7);
  for (int g = 0; g < N_GROUPS; g++)
    {
      gn[g] = 1 + g % 2; /* one- and two-record groups */
      for (int t = 0; t < gn[g]; t++)
        {
          gk[g][t] = (g * 3 + t * 5) % m->dims[2];
          mm_test_draw_disc (m, gk[g][t], g_rand_int_range (r, 4, 28), g_rand_int_range (r, 4, 28),
                     g_rand_int_range (r, 2, 9), 1);
        }
      mm_test_journal_append (j, gk[g], gn[g]);
      after[g] = mm_mask_copy (m);
      ends[g + 1] = mm_test_file_size (jpath);
    }
  g_rand_free (r);
  mm_journal_close (j);
  g_autofree char *full = NULL;
  gsize full_len;
  g_assert_true (g_file_get_contents (jpath, &full, &full_len, NULL));
  /* The header: 32 bytes and the UID, whose length is at byte 24 (little endian). */
  const guint8 *u = (const guint8 *) full + 24;
  ends[0] = 32 + (u[0] | u[1] << 8 | u[2] << 16 | (guint32) u[3] << 24);
  g_assert_cmpint (ends[0], <, ends[1]);

  /* Flips: in a record's magic, its length, its body and its checksum, in one- and
   * two-record groups, and two at once. */
  struct { int groups[2]; int where; } cases[] = {
    { { 0, -1 }, 0 }, { { 1, -1 }, 5 }, { { 3, -1 }, -1 }, { { 4, -1 }, -2 },
    { { 5, -1 }, 40 }, { { 7, -1 }, -1 }, { { 2, 6 }, -1 },
    /* The end of group 4 and the first record of group 5 (of two): resync lands on the
     * second record of 5, which must not be applied without the first. */
    { { 4, 5 }, 0 },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *copy = g_memdup2 (full, full_len);
      bool lost[N_GROUPS] = { false };
      for (int t = 0; t < 2 && cases[c].groups[t] >= 0; t++)
        {
          int g = cases[c].groups[t];
          goffset at = cases[c].where >= 0   ? ends[g] + cases[c].where
                       : cases[c].where == -1 ? (ends[g] + ends[g + 1]) / 2
                                             : ends[g + 1] - 1;
          copy[at] ^= 0x04;
          lost[g] = true;
        }
      g_assert_true (g_file_set_contents (jpath, copy, full_len, NULL));

      /* The truth: each slice as the last surviving group that wrote it left it. */
      g_autoptr (MmMask) want = mm_mask_new (m->dims);
      int n_lost = 0, n_kept = 0;
      for (int g = 0; g < N_GROUPS; g++)
        {
          n_lost += lost[g];
          n_kept += !lost[g];
          if (!lost[g])
            for (int t = 0; t < gn[g]; t++)
              memcpy (mm_mask_slice (want, gk[g][t]), mm_mask_slice (after[g], gk[g][t]),
                      (size_t) m->dims[0] * m->dims[1]);
        }
      g_autoptr (MmMask) got = mm_mask_new (m->dims);
      bool recovered = false;
      j = mm_test_journal_open (dir, ph->volume, got, &recovered);
      g_assert_true (recovered);
      g_assert_cmpint (mm_journal_get_n_recovered (j), ==, n_kept);
      g_assert_cmpint (mm_journal_get_n_lost (j), ==, n_lost);
      g_assert_cmpuint (mm_journal_get_bytes_lost (j), >, 0);
      g_assert_true (mm_mask_equal (got, want));
      /* Appending after a damaged middle goes on the end and is found next time. */
      mm_test_draw_disc (got, 0, 16, 16, 3, 1);
      int k0 = 0;
      mm_test_journal_append (j, &k0, 1);
      mm_journal_close (j);
      g_autoptr (MmMask) again = mm_mask_new (m->dims);
      j = mm_test_journal_open (dir, ph->volume, again, NULL);
      g_assert_cmpint (mm_journal_get_n_recovered (j), ==, n_kept + 1);
      g_assert_cmpint (mm_journal_get_n_lost (j), ==, n_lost);
      g_assert_true (mm_mask_equal (again, got));
      mm_journal_close (j);
    }
  for (int g = 0; g < N_GROUPS; g++)
    mm_mask_free (after[g]);
  mm_test_rm_rf (dir);
}

/* ---- label stack generations ---- */

static int
count_files (const char *dir, const char *needle)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  int n = 0;
  const char *name;
  while ((name = g_dir_read_name (d)))
    n += needle == NULL || strstr (name, needle) != NULL;
  g_dir_close (d);
  return n;
}

static void
test_label_stack_generations (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (24, 5, 1, 0, 0);
  const MmVolume *vol = ph->volume;
  int n = vol->dims[2];
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-hostile");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_label_stack_write (dir, ph->truth, vol, NULL, 0, &err));
  g_assert_cmpint (count_files (dir, "-g1.png"), ==, n);

  /* Leftovers of killed runs: temporaries and a half-written generation 9. */
  const char *stale[] = { "mask-0001-g7.png.tmp-AB12CD", "manifest.json.tmp-XY34ZW",
                          "mask-0000-g9.png" };
  for (guint i = 0; i < G_N_ELEMENTS (stale); i++)
    {
      g_autofree char *p = g_build_filename (dir, stale[i], NULL);
      g_assert_true (g_file_set_contents (p, "junk", -1, NULL));
    }
  g_autofree char *mine = g_build_filename (dir, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (mine, "the user's", -1, NULL));

  g_assert_true (mm_label_stack_write (dir, ph->truth, vol, NULL, 0, &err));
  /* The next generation is past every one seen (10), the rest is gone, not the user's. */
  g_assert_cmpint (count_files (dir, "-g10.png"), ==, n);
  g_assert_cmpint (count_files (dir, NULL), ==, n + 2);
  g_assert_true (g_file_test (mine, G_FILE_TEST_EXISTS));
  g_autoptr (MmMask) back = mm_label_stack_read (dir, vol, &err);
  g_assert_no_error (err);
  g_assert_true (mm_mask_equal (back, ph->truth));

  /* A PNG of another generation under the manifest: refused, never mixed in. */
  g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (manifest, &text, NULL, NULL));
  g_autofree char *n2 = mm_label_stack_file_name_gen (2, n, vol->slices[2].instance_number, 10);
  g_autofree char *o2 = mm_label_stack_file_name_gen (2, n, vol->slices[2].instance_number, 9);
  g_autofree char *p2 = g_build_filename (dir, n2, NULL), *q2 = g_build_filename (dir, o2, NULL);
  g_assert_cmpint (g_rename (p2, q2), ==, 0);
  GString *mixed = g_string_new (text);
  g_string_replace (mixed, n2, o2, 1);
  g_assert_true (g_file_set_contents (manifest, mixed->str, -1, NULL));
  g_string_free (mixed, TRUE);
  mm_test_expect_stack_error (dir, vol, "misnamed");
  g_assert_cmpint (g_rename (q2, p2), ==, 0);
  g_assert_true (g_file_set_contents (manifest, text, -1, NULL));

  /* A slice PNG that is a link to a file elsewhere: not read. */
  g_autofree char *elsewhere = g_build_filename (g_get_tmp_dir (), "mm-hostile-elsewhere.png",
                                                 NULL);
  g_assert_cmpint (g_rename (p2, elsewhere), ==, 0);
  g_assert_cmpint (symlink (elsewhere, p2), ==, 0);
  mm_test_expect_stack_error (dir, vol, "not a regular file");
  g_unlink (p2);
  g_unlink (elsewhere);
  mm_test_rm_rf (dir);
}

/* A series with a SOP Instance UID twice and one without: its own stack and journal are
 * read back onto the right slices (they were refused, or replayed onto the twin). */
static void
test_duplicate_and_missing_uids (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (24, 6, 5, 0, 0);
  MmVolume *vol = ph->volume;
  g_free (vol->slices[2].sop_instance_uid);
  vol->slices[2].sop_instance_uid = g_strdup (vol->slices[1].sop_instance_uid);
  g_clear_pointer (&vol->slices[4].sop_instance_uid, g_free);

  g_autoptr (MmMask) m = mm_mask_new (vol->dims);
  for (int k = 0; k < vol->dims[2]; k++)
    mm_test_draw_disc (m, k, 4 + 3 * k, 12, 2 + k, 1); /* every slice different */
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-hostile");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_label_stack_write (dir, m, vol, NULL, 0, &err));
  g_autoptr (MmMask) back = mm_label_stack_read (dir, vol, &err);
  g_assert_no_error (err);
  g_assert_true (mm_mask_equal (back, m));

  /* Edits of both twins and of the slice without a UID, recovered after a crash. */
  g_autoptr (MmMask) edit = mm_mask_new (vol->dims);
  MmJournal *j = mm_test_journal_open (dir, vol, edit, NULL);
  g_assert_true (mm_mask_equal (edit, m));
  mm_test_draw_disc (edit, 1, 18, 18, 4, 1);
  mm_test_draw_disc (edit, 2, 6, 18, 3, 1);
  mm_test_draw_disc (edit, 4, 12, 4, 3, 1);
  const int ks[] = { 1, 2, 4 };
  mm_test_journal_append (j, ks, 3);
  mm_journal_close (j);
  g_autoptr (MmMask) again = mm_mask_new (vol->dims);
  j = mm_test_journal_open (dir, vol, again, NULL);
  g_assert_true (mm_mask_equal (again, edit));
  g_assert_true (mm_journal_fold (j, &err));
  mm_journal_close (j);
  g_autoptr (MmMask) folded = mm_label_stack_read (dir, vol, &err);
  g_assert_no_error (err);
  g_assert_true (mm_mask_equal (folded, edit));
  mm_test_rm_rf (dir);
}

/* ---- the autosave fold, killed at each step ---- */

#define FOLD_SIZE 24
#define FOLD_SLICES 6

static void
fold_before (MmMask *m)
{
  for (int k = 0; k < m->dims[2]; k++)
    mm_test_draw_disc (m, k, 8 + k, 12, 4, 1);
}

static const int fold_changed[] = { 1, 3, 4 };

static void
fold_after (MmMask *m)
{
  fold_before (m);
  mm_test_draw_disc (m, 1, 16, 16, 5, 1);
  mm_test_draw_disc (m, 3, 6, 18, 3, 1);
  mm_test_draw_disc (m, 4, 12, 12, 11, 0);
}

/* The child: open the folder (stack "before"), edit it into "after", append, and fold with
 * MM_TEST_KILL_AT_RENAME=kill_at. */
static int
fold_child (const char *dir, const char *kill_at)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (FOLD_SIZE, FOLD_SLICES, 4, 0, 0);
  g_autoptr (MmMask) m = mm_mask_new (ph->volume->dims);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmJournal) j = mm_journal_open (dir, ph->volume, m, NULL, &err);
  if (j == NULL)
    return 2;
  fold_after (m);
  if (!mm_journal_append (j, fold_changed, G_N_ELEMENTS (fold_changed), &err))
    return 3;
  g_setenv ("MM_TEST_KILL_AT_RENAME", kill_at, TRUE);
  return mm_journal_fold (j, &err) ? 0 : 4;
}

static void
test_fold_killed (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (FOLD_SIZE, FOLD_SLICES, 4, 0, 0);
  g_autoptr (MmMask) before = mm_mask_new (ph->volume->dims);
  g_autoptr (MmMask) after = mm_mask_new (ph->volume->dims);
  fold_before (before);
  fold_after (after);
  g_assert_false (mm_mask_equal (before, after));
  int steps = -1;
  for (int n = 1; n < 100 && steps < 0; n++)
    {
      g_autofree char *dir = mm_test_tmp_dir ("mm-test-hostile");
      g_autoptr (GError) err = NULL;
      g_assert_true (mm_label_stack_write (dir, before, ph->volume, NULL, 0, &err));
      pid_t pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          /* A fresh image, not a copy of this one with its OpenMP pool. */
          g_autofree char *arg = g_strdup_printf ("%d", n);
          execl ("/proc/self/exe", "test-hostile", "--fold-child", dir, arg, (char *) NULL);
          _exit (127);
        }
      int status;
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFEXITED (status));
      if (WEXITSTATUS (status) == 0)
        steps = n - 1;
      else
        g_assert_cmpint (WEXITSTATUS (status), ==, 137);

      /* The stack alone, as export and eval read it: wholly before or wholly after. */
      g_autoptr (MmMask) stack = mm_label_stack_read (dir, ph->volume, &err);
      g_assert_no_error (err);
      g_assert_true (mm_mask_equal (stack, before) || mm_mask_equal (stack, after));
      if (steps >= 0)
        g_assert_true (mm_mask_equal (stack, after));
      /* With the journal, as the app opens it: the edits are never lost. */
      g_autoptr (MmMask) opened = mm_mask_new (ph->volume->dims);
      MmJournal *j = mm_test_journal_open (dir, ph->volume, opened, NULL);
      g_assert_true (mm_mask_equal (opened, after));
      g_assert_true (mm_journal_fold (j, &err));
      mm_journal_close (j);
      g_autoptr (MmMask) folded = mm_label_stack_read (dir, ph->volume, &err);
      g_assert_true (folded && mm_mask_equal (folded, after));
      /* The fold after the crash cleaned what the killed one left. */
      g_assert_cmpint (count_files (dir, ".tmp-"), ==, 0);
      g_assert_cmpint (count_files (dir, ".png"), ==, FOLD_SLICES);
      mm_test_rm_rf (dir);
    }
  g_test_message ("the fold has %d commit steps", steps);
  g_assert_cmpint (steps, >=, (int) G_N_ELEMENTS (fold_changed) + 1);
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "--fold-child") == 0)
    return fold_child (argv[2], argv[3]);
  /* Before anything asks GLib for it (it is cached): the project dir test's XDG folder. */
  g_autofree char *xdg = g_dir_make_tmp ("mm-test-hostile-xdg-XXXXXX", NULL);
  g_setenv ("XDG_DATA_HOME", xdg, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/path/safe-name", test_safe_name);
  g_test_add_func ("/path/project-dir", test_project_dir);
  g_test_add_func ("/atomic/refuses-links-and-devices", test_atomic_refuses);
  g_test_add_func ("/journal/symlink-refused", test_journal_symlink);
  g_test_add_func ("/journal/long-series-uid", test_journal_long_uid);
  g_test_add_func ("/journal/resync-after-damage", test_journal_resync);
  g_test_add_func ("/label-stack/generations", test_label_stack_generations);
  g_test_add_func ("/label-stack/duplicate-and-missing-uids", test_duplicate_and_missing_uids);
  g_test_add_func ("/journal/fold-killed-at-each-step", test_fold_killed);
  int rc = g_test_run ();
  g_rmdir (xdg);
  return rc;
}
