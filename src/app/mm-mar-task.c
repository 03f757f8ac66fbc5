/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Background metal artifact reduction and export of the corrected series (mm-mar-task.h). */
#include "mm-mar-task.h"

#include "mm-alloc.h"
#include "mm-dicom.h"
#include "mm-progress.h"
#include "mm-segment.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
mm_mar_task_result_free (MmMarTaskResult *r)
{
  if (r == NULL)
    return;
  mm_free_large (r->voxels);
  g_free (r);
}

/* ---- the correction ---- */

typedef struct
{
  MmVolume *vol;
  MmMask *mask;
  MmMarMethod method;
  MmMarTaskProgressFunc progress;
  GMainContext *context;
  gpointer target; /* referenced */
  GCancellable *cancel; /* the task's, while the thread runs */
  guint slow_ms;        /* test only: MM_TEST_SLOW_MAR_MS */
} MarData;

/* The task may be finalised in the worker (GIO's thread drops its reference after the
 * callback ran): the window, a widget, is let go on its own thread. */
static void
mar_data_free (MarData *d)
{
  mm_volume_free (d->vol);
  mm_mask_free (d->mask);
  mm_main_unref (d->context, d->target);
  g_main_context_unref (d->context);
  g_free (d);
}

/* From the workers, one at a time (mm_mar_volume serialises the calls). */
static bool
mar_progress_cb (int done, int total, gpointer user_data)
{
  MarData *d = user_data;
  if (d->progress)
    mm_main_call_slices (d->context, d->target, d->progress, done, total);
  /* Test only (see the header): a slow correction. */
  mm_test_slow_slice (d->slow_ms, done, total, d->cancel);
  return !g_cancellable_is_cancelled (d->cancel);
}

static void
mar_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
  MarData *d = task_data;
  GError *error = NULL;
  d->cancel = cancel;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (MmMarTaskResult) r = g_new0 (MmMarTaskResult, 1);
  r->method = d->method;
  if (d->mask == NULL)
    {
      /* No mask drawn or segmented: the metal as `metalmark-cli mar` finds it without --mask. */
      MmSegmentParams sp;
      mm_segment_params_init (&sp);
      sp.lower = MM_METAL_THRESHOLD_DEFAULT;
      d->mask = mm_segment_threshold (d->vol, &sp, 0);
      r->from_threshold = true;
      if (d->mask == NULL)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s",
                                   _("Not enough memory for the metal mask"));
          return;
        }
    }
  size_t n = mm_volume_n_voxels (d->vol);
  r->metal_voxels = mm_mask_count (d->mask);
  if (r->metal_voxels == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                               r->from_threshold
                                   ? _("No metal: no voxel reaches 3000 HU, so there are no "
                                       "metal artifacts to reduce")
                                   : _("The mask is empty: there is no metal whose artifacts "
                                       "could be reduced"));
      return;
    }
  size_t bytes = n * (d->vol->type == MM_VOXEL_INT16 ? sizeof (gint16) : sizeof (float));
  r->voxels = mm_alloc_large (bytes, false);
  if (r->voxels == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                               _("Not enough memory for the corrected series (%zu MB)"),
                               bytes >> 20);
      return;
    }
  MmMarParams p;
  mm_mar_params_init (&p);
  p.method = d->method;
  r->n_views = p.n_views;
  if (!mm_mar_volume (&p, d->vol, d->mask, r->voxels, 0, mar_progress_cb, d, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  r->seconds = (g_get_monotonic_time () - t0) / 1e6;
  /* The copies go now, not when the last reference to the task does. */
  g_clear_pointer (&d->vol, mm_volume_free);
  g_clear_pointer (&d->mask, mm_mask_free);
  g_task_return_pointer (task, g_steal_pointer (&r), (GDestroyNotify) mm_mar_task_result_free);
}

void
mm_mar_task_async (MmVolume *vol, MmMask *mask, MmMarMethod method, GCancellable *cancellable,
                   MmMarTaskProgressFunc progress, gpointer target, GAsyncReadyCallback callback,
                   gpointer user_data)
{
  MarData *d = g_new0 (MarData, 1);
  d->vol = vol;
  d->mask = mask;
  d->method = method;
  d->progress = progress;
  d->context = g_main_context_ref_thread_default ();
  d->target = target ? g_object_ref (target) : NULL;
  d->slow_ms = mm_test_slow_ms ("MM_TEST_SLOW_MAR_MS");
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, mm_mar_task_async);
  g_task_set_task_data (task, d, (GDestroyNotify) mar_data_free);
  /* Cancelled is cancelled even when the worker finished in the same instant: the views
   * must not change after the user pressed Cancel. */
  g_task_set_check_cancellable (task, TRUE);
  mm_task_run_held (task, mar_thread);
}

MmMarTaskResult *
mm_mar_task_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- the export ---- */

char *
mm_mar_task_output_dir (const char *dir, const char *base, GError **error)
{
  g_return_val_if_fail (dir && base, NULL);
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, error);
    if (d == NULL)
      return NULL;
    if (g_dir_read_name (d) == NULL)
      return g_strdup (dir); /* empty: the series goes right there */
  }
  /* Not empty: a derived series is never mixed into other files. g_mkdir fails on a name
   * that exists, so a folder made by someone else meanwhile is never taken. */
  for (int i = 1; i <= 999; i++)
    {
      g_autofree char *name = i == 1 ? g_strdup (base) : g_strdup_printf ("%s-%d", base, i);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_mkdir (path, 0755) == 0)
        return g_steal_pointer (&path);
      if (errno != EEXIST)
        {
          int e = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                       _("Cannot create the folder %s: %s"), path, g_strerror (e));
          return NULL;
        }
    }
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
               _("%s holds %s to %s-999 already: choose an empty folder"), dir, base, base);
  return NULL;
}

gint16 *
mm_mar_task_to_int16 (const MmVolume *vol, const void *voxels)
{
  size_t n = mm_volume_n_voxels (vol);
  gint16 *s = mm_alloc_large (n * sizeof (gint16), false);
  if (s == NULL)
    return NULL;
  if (vol->type == MM_VOXEL_INT16)
    memcpy (s, voxels, n * sizeof (gint16));
  else
    {
      const float *f = voxels;
      for (size_t x = 0; x < n; x++)
        s[x] = (gint16) CLAMP (lrintf (f[x]), -1024, G_MAXINT16 - 1024);
    }
  return s;
}

typedef struct
{
  MmVolume *vol;
  char *dir, *description, *derivation;
} ExportData;

static void
export_data_free (ExportData *d)
{
  mm_volume_free (d->vol);
  g_free (d->dir);
  g_free (d->description);
  g_free (d->derivation);
  g_free (d);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
  ExportData *d = task_data;
  GError *error = NULL;
  if (mm_dicom_write_derived (d->dir, d->vol, d->description, d->derivation, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
mm_mar_export_async (MmVolume *vol, const char *dir, const char *description,
                     const char *derivation, GAsyncReadyCallback callback, gpointer user_data)
{
  ExportData *d = g_new0 (ExportData, 1);
  d->vol = vol;
  d->dir = g_strdup (dir);
  d->description = g_strdup (description);
  d->derivation = g_strdup (derivation);
  g_autoptr (GTask) task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_source_tag (task, mm_mar_export_async);
  g_task_set_task_data (task, d, (GDestroyNotify) export_data_free);
  mm_task_run_held (task, export_thread);
}

gboolean
mm_mar_export_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
