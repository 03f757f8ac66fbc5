/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A part's mesh after a small edit, rebuilt only where the edit is (see mm-marching-private.h).
 *
 * Marching cubes is local: a cell's triangles depend on its eight corner voxels only, and a
 * vertex is fixed by the grid edge it lies on (the midpoint, in the volume's geometry). So the
 * cells with no changed corner keep their triangles, and the cells with one get new ones whose
 * vertices on the dirty box's faces are the kept triangles' vertices (the same grid edges):
 * stitched by construction. The old mesh carries no grid indices; they come back from its
 * positions (mm_volume_lps_to_index: a vertex is on a grid edge, so twice its index is an
 * integer, odd along the edge's axis; a triangle's centroid lies strictly inside its cell,
 * as no marching-cubes triangle lies in a cube face). */
#include "mm-marching-private.h"

#include <math.h>
#include <string.h>

/* A grid edge as one number: its low voxel (i, j, k from -1, the ring outside the volume) and
 * its axis. */
static uint64_t
edge_key (const int *dims, int i, int j, int k, int axis)
{
  return ((((uint64_t) (k + 1) * (dims[1] + 2) + (uint64_t) (j + 1)) * (dims[0] + 2) + (uint64_t) (i + 1)) * 3)
         + (uint64_t) axis;
}

/* old's vertex v as a grid edge: false when it is not on one (not a marching-cubes vertex of
 * this grid). */
static bool
vertex_edge (const MmVolume *vol, const float *p, int v[3], int *axis)
{
  double lps[3] = { p[0], p[1], p[2] }, ijk[3];
  mm_volume_lps_to_index (vol, lps, ijk);
  int odd = -1;
  for (int a = 0; a < 3; a++)
    {
      double twice = 2 * ijk[a];
      long r = lround (twice);
      if (fabs (twice - r) > 0.05 || r < -2 || r > 2L * vol->dims[a] + 2)
        return false;
      if (r & 1)
        {
          if (odd >= 0)
            return false;
          odd = a;
        }
      v[a] = (int) ((r - (r & 1)) / 2); /* the low end along the edge's axis */
    }
  *axis = odd;
  return odd >= 0;
}

typedef struct
{
  const MmVolume *vol;
  GHashTable *index; /* edge key (uint64_t *) -> vertex index + 1 */
  GArray *keys;      /* uint64_t, stable storage of the hash keys (by chunk) */
  GArray *positions; /* float x 3, the new vertices */
  size_t n_old;
} Vertices;

static uint64_t *
key_slot (uint64_t key)
{
  /* g_hash_table keeps pointers to its keys: each in its own small block. */
  uint64_t *k = g_new (uint64_t, 1);
  *k = key;
  return k;
}

static uint32_t
vertex_for (Vertices *vs, int i, int j, int k, int axis)
{
  uint64_t key = edge_key (vs->vol->dims, i, j, k, axis);
  gpointer at = g_hash_table_lookup (vs->index, &key);
  if (at != NULL)
    return (uint32_t) (GPOINTER_TO_SIZE (at) - 1);
  double lps[3];
  /* As mm-marching.c's map_axis computes it: the same floats. */
  mm_volume_index_to_lps (vs->vol, i + (axis == 0 ? 0.5 : 0), j + (axis == 1 ? 0.5 : 0),
                          k + (axis == 2 ? 0.5 : 0), lps);
  float f[3] = { (float) lps[0], (float) lps[1], (float) lps[2] };
  g_array_append_vals (vs->positions, f, 3);
  size_t v = vs->n_old + vs->positions->len / 3 - 1;
  g_hash_table_insert (vs->index, key_slot (key), GSIZE_TO_POINTER (v + 1));
  return (uint32_t) v;
}

MmMesh *
mm_mc_splice (const MmVolume *vol, const MmMesh *old, const MmMask *crop, const int lo[3],
              const MmComponents *comps, int label, const int clo[3], const int chi[3])
{
  /* A header without its mesh (every component has triangles): nothing to keep. */
  if (old->n_triangles == 0 || old->positions == NULL)
    return NULL;
  const MmMcCase *cases = mm_mc_cases ();
  const int *dims = vol->dims;
  /* Cells are named by their low corner voxel, -1 .. dims - 1; a changed voxel is a corner of
   * the cells from itself - 1 to itself. */
  int dlo[3], dhi[3];
  size_t cells = 1;
  for (int a = 0; a < 3; a++)
    {
      dlo[a] = MAX (clo[a] - 1, -1);
      dhi[a] = MIN (chi[a], dims[a] - 1);
      cells *= (size_t) (dhi[a] - dlo[a] + 1);
    }
  /* A large edit: meshing the part whole costs about as much and is simpler. */
  if (cells > old->n_triangles / 2 + 4096)
    return NULL;

  /* Old triangles outside the dirty cells stay. */
  g_autofree uint8_t *keep = g_new (uint8_t, MAX (old->n_triangles, 1));
  size_t n_keep = 0;
  for (size_t t = 0; t < old->n_triangles; t++)
    {
      double c[3] = { 0, 0, 0 }, ijk[3];
      for (int corner = 0; corner < 3; corner++)
        for (int a = 0; a < 3; a++)
          c[a] += old->positions[3 * old->triangles[3 * t + corner] + a] / 3.0;
      mm_volume_lps_to_index (vol, c, ijk);
      bool inside = true;
      for (int a = 0; a < 3; a++)
        {
          double f = floor (ijk[a]), frac = ijk[a] - f;
          if (frac < 0.05 || frac > 0.95)
            return NULL; /* not a marching-cubes triangle of this grid */
          inside = inside && f >= dlo[a] && f <= dhi[a];
        }
      keep[t] = !inside;
      n_keep += keep[t];
    }

  /* Old vertices by grid edge, so that new triangles on the dirty box's faces share them. */
  Vertices vs = { .vol = vol, .n_old = old->n_vertices };
  vs.index = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  vs.positions = g_array_new (FALSE, FALSE, sizeof (float));
  for (size_t v = 0; v < old->n_vertices; v++)
    {
      int e[3], axis;
      if (!vertex_edge (vol, old->positions + 3 * v, e, &axis))
        {
          g_hash_table_unref (vs.index);
          g_array_unref (vs.positions);
          return NULL;
        }
      g_hash_table_insert (vs.index, key_slot (edge_key (dims, e[0], e[1], e[2], axis)),
                           GSIZE_TO_POINTER (v + 1));
    }

  /* The dirty cells marched again for this component. */
  const int *cd = crop->dims;
  bool reflect = mm_mc_geometry_reflects (vol);
  GArray *fresh = g_array_new (FALSE, FALSE, sizeof (uint32_t));
  for (int z = dlo[2]; z <= dhi[2]; z++)
    for (int y = dlo[1]; y <= dhi[1]; y++)
      for (int x = dlo[0]; x <= dhi[0]; x++)
        {
          int bits = 0;
          for (int corner = 0; corner < 8; corner++)
            {
              int i = x + (corner & 1) - lo[0], j = y + ((corner >> 1) & 1) - lo[1],
                  k = z + ((corner >> 2) & 1) - lo[2];
              bool in = i >= 0 && j >= 0 && k >= 0 && i < cd[0] && j < cd[1] && k < cd[2]
                        && mm_components_label_at (comps, i, j, k) == label;
              bits |= in << corner;
            }
          const MmMcCase *cs = &cases[bits];
          for (int t = 0; t < cs->n; t++)
            {
              uint32_t v[3];
              for (int corner = 0; corner < 3; corner++)
                {
                  int e = cs->tri[t][corner], low = mm_mc_edge_corner_low (e);
                  v[corner] = vertex_for (&vs, x + (low & 1), y + ((low >> 1) & 1), z + ((low >> 2) & 1), e / 4);
                }
              if (reflect)
                {
                  uint32_t tmp = v[1];
                  v[1] = v[2];
                  v[2] = tmp;
                }
              g_array_append_vals (fresh, v, 3);
            }
        }
  g_hash_table_unref (vs.index);

  /* Kept and new triangles; the vertices they use, numbered in order (old ones first). */
  size_t n_fresh = fresh->len / 3, nv_all = old->n_vertices + vs.positions->len / 3;
  g_autofree uint32_t *renumber = g_new (uint32_t, MAX (nv_all, 1));
  for (size_t v = 0; v < nv_all; v++)
    renumber[v] = UINT32_MAX;
  MmMesh *m = mm_mesh_new (nv_all, n_keep + n_fresh);
  for (size_t t = 0; t < old->n_triangles + n_fresh; t++)
    {
      bool from_old = t < old->n_triangles;
      if (from_old && !keep[t])
        continue;
      const uint32_t *tri = from_old ? old->triangles + 3 * t
                                     : &g_array_index (fresh, uint32_t, 3 * (t - old->n_triangles));
      for (int corner = 0; corner < 3; corner++)
        {
          uint32_t v = tri[corner];
          if (renumber[v] == UINT32_MAX)
            {
              renumber[v] = (uint32_t) m->n_vertices;
              const float *p = v < old->n_vertices
                                   ? old->positions + 3 * v
                                   : &g_array_index (vs.positions, float, 3 * (v - old->n_vertices));
              memcpy (m->positions + 3 * m->n_vertices++, p, 3 * sizeof (float));
            }
          m->triangles[3 * m->n_triangles + corner] = renumber[v];
        }
      m->n_triangles++;
    }
  g_array_unref (fresh);
  g_array_unref (vs.positions);
  return m;
}
