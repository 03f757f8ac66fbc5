/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One training step, data-parallel when the trainer has several parts (MPI ranks, or parts
 * emulated in one process for tests): the patches of a batch of parts x batch are dealt out
 * round robin, the loss's sums are added over all parts before its gradient is taken (Dice
 * over the whole batch), the weight gradients are added in one flat buffer
 * (MPI_Allreduce), and every rank applies the same Adam step.
 *
 * Batch norm is synchronised (mm_unet_runs_forward/backward): it normalises with the
 * statistics of all parts' patches and back-propagates through them, so parts x batch
 * computes what one process with a batch of parts x batch computes, to float rounding (its
 * sums are added in another order, and in double where oneDNN sums in float).
 * MM_NN_SYNC_BN=0 turns that off: each part then normalises with its own statistics (as
 * PyTorch DDP without SyncBatchNorm) and the running statistics are the mean of the parts'. */
#include "mm-nn-train-private.h"

#include "mm-nn-dist.h"
#include "mm-nn-input.h"

#include <math.h>
#include <string.h>

bool
mm_nn_train_parts_init (MmNnTrainer *t, GError **error)
{
  t->rank = mm_nn_dist_rank ();
  t->parts = mm_nn_dist_size ();
  t->local = 1;
  const char *emulate = g_getenv ("MM_NN_EMULATE_RANKS");
  if (t->parts == 1 && emulate && *emulate)
    {
      guint64 g = 0;
      if (!g_ascii_string_to_unsigned (emulate, 10, 1, 64, &g, NULL))
        {
          g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                       "MM_NN_EMULATE_RANKS=%s is not a number of ranks from 1 to 64",
                       emulate);
          return false;
        }
      t->parts = t->local = (int) g;
    }
  if ((gint64) t->parts * t->opts.batch > 1 << 16)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                   "%d ranks x batch %d patches are too many", t->parts, t->opts.batch);
      return false;
    }
  /* MM_NN_SYNC_BN=1 in one process: batch norm's statistics by the synchronised code (in
   * double) instead of oneDNN's (in float), to compare the two arithmetics (nn-train-mpi). */
  const char *sync = g_getenv ("MM_NN_SYNC_BN");
  t->sync_bn = t->parts > 1 ? g_strcmp0 (sync, "0") != 0 : g_strcmp0 (sync, "1") == 0;
  return true;
}

MmUnetRun *
mm_nn_train_run_new (MmNnTrainer *t, MmUnet *net, bool own_grads, GError **error)
{
  int b = t->opts.batch, p = t->opts.patch;
  if (t->sync_bn)
    return mm_unet_run_new_sync (net, b, p, p, own_grads, error);
  return mm_unet_run_new (net, b, p, p, true, error);
}

bool
mm_nn_train_step_init (MmNnTrainer *t, GError **error)
{
  if (t->parts == 1)
    return true;
  t->part_runs = g_new0 (MmUnetRun *, t->local);
  for (int k = 1; k < t->local; k++)
    {
      /* Synchronised, the parts run in lock step: each keeps its gradients apart. */
      t->part_runs[k] = mm_nn_train_run_new (t, t->net, t->sync_bn, error);
      if (t->part_runs[k] == NULL)
        return false;
    }
  for (int i = 0; i < mm_unet_n_params (t->net); i++)
    {
      if (mm_unet_param_trainable (t->net, i))
        t->n_flat_grad += mm_unet_param_size (t->net, i);
      else
        t->n_flat_running += mm_unet_param_size (t->net, i);
    }
  t->flat = g_try_new (float, t->n_flat_grad + t->n_flat_running);
  t->running0 = g_try_new (float, t->n_flat_running);
  if (t->flat == NULL || t->running0 == NULL)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_FAILED, "Out of memory for the gradients");
      return false;
    }
  return true;
}

/* Running stats <-> a flat array (to: from the network into buf). */
static void
running_copy (MmUnet *net, float *buf, bool to, bool add)
{
  size_t o = 0;
  for (int i = 0; i < mm_unet_n_params (net); i++)
    {
      if (mm_unet_param_trainable (net, i))
        continue;
      float *d = mm_unet_param_data (net, i);
      size_t n = mm_unet_param_size (net, i);
      for (size_t j = 0; j < n; j++)
        {
          if (!to)
            d[j] = buf[o + j];
          else if (add)
            buf[o + j] += d[j];
          else
            buf[o + j] = d[j];
        }
      o += n;
    }
}

static void
grads_add (MmUnet *net, MmUnetRun *run, float *flat, bool first)
{
  size_t o = 0;
  for (int i = 0; i < mm_unet_n_params (net); i++)
    {
      if (!mm_unet_param_trainable (net, i))
        continue;
      const float *g = run ? mm_unet_run_param_grad (run, i) : mm_unet_param_grad (net, i);
      size_t n = mm_unet_param_size (net, i);
      for (size_t j = 0; j < n; j++)
        flat[o + j] = first ? g[j] : flat[o + j] + g[j];
      o += n;
    }
}

static void
grads_set (MmUnet *net, const float *flat)
{
  size_t o = 0;
  for (int i = 0; i < mm_unet_n_params (net); i++)
    {
      if (!mm_unet_param_trainable (net, i))
        continue;
      size_t n = mm_unet_param_size (net, i);
      memcpy (mm_unet_param_grad (net, i), flat + o, n * sizeof (float));
      o += n;
    }
}

static void
sum_ranks (double *v, size_t n, void *data)
{
  (void) data;
  mm_nn_dist_sum_double (v, n);
}

/* The rest of a step with synchronised batch norm: the local parts' runs forward and
 * backward in lock step, their batch norm sums added over parts and ranks. */
static bool
step_sync (MmNnTrainer *t, MmUnetRun **runs, MmNnLoss *loss)
{
  size_t n = (size_t) t->opts.patch * t->opts.patch * t->opts.batch;
  MmUnetSumFn sum = mm_nn_dist_size () > 1 ? sum_ranks : NULL;
  mm_unet_runs_forward (runs, t->local, sum, NULL);
  MmNnLossSums all = { { 0 } };
  for (int k = 0; k < t->local; k++)
    {
      MmNnLossSums s;
      mm_nn_loss_sums (mm_unet_run_logits (runs[k]), t->target + (size_t) k * n, n, &s);
      for (int j = 0; j < MM_NN_LOSS_N_SUMS; j++)
        all.v[j] += s.v[j];
    }
  mm_nn_dist_sum_double (all.v, MM_NN_LOSS_N_SUMS);
  const float *grads[64];
  for (int k = 0; k < t->local; k++)
    {
      mm_nn_loss_finish (&all, mm_unet_run_logits (runs[k]), t->target + (size_t) k * n, n,
                         t->grad + (size_t) k * n, loss);
      if (!isfinite (loss->loss))
        return true; /* the caller reports it; every rank sees the same sums */
      grads[k] = t->grad + (size_t) k * n;
    }
  mm_unet_runs_backward (runs, grads, t->local, sum, NULL);
  for (int k = 0; k < t->local; k++)
    grads_add (t->net, runs[k], t->flat, k == 0);
  /* The running statistics are the group's already (runs[0] updated them, alike on every
   * rank): only the gradients are summed. */
  mm_nn_dist_sum_float (t->flat, t->n_flat_grad);
  grads_set (t->net, t->flat);
  return true;
}

bool
mm_nn_train_step_run (MmNnTrainer *t, MmUnetRun *run, MmNnLoss *loss, GError **error)
{
  (void) error;
  int b = t->opts.batch, P = t->parts, first = t->rank * t->local;
  size_t pp = (size_t) t->opts.patch * t->opts.patch, n = pp * b;
  MmUnetRun *runs[64];
  for (int k = 0; k < t->local; k++)
    runs[k] = k == 0 ? run : t->part_runs[k];
  /* Every rank draws the whole batch so that the random stream (and the checkpoint's copy
   * of it) is the same everywhere; drawing costs little beside a step. */
  for (int i = 0; i < P * b; i++)
    {
      int part = i % P, k = part - first, slot = i / P;
      if (k < 0 || k >= t->local)
        {
          /* Another rank's patch: drawn into the scratch patch past this rank's. */
          mm_nn_sampler_draw (t->sampler, t->hu, t->target + (size_t) t->local * b * pp);
          continue;
        }
      mm_nn_sampler_draw (t->sampler, t->hu, t->target + ((size_t) k * b + slot) * pp);
      mm_nn_input_transform (t->hu, pp,
                             mm_unet_run_input (runs[k]) + slot * MM_UNET_IN_CHANNELS * pp);
    }
  if (t->sync_bn)
    return step_sync (t, runs, loss);
  if (P > 1)
    running_copy (t->net, t->running0, true, false);
  const float *logits[64];
  MmNnLossSums all = { { 0 } };
  float *running = t->flat + t->n_flat_grad;
  for (int k = 0; k < t->local; k++)
    {
      logits[k] = mm_unet_run_forward (runs[k]);
      MmNnLossSums s;
      mm_nn_loss_sums (logits[k], t->target + (size_t) k * n, n, &s);
      for (int j = 0; j < MM_NN_LOSS_N_SUMS; j++)
        all.v[j] += s.v[j];
      if (P > 1)
        {
          /* Each part updates the running stats from where the step began. */
          running_copy (t->net, running, true, k > 0);
          running_copy (t->net, t->running0, false, false);
        }
    }
  mm_nn_dist_sum_double (all.v, MM_NN_LOSS_N_SUMS);
  for (int k = 0; k < t->local; k++)
    {
      mm_nn_loss_finish (&all, logits[k], t->target + (size_t) k * n, n,
                         t->grad + (size_t) k * n, loss);
      if (!isfinite (loss->loss))
        return true; /* the caller reports it; every rank sees the same sums */
      mm_unet_run_backward (runs[k], t->grad + (size_t) k * n);
      if (P > 1)
        grads_add (t->net, NULL, t->flat, k == 0);
    }
  if (P > 1)
    {
      /* One reduction for gradients and running stats together. */
      mm_nn_dist_sum_float (t->flat, t->n_flat_grad + t->n_flat_running);
      grads_set (t->net, t->flat);
      for (size_t j = 0; j < t->n_flat_running; j++)
        running[j] /= P;
      running_copy (t->net, running, false, false);
    }
  return true;
}
