/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 3D view's meshes, built in a GTask thread from copies (the user edits the mask and may
 * open another series meanwhile): the metal's parts with their volume and area, and the bone
 * surface at an HU threshold decimated to a triangle budget. */
#pragma once

#include "mm-mask.h"
#include "mm-mesh.h"
#include "mm-volume.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  MmMesh **parts; /* parts[c - 1] for 3D component c (26-connected, numbered as in info) */
  int n_parts;
  double *volume_ml; /* per part, enclosed by the unsmoothed mesh */
  double *area_cm2;
  double ms;         /* wall time of the extraction */
  gpointer mask;     /* the mask it was built from, shared (refcounted) with the build that
                        compares the next edit against it */
  int *from_previous; /* per part: the previous build's part it reuses (-1: built); until
                         mm_surface_metal_adopt only */
  int n_reused;
  int n_local; /* parts meshed again only around the edit */
} MmSurfaceMetal;

void mm_surface_metal_free (MmSurfaceMetal *metal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmSurfaceMetal, mm_surface_metal_free)

/* A copy of vol's geometry (dims, spacing, direction, slice positions) and, with voxels, its
 * values: what the marching cubes read. NULL without memory. */
MmVolume *mm_surface_volume_copy (const MmVolume *vol, bool voxels);

/* The metal of mask (copied now) meshed per part. With previous (the build shown now, NULL
 * for none), only the parts near the voxels that changed since previous->mask are meshed
 * again (mm_marching_mask_parts_update): the thread reads no mesh of previous (copies of its
 * parts; the view keeps drawing them), and mm_surface_metal_adopt moves the untouched parts over on the main thread.
 * The caller keeps previous alive until the callback (a new volume cancels the build). */
void mm_surface_metal_async (const MmVolume *vol, const MmMask *mask,
                             const MmSurfaceMetal *previous, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
MmSurfaceMetal *mm_surface_metal_finish (GAsyncResult *result, GError **error);
/* Move the parts metal reuses out of previous (their slots there set to NULL): call before
 * freeing previous. previous must be the one given to mm_surface_metal_async. */
void mm_surface_metal_adopt (MmSurfaceMetal *metal, MmSurfaceMetal *previous);

/* The surface of HU >= hu over the whole volume (copied now), decimated to max_triangles,
 * and a coarser copy of it (lod_triangles) drawn while the user turns the view, both ordered
 * for drawing (mm-mesh-order.h): llvmpipe turns 500 k triangles of translucent bone in about
 * 63 ms of CPU per frame, about 32 frames/s if two idle cores shared it evenly
 * (bench/bench-view3d). */
typedef struct
{
  MmMesh *mesh;
  MmMesh *lod; /* NULL when the mesh is already within lod_triangles */
} MmSurfaceBone;

void mm_surface_bone_free (MmSurfaceBone *bone);
void mm_surface_bone_async (const MmVolume *vol, double hu, size_t max_triangles,
                            size_t lod_triangles, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
MmSurfaceBone *mm_surface_bone_finish (GAsyncResult *result, GError **error);

G_END_DECLS
