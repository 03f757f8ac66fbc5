/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Quadric edge collapse (M. Garland, P. Heckbert, "Surface simplification using quadric
 * error metrics", SIGGRAPH 1997) with manifold-preserving checks.
 *
 * Why quadrics and not vertex clustering: clustering is one pass and fast, but merging all
 * vertices of a grid cell glues nearby sheets (the two sides of a thin screw) and leaves
 * non-manifold edges, and its error is the cell size everywhere; edge collapse keeps the
 * mesh a manifold and spends the budget where the surface bends. */
#include "mm-mesh-decimate.h"

#include <math.h>
#include <string.h>

typedef struct
{
  uint32_t *t; /* incident triangles; dead ones dropped lazily */
  uint32_t n, cap;
} List;

typedef struct
{
  double cost;
  uint32_t a, b;
  uint32_t stamp_a, stamp_b;
} Entry;

typedef struct
{
  double *p;       /* 3 per vertex */
  double *q;       /* 10 per vertex: the quadric's upper triangle */
  uint32_t *stamp; /* bumped when a vertex moves or merges: older heap entries are stale */
  bool *dead_v;
  List *vt;
  uint32_t *tri;
  bool *dead_t;
  Entry *heap;
  size_t heap_n, heap_cap;
} State;

static void
list_add (List *l, uint32_t t)
{
  if (l->n == l->cap)
    {
      l->cap = l->cap ? 2 * l->cap : 8;
      l->t = g_renew (uint32_t, l->t, l->cap);
    }
  l->t[l->n++] = t;
}

static void
heap_push (State *s, Entry e)
{
  if (s->heap_n == s->heap_cap)
    {
      s->heap_cap = s->heap_cap ? 2 * s->heap_cap : 1024;
      s->heap = g_renew (Entry, s->heap, s->heap_cap);
    }
  size_t i = s->heap_n++;
  while (i > 0 && s->heap[(i - 1) / 2].cost > e.cost)
    {
      s->heap[i] = s->heap[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  s->heap[i] = e;
}

static Entry
heap_pop (State *s)
{
  Entry top = s->heap[0], last = s->heap[--s->heap_n];
  size_t i = 0;
  for (;;)
    {
      size_t c = 2 * i + 1;
      if (c >= s->heap_n)
        break;
      if (c + 1 < s->heap_n && s->heap[c + 1].cost < s->heap[c].cost)
        c++;
      if (s->heap[c].cost >= last.cost)
        break;
      s->heap[i] = s->heap[c];
      i = c;
    }
  if (s->heap_n > 0)
    s->heap[i] = last;
  return top;
}

static void
normal (const double *a, const double *b, const double *c, double n[3])
{
  double u[3], v[3];
  for (int x = 0; x < 3; x++)
    {
      u[x] = b[x] - a[x];
      v[x] = c[x] - a[x];
    }
  n[0] = u[1] * v[2] - u[2] * v[1];
  n[1] = u[2] * v[0] - u[0] * v[2];
  n[2] = u[0] * v[1] - u[1] * v[0];
}

static double
quadric_eval (const double *q, const double *p)
{
  double x = p[0], y = p[1], z = p[2];
  return q[0] * x * x + 2 * q[1] * x * y + 2 * q[2] * x * z + 2 * q[3] * x + q[4] * y * y
         + 2 * q[5] * y * z + 2 * q[6] * y + q[7] * z * z + 2 * q[8] * z + q[9];
}

/* Where the merged vertex goes: the quadric's minimum when it is well defined and near the
 * edge, else the best of the two ends and the midpoint. */
static double
place (const State *s, uint32_t a, uint32_t b, double out[3])
{
  double q[10], cand[4][3];
  int n = 0;
  for (int i = 0; i < 10; i++)
    q[i] = s->q[10 * a + i] + s->q[10 * b + i];
  const double *pa = s->p + 3 * (size_t) a, *pb = s->p + 3 * (size_t) b;
  double m[3][3] = { { q[0], q[1], q[2] }, { q[1], q[4], q[5] }, { q[2], q[5], q[7] } };
  double r[3] = { -q[3], -q[6], -q[8] };
  double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
               - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
               + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  double len2 = 0;
  for (int x = 0; x < 3; x++)
    len2 += (pa[x] - pb[x]) * (pa[x] - pb[x]);
  if (fabs (det) > 1e-12)
    {
      for (int c = 0; c < 3; c++)
        {
          double mc[3][3];
          memcpy (mc, m, sizeof mc);
          for (int row = 0; row < 3; row++)
            mc[row][c] = r[row];
          cand[n][c] = (mc[0][0] * (mc[1][1] * mc[2][2] - mc[1][2] * mc[2][1])
                        - mc[0][1] * (mc[1][0] * mc[2][2] - mc[1][2] * mc[2][0])
                        + mc[0][2] * (mc[1][0] * mc[2][1] - mc[1][1] * mc[2][0]))
                       / det;
        }
      double d2 = 0;
      for (int x = 0; x < 3; x++)
        d2 += (cand[n][x] - 0.5 * (pa[x] + pb[x])) * (cand[n][x] - 0.5 * (pa[x] + pb[x]));
      if (d2 <= len2)
        n++;
    }
  for (int x = 0; x < 3; x++)
    {
      cand[n][x] = pa[x];
      cand[n + 1][x] = pb[x];
      cand[n + 2][x] = 0.5 * (pa[x] + pb[x]);
    }
  n += 3;
  double best = INFINITY;
  for (int i = 0; i < n; i++)
    {
      double c = quadric_eval (q, cand[i]);
      if (c < best)
        {
          best = c;
          memcpy (out, cand[i], 3 * sizeof (double));
        }
    }
  return MAX (best, 0.0);
}

/* The distinct live neighbours of v (at most cap), dropping dead triangles from its list. */
static int
neighbours (State *s, uint32_t v, uint32_t *out, int cap)
{
  List *l = &s->vt[v];
  int n = 0;
  uint32_t keep = 0;
  for (uint32_t i = 0; i < l->n; i++)
    {
      uint32_t t = l->t[i];
      if (s->dead_t[t])
        continue;
      l->t[keep++] = t;
      for (int c = 0; c < 3; c++)
        {
          uint32_t w = s->tri[3 * t + c];
          bool seen = w == v;
          for (int k = 0; k < n && !seen; k++)
            seen = out[k] == w;
          if (!seen && n < cap)
            out[n++] = w;
        }
    }
  l->n = keep;
  return n;
}

#define MAX_DEGREE 256

static void
push_edges (State *s, uint32_t a)
{
  uint32_t nb[MAX_DEGREE];
  int n = neighbours (s, a, nb, MAX_DEGREE);
  for (int i = 0; i < n; i++)
    {
      double p[3];
      Entry e = { place (s, a, nb[i], p), a, nb[i], s->stamp[a], s->stamp[nb[i]] };
      heap_push (s, e);
    }
}

/* Whether collapsing b into a at p keeps the mesh a manifold and no triangle flips. */
static bool
collapse_ok (State *s, uint32_t a, uint32_t b, const double p[3])
{
  uint32_t na[MAX_DEGREE], nb[MAX_DEGREE];
  int ka = neighbours (s, a, na, MAX_DEGREE), kb = neighbours (s, b, nb, MAX_DEGREE);
  if (ka >= MAX_DEGREE - 1 || kb >= MAX_DEGREE - 1 || ka + kb < 7)
    return false;
  int common = 0;
  for (int i = 0; i < ka; i++)
    for (int j = 0; j < kb; j++)
      if (na[i] == nb[j])
        {
          common++;
          uint32_t tmp[MAX_DEGREE];
          if (neighbours (s, na[i], tmp, MAX_DEGREE) < 4)
            return false;
        }
  if (common != 2)
    return false;
  uint32_t ends[2] = { a, b };
  for (int e = 0; e < 2; e++)
    {
      List *l = &s->vt[ends[e]];
      for (uint32_t i = 0; i < l->n; i++)
        {
          const uint32_t *t = s->tri + 3 * (size_t) l->t[i];
          bool has_a = t[0] == a || t[1] == a || t[2] == a;
          bool has_b = t[0] == b || t[1] == b || t[2] == b;
          if (has_a && has_b)
            continue;
          const double *q[3];
          double moved[3][3];
          for (int c = 0; c < 3; c++)
            {
              q[c] = s->p + 3 * (size_t) t[c];
              memcpy (moved[c], t[c] == ends[e] ? p : q[c], sizeof moved[c]);
            }
          double n0[3], n1[3];
          normal (q[0], q[1], q[2], n0);
          normal (moved[0], moved[1], moved[2], n1);
          double d = n0[0] * n1[0] + n0[1] * n1[1] + n0[2] * n1[2];
          double l0 = sqrt (n0[0] * n0[0] + n0[1] * n0[1] + n0[2] * n0[2]);
          double l1 = sqrt (n1[0] * n1[0] + n1[1] * n1[1] + n1[2] * n1[2]);
          /* Refuse a flip and a near-fold (over 80 degrees of turn): both make slivers. */
          if (l1 <= 1e-12 * (l0 + 1e-30) || d <= 0.17 * l0 * l1)
            return false;
        }
    }
  return true;
}

static void
collapse (State *s, uint32_t a, uint32_t b, const double p[3], size_t *alive)
{
  List *lb = &s->vt[b];
  for (uint32_t i = 0; i < lb->n; i++)
    {
      uint32_t t = lb->t[i];
      if (s->dead_t[t])
        continue;
      uint32_t *v = s->tri + 3 * (size_t) t;
      if (v[0] == a || v[1] == a || v[2] == a)
        {
          s->dead_t[t] = true;
          (*alive)--;
          continue;
        }
      for (int c = 0; c < 3; c++)
        if (v[c] == b)
          v[c] = a;
      list_add (&s->vt[a], t);
    }
  g_free (lb->t);
  memset (lb, 0, sizeof *lb);
  s->dead_v[b] = true;
  memcpy (s->p + 3 * (size_t) a, p, 3 * sizeof (double));
  for (int i = 0; i < 10; i++)
    s->q[10 * a + i] += s->q[10 * b + i];
  s->stamp[a]++;
  s->stamp[b]++;
}

bool
mm_mesh_decimate (MmMesh *mesh, size_t max_triangles)
{
  g_return_val_if_fail (mesh != NULL, false);
  if (mesh->n_triangles <= max_triangles)
    return true;
  size_t nv = mesh->n_vertices, nt = mesh->n_triangles, alive = nt;
  State s = { 0 };
  double o[3] = { mesh->positions[0], mesh->positions[1], mesh->positions[2] };
  s.p = g_new (double, 3 * nv);
  for (size_t v = 0; v < nv; v++)
    for (int x = 0; x < 3; x++)
      s.p[3 * v + x] = mesh->positions[3 * v + x] - o[x];
  s.q = g_new0 (double, 10 * nv);
  s.stamp = g_new0 (uint32_t, nv);
  s.dead_v = g_new0 (bool, nv);
  s.vt = g_new0 (List, nv);
  s.tri = g_memdup2 (mesh->triangles, 3 * nt * sizeof (uint32_t));
  s.dead_t = g_new0 (bool, nt);
  for (size_t t = 0; t < nt; t++)
    {
      const uint32_t *v = s.tri + 3 * t;
      double n[3];
      normal (s.p + 3 * (size_t) v[0], s.p + 3 * (size_t) v[1], s.p + 3 * (size_t) v[2], n);
      double len = sqrt (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
      if (len > 0)
        {
          double pl[4] = { n[0] / len, n[1] / len, n[2] / len, 0 };
          const double *p0 = s.p + 3 * (size_t) v[0];
          pl[3] = -(pl[0] * p0[0] + pl[1] * p0[1] + pl[2] * p0[2]);
          /* Weighted by area, so that the many small triangles of a terrace count as much
           * as the plane they make. */
          double w = 0.5 * len, k[10] = { pl[0] * pl[0], pl[0] * pl[1], pl[0] * pl[2],
                                          pl[0] * pl[3], pl[1] * pl[1], pl[1] * pl[2],
                                          pl[1] * pl[3], pl[2] * pl[2], pl[2] * pl[3],
                                          pl[3] * pl[3] };
          for (int c = 0; c < 3; c++)
            for (int i = 0; i < 10; i++)
              s.q[10 * (size_t) v[c] + i] += w * k[i];
        }
      for (int c = 0; c < 3; c++)
        list_add (&s.vt[v[c]], (uint32_t) t);
    }
  for (size_t t = 0; t < nt; t++)
    for (int c = 0; c < 3; c++)
      {
        uint32_t a = s.tri[3 * t + c], b = s.tri[3 * t + (c + 1) % 3];
        if (a < b) /* each edge once: its two triangles run it both ways */
          {
            double p[3];
            Entry e = { place (&s, a, b, p), a, b, 0, 0 };
            heap_push (&s, e);
          }
      }
  while (alive > max_triangles && s.heap_n > 0)
    {
      Entry e = heap_pop (&s);
      if (s.dead_v[e.a] || s.dead_v[e.b] || s.stamp[e.a] != e.stamp_a
          || s.stamp[e.b] != e.stamp_b)
        continue;
      double p[3];
      place (&s, e.a, e.b, p);
      if (!collapse_ok (&s, e.a, e.b, p))
        continue;
      collapse (&s, e.a, e.b, p, &alive);
      push_edges (&s, e.a);
    }
  /* Compact: live vertices renumbered in order, live triangles in order. */
  uint32_t *remap = g_new (uint32_t, nv);
  size_t kv = 0, kt = 0;
  for (size_t v = 0; v < nv; v++)
    if (!s.dead_v[v])
      {
        remap[v] = (uint32_t) kv;
        for (int x = 0; x < 3; x++)
          mesh->positions[3 * kv + x] = (float) (s.p[3 * v + x] + o[x]);
        kv++;
      }
  for (size_t t = 0; t < nt; t++)
    if (!s.dead_t[t])
      {
        for (int c = 0; c < 3; c++)
          mesh->triangles[3 * kt + c] = remap[s.tri[3 * t + c]];
        kt++;
      }
  mesh->n_vertices = kv;
  mesh->n_triangles = kt;
  for (size_t v = 0; v < nv; v++)
    g_free (s.vt[v].t);
  g_free (remap);
  g_free (s.vt);
  g_free (s.p);
  g_free (s.q);
  g_free (s.stamp);
  g_free (s.dead_v);
  g_free (s.tri);
  g_free (s.dead_t);
  g_free (s.heap);
  return kt <= max_triangles;
}
