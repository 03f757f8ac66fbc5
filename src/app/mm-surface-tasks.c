/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Background meshing for the 3D view (see mm-surface-tasks.h). */
#include "mm-surface-tasks.h"

#include "mm-marching.h"
#include "mm-mesh-decimate.h"

#include <glib/gi18n.h>
#include <string.h>

void
mm_surface_metal_free (MmSurfaceMetal *metal)
{
  if (metal == NULL)
    return;
  for (int i = 0; i < metal->n_parts; i++)
    mm_mesh_free (metal->parts[i]);
  g_free (metal->parts);
  g_free (metal->volume_ml);
  g_free (metal->area_cm2);
  g_free (metal);
}

MmVolume *
mm_surface_volume_copy (const MmVolume *vol, bool voxels)
{
  MmVolume *c = voxels ? mm_volume_new (vol->dims, vol->type) : mm_volume_new_empty (vol->dims, vol->type);
  if (c == NULL)
    return NULL;
  memcpy (c->spacing, vol->spacing, sizeof c->spacing);
  memcpy (c->direction, vol->direction, sizeof c->direction);
  for (int k = 0; k < vol->dims[2]; k++)
    memcpy (c->slices[k].position, vol->slices[k].position, sizeof c->slices[k].position);
  c->slice_gap_min = vol->slice_gap_min;
  c->slice_gap_max = vol->slice_gap_max;
  if (voxels)
    memcpy (c->voxels, vol->voxels,
            mm_volume_n_voxels (vol) * (vol->type == MM_VOXEL_INT16 ? sizeof (int16_t) : sizeof (float)));
  return c;
}

typedef struct
{
  MmVolume *vol;
  MmMask *mask;
  double hu;
  size_t max_triangles, lod_triangles;
} Job;

void
mm_surface_bone_free (MmSurfaceBone *bone)
{
  if (bone == NULL)
    return;
  mm_mesh_free (bone->mesh);
  mm_mesh_free (bone->lod);
  g_free (bone);
}

static void
job_free (Job *job)
{
  mm_volume_free (job->vol);
  mm_mask_free (job->mask);
  g_free (job);
}

static void
metal_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  gint64 t0 = g_get_monotonic_time ();
  GError *error = NULL;
  int n = 0;
  MmMesh **parts = mm_marching_mask_parts (job->vol, job->mask, &n, 0, &error);
  if (parts == NULL && error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  MmSurfaceMetal *m = g_new0 (MmSurfaceMetal, 1);
  m->parts = parts;
  m->n_parts = n;
  m->volume_ml = g_new0 (double, MAX (n, 1));
  m->area_cm2 = g_new0 (double, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      m->volume_ml[i] = mm_mesh_volume (parts[i]) / 1000.0;
      m->area_cm2[i] = mm_mesh_area (parts[i]) / 100.0;
    }
  m->ms = (g_get_monotonic_time () - t0) / 1000.0;
  if (g_task_return_error_if_cancelled (task))
    mm_surface_metal_free (m);
  else
    g_task_return_pointer (task, m, (GDestroyNotify) mm_surface_metal_free);
}

void
mm_surface_metal_async (const MmVolume *vol, const MmMask *mask, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, mm_surface_metal_async);
  Job *job = g_new0 (Job, 1);
  job->vol = mm_surface_volume_copy (vol, false);
  job->mask = mm_mask_copy (mask);
  if (job->vol == NULL || job->mask == NULL)
    {
      job_free (job);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s",
                               _("Not enough memory to build the 3D surface of the metal"));
      g_object_unref (task);
      return;
    }
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, metal_thread);
  g_object_unref (task);
}

MmSurfaceMetal *
mm_surface_metal_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
bone_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  GError *error = NULL;
  MmMesh *bone = mm_marching_threshold (job->vol, job->hu, 0, &error);
  if (bone == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Free the copied voxels before the long decimation: 100 MB less while it runs. */
  g_clear_pointer (&job->vol, mm_volume_free);
  if (!g_cancellable_is_cancelled (cancellable) && bone->n_triangles > job->max_triangles)
    mm_mesh_decimate (bone, job->max_triangles);
  MmSurfaceBone *out = g_new0 (MmSurfaceBone, 1);
  out->mesh = bone;
  if (!g_cancellable_is_cancelled (cancellable) && bone->n_triangles > job->lod_triangles)
    {
      out->lod = mm_mesh_concat (&bone, 1);
      mm_mesh_decimate (out->lod, job->lod_triangles);
    }
  if (g_task_return_error_if_cancelled (task))
    mm_surface_bone_free (out);
  else
    g_task_return_pointer (task, out, (GDestroyNotify) mm_surface_bone_free);
}

void
mm_surface_bone_async (const MmVolume *vol, double hu, size_t max_triangles, size_t lod_triangles,
                       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, mm_surface_bone_async);
  Job *job = g_new0 (Job, 1);
  job->vol = mm_surface_volume_copy (vol, true);
  job->hu = hu;
  job->max_triangles = max_triangles;
  job->lod_triangles = lod_triangles;
  if (job->vol == NULL)
    {
      job_free (job);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s",
                               _("Not enough memory to build the bone surface"));
      g_object_unref (task);
      return;
    }
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, bone_thread);
  g_object_unref (task);
}

MmSurfaceBone *
mm_surface_bone_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
