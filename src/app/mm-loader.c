/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Loading in a GTask thread; progress hops to the main context through an idle. A
 * progressive load hands the volume over once its first slice is in (mm_dicom_load's
 * volume_func) and keeps filling it: the volume is then shared, reference-counted, between
 * this thread and the viewer, so neither a cancel nor a closed window frees it under the
 * decoding threads. */
#include "mm-loader.h"

#include "mm-progress.h"
#include "mm-timing.h"
double mm_window_process_age_ms (void);

typedef struct
{
  char *path;
  char *series_uid;
  bool scan_only;
  MmProgressFunc progress;
  gpointer progress_data;
  GMainContext *context;
  gint last_percent; /* atomic: progress reported only when the percentage changes */
  /* progressive loads only */
  MmLoadShared *shared;
  GObject *target;
  MmLoadFirstFunc first;
  MmLoadMoreFunc more;
  GCancellable *cancellable;
  guint slow_ms; /* MM_TEST_SLOW_DECODE_MS */
  MmDicomScan *scan; /* the headers of an earlier scan of path, or NULL */
} LoadData;

struct _MmLoadShared
{
  gint refs;
  MmVolume *volume; /* set by the loading thread when announced */
  gint wanted;      /* the slice on screen, -1 for none */
  gint more_pending; /* a "more" call is scheduled */
  int first;
  gint shown;        /* the first slice is on screen (mm_load_shared_first_shown) */
};

/* How long the loading thread waits, at most, for the first slice to be painted before it
 * decodes the others anyway (a window that never paints: minimised, or on no screen). */
#define FIRST_PAINT_WAIT_US (2 * G_USEC_PER_SEC)

void
mm_load_shared_first_shown (MmLoadShared *s)
{
  g_atomic_int_set (&s->shown, 1);
}

MmLoadShared *
mm_load_shared_ref (MmLoadShared *s)
{
  g_atomic_int_inc (&s->refs);
  return s;
}

void
mm_load_shared_unref (MmLoadShared *s)
{
  if (s == NULL || !g_atomic_int_dec_and_test (&s->refs))
    return;
  mm_volume_free (s->volume);
  g_free (s);
}

void
mm_load_shared_want_slice (MmLoadShared *s, int k)
{
  g_atomic_int_set (&s->wanted, k);
}

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
  mm_load_shared_unref (d->shared);
  g_clear_object (&d->target);
  g_clear_object (&d->cancellable);
  g_clear_pointer (&d->scan, mm_dicom_scan_unref);
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
  g_clear_pointer (&r->scan, mm_dicom_scan_unref);
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
      mm_timing_mark ("scan start");
      r->scan = mm_dicom_scan_keep (paths, 1, &opts, r->report, &error);
      if (r->scan == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      mm_timing_mark ("scan done");
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

/* ---- progressive ---- */

typedef struct
{
  MmLoadFirstFunc first;
  MmLoadShared *shared;
  GCancellable *cancellable;
} FirstCall;

static void
first_call_free (gpointer p)
{
  FirstCall *c = p;
  mm_load_shared_unref (c->shared);
  g_clear_object (&c->cancellable);
  g_free (c);
}

static void
first_call_cb (gpointer target, gpointer p)
{
  FirstCall *c = p;
  if (!g_cancellable_is_cancelled (c->cancellable))
    c->first (target, c->shared->volume, c->shared);
}

static void
progressive_volume_cb (MmVolume *vol, int first, gpointer user_data)
{
  LoadData *d = user_data;
  mm_timing_mark ("load: first slice decoded");
  /* From here the volume is the shared one's: freed when the last reference goes. */
  d->shared->volume = vol;
  d->shared->first = first;
  FirstCall *c = g_new0 (FirstCall, 1);
  c->first = d->first;
  c->shared = mm_load_shared_ref (d->shared);
  c->cancellable = d->cancellable ? g_object_ref (d->cancellable) : NULL;
  mm_main_call (d->context, d->target, first_call_cb, c, first_call_free);
  /* The other slices wait until the first is painted: on two busy cores their decoding took
   * the CPU the main thread needed to lay out and paint the window for the first time,
   * doubling the wait for the first frame (issue 12). A short poll: this runs once a load. */
  gint64 until = g_get_monotonic_time () + FIRST_PAINT_WAIT_US;
  while (!g_atomic_int_get (&d->shared->shown) && g_get_monotonic_time () < until
         && !g_cancellable_is_cancelled (d->cancellable))
    g_usleep (2000);
  mm_timing_mark ("load: decoding the other slices");
}

typedef struct
{
  MmLoadMoreFunc more;
  GObject *target;
  MmLoadShared *shared;
} MoreCall;

static void
more_call_free (gpointer p)
{
  MoreCall *c = p;
  g_object_unref (c->target);
  mm_load_shared_unref (c->shared);
  g_free (c);
}

static gboolean
more_timeout_cb (gpointer p)
{
  MoreCall *c = p;
  g_atomic_int_set (&c->shared->more_pending, 0);
  c->more (c->target);
  return G_SOURCE_REMOVE;
}

static void
progressive_ready_cb (int k, gpointer user_data)
{
  LoadData *d = user_data;
  if (d->slow_ms > 0 && k != d->shared->first)
    g_usleep ((gulong) d->slow_ms * 1000);
  /* Repaints throttled: one call per 100 ms however many slices come in meanwhile. */
  if (d->more == NULL || !g_atomic_int_compare_and_exchange (&d->shared->more_pending, 0, 1))
    return;
  MoreCall *c = g_new0 (MoreCall, 1);
  c->more = d->more;
  c->target = g_object_ref (d->target);
  c->shared = mm_load_shared_ref (d->shared);
  GSource *source = g_timeout_source_new (100);
  g_source_set_callback (source, more_timeout_cb, c, more_call_free);
  g_source_attach (source, d->context);
  g_source_unref (source);
}

static void
progressive_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *d = task_data;
  MmDicomLoadOptions opts;
  mm_dicom_load_options_init (&opts);
  opts.series_uid = d->series_uid;
  opts.cancellable = cancellable;
  opts.progress = worker_progress_cb;
  opts.progress_data = d;
  opts.volume_func = progressive_volume_cb;
  opts.ready_func = progressive_ready_cb;
  opts.progressive_data = d;
  opts.wanted_slice = &d->shared->wanted;
  opts.scan = d->scan;
  const char *paths[] = { d->path };
  g_autoptr (MmLoadResult) r = g_new0 (MmLoadResult, 1);
  r->report = mm_dicom_report_new ();
  GError *error = NULL;
  mm_timing_mark ("load start");
  MmVolume *vol = mm_dicom_load (paths, 1, &opts, r->report, &error);
  mm_timing_mark ("load: every slice in");
  if (vol == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* The figures of the whole series, as `info` computes them. */
  r->stats = mm_stats_compute (vol, 0);
  if (vol != d->shared->volume)
    r->volume = vol; /* read afresh: it replaces the one shown */
  g_task_return_pointer (task, g_steal_pointer (&r), (GDestroyNotify) mm_load_result_free);
}

void
mm_load_progressive_async (const char *path, const char *series_uid, MmDicomScan *scan,
                           GCancellable *cancellable,
                           MmProgressFunc progress, gpointer progress_data, GObject *target,
                           MmLoadFirstFunc first, MmLoadMoreFunc more,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (path != NULL && G_IS_OBJECT (target) && first != NULL);
  LoadData *d = g_new0 (LoadData, 1);
  d->path = g_strdup (path);
  d->series_uid = g_strdup (series_uid);
  d->scan = scan ? mm_dicom_scan_ref (scan) : NULL;
  d->progress = progress;
  d->progress_data = progress_data;
  d->context = g_main_context_ref_thread_default ();
  d->last_percent = -1;
  d->shared = g_new0 (MmLoadShared, 1);
  d->shared->refs = 1;
  d->shared->wanted = -1;
  d->target = g_object_ref (target);
  d->first = first;
  d->more = more;
  d->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  const char *slow = g_getenv ("MM_TEST_SLOW_DECODE_MS");
  d->slow_ms = slow ? (guint) g_ascii_strtoull (slow, NULL, 10) : 0;
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, mm_load_progressive_async);
  g_task_set_task_data (task, d, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (task, progressive_thread);
}
