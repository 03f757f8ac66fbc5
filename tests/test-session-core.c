/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The core parts of the app's mask session: the threshold suggestion on hand-built
 * histograms, the mask summary against a naive flood fill, replace and clear with the slices
 * they report, the volume copy, and the project-folder rule. */
#include "mm-test-util.h"
#include "mm-edit.h"
#include "mm-mask-session.h"
#include "mm-mask-summary.h"
#include "mm-label-stack.h"
#include "mm-path.h"
#include "mm-threshold.h"
#include "mm-journal.h"

#include <glib/gstdio.h>
#include <string.h>

/* ---- threshold suggestion ---- */

/* Statistics with a histogram from -1024 to top HU, every bin holding fill voxels, and the
 * bins given by (hu, count) pairs set to count. */
static MmStats *
stats_with (int top, uint64_t fill, const int *pairs, int n_pairs)
{
  MmStats *st = g_new0 (MmStats, 1);
  st->hist_min = -1024;
  st->n_bins = top + 1024 + 1;
  st->hist = g_new0 (uint64_t, st->n_bins);
  for (int b = 0; b < st->n_bins; b++)
    st->hist[b] = fill;
  for (int p = 0; p < n_pairs; p++)
    st->hist[pairs[2 * p] - st->hist_min] = (uint64_t) pairs[2 * p + 1];
  st->min = -1024;
  st->max = top;
  return st;
}

static void
test_suggest (void)
{
  int dims[3] = { 4, 4, 2 };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_INT16);
  MmThresholdSuggestion s;

  /* Every bin full but 3300..3399 empty: the 100 HU window starting at 3300 is the emptiest
   * (only one, so its centre 3350 is the suggestion). */
  {
    g_autoptr (MmStats) st = stats_with (6000, 10, NULL, 0);
    for (int hu = 3300; hu < 3400; hu++)
      st->hist[hu - st->hist_min] = 0;
    mm_threshold_suggest (vol, st, &s);
    g_assert_cmpint (s.reason, ==, MM_THRESHOLD_EMPTIEST);
    g_assert_cmpfloat (s.lower, ==, 3350);
    g_assert_cmpuint (s.n_near, ==, 0);
  }
  /* Uniform counts: every window ties, the lowest (2000..2099, centre 2050) wins and is
   * raised to 2500, the floor. */
  {
    g_autoptr (MmStats) st = stats_with (6000, 10, NULL, 0);
    mm_threshold_suggest (vol, st, &s);
    g_assert_cmpint (s.reason, ==, MM_THRESHOLD_EMPTIEST);
    g_assert_cmpfloat (s.lower, ==, 2500);
    g_assert_cmpuint (s.n_near, ==, 1000);
  }
  /* Nothing above 2500 HU: no metal, the default stays. */
  {
    g_autoptr (MmStats) st = stats_with (2400, 10, NULL, 0);
    mm_threshold_suggest (vol, st, &s);
    g_assert_cmpint (s.reason, ==, MM_THRESHOLD_NO_METAL);
    g_assert_cmpfloat (s.lower, ==, 3000);
  }
  /* A 12-bit scale clipped at 3071 with many voxels there. */
  {
    int pairs[] = { 3071, 5000 };
    g_autoptr (MmStats) st = stats_with (3071, 10, pairs, 1);
    mm_threshold_suggest (vol, st, &s);
    g_assert_cmpint (s.reason, ==, MM_THRESHOLD_CLIPPED);
    g_assert_cmpfloat (s.lower, ==, 3071);
  }
  /* Not HU: no suggestion, the default. */
  {
    g_autoptr (MmStats) st = stats_with (6000, 10, NULL, 0);
    g_free (vol->unit);
    vol->unit = g_strdup ("US");
    mm_threshold_suggest (vol, st, &s);
    g_assert_cmpint (s.reason, ==, MM_THRESHOLD_NOT_HU);
    g_assert_cmpfloat (s.lower, ==, 3000);
  }
}

/* ---- summary ---- */

/* Components by a naive 26-connected flood fill with an explicit stack. */
static int
naive_components (const MmMask *m)
{
  int w = m->dims[0], h = m->dims[1], d = m->dims[2];
  size_t n = mm_mask_n_voxels (m);
  g_autofree uint8_t *seen = g_new0 (uint8_t, n);
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (size_t));
  int count = 0;
  for (size_t v = 0; v < n; v++)
    {
      if (!m->data[v] || seen[v])
        continue;
      count++;
      seen[v] = 1;
      g_array_append_val (stack, v);
      while (stack->len)
        {
          size_t c = g_array_index (stack, size_t, stack->len - 1);
          g_array_set_size (stack, stack->len - 1);
          int i = c % w, j = (c / w) % h, k = c / ((size_t) w * h);
          for (int dk = -1; dk <= 1; dk++)
            for (int dj = -1; dj <= 1; dj++)
              for (int di = -1; di <= 1; di++)
                {
                  int ii = i + di, jj = j + dj, kk = k + dk;
                  if (ii < 0 || jj < 0 || kk < 0 || ii >= w || jj >= h || kk >= d)
                    continue;
                  size_t q = ((size_t) kk * h + jj) * w + ii;
                  if (m->data[q] && !seen[q])
                    {
                      seen[q] = 1;
                      g_array_append_val (stack, q);
                    }
                }
        }
    }
  return count;
}

static void
test_summary (void)
{
  int dims[3] = { 40, 30, 12 };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_INT16);
  vol->spacing[0] = 0.5, vol->spacing[1] = 0.8, vol->spacing[2] = 2.5;
  g_autoptr (MmMask) m = mm_mask_new (dims);
  MmMaskSummary s;
  mm_mask_summarize (m, vol, 2, &s);
  g_assert_cmpuint (s.voxels, ==, 0);
  g_assert_cmpint (s.slices, ==, 0);
  g_assert_cmpint (s.components, ==, 0);
  g_assert_cmpfloat (s.volume_ml, ==, 0);

  GRand *rand = g_rand_new_with_seed (11);
  for (int round = 0; round < 20; round++)
    {
      memset (m->data, 0, mm_mask_n_voxels (m));
      int n_disc = g_rand_int_range (rand, 1, 8);
      for (int t = 0; t < n_disc; t++)
        mm_test_draw_disc (m, g_rand_int_range (rand, 0, dims[2]), g_rand_int_range (rand, 0, dims[0]),
                           g_rand_int_range (rand, 0, dims[1]), g_rand_int_range (rand, 0, 5), 1);
      uint64_t voxels = 0;
      int slices = 0;
      for (int k = 0; k < dims[2]; k++)
        {
          uint64_t c = 0;
          for (size_t v = 0; v < (size_t) dims[0] * dims[1]; v++)
            c += mm_mask_slice (m, k)[v] != 0;
          voxels += c;
          slices += c > 0;
        }
      mm_mask_summarize (m, vol, 2, &s);
      g_assert_cmpuint (s.voxels, ==, voxels);
      g_assert_cmpint (s.slices, ==, slices);
      g_assert_cmpint (s.components, ==, naive_components (m));
      g_assert_cmpfloat_with_epsilon (s.volume_ml, voxels * 0.5 * 0.8 * 2.5 / 1000.0, 1e-12);
    }
  g_rand_free (rand);
}

/* ---- replace and clear ---- */

static void
count_touch (int k, gpointer data)
{
  int *touched = data;
  touched[k]++;
}

static void
test_replace_clear (void)
{
  int dims[3] = { 16, 16, 6 };
  g_autoptr (MmMask) m = mm_mask_new (dims);
  g_autoptr (MmMask) src = mm_mask_new (dims);
  mm_test_draw_disc (m, 1, 5, 5, 3, 1);
  mm_test_draw_disc (src, 1, 5, 5, 3, 1); /* slice 1 the same in both */
  mm_test_draw_disc (src, 3, 8, 8, 2, 1);
  mm_test_draw_disc (m, 4, 8, 8, 2, 1);
  int touched[6] = { 0 };
  g_assert_cmpint (mm_edit_replace (m, src, count_touch, touched), ==, 2);
  g_assert_true (mm_mask_equal (m, src));
  int want[6] = { 0, 0, 0, 1, 1, 0 };
  g_assert_cmpmem (touched, sizeof touched, want, sizeof want);
  g_assert_cmpint (mm_edit_replace (m, src, count_touch, touched), ==, 0);

  memset (touched, 0, sizeof touched);
  uint64_t on3 = mm_mask_count_slice (m, 3), on1 = mm_mask_count_slice (m, 1);
  g_assert_cmpuint (mm_edit_clear (m, 2, 5, count_touch, touched), ==, on3);
  int want2[6] = { 0, 0, 0, 1, 0, 0 };
  g_assert_cmpmem (touched, sizeof touched, want2, sizeof want2);
  g_assert_cmpuint (mm_mask_count (m), ==, on1);
  g_assert_cmpuint (mm_edit_clear (m, -5, 50, NULL, NULL), ==, on1);
  g_assert_cmpuint (mm_mask_count (m), ==, 0);
}

/* ---- volume copy ---- */

static void
test_volume_copy (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 5, 3, 20, 0.1);
  g_autoptr (MmVolume) c = mm_volume_copy_voxels (ph->volume);
  g_assert_nonnull (c);
  g_assert_cmpmem (c->dims, sizeof c->dims, ph->volume->dims, sizeof c->dims);
  g_assert_cmpmem (c->spacing, sizeof c->spacing, ph->volume->spacing, sizeof c->spacing);
  g_assert_cmpmem (c->direction, sizeof c->direction, ph->volume->direction, sizeof c->direction);
  g_assert_cmpstr (c->series_uid, ==, ph->volume->series_uid);
  g_assert_cmpmem (c->voxels, mm_volume_n_voxels (c) * 2, ph->volume->voxels,
                   mm_volume_n_voxels (c) * 2);
  g_assert_true (c->voxels != ph->volume->voxels);
}

/* ---- project folder ---- */

static void
test_project_dir (void)
{
  g_autofree char *tmp = mm_test_tmp_dir ("mm-session-core");
  g_autofree char *series = g_build_filename (tmp, "study", "ct", NULL);
  g_assert_cmpint (g_mkdir_with_parents (series, 0755), ==, 0);
  g_autofree char *beside = g_strconcat (series, ".metalmark", NULL);
  g_autofree char *dir = mm_project_dir_for (series, "1.2.3");
  g_assert_cmpstr (dir, ==, beside);
  /* A file of the series gives the same folder. */
  g_autofree char *file = g_build_filename (series, "x.dcm", NULL);
  g_assert_true (g_file_set_contents (file, "", 0, NULL));
  g_autofree char *dir2 = mm_project_dir_for (file, "1.2.3");
  g_assert_cmpstr (dir2, ==, beside);
  /* A parent without write bits: the XDG data folder, by UID. */
  g_autofree char *parent = g_build_filename (tmp, "study", NULL);
  g_assert_cmpint (g_chmod (parent, 0555), ==, 0);
  g_autofree char *dir3 = mm_project_dir_for (series, "1.2.3");
  g_autofree char *want = g_build_filename (g_get_user_data_dir (), "metalmark", "projects", "1.2.3", NULL);
  g_assert_cmpstr (dir3, ==, want);
  g_assert_cmpint (g_chmod (parent, 0755), ==, 0);
  mm_test_rm_rf (tmp);
}

/* ---- the session ---- */

static void
message_cb (MmMaskSession *session, const char *text, char **last)
{
  g_free (*last);
  *last = g_strdup (text);
}

static uint64_t
threshold_step (MmMaskSession *s, const MmVolume *vol, double lower)
{
  MmMask *m = mm_mask_session_begin (s, "Threshold");
  mm_edit_threshold (m, vol, 0, m->dims[2] - 1, lower, 32767, mm_mask_session_touch_cb, s);
  g_autofree char *detail = g_strdup_printf ("%.0f HU", lower);
  mm_mask_session_end (s, MM_MASK_SOURCE_THRESHOLD, detail);
  mm_mask_session_update_figures (s);
  return mm_mask_count (m);
}

static void
test_session (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (48, 6, 5, 0, 0);
  const MmVolume *vol = ph->volume;
  g_autofree char *tmp = mm_test_tmp_dir ("mm-session");
  g_autofree char *series = g_build_filename (tmp, "ct", NULL);
  g_assert_cmpint (g_mkdir_with_parents (series, 0755), ==, 0);
  g_autofree char *proj = g_strconcat (series, ".metalmark", NULL);
  g_autofree char *last = NULL;

  MmMaskSession *s = mm_mask_session_new ();
  g_signal_connect (s, "message", G_CALLBACK (message_cb), &last);
  mm_mask_session_set_series (s, vol, series, false);
  g_assert_null (mm_mask_session_get_mask (s));
  g_assert_cmpint (mm_mask_session_get_source (s), ==, MM_MASK_SOURCE_NONE);
  g_assert_cmpint (mm_mask_session_get_save_state (s), ==, MM_MASK_SAVE_NONE);
  g_assert_cmpstr (mm_mask_session_get_project_dir (s), ==, proj);
  g_assert_false (g_file_test (proj, G_FILE_TEST_EXISTS));

  /* A threshold at 1000 HU, then one at 2000 HU: the figures follow each. */
  uint64_t n1000 = threshold_step (s, vol, 1000);
  g_assert_cmpuint (n1000, >, 0);
  g_assert_cmpuint (mm_mask_session_get_voxels (s), ==, n1000);
  g_assert_cmpint (mm_mask_session_get_save_state (s), ==, MM_MASK_SAVE_UNSAVED);
  uint64_t n2000 = threshold_step (s, vol, 2000);
  g_assert_cmpuint (n2000, <, n1000);
  g_assert_cmpuint (mm_mask_session_get_voxels (s), ==, n2000);
  g_assert_cmpint (mm_mask_session_get_source (s), ==, MM_MASK_SOURCE_THRESHOLD);
  g_assert_cmpstr (mm_mask_session_get_source_detail (s), ==, "2000 HU");
  MmMaskSummary want;
  mm_mask_summarize (mm_mask_session_get_mask (s), vol, 1, &want);
  g_assert_cmpint (mm_mask_session_get_slices (s), ==, want.slices);
  g_assert_cmpint (mm_mask_session_get_components (s), ==, want.components);
  g_assert_cmpfloat (mm_mask_session_get_volume_ml (s), ==, want.volume_ml);

  /* A brush edit, undone and redone: source and labels follow the cursor. */
  MmMask *m = mm_mask_session_begin (s, "Brush");
  mm_mask_session_touch (s, 2);
  mm_test_draw_disc (m, 2, 3, 3, 2, 1);
  g_assert_true (mm_mask_session_end (s, MM_MASK_SOURCE_EDITS, NULL));
  g_assert_cmpint (mm_mask_session_get_source (s), ==, MM_MASK_SOURCE_EDITS);
  /* Voxels at once; components only once counted (in an idle, here on demand). */
  g_assert_cmpuint (mm_mask_session_get_voxels (s), ==, mm_mask_count (m));
  g_assert_cmpint (mm_mask_session_get_components (s), ==, -1);
  mm_mask_session_update_figures (s);
  mm_mask_summarize (m, vol, 1, &want);
  g_assert_cmpint (mm_mask_session_get_components (s), ==, want.components);
  g_assert_cmpstr (mm_mask_session_get_undo_label (s), ==, "Brush");
  g_assert_true (mm_mask_session_undo (s));
  g_assert_cmpint (mm_mask_session_get_source (s), ==, MM_MASK_SOURCE_THRESHOLD);
  g_assert_cmpstr (mm_mask_session_get_source_detail (s), ==, "2000 HU");
  g_assert_cmpstr (mm_mask_session_get_redo_label (s), ==, "Brush");
  mm_mask_session_update_figures (s);
  g_assert_cmpuint (mm_mask_session_get_voxels (s), ==, n2000);
  g_assert_true (mm_mask_session_undo (s));
  mm_mask_session_update_figures (s);
  g_assert_cmpuint (mm_mask_session_get_voxels (s), ==, n1000);
  g_assert_cmpstr (mm_mask_session_get_source_detail (s), ==, "1000 HU");
  g_assert_true (mm_mask_session_redo (s));
  g_assert_true (mm_mask_session_redo (s));
  g_assert_cmpint (mm_mask_session_get_source (s), ==, MM_MASK_SOURCE_EDITS);
  g_assert_false (mm_mask_session_get_can_redo (s));

  /* Replace: one undoable step; a mask of other dims is refused with an error. */
  g_autoptr (MmMask) file_mask = mm_mask_copy (ph->truth);
  g_assert_true (mm_mask_session_replace (s, g_steal_pointer (&file_mask), MM_MASK_SOURCE_FILE,
                                          "/x/mask.nii.gz", NULL));
  g_assert_cmpint (mm_mask_session_get_source (s), ==, MM_MASK_SOURCE_FILE);
  g_assert_cmpstr (mm_mask_session_get_source_detail (s), ==, "/x/mask.nii.gz");
  g_assert_true (mm_mask_equal (mm_mask_session_get_mask (s), ph->truth));
  int small[3] = { 4, 4, 4 };
  g_autoptr (GError) error = NULL;
  g_assert_false (mm_mask_session_replace (s, mm_mask_new (small), MM_MASK_SOURCE_FILE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_true (mm_mask_session_undo (s));
  g_assert_cmpint (mm_mask_session_get_source (s), ==, MM_MASK_SOURCE_EDITS);
  g_assert_true (mm_mask_session_redo (s));

  /* Save: the stack is the mask, the journal gone. */
  mm_mask_session_save_now (s);
  g_assert_cmpint (mm_mask_session_get_save_state (s), ==, MM_MASK_SAVE_SAVED);
  g_autofree char *journal = g_build_filename (proj, MM_JOURNAL_FILE, NULL);
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  {
    g_autoptr (MmMask) disk = mm_label_stack_read (proj, vol, NULL);
    g_assert_true (disk && mm_mask_equal (disk, ph->truth));
  }
  g_object_unref (s);

  /* Reopened: the saved stack, with its figures. */
  s = mm_mask_session_new ();
  mm_mask_session_set_series (s, vol, series, false);
  g_assert_cmpint (mm_mask_session_get_source (s), ==, MM_MASK_SOURCE_SAVED);
  g_assert_cmpint (mm_mask_session_get_save_state (s), ==, MM_MASK_SAVE_SAVED);
  g_assert_cmpuint (mm_mask_session_get_voxels (s), ==, mm_mask_count (ph->truth));
  g_assert_false (mm_mask_session_get_can_undo (s));

  g_object_unref (s);

  /* A crash after a journalled step: the journal written and closed without a fold, as a
   * killed app leaves it. */
  {
    g_autoptr (MmMask) crash = mm_mask_new (vol->dims);
    MmJournal *j = mm_test_journal_open (proj, vol, crash, NULL);
    g_autoptr (GArray) ks = g_array_new (FALSE, FALSE, sizeof (int));
    g_autoptr (MmMask) before = mm_mask_copy (crash);
    mm_edit_threshold (crash, vol, 0, vol->dims[2] - 1, 300, 32767, NULL, NULL);
    for (int k = 0; k < vol->dims[2]; k++)
      if (memcmp (mm_mask_slice (crash, k), mm_mask_slice (before, k), (size_t) vol->dims[0] * vol->dims[1]))
        g_array_append_val (ks, k);
    g_assert_cmpuint (ks->len, >, 0);
    mm_test_journal_append (j, (const int *) ks->data, ks->len);
    mm_journal_close (j);
  }
  g_assert_true (g_file_test (journal, G_FILE_TEST_EXISTS));
  s = mm_mask_session_new ();
  g_signal_connect (s, "message", G_CALLBACK (message_cb), &last);
  mm_mask_session_set_series (s, vol, series, false);
  g_assert_cmpint (mm_mask_session_get_source (s), ==, MM_MASK_SOURCE_RECOVERED);
  g_assert_cmpint (mm_mask_session_get_save_state (s), ==, MM_MASK_SAVE_UNSAVED);
  g_autofree char *said = g_strdup_printf ("Recovered unsaved edits from %s", proj);
  g_assert_cmpstr (last, ==, said);
  g_autoptr (MmMask) t300 = mm_mask_new (vol->dims);
  mm_edit_threshold (t300, vol, 0, vol->dims[2] - 1, 300, 32767, NULL, NULL);
  g_assert_cmpuint (mm_mask_session_get_voxels (s), ==, mm_mask_count (t300));
  g_assert_true (mm_mask_equal (mm_mask_session_get_mask (s), t300));
  g_object_unref (s); /* folds */
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));

  /* In memory: nothing written, a mask all the same. */
  g_autofree char *series2 = g_build_filename (tmp, "ct2", NULL);
  g_assert_cmpint (g_mkdir_with_parents (series2, 0755), ==, 0);
  s = mm_mask_session_new ();
  mm_mask_session_set_series (s, vol, series2, true);
  g_assert_cmpint (mm_mask_session_get_save_state (s), ==, MM_MASK_SAVE_IN_MEMORY);
  threshold_step (s, vol, 1500);
  g_assert_cmpint (mm_mask_session_get_save_state (s), ==, MM_MASK_SAVE_IN_MEMORY);
  g_object_unref (s);
  g_autofree char *proj2 = g_strconcat (series2, ".metalmark", NULL);
  g_assert_false (g_file_test (proj2, G_FILE_TEST_EXISTS));
  mm_test_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/session-core/threshold-suggestion", test_suggest);
  g_test_add_func ("/session-core/mask-summary", test_summary);
  g_test_add_func ("/session-core/replace-clear", test_replace_clear);
  g_test_add_func ("/session-core/volume-copy", test_volume_copy);
  g_test_add_func ("/session-core/project-dir", test_project_dir);
  g_test_add_func ("/session-core/session", test_session);
  return g_test_run ();
}
