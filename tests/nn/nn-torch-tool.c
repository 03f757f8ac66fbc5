/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test-only: runs the U-Net on a given input and target and dumps everything
 * tests/nn/test_torch_equivalence.py compares with PyTorch, as raw little-endian float32
 * files plus index.json:
 *   init.NAME      every parameter and buffer as created (seeded; batch norm parameters and
 *                  running statistics perturbed, so that none is trivially 1 or 0)
 *   logits_eval    inference-mode logits (running statistics of init)
 *   logits_train   training-mode logits; grad_logits: d loss / d logits of that
 *   grad1.NAME     every trainable parameter's gradient; input_grad: d loss / d input
 *   step1.NAME     every parameter and buffer after one Adam step (running stats updated)
 *   grad2.NAME, step2.NAME   the same for a second training iteration on the same batch
 * Usage: nn-torch-tool --depth D --width W --batch B --size HxW --seed S
 *                      --input IN.f32 (B x 3 x H x W) --target T.u8 (B x H x W) --out DIR */
#include "mm-adam.h"
#include "mm-nn-loss.h"
#include "mm-unet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *out_dir;

static void
dump (const char *stage, const char *name, const float *data, size_t n)
{
  g_autofree char *file = g_strdup_printf ("%s%s%s.f32", stage, name ? "." : "", name ? name : "");
  g_autofree char *path = g_build_filename (out_dir, file, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_file_set_contents (path, (const char *) data, n * sizeof *data, &error))
    g_error ("%s", error->message);
}

static void
dump_params (MmUnet *net, const char *stage, bool grads)
{
  for (int i = 0; i < mm_unet_n_params (net); i++)
    if (!grads || mm_unet_param_trainable (net, i))
      dump (stage, mm_unet_param_name (net, i),
            grads ? mm_unet_param_grad (net, i) : mm_unet_param_data (net, i),
            mm_unet_param_size (net, i));
}

static void
print_loss (FILE *f, const char *key, const MmNnLoss *l)
{
  fprintf (f, "  \"%s\": {\"loss\": %.17g, \"bce\": %.17g, \"soft_dice\": %.17g, "
              "\"hard_dice\": %.17g, \"tp\": %" G_GUINT64_FORMAT ", \"fp\": %" G_GUINT64_FORMAT
              ", \"fn\": %" G_GUINT64_FORMAT "},\n",
           key, l->loss, l->bce, l->soft_dice, l->hard_dice, l->tp, l->fp, l->fn);
}

/* One training iteration: forward, loss, backward, Adam; dumps under gradN / stepN. */
static void
train_step (MmUnet *net, MmUnetRun *run, MmAdam *adam, const float *x, const uint8_t *t,
            size_t n, int iter, MmNnLoss *loss)
{
  g_autofree float *grad = g_new (float, n);
  memcpy (mm_unet_run_input (run), x, 3 * n * sizeof *x);
  const float *z = mm_unet_run_forward (run);
  mm_nn_loss_dice_bce (z, t, n, grad, loss);
  if (iter == 1)
    {
      dump ("logits_train", NULL, z, n);
      dump ("grad_logits", NULL, grad, n);
    }
  mm_unet_run_backward (run, grad);
  if (iter == 1)
    dump ("input_grad", NULL, mm_unet_run_input_grad (run), 3 * n);
  g_autofree char *g = g_strdup_printf ("grad%d", iter), *s = g_strdup_printf ("step%d", iter);
  dump_params (net, g, true);
  mm_adam_step (adam);
  dump_params (net, s, false);
}

static gpointer
read_exact (const char *path, size_t bytes)
{
  g_autoptr (GError) error = NULL;
  char *data;
  gsize len;
  if (!g_file_get_contents (path, &data, &len, &error))
    g_error ("%s", error->message);
  if (len != bytes)
    g_error ("%s: %zu bytes, expected %zu", path, (size_t) len, bytes);
  return data;
}

int
main (int argc, char **argv)
{
  int depth = 0, width = 0, batch = 1, h = 0, w = 0, seed = 1;
  const char *input = NULL, *target = NULL;
  for (int i = 1; i + 1 < argc; i += 2)
    {
      const char *k = argv[i], *v = argv[i + 1];
      if (strcmp (k, "--depth") == 0)
        depth = atoi (v);
      else if (strcmp (k, "--width") == 0)
        width = atoi (v);
      else if (strcmp (k, "--batch") == 0)
        batch = atoi (v);
      else if (strcmp (k, "--size") == 0)
        sscanf (v, "%dx%d", &h, &w);
      else if (strcmp (k, "--seed") == 0)
        seed = atoi (v);
      else if (strcmp (k, "--input") == 0)
        input = v;
      else if (strcmp (k, "--target") == 0)
        target = v;
      else if (strcmp (k, "--out") == 0)
        out_dir = v;
      else
        g_error ("unknown option %s", k);
    }
  if (depth <= 0 || width <= 0 || batch <= 0 || h <= 0 || w <= 0 || !input || !target || !out_dir)
    {
      fprintf (stderr, "usage: nn-torch-tool --depth D --width W --batch B --size HxW "
                       "[--seed S] --input IN.f32 --target T.u8 --out DIR\n");
      return 2;
    }
  size_t n = (size_t) batch * h * w;
  g_autofree float *x = read_exact (input, 3 * n * sizeof (float));
  g_autofree uint8_t *t = read_exact (target, n);

  g_autoptr (GError) error = NULL;
  MmUnetArch arch = { .depth = depth, .width = width };
  g_autoptr (MmUnet) net = mm_unet_new (&arch, seed, &error);
  if (net == NULL)
    g_error ("%s", error->message);
  /* Batch norm: scale, shift and running statistics away from their initial 1 and 0. */
  GRand *rng = g_rand_new_with_seed (seed + 1000);
  for (int i = 0; i < mm_unet_n_params (net); i++)
    {
      const char *name = mm_unet_param_name (net, i);
      if (strstr (name, ".bn") == NULL)
        continue;
      bool var = g_str_has_suffix (name, "running_var"), scale = g_str_has_suffix (name, ".weight");
      float *p = mm_unet_param_data (net, i);
      for (size_t k = 0; k < mm_unet_param_size (net, i); k++)
        p[k] = var ? g_rand_double_range (rng, 0.5, 2.0)
                   : (scale ? 1 : 0) + g_rand_double_range (rng, -0.3, 0.3);
    }
  g_rand_free (rng);
  dump_params (net, "init", false);

  g_autoptr (MmUnetRun) eval = mm_unet_run_new (net, batch, h, w, false, &error);
  if (eval == NULL)
    g_error ("%s", error->message);
  memcpy (mm_unet_run_input (eval), x, 3 * n * sizeof *x);
  dump ("logits_eval", NULL, mm_unet_run_forward (eval), n);

  g_autoptr (MmUnetRun) run = mm_unet_run_new (net, batch, h, w, true, &error);
  if (run == NULL)
    g_error ("%s", error->message);
  mm_unet_run_want_input_grad (run, true);
  MmAdamParams ap;
  mm_adam_params_init (&ap);
  g_autoptr (MmAdam) adam = mm_adam_new (net, &ap);
  MmNnLoss loss1, loss2;
  train_step (net, run, adam, x, t, n, 1, &loss1);
  train_step (net, run, adam, x, t, n, 2, &loss2);

  g_autofree char *index = g_build_filename (out_dir, "index.json", NULL);
  FILE *f = fopen (index, "w");
  if (f == NULL)
    g_error ("cannot write %s", index);
  fprintf (f, "{\n  \"depth\": %d, \"width\": %d, \"batch\": %d, \"height\": %d, \"cols\": %d,\n",
           depth, width, batch, h, w);
  print_loss (f, "loss1", &loss1);
  print_loss (f, "loss2", &loss2);
  fprintf (f, "  \"params\": [\n");
  for (int i = 0; i < mm_unet_n_params (net); i++)
    {
      int64_t shape[4];
      int nd = mm_unet_param_shape (net, i, shape);
      fprintf (f, "    {\"name\": \"%s\", \"trainable\": %s, \"shape\": [", mm_unet_param_name (net, i),
               mm_unet_param_trainable (net, i) ? "true" : "false");
      for (int d = 0; d < nd; d++)
        fprintf (f, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
      fprintf (f, "]}%s\n", i + 1 < mm_unet_n_params (net) ? "," : "");
    }
  fprintf (f, "  ]\n}\n");
  return fclose (f) == 0 ? 0 : 1;
}
