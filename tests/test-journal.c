/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the autosave journal (mm-journal.c) against crashes simulated by truncation and by
 * kill -9. */
#include "mm-test-util.h"
#include "mm-history.h"
#include "mm-journal.h"
#include "mm-label-stack.h"
#include "mm-phantom.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Deterministic edit number `group` of a sequence: one to three slices, a disc drawn or
 * erased on each; the slices are stored in ks (at most 3), their count returned. */
static int
apply_group (MmMask *m, guint64 seed, int group, int *ks)
{
  GRand *r = g_rand_new_with_seed ((guint32) (seed * 1000003u + (guint64) group));
  int n = g_rand_int_range (r, 1, 4);
  for (int t = 0; t < n; t++)
    {
      int k;
      bool dup;
      do
        {
          k = g_rand_int_range (r, 0, m->dims[2]);
          dup = false;
          for (int u = 0; u < t; u++)
            dup |= ks[u] == k;
        }
      while (dup);
      ks[t] = k;
      mm_test_draw_disc (m, k, g_rand_int_range (r, 0, m->dims[0]), g_rand_int_range (r, 0, m->dims[1]),
                 g_rand_int_range (r, 1, m->dims[0] / 3), g_rand_int_range (r, 0, 4) != 0);
    }
  g_rand_free (r);
  return n;
}

static void
test_journal_recover_and_fold (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 6, 1, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-edit");
  g_autofree char *jpath = g_build_filename (dir, MM_JOURNAL_FILE, NULL);
  g_autoptr (MmMask) edited = mm_mask_new (ph->volume->dims);
  bool recovered = true;

  MmJournal *j = mm_test_journal_open (dir, ph->volume, edited, &recovered);
  g_assert_false (recovered);
  g_assert_false (mm_journal_needs_fold (j));
  for (int g = 0; g < 20; g++)
    {
      int ks[3];
      int n = apply_group (edited, 11, g, ks);
      mm_test_journal_append (j, ks, n);
    }
  g_assert_true (mm_journal_needs_fold (j));
  /* The crash: no fold, the next session opens the folder with a fresh mask. */
  mm_journal_close (j);
  g_assert_true (g_file_test (jpath, G_FILE_TEST_EXISTS));

  g_autoptr (MmMask) again = mm_mask_new (ph->volume->dims);
  j = mm_test_journal_open (dir, ph->volume, again, &recovered);
  g_assert_true (recovered);
  g_assert_cmpint (mm_journal_get_n_recovered (j), ==, 20);
  g_assert_true (mm_mask_equal (again, edited));

  /* Fold: the stack holds everything, the journal is gone, nothing is "recovered" next. */
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_journal_fold (j, &err));
  g_assert_no_error (err);
  g_assert_false (g_file_test (jpath, G_FILE_TEST_EXISTS));
  g_assert_false (mm_journal_needs_fold (j));
  mm_journal_close (j);

  g_autoptr (MmMask) third = mm_mask_new (ph->volume->dims);
  j = mm_test_journal_open (dir, ph->volume, third, &recovered);
  g_assert_false (recovered);
  g_assert_true (mm_mask_equal (third, edited));
  g_autoptr (MmMask) from_stack = mm_label_stack_read (dir, ph->volume, &err);
  g_assert_no_error (err);
  g_assert_true (mm_mask_equal (from_stack, edited));

  /* More edits on top of the stack, folded one slice at a time (the manifest's counts
   * follow), then a crash with edits after the fold. */
  for (int g = 20; g < 26; g++)
    {
      int ks[3];
      int n = apply_group (third, 11, g, ks);
      mm_test_journal_append (j, ks, n);
      g_assert_true (mm_journal_fold (j, &err));
      g_assert_no_error (err);
    }
  int ks[3];
  int n = apply_group (third, 11, 26, ks);
  mm_test_journal_append (j, ks, n);
  mm_journal_close (j);

  g_autoptr (MmMask) fourth = mm_mask_new (ph->volume->dims);
  j = mm_test_journal_open (dir, ph->volume, fourth, &recovered);
  g_assert_true (recovered);
  g_assert_cmpint (mm_journal_get_n_recovered (j), ==, 1);
  g_assert_true (mm_mask_equal (fourth, third));
  g_assert_true (mm_journal_fold (j, &err));
  mm_journal_close (j);

  g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_assert_true (json_parser_load_from_file (parser, manifest, NULL));
  JsonArray *slices = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (parser)), "slices");
  for (int k = 0; k < third->dims[2]; k++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (slices, k),
                                                 "voxels"),
                     ==, (gint64) mm_mask_count_slice (third, k));
  mm_test_rm_rf (dir);
}

/* The frames of one multi-frame file share its SOP Instance UID: the journal and the label
 * stack must still put each slice's edits back on that slice, not on one of its siblings. */
static void
test_journal_multiframe (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 6, 1, 0, 0);
  MmVolume *vol = ph->volume;
  for (int k = 0; k < vol->dims[2]; k++)
    {
      g_free (vol->slices[k].sop_instance_uid);
      vol->slices[k].sop_instance_uid = g_strdup ("1.2.3.4.5");
      vol->slices[k].frame_number = vol->dims[2] - k; /* frames stored in reverse order */
    }
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-edit");
  g_autoptr (MmMask) edited = mm_mask_new (vol->dims);
  bool recovered = true;
  MmJournal *j = mm_test_journal_open (dir, vol, edited, &recovered);
  for (int g = 0; g < 12; g++)
    {
      int ks[3];
      int n = apply_group (edited, 5, g, ks);
      mm_test_journal_append (j, ks, n);
    }
  mm_journal_close (j); /* a crash: no fold */

  g_autoptr (MmMask) again = mm_mask_new (vol->dims);
  j = mm_test_journal_open (dir, vol, again, &recovered);
  g_assert_true (recovered);
  g_assert_true (mm_mask_equal (again, edited));
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_journal_fold (j, &err));
  g_assert_no_error (err);
  mm_journal_close (j);

  g_autoptr (MmMask) from_stack = mm_label_stack_read (dir, vol, &err);
  g_assert_no_error (err);
  g_assert_true (mm_mask_equal (from_stack, edited));
  mm_test_rm_rf (dir);
}

static void
test_journal_torn (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 6, 2, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-edit");
  g_autofree char *jpath = g_build_filename (dir, MM_JOURNAL_FILE, NULL);
  g_autoptr (MmMask) m = mm_mask_new (ph->volume->dims);
  g_autoptr (GPtrArray) states = g_ptr_array_new_with_free_func ((GDestroyNotify) mm_mask_free);
  goffset sizes[6];
  bool recovered;

  MmJournal *j = mm_test_journal_open (dir, ph->volume, m, &recovered);
  g_ptr_array_add (states, mm_mask_copy (m));
  for (int g = 0; g < 6; g++)
    {
      int ks[3];
      int n = apply_group (m, 5, g, ks);
      if (g == 5)
        {
          /* The last group spans three slices, so a cut inside it has whole records of it
           * before the cut. */
          ks[0] = 0, ks[1] = 2, ks[2] = 4, n = 3;
          for (int t = 0; t < 3; t++)
            mm_test_draw_disc (m, ks[t], 16, 16, 9, 1);
        }
      mm_test_journal_append (j, ks, n);
      g_ptr_array_add (states, mm_mask_copy (m));
      sizes[g] = mm_test_file_size (jpath);
    }
  mm_journal_close (j);
  g_autofree char *full = NULL;
  gsize full_len;
  g_assert_true (g_file_get_contents (jpath, &full, &full_len, NULL));

  /* Cuts: a few bytes off the end, the middle of the last group, a bit flipped in it. */
  for (int c = 0; c < 3; c++)
    {
      g_autofree char *copy = g_memdup2 (full, full_len);
      gsize len = full_len;
      if (c == 0)
        len -= 3;
      else if (c == 1)
        len = sizes[4] + (sizes[5] - sizes[4]) * 2 / 3;
      else
        copy[sizes[4] + (sizes[5] - sizes[4]) / 2] ^= 0x10;
      g_assert_true (g_file_set_contents (jpath, copy, len, NULL));

      g_autoptr (MmMask) r = mm_mask_new (ph->volume->dims);
      j = mm_test_journal_open (dir, ph->volume, r, &recovered);
      g_assert_true (recovered);
      g_assert_cmpint (mm_journal_get_n_recovered (j), ==, 5);
      g_assert_true (mm_mask_equal (r, states->pdata[5]));
      /* The torn tail is cut, so what comes next is found on the next recovery. A flipped
       * bit in a complete group is not a torn write: the group is reported lost, and the
       * file is kept whole (a resync needs no cut). */
      g_assert_cmpint (mm_journal_get_n_lost (j), ==, c == 2);
      g_assert_cmpint (mm_test_file_size (jpath), ==, c == 2 ? (goffset) full_len : sizes[4]);
      int ks[3];
      int n = apply_group (r, 99, c, ks);
      mm_test_journal_append (j, ks, n);
      mm_journal_close (j);

      g_autoptr (MmMask) r2 = mm_mask_new (ph->volume->dims);
      j = mm_test_journal_open (dir, ph->volume, r2, &recovered);
      g_assert_cmpint (mm_journal_get_n_recovered (j), ==, 6);
      g_assert_cmpint (mm_journal_get_n_lost (j), ==, c == 2);
      g_assert_true (mm_mask_equal (r2, r));
      mm_journal_close (j);
    }
  mm_test_rm_rf (dir);
}

static void
test_journal_foreign (void)
{
  g_autoptr (MmPhantom) a = mm_test_phantom (32, 6, 1, 0, 0);
  g_autoptr (MmPhantom) b = mm_test_phantom (32, 6, 2, 0, 0);
  g_autoptr (MmPhantom) c = mm_test_phantom (32, 8, 1, 0, 0); /* same series UID, other size */
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-edit");
  g_autofree char *jpath = g_build_filename (dir, MM_JOURNAL_FILE, NULL);
  g_autoptr (MmMask) m = mm_mask_new (a->volume->dims);
  bool recovered;

  MmJournal *j = mm_test_journal_open (dir, a->volume, m, &recovered);
  int ks[3];
  int n = apply_group (m, 1, 0, ks);
  mm_test_journal_append (j, ks, n);
  mm_journal_close (j);
  g_autofree char *before = NULL;
  gsize before_len;
  g_assert_true (g_file_get_contents (jpath, &before, &before_len, NULL));

  const MmPhantom *others[2] = { b, c };
  for (int o = 0; o < 2; o++)
    {
      g_autoptr (MmMask) other = mm_mask_new (others[o]->volume->dims);
      mm_test_draw_disc (other, 1, 10, 10, 5, 1);
      g_autoptr (MmMask) other_before = mm_mask_copy (other);
      g_autoptr (GError) err = NULL;
      recovered = true;
      j = mm_journal_open (dir, others[o]->volume, other, &recovered, &err);
      g_assert_null (j);
      g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (err->message, jpath));
      g_assert_nonnull (strstr (err->message, "another series"));
      g_assert_false (recovered);
      g_assert_true (mm_mask_equal (other, other_before));
      g_autofree char *after = NULL;
      gsize after_len;
      g_assert_true (g_file_get_contents (jpath, &after, &after_len, NULL));
      g_assert_cmpmem (before, before_len, after, after_len);
    }

  /* Its own series still gets its edits back. */
  g_autoptr (MmMask) r = mm_mask_new (a->volume->dims);
  j = mm_test_journal_open (dir, a->volume, r, &recovered);
  g_assert_true (recovered);
  g_assert_true (mm_mask_equal (r, m));
  mm_journal_close (j);
  mm_test_rm_rf (dir);
}

/* The same series with its slices in the opposite order (as another sort would give). */
static MmVolume *
reversed_volume (const MmVolume *vol)
{
  MmVolume *r = mm_volume_new (vol->dims, vol->type);
  int n = vol->dims[2];
  size_t slice = mm_volume_slice_voxels (vol) * sizeof (int16_t);
  for (int k = 0; k < n; k++)
    {
      r->slices[k] = vol->slices[n - 1 - k];
      r->slices[k].file = g_strdup (vol->slices[n - 1 - k].file);
      r->slices[k].sop_instance_uid = g_strdup (vol->slices[n - 1 - k].sop_instance_uid);
      memcpy ((char *) r->voxels + k * slice, (const char *) vol->voxels + (n - 1 - k) * slice,
              slice);
    }
  r->series_uid = g_strdup (vol->series_uid);
  memcpy (r->spacing, vol->spacing, sizeof r->spacing);
  memcpy (r->direction, vol->direction, sizeof r->direction);
  for (int a = 0; a < 3; a++)
    r->direction[6 + a] = -vol->direction[6 + a];
  return r;
}

/* a with its slices in the opposite order equals b. */
static bool
reversed_equal (const MmMask *a, const MmMask *b)
{
  int n = a->dims[2];
  for (int k = 0; k < n; k++)
    if (memcmp (mm_mask_slice (a, k), mm_mask_slice (b, n - 1 - k),
                (size_t) a->dims[0] * a->dims[1]) != 0)
      return false;
  return true;
}

static void
test_journal_reordered (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 6, 4, 0, 0);
  g_autoptr (MmVolume) rev = reversed_volume (ph->volume);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-edit");
  g_autoptr (MmMask) m = mm_mask_new (ph->volume->dims);
  g_autoptr (GError) err = NULL;
  bool recovered;

  MmJournal *j = mm_test_journal_open (dir, ph->volume, m, &recovered);
  for (int g = 0; g < 8; g++)
    {
      int ks[3];
      int n = apply_group (m, 4, g, ks);
      mm_test_journal_append (j, ks, n);
    }
  mm_journal_close (j);

  /* Recovered onto the series sorted the other way: each record finds its slice by UID. */
  g_autoptr (MmMask) r = mm_mask_new (rev->dims);
  j = mm_test_journal_open (dir, rev, r, &recovered);
  g_assert_true (recovered);
  g_assert_true (reversed_equal (r, m));
  /* Folded in that order: the stack is written whole. */
  g_assert_true (mm_journal_fold (j, &err));
  g_assert_no_error (err);
  mm_journal_close (j);

  /* Read back in the original order, edited, folded: the stack is in the other order, so it
   * is rewritten whole again, and reads back right both ways. */
  g_autoptr (MmMask) o = mm_mask_new (ph->volume->dims);
  j = mm_test_journal_open (dir, ph->volume, o, &recovered);
  g_assert_false (recovered);
  g_assert_true (mm_mask_equal (o, m));
  int ks[3];
  int n = apply_group (o, 4, 100, ks);
  mm_test_journal_append (j, ks, n);
  g_assert_true (mm_journal_fold (j, &err));
  g_assert_no_error (err);
  mm_journal_close (j);

  g_autoptr (MmMask) o2 = mm_mask_new (ph->volume->dims);
  j = mm_test_journal_open (dir, ph->volume, o2, &recovered);
  g_assert_true (mm_mask_equal (o2, o));
  mm_journal_close (j);
  g_autoptr (MmMask) r2 = mm_mask_new (rev->dims);
  j = mm_test_journal_open (dir, rev, r2, &recovered);
  g_assert_true (reversed_equal (r2, o));
  mm_journal_close (j);
  mm_test_rm_rf (dir);
}

static void
test_journal_lock (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 4, 1, 0, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-test-edit");
  g_autoptr (MmMask) m1 = mm_mask_new (ph->volume->dims);
  g_autoptr (MmMask) m2 = mm_mask_new (ph->volume->dims);
  g_autoptr (GError) err = NULL;
  MmJournal *j1 = mm_test_journal_open (dir, ph->volume, m1, NULL);
  MmJournal *j2 = mm_journal_open (dir, ph->volume, m2, NULL, &err);
  g_assert_null (j2);
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_BUSY);
  mm_journal_close (j1);
  j2 = mm_test_journal_open (dir, ph->volume, m2, NULL);
  mm_journal_close (j2);
  mm_test_rm_rf (dir);
}

/* ---- kill -9 ---- */

#define KILL_SEED 77
#define KILL_SIZE 32
#define KILL_SLICES 6

/* The child: edit and append group after group, acknowledging each on ack_fd once
 * mm_journal_append has returned, until killed. */
static int
journal_child (const char *dir, int ack_fd)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (KILL_SIZE, KILL_SLICES, KILL_SEED, 0, 0);
  g_autoptr (MmMask) m = mm_mask_new (ph->volume->dims);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmJournal) j = mm_journal_open (dir, ph->volume, m, NULL, &err);
  if (j == NULL)
    return 2;
  for (int g = 0; g < 1000000; g++)
    {
      int ks[3];
      int n = apply_group (m, KILL_SEED, g, ks);
      if (!mm_journal_append (j, ks, n, &err))
        return 3;
      if (write (ack_fd, &g, sizeof g) != sizeof g)
        return 4;
    }
  return 0;
}

static void
test_journal_kill9 (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (KILL_SIZE, KILL_SLICES, KILL_SEED, 0, 0);
  GRand *rng = g_rand_new_with_seed (g_test_rand_int ());

  for (int round = 0; round < 5; round++)
    {
      g_autofree char *dir = mm_test_tmp_dir ("mm-test-edit");
      int fds[2];
      g_assert_cmpint (pipe (fds), ==, 0);
      pid_t pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          /* A fresh image, not a copy of this one with its OpenMP pool and test state. */
          close (fds[0]);
          g_autofree char *fd_arg = g_strdup_printf ("%d", fds[1]);
          execl ("/proc/self/exe", "test-journal", "--journal-child", dir, fd_arg, (char *) NULL);
          _exit (127);
        }
      close (fds[1]);

      int target = g_rand_int_range (rng, 1, 60), acked = 0, g;
      while (acked < target && read (fds[0], &g, sizeof g) == sizeof g)
        {
          g_assert_cmpint (g, ==, acked);
          acked++;
        }
      g_assert_cmpint (acked, ==, target); /* the child is still appending */
      g_usleep (g_rand_int_range (rng, 0, 3000));
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      int status;
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
      while (read (fds[0], &g, sizeof g) == sizeof g)
        acked++;
      close (fds[0]);

      /* Every acknowledged group is back, at most one more, and never part of one. */
      g_autoptr (MmMask) r = mm_mask_new (ph->volume->dims);
      bool recovered;
      MmJournal *j = mm_test_journal_open (dir, ph->volume, r, &recovered);
      int got = mm_journal_get_n_recovered (j);
      g_test_message ("round %d: killed after %d acknowledged groups, %d recovered", round,
                      acked, got);
      g_assert_cmpint (got, >=, acked);
      g_assert_cmpint (got, <=, acked + 1);
      g_assert_true (recovered == (got > 0));
      g_autoptr (MmMask) want = mm_mask_new (ph->volume->dims);
      for (int p = 0; p < got; p++)
        {
          int ks[3];
          apply_group (want, KILL_SEED, p, ks);
        }
      g_assert_true (mm_mask_equal (r, want));
      mm_journal_close (j);
      mm_test_rm_rf (dir);
    }
  g_rand_free (rng);
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "--journal-child") == 0)
    return journal_child (argv[2], atoi (argv[3]));

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/journal/recover-and-fold", test_journal_recover_and_fold);
  g_test_add_func ("/journal/multiframe-shared-uid", test_journal_multiframe);
  g_test_add_func ("/journal/torn-record", test_journal_torn);
  g_test_add_func ("/journal/other-series-refused", test_journal_foreign);
  g_test_add_func ("/journal/reordered-series", test_journal_reordered);
  g_test_add_func ("/journal/folder-lock", test_journal_lock);
  g_test_add_func ("/journal/kill-9", test_journal_kill9);
  return g_test_run ();
}
