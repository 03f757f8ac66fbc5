/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of connected components (mm-components.c) against a plain flood fill. */
#include "mm-test-util.h"
#include "mm-components.h"

#include <string.h>

/* ---- components: compared with a plain flood fill ---- */

static int
flood_fill_labels (const MmMask *m, int *labels)
{
  int w = m->dims[0], h = m->dims[1], d = m->dims[2];
  size_t n = mm_mask_n_voxels (m);
  memset (labels, 0, n * sizeof (int));
  int next = 0;
  GArray *stack = g_array_new (FALSE, FALSE, sizeof (size_t));
  for (size_t s = 0; s < n; s++)
    {
      if (!m->data[s] || labels[s])
        continue;
      labels[s] = ++next;
      g_array_append_val (stack, s);
      while (stack->len)
        {
          size_t x = g_array_index (stack, size_t, stack->len - 1);
          g_array_set_size (stack, stack->len - 1);
          int i = x % w, j = (x / w) % h, k = x / ((size_t) w * h);
          for (int dk = -1; dk <= 1; dk++)
            for (int dj = -1; dj <= 1; dj++)
              for (int di = -1; di <= 1; di++)
                {
                  int ii = i + di, jj = j + dj, kk = k + dk;
                  if (ii < 0 || jj < 0 || kk < 0 || ii >= w || jj >= h || kk >= d)
                    continue;
                  size_t y = ((size_t) kk * h + jj) * w + ii;
                  if (m->data[y] && !labels[y])
                    {
                      labels[y] = next;
                      g_array_append_val (stack, y);
                    }
                }
        }
    }
  g_array_free (stack, TRUE);
  return next;
}

static void
test_components_random (void)
{
  /* Random masks of several densities: the run-based labelling must give the same partition
   * as the flood fill, numbered the same way (scan order of first voxel). */
  const double densities[] = { 0.05, 0.2, 0.35, 0.6 };
  GRand *r = g_rand_new_with_seed (42);
  for (size_t t = 0; t < G_N_ELEMENTS (densities); t++)
    for (int threads = 1; threads <= 3; threads += 2)
      {
        int dims[3] = { 23, 17, 11 };
        g_autoptr (MmMask) m = mm_mask_new (dims);
        for (size_t x = 0; x < mm_mask_n_voxels (m); x++)
          m->data[x] = g_rand_double (r) < densities[t];
        g_autofree int *ref = g_new (int, mm_mask_n_voxels (m));
        int n_ref = flood_fill_labels (m, ref);
        g_autoptr (MmComponents) c = mm_components_label (m, threads);
        g_assert_cmpint (mm_components_count (c), ==, n_ref);
        g_autofree uint64_t *sizes = g_new0 (uint64_t, n_ref + 1);
        for (int k = 0; k < dims[2]; k++)
          for (int j = 0; j < dims[1]; j++)
            for (int i = 0; i < dims[0]; i++)
              {
                size_t x = ((size_t) k * dims[1] + j) * dims[0] + i;
                g_assert_cmpint (mm_components_label_at (c, i, j, k), ==, ref[x]);
                sizes[ref[x]]++;
              }
        for (int l = 1; l <= n_ref; l++)
          g_assert_cmpuint (mm_components_get (c, l)->voxels, ==, sizes[l]);
      }
  g_rand_free (r);
}

static void
test_components_diagonal (void)
{
  /* Two voxels touching only at a corner across slices are one component (26-connected);
   * one voxel two columns away is another. */
  int dims[3] = { 5, 5, 2 };
  g_autoptr (MmMask) m = mm_mask_new (dims);
  m->data[(0 * 5 + 1) * 5 + 1] = 1;  /* (1,1,0) */
  m->data[(1 * 5 + 2) * 5 + 2] = 1;  /* (2,2,1) */
  m->data[(1 * 5 + 2) * 5 + 4] = 1;  /* (4,2,1) */
  g_autoptr (MmComponents) c = mm_components_label (m, 1);
  g_assert_cmpint (mm_components_count (c), ==, 2);
  g_assert_cmpint (mm_components_label_at (c, 1, 1, 0), ==, mm_components_label_at (c, 2, 2, 1));
  g_assert_cmpint (mm_components_get (c, 1)->voxels, ==, 2);
  g_assert_cmpint (mm_components_get (c, 2)->voxels, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/components/random-vs-flood-fill", test_components_random);
  g_test_add_func ("/core/components/diagonal", test_components_diagonal);
  return g_test_run ();
}
