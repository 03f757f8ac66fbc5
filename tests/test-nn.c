/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the network: every layer's backward pass against central finite differences
 * on tiny tensors, the loss against hand-computed values and its own finite differences,
 * determinism, and refused shapes. (tests/nn/test_torch_equivalence.py compares the same
 * network with PyTorch's autograd.) */
#include "mm-adam.h"
#include "mm-nn-loss.h"
#include "mm-unet.h"

#include <math.h>
#include <stdlib.h>
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

/* L = sum_i r_i z_i over the logits z: its gradient with respect to the logits is r, so the
 * network's backward alone is under test. */
static double
projected (MmUnetRun *run, const float *r, size_t n)
{
  const float *z = mm_unet_run_forward (run);
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double) r[i] * z[i];
  return s;
}

typedef struct
{
  int depth, width, batch, h, w;
} Config;

static void
check_gradients (gconstpointer data)
{
  const Config *cfg = data;
  MmUnetArch arch = { .depth = cfg->depth, .width = cfg->width };
  g_autoptr (GError) err = NULL;
  g_autoptr (MmUnet) net = mm_unet_new (&arch, 7, &err);
  g_assert_no_error (err);
  g_autoptr (MmUnetRun) run = mm_unet_run_new (net, cfg->batch, cfg->h, cfg->w, true, &err);
  g_assert_no_error (err);
  mm_unet_run_want_input_grad (run, true);

  rng_state = 42;
  size_t n_in = (size_t) cfg->batch * MM_UNET_IN_CHANNELS * cfg->h * cfg->w;
  size_t n_out = (size_t) cfg->batch * cfg->h * cfg->w;
  float *in = mm_unet_run_input (run);
  for (size_t i = 0; i < n_in; i++)
    in[i] = (float) rnd ();
  g_autofree float *r = g_new (float, n_out);
  for (size_t i = 0; i < n_out; i++)
    r[i] = (float) rnd ();
  /* Head bias 0: its initial -4.6 adds a constant to every logit, whose float rounding
   * would drown the finite differences. Batch norm shift and scale away from their initial 0
   * and 1, so that their gradients are generic. */
  mm_unet_param_data (net, mm_unet_find_param (net, "head.bias"))[0] = 0.f;
  for (int p = 0; p < mm_unet_n_params (net); p++)
    if (strstr (mm_unet_param_name (net, p), ".bn") && mm_unet_param_trainable (net, p))
      {
        float *d = mm_unet_param_data (net, p);
        for (size_t k = 0; k < mm_unet_param_size (net, p); k++)
          d[k] += (float) (0.3 * rnd ());
      }

  projected (run, r, n_out);
  mm_unet_run_backward (run, r);

  int checked = 0, bad = 0;
  for (int p = -1; p < mm_unet_n_params (net); p++)
    {
      float *x;
      const float *g;
      size_t n;
      const char *name;
      g_autofree float *gcopy = NULL;
      if (p < 0)
        {
          x = in;
          n = n_in;
          name = "input";
          gcopy = g_memdup2 (mm_unet_run_input_grad (run), n * sizeof (float));
        }
      else
        {
          if (!mm_unet_param_trainable (net, p))
            continue;
          x = mm_unet_param_data (net, p);
          n = mm_unet_param_size (net, p);
          name = mm_unet_param_name (net, p);
          gcopy = g_memdup2 (mm_unet_param_grad (net, p), n * sizeof (float));
        }
      g = gcopy;
      double rms = 0;
      for (size_t k = 0; k < n; k++)
        rms += (double) g[k] * g[k];
      rms = sqrt (rms / n);
      int probes = MIN ((int) n, 5);
      for (int t = 0; t < probes; t++)
        {
          size_t k = (size_t) ((rnd () + 1.0) * 0.5 * n) % n;
          float orig = x[k];
          /* Three step sizes: float32 rounding of the forward spoils small steps, ReLU and
           * max-pool switches inside +-h spoil large ones; a correct backward agrees with
           * at least one, a wrong one (a missing term, a sign) with none. */
          static const double steps[] = { 1e-4, 5e-4, 2e-3 };
          double fd = 0;
          bool ok = false;
          for (size_t si = 0; si < G_N_ELEMENTS (steps) && !ok; si++)
            {
              double h = steps[si] * MAX (1.0, fabs (orig));
              x[k] = (float) (orig + h);
              double hp = (double) x[k] - orig;
              double lp = projected (run, r, n_out);
              x[k] = (float) (orig - h);
              double hm = orig - (double) x[k];
              double lm = projected (run, r, n_out);
              x[k] = orig;
              fd = (lp - lm) / (hp + hm);
              ok = fabs (fd - g[k]) <= 0.05 * fabs (fd) + 0.03 * rms + 1e-5;
            }
          checked++;
          if (!ok)
            {
              bad++;
              g_test_message ("%s[%zu]: backward %.6g, finite difference %.6g (rms %.3g)", name,
                              k, g[k], fd, rms);
            }
        }
    }
  g_test_message ("%d gradient entries checked, %d off", checked, bad);
  /* Rarely, switches and rounding spoil every step size of a probe; a wrong backward is off
   * at most probes. */
  g_assert_cmpint (bad, <=, checked / 30);
}

static void
test_loss_values (void)
{
  /* All logits 0: p = 1/2, BCE = ln 2; 4 of 10 targets set:
   * dice = (2 * 0.5 * 4 + 1) / (5 + 4 + 1) = 0.5. */
  float z[10] = { 0 };
  uint8_t t[10] = { 1, 1, 1, 1, 0, 0, 0, 0, 0, 0 };
  MmNnLoss l;
  mm_nn_loss_dice_bce (z, t, 10, NULL, &l);
  g_assert_cmpfloat_with_epsilon (l.bce, log (2.0), 1e-12);
  g_assert_cmpfloat_with_epsilon (l.soft_dice, 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (l.loss, log (2.0) + 0.5, 1e-12);
  /* z > 0 predicts metal: none here, so tp = fp = 0, fn = 4, hard Dice 0 */
  g_assert_cmpint (l.fn, ==, 4);
  g_assert_cmpfloat (l.hard_dice, ==, 0.0);
  /* Both empty: hard Dice 1 by convention. */
  uint8_t none[10] = { 0 };
  float neg[10];
  for (int i = 0; i < 10; i++)
    neg[i] = -5.f;
  mm_nn_loss_dice_bce (neg, none, 10, NULL, &l);
  g_assert_cmpfloat (l.hard_dice, ==, 1.0);
}

static void
test_loss_gradient (void)
{
  rng_state = 3;
  enum { N = 300 };
  float z[N], g[N];
  uint8_t t[N];
  for (int i = 0; i < N; i++)
    {
      z[i] = (float) (4 * rnd ());
      t[i] = rnd () > 0.6;
    }
  MmNnLoss l;
  mm_nn_loss_dice_bce (z, t, N, g, &l);
  for (int i = 0; i < N; i += 7)
    {
      float orig = z[i];
      MmNnLoss lp, lm;
      z[i] = orig + 1e-2f;
      mm_nn_loss_dice_bce (z, t, N, NULL, &lp);
      z[i] = orig - 1e-2f;
      mm_nn_loss_dice_bce (z, t, N, NULL, &lm);
      z[i] = orig;
      double fd = (lp.loss - lm.loss) / ((double) (orig + 1e-2f) - (double) (orig - 1e-2f));
      g_assert_cmpfloat_with_epsilon (g[i], fd, 1e-4 * fabs (fd) + 1e-6);
    }
}

/* Data-parallel training: the batch split over ranks, the sums added, each rank's gradient
 * from the added sums must be the whole batch's gradient and loss (Dice is over the whole
 * batch, so a mean of per-part losses would not be). */
static void
test_loss_split (void)
{
  rng_state = 5;
  enum { N = 300, CUT = 110 };
  float z[N], g[N], gs[N];
  uint8_t t[N];
  for (int i = 0; i < N; i++)
    {
      z[i] = (float) (4 * rnd () - 2);
      t[i] = rnd () > 0.6;
    }
  MmNnLoss whole, part;
  mm_nn_loss_dice_bce (z, t, N, g, &whole);
  MmNnLossSums a, b;
  mm_nn_loss_sums (z, t, CUT, &a);
  mm_nn_loss_sums (z + CUT, t + CUT, N - CUT, &b);
  for (int j = 0; j < MM_NN_LOSS_N_SUMS; j++)
    a.v[j] += b.v[j];
  mm_nn_loss_finish (&a, z, t, CUT, gs, &part);
  mm_nn_loss_finish (&a, z + CUT, t + CUT, N - CUT, gs + CUT, &part);
  g_assert_cmpfloat_with_epsilon (part.loss, whole.loss, 1e-12);
  g_assert_cmpuint (part.tp + part.fp + part.fn, ==, whole.tp + whole.fp + whole.fn);
  for (int i = 0; i < N; i++)
    g_assert_cmpfloat_with_epsilon (gs[i], g[i], 1e-7 * fabs (g[i]) + 1e-12);
  /* The per-part loss alone is another function: the test would notice a missing sum. */
  MmNnLoss alone;
  mm_nn_loss_dice_bce (z, t, CUT, NULL, &alone);
  g_assert_cmpfloat (fabs (alone.loss - whole.loss), >, 1e-3);
}

static void
test_determinism (void)
{
  MmUnetArch arch = { .depth = 3, .width = 4 };
  float *grads[2];
  for (int rep = 0; rep < 2; rep++)
    {
      g_autoptr (MmUnet) net = mm_unet_new (&arch, 11, NULL);
      g_autoptr (MmUnetRun) run = mm_unet_run_new (net, 2, 16, 24, true, NULL);
      g_assert_nonnull (run);
      rng_state = 5;
      float *in = mm_unet_run_input (run);
      for (int i = 0; i < 2 * 3 * 16 * 24; i++)
        in[i] = (float) rnd ();
      uint8_t target[2 * 16 * 24];
      for (int i = 0; i < 2 * 16 * 24; i++)
        target[i] = rnd () > 0.8;
      float grad[2 * 16 * 24];
      MmAdamParams ap;
      mm_adam_params_init (&ap);
      g_autoptr (MmAdam) adam = mm_adam_new (net, &ap);
      for (int step = 0; step < 3; step++)
        {
          MmNnLoss l;
          mm_nn_loss_dice_bce (mm_unet_run_forward (run), target, G_N_ELEMENTS (target), grad,
                               &l);
          mm_unet_run_backward (run, grad);
          mm_adam_step (adam);
        }
      int p = mm_unet_find_param (net, "enc.1.conv2.weight");
      g_assert_cmpint (p, >=, 0);
      grads[rep] = g_memdup2 (mm_unet_param_data (net, p),
                              mm_unet_param_size (net, p) * sizeof (float));
      if (rep == 1)
        g_assert_cmpmem (grads[0], mm_unet_param_size (net, p) * sizeof (float), grads[1],
                         mm_unet_param_size (net, p) * sizeof (float));
    }
  g_free (grads[0]);
  g_free (grads[1]);
}

static void
test_shapes (void)
{
  MmUnetArch arch = { .depth = 3, .width = 4 };
  g_autoptr (GError) err = NULL;
  g_autoptr (MmUnet) net = mm_unet_new (&arch, 1, &err);
  g_assert_no_error (err);
  MmUnetRun *run = mm_unet_run_new (net, 1, 30, 32, false, &err);
  g_assert_null (run);
  g_assert_error (err, MM_NN_ERROR, MM_NN_ERROR_SHAPE);
  g_assert_nonnull (strstr (err->message, "multiples of 4"));
  g_clear_error (&err);
  MmUnetArch bad = { .depth = 9, .width = 4 };
  g_assert_null (mm_unet_new (&bad, 1, &err));
  g_assert_error (err, MM_NN_ERROR, MM_NN_ERROR_SHAPE);
  /* parameter names and shapes as PyTorch's state_dict has them */
  int up = mm_unet_find_param (net, "dec.1.up.weight");
  int64_t shape[4];
  g_assert_cmpint (mm_unet_param_shape (net, up, shape), ==, 4);
  g_assert_cmpint (shape[0], ==, 16);
  g_assert_cmpint (shape[1], ==, 8);
  int c1 = mm_unet_find_param (net, "dec.0.conv1.weight");
  mm_unet_param_shape (net, c1, shape);
  g_assert_cmpint (shape[0], ==, 4);
  g_assert_cmpint (shape[1], ==, 8);
  /* 3x3 convs without bias: depth 3, width 4 -> hand count of trainable weights */
  size_t n = 0;
  int c[3] = { 4, 8, 16 };
  n += 3 * 4 * 9 + 4 * 4 * 9 + 2 * (4 + 4);     /* enc.0 */
  n += 4 * 8 * 9 + 8 * 8 * 9 + 2 * (8 + 8);     /* enc.1 */
  n += 8 * 16 * 9 + 16 * 16 * 9 + 2 * (16 + 16); /* enc.2 */
  for (int l = 0; l < 2; l++)
    n += c[l + 1] * c[l] * 4 + c[l] + 2 * c[l] * c[l] * 9 + c[l] * c[l] * 9 + 4 * c[l];
  n += 4 + 1;
  g_assert_cmpuint (mm_unet_n_weights (net), ==, n);
}

/* Running statistics away from 0 and 1 so that the folded batch norm matters, shifts
 * positive so that most ReLUs pass. */
static void
spread_statistics (MmUnet *net)
{
  for (int i = 0; i < mm_unet_n_params (net); i++)
    if (g_str_has_prefix (mm_unet_param_name (net, i), "enc.")
        || g_str_has_prefix (mm_unet_param_name (net, i), "dec."))
      if (strstr (mm_unet_param_name (net, i), ".bn") && g_str_has_suffix (mm_unet_param_name (net, i), ".bias"))
        for (size_t k = 0; k < mm_unet_param_size (net, i); k++)
          mm_unet_param_data (net, i)[k] = 0.5f;
  for (int i = 0; i < mm_unet_n_params (net); i++)
    if (strstr (mm_unet_param_name (net, i), "running_"))
      {
        float *d = mm_unet_param_data (net, i);
        for (size_t k = 0; k < mm_unet_param_size (net, i); k++)
          d[k] = strstr (mm_unet_param_name (net, i), "var") ? 0.5f + 0.1f * k : 0.01f * k;
      }
}

/* Inference's head reads the last activation in its own layout (no reorder to plain):
 * its logits must equal, bit for bit, those of the head over the reordered plain copy
 * (MM_NN_HEAD_PLAIN=1), for every layout the run can choose. */
static void
check_head_layout (gconstpointer data)
{
  const char *const *c = data; /* layout, width */
  MmUnetArch arch = { .depth = 2, .width = atoi (c[1]) };
  g_autoptr (MmUnet) net = mm_unet_new (&arch, 5, NULL);
  spread_statistics (net);
  int batch = 2, h = 12, w = 20;
  size_t n_in = (size_t) batch * MM_UNET_IN_CHANNELS * h * w, n_out = (size_t) batch * h * w;
  float *logits[2] = { NULL, NULL };
  g_setenv ("MM_NN_LAYOUT", c[0], TRUE);
  for (int plain = 0; plain < 2; plain++)
    {
      if (plain)
        g_setenv ("MM_NN_HEAD_PLAIN", "1", TRUE);
      g_autoptr (GError) err = NULL;
      g_autoptr (MmUnetRun) run = mm_unet_run_new (net, batch, h, w, false, &err);
      g_unsetenv ("MM_NN_HEAD_PLAIN");
      g_assert_no_error (err);
      rng_state = 9;
      float *in = mm_unet_run_input (run);
      for (size_t i = 0; i < n_in; i++)
        in[i] = (float) rnd ();
      logits[plain] = g_memdup2 (mm_unet_run_forward (run), n_out * sizeof (float));
    }
  g_unsetenv ("MM_NN_LAYOUT");
  size_t nonzero = 0;
  for (size_t i = 0; i < n_out; i++)
    nonzero += logits[0][i] != logits[0][0];
  g_assert_cmpuint (nonzero, >, n_out / 2); /* not a constant: the input reached the head */
  g_assert_cmpmem (logits[0], n_out * sizeof (float), logits[1], n_out * sizeof (float));
  g_free (logits[0]);
  g_free (logits[1]);
}

/* Inference runs the 2x2 stride-2 transposed convolutions as a 1x1 convolution to 4 c
 * channels and a pixel shuffle (mm-unet-up.c): its logits must equal those of oneDNN's
 * deconvolution (MM_NN_UP=deconv; nn-torch checks that one against PyTorch) to float
 * rounding, in every layout the shuffle takes (channel blocks of 8 and 16, nhwc), batch 2,
 * two decoder levels, odd-sized low levels. */
static void
check_up_as_conv (gconstpointer data)
{
  const char *const *c = data; /* layout, width */
  MmUnetArch arch = { .depth = 3, .width = atoi (c[1]) };
  g_autoptr (MmUnet) net = mm_unet_new (&arch, 7, NULL);
  spread_statistics (net);
  /* transposed convolutions' biases non-zero, so that a misplaced bias shows */
  for (int i = 0; i < mm_unet_n_params (net); i++)
    if (strstr (mm_unet_param_name (net, i), ".up.bias"))
      for (size_t k = 0; k < mm_unet_param_size (net, i); k++)
        mm_unet_param_data (net, i)[k] = 0.05f * (float) k - 0.1f;
  int batch = 2, h = 12, w = 20;
  size_t n_in = (size_t) batch * MM_UNET_IN_CHANNELS * h * w, n_out = (size_t) batch * h * w;
  float *logits[2] = { NULL, NULL };
  g_setenv ("MM_NN_LAYOUT", c[0], TRUE);
  for (int deconv = 0; deconv < 2; deconv++)
    {
      if (deconv)
        g_setenv ("MM_NN_UP", "deconv", TRUE);
      g_autoptr (GError) err = NULL;
      g_autoptr (MmUnetRun) run = mm_unet_run_new (net, batch, h, w, false, &err);
      g_unsetenv ("MM_NN_UP");
      g_assert_no_error (err);
      rng_state = 11;
      float *in = mm_unet_run_input (run);
      for (size_t i = 0; i < n_in; i++)
        in[i] = (float) rnd ();
      logits[deconv] = g_memdup2 (mm_unet_run_forward (run), n_out * sizeof (float));
    }
  g_unsetenv ("MM_NN_LAYOUT");
  double worst = 0, scale = 0;
  size_t distinct = 0;
  for (size_t i = 0; i < n_out; i++)
    {
      worst = MAX (worst, fabs ((double) logits[0][i] - logits[1][i]));
      scale = MAX (scale, fabs ((double) logits[1][i]));
      distinct += logits[1][i] != logits[1][0];
    }
  g_assert_cmpuint (distinct, >, n_out / 2); /* the input reached the head */
  g_assert_cmpfloat (scale, >, 0.1);
  g_assert_cmpfloat (worst, <=, 1e-5 * MAX (1.0, scale));
  g_free (logits[0]);
  g_free (logits[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  static const Config configs[] = {
    { 1, 4, 2, 8, 8 },
    { 2, 4, 2, 16, 16 },
    { 3, 4, 2, 16, 24 },
    { 3, 16, 1, 16, 16 },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (configs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/nn/gradients/depth%d-width%d-%dx%dx%d",
                                               configs[i].depth, configs[i].width,
                                               configs[i].batch, configs[i].h, configs[i].w);
      g_test_add_data_func (path, &configs[i], check_gradients);
    }
  g_test_add_func ("/nn/loss/values", test_loss_values);
  g_test_add_func ("/nn/loss/gradient", test_loss_gradient);
  g_test_add_func ("/nn/loss/split", test_loss_split);
  g_test_add_func ("/nn/determinism", test_determinism);
  g_test_add_func ("/nn/shapes", test_shapes);
  static const char *const heads[][2] = {
    { "blocked8", "8" }, { "blocked16", "16" }, { "blocked16", "8" }, { "nhwc", "8" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (heads); i++)
    {
      g_autofree char *path = g_strdup_printf ("/nn/head/%s-width%s", heads[i][0], heads[i][1]);
      g_test_add_data_func (path, heads[i], check_head_layout);
    }
  static const char *const ups[][2] = {
    { "blocked8", "8" }, { "blocked16", "16" }, { "nhwc", "8" }, { "nhwc", "4" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (ups); i++)
    {
      g_autofree char *path = g_strdup_printf ("/nn/up-as-conv/%s-width%s", ups[i][0], ups[i][1]);
      g_test_add_data_func (path, ups[i], check_up_as_conv);
    }
  return g_test_run ();
}
