/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Ray-triangle picking (Moeller & Trumbore 1997) over meshes. */
#include "mm-mesh-pick.h"

#include <math.h>
#include <omp.h>

/* t of the ray's hit with triangle (a, b, c), or a negative number. In double: the vertices
 * are floats in mm, the eye ray starts a scene's size away. */
static double
ray_triangle (const double o[3], const double d[3], const float *a, const float *b, const float *c)
{
  double e1[3] = { b[0] - a[0], b[1] - a[1], b[2] - a[2] };
  double e2[3] = { c[0] - a[0], c[1] - a[1], c[2] - a[2] };
  double p[3] = { d[1] * e2[2] - d[2] * e2[1], d[2] * e2[0] - d[0] * e2[2], d[0] * e2[1] - d[1] * e2[0] };
  double det = e1[0] * p[0] + e1[1] * p[1] + e1[2] * p[2];
  if (fabs (det) < 1e-12)
    return -1; /* parallel to the triangle's plane */
  double inv = 1.0 / det;
  double s[3] = { o[0] - a[0], o[1] - a[1], o[2] - a[2] };
  double u = (s[0] * p[0] + s[1] * p[1] + s[2] * p[2]) * inv;
  if (u < 0 || u > 1)
    return -1;
  double q[3] = { s[1] * e1[2] - s[2] * e1[1], s[2] * e1[0] - s[0] * e1[2], s[0] * e1[1] - s[1] * e1[0] };
  double v = (d[0] * q[0] + d[1] * q[1] + d[2] * q[2]) * inv;
  if (v < 0 || u + v > 1)
    return -1;
  return (e2[0] * q[0] + e2[1] * q[1] + e2[2] * q[2]) * inv;
}

bool
mm_mesh_pick (const MmMesh *const *meshes, int n, const double origin[3], const double dir[3],
              MmMeshHit *hit)
{
  g_return_val_if_fail (origin != NULL && dir != NULL && hit != NULL, false);
  hit->t = INFINITY;
  hit->mesh = -1;
  hit->triangle = 0;
  for (int m = 0; m < n; m++)
    {
      const MmMesh *mesh = meshes[m];
      if (mesh == NULL)
        continue;
      double best = INFINITY;
      size_t best_tri = 0;
#pragma omp parallel
      {
        double mine = INFINITY;
        size_t mine_tri = 0;
#pragma omp for schedule(static) nowait
        for (size_t t = 0; t < mesh->n_triangles; t++)
          {
            const uint32_t *tri = mesh->triangles + 3 * t;
            double d = ray_triangle (origin, dir, mesh->positions + 3 * tri[0],
                                     mesh->positions + 3 * tri[1], mesh->positions + 3 * tri[2]);
            if (d > 0 && d < mine)
              {
                mine = d;
                mine_tri = t;
              }
          }
#pragma omp critical
        /* Ties broken by the lower triangle, so the answer does not depend on threads. */
        if (mine < best || (mine == best && mine_tri < best_tri))
          {
            best = mine;
            best_tri = mine_tri;
          }
      }
      if (best < hit->t)
        {
          hit->t = best;
          hit->mesh = m;
          hit->triangle = best_tri;
        }
    }
  if (hit->mesh < 0)
    return false;
  for (int a = 0; a < 3; a++)
    hit->point[a] = origin[a] + hit->t * dir[a];
  return true;
}
