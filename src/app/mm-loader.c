/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Loading in a GTask thread; progress hops to the main context through an idle. */
#include "mm-loader.h"

#include "mm-progress.h"

typedef struct
{
  char *path;
  char *series_uid;
  bool scan_only;
  MmProgressFunc progress;
  gpointer progress_data;
  GMainContext *context;
  gint last_percent; /* atomic: progress reported only when the percentage changes */
} LoadData;

/* Carries copies, not the LoadData, which may be gone when the call runs. */
typedef struct
{
  MmProgressFunc progress;
  gpointer progress_data;
  double fraction;
} ProgressCall;

static void
load_data_free (LoadData *d)
{
  g_free (d->path);
  g_free (d->series_uid);
  g_main_context_unref (d->context);
  g_free (d);
}

void
mm_load_result_free (MmLoadResult *r)
{
  if (r == NULL)
    return;
  mm_volume_free (r->volume);
  mm_stats_free (r->stats);
  mm_dicom_report_free (r->report);
  g_free (r);
}

static void
progress_call_cb (gpointer target, gpointer p)
{
  ProgressCall *call = p;
  call->progress (call->fraction, call->progress_data);
}

static void
worker_progress_cb (double fraction, gpointer user_data)
{
  LoadData *d = user_data;
  int percent = (int) (fraction * 100);
  if (d->progress == NULL || percent == g_atomic_int_get (&d->last_percent))
    return;
  g_atomic_int_set (&d->last_percent, percent);
  ProgressCall *call = g_new (ProgressCall, 1);
  call->progress = d->progress;
  call->progress_data = d->progress_data;
  call->fraction = fraction;
  mm_main_call (d->context, NULL, progress_call_cb, call, g_free);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *d = task_data;
  MmDicomLoadOptions opts;
  mm_dicom_load_options_init (&opts);
  opts.series_uid = d->series_uid;
  opts.cancellable = cancellable;
  opts.progress = worker_progress_cb;
  opts.progress_data = d;
  const char *paths[] = { d->path };
  g_autoptr (MmLoadResult) r = g_new0 (MmLoadResult, 1);
  r->report = mm_dicom_report_new ();
  GError *error = NULL;
  if (d->scan_only)
    {
      if (!mm_dicom_scan (paths, 1, &opts, r->report, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }
  else
    {
      r->volume = mm_dicom_load (paths, 1, &opts, r->report, &error);
      if (r->volume == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      r->stats = mm_stats_compute (r->volume, 0);
    }
  g_task_return_pointer (task, g_steal_pointer (&r), (GDestroyNotify) mm_load_result_free);
}

void
mm_load_async (const char *path, const char *series_uid, bool scan_only,
               GCancellable *cancellable, MmProgressFunc progress, gpointer progress_data,
               GAsyncReadyCallback callback, gpointer user_data)
{
  LoadData *d = g_new0 (LoadData, 1);
  d->path = g_strdup (path);
  d->series_uid = g_strdup (series_uid);
  d->scan_only = scan_only;
  d->progress = progress;
  d->progress_data = progress_data;
  d->context = g_main_context_ref_thread_default ();
  d->last_percent = -1;
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, mm_load_async);
  g_task_set_task_data (task, d, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (task, load_thread);
}

MmLoadResult *
mm_load_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
