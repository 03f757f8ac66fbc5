/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the undo history (mm-history.c) against a naive list of whole-mask copies. */
#include "mm-test-util.h"
#include "mm-history.h"

#include <string.h>

static bool
slice_equal (const MmMask *a, const MmMask *b, int k)
{
  return memcmp (mm_mask_slice (a, k), mm_mask_slice (b, k),
                 (size_t) a->dims[0] * a->dims[1]) == 0;
}

/* Slices where a and b differ, ascending. */
static GArray *
differing_slices (const MmMask *a, const MmMask *b)
{
  GArray *ks = g_array_new (FALSE, FALSE, sizeof (int));
  for (int k = 0; k < a->dims[2]; k++)
    if (!slice_equal (a, b, k))
      g_array_append_val (ks, k);
  return ks;
}

static void
assert_changed_is (MmHistory *h, const MmMask *before, const MmMask *after)
{
  g_autoptr (GArray) want = differing_slices (before, after);
  int n = 0;
  const int *got = mm_history_get_changed (h, &n);
  g_assert_cmpint (n, ==, (int) want->len);
  for (int t = 0; t < n; t++)
    g_assert_cmpint (got[t], ==, g_array_index (want, int, t));
}

/* ---- history ---- */

/* Random strokes, thresholds, no-op steps, cancels, undos and redos against the obvious
 * implementation: a list of whole-mask copies and a cursor. */
static void
test_history_random (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (48, 7, 3, 0, 0);
  MmMask *mask = mm_mask_copy (ph->truth);
  g_autoptr (MmHistory) h = mm_history_new (mask, SIZE_MAX);
  g_autoptr (GPtrArray) ref = g_ptr_array_new_with_free_func ((GDestroyNotify) mm_mask_free);
  g_ptr_array_add (ref, mm_mask_copy (mask));
  guint cur = 0;
  GRand *rng = g_rand_new_with_seed (12345);
  int n_dims = mask->dims[2], commits = 0, undos = 0, redos = 0, noops = 0;

  for (int op = 0; op < 600; op++)
    {
      int what = g_rand_int_range (rng, 0, 100);
      g_autoptr (MmMask) before = mm_mask_copy (mask);
      if (what < 50)
        {
          mm_history_begin (h, "edit");
          int kind = g_rand_int_range (rng, 0, 4);
          if (kind == 0 || kind == 1)
            {
              /* Brush or eraser dabs over one or two slices, some touched twice. */
              int dabs = g_rand_int_range (rng, 1, 6);
              for (int d = 0; d < dabs; d++)
                {
                  int k = g_rand_int_range (rng, 0, n_dims);
                  mm_history_touch_cb (k, h);
                  mm_test_draw_disc (mask, k, g_rand_int_range (rng, 0, 48),
                             g_rand_int_range (rng, 0, 48), g_rand_int_range (rng, 0, 8),
                             kind == 0);
                }
            }
          else if (kind == 2)
            {
              /* Threshold over a slice range: set = HU above a random level. */
              int k0 = g_rand_int_range (rng, 0, n_dims), k1 = g_rand_int_range (rng, k0, n_dims);
              double level = g_rand_double_range (rng, -200, 3000);
              mm_history_touch_range (h, k0, k1);
              for (int k = k0; k <= k1; k++)
                for (int j = 0; j < 48; j++)
                  for (int i = 0; i < 48; i++)
                    mm_mask_slice (mask, k)[j * 48 + i]
                        = mm_volume_get (ph->volume, i, j, k) >= level;
            }
          else
            {
              /* Touched but unchanged: a click of the eraser on empty background. */
              mm_history_touch_range (h, 0, n_dims - 1);
            }
          bool changed = !mm_mask_equal (before, mask);
          g_assert_cmpint (mm_history_commit (h), ==, changed);
          assert_changed_is (h, before, mask);
          if (changed)
            {
              g_ptr_array_set_size (ref, cur + 1);
              g_ptr_array_add (ref, mm_mask_copy (mask));
              cur++;
              commits++;
            }
          else
            noops++;
        }
      else if (what < 55)
        {
          mm_history_begin (h, "abandoned");
          int k = g_rand_int_range (rng, 0, n_dims);
          mm_history_touch (h, k);
          mm_test_draw_disc (mask, k, 24, 24, 10, 1);
          mm_history_cancel (h);
          g_assert_true (mm_mask_equal (mask, before));
        }
      else if (what < 80)
        {
          int first = -1, last = -1;
          bool done = mm_history_undo (h, &first, &last);
          g_assert_cmpint (done, ==, cur > 0);
          if (done)
            {
              cur--;
              undos++;
              assert_changed_is (h, before, mask);
              g_autoptr (GArray) d = differing_slices (before, mask);
              g_assert_cmpint (first, ==, g_array_index (d, int, 0));
              g_assert_cmpint (last, ==, g_array_index (d, int, d->len - 1));
            }
        }
      else
        {
          bool done = mm_history_redo (h, NULL, NULL);
          g_assert_cmpint (done, ==, cur + 1 < ref->len);
          if (done)
            {
              cur++;
              redos++;
              assert_changed_is (h, before, mask);
            }
        }
      g_assert_true (mm_mask_equal (mask, ref->pdata[cur]));
      g_assert_cmpint (mm_history_get_n_undo (h), ==, (int) cur);
      g_assert_cmpint (mm_history_get_n_redo (h), ==, (int) (ref->len - 1 - cur));
    }
  g_assert_cmpint (commits, >, 50);
  g_assert_cmpint (undos, >, 50);
  g_assert_cmpint (redos, >, 20);
  g_assert_cmpint (noops, >, 10);

  /* All the way back to the start, and forward again. */
  while (mm_history_undo (h, NULL, NULL))
    ;
  g_assert_true (mm_mask_equal (mask, ref->pdata[0]));
  while (mm_history_redo (h, NULL, NULL))
    ;
  g_assert_true (mm_mask_equal (mask, ref->pdata[ref->len - 1]));
  g_rand_free (rng);
  g_clear_pointer (&h, mm_history_free);
  mm_mask_free (mask);
}

static void
test_history_noop (void)
{
  int dims[3] = { 40, 30, 5 };
  g_autoptr (MmMask) mask = mm_mask_new (dims);
  g_autoptr (MmHistory) h = mm_history_new (mask, SIZE_MAX);

  mm_history_begin (h, "nothing");
  mm_history_touch_range (h, 0, 4);
  g_assert_false (mm_history_commit (h));
  g_assert_cmpint (mm_history_get_n_undo (h), ==, 0);
  g_assert_cmpuint (mm_history_get_bytes (h), ==, 0);
  g_assert_false (mm_history_undo (h, NULL, NULL));
  g_assert_null (mm_history_get_undo_label (h));

  /* Changed and changed back within one step is no step either. */
  mm_history_begin (h, "there and back");
  mm_history_touch (h, 2);
  mm_test_draw_disc (mask, 2, 10, 10, 4, 1);
  mm_test_draw_disc (mask, 2, 10, 10, 4, 0);
  g_assert_false (mm_history_commit (h));

  mm_history_begin (h, "Brush");
  mm_history_touch (h, 3);
  mm_test_draw_disc (mask, 3, 20, 15, 6, 1);
  g_assert_true (mm_history_commit (h));
  g_assert_cmpstr (mm_history_get_undo_label (h), ==, "Brush");
  g_assert_true (mm_history_undo (h, NULL, NULL));
  g_assert_cmpstr (mm_history_get_redo_label (h), ==, "Brush");

  /* A no-op step after an undo leaves the redo list alone: a stray click must not cost the
   * annotator the steps they may still want back. */
  mm_history_begin (h, "click");
  mm_history_touch (h, 1);
  g_assert_false (mm_history_commit (h));
  g_assert_cmpint (mm_history_get_n_redo (h), ==, 1);
  g_assert_true (mm_history_redo (h, NULL, NULL));
  g_assert_cmpuint (mm_mask_count_slice (mask, 3), >, 0);

  /* A real step does clear it. */
  g_assert_true (mm_history_undo (h, NULL, NULL));
  mm_history_begin (h, "Eraser");
  mm_history_touch (h, 0);
  mm_test_draw_disc (mask, 0, 5, 5, 3, 1);
  g_assert_true (mm_history_commit (h));
  g_assert_cmpint (mm_history_get_n_redo (h), ==, 0);
  g_assert_false (mm_history_redo (h, NULL, NULL));
}

static void
test_history_budget (void)
{
  int dims[3] = { 64, 64, 4 };
  g_autoptr (MmMask) mask = mm_mask_new (dims);
  g_autoptr (GPtrArray) ref = g_ptr_array_new_with_free_func ((GDestroyNotify) mm_mask_free);
  GRand *rng = g_rand_new_with_seed (7);
  g_ptr_array_add (ref, mm_mask_copy (mask));

  /* Noise steps (hard to compress) of similar size; the budget holds about four of them. */
  size_t step_bytes = 0;
  {
    g_autoptr (MmMask) probe = mm_mask_new (dims);
    g_autoptr (MmHistory) p = mm_history_new (probe, SIZE_MAX);
    mm_history_begin (p, NULL);
    mm_history_touch (p, 0);
    for (int x = 0; x < 64 * 64; x++)
      probe->data[x] = g_rand_boolean (rng);
    g_assert_true (mm_history_commit (p));
    step_bytes = mm_history_get_bytes (p);
    g_assert_cmpuint (step_bytes, >, 500);
  }
  size_t budget = step_bytes * 4;
  g_autoptr (MmHistory) h = mm_history_new (mask, budget);
  for (int s = 0; s < 12; s++)
    {
      mm_history_begin (h, "noise");
      int k = s % 4;
      mm_history_touch (h, k);
      for (int x = 0; x < 64 * 64; x++)
        mm_mask_slice (mask, k)[x] = g_rand_boolean (rng);
      g_assert_true (mm_history_commit (h));
      g_ptr_array_add (ref, mm_mask_copy (mask));
      g_assert_cmpuint (mm_history_get_bytes (h), <=, budget);
    }
  int kept = mm_history_get_n_undo (h);
  g_assert_cmpint (kept, >=, 2);
  g_assert_cmpint (kept, <, 12);
  /* The newest steps are the ones kept: undoing them all lands on the state before them. */
  for (int u = 0; u < kept; u++)
    {
      g_assert_true (mm_history_undo (h, NULL, NULL));
      g_assert_true (mm_mask_equal (mask, ref->pdata[12 - u - 1]));
    }
  g_assert_false (mm_history_undo (h, NULL, NULL));
  g_assert_true (mm_mask_equal (mask, ref->pdata[12 - kept]));

  /* A step bigger than the whole budget is kept all the same (alone). */
  g_autoptr (MmHistory) tiny = mm_history_new (mask, 16);
  for (int s = 0; s < 3; s++)
    {
      g_autoptr (MmMask) before = mm_mask_copy (mask);
      mm_history_begin (tiny, "noise");
      mm_history_touch_range (tiny, 0, 3);
      for (size_t x = 0; x < mm_mask_n_voxels (mask); x++)
        mask->data[x] = g_rand_boolean (rng);
      g_assert_true (mm_history_commit (tiny));
      g_assert_cmpint (mm_history_get_n_undo (tiny), ==, 1);
      g_assert_cmpuint (mm_history_get_bytes (tiny), >, 16);
      g_assert_true (mm_history_undo (tiny, NULL, NULL));
      g_assert_true (mm_mask_equal (mask, before));
      g_assert_true (mm_history_redo (tiny, NULL, NULL));
    }
  g_rand_free (rng);
}

static void
test_history_whole_volume (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (64, 24, 1, 0, 0);
  g_autoptr (MmMask) mask = mm_mask_copy (ph->truth);
  g_autoptr (MmMask) original = mm_mask_copy (mask);
  g_autoptr (MmHistory) h = mm_history_new (mask, SIZE_MAX);
  int n = mask->dims[2];

  /* Threshold of every slice at bone level: most slices change. */
  mm_history_begin (h, "Threshold");
  mm_history_touch_range (h, 0, n - 1);
  for (int k = 0; k < n; k++)
    for (int j = 0; j < 64; j++)
      for (int i = 0; i < 64; i++)
        mm_mask_slice (mask, k)[j * 64 + i] = mm_volume_get (ph->volume, i, j, k) >= 200;
  g_autoptr (MmMask) thresholded = mm_mask_copy (mask);
  g_assert_true (mm_history_commit (h));
  assert_changed_is (h, original, thresholded);
  int n_changed;
  mm_history_get_changed (h, &n_changed);
  g_assert_cmpint (n_changed, >, n / 2);
  /* Differences, not copies: far below the 98 kB of the mask. */
  g_assert_cmpuint (mm_history_get_bytes (h), <, mm_mask_n_voxels (mask) / 10);

  int first, last;
  g_assert_true (mm_history_undo (h, &first, &last));
  g_assert_true (mm_mask_equal (mask, original));
  assert_changed_is (h, thresholded, original);
  g_assert_true (mm_history_redo (h, &first, &last));
  g_assert_true (mm_mask_equal (mask, thresholded));

  /* The worst case: every voxel of the volume flips. */
  mm_history_begin (h, "Invert");
  mm_history_touch_range (h, 0, n - 1);
  for (size_t x = 0; x < mm_mask_n_voxels (mask); x++)
    mask->data[x] = !mask->data[x];
  g_assert_true (mm_history_commit (h));
  g_assert_true (mm_history_undo (h, &first, &last));
  g_assert_cmpint (first, ==, 0);
  g_assert_cmpint (last, ==, n - 1);
  g_assert_true (mm_mask_equal (mask, thresholded));
  g_assert_true (mm_history_undo (h, NULL, NULL));
  g_assert_true (mm_mask_equal (mask, original));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/history/random-vs-copies", test_history_random);
  g_test_add_func ("/history/no-op-step", test_history_noop);
  g_test_add_func ("/history/budget-drops-oldest", test_history_budget);
  g_test_add_func ("/history/whole-volume", test_history_whole_volume);
  return g_test_run ();
}
