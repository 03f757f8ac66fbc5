/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-test-util.h"

#include "mm-label-stack.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static MmPhantom *
phantom (int size, int slices, int variant, guint64 seed, double noise, double tilt)
{
  MmPhantomParams p;
  mm_phantom_params_init (&p);
  p.size = size;
  p.slices = slices;
  p.variant = variant;
  p.seed = seed;
  p.noise_sd = noise;
  p.tilt_deg = tilt;
  g_autoptr (GError) err = NULL;
  MmPhantom *ph = mm_phantom_new (&p, &err);
  g_assert_no_error (err);
  return ph;
}

MmPhantom *
mm_test_phantom (int size, int slices, guint64 seed, double noise, double tilt)
{
  return phantom (size, slices, 0, seed, noise, tilt);
}

MmPhantom *
mm_test_phantom_variant (int size, int slices, int variant, guint64 seed, double noise)
{
  return phantom (size, slices, variant, seed, noise, 0);
}

char *
mm_test_tmp_dir (const char *prefix)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *tmpl = g_strdup_printf ("%s-XXXXXX", prefix);
  char *dir = g_dir_make_tmp (tmpl, &err);
  g_assert_no_error (err);
  return dir;
}

void
mm_test_rm_rf (const char *path)
{
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      GDir *d = g_dir_open (path, 0, NULL);
      if (d != NULL)
        {
          const char *name;
          while ((name = g_dir_read_name (d)))
            {
              g_autofree char *child = g_build_filename (path, name, NULL);
              mm_test_rm_rf (child);
            }
          g_dir_close (d);
        }
      g_chmod (path, 0700); /* a read-only folder a test made */
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

MmJournal *
mm_test_journal_open (const char *dir, const MmVolume *vol, MmMask *mask, bool *recovered)
{
  g_autoptr (GError) err = NULL;
  MmJournal *j = mm_journal_open (dir, vol, mask, recovered, &err);
  g_assert_no_error (err);
  g_assert_nonnull (j);
  return j;
}

void
mm_test_journal_append (MmJournal *j, const int *ks, int n)
{
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_journal_append (j, ks, n, &err));
  g_assert_no_error (err);
}

goffset
mm_test_file_size (const char *path)
{
  GStatBuf st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_size;
}

void
mm_test_draw_disc (MmMask *m, int k, int ci, int cj, int r, uint8_t v)
{
  uint8_t *p = mm_mask_slice (m, k);
  for (int j = MAX (0, cj - r); j <= MIN (m->dims[1] - 1, cj + r); j++)
    for (int i = MAX (0, ci - r); i <= MIN (m->dims[0] - 1, ci + r); i++)
      if ((i - ci) * (i - ci) + (j - cj) * (j - cj) <= r * r)
        p[(size_t) j * m->dims[0] + i] = v;
}

void
mm_test_expect_stack_error (const char *dir, const MmVolume *vol, const char *needle)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (MmMask) m = mm_label_stack_read (dir, vol, &err);
  g_assert_null (m);
  g_assert_nonnull (err);
  if (strstr (err->message, needle) == NULL)
    g_error ("error \"%s\" does not mention \"%s\"", err->message, needle);
  g_assert_null (strchr (err->message, '\n'));
}

static int
corner_cmp (const void *a, const void *b)
{
  return memcmp (a, b, 9 * sizeof (float));
}

float *
mm_test_triangle_soup (const MmMesh *m)
{
  float *soup = g_new (float, 9 * MAX (m->n_triangles, 1));
  for (size_t t = 0; t < m->n_triangles; t++)
    {
      int first = 0;
      for (int c = 1; c < 3; c++)
        if (memcmp (m->positions + 3 * m->triangles[3 * t + c],
                    m->positions + 3 * m->triangles[3 * t + first], 3 * sizeof (float)) < 0)
          first = c;
      for (int c = 0; c < 3; c++)
        memcpy (soup + 9 * t + 3 * c, m->positions + 3 * m->triangles[3 * t + (first + c) % 3],
                3 * sizeof (float));
    }
  qsort (soup, m->n_triangles, 9 * sizeof (float), corner_cmp);
  return soup;
}
