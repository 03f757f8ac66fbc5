/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Taubin lambda/mu smoothing on the mesh's vertex neighbourhoods. */
#include "mm-mesh-smooth.h"

#include <omp.h>
#include <stdlib.h>

static int
u32_cmp (const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
  return x < y ? -1 : x > y;
}

/* Each vertex's distinct neighbours as CSR: nbr[start[v] .. start[v + 1]). */
static void
neighbours (const MmMesh *m, size_t **start_out, uint32_t **nbr_out)
{
  size_t nv = m->n_vertices;
  size_t *start = g_new0 (size_t, nv + 1);
  for (size_t t = 0; t < 3 * m->n_triangles; t++)
    start[m->triangles[t] + 1] += 2;
  for (size_t v = 0; v < nv; v++)
    start[v + 1] += start[v];
  uint32_t *nbr = g_new (uint32_t, MAX (start[nv], 1));
  size_t *fill = g_memdup2 (start, (nv + 1) * sizeof *start);
  for (size_t t = 0; t < m->n_triangles; t++)
    for (int c = 0; c < 3; c++)
      {
        uint32_t a = m->triangles[3 * t + c];
        nbr[fill[a]++] = m->triangles[3 * t + (c + 1) % 3];
        nbr[fill[a]++] = m->triangles[3 * t + (c + 2) % 3];
      }
  /* Sort and drop repeats in place, then close the gaps. */
  size_t out = 0;
  for (size_t v = 0; v < nv; v++)
    {
      size_t s = start[v], e = start[v + 1];
      qsort (nbr + s, e - s, sizeof *nbr, u32_cmp);
      start[v] = out;
      for (size_t i = s; i < e; i++)
        if (i == s || nbr[i] != nbr[i - 1])
          nbr[out++] = nbr[i];
    }
  start[nv] = out;
  g_free (fill);
  *start_out = start;
  *nbr_out = nbr;
}

void
mm_mesh_smooth_taubin (MmMesh *mesh, int iterations, double lambda, double mu, int n_threads)
{
  g_return_if_fail (mesh != NULL && iterations >= 0);
  if (iterations == 0 || mesh->n_vertices == 0)
    return;
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  size_t nv = mesh->n_vertices, *start;
  uint32_t *nbr;
  neighbours (mesh, &start, &nbr);
  /* Work in double around the first vertex: float steps would lose the small moves. */
  double o[3] = { mesh->positions[0], mesh->positions[1], mesh->positions[2] };
  double *p = g_new (double, 3 * nv), *q = g_new (double, 3 * nv);
  for (size_t v = 0; v < nv; v++)
    for (int a = 0; a < 3; a++)
      p[3 * v + a] = mesh->positions[3 * v + a] - o[a];
  for (int it = 0; it < 2 * iterations; it++)
    {
      double f = it % 2 == 0 ? lambda : mu;
#pragma omp parallel for num_threads (n_threads) schedule (static)
      for (size_t v = 0; v < nv; v++)
        {
          size_t n = start[v + 1] - start[v];
          for (int a = 0; a < 3; a++)
            {
              double s = 0.0;
              for (size_t i = start[v]; i < start[v + 1]; i++)
                s += p[3 * (size_t) nbr[i] + a];
              q[3 * v + a] = n ? p[3 * v + a] + f * (s / n - p[3 * v + a]) : p[3 * v + a];
            }
        }
      double *t = p;
      p = q;
      q = t;
    }
  for (size_t v = 0; v < nv; v++)
    for (int a = 0; a < 3; a++)
      mesh->positions[3 * v + a] = (float) (p[3 * v + a] + o[a]);
  g_free (p);
  g_free (q);
  g_free (start);
  g_free (nbr);
}
