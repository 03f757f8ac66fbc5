/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The training loop: Adam steps on sampled patches, whole-slice validation after each epoch,
 * the best model, checkpoints, resuming. */
#include "mm-nn-train-private.h"

#include "mm-limits.h"
#include "mm-metrics.h"
#include "mm-nn-dist.h"
#include "mm-nn-input.h"
#include "mm-nn-loss.h"
#include "mm-nn-predict.h"

#include <math.h>
#include <omp.h>
#include <string.h>

const char *
mm_nn_split_name (MmNnSplit split)
{
  switch (split)
    {
    case MM_NN_SPLIT_BLOCKS:
      return "blocks";
    case MM_NN_SPLIT_INTERLEAVED:
      return "interleaved";
    case MM_NN_SPLIT_NONE:
      return "none";
    }
  return "?";
}

bool
mm_nn_split_from_name (const char *name, MmNnSplit *split)
{
  for (MmNnSplit s = MM_NN_SPLIT_BLOCKS; s <= MM_NN_SPLIT_NONE; s++)
    if (g_strcmp0 (name, mm_nn_split_name (s)) == 0)
      {
        *split = s;
        return true;
      }
  return false;
}

void
mm_nn_train_options_init (MmNnTrainOptions *o)
{
  *o = (MmNnTrainOptions){
    .arch = { .depth = 3, .width = 8 }, /* chosen by measurement: see README */
    .batch = 8,
    .patch = 128,
    .lr = 1e-3,
    .epochs = 20,
    .steps_per_epoch = 200,
    .seed = 1,
    .split = MM_NN_SPLIT_BLOCKS,
    .blocks = 5,
    .val_block = 2,
    .guard = 2,
    .interleave = 5,
    .val_batch = MM_NN_PREDICT_BATCH_DEFAULT,
    .metal_fraction = 0.6,
  };
}

char *
mm_nn_train_file (const char *out_path, const char *suffix)
{
  return g_strconcat (out_path, suffix, NULL);
}

double
mm_nn_trainer_elapsed (const MmNnTrainer *t)
{
  if (t->session_start == 0)
    return t->elapsed_before;
  return t->elapsed_before + (g_get_monotonic_time () - t->session_start) / 1e6;
}

static double
dice_of (guint64 tp, guint64 fp, guint64 fn)
{
  return tp + fp + fn == 0 ? 1.0 : 2.0 * tp / (2.0 * tp + fp + fn);
}

void
mm_nn_trainer_free (MmNnTrainer *t)
{
  if (t == NULL)
    return;
  for (int v = 0; v < t->n_data; v++)
    {
      g_free ((char *) t->data[v].name);
      g_free ((char *) t->data[v].mask_name);
    }
  g_free (t->data);
  g_clear_pointer (&t->sampler, mm_nn_sampler_free);
  g_clear_pointer (&t->curves, g_array_unref);
  g_clear_pointer (&t->run, mm_unet_run_free);
  g_clear_pointer (&t->run1, mm_unet_run_free);
  for (int k = 1; t->part_runs && k < t->local; k++)
    g_clear_pointer (&t->part_runs[k], mm_unet_run_free);
  g_free (t->part_runs);
  g_free (t->flat);
  g_free (t->running0);
  g_clear_pointer (&t->adam, mm_adam_free);
  g_clear_pointer (&t->net, mm_unet_free);
  g_clear_pointer (&t->best, mm_unet_free);
  g_free (t->hu);
  g_free (t->target);
  g_free (t->grad);
  g_free (t->out);
  g_free (t->ckpt);
  g_free (t->csv);
  g_free (t->png);
  g_free (t->init_model);
  g_free (t);
}

static bool
check_options (const MmNnTrainOptions *o, GError **error)
{
  int m = 1 << (o->arch.depth - 1);
  const char *bad = NULL;
  if (o->batch < 1 || o->batch > MM_LIMIT_TRAIN_BATCH)
    return g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                        "Training options: the batch of %d patches is not from 1 to %d",
                        o->batch, MM_LIMIT_TRAIN_BATCH),
           false;
  else if (o->patch > MM_LIMIT_PATCH)
    return g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                        "Training options: patches of %d pixels are wider than the %d allowed",
                        o->patch, MM_LIMIT_PATCH),
           false;
  else if ((guint64) o->batch * o->patch * o->patch * o->arch.width > MM_LIMIT_TRAIN_STEP)
    return g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                        "Training options: %d patches of %d² pixels at width %d are more than "
                        "the %u values a step may have (about 4.5 GB of memory)",
                        o->batch, o->patch, o->arch.width, MM_LIMIT_TRAIN_STEP),
           false;
  else if (o->patch < m || o->patch % m != 0)
    return g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                        "The patch size %d is not a multiple of %d, which a network of depth "
                        "%d needs",
                        o->patch, m, o->arch.depth),
           false;
  else if (!(o->lr > 0) || o->steps_per_epoch < 1 || o->val_batch < 1)
    bad = "the learning rate, steps per epoch and validation batch must be positive";
  else if (o->val_batch > MM_LIMIT_PREDICT_BATCH)
    bad = "the validation batch is larger than a prediction batch may be";
  else if (o->epochs < 0 || !(o->time_budget_s >= 0)
           || (o->epochs == 0 && o->time_budget_s == 0))
    bad = "give a number of epochs or a time budget";
  else if (o->split == MM_NN_SPLIT_BLOCKS
           && (o->blocks < 2 || o->val_block < 0 || o->val_block >= o->blocks || o->guard < 0))
    bad = "the validation block must be one of at least two blocks (counted from 0)";
  else if (o->split == MM_NN_SPLIT_INTERLEAVED && o->interleave < 2)
    bad = "the interleaved split needs a period of at least 2";
  else if (!(o->metal_fraction >= 0 && o->metal_fraction <= 1))
    bad = "the share of metal-centred patches must be within 0 .. 1";
  if (bad)
    g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE, "Training options: %s", bad);
  return bad == NULL;
}

static void
copy_params (MmUnet *dst, MmUnet *src)
{
  for (int i = 0; i < mm_unet_n_params (src); i++)
    memcpy (mm_unet_param_data (dst, i), mm_unet_param_data (src, i),
            mm_unet_param_size (src, i) * sizeof (float));
}

/* The common part of new and resume; takes net and adam (NULL: a fresh one). */
static MmNnTrainer *
trainer_build (const MmNnTrainOptions *opts, const MmNnTrainData *data, int n_data,
               const char *out_path, MmUnet *net_in, MmAdam *adam_in, GError **error)
{
  g_autoptr (MmUnet) net = net_in;
  g_autoptr (MmAdam) adam = adam_in;
  g_return_val_if_fail (opts && data && n_data > 0 && out_path && net, NULL);
  MmNnTrainOptions o = *opts;
  o.arch = *mm_unet_get_arch (net);
  if (!check_options (&o, error))
    return NULL;
  for (int v = 0; v < n_data; v++)
    {
      const MmVolume *vol = data[v].volume;
      const MmMask *mask = data[v].mask;
      g_return_val_if_fail (vol && vol->voxels && mask, NULL);
      if (memcmp (vol->dims, mask->dims, sizeof vol->dims) != 0)
        {
          g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                       "%s: the mask is %d x %d x %d voxels, the volume %s %d x %d x %d",
                       data[v].mask_name ? data[v].mask_name : "mask", mask->dims[0],
                       mask->dims[1], mask->dims[2], data[v].name ? data[v].name : "",
                       vol->dims[0], vol->dims[1], vol->dims[2]);
          return NULL;
        }
    }
  g_autoptr (MmNnTrainer) t = g_new0 (MmNnTrainer, 1);
  t->opts = o;
  t->out = g_strdup (out_path);
  t->ckpt = mm_nn_train_file (out_path, ".ckpt");
  t->csv = mm_nn_train_file (out_path, ".csv");
  t->png = mm_nn_train_file (out_path, ".png");
  t->data = g_new0 (MmNnTrainData, n_data);
  t->n_data = n_data;
  for (int v = 0; v < n_data; v++)
    {
      t->data[v] = data[v];
      t->data[v].name = g_strdup (data[v].name ? data[v].name : "(volume)");
      t->data[v].mask_name = g_strdup (data[v].mask_name ? data[v].mask_name : "(mask)");
    }
  t->sampler = mm_nn_sampler_new (t->data, n_data, &o, error);
  if (t->sampler == NULL)
    return NULL;
  if (!mm_nn_train_parts_init (t, error))
    return NULL;
  t->run = mm_nn_train_run_new (t, net, false, error);
  if (t->run == NULL)
    return NULL;
  mm_nn_threads_init (&t->pick, omp_get_max_threads ());
  t->best = mm_unet_new (&o.arch, 0, error);
  if (t->best == NULL)
    return NULL;
  copy_params (t->best, net);
  if (adam == NULL)
    {
      MmAdamParams ap;
      mm_adam_params_init (&ap);
      ap.lr = o.lr;
      adam = mm_adam_new (net, &ap);
    }
  t->adam = g_steal_pointer (&adam);
  t->net = g_steal_pointer (&net);
  if (!mm_nn_train_step_init (t, error))
    return NULL;
  size_t pp = (size_t) o.patch * o.patch;
  t->hu = g_new (int16_t, pp);
  t->target = g_new (uint8_t, pp * (o.batch * t->local + 1)); /* + 1: scratch */
  t->grad = g_new (float, pp * o.batch * t->local);
  t->curves = g_array_new (FALSE, FALSE, sizeof (MmNnEpochRecord));
  return g_steal_pointer (&t);
}

MmNnTrainer *
mm_nn_trainer_new (const MmNnTrainOptions *opts, const MmNnTrainData *data, int n_data,
                   const char *out_path, const char *init_model, GError **error)
{
  g_return_val_if_fail (opts && out_path, NULL);
  MmUnet *net = init_model ? mm_nn_model_load (init_model, NULL, error)
                           : mm_unet_new (&opts->arch, opts->seed, error);
  if (net == NULL)
    return NULL;
  MmNnTrainer *t = trainer_build (opts, data, n_data, out_path, net, NULL, error);
  if (t)
    t->init_model = g_strdup (init_model);
  return t;
}

const MmNnTrainOptions *
mm_nn_trainer_get_options (const MmNnTrainer *t)
{
  return &t->opts;
}

const MmNnEpochRecord *
mm_nn_trainer_get_curves (const MmNnTrainer *t, int *n)
{
  *n = (int) t->curves->len;
  return (const MmNnEpochRecord *) t->curves->data;
}

const MmNnEpochRecord *
mm_nn_trainer_record (const MmNnTrainer *t, int epoch)
{
  return epoch > 0 && epoch <= (int) t->curves->len
             ? &g_array_index (t->curves, MmNnEpochRecord, epoch - 1)
             : NULL;
}

int
mm_nn_trainer_get_best (const MmNnTrainer *t, const MmNnEpochRecord **record)
{
  if (record)
    *record = mm_nn_trainer_record (t, t->best_epoch);
  return t->best_epoch;
}

static bool
save_best (MmNnTrainer *t, GError **error)
{
  if (!mm_nn_trainer_writes (t))
    return true;
  MmNnModelInfo info;
  mm_nn_trainer_model_info (t, &info);
  bool ok = mm_nn_model_save (t->out, t->best, &info, error);
  mm_nn_model_info_clear (&info);
  return ok;
}

static bool
save_checkpoint (MmNnTrainer *t, GError **error)
{
  if (!mm_nn_trainer_writes (t))
    return true;
  g_autofree char *state = mm_nn_trainer_state_json (t);
  return mm_nn_checkpoint_save (t->ckpt, t->net, t->adam, state, error);
}

MmNnTrainer *
mm_nn_trainer_resume (const MmNnTrainData *data, int n_data, const char *out_path, int epochs,
                      double time_budget_s, GError **error)
{
  g_return_val_if_fail (out_path, NULL);
  g_autofree char *ckpt = mm_nn_train_file (out_path, ".ckpt");
  g_autofree char *state = NULL;
  if (!g_file_test (ckpt, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "%s does not exist: there is no training of %s to resume", ckpt, out_path);
      return NULL;
    }
  MmAdam *adam = NULL;
  MmUnet *net = mm_nn_checkpoint_load (ckpt, NULL, &adam, &state, error);
  if (net == NULL)
    return NULL;
  MmNnTrainOptions opts;
  g_autoptr (JsonNode) root = mm_nn_train_state_parse (state, ckpt, &opts, error);
  if (root == NULL)
    {
      mm_adam_free (adam);
      mm_unet_free (net);
      return NULL;
    }
  if (epochs >= 0)
    opts.epochs = epochs;
  if (time_budget_s >= 0)
    opts.time_budget_s = time_budget_s;
  mm_adam_set_lr (adam, opts.lr);
  g_autoptr (MmNnTrainer) t = trainer_build (&opts, data, n_data, out_path, net, adam, error);
  if (t == NULL || !mm_nn_trainer_state_restore (t, root, ckpt, error))
    return NULL;
  if (t->best_epoch > 0)
    {
      /* The best epoch's weights are the model file's. */
      g_autoptr (MmUnet) best = mm_nn_model_load (t->out, NULL, error);
      if (best == NULL)
        return NULL;
      const MmUnetArch *a = mm_unet_get_arch (best);
      if (a->depth != opts.arch.depth || a->width != opts.arch.width)
        {
          g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_MODEL,
                       "%s is not the model of %s (depth %d width %d, the checkpoint's %d and "
                       "%d)",
                       t->out, ckpt, a->depth, a->width, opts.arch.depth, opts.arch.width);
          return NULL;
        }
      copy_params (t->best, best);
    }
  return g_steal_pointer (&t);
}

/* Training. */

void
mm_nn_trainer_set_threads (MmNnTrainer *t, int n)
{
  g_return_if_fail (t && n >= 0);
  t->threads = n;
}

/* The plan for n threads: oneDNN fixes a primitive's thread count when it is created, so the
 * one-thread plan is built with one thread. */
static MmUnetRun *
run_for (MmNnTrainer *t, int n, GError **error)
{
  if (n >= t->pick.max)
    return t->run;
  if (t->run1 == NULL)
    {
      int saved = omp_get_max_threads ();
      omp_set_num_threads (1);
      t->run1 = mm_nn_train_run_new (t, t->net, false, error);
      omp_set_num_threads (saved);
    }
  return t->run1;
}

static bool
train_step (MmNnTrainer *t, GError **error)
{
  int saved = omp_get_max_threads ();
  int threads = t->threads == 1   ? 1
                : t->threads > 1 ? t->pick.max
                                 : mm_nn_threads_next (&t->pick);
  MmUnetRun *run = run_for (t, threads, error);
  if (run == NULL)
    return false;
  omp_set_num_threads (threads);
  gint64 start = g_get_monotonic_time ();
  MmNnLoss loss;
  if (t->parts == 1)
    {
      size_t pp = (size_t) t->opts.patch * t->opts.patch, n = pp * t->opts.batch;
      float *input = mm_unet_run_input (run);
      for (int b = 0; b < t->opts.batch; b++)
        {
          mm_nn_sampler_draw (t->sampler, t->hu, t->target + b * pp);
          mm_nn_input_transform (t->hu, pp, input + b * MM_UNET_IN_CHANNELS * pp);
        }
      const float *logits = mm_unet_run_forward (run);
      mm_nn_loss_dice_bce (logits, t->target, n, t->grad, &loss);
      if (isfinite (loss.loss))
        mm_unet_run_backward (run, t->grad);
    }
  else
    mm_nn_train_step_run (t, run, &loss, error);
  if (!isfinite (loss.loss))
    {
      omp_set_num_threads (saved);
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_FAILED,
                   "Training diverged at step %" G_GINT64_FORMAT
                   ": the loss is not a number (try a lower learning rate)",
                   t->global_step + 1);
      return false;
    }
  mm_adam_step (t->adam);
  if (t->threads == 0)
    mm_nn_threads_done (&t->pick, (g_get_monotonic_time () - start) / 1e6);
  omp_set_num_threads (saved);
  t->loss_sum += loss.loss;
  t->tp += loss.tp;
  t->fp += loss.fp;
  t->fn += loss.fn;
  return true;
}

typedef struct
{
  MmNnTrainer *t;
  MmNnTrainProgressFunc func;
  gpointer data;
  int done, total; /* validation slices */
} Report;

static double
eta (const MmNnTrainer *t)
{
  if (t->session_steps == 0)
    return NAN;
  const MmNnTrainOptions *o = &t->opts;
  double per_step = t->session_step_s / t->session_steps, e = INFINITY;
  if (o->epochs > 0)
    e = ((double) (o->epochs - t->epoch) * o->steps_per_epoch - t->step) * per_step
        + (o->epochs - t->epoch) * t->val_s;
  if (o->time_budget_s > 0)
    e = MIN (e, MAX (0, o->time_budget_s - mm_nn_trainer_elapsed (t)) + t->val_s);
  return MAX (e, 0);
}

static void
report (Report *rep, MmNnTrainPhase phase, const MmNnEpochRecord *record, bool improved)
{
  if (rep->func == NULL)
    return;
  const MmNnTrainer *t = rep->t;
  const MmNnEpochRecord *last = mm_nn_trainer_record (t, t->curves->len);
  const MmNnEpochRecord *best = mm_nn_trainer_record (t, t->best_epoch);
  MmNnTrainProgress p = {
    .phase = phase,
    .epoch = record ? record->epoch : t->epoch + 1,
    .epochs = t->opts.epochs,
    .step = phase == MM_NN_TRAIN_VALIDATE ? rep->done : t->step,
    .steps = phase == MM_NN_TRAIN_VALIDATE ? rep->total : t->opts.steps_per_epoch,
    .loss = record ? record->train_loss : t->step ? t->loss_sum / t->step : NAN,
    .val_dice = last ? last->val_dice : NAN,
    .best_dice = best ? best->val_dice : NAN,
    .best_epoch = t->best_epoch,
    .eta_s = eta (t),
    .images_per_s = record ? record->images_per_s
                           : t->step_s > 0 ? (double) t->step * t->opts.batch * t->parts / t->step_s : NAN,
    .elapsed_s = mm_nn_trainer_elapsed (t),
    .record = record,
    .improved = improved,
  };
  rep->func (&p, rep->data);
}

typedef struct
{
  Report *rep;
  int base; /* validation slices of the volumes before this one */
} ValidationProgress;

static void
validate_slices_cb (int done, int total, gpointer data)
{
  ValidationProgress *vp = data;
  vp->rep->done = vp->base + done;
  report (vp->rep, MM_NN_TRAIN_VALIDATE, NULL, false);
}

/* Whole validation slices in inference mode: the Dice of all of them pooled, and the mean
 * over volumes of the HD95 of each volume's validation slices taken as a sub-volume (with the
 * interleaved split, slices interleave apart). */
static bool
validate (MmNnTrainer *t, Report *rep, GCancellable *cancel, double *dice, double *hd95,
          GError **error)
{
  guint64 tp = 0, fp = 0, fn = 0;
  double hd_sum = 0;
  int hd_n = 0;
  rep->done = 0;
  rep->total = mm_nn_sampler_n_val (t->sampler);
  for (int v = 0; v < t->n_data; v++)
    {
      int n_val;
      const int *val = mm_nn_sampler_val_slices (t->sampler, v, &n_val);
      if (n_val == 0)
        continue;
      const MmVolume *vol = t->data[v].volume;
      const MmMask *mask = t->data[v].mask;
      int dims[3] = { vol->dims[0], vol->dims[1], n_val };
      size_t plane = mm_volume_slice_voxels (vol);
      g_autoptr (MmMask) truth = mm_mask_new_uninitialized (dims);
      g_autoptr (MmMask) pred = mm_mask_new_uninitialized (dims);
      if (truth == NULL || pred == NULL)
        {
          g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_FAILED,
                       "Out of memory for %d validation slices", n_val);
          return false;
        }
      ValidationProgress vp = { rep, rep->done };
      if (!mm_nn_predict_slices (t->net, vol, val, n_val, t->opts.val_batch, pred->data,
                                 validate_slices_cb, &vp, cancel, error))
        return false;
      for (int i = 0; i < n_val; i++)
        memcpy (mm_mask_slice (truth, i), mm_mask_slice (mask, val[i]), plane);
      double spacing[3] = { vol->spacing[0], vol->spacing[1], vol->spacing[2] };
      if (t->opts.split == MM_NN_SPLIT_INTERLEAVED)
        spacing[2] *= t->opts.interleave;
      g_autoptr (MmMetrics) m = mm_metrics_compute (truth, pred, spacing, 0, error);
      if (m == NULL)
        return false;
      tp += m->tp;
      fp += m->fp;
      fn += m->fn;
      if (isfinite (m->hd95_mm))
        {
          hd_sum += m->hd95_mm;
          hd_n++;
        }
    }
  *dice = dice_of (tp, fp, fn);
  *hd95 = hd_n ? hd_sum / hd_n : NAN;
  return true;
}

/* Validation, the epoch's record, the best model, the curves and the checkpoint. */
static bool
end_epoch (MmNnTrainer *t, Report *rep, GCancellable *cancel, GError **error)
{
  gint64 start = g_get_monotonic_time ();
  double dice = NAN, hd95 = NAN;
  /* MPI: a rank must not stop validating alone (the others would wait for its gradients);
   * a cancel then takes effect at the next step, which all ranks agree on. */
  GCancellable *val_cancel = t->parts > 1 ? NULL : cancel;
  if (mm_nn_sampler_n_val (t->sampler) > 0
      && !validate (t, rep, val_cancel, &dice, &hd95, error))
    return false;
  t->val_s = (g_get_monotonic_time () - start) / 1e6;
  MmNnEpochRecord r = {
    .epoch = t->epoch + 1,
    .train_loss = t->loss_sum / t->step,
    .train_dice = dice_of (t->tp, t->fp, t->fn),
    .val_dice = dice,
    .val_hd95_mm = hd95,
    .seconds = mm_nn_trainer_elapsed (t),
    .images_per_s = t->step_s > 0 ? (double) t->step * t->opts.batch * t->parts / t->step_s : NAN,
  };
  const MmNnEpochRecord *best = mm_nn_trainer_record (t, t->best_epoch);
  /* Ties keep the earlier epoch; without validation the last epoch is the model. */
  bool improved
      = mm_nn_sampler_n_val (t->sampler) == 0 || best == NULL || dice > best->val_dice;
  g_array_append_val (t->curves, r);
  t->epoch++;
  t->step = 0;
  t->loss_sum = t->step_s = 0;
  t->tp = t->fp = t->fn = 0;
  if (improved)
    {
      copy_params (t->best, t->net);
      t->best_epoch = t->epoch;
      if (!save_best (t, error))
        return false;
    }
  const MmNnEpochRecord *curves = (const MmNnEpochRecord *) t->curves->data;
  /* MPI: rank 0 alone writes (the others hold the same state). */
  bool writes = mm_nn_trainer_writes (t);
  if ((writes && (!mm_nn_curves_write_csv (t->csv, curves, t->curves->len, error)
                  || !mm_nn_plot_write_png (t->png, curves, t->curves->len, error)))
      || !save_checkpoint (t, error))
    return false;
  report (rep, MM_NN_TRAIN_EPOCH, mm_nn_trainer_record (t, t->epoch), improved);
  return true;
}

/* Whether the time budget is spent. Ranks agree: they must stop at the same step, or the
 * others would wait for the gradients of a rank that stopped. */
static bool
budget_spent (const MmNnTrainer *t)
{
  bool spent = t->opts.time_budget_s > 0 && mm_nn_trainer_elapsed (t) >= t->opts.time_budget_s;
  if (t->parts > 1 && t->opts.time_budget_s > 0)
    spent = mm_nn_dist_min_int (!spent) == 0;
  return spent;
}

static bool
finished (const MmNnTrainer *t)
{
  const MmNnTrainOptions *o = &t->opts;
  return (o->epochs > 0 && t->epoch >= o->epochs) || budget_spent (t);
}

/* A cancel on any rank (Ctrl+C reaches them at different moments) stops all. */
static bool
any_cancelled (const MmNnTrainer *t, GCancellable *cancel)
{
  bool c = g_cancellable_is_cancelled (cancel);
  return t->parts > 1 ? mm_nn_dist_min_int (!c) == 0 : c;
}

static bool
cancelled (MmNnTrainer *t, GError **error)
{
  g_clear_error (error);
  if (!save_checkpoint (t, error)
      || (t->best_epoch > 0 && t->best_epoch < t->epoch && !save_best (t, error)))
    return false;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
               "Training cancelled after epoch %d step %d; %s holds the state to resume from",
               t->epoch, t->step, t->ckpt);
  return false;
}

bool
mm_nn_trainer_run (MmNnTrainer *t, MmNnTrainProgressFunc progress, gpointer progress_data,
                   GCancellable *cancel, GError **error)
{
  g_return_val_if_fail (t, false);
  Report rep = { t, progress, progress_data, 0, 0 };
  t->session_start = g_get_monotonic_time ();
  t->session_steps = 0;
  t->session_step_s = 0;
  bool ok = true;
  while (ok && !finished (t))
    {
      while (t->step < t->opts.steps_per_epoch)
        {
          if (any_cancelled (t, cancel))
            {
              ok = cancelled (t, error);
              goto out;
            }
          if (budget_spent (t))
            break;
          gint64 start = g_get_monotonic_time ();
          if (!train_step (t, error))
            {
              ok = false;
              goto out;
            }
          double dt = (g_get_monotonic_time () - start) / 1e6;
          t->step_s += dt;
          t->session_step_s += dt;
          t->session_steps++;
          t->step++;
          t->global_step++;
          report (&rep, MM_NN_TRAIN_STEP, NULL, false);
        }
      /* The budget ran out at the very start of an epoch: nothing new to validate. */
      if (t->step == 0)
        break;
      GError *err = NULL;
      if (!end_epoch (t, &rep, cancel, &err))
        {
          if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            cancelled (t, &err);
          g_propagate_error (error, err);
          ok = false;
        }
    }
  /* The model's description counts every epoch, also those after the best. */
  if (ok && t->best_epoch > 0 && t->best_epoch < t->epoch)
    ok = save_best (t, error);
out:
  t->elapsed_before = mm_nn_trainer_elapsed (t);
  t->session_start = 0;
  return ok;
}
