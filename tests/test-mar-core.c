/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the volume API of metal artifact reduction (mm-mar.c): refused input, progress and
 * cancellation, slices without metal and the metal itself left alone, the same result on any
 * thread count, and an image without artifacts left (nearly) as it is. The quality figures
 * against simulated scans are in tests/ct/test_mar.py. */
#include "mm-ct-project.h"
#include "mm-mar.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define N 96
#define NZ 4

/* A water disc (0 HU) in air with a 3000 HU rod on slices 1 and 2; spacing 2 mm. */
static MmVolume *
rod_volume (MmMask **mask)
{
  const int dims[3] = { N, N, NZ };
  MmVolume *vol = mm_volume_new (dims, MM_VOXEL_INT16);
  vol->spacing[0] = vol->spacing[1] = 2.0;
  vol->spacing[2] = 2.0;
  *mask = mm_mask_new (dims);
  gint16 *v = vol->voxels;
  for (int k = 0; k < NZ; k++)
    for (int j = 0; j < N; j++)
      for (int i = 0; i < N; i++)
        {
          double x = i - N / 2.0 + 0.5, y = j - N / 2.0 + 0.5;
          size_t idx = ((size_t) k * N + j) * N + i;
          bool rod = (k == 1 || k == 2) && hypot (x - 12, y) <= 4;
          v[idx] = rod ? 3000 : hypot (x, y) <= 40 ? 0 : -1000;
          (*mask)->data[idx] = rod;
        }
  return vol;
}

typedef struct
{
  int calls, last, stop_after;
} Counter;

static bool
count_cb (int done, int total, gpointer user_data)
{
  Counter *c = user_data;
  g_assert_cmpint (total, ==, NZ);
  g_assert_cmpint (done, ==, c->last + 1);
  c->calls++;
  c->last = done;
  return c->stop_after == 0 || c->calls < c->stop_after;
}

static void
test_refused (void)
{
  MmMask *mask;
  g_autoptr (MmVolume) vol = rod_volume (&mask);
  g_autoptr (MmMask) m = mask;
  g_autofree gint16 *out = g_new (gint16, mm_volume_n_voxels (vol));
  MmMarParams p;
  mm_mar_params_init (&p);
  g_autoptr (GError) err = NULL;

  const int other[3] = { N, N, NZ + 1 };
  g_autoptr (MmMask) wrong = mm_mask_new (other);
  g_assert_false (mm_mar_volume (&p, vol, wrong, out, 1, NULL, NULL, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&err);

  vol->spacing[1] = 2.5;
  g_assert_false (mm_mar_volume (&p, vol, m, out, 1, NULL, NULL, &err));
  g_assert_nonnull (strstr (err->message, "square pixels"));
  g_clear_error (&err);
  vol->spacing[1] = 2.0;

  p.n_views = 3;
  g_assert_false (mm_mar_volume (&p, vol, m, out, 1, NULL, NULL, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_cancel (void)
{
  MmMask *mask;
  g_autoptr (MmVolume) vol = rod_volume (&mask);
  g_autoptr (MmMask) m = mask;
  g_autofree gint16 *out = g_new (gint16, mm_volume_n_voxels (vol));
  MmMarParams p;
  mm_mar_params_init (&p);
  g_autoptr (GError) err = NULL;
  Counter c = { 0, 0, 1 };
  g_assert_false (mm_mar_volume (&p, vol, m, out, 1, count_cb, &c, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (c.calls, ==, 1);
}

static void
test_volume (void)
{
  MmMask *mask;
  g_autoptr (MmVolume) vol = rod_volume (&mask);
  g_autoptr (MmMask) m = mask;
  size_t nv = mm_volume_n_voxels (vol), np = (size_t) N * N;
  g_autofree gint16 *a = g_new (gint16, nv), *b = g_new (gint16, nv);
  const gint16 *src = vol->voxels;
  for (int method = MM_MAR_LI; method <= MM_MAR_NMAR; method++)
    {
      MmMarParams p;
      mm_mar_params_init (&p);
      p.method = method;
      g_autoptr (GError) err = NULL;
      Counter c = { 0, 0, 0 };
      g_assert_true (mm_mar_volume (&p, vol, m, a, 1, count_cb, &c, &err));
      g_assert_no_error (err);
      g_assert_cmpint (c.calls, ==, NZ);
      g_assert_true (mm_mar_volume (&p, vol, m, b, 2, NULL, NULL, &err));
      g_assert_cmpmem (a, nv * 2, b, nv * 2);
      /* Slices without metal are copied. */
      g_assert_cmpmem (a, np * 2, src, np * 2);
      g_assert_cmpmem (a + 3 * np, np * 2, src + 3 * np, np * 2);
      /* The metal is put back; the water around it, free of artifacts in the input, stays
       * near 0 HU: nothing in the rod's rays was inconsistent. */
      double sum = 0;
      int n = 0;
      for (int k = 1; k <= 2; k++)
        for (size_t x = 0; x < np; x++)
          {
            size_t idx = (size_t) k * np + x;
            if (m->data[idx])
              g_assert_cmpint (a[idx], ==, src[idx]);
            else if (src[idx] == 0)
              sum += fabs ((double) a[idx]), n++;
          }
      g_test_message ("%s: mean |change| of water %.1f HU", mm_mar_method_label (method),
                      sum / n);
      g_assert_cmpfloat (sum / n, <, 15.0);
    }
}

/* mm_ct_project_single (what MAR projects with) gives the same line integrals as the
 * 4-value mm_ct_project (checked against analytic chords and scikit-image in
 * tests/ct/test_ct_sim.py) on the first value, over a box smaller than the image. */
static void
test_project_single (void)
{
  const int n = 64;
  g_autofree float *four = g_new0 (float, (size_t) n * n * 4);
  g_autofree float *one = g_new0 (float, (size_t) n * n);
  for (int j = 10; j < 50; j++)
    for (int i = 5; i < 58; i++)
      {
        float v = (float) (0.01 + 0.001 * ((i * 7 + j * 13) % 17));
        one[(size_t) j * n + i] = four[((size_t) j * n + i) * 4] = v;
        four[((size_t) j * n + i) * 4 + 1] = 0.5f; /* must not leak into value 0 */
      }
  MmCtGeometry g;
  memset (&g, 0, sizeof g);
  g.beam = MM_CT_FAN, g.n_views = 90, g.n_det = 121, g.sid_mm = 200, g.sdd_mm = 400;
  g.det_pitch = 1.0 / 200, g.arc_rad = 2 * G_PI;
  MmCtImage a = { n, 1.0, 31.5, 31.5, four, { 5, 10, 57, 49 } };
  MmCtImage b = { n, 1.0, 31.5, 31.5, one, { 5, 10, 57, 49 } };
  g_autofree float *sa = g_new (float, (size_t) 90 * 121 * 4);
  g_autofree float *sb = g_new (float, (size_t) 90 * 121);
  g_assert_true (mm_ct_project (&g, &a, sa));
  g_assert_true (mm_ct_project_single (&g, &b, sb));
  double worst = 0, top = 0;
  for (size_t x = 0; x < (size_t) 90 * 121; x++)
    {
      worst = MAX (worst, fabs (sa[x * 4] - sb[x]));
      top = MAX (top, sb[x]);
    }
  g_assert_cmpfloat (top, >, 0.3);
  g_assert_cmpfloat (worst, <=, 1e-6 * top);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mar/refused", test_refused);
  g_test_add_func ("/mar/cancel", test_cancel);
  g_test_add_func ("/mar/volume", test_volume);
  g_test_add_func ("/mar/project-single", test_project_single);
  return g_test_run ();
}
