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

/* Tipsify (Sander, Nehab and Barczak, "Fast triangle reordering for vertex locality and
 * reduced overdraw", SIGGRAPH 2007): walk the triangles around a vertex in the cache, then go
 * on from the candidate vertex that stays in a FIFO of cache_size longest. Linear time. Writes
 * the new triangle order (indices into the old one) into order. */
static void
tipsify (const MmMesh *mesh, int cache_size, uint32_t *order)
{
  size_t nt = mesh->n_triangles, nv = mesh->n_vertices;
  uint32_t *start = g_new0 (uint32_t, nv + 1), *adj = g_new (uint32_t, 3 * nt);
  int *live = g_new0 (int, MAX (nv, 1));
  for (size_t i = 0; i < 3 * nt; i++)
    start[mesh->triangles[i] + 1]++, live[mesh->triangles[i]]++;
  for (size_t v = 0; v < nv; v++)
    start[v + 1] += start[v];
  uint32_t *fill = g_memdup2 (start, (nv + 1) * sizeof *start);
  for (size_t t = 0; t < nt; t++)
    for (int c = 0; c < 3; c++)
      adj[fill[mesh->triangles[3 * t + c]]++] = (uint32_t) t;
  g_free (fill);
  int64_t *stamp = g_new0 (int64_t, MAX (nv, 1));
  bool *emitted = g_new0 (bool, MAX (nt, 1));
  uint32_t *dead = g_new (uint32_t, 3 * nt), *cand = g_new (uint32_t, 3 * nt);
  size_t n_dead = 0, n_out = 0, cursor = 0;
  int64_t time = cache_size + 1;
  int64_t f = nv > 0 ? 0 : -1;
  while (f >= 0)
    {
      size_t n_cand = 0;
      for (uint32_t a = start[f]; a < start[f + 1]; a++)
        {
          uint32_t t = adj[a];
          if (emitted[t])
            continue;
          emitted[t] = true;
          order[n_out++] = t;
          for (int c = 0; c < 3; c++)
            {
              uint32_t v = mesh->triangles[3 * t + c];
              dead[n_dead++] = v;
              cand[n_cand++] = v;
              live[v]--;
              if (time - stamp[v] > cache_size)
                stamp[v] = time++;
            }
        }
      /* The next fanning vertex: the candidate still in the cache after its remaining
       * triangles are emitted that entered it first. */
      int64_t best = -1, best_p = -1;
      for (size_t i = 0; i < n_cand; i++)
        {
          uint32_t v = cand[i];
          if (live[v] <= 0)
            continue;
          int64_t p = 0;
          if (time - stamp[v] + 2 * live[v] <= cache_size)
            p = time - stamp[v];
          if (p > best_p)
            best_p = p, best = v;
        }
      if (best < 0)
        {
          while (n_dead > 0 && best < 0)
            {
              uint32_t v = dead[--n_dead];
              if (live[v] > 0)
                best = v;
            }
          while (best < 0 && cursor < nv)
            {
              if (live[cursor] > 0)
                best = (int64_t) cursor;
              cursor++;
            }
        }
      f = best;
    }
  g_assert (n_out == nt);
  g_free (start);
  g_free (adj);
  g_free (live);
  g_free (stamp);
  g_free (emitted);
  g_free (dead);
  g_free (cand);
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
  g_free (mesh->triangles);
  g_free (mesh->positions);
  mesh->triangles = tris;
  mesh->positions = pos;
  mesh->n_vertices = next;
  /* Then fans around the cached vertices (tipsify), starting from the Morton order's
   * numbering, and the vertices numbered again by first use. */
  uint32_t *order = g_new (uint32_t, nt);
  tipsify (mesh, 16, order);
  tris = g_new (uint32_t, 3 * nt);
  pos = g_new (float, 3 * MAX (next, 1));
  memset (renum, 0xff, MAX (nv, 1) * sizeof *renum);
  uint32_t again = 0;
  for (size_t t = 0; t < nt; t++)
    for (int c = 0; c < 3; c++)
      {
        uint32_t v = mesh->triangles[3 * order[t] + c];
        if (renum[v] == UINT32_MAX)
          {
            renum[v] = again;
            memcpy (pos + 3 * (size_t) again, mesh->positions + 3 * (size_t) v, 3 * sizeof (float));
            again++;
          }
        tris[3 * t + c] = renum[v];
      }
  g_free (order);
  g_free (renum);
  g_free (mesh->triangles);
  g_free (mesh->positions);
  mesh->triangles = tris;
  mesh->positions = pos;
  mesh->n_vertices = again;
}

void
mm_mesh_order_corners (MmMesh *mesh)
{
  g_return_if_fail (mesh != NULL);
  /* Mesa's vsplit: a direct-mapped cache of 256 indices (index % 256), emptied at the start of
   * every segment of MM_MESH_ORDER_SEGMENT_TRIANGLES triangles. */
  uint32_t cache[256];
  for (size_t t = 0; t < mesh->n_triangles; t++)
    {
      if (t % MM_MESH_ORDER_SEGMENT_TRIANGLES == 0)
        memset (cache, 0xff, sizeof cache);
      uint32_t *v = mesh->triangles + 3 * t;
      bool hit[3];
      for (int k = 0; k < 3; k++)
        hit[k] = cache[v[k] % 256] == v[k];
      /* Start at a cached corner that follows an uncached one: cached first, then the rest. */
      int r = 0;
      for (int k = 0; k < 3; k++)
        if (hit[k] && !hit[(k + 2) % 3])
          r = k;
      uint32_t w[3] = { v[r], v[(r + 1) % 3], v[(r + 2) % 3] };
      memcpy (v, w, sizeof w);
      for (int k = 0; k < 3; k++)
        cache[v[k] % 256] = v[k];
    }
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
