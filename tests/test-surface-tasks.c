/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 3D view's background metal builds (src/app/mm-surface-tasks.c): a build after an edit
 * reuses the untouched parts' meshes (moved over on the main thread), equals a full build,
 * and a build whose previous result is freed or never adopted leaves no mesh owned twice. */
#include "mm-surface-tasks.h"
#include "mm-test-util.h"

#include "mm-marching.h"

#include <math.h>
#include <string.h>

static MmVolume *
make_volume (const int dims[3])
{
  MmVolume *vol = mm_volume_new_empty (dims, MM_VOXEL_INT16);
  const double dir[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
  memcpy (vol->direction, dir, sizeof dir);
  vol->spacing[0] = 0.9, vol->spacing[1] = 0.8, vol->spacing[2] = 1.5;
  for (int k = 0; k < dims[2]; k++)
    {
      vol->slices[k].position[0] = -20, vol->slices[k].position[1] = 30;
      vol->slices[k].position[2] = 100 + 1.5 * k;
    }
  return vol;
}

/* Balls at (8, 10, 8) r 4, (22, 10, 8) r radius2, (32, 20, 12) r 3. */
static MmMask *
make_mask (const int dims[3], double radius2)
{
  MmMask *m = mm_mask_new (dims);
  for (int k = 0; k < dims[2]; k++)
    for (int j = 0; j < dims[1]; j++)
      for (int i = 0; i < dims[0]; i++)
        m->data[((size_t) k * dims[1] + j) * dims[0] + i]
            = hypot (hypot (i - 8, j - 10), k - 8) <= 4 || hypot (hypot (i - 22, j - 10), k - 8) <= radius2
              || hypot (hypot (i - 32, j - 20), k - 12) <= 3;
  return m;
}

typedef struct
{
  MmSurfaceMetal *metal;
  GError *error;
  bool done;
} Wait;

static void
done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  Wait *w = data;
  w->metal = mm_surface_metal_finish (result, &w->error);
  w->done = true;
}

static MmSurfaceMetal *
build (const MmVolume *vol, const MmMask *mask, const MmSurfaceMetal *previous, GCancellable *cancel,
       GError **error)
{
  Wait w = { 0 };
  mm_surface_metal_async (vol, mask, previous, cancel, done_cb, &w);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  if (w.error)
    g_propagate_error (error, w.error);
  return w.metal;
}

static void
test_reuse (void)
{
  const int dims[3] = { 40, 30, 20 };
  g_autoptr (MmVolume) vol = make_volume (dims);
  g_autoptr (MmMask) m1 = make_mask (dims, 3);
  g_autoptr (MmMask) m2 = make_mask (dims, 4.5);
  MmSurfaceMetal *first = build (vol, m1, NULL, NULL, NULL);
  g_assert_nonnull (first);
  g_assert_cmpint (first->n_parts, ==, 3);
  g_assert_cmpint (first->n_reused, ==, 0);
  MmMesh *kept[3];
  memcpy (kept, first->parts, sizeof kept);

  /* The middle ball grows: the two others are reused. Its first voxel now comes first in
   * scan order (row 8 of slice 4, before the first ball's row 10): it is part 1 now, the first
   * ball part 2 (renumbered). */
  MmSurfaceMetal *second = build (vol, m2, first, NULL, NULL);
  g_assert_nonnull (second);
  g_assert_cmpint (second->n_parts, ==, 3);
  g_assert_cmpint (second->n_reused, ==, 2);
  g_assert_cmpint (second->n_local, ==, 1);
  mm_surface_metal_adopt (second, first);
  g_assert_true (second->parts[1] == kept[0]);
  g_assert_true (second->parts[2] == kept[2]);
  g_assert_true (second->parts[0] != kept[1]);
  g_assert_null (first->parts[0]);
  g_assert_true (first->parts[1] == kept[1]);
  mm_surface_metal_free (first);
  /* Equal to a full build: the meshes, their volumes and areas. */
  int n = 0;
  MmMesh **full = mm_marching_mask_parts (vol, m2, &n, 1, NULL);
  g_assert_cmpint (n, ==, 3);
  for (int c = 0; c < n; c++)
    {
      g_assert_cmpint (second->parts[c]->component, ==, c + 1);
      g_assert_cmpuint (second->parts[c]->n_triangles, ==, full[c]->n_triangles);
      /* The grown ball is rebuilt around its change (its vertices numbered otherwise): the
       * same oriented triangles. */
      g_autofree float *got = mm_test_triangle_soup (second->parts[c]), *want = mm_test_triangle_soup (full[c]);
      g_assert_cmpmem (got, 36 * full[c]->n_triangles, want, 36 * full[c]->n_triangles);
      g_assert_cmpfloat (fabs (second->volume_ml[c] - mm_mesh_volume (full[c]) / 1000), <, 1e-9);
      g_assert_cmpfloat (fabs (second->area_cm2[c] - mm_mesh_area (full[c]) / 100), <, 1e-9);
      mm_mesh_free (full[c]);
    }
  g_free (full);

  /* A build whose result is never adopted (a newer one won): freeing it frees none of the
   * previous build's meshes (they stay whole and measurable). */
  MmSurfaceMetal *unused = build (vol, m1, second, NULL, NULL);
  g_assert_cmpint (unused->n_reused, ==, 2);
  mm_surface_metal_free (unused);
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat (fabs (mm_mesh_volume (second->parts[c]) / 1000 - second->volume_ml[c]), <, 1e-12);

  /* A new series: the build is cancelled and the previous result freed while it runs. */
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  Wait w = { 0 };
  mm_surface_metal_async (vol, m1, second, cancel, done_cb, &w);
  g_cancellable_cancel (cancel);
  mm_surface_metal_free (second);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (w.metal);
  g_assert_error (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&w.error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/surface-tasks/reuse", test_reuse);
  return g_test_run ();
}
