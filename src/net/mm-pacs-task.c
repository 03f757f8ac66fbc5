/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-task.h"

typedef struct
{
  MmPacsServer *srv; /* not owned */
  char *study, *series, *dest, *root;
  guint64 cache_max;
  MmPacsProgress progress;
  gpointer progress_data;
  GMainContext *context; /* the caller's */
  gint64 last_report;    /* worker side */
  /* Reports in flight hold a reference on the job; once done is set (on the caller's
   * context, before the callback) they are dropped. */
  gatomicrefcount refs;
  bool done;
} Job;

static Job *
job_ref (Job *job)
{
  g_atomic_ref_count_inc (&job->refs);
  return job;
}

static void
job_unref (Job *job)
{
  if (!g_atomic_ref_count_dec (&job->refs))
    return;
  g_free (job->study);
  g_free (job->series);
  g_free (job->dest);
  g_free (job->root);
  g_main_context_unref (job->context);
  g_free (job);
}

typedef struct
{
  Job *job;
  guint64 bytes;
  guint instances;
} Report;

static gboolean
deliver (gpointer data)
{
  Report *r = data;
  if (!r->job->done && r->job->progress)
    r->job->progress (r->bytes, r->instances, r->job->progress_data);
  return G_SOURCE_REMOVE;
}

static void
report_free (gpointer data)
{
  Report *r = data;
  job_unref (r->job);
  g_free (r);
}

static void
worker_progress (guint64 bytes, guint instances, gpointer user)
{
  Job *job = user;
  gint64 now = g_get_monotonic_time ();
  if (job->progress == NULL || now - job->last_report < G_USEC_PER_SEC / 10)
    return;
  job->last_report = now;
  Report *r = g_new (Report, 1);
  r->job = job_ref (job);
  r->bytes = bytes;
  r->instances = instances;
  g_main_context_invoke_full (job->context, G_PRIORITY_DEFAULT, deliver, r, report_free);
}

static void
run (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  GError *err = NULL;
  char *dir = NULL;
  if (job->dest)
    {
      if (mm_pacs_retrieve_series (job->srv, job->study, job->series, job->dest, NULL,
                                   worker_progress, job, cancellable, &err)
          > 0)
        dir = g_strdup (job->dest);
    }
  else
    dir = mm_pacs_cache_series (job->srv, job->root, job->cache_max, job->study, job->series,
                                NULL, worker_progress, job, cancellable, &err);
  if (dir)
    g_task_return_pointer (task, dir, g_free);
  else
    g_task_return_error (task, err);
}

typedef struct
{
  Job *job;
  GAsyncReadyCallback callback;
  gpointer user_data;
} Wrap;

/* On the caller's context: from here on, queued reports are dropped. */
static void
on_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Wrap *w = data;
  w->job->done = true;
  if (w->callback)
    w->callback (source, result, w->user_data);
  job_unref (w->job);
  g_free (w);
}

void
mm_pacs_get_async (MmPacsServer *srv, const MmPacsGet *req, MmPacsProgress progress,
                   gpointer progress_data, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = g_new0 (Job, 1);
  g_atomic_ref_count_init (&job->refs);
  job->srv = srv;
  job->study = g_strdup (req->study_uid);
  job->series = g_strdup (req->series_uid);
  job->dest = g_strdup (req->dest);
  job->root = req->dest ? NULL
                        : (req->cache_root ? g_strdup (req->cache_root)
                                           : mm_pacs_cache_default_root ());
  job->cache_max = req->cache_max_bytes;
  job->progress = progress;
  job->progress_data = progress_data;
  job->context = g_main_context_ref_thread_default ();
  Wrap *w = g_new (Wrap, 1);
  w->job = job_ref (job);
  w->callback = callback;
  w->user_data = user_data;
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, on_done, w);
  g_task_set_source_tag (task, mm_pacs_get_async);
  g_task_set_task_data (task, job, (GDestroyNotify) job_unref);
  g_task_set_return_on_cancel (task, FALSE); /* the worker cleans up before returning */
  g_task_run_in_thread (task, run);
}

char *
mm_pacs_get_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
