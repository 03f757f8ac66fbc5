/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-task.h"

#include "mm-dimse.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <utime.h>

typedef struct
{
  MmPacsServer *srv;        /* not owned; NULL for DIMSE */
  const MmDimsePeer *peer; /* not owned; NULL for DICOMweb */
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

/* C-GET into dest, or into the cache under root (a folder per peer and UIDs, as the CLI's);
 * a cached series is used as it is and marked as used; then the cache is evicted. */
static char *
run_dimse (Job *job, GCancellable *cancellable, GError **error)
{
  if (job->dest)
    return mm_dimse_get_series (job->peer, job->study, job->series, job->dest, NULL,
                                worker_progress, job, cancellable, error) > 0
               ? g_strdup (job->dest)
               : NULL;
  g_autofree char *name = mm_dimse_peer_name (job->peer);
  g_autofree char *url = g_strconcat ("dimse://", name, NULL);
  g_autofree char *key = mm_pacs_cache_key (url, job->study, job->series);
  if (g_mkdir_with_parents (job->root, 0700) != 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "Cannot create the PACS cache %s: %s", job->root, g_strerror (e));
      return NULL;
    }
  g_autofree char *dest = g_build_filename (job->root, key, NULL);
  if (g_file_test (dest, G_FILE_TEST_IS_DIR))
    g_utime (dest, NULL); /* used now: the eviction's LRU order */
  else if (mm_dimse_get_series (job->peer, job->study, job->series, dest, NULL,
                                worker_progress, job, cancellable, error)
           == 0)
    return NULL;
  mm_pacs_cache_evict (job->root, job->cache_max, key);
  return g_steal_pointer (&dest);
}

static void
run (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  GError *err = NULL;
  char *dir = NULL;
  if (job->peer)
    dir = run_dimse (job, cancellable, &err);
  else if (job->dest)
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

static void
start (MmPacsServer *srv, const MmDimsePeer *peer, const MmPacsGet *req,
       MmPacsProgress progress, gpointer progress_data, GCancellable *cancellable,
       GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = g_new0 (Job, 1);
  g_atomic_ref_count_init (&job->refs);
  job->srv = srv;
  job->peer = peer;
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
  g_task_set_task_data (task, job, (GDestroyNotify) job_unref);
  g_task_set_return_on_cancel (task, FALSE); /* the worker cleans up before returning */
  g_task_run_in_thread (task, run);
}

void
mm_pacs_get_async (MmPacsServer *srv, const MmPacsGet *req, MmPacsProgress progress,
                   gpointer progress_data, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
  start (srv, NULL, req, progress, progress_data, cancellable, callback, user_data);
}

void
mm_pacs_dimse_get_async (const MmDimsePeer *peer, const MmPacsGet *req,
                         MmPacsProgress progress, gpointer progress_data,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  start (NULL, peer, req, progress, progress_data, cancellable, callback, user_data);
}

char *
mm_pacs_get_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
