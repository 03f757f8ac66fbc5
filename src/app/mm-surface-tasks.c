/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Background meshing for the 3D view (see mm-surface-tasks.h). */
#include "mm-surface-tasks.h"

#include "mm-marching.h"
#include "mm-mesh-decimate.h"
#include "mm-mesh-order.h"

#include <glib/gi18n.h>
#include <string.h>

/* A mask copy shared by a build's result and the next build, which compares against it:
 * the result may be freed (a new series) while that build's thread still reads it. */
typedef struct
{
  MmMask *mask;
} SharedMask;

static void
shared_mask_clear (gpointer p)
{
  mm_mask_free (((SharedMask *) p)->mask);
}

static void
shared_mask_release (SharedMask *p)
{
  if (p != NULL)
    g_atomic_rc_box_release_full (p, shared_mask_clear);
}

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
  g_free (metal->from_previous);
  shared_mask_release (metal->mask);
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
  /* The previous build: its mask, and copies of its parts (voxel box, seed, and the mesh for
   * a part rebuilt locally), so the thread never reads a mesh the view draws or frees. */
  SharedMask *shared, *previous_mask; /* shared: this build's mask (job->mask borrows it) */
  MmMesh **shadow, **shadow_orig;
  double *previous_ml, *previous_cm2;
  int n_previous;
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
  if (job->shared)
    shared_mask_release (job->shared);
  else
    mm_mask_free (job->mask);
  shared_mask_release (job->previous_mask);
  for (int o = 0; o < job->n_previous; o++)
    mm_mesh_free (job->shadow_orig[o]);
  g_free (job->shadow);
  g_free (job->shadow_orig);
  g_free (job->previous_ml);
  g_free (job->previous_cm2);
  g_free (job);
}

static void
metal_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  gint64 t0 = g_get_monotonic_time ();
  GError *error = NULL;
  int n = 0, n_reused = 0, n_local = 0;
  MmMesh **parts;
  if (job->previous_mask != NULL)
    parts = mm_marching_mask_parts_update (job->vol, job->mask, job->previous_mask->mask,
                                           job->shadow, job->n_previous, &n, &n_reused, &n_local, 0,
                                           &error);
  else
    parts = mm_marching_mask_parts (job->vol, job->mask, &n, 0, &error);
  if (parts == NULL && error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  MmSurfaceMetal *m = g_new0 (MmSurfaceMetal, 1);
  m->parts = parts;
  m->n_parts = n;
  m->n_reused = n_reused;
  m->n_local = n_local;
  m->volume_ml = g_new0 (double, MAX (n, 1));
  m->area_cm2 = g_new0 (double, MAX (n, 1));
  m->from_previous = g_new (int, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      m->from_previous[i] = -1;
      for (int o = 0; o < job->n_previous; o++)
        if (parts[i] == job->shadow_orig[o])
          m->from_previous[i] = o;
      if (m->from_previous[i] >= 0)
        {
          /* A copy standing for the previous build's mesh, now the result's: swapped for
           * that mesh on adoption. */
          job->shadow_orig[m->from_previous[i]] = NULL;
          m->volume_ml[i] = job->previous_ml[m->from_previous[i]];
          m->area_cm2[i] = job->previous_cm2[m->from_previous[i]];
          continue;
        }
      m->volume_ml[i] = mm_mesh_volume (parts[i]) / 1000.0;
      m->area_cm2[i] = mm_mesh_area (parts[i]) / 100.0;
    }
  /* The mask copy goes with the result: the next build's changes are found against it. */
  m->mask = g_atomic_rc_box_acquire (job->shared);
  m->ms = (g_get_monotonic_time () - t0) / 1000.0;
  if (g_task_return_error_if_cancelled (task))
    mm_surface_metal_free (m);
  else
    g_task_return_pointer (task, m, (GDestroyNotify) mm_surface_metal_free);
}

void
mm_surface_metal_async (const MmVolume *vol, const MmMask *mask, const MmSurfaceMetal *previous,
                        GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, mm_surface_metal_async);
  Job *job = g_new0 (Job, 1);
  job->vol = mm_surface_volume_copy (vol, false);
  job->mask = mm_mask_copy (mask);
  if (job->mask != NULL)
    {
      job->shared = g_atomic_rc_box_new0 (SharedMask);
      job->shared->mask = job->mask;
    }
  if (job->vol == NULL || job->mask == NULL)
    {
      job_free (job);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s",
                               _("Not enough memory to build the 3D surface of the metal"));
      g_object_unref (task);
      return;
    }
  const SharedMask *prev_mask = previous ? previous->mask : NULL;
  if (prev_mask != NULL && memcmp (prev_mask->mask->dims, mask->dims, sizeof mask->dims) == 0)
    {
      job->previous_mask = g_atomic_rc_box_acquire ((gpointer) prev_mask);
      job->n_previous = previous->n_parts;
      job->shadow = g_new0 (MmMesh *, MAX (previous->n_parts, 1));
      job->shadow_orig = g_new0 (MmMesh *, MAX (previous->n_parts, 1));
      job->previous_ml = g_memdup2 (previous->volume_ml, MAX (previous->n_parts, 1) * sizeof (double));
      job->previous_cm2 = g_memdup2 (previous->area_cm2, MAX (previous->n_parts, 1) * sizeof (double));
      for (int o = 0; o < previous->n_parts; o++)
        {
          /* A copy (a stem of 28 k triangles: 0.7 MB, well under a millisecond), as the view
           * may free its parts while the thread still runs (a new volume cancels the build). */
          MmMesh *h = mm_mesh_concat (&previous->parts[o], 1);
          memcpy (h->voxel_lo, previous->parts[o]->voxel_lo, sizeof h->voxel_lo);
          memcpy (h->voxel_hi, previous->parts[o]->voxel_hi, sizeof h->voxel_hi);
          memcpy (h->seed, previous->parts[o]->seed, sizeof h->seed);
          job->shadow[o] = job->shadow_orig[o] = h;
        }
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

void
mm_surface_metal_adopt (MmSurfaceMetal *metal, MmSurfaceMetal *previous)
{
  for (int i = 0; i < metal->n_parts; i++)
    {
      int o = metal->from_previous[i];
      if (o < 0)
        continue;
      g_return_if_fail (previous != NULL && o < previous->n_parts && previous->parts[o] != NULL);
      mm_mesh_free (metal->parts[i]); /* the copy that stood for it */
      metal->parts[i] = g_steal_pointer (&previous->parts[o]);
      metal->parts[i]->component = i + 1;
      metal->from_previous[i] = -1;
    }
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
      mm_mesh_order_for_drawing (out->lod);
      mm_mesh_order_corners (out->lod);
    }
  /* Triangles that share vertices next to each other: llvmpipe shades fewer vertices
   * (bench-view3d: 77 -> 63 ms of CPU per frame at 500 k triangles). */
  mm_mesh_order_for_drawing (bone);
  /* Each triangle's cached corners first: llvmpipe's vertex cache lookups predictable. */
  mm_mesh_order_corners (bone);
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
