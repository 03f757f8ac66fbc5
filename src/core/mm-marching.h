/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Surface extraction: marching cubes on a binary classification of the voxels (a mask, one
 * 3D component of it, or an HU threshold), closed at the volume border, in LPS mm. */
#pragma once

#include "mm-components.h"
#include "mm-mask.h"
#include "mm-mesh.h"
#include "mm-volume.h"

G_BEGIN_DECLS

/* The surface between the nonzero voxels of mask and the rest, as one mesh. The volume gives
 * the geometry (spacing, slice positions, direction cosines; a tilted series is exact). The
 * result is a closed, consistently oriented 2-manifold (normals out of the object): a ring of
 * background around the volume closes surfaces that touch its border, and every ambiguous
 * cube face is resolved the same way in both cells that share it (the inside joined across
 * the face). NULL with an error when the mesh would exceed 2^32 - 1 vertices. */
MmMesh *mm_marching_mask (const MmVolume *vol, const MmMask *mask, int n_threads,
                          GError **error);

/* The same for the voxels of vol with HU >= lower (bone at 300 HU, say), without a mask. */
MmMesh *mm_marching_threshold (const MmVolume *vol, double lower, int n_threads,
                               GError **error);

/* One mesh per 3D component of mask (comps must label this mask), meshes[c - 1] for label c,
 * each closed on its own; only the component's bounding box is visited. *n_out is the count.
 * Free each with mm_mesh_free and the array with g_free. */
MmMesh **mm_marching_components (const MmVolume *vol, const MmMask *mask,
                                 const MmComponents *comps, int *n_out, int n_threads,
                                 GError **error);

/* The same without a labelling from the caller: the mask's nonzero voxels are boxed (empty
 * slices skipped), the box labelled (26-connected, mm_components_label: the same labels and
 * order as labelling the whole mask) and each component meshed. For a sparse mask (metal) this
 * is much faster than labelling the whole volume. */
MmMesh **mm_marching_mask_parts (const MmVolume *vol, const MmMask *mask, int *n_out,
                                 int n_threads, GError **error);

/* The parts of mask again after an edit, reusing the meshes of old_parts (built by either
 * function from previous, the mask before the edit) where possible. The voxels whose
 * nonzero-ness differs are looked for where either mask has voxels (mask's box and the old
 * parts' boxes, not the whole volume). A part whose voxels grown by one voxel miss the box of
 * those changes is the same component now: its mesh moves from old_parts into the result (its
 * slot in old_parts set to NULL, its component renumbered), and only the other components are
 * meshed. When the edit touches one part only (one old part is left over and one component
 * is to be meshed, e.g. a brush stroke inside the stem), that part is meshed again only in
 * the cells around the changed voxels, its other triangles kept from the old mesh (which must
 * then hold its vertices and triangles, not only its header); a part is meshed whole when
 * that does not apply or pay. The result equals mm_marching_mask_parts on mask as sets of
 * triangles per part (a locally rebuilt part numbers its vertices differently). *n_reused and
 * *n_local (either may be NULL) count the moved meshes and the locally rebuilt ones; the
 * caller frees what is left in old_parts. */
MmMesh **mm_marching_mask_parts_update (const MmVolume *vol, const MmMask *mask,
                                        const MmMask *previous, MmMesh **old_parts, int n_old,
                                        int *n_out, int *n_reused, int *n_local, int n_threads,
                                        GError **error);

/* The box of the voxels that are nonzero in one of a, b (same dims) and zero in the other:
 * false when there is none. */
bool mm_mask_changed_box (const MmMask *a, const MmMask *b, int lo[3], int hi[3]);

/* How many cube faces in the mask have their four corners alternating inside / outside (the
 * ambiguous faces): a surface-nets mesh gets an edge shared by four quads at each, a
 * non-manifold edge (the measurement behind choosing marching cubes, see docs/mesh.md). */
uint64_t mm_marching_ambiguous_faces (const MmMask *mask);

G_END_DECLS
