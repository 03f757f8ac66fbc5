/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The distance transforms (mm-distance.c) against brute force: every pair of samples tried, on
 * small random lines and slices with random spacings, empty and full ones included. */
#include "mm-distance.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

/* Equal, or both infinite; a tie between two nearest samples may round differently. */
static void
assert_same_distance (double got, double expect)
{
  if (isinf (expect))
    g_assert_true (isinf (got) && got > 0);
  else
    g_assert_cmpfloat_with_epsilon (got, expect, 1e-9 * (1 + expect));
}

/* Lines of 1..40 samples, spacing 0.1..3 mm, f finite at none, some or all samples (values
 * 0..50, as the squared distances of an earlier pass would be). */
static void
test_1d_random (void)
{
  GRand *r = g_rand_new_with_seed (11);
  double f[40], d[40], z[41];
  int v[40];
  int all_infinite = 0, some = 0;
  for (int round = 0; round < 3000; round++)
    {
      int n = g_rand_int_range (r, 1, 41);
      double s = g_rand_double_range (r, 0.1, 3);
      static const double p_inf[] = { 0, 0.5, 0.9, 1 };
      double pi = p_inf[round % 4];
      for (int q = 0; q < n; q++)
        f[q] = g_rand_double (r) < pi ? INFINITY : g_rand_double_range (r, 0, 50);
      mm_distance_1d (f, d, n, s, v, z);
      bool finite = false;
      for (int p = 0; p < n; p++)
        {
          double best = INFINITY;
          for (int q = 0; q < n; q++)
            if (!isinf (f[q]))
              {
                double t = s * (p - q);
                best = MIN (best, t * t + f[q]);
              }
          finite |= !isinf (best);
          assert_same_distance (d[p], best);
        }
      if (finite)
        some++;
      else
        all_infinite++;
    }
  g_rand_free (r);
  /* Both cases were met. */
  g_assert_cmpint (all_infinite, >, 100);
  g_assert_cmpint (some, >, 1000);
}

/* Slices of 1..20 x 1..20 pixels with seeds at none, a few, many or all pixels. */
static void
test_squared_2d_random (void)
{
  GRand *r = g_rand_new_with_seed (12);
  uint8_t seed[20 * 20];
  double out[20 * 20];
  for (int round = 0; round < 600; round++)
    {
      int w = g_rand_int_range (r, 1, 21), h = g_rand_int_range (r, 1, 21);
      double sx = g_rand_double_range (r, 0.2, 3), sy = g_rand_double_range (r, 0.2, 3);
      static const double density[] = { 0, 0.02, 0.3, 1 };
      for (int p = 0; p < w * h; p++)
        seed[p] = g_rand_double (r) < density[round % 4];
      mm_distance_squared_2d (seed, w, h, sx, sy, out);
      for (int p = 0; p < w * h; p++)
        {
          double best = INFINITY;
          for (int q = 0; q < w * h; q++)
            if (seed[q])
              {
                double dx = (p % w - q % w) * sx, dy = (p / w - q / w) * sy;
                best = MIN (best, dx * dx + dy * dy);
              }
          assert_same_distance (out[p], best);
        }
    }
  g_rand_free (r);
}

/* The signed distance against a brute-force distance to the nearest pixel of the other class. */
static void
test_signed_2d (void)
{
  const int w = 23, h = 17;
  const double sx = 0.7, sy = 1.3;
  uint8_t img[23 * 17];
  GRand *r = g_rand_new_with_seed (3);
  for (int p = 0; p < w * h; p++)
    img[p] = g_rand_double (r) < 0.3;
  g_rand_free (r);
  float out[23 * 17];
  mm_distance_signed_2d (img, w, h, sx, sy, out);
  for (int p = 0; p < w * h; p++)
    {
      double best = INFINITY;
      for (int q = 0; q < w * h; q++)
        if (img[q] != img[p])
          best = MIN (best, hypot ((p % w - q % w) * sx, (p / w - q / w) * sy));
      double expect = (best - 0.5 * MIN (sx, sy)) * (img[p] ? -1 : 1);
      g_assert_cmpfloat_with_epsilon (out[p], expect, 1e-4);
    }
}

/* A slice of one class has no boundary: the signed distance says so with its sign. */
static void
test_signed_2d_one_class (void)
{
  uint8_t img[6 * 4];
  float out[6 * 4];
  for (int fill = 0; fill < 2; fill++)
    {
      memset (img, fill, sizeof img);
      mm_distance_signed_2d (img, 6, 4, 1, 1, out);
      for (int p = 0; p < 6 * 4; p++)
        g_assert_cmpfloat (out[p], ==, fill ? -1e9f : 1e9f);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/distance/1d/random-vs-brute-force", test_1d_random);
  g_test_add_func ("/distance/squared-2d/random-vs-brute-force", test_squared_2d_random);
  g_test_add_func ("/distance/signed-2d/random-vs-brute-force", test_signed_2d);
  g_test_add_func ("/distance/signed-2d/one-class", test_signed_2d_one_class);
  return g_test_run ();
}
