/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Timing of the U-Net: training images/s (forward, loss, backward, Adam) and inference
 * slices/s (inference mode, sigmoid), on synthetic CT-like slices; prints one JSON line, as
 * bench/nn/reference_torch.py does for PyTorch. bench/nn/run drives both.
 *   bench-nn --train [--batch 8] [--size 128] [--depth 3] [--width 8] [--steps 20] [--warmup 3]
 *   bench-nn --infer [--batch 4] [--size 512] [--slices 40] [--warmup 3]
 * The two sides compare only when they do the same work: bench/nn/run has this program write
 * the training batches and the initial weights once (--write-data FILE --write-init FILE),
 * then both sides read them (--data FILE --init FILE) and print every step's loss.
 * --auto-threads trains as the trainer does by default: per step on one thread or --threads,
 * whichever mm-nn-threads.h finds faster (bench/nn/load-run). */
#include "mm-adam.h"
#include "mm-nn-input.h"
#include "mm-nn-loss.h"
#include "mm-nn-model.h"
#include "mm-nn-threads.h"
#include "mm-nn-wait-policy.h"
#include "mm-safetensors.h"
#include "mm-unet.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_DATA 4 /* distinct training batches, cycled */

static double
cpu_seconds (void) /* of all threads of the process */
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Air, a soft-tissue ellipse with noise, a bone ring and 1-3 metal discs (as the Python side). */
static void
synthetic_hu (GRand *rng, int h, int w, int16_t *out)
{
  float cx[3], cy[3], rad[3], val[3];
  int n = g_rand_int_range (rng, 1, 4);
  for (int k = 0; k < n; k++)
    {
      cx[k] = g_rand_double_range (rng, 0.3, 0.7) * w;
      cy[k] = g_rand_double_range (rng, 0.3, 0.7) * h;
      rad[k] = g_rand_double_range (rng, 0.01, 0.04) * MIN (h, w) + 1;
      val[k] = g_rand_double_range (rng, 3000, 15000);
    }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float dx = (x - w / 2.f) / (0.45f * w), dy = (y - h / 2.f) / (0.4f * h);
        float r = dx * dx + dy * dy, v = -1000;
        if (r < 1)
          {
            double u1 = g_rand_double (rng) + 1e-12, u2 = g_rand_double (rng);
            v = 40 + 20 * sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
          }
        if (r > 0.7f && r < 0.8f)
          v = 1000;
        for (int k = 0; k < n; k++)
          if ((x - cx[k]) * (x - cx[k]) + (y - cy[k]) * (y - cy[k]) < rad[k] * rad[k])
            v = val[k];
        out[(size_t) y * w + x] = (int16_t) v;
      }
}

/* batch slices of size x size: network input (batch x 3 x size x size) and metal target. */
static void
synthetic_batch (GRand *rng, int batch, int size, float *x, uint8_t *t)
{
  size_t n = (size_t) size * size;
  g_autofree int16_t *hu = g_new (int16_t, n);
  for (int b = 0; b < batch; b++)
    {
      synthetic_hu (rng, size, size, hu);
      mm_nn_input_transform (hu, n, x + b * 3 * n);
      for (size_t i = 0; i < n; i++)
        t[b * n + i] = hu[i] >= 3000;
    }
}

/* The batches as one safetensors file: "x" (n_data x batch x 3 x size x size) and "target"
 * (n_data x batch x size x size, 0 or 1, as F32: the format holds F32 only). */
static bool
data_write (const char *path, const float *x, const uint8_t *t, int n_data, int batch,
            int size, GError **error)
{
  size_t n = (size_t) n_data * batch * size * size;
  g_autofree float *tf = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    tf[i] = t[i];
  MmSafetensor ts[] = {
    { "x", 5, { n_data, batch, MM_UNET_IN_CHANNELS, size, size }, x },
    { "target", 4, { n_data, batch, size, size }, tf },
  };
  const char *meta[] = { "what", "bench/nn training batches", NULL };
  return mm_safetensors_write (path, ts, 2, meta, error);
}

static bool
data_read (const char *path, float *x, uint8_t *t, int n_data, int batch, int size,
           GError **error)
{
  g_autoptr (MmSafetensors) st = mm_safetensors_read (path, error);
  if (st == NULL)
    return false;
  const MmSafetensor *tx = mm_safetensors_find (st, "x");
  const MmSafetensor *tt = mm_safetensors_find (st, "target");
  size_t n = (size_t) n_data * batch * size * size;
  if (tx == NULL || tt == NULL || mm_safetensors_tensor_size (tx) != 3 * n
      || mm_safetensors_tensor_size (tt) != n || tx->shape[0] != n_data || tx->shape[1] != batch
      || tx->shape[3] != size)
    return mm_nn_file_error (error, MM_NN_ERROR_SHAPE, path,
                             "holds no %d batches of %d x 3 x %d x %d (\"x\", \"target\")",
                             n_data, batch, size, size);
  mm_safetensors_read_f32 (st, tx, x);
  g_autofree float *tf = g_new (float, n);
  mm_safetensors_read_f32 (st, tt, tf);
  for (size_t i = 0; i < n; i++)
    t[i] = tf[i] >= 0.5f;
  return true;
}

static int
usage (void)
{
  fprintf (stderr, "usage: bench-nn --train|--infer [--batch B] [--size P] [--depth D] "
                   "[--width W] [--steps N] [--warmup K] [--slices N] [--threads T] [--seed S]\n"
                   "                [--auto-threads] [--data FILE] [--init FILE] [--write-data FILE]\n"
                   "                [--write-init FILE]\n");
  return 2;
}

int
main (int argc, char **argv)
{
  /* As metalmark-cli train and predict: passive OpenMP waiting unless the environment says
   * otherwise (GOMP_SPINCOUNT=300000 measures libgomp's default). */
  mm_nn_wait_policy_reexec (argv);
  int train = -1, batch = 0, size = 0, depth = 3, width = 8, steps = 20, warmup = 3;
  int slices = 40, threads = 2, seed = 1, auto_threads = 0;
  const char *data_in = NULL, *init_in = NULL, *data_out = NULL, *init_out = NULL;
  for (int i = 1; i < argc; i++)
    {
      struct { const char *name; const char **v; } files[] = {
        { "--data", &data_in }, { "--init", &init_in }, { "--write-data", &data_out },
        { "--write-init", &init_out },
      };
      struct { const char *name; int *v; } opts[] = {
        { "--batch", &batch }, { "--size", &size }, { "--depth", &depth },
        { "--width", &width }, { "--steps", &steps }, { "--warmup", &warmup },
        { "--slices", &slices }, { "--threads", &threads }, { "--seed", &seed },
      };
      bool known = strcmp (argv[i], "--train") == 0 || strcmp (argv[i], "--infer") == 0;
      if (known)
        train = strcmp (argv[i], "--train") == 0;
      if (strcmp (argv[i], "--auto-threads") == 0)
        auto_threads = known = true;
      for (size_t k = 0; k < G_N_ELEMENTS (opts) && !known; k++)
        if (strcmp (argv[i], opts[k].name) == 0 && i + 1 < argc)
          {
            *opts[k].v = atoi (argv[++i]);
            known = true;
          }
      for (size_t k = 0; k < G_N_ELEMENTS (files) && !known; k++)
        if (strcmp (argv[i], files[k].name) == 0 && i + 1 < argc)
          {
            *files[k].v = argv[++i];
            known = true;
          }
      if (!known)
        return usage ();
    }
  if (train < 0)
    return usage ();
  batch = batch > 0 ? batch : train ? 8 : 4;
  size = size > 0 ? size : train ? 128 : 512;
  omp_set_num_threads (threads);

  g_autoptr (GError) error = NULL;
  MmUnetArch arch = { .depth = depth, .width = width };
  g_autoptr (MmUnet) net = init_in ? mm_nn_model_load (init_in, NULL, &error)
                                   : mm_unet_new (&arch, seed, &error);
  if (net && (mm_unet_get_arch (net)->depth != depth || mm_unet_get_arch (net)->width != width))
    {
      fprintf (stderr, "bench-nn: %s is not depth %d width %d\n", init_in, depth, width);
      return 1;
    }
  g_autoptr (MmUnetRun) run = net ? mm_unet_run_new (net, batch, size, size, train, &error)
                                  : NULL;
  /* --auto-threads: a second plan built for one thread (oneDNN fixes the count at creation) */
  g_autoptr (MmUnetRun) run1 = NULL;
  if (run && auto_threads && train && threads > 1)
    {
      omp_set_num_threads (1);
      run1 = mm_unet_run_new (net, batch, size, size, train, &error);
      omp_set_num_threads (threads);
      if (run1 == NULL)
        g_clear_pointer (&run, mm_unet_run_free);
    }
  if (run == NULL)
    {
      fprintf (stderr, "bench-nn: %s\n", error->message);
      return 1;
    }
  size_t n = (size_t) batch * size * size; /* logits */
  GRand *rng = g_rand_new_with_seed (seed);
  int n_data = train ? N_DATA : 1;
  float *x = g_new (float, 3 * n * n_data);
  uint8_t *t = g_new (uint8_t, n * n_data);
  if (data_in && !data_read (data_in, x, t, n_data, batch, size, &error))
    {
      fprintf (stderr, "bench-nn: %s\n", error->message);
      return 1;
    }
  for (int d = 0; d < n_data && !data_in; d++)
    synthetic_batch (rng, batch, size, x + 3 * n * d, t + n * d);
  if ((data_out && !data_write (data_out, x, t, n_data, batch, size, &error))
      || (init_out && !mm_nn_model_save (init_out, net, NULL, &error)))
    {
      fprintf (stderr, "bench-nn: %s\n", error->message);
      return 1;
    }
  if (data_out || init_out)
    return 0;
  MmNnThreads pick;
  mm_nn_threads_init (&pick, run1 ? threads : 1);
  int one_thread_steps = 0;
  float *buf = g_new (float, n); /* d loss / d logits, or probabilities */

  const char *layout = g_getenv ("MM_NN_LAYOUT"); /* mm-unet.c's activation layout */
  printf ("{\"impl\": \"c\", \"layout\": \"%s\", \"depth\": %d, \"width\": %d, "
          "\"batch\": %d, \"size\": %d, \"threads\": %d, ",
          layout ? layout : "default", depth, width, batch, size, threads);
  gint64 t0 = 0;
  double c0 = 0;
  if (train)
    {
      g_autoptr (MmAdam) adam = mm_adam_new (net, &(MmAdamParams) { 1e-3, 0.9, 0.999, 1e-8 });
      g_autoptr (GString) losses = g_string_new (NULL);
      for (int i = 0; i < warmup + steps; i++)
        {
          if (i == warmup)
            {
              t0 = g_get_monotonic_time ();
              c0 = cpu_seconds ();
            }
          int d = i % N_DATA;
          int nt = run1 ? mm_nn_threads_next (&pick) : threads;
          MmUnetRun *r = nt == 1 && run1 ? run1 : run;
          one_thread_steps += i >= warmup && nt == 1;
          omp_set_num_threads (nt);
          gint64 s0 = g_get_monotonic_time ();
          memcpy (mm_unet_run_input (r), x + 3 * n * d, 3 * n * sizeof *x);
          MmNnLoss loss;
          mm_nn_loss_dice_bce (mm_unet_run_forward (r), t + n * d, n, buf, &loss);
          mm_unet_run_backward (r, buf);
          mm_adam_step (adam);
          mm_nn_threads_done (&pick, (g_get_monotonic_time () - s0) * 1e-6);
          g_string_append_printf (losses, "%s%.9g", i ? ", " : "", loss.loss);
        }
      double dt = (g_get_monotonic_time () - t0) * 1e-6, cpu = cpu_seconds () - c0;
      printf ("\"mode\": \"train\", \"steps\": %d, \"seconds\": %.6f, \"cpu_seconds\": %.6f, "
              "\"images_per_s\": %.4f, \"auto_threads\": %s, \"one_thread_steps\": %d, "
              "\"switches\": %d, \"warmup\": %d, \"losses\": [%s]}\n",
              steps, dt, cpu, steps * batch / dt, run1 ? "true" : "false",
              run1 ? one_thread_steps : threads == 1 ? steps : 0, pick.switches, warmup,
              losses->str);
    }
  else
    {
      int runs = MAX (1, (slices + batch - 1) / batch);
      size_t metal = 0;
      memcpy (mm_unet_run_input (run), x, 3 * n * sizeof *x);
      for (int i = 0; i < warmup + runs; i++)
        {
          if (i == warmup)
            {
              t0 = g_get_monotonic_time ();
              c0 = cpu_seconds ();
            }
          const float *z = mm_unet_run_forward (run);
          metal = 0;
          for (size_t k = 0; k < n; k++)
            {
              buf[k] = 1.f / (1.f + expf (-z[k]));
              metal += buf[k] >= 0.5f;
            }
        }
      double dt = (g_get_monotonic_time () - t0) * 1e-6, cpu = cpu_seconds () - c0;
      printf ("\"mode\": \"infer\", \"slices\": %d, \"seconds\": %.6f, \"cpu_seconds\": %.6f, "
              "\"slices_per_s\": %.4f, \"metal_pixels\": %zu}\n",
              runs * batch, dt, cpu, runs * batch / dt, metal);
    }
  g_free (buf);
  g_free (t);
  g_free (x);
  g_rand_free (rng);
  return 0;
}
