/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmMesh: storage, volume, area, bounds and the edge topology checks. */
#include "mm-mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

MmMesh *
mm_mesh_new (size_t vertex_capacity, size_t triangle_capacity)
{
  MmMesh *m = g_new0 (MmMesh, 1);
  m->positions = g_new (float, 3 * MAX (vertex_capacity, 1));
  m->triangles = g_new (uint32_t, 3 * MAX (triangle_capacity, 1));
  return m;
}

void
mm_mesh_free (MmMesh *mesh)
{
  if (mesh == NULL)
    return;
  g_free (mesh->positions);
  g_free (mesh->triangles);
  g_free (mesh);
}

static void
vertex (const MmMesh *m, uint32_t v, double p[3])
{
  for (int a = 0; a < 3; a++)
    p[a] = m->positions[3 * (size_t) v + a];
}

double
mm_mesh_volume (const MmMesh *mesh)
{
  /* Sum of signed tetrahedra against a point near the mesh (its first vertex) rather than the
   * origin: patient coordinates put the object hundreds of mm away, and the cancellation
   * of large terms would cost digits. */
  if (mesh->n_triangles == 0)
    return 0.0;
  double o[3], sum = 0.0;
  vertex (mesh, mesh->triangles[0], o);
#pragma omp parallel for reduction(+ : sum) schedule(static)
  for (size_t t = 0; t < mesh->n_triangles; t++)
    {
      double p[3][3];
      for (int c = 0; c < 3; c++)
        {
          vertex (mesh, mesh->triangles[3 * t + c], p[c]);
          for (int a = 0; a < 3; a++)
            p[c][a] -= o[a];
        }
      sum += p[0][0] * (p[1][1] * p[2][2] - p[1][2] * p[2][1])
             - p[0][1] * (p[1][0] * p[2][2] - p[1][2] * p[2][0])
             + p[0][2] * (p[1][0] * p[2][1] - p[1][1] * p[2][0]);
    }
  return sum / 6.0;
}

double
mm_mesh_area (const MmMesh *mesh)
{
  double sum = 0.0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
  for (size_t t = 0; t < mesh->n_triangles; t++)
    {
      double a[3], b[3], c[3], u[3], v[3];
      vertex (mesh, mesh->triangles[3 * t], a);
      vertex (mesh, mesh->triangles[3 * t + 1], b);
      vertex (mesh, mesh->triangles[3 * t + 2], c);
      for (int x = 0; x < 3; x++)
        {
          u[x] = b[x] - a[x];
          v[x] = c[x] - a[x];
        }
      double n0 = u[1] * v[2] - u[2] * v[1], n1 = u[2] * v[0] - u[0] * v[2],
             n2 = u[0] * v[1] - u[1] * v[0];
      sum += 0.5 * sqrt (n0 * n0 + n1 * n1 + n2 * n2);
    }
  return sum;
}

void
mm_mesh_bounds (const MmMesh *mesh, double min[3], double max[3])
{
  for (int a = 0; a < 3; a++)
    {
      min[a] = INFINITY;
      max[a] = -INFINITY;
    }
  for (size_t v = 0; v < mesh->n_vertices; v++)
    for (int a = 0; a < 3; a++)
      {
        double x = mesh->positions[3 * v + a];
        min[a] = MIN (min[a], x);
        max[a] = MAX (max[a], x);
      }
}

typedef struct
{
  uint64_t key; /* smaller vertex << 32 | larger vertex */
  int dir;      /* +1 when the triangle runs it from smaller to larger */
} Edge;

static int
edge_cmp (const void *pa, const void *pb)
{
  const Edge *a = pa, *b = pb;
  if (a->key != b->key)
    return a->key < b->key ? -1 : 1;
  return a->dir - b->dir;
}

void
mm_mesh_topology (const MmMesh *mesh, MmMeshTopology *topo)
{
  memset (topo, 0, sizeof *topo);
  size_t n = 3 * mesh->n_triangles;
  Edge *e = g_new (Edge, MAX (n, 1));
  uint8_t *used = g_new0 (uint8_t, MAX (mesh->n_vertices, 1));
  for (size_t t = 0; t < mesh->n_triangles; t++)
    {
      const uint32_t *v = mesh->triangles + 3 * t;
      if (v[0] == v[1] || v[1] == v[2] || v[0] == v[2])
        topo->degenerate_triangles++;
      for (int c = 0; c < 3; c++)
        {
          uint32_t a = v[c], b = v[(c + 1) % 3];
          used[a] = 1;
          e[3 * t + c].key = ((uint64_t) MIN (a, b) << 32) | MAX (a, b);
          e[3 * t + c].dir = a < b ? 1 : -1;
        }
    }
  qsort (e, n, sizeof *e, edge_cmp);
  for (size_t i = 0; i < n;)
    {
      size_t j = i;
      while (j < n && e[j].key == e[i].key)
        j++;
      topo->edges++;
      if (j - i == 1)
        topo->boundary_edges++;
      else if (j - i > 2)
        topo->nonmanifold_edges++;
      else if (e[i].dir == e[i + 1].dir)
        topo->misoriented_edges++;
      i = j;
    }
  size_t nv = 0;
  for (size_t v = 0; v < mesh->n_vertices; v++)
    nv += used[v];
  topo->euler = (long) nv - (long) topo->edges + (long) mesh->n_triangles;
  g_free (used);
  g_free (e);
}

bool
mm_mesh_is_closed_manifold (const MmMesh *mesh)
{
  MmMeshTopology t;
  mm_mesh_topology (mesh, &t);
  return t.boundary_edges == 0 && t.nonmanifold_edges == 0 && t.misoriented_edges == 0
         && t.degenerate_triangles == 0;
}

void
mm_mesh_flip_xy (MmMesh *mesh)
{
  for (size_t v = 0; v < mesh->n_vertices; v++)
    {
      mesh->positions[3 * v] = -mesh->positions[3 * v];
      mesh->positions[3 * v + 1] = -mesh->positions[3 * v + 1];
    }
}

MmMesh *
mm_mesh_concat (MmMesh *const *meshes, int n)
{
  size_t nv = 0, nt = 0;
  for (int i = 0; i < n; i++)
    {
      nv += meshes[i]->n_vertices;
      nt += meshes[i]->n_triangles;
    }
  g_return_val_if_fail (nv <= UINT32_MAX, NULL);
  MmMesh *out = mm_mesh_new (nv, nt);
  for (int i = 0; i < n; i++)
    {
      const MmMesh *m = meshes[i];
      memcpy (out->positions + 3 * out->n_vertices, m->positions,
              3 * m->n_vertices * sizeof (float));
      for (size_t t = 0; t < 3 * m->n_triangles; t++)
        out->triangles[3 * out->n_triangles + t] = m->triangles[t] + (uint32_t) out->n_vertices;
      out->n_vertices += m->n_vertices;
      out->n_triangles += m->n_triangles;
    }
  out->component = n == 1 ? meshes[0]->component : 0;
  return out;
}
