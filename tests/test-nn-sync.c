/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Synchronised batch norm (mm_unet_run_new_sync, mm_unet_runs_forward/backward): a group
 * of R runs of batch B must compute what one ordinary run of batch R x B computes, the
 * truth being oneDNN's own batch norm over the whole batch: the same logits, the same
 * gradient of every parameter (the sum of the runs' own), the same running statistics.
 * Only float rounding may differ (the statistics' sums are added in another order), so
 * the tolerance is 1e-4 of each tensor's largest magnitude; per-run batch norm (what the
 * runs compute without synchronisation) misses it by orders of magnitude, which is checked
 * too so that the test can tell the two apart. */
#include "mm-unet.h"

#include <math.h>
#include <string.h>

static guint64 rng_state;

static double
rnd (void) /* uniform in [-1, 1) */
{
  guint64 z = (rng_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return (double) (z >> 11) / 4503599627370496.0 - 1.0;
}

/* max |a - b| / max |b| */
static double
rel_diff (const float *a, const float *b, size_t n)
{
  double d = 0, m = 0;
  for (size_t i = 0; i < n; i++)
    {
      d = fmax (d, fabs ((double) a[i] - b[i]));
      m = fmax (m, fabs ((double) b[i]));
    }
  return m > 0 ? d / m : d;
}

#define R 2
#define B 3
#define H 16
#define W 16

typedef struct
{
  int width;    /* 8: blocked nChw8c; 16: nChw16c; 6: plain nhwc */
  bool sync;    /* false: the group without synchronisation, which must differ */
} Case;

static void
check_group (gconstpointer data)
{
  const Case *cs = data;
  MmUnetArch arch = { .depth = 3, .width = cs->width };
  g_autoptr (GError) err = NULL;
  /* Two networks with the same parameters: one for the whole batch, one for the group (the
   * running statistics are updated in place). */
  g_autoptr (MmUnet) net1 = mm_unet_new (&arch, 3, &err);
  g_assert_no_error (err);
  g_autoptr (MmUnet) netg = mm_unet_new (&arch, 3, &err);
  g_assert_no_error (err);
  g_autoptr (MmUnetRun) whole = mm_unet_run_new (net1, R * B, H, W, true, &err);
  g_assert_no_error (err);
  MmUnetRun *parts[R];
  for (int k = 0; k < R; k++)
    {
      parts[k] = cs->sync ? mm_unet_run_new_sync (netg, B, H, W, true, &err)
                          : mm_unet_run_new (netg, B, H, W, true, &err);
      g_assert_no_error (err);
    }

  /* Inputs with a per-image offset, so that the parts' statistics differ. */
  rng_state = 99;
  size_t img = (size_t) MM_UNET_IN_CHANNELS * H * W, plane = (size_t) H * W;
  float *in = mm_unet_run_input (whole);
  for (int b = 0; b < R * B; b++)
    for (size_t i = 0; i < img; i++)
      in[b * img + i] = (float) (rnd () + 0.5 * b);
  for (int b = 0; b < R * B; b++)
    memcpy (mm_unet_run_input (parts[b / B]) + (b % B) * img, in + b * img,
            img * sizeof (float));
  g_autofree float *r = g_new (float, R * B * plane);
  for (size_t i = 0; i < R * B * plane; i++)
    r[i] = (float) rnd ();

  const float *z = mm_unet_run_forward (whole);
  mm_unet_run_backward (whole, r);
  const float *gl[R];
  for (int k = 0; k < R; k++)
    gl[k] = r + k * B * plane;
  if (cs->sync)
    {
      mm_unet_runs_forward (parts, R, NULL, NULL);
      mm_unet_runs_backward (parts, gl, R, NULL, NULL);
    }
  else
    for (int k = 0; k < R; k++)
      {
        /* each part from the same running statistics; the last one's are kept */
        mm_unet_run_forward (parts[k]);
        mm_unet_run_backward (parts[k], gl[k]);
      }

  double worst_logits = 0, worst_grad = 0, worst_running = 0;
  for (int k = 0; k < R; k++)
    worst_logits = fmax (worst_logits, rel_diff (mm_unet_run_logits (parts[k]),
                                                 z + k * B * plane, B * plane));
  for (int i = 0; i < mm_unet_n_params (net1); i++)
    {
      size_t n = mm_unet_param_size (net1, i);
      if (!mm_unet_param_trainable (net1, i))
        {
          worst_running = fmax (worst_running, rel_diff (mm_unet_param_data (netg, i),
                                                         mm_unet_param_data (net1, i), n));
          continue;
        }
      g_autofree float *sum = g_new0 (float, n);
      for (int k = 0; k < R; k++)
        {
          const float *g = mm_unet_run_param_grad (parts[k], i);
          for (size_t j = 0; j < n; j++)
            sum[j] += g[j];
        }
      double d = rel_diff (sum, mm_unet_param_grad (net1, i), n);
      if (d > worst_grad)
        g_test_message ("%s: gradient differs by %.3g relative", mm_unet_param_name (net1, i),
                        d);
      worst_grad = fmax (worst_grad, d);
    }
  g_test_message ("%s, width %d: logits %.3g, gradients %.3g, running stats %.3g (relative)",
                  cs->sync ? "synchronised" : "per-part", cs->width, worst_logits, worst_grad,
                  worst_running);
  if (cs->sync)
    {
      g_assert_cmpfloat (worst_logits, <, 1e-4);
      g_assert_cmpfloat (worst_grad, <, 1e-4);
      g_assert_cmpfloat (worst_running, <, 1e-4);
    }
  else
    {
      /* the independent truth is discriminating: per-part statistics are far off */
      g_assert_cmpfloat (worst_logits, >, 1e-2);
      g_assert_cmpfloat (worst_grad, >, 1e-2);
    }
  for (int k = 0; k < R; k++)
    mm_unet_run_free (parts[k]);
}

/* A synchronised run alone is an ordinary training run. */
static void
test_alone (void)
{
  MmUnetArch arch = { .depth = 2, .width = 8 };
  g_autoptr (MmUnet) a = mm_unet_new (&arch, 5, NULL);
  g_autoptr (MmUnet) s = mm_unet_new (&arch, 5, NULL);
  g_autoptr (MmUnetRun) ra = mm_unet_run_new (a, 2, 8, 8, true, NULL);
  g_autoptr (MmUnetRun) rs = mm_unet_run_new_sync (s, 2, 8, 8, false, NULL);
  g_assert_nonnull (ra);
  g_assert_nonnull (rs);
  rng_state = 1;
  for (int i = 0; i < 2 * 3 * 64; i++)
    mm_unet_run_input (ra)[i] = mm_unet_run_input (rs)[i] = (float) rnd ();
  float r[2 * 64];
  for (int i = 0; i < 2 * 64; i++)
    r[i] = (float) rnd ();
  const float *za = mm_unet_run_forward (ra), *zs = mm_unet_run_forward (rs);
  g_assert_cmpfloat (rel_diff (zs, za, 2 * 64), <, 1e-4);
  mm_unet_run_backward (ra, r);
  mm_unet_run_backward (rs, r);
  for (int i = 0; i < mm_unet_n_params (a); i++)
    if (mm_unet_param_trainable (a, i))
      {
        /* own_grads false: the network's gradients */
        g_assert_true (mm_unet_run_param_grad (rs, i) == mm_unet_param_grad (s, i));
        g_assert_cmpfloat (rel_diff (mm_unet_param_grad (s, i), mm_unet_param_grad (a, i),
                                     mm_unet_param_size (a, i)), <, 1e-4);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  static const Case cases[] = { { 8, true }, { 6, true }, { 8, false }, { 16, true } };
  g_test_add_data_func ("/nn-sync/group/blocked", &cases[0], check_group);
  g_test_add_data_func ("/nn-sync/group/nhwc", &cases[1], check_group);
  g_test_add_data_func ("/nn-sync/group/unsynchronised-differs", &cases[2], check_group);
  g_test_add_data_func ("/nn-sync/group/blocked16", &cases[3], check_group);
  g_test_add_func ("/nn-sync/alone", test_alone);
  return g_test_run ();
}
