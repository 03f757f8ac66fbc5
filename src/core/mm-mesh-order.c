/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Triangle and vertex order for drawing (see mm-mesh-order.h). */
#include "mm-mesh-order.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  uint64_t key;
  uint32_t tri;
} Keyed;

static int
keyed_cmp (const void *a, const void *b)
{
  const Keyed *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? -1 : 1;
  return x->tri < y->tri ? -1 : x->tri > y->tri; /* stable: the result is deterministic */
}

/* 21 bits of v spread to every third bit. */
static uint64_t
spread3 (uint64_t v)
{
  v &= 0x1fffff;
  v = (v | v << 32) & 0x1f00000000ffffULL;
  v = (v | v << 16) & 0x1f0000ff0000ffULL;
  v = (v | v << 8) & 0x100f00f00f00f00fULL;
  v = (v | v << 4) & 0x10c30c30c30c30c3ULL;
  v = (v | v << 2) & 0x1249249249249249ULL;
  return v;
}

void
mm_mesh_order_for_drawing (MmMesh *mesh)
{
  g_return_if_fail (mesh != NULL);
  size_t nt = mesh->n_triangles, nv = mesh->n_vertices;
  if (nt == 0)
    return;
  double lo[3], hi[3];
  mm_mesh_bounds (mesh, lo, hi);
  double scale[3];
  for (int a = 0; a < 3; a++)
    scale[a] = hi[a] > lo[a] ? (double) 0x1fffff / (3 * (hi[a] - lo[a])) : 0;
  Keyed *keys = g_new (Keyed, nt);
  for (size_t t = 0; t < nt; t++)
    {
      const uint32_t *v = mesh->triangles + 3 * t;
      uint64_t q[3];
      for (int a = 0; a < 3; a++)
        {
          /* The sum of the three corners, scaled to 21 bits: the centroid's cell. */
          double s = mesh->positions[3 * v[0] + a] + mesh->positions[3 * v[1] + a]
                     + mesh->positions[3 * v[2] + a] - 3 * lo[a];
          q[a] = (uint64_t) CLAMP (s * scale[a], 0, 0x1fffff);
        }
      keys[t].key = spread3 (q[0]) | spread3 (q[1]) << 1 | spread3 (q[2]) << 2;
      keys[t].tri = (uint32_t) t;
    }
  qsort (keys, nt, sizeof *keys, keyed_cmp);
  uint32_t *tris = g_new (uint32_t, 3 * nt);
  uint32_t *renum = g_new (uint32_t, MAX (nv, 1));
  memset (renum, 0xff, MAX (nv, 1) * sizeof *renum);
  float *pos = g_new (float, 3 * MAX (nv, 1));
  uint32_t next = 0;
  for (size_t t = 0; t < nt; t++)
    for (int c = 0; c < 3; c++)
      {
        uint32_t v = mesh->triangles[3 * keys[t].tri + c];
        if (renum[v] == UINT32_MAX)
          {
            renum[v] = next;
            memcpy (pos + 3 * (size_t) next, mesh->positions + 3 * (size_t) v, 3 * sizeof (float));
            next++;
          }
        tris[3 * t + c] = renum[v];
      }
  g_free (keys);
  g_free (renum);
  g_free (mesh->triangles);
  g_free (mesh->positions);
  mesh->triangles = tris;
  mesh->positions = pos;
  mesh->n_vertices = next;
}

double
mm_mesh_order_acmr (const MmMesh *mesh, int cache_size)
{
  g_return_val_if_fail (mesh != NULL && cache_size > 0, 0);
  if (mesh->n_triangles == 0)
    return 0;
  /* A FIFO of cache_size vertex ids, and for each vertex when it entered (its position in
   * the stream of misses): in the cache while fewer than cache_size misses followed. */
  g_autofree uint64_t *entered = g_new0 (uint64_t, MAX (mesh->n_vertices, 1));
  uint64_t misses = 0;
  for (size_t i = 0; i < 3 * mesh->n_triangles; i++)
    {
      uint32_t v = mesh->triangles[i];
      if (entered[v] != 0 && misses - (entered[v] - 1) < (uint64_t) cache_size)
        continue;
      entered[v] = misses + 1;
      misses++;
    }
  return (double) misses / mesh->n_triangles;
}
