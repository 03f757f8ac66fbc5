/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-model-tasks.h"

#include "mm-nn-model.h"
#include "mm-nn-predict.h"
#include "mm-progress.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>

#define STEP_REPORT_US 100000 /* training steps reported at most ten times a second */

/* What every job shares: where its reports go. */
typedef struct
{
  GMainContext *context;
  gpointer target; /* referenced */
} Reporter;

static void
reporter_init (Reporter *r, gpointer target)
{
  r->context = g_main_context_ref_thread_default ();
  r->target = target ? g_object_ref (target) : NULL;
}

/* Maybe in the worker (the task finalised there): the target, a widget, is let go on the
 * main context's thread. */
static void
reporter_clear (Reporter *r)
{
  mm_main_unref (r->context, g_steal_pointer (&r->target));
  g_main_context_unref (r->context);
}

/* ---- detection ---- */

typedef struct
{
  char *model;
  MmVolume *vol;
  MmDetectProgressFunc progress;
  Reporter reporter;
  guint slow_ms;
  GCancellable *cancel; /* borrowed from the task while the thread runs */
} DetectData;

static void
detect_data_free (DetectData *d)
{
  g_free (d->model);
  mm_volume_free (d->vol);
  reporter_clear (&d->reporter);
  g_free (d);
}

static void
detect_slices_cb (int done, int total, gpointer user_data)
{
  DetectData *d = user_data;
  if (d->progress)
    mm_main_call_slices (d->reporter.context, d->reporter.target, d->progress, done, total);
  /* Test only (see the header): a slow model. */
  mm_test_slow_slice (d->slow_ms, done, total, d->cancel);
}

static void
detect_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
  DetectData *d = task_data;
  GError *error = NULL;
  d->cancel = cancel;
  MmUnet *net = mm_nn_model_load (d->model, NULL, &error);
  MmMask *mask = net ? mm_nn_predict_volume (net, d->vol, MM_NN_PREDICT_BATCH_DEFAULT,
                                             detect_slices_cb, d, cancel, &error)
                     : NULL;
  mm_unet_free (net);
  /* The copy of the series goes now, not when the last reference to the task does. */
  g_clear_pointer (&d->vol, mm_volume_free);
  if (mask)
    g_task_return_pointer (task, mask, (GDestroyNotify) mm_mask_free);
  else
    g_task_return_error (task, error);
}

void
mm_detect_async (const char *model, MmVolume *vol, GCancellable *cancellable,
                 MmDetectProgressFunc progress, gpointer target, GAsyncReadyCallback callback,
                 gpointer user_data)
{
  DetectData *d = g_new0 (DetectData, 1);
  d->model = g_strdup (model);
  d->vol = vol;
  d->progress = progress;
  reporter_init (&d->reporter, target);
  d->slow_ms = mm_test_slow_ms ("MM_TEST_SLOW_PREDICT_MS");
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, mm_detect_async);
  g_task_set_task_data (task, d, (GDestroyNotify) detect_data_free);
  /* Cancelled is cancelled (GTask's check_cancellable), even when the worker finished in the
   * same instant: the caller's mask must not change after its user pressed Escape. */
  mm_task_run_held (task, detect_thread);
}

MmMask *
mm_detect_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- training ---- */

void
mm_train_job_free (MmTrainJob *job)
{
  if (job == NULL)
    return;
  g_free (job->init_model);
  mm_volume_free (job->volume);
  mm_mask_free (job->mask);
  g_free (job->name);
  g_free (job->mask_name);
  g_free (job->out);
  g_free (job);
}

typedef struct
{
  MmTrainJob *job;
  MmTrainProgressFunc progress;
  Reporter reporter;
  gint64 last_report;
  gboolean have_model;
} TrainData;

static void
train_data_free (TrainData *d)
{
  mm_train_job_free (d->job);
  reporter_clear (&d->reporter);
  g_free (d);
}

typedef struct
{
  MmTrainProgressFunc func;
  MmNnTrainProgress p;
  MmNnEpochRecord record;
} TrainCall;

static void
train_call_cb (gpointer target, gpointer data)
{
  TrainCall *c = data;
  c->p.record = c->p.phase == MM_NN_TRAIN_EPOCH ? &c->record : NULL;
  c->func (target, &c->p);
}

static void
train_progress_cb (const MmNnTrainProgress *p, gpointer data)
{
  TrainData *d = data;
  gint64 now = g_get_monotonic_time ();
  if (d->progress == NULL
      || (p->phase != MM_NN_TRAIN_EPOCH && p->step < p->steps
          && now - d->last_report < STEP_REPORT_US))
    return;
  d->last_report = now;
  TrainCall *c = g_new0 (TrainCall, 1);
  c->func = d->progress;
  c->p = *p;
  if (p->record)
    c->record = *p->record;
  mm_main_call (d->reporter.context, d->reporter.target, train_call_cb, c, g_free);
}

static void
remove_file (const char *out, const char *suffix)
{
  g_autofree char *path = suffix ? mm_nn_train_file (out, suffix) : g_strdup (out);
  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("cannot remove %s: %s", path, g_strerror (errno));
}

static void
train_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
  TrainData *d = task_data;
  MmTrainJob *job = d->job;
  GError *error = NULL;
  MmNnTrainData data = { job->volume, job->mask, job->name, job->mask_name };
  MmNnTrainer *trainer
      = mm_nn_trainer_new (&job->opts, &data, 1, job->out, job->init_model, &error);
  gboolean ok = trainer && mm_nn_trainer_run (trainer, train_progress_cb, d, cancel, &error);
  int n_epochs = 0;
  if (trainer)
    mm_nn_trainer_get_curves (trainer, &n_epochs);
  mm_nn_trainer_free (trainer);
  /* The app cannot resume a run, so its checkpoint would only be left behind. A run with no
   * finished epoch leaves nothing: a model file then would hold untrained weights. */
  remove_file (job->out, ".ckpt");
  d->have_model = n_epochs > 0 && g_file_test (job->out, G_FILE_TEST_IS_REGULAR);
  if (!d->have_model)
    {
      remove_file (job->out, NULL);
      remove_file (job->out, ".csv");
      remove_file (job->out, ".png");
    }
  g_clear_pointer (&job->volume, mm_volume_free);
  g_clear_pointer (&job->mask, mm_mask_free);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
mm_train_async (MmTrainJob *job, GCancellable *cancellable, MmTrainProgressFunc progress,
                gpointer target, GAsyncReadyCallback callback, gpointer user_data)
{
  TrainData *d = g_new0 (TrainData, 1);
  d->job = job;
  d->progress = progress;
  reporter_init (&d->reporter, target);
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, mm_train_async);
  g_task_set_task_data (task, d, (GDestroyNotify) train_data_free);
  mm_task_run_held (task, train_thread);
}

gboolean
mm_train_finish (GAsyncResult *result, gboolean *have_model, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  TrainData *d = g_task_get_task_data (G_TASK (result));
  if (have_model)
    *have_model = d->have_model;
  return g_task_propagate_boolean (G_TASK (result), error);
}
