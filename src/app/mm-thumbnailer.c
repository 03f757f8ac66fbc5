/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Thumbnails in a GTask thread (mm-thumbnailer.h). Each is handed to the main context as
 * soon as it is drawn, so the first ones show while the rest are decoded. */
#include "mm-thumbnailer.h"

#include "mm-thumbnail.h"

typedef struct
{
  GPtrArray *files; /* char *: the middle slice's file of each series, NULL when unknown */
  GArray *frames;   /* int: its frame, -1 for a single-frame file */
  int size;
  GCancellable *cancellable;
  MmThumbnailFunc func;
  GCallback done;
  gpointer user_data;
  GMainContext *context;
} Job;

typedef struct
{
  Job *job; /* borrowed: the job outlives every delivery (it is freed by the last one) */
  guint index;
  GBytes *pixels; /* NULL: unreadable */
  bool last;
} Delivery;

static void
job_free (Job *job)
{
  g_ptr_array_unref (job->files);
  g_array_unref (job->frames);
  g_clear_object (&job->cancellable);
  g_main_context_unref (job->context);
  g_free (job);
}

static gboolean
deliver_cb (gpointer data)
{
  Delivery *d = data;
  Job *job = d->job;
  if (!g_cancellable_is_cancelled (job->cancellable))
    {
      if (d->pixels)
        {
          g_autoptr (GdkTexture) tex = gdk_memory_texture_new (job->size, job->size,
                                                               GDK_MEMORY_R8G8B8A8, d->pixels,
                                                               (gsize) job->size * 4);
          job->func (d->index, tex, job->user_data);
        }
      else if (!d->last)
        job->func (d->index, NULL, job->user_data);
      if (d->last && job->done)
        ((void (*) (gpointer)) job->done) (job->user_data);
    }
  if (d->last)
    job_free (job);
  g_clear_pointer (&d->pixels, g_bytes_unref);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static void
post (Job *job, guint index, GBytes *pixels, bool last)
{
  Delivery *d = g_new0 (Delivery, 1);
  d->job = job;
  d->index = index;
  d->pixels = pixels;
  d->last = last;
  g_main_context_invoke (job->context, deliver_cb, d);
}

static GBytes *
draw_one (const char *file, int frame, int size, GCancellable *cancellable)
{
  if (file == NULL)
    return NULL;
  MmDicomLoadOptions opts;
  mm_dicom_load_options_init (&opts);
  opts.n_threads = 1;
  opts.cancellable = cancellable;
  const char *paths[] = { file };
  g_autoptr (MmVolume) vol = mm_dicom_load (paths, 1, &opts, NULL, NULL);
  if (vol == NULL)
    return NULL;
  /* A multi-frame file is a series of its own frames: its middle one. */
  int k = vol->dims[2] > 1 ? (frame >= 0 && frame < vol->dims[2] ? frame : vol->dims[2] / 2) : 0;
  guint8 *rgba = g_malloc ((gsize) size * size * 4);
  mm_thumbnail_render (vol, k, size, rgba);
  return g_bytes_new_take (rgba, (gsize) size * size * 4);
}

static void
run_cb (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  guint n = job->files->len;
  for (guint i = 0; i < n && !g_cancellable_is_cancelled (cancellable); i++)
    post (job, i,
          draw_one (job->files->pdata[i], g_array_index (job->frames, int, i), job->size,
                    cancellable),
          false);
  post (job, G_MAXUINT, NULL, true);
  g_task_return_boolean (task, TRUE);
}

void
mm_thumbnailer_start (const MmDicomReport *report, int size, GCancellable *cancellable,
                      MmThumbnailFunc func, GCallback done, gpointer user_data)
{
  g_return_if_fail (report != NULL && size > 0 && size <= 1024 && func != NULL);
  Job *job = g_new0 (Job, 1);
  job->files = g_ptr_array_new_with_free_func (g_free);
  job->frames = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; i < report->series->len; i++)
    {
      const MmDicomSeriesInfo *info = report->series->pdata[i];
      g_ptr_array_add (job->files, g_strdup (info->middle_file));
      g_array_append_val (job->frames, info->middle_frame);
    }
  job->size = size;
  job->cancellable = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  job->func = func;
  job->done = done;
  job->user_data = user_data;
  job->context = g_main_context_ref_thread_default ();
  /* The job is freed by its last delivery, not with the task. */
  GTask *task = g_task_new (NULL, job->cancellable, NULL, NULL);
  g_task_set_task_data (task, job, NULL);
  g_task_run_in_thread (task, run_cb);
  g_object_unref (task);
}
