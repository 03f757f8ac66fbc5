/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-phantom-physics.h"

#include "mm-phantom-scene.h"

#include <gio/gio.h>
#include <math.h>

MmCtMaterial
mm_phantom_physics_material (double object_hu)
{
  return object_hu < 8000 ? MM_CT_TITANIUM : object_hu < 16000 ? MM_CT_STEEL : MM_CT_COCR;
}

static void
store (const float *hu, int16_t *out, size_t count)
{
  for (size_t x = 0; x < count; x++)
    out[x] = (int16_t) lrintf (CLAMP (hu[x], -1024.0f, 31743.0f));
}

bool
mm_phantom_physics_scan (const MmPhantomParams *p, const MmCtSimParams *sim, MmVolume *scan,
                         MmVolume *no_metal, GError **error)
{
  int n = p->size, ns = p->slices;
  if (n > MM_PHANTOM_PHYSICS_MAX_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the CT simulation makes images of at most %d x %d pixels (its 736-channel "
                   "detector resolves no more), not %d",
                   MM_PHANTOM_PHYSICS_MAX_SIZE, MM_PHANTOM_PHYSICS_MAX_SIZE, n);
      return false;
    }
  if (p->variant < 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the CT simulation needs a phantom variant (1 or more), not the fixed phantom");
      return false;
    }
  if (scan->dims[0] != n || scan->dims[1] != n || scan->dims[2] != ns
      || scan->type != MM_VOXEL_INT16
      || (no_metal && (no_metal->dims[0] != n || no_metal->dims[1] != n
                       || no_metal->dims[2] != ns || no_metal->type != MM_VOXEL_INT16)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "CT simulation: the volumes are not the phantom's size");
      return false;
    }
  MmCtSimParams sp = *sim;
  sp.n = n;
  sp.pixel_mm = p->pixel_mm;
  g_autoptr (MmCtSim) s = mm_ct_sim_new (&sp, error);
  if (s == NULL)
    return false;
  double half[3] = { 0.5 * (n - 1) * p->pixel_mm, 0.5 * (n - 1) * p->pixel_mm,
                     0.5 * (ns - 1) * p->slice_mm };
  Scene *sc = mm_phantom_scene_new (p, half);
  MmCtMaterial mat[MM_PHANTOM_MAX_OBJECTS];
  for (int o = 0; o < MM_PHANTOM_MAX_OBJECTS; o++)
    mat[o] = mm_phantom_physics_material (o < sc->n_objects ? sc->objects[o].hu : 0);
  size_t slice = (size_t) n * n;
  bool ok = true;
  GError *first = NULL;
#pragma omp parallel
  {
    float *thu = g_try_new (float, slice), *frac = g_try_new (float, slice);
    float *hu = g_try_new (float, slice);
    float *tissue = g_try_new (float, slice * 4), *metal = g_try_new (float, slice * 4);
    int8_t *obj = g_try_new (int8_t, slice);
    if (!thu || !frac || !hu || !tissue || !metal || !obj)
#pragma omp critical
      {
        if (ok)
          g_set_error (&first, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                       "CT simulation: not enough memory for %d x %d slices", n, n);
        ok = false;
      }
#pragma omp for schedule (dynamic, 1)
    for (int k = 0; k < ns; k++)
      {
        if (!ok)
          continue;
        GError *err = NULL;
        mm_phantom_variant_physics_slice (sc, p, half, k, thu, frac, obj);
        bool any_metal = false;
        for (size_t x = 0; x < slice; x++)
          {
            float f = frac[x];
            mm_ct_sim_tissue (s, thu[x], 1 - f, tissue + x * 4);
            float *m = metal + x * 4;
            m[0] = m[1] = m[2] = m[3] = 0;
            if (obj[x] >= 0 && f > 0)
              {
                m[mat[obj[x]] - MM_CT_METAL_CHANNEL0] = f;
                any_metal = true;
              }
          }
        guint64 seed = (p->seed * 0x9E3779B97F4A7C15ULL) ^ ((guint64) p->variant << 20)
                       ^ (guint64) k;
        bool done = mm_ct_sim_slice (s, tissue, any_metal ? metal : NULL, seed, hu, &err);
        if (done)
          store (hu, (int16_t *) scan->voxels + (size_t) k * slice, slice);
        if (done && no_metal)
          {
            /* The reference: the tissue the metal displaced, the same noise seed. */
            for (size_t x = 0; x < slice; x++)
              mm_ct_sim_tissue (s, thu[x], 1, tissue + x * 4);
            done = mm_ct_sim_slice (s, tissue, NULL, seed, hu, &err);
            if (done)
              store (hu, (int16_t *) no_metal->voxels + (size_t) k * slice, slice);
          }
        if (!done)
#pragma omp critical
          {
            ok = false;
            if (first == NULL)
              first = err;
            else
              g_clear_error (&err);
          }
      }
    g_free (thu);
    g_free (frac);
    g_free (hu);
    g_free (tissue);
    g_free (metal);
    g_free (obj);
  }
  g_free (sc);
  if (!ok)
    g_propagate_error (error, first);
  return ok;
}
