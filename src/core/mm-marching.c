/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Marching cubes on a binary voxel classification, parallel over slabs of cells.
 *
 * Why marching cubes and not surface nets: on a binary mask surface nets put one vertex per
 * cell and one quad per crossing grid edge, so a cube face whose corners alternate
 * inside/outside (two voxels touching along an edge only, common in metal masks) gives a
 * dual edge shared by four quads: a non-manifold mesh unless vertices are split. Marching
 * cubes with a face-consistent table is manifold by construction (see make_table).
 *
 * Vertices lie on the grid edges between an inside and an outside voxel centre, at the
 * midpoint (the 0.5 level of the 0/1 field, as scikit-image's marching_cubes on a mask), so
 * a vertex is shared by the cells around its edge through a per-plane index map and the
 * output is identical for any thread count. */
#include "mm-marching.h"
#include "mm-marching-private.h"

#include <math.h>
#include <gio/gio.h>
#include <omp.h>
#include <string.h>

/* ---- The case table, built once from the cube's faces ----
 * Corner c is (c & 1, c >> 1 & 1, c >> 2 & 1). Edge e = axis * 4 + q joins the corner with
 * bit axis clear and the two other bits q (bit (axis+1)%3 + 2 * bit (axis+2)%3) to the
 * corner with bit axis set. */

#define MAX_TRIS MM_MC_MAX_TRIS
typedef MmMcCase Case;

static Case cases[256];

static int
edge_corner_low (int e)
{
  int axis = e / 4, q = e % 4;
  return ((q & 1) << ((axis + 1) % 3)) | ((q >> 1) << ((axis + 2) % 3));
}

static int
edge_between (int c0, int c1)
{
  int d = c0 ^ c1, axis = d == 1 ? 0 : d == 2 ? 1 : 2;
  int low = c0 & c1;
  return axis * 4 + ((low >> ((axis + 1) % 3)) & 1) + 2 * ((low >> ((axis + 2) % 3)) & 1);
}

/* Whether edges e0 and e1 lie on one face of the cube. */
static bool
same_face (int e0, int e1)
{
  int c[4] = { edge_corner_low (e0), edge_corner_low (e0) | 1 << (e0 / 4),
               edge_corner_low (e1), edge_corner_low (e1) | 1 << (e1 / 4) };
  for (int a = 0; a < 3; a++)
    for (int s = 0; s < 2; s++)
      {
        bool all = true;
        for (int i = 0; i < 4; i++)
          all = all && ((c[i] >> a) & 1) == s;
        if (all)
          return true;
      }
  return false;
}

/* Each face of the cube, walked counter-clockwise seen from outside, links every edge where
 * the walk leaves the inside ("exit") to the next edge where it enters again: the segment
 * cuts off the run of outside corners between them, so the inside is joined across an
 * ambiguous face. Both cells sharing a face see the same corners and make the same segment,
 * and each crossing edge is an exit on one of its two faces and an entry on the other, so
 * the segments form closed loops and every mesh edge on a face has one triangle on each
 * side. A loop is fanned from a vertex none of whose chords lies on a cube face (a chord on
 * a face could meet the neighbour's chord), which the search below always finds. */
static void
make_case (int bits, bool flip)
{
  int next[12];
  for (int e = 0; e < 12; e++)
    next[e] = -1;
  for (int a = 0; a < 3; a++)
    for (int s = 0; s < 2; s++)
      {
        int b = (a + 1) % 3, c = (a + 2) % 3, f[4];
        static const int bc[4][2] = { { 0, 0 }, { 1, 0 }, { 1, 1 }, { 0, 1 } };
        for (int p = 0; p < 4; p++)
          {
            int pp = s ? p : 3 - p; /* side 0 faces -axis: walk the other way */
            f[p] = s << a | bc[pp][0] << b | bc[pp][1] << c;
          }
        for (int p = 0; p < 4; p++)
          {
            bool in0 = (bits >> f[p]) & 1, in1 = (bits >> f[(p + 1) % 4]) & 1;
            if (!(in0 && !in1))
              continue;
            for (int d = 1; d < 4; d++)
              {
                int q = (p + d) % 4;
                if (!((bits >> f[q]) & 1) && ((bits >> f[(q + 1) % 4]) & 1))
                  {
                    next[edge_between (f[p], f[(p + 1) % 4])] = edge_between (f[q], f[(q + 1) % 4]);
                    break;
                  }
              }
          }
      }
  Case *cs = &cases[bits];
  bool seen[12] = { false };
  for (int e0 = 0; e0 < 12; e0++)
    {
      if (next[e0] < 0 || seen[e0])
        continue;
      int loop[12], n = 0;
      for (int e = e0; !seen[e]; e = next[e])
        {
          g_assert (next[e] >= 0);
          seen[e] = true;
          loop[n++] = e;
        }
      int start = -1;
      for (int s = 0; s < n && start < 0; s++)
        {
          bool ok = true;
          for (int d = 2; d <= n - 2; d++)
            ok = ok && !same_face (loop[s], loop[(s + d) % n]);
          if (ok)
            start = s;
        }
      g_assert (start >= 0);
      for (int d = 1; d + 1 < n; d++)
        {
          g_assert (cs->n < MAX_TRIS);
          uint8_t *t = cs->tri[cs->n++];
          t[0] = loop[start];
          t[1] = loop[(start + (flip ? d + 1 : d)) % n];
          t[2] = loop[(start + (flip ? d : d + 1)) % n];
        }
    }
}

static gpointer
make_table (gpointer unused)
{
  (void) unused;
  /* Orientation from one case: corner 0 alone inside, whose outward normal is (1, 1, 1). */
  make_case (1, false);
  double p[3][3];
  for (int v = 0; v < 3; v++)
    {
      int e = cases[1].tri[0][v], low = edge_corner_low (e);
      for (int a = 0; a < 3; a++)
        p[v][a] = ((low >> a) & 1) + (a == e / 4 ? 0.5 : 0.0);
    }
  double u[3], w[3];
  for (int a = 0; a < 3; a++)
    {
      u[a] = p[1][a] - p[0][a];
      w[a] = p[2][a] - p[0][a];
    }
  double dot = (u[1] * w[2] - u[2] * w[1]) + (u[2] * w[0] - u[0] * w[2])
               + (u[0] * w[1] - u[1] * w[0]);
  bool flip = dot < 0;
  memset (cases, 0, sizeof cases);
  for (int bits = 0; bits < 256; bits++)
    make_case (bits, flip);
  return NULL;
}

const MmMcCase *
mm_mc_cases (void)
{
  static GOnce once = G_ONCE_INIT;
  g_once (&once, make_table, NULL);
  return cases;
}

int
mm_mc_edge_corner_low (int e)
{
  return edge_corner_low (e);
}

/* ---- Where the inside is ---- */

typedef struct
{
  const MmVolume *vol;
  const MmMask *mask;         /* inside: nonzero here, or */
  double lower;               /* with mask NULL: HU >= lower */
  int mask_origin[3];         /* voxel of the volume at the mask's (0, 0, 0): a cropped mask */
  const MmComponents *comps;  /* with a label: only that component (in the mask's indices) */
  int label;
  int box_min[3], n[3];       /* the voxels visited; the grid adds a ring of outside */
} Source;

/* Grid plane z (0 .. n[2] + 1, voxel slice box_min[2] + z - 1) into buf, (n[0] + 2) x
 * (n[1] + 2) values 0 or 1, its ring 0. */
static void
fill_plane (const Source *s, int z, uint8_t *buf)
{
  int gx = s->n[0] + 2, gy = s->n[1] + 2;
  memset (buf, 0, (size_t) gx * gy);
  if (z == 0 || z == s->n[2] + 1)
    return;
  int k = s->box_min[2] + z - 1, w = s->vol->dims[0], h = s->vol->dims[1];
  for (int y = 1; y <= s->n[1]; y++)
    {
      int j = s->box_min[1] + y - 1;
      size_t row = ((size_t) k * h + j) * w + s->box_min[0];
      uint8_t *out = buf + (size_t) y * gx + 1;
      if (s->mask)
        {
          const int *md = s->mask->dims, *mo = s->mask_origin;
          int mi = s->box_min[0] - mo[0], mj = j - mo[1], mk = k - mo[2];
          const uint8_t *in = s->mask->data + ((size_t) mk * md[1] + mj) * md[0] + mi;
          for (int x = 0; x < s->n[0]; x++)
            out[x] = in[x] != 0;
          if (s->comps)
            for (int x = 0; x < s->n[0]; x++)
              if (out[x])
                out[x] = mm_components_label_at (s->comps, mi + x, mj, mk) == s->label;
        }
      else if (s->vol->type == MM_VOXEL_INT16)
        {
          const int16_t *in = (const int16_t *) s->vol->voxels + row;
          for (int x = 0; x < s->n[0]; x++)
            out[x] = in[x] >= s->lower;
        }
      else
        {
          const float *in = (const float *) s->vol->voxels + row;
          for (int x = 0; x < s->n[0]; x++)
            out[x] = in[x] >= s->lower;
        }
    }
}

/* Crossing edges of plane z: along x and y within it; along z to plane z + 1 (when given). */
static void
count_plane (const Source *s, const uint8_t *v0, const uint8_t *v1, uint64_t count[3])
{
  int gx = s->n[0] + 2, gy = s->n[1] + 2;
  count[0] = count[1] = count[2] = 0;
  for (int y = 0; y < gy; y++)
    for (int x = 0; x < gx; x++)
      {
        size_t i = (size_t) y * gx + x;
        if (x + 1 < gx)
          count[0] += v0[i] != v0[i + 1];
        if (y + 1 < gy)
          count[1] += v0[i] != v0[i + gx];
        if (v1)
          count[2] += v0[i] != v1[i];
      }
}

/* Number the crossing edges of plane z along one axis from base, in scan order, into
 * map[axis] (z edges lead to plane v1); with positions, write each vertex's position too.
 * Returns the next free index. */
static uint64_t
map_axis (const Source *s, int z, int axis, const uint8_t *v0, const uint8_t *v1, uint64_t base,
          uint32_t *map[3], float *positions)
{
  int gx = s->n[0] + 2, gy = s->n[1] + 2;
  uint64_t next = base;
  for (int y = 0; y < gy; y++)
    for (int x = 0; x < gx; x++)
      {
        size_t i = (size_t) y * gx + x;
        bool cross = axis == 0 ? x + 1 < gx && v0[i] != v0[i + 1]
                     : axis == 1 ? y + 1 < gy && v0[i] != v0[i + gx]
                                 : v0[i] != v1[i];
        if (!cross)
          continue;
        map[axis][i] = (uint32_t) next;
        if (positions)
          {
            double lps[3];
            mm_volume_index_to_lps (s->vol, s->box_min[0] + x - 1 + (axis == 0 ? 0.5 : 0),
                                    s->box_min[1] + y - 1 + (axis == 1 ? 0.5 : 0),
                                    s->box_min[2] + z - 1 + (axis == 2 ? 0.5 : 0), lps);
            for (int a = 0; a < 3; a++)
              positions[3 * next + a] = (float) lps[a];
          }
        next++;
      }
  return next;
}

/* Number the crossing edges of plane z from base in the order count_plane counts them
 * (x edges, y edges, then z edges when v1 is given). */
static void
map_plane (const Source *s, int z, const uint8_t *v0, const uint8_t *v1, uint64_t base,
           uint32_t *map[3], float *positions)
{
  for (int axis = 0; axis < (v1 ? 3 : 2); axis++)
    base = map_axis (s, z, axis, v0, v1, base, map, positions);
}

/* Whether the index to patient mapping is a reflection: triangles are then reversed so that
 * normals still point out (a right-handed grid, the DICOM case, never is). */
bool
mm_mc_geometry_reflects (const MmVolume *vol)
{
  double o[3], p[3][3], d[3][3];
  mm_volume_index_to_lps (vol, 0, 0, 0, o);
  mm_volume_index_to_lps (vol, 1, 0, 0, p[0]);
  mm_volume_index_to_lps (vol, 0, 1, 0, p[1]);
  mm_volume_index_to_lps (vol, 0, 0, vol->dims[2] > 1 ? 1 : 0.5, p[2]);
  for (int r = 0; r < 3; r++)
    for (int a = 0; a < 3; a++)
      d[r][a] = p[r][a] - o[a];
  double det = d[0][0] * (d[1][1] * d[2][2] - d[1][2] * d[2][1])
               - d[0][1] * (d[1][0] * d[2][2] - d[1][2] * d[2][0])
               + d[0][2] * (d[1][0] * d[2][1] - d[1][1] * d[2][0]);
  return det < 0;
}

static MmMesh *
extract (const Source *s, int n_threads, GError **error)
{
  mm_mc_cases ();
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  int gx = s->n[0] + 2, gy = s->n[1] + 2, gz = s->n[2] + 2;
  size_t plane = (size_t) gx * gy;
  /* A small box (a metal part: about a million cells, a few ms) runs on one thread: a team
   * costs more there than it gains, and much more on a loaded machine (measured: seed CT
   * metal p50 24 ms on one thread against 68 ms on two at load 10 on 2 cores). */
  if (plane * gz < ((size_t) 4 << 20))
    n_threads = 1;
  /* Pass 1: crossing edges per plane, so that every vertex has its index before pass 2. */
  uint64_t *base = g_new0 (uint64_t, gz + 1);
#pragma omp parallel num_threads (n_threads)
  {
    uint8_t *v0 = g_malloc (plane), *v1 = g_malloc (plane);
#pragma omp for schedule (static)
    for (int z = 0; z < gz - 1; z++)
      {
        uint64_t c[3];
        fill_plane (s, z, v0);
        fill_plane (s, z + 1, v1);
        count_plane (s, v0, v1, c);
        base[z + 1] = c[0] + c[1] + c[2];
      }
    g_free (v0);
    g_free (v1);
  }
  for (int z = 0; z < gz; z++)
    base[z + 1] += base[z];
  uint64_t n_vertices = base[gz];
  if (n_vertices > UINT32_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "The surface has %" G_GUINT64_FORMAT " vertices, more than a mesh can "
                   "index (2^32 - 1): mesh a smaller region or a higher threshold",
                   n_vertices);
      g_free (base);
      return NULL;
    }
  MmMesh *mesh = mm_mesh_new (n_vertices, 0);
  mesh->n_vertices = n_vertices;
  bool reflect = mm_mc_geometry_reflects (s->vol);

  /* Pass 2: slabs of cell layers in order; each slab's triangles in its own buffer, joined in
   * slab order. A slab numbers the vertices of the planes it owns (z-edges of its layers,
   * x/y edges of its first plane and of the following ones inside it). */
  int n_slabs = MIN (gz - 1, 4 * n_threads);
  GArray **tris = g_new0 (GArray *, n_slabs);
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 1)
  for (int sl = 0; sl < n_slabs; sl++)
    {
      int z0 = (int) ((int64_t) (gz - 1) * sl / n_slabs);
      int z1 = (int) ((int64_t) (gz - 1) * (sl + 1) / n_slabs);
      GArray *out = g_array_new (FALSE, FALSE, sizeof (uint32_t));
      uint8_t *va = g_malloc (plane), *vb = g_malloc (plane);
      uint32_t *ma[3], *mb[3];
      for (int a = 0; a < 3; a++)
        {
          ma[a] = g_malloc (plane * sizeof (uint32_t));
          mb[a] = g_malloc (plane * sizeof (uint32_t));
        }
      fill_plane (s, z0, va);
      for (int z = z0; z < z1; z++)
        {
          /* va: plane z, ma: its x/y maps; fill plane z + 1 and the z map of layer z. */
          fill_plane (s, z + 1, vb);
          if (z == z0)
            map_plane (s, z, va, vb, base[z], ma, mesh->positions);
          else
            {
              /* The x/y edges of plane z were numbered last round (as plane z + 1); its z
               * edges follow them. */
              uint64_t c[3];
              count_plane (s, va, NULL, c);
              uint32_t *zmap[3] = { NULL, NULL, ma[2] };
              map_axis (s, z, 2, va, vb, base[z] + c[0] + c[1], zmap, mesh->positions);
            }
          /* The x/y maps of plane z + 1; its positions belong to the slab owning it. */
          map_plane (s, z + 1, vb, NULL, base[z + 1], mb, z + 1 < z1 ? mesh->positions : NULL);
          for (int y = 0; y + 1 < gy; y++)
            for (int x = 0; x + 1 < gx; x++)
              {
                size_t i = (size_t) y * gx + x;
                int bits = va[i] | va[i + 1] << 1 | va[i + gx] << 2 | va[i + gx + 1] << 3
                           | vb[i] << 4 | vb[i + 1] << 5 | vb[i + gx] << 6 | vb[i + gx + 1] << 7;
                const Case *cs = &cases[bits];
                for (int t = 0; t < cs->n; t++)
                  {
                    uint32_t v[3];
                    for (int corner = 0; corner < 3; corner++)
                      {
                        int e = cs->tri[t][corner], low = edge_corner_low (e), axis = e / 4;
                        size_t at = i + (low & 1) + ((low >> 1) & 1) * gx;
                        uint32_t **m = (low >> 2) & 1 ? mb : ma;
                        v[corner] = axis == 2 ? ma[2][at] : m[axis][at];
                      }
                    if (reflect)
                      {
                        uint32_t tmp = v[1];
                        v[1] = v[2];
                        v[2] = tmp;
                      }
                    g_array_append_vals (out, v, 3);
                  }
              }
          /* Roll: plane z + 1 becomes plane z. */
          uint8_t *tv = va;
          va = vb;
          vb = tv;
          for (int a = 0; a < 2; a++)
            {
              uint32_t *tm = ma[a];
              ma[a] = mb[a];
              mb[a] = tm;
            }
        }
      g_free (va);
      g_free (vb);
      for (int a = 0; a < 3; a++)
        {
          g_free (ma[a]);
          g_free (mb[a]);
        }
      tris[sl] = out;
    }
  size_t nt = 0;
  for (int sl = 0; sl < n_slabs; sl++)
    nt += tris[sl]->len / 3;
  g_free (mesh->triangles);
  mesh->triangles = g_new (uint32_t, 3 * MAX (nt, 1));
  for (int sl = 0; sl < n_slabs; sl++)
    {
      if (tris[sl]->len > 0) /* an empty GArray's data may be NULL */
        memcpy (mesh->triangles + 3 * mesh->n_triangles, tris[sl]->data,
                tris[sl]->len * sizeof (uint32_t));
      mesh->n_triangles += tris[sl]->len / 3;
      g_array_free (tris[sl], TRUE);
    }
  g_free (tris);
  g_free (base);
  return mesh;
}

static void
source_whole (Source *s, const MmVolume *vol)
{
  memset (s, 0, sizeof *s);
  s->vol = vol;
  for (int a = 0; a < 3; a++)
    s->n[a] = vol->dims[a];
}

MmMesh *
mm_marching_mask (const MmVolume *vol, const MmMask *mask, int n_threads, GError **error)
{
  g_return_val_if_fail (vol != NULL && mask != NULL, NULL);
  g_return_val_if_fail (memcmp (vol->dims, mask->dims, sizeof vol->dims) == 0, NULL);
  Source s;
  source_whole (&s, vol);
  s.mask = mask;
  return extract (&s, n_threads, error);
}

MmMesh *
mm_marching_threshold (const MmVolume *vol, double lower, int n_threads, GError **error)
{
  g_return_val_if_fail (vol != NULL && vol->voxels != NULL, NULL);
  Source s;
  source_whole (&s, vol);
  s.lower = lower;
  return extract (&s, n_threads, error);
}

MmMesh **
mm_marching_components (const MmVolume *vol, const MmMask *mask, const MmComponents *comps,
                        int *n_out, int n_threads, GError **error)
{
  g_return_val_if_fail (vol != NULL && mask != NULL && comps != NULL && n_out != NULL, NULL);
  g_return_val_if_fail (memcmp (vol->dims, mask->dims, sizeof vol->dims) == 0, NULL);
  int n = mm_components_count (comps);
  MmMesh **meshes = g_new0 (MmMesh *, MAX (n, 1));
  for (int c = 1; c <= n; c++)
    {
      const MmComponent *comp = mm_components_get (comps, c);
      Source s;
      source_whole (&s, vol);
      s.mask = mask;
      s.comps = comps;
      s.label = c;
      for (int a = 0; a < 3; a++)
        {
          s.box_min[a] = comp->bbox_min[a];
          s.n[a] = comp->bbox_max[a] - comp->bbox_min[a] + 1;
        }
      meshes[c - 1] = extract (&s, n_threads, error);
      if (meshes[c - 1] == NULL)
        {
          for (int d = 0; d < c - 1; d++)
            mm_mesh_free (meshes[d]);
          g_free (meshes);
          return NULL;
        }
      meshes[c - 1]->component = c;
    }
  *n_out = n;
  return meshes;
}

/* The smallest box holding every nonzero voxel of mask: false when there is none. Empty
 * slices are skipped a word at a time, so a sparse metal mask costs little. */
static bool
mask_box (const MmMask *mask, int n_threads, int lo[3], int hi[3])
{
  const int *d = mask->dims;
  int l0 = G_MAXINT, l1 = G_MAXINT, l2 = G_MAXINT, h0 = -1, h1 = -1, h2 = -1;
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 4) \
    reduction(min : l0, l1, l2) reduction(max : h0, h1, h2)
  for (int k = 0; k < d[2]; k++)
    {
      if (mm_mask_slice_is_empty (mask, k))
        continue;
      l2 = MIN (l2, k);
      h2 = MAX (h2, k);
      for (int j = 0; j < d[1]; j++)
        {
          const uint8_t *row = mm_mask_slice (mask, k) + (size_t) j * d[0];
          int first = 0;
          /* Eight bytes at a time over the zeros. */
          for (uint64_t word; first + 8 <= d[0]; first += 8)
            {
              memcpy (&word, row + first, 8);
              if (word)
                break;
            }
          while (first < d[0] && row[first] == 0)
            first++;
          if (first == d[0])
            continue;
          int last = d[0] - 1;
          while (row[last] == 0)
            last--;
          l1 = MIN (l1, j);
          h1 = MAX (h1, j);
          l0 = MIN (l0, first);
          h0 = MAX (h0, last);
        }
    }
  lo[0] = l0, lo[1] = l1, lo[2] = l2, hi[0] = h0, hi[1] = h1, hi[2] = h2;
  return h2 >= 0 && h1 >= 0;
}

/* The first voxel of component c (scan order: slice, row, column) into seed, in comps' indices. */
static void
component_seed (const MmComponents *comps, const MmComponent *comp, int c, int seed[3])
{
  int k = comp->bbox_min[2];
  for (int j = comp->bbox_min[1]; j <= comp->bbox_max[1]; j++)
    for (int i = comp->bbox_min[0]; i <= comp->bbox_max[0]; i++)
      if (mm_components_label_at (comps, i, j, k) == c)
        {
          seed[0] = i, seed[1] = j, seed[2] = k;
          return;
        }
  g_assert_not_reached (); /* bbox_min[2] is the slice of the component's first voxel */
}

static bool changed_box_within (const MmMask *a, const MmMask *b, const int box_lo[3],
                                const int box_hi[3], int n_threads, int lo[3], int hi[3]);

static MmMesh **
parts_build (const MmVolume *vol, const MmMask *mask, const MmMask *previous, MmMesh **old,
             int n_old, int *n_out, int *n_reused, int *n_spliced, int n_threads, GError **error)
{
  g_return_val_if_fail (vol != NULL && mask != NULL && n_out != NULL, NULL);
  g_return_val_if_fail (memcmp (vol->dims, mask->dims, sizeof vol->dims) == 0, NULL);
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  int lo[3], hi[3];
  *n_out = 0;
  if (n_reused)
    *n_reused = 0;
  if (n_spliced)
    *n_spliced = 0;
  if (!mask_box (mask, n_threads, lo, hi))
    return g_new0 (MmMesh *, 1);
  /* What changed since previous lies where either mask has voxels: in the new mask's box or
   * in an old part's. Comparing there only keeps a sparse metal cheap (not a whole-volume
   * pass). No changed voxel at all: the box stays empty, every part is reused. */
  int dirty_lo_v[3] = { G_MAXINT / 2, G_MAXINT / 2, G_MAXINT / 2 }, dirty_hi_v[3];
  memcpy (dirty_hi_v, dirty_lo_v, sizeof dirty_hi_v);
  const int *dirty_lo = NULL, *dirty_hi = NULL;
  if (previous != NULL)
    {
      int ulo[3], uhi[3];
      memcpy (ulo, lo, sizeof ulo);
      memcpy (uhi, hi, sizeof uhi);
      for (int o = 0; o < n_old; o++)
        for (int a = 0; a < 3 && old[o] != NULL; a++)
          {
            ulo[a] = MIN (ulo[a], old[o]->voxel_lo[a]);
            uhi[a] = MAX (uhi[a], old[o]->voxel_hi[a]);
          }
      int clo[3], chi[3];
      if (changed_box_within (previous, mask, ulo, uhi, n_threads, clo, chi))
        {
          memcpy (dirty_lo_v, clo, sizeof clo);
          memcpy (dirty_hi_v, chi, sizeof chi);
        }
      dirty_lo = dirty_lo_v;
      dirty_hi = dirty_hi_v;
    }
  /* Label a copy of the box only (values 0/1: the mask's nonzero, as labelling reads it). */
  int cd[3] = { hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1 };
  g_autoptr (MmMask) crop = mm_mask_new_uninitialized (cd);
  for (int k = 0; k < cd[2]; k++)
    for (int j = 0; j < cd[1]; j++)
      {
        const uint8_t *in = mm_mask_slice (mask, lo[2] + k) + (size_t) (lo[1] + j) * mask->dims[0]
                            + lo[0];
        uint8_t *out = mm_mask_slice (crop, k) + (size_t) j * cd[0];
        for (int i = 0; i < cd[0]; i++)
          out[i] = in[i] != 0;
      }
  /* A small box is labelled on one thread, as extract meshes it (see there). */
  g_autoptr (MmComponents) comps
      = mm_components_label (crop, mm_mask_n_voxels (crop) < ((size_t) 4 << 20) ? 1 : n_threads);
  int n = mm_components_count (comps);
  MmMesh **meshes = g_new0 (MmMesh *, MAX (n, 1));
  /* A new component is touched when it holds a changed voxel or lies next to one (26
   * neighbours). An untouched one has the same voxels and neighbours as before the edit, so
   * it was a component then too: the old part whose first voxel it holds. */
  g_autofree bool *touched = g_new0 (bool, n + 1);
  if (previous != NULL)
    for (int k = dirty_lo[2]; k <= dirty_hi[2] && k < mask->dims[2]; k++)
      for (int j = dirty_lo[1]; j <= dirty_hi[1]; j++)
        for (int i = dirty_lo[0]; i <= dirty_hi[0]; i++)
          {
            size_t at = (size_t) j * mask->dims[0] + i;
            if ((mm_mask_slice (mask, k)[at] != 0) == (mm_mask_slice (previous, k)[at] != 0))
              continue;
            for (int dk = -1; dk <= 1; dk++)
              for (int dj = -1; dj <= 1; dj++)
                for (int di = -1; di <= 1; di++)
                  {
                    int ci = i + di - lo[0], cj = j + dj - lo[1], ck = k + dk - lo[2];
                    if (ci >= 0 && cj >= 0 && ck >= 0 && ci < cd[0] && cj < cd[1] && ck < cd[2])
                      touched[mm_components_label_at (comps, ci, cj, ck)] = true;
                  }
          }
  bool old_had_null = false;
  for (int o = 0; o < n_old; o++)
    old_had_null = old_had_null || old[o] == NULL;
  /* Untouched old parts move over to the label their first voxel has now (labels renumber
   * when a component before them in scan order appears or goes). */
  for (int o = 0; o < n_old; o++)
    {
      MmMesh *m = old[o];
      if (m == NULL)
        continue;
      int s[3];
      bool inside = true;
      for (int a = 0; a < 3; a++)
        {
          s[a] = m->seed[a] - lo[a];
          inside = inside && s[a] >= 0 && s[a] < cd[a];
        }
      int c = inside ? mm_components_label_at (comps, s[0], s[1], s[2]) : 0;
      if (c == 0 || touched[c] || meshes[c - 1] != NULL)
        continue;
      meshes[c - 1] = m;
      old[o] = NULL;
      m->component = c;
      if (n_reused)
        (*n_reused)++;
    }
  /* One old part left over and one component to mesh: outside the changed voxels they hold
   * the same voxels (every unchanged voxel of the component was in an old part, not in one
   * that moved over, as those are other components now; and the reverse), so only the cells
   * around the edit are meshed again (mm_mc_splice): an edit in the stem does not mesh the
   * whole stem. */
  int left = -1, n_left = 0, todo = -1, n_todo = 0;
  for (int o = 0; o < n_old && previous != NULL; o++)
    if (old[o] != NULL)
      left = o, n_left++;
  for (int c = 1; c <= n; c++)
    if (meshes[c - 1] == NULL)
      todo = c, n_todo++;
  bool splice = previous != NULL && n_left == 1 && n_todo == 1 && !old_had_null
                && dirty_lo[0] <= dirty_hi[0];
  for (int c = 1; c <= n; c++)
    {
      if (meshes[c - 1] != NULL)
        continue;
      const MmComponent *comp = mm_components_get (comps, c);
      MmMesh *m = NULL;
      if (splice && c == todo)
        m = mm_mc_splice (vol, old[left], crop, lo, comps, c, dirty_lo, dirty_hi);
      if (m != NULL)
        {
          if (n_spliced)
            (*n_spliced)++;
          goto meshed;
        }
      Source s;
      source_whole (&s, vol);
      s.mask = crop;
      memcpy (s.mask_origin, lo, sizeof lo);
      s.comps = comps;
      s.label = c;
      for (int a = 0; a < 3; a++)
        {
          s.box_min[a] = lo[a] + comp->bbox_min[a];
          s.n[a] = comp->bbox_max[a] - comp->bbox_min[a] + 1;
        }
      m = extract (&s, n_threads, error);
      if (m == NULL)
        {
          for (int e = 0; e < n; e++)
            mm_mesh_free (meshes[e]);
          g_free (meshes);
          return NULL;
        }
    meshed:
      m->component = c;
      component_seed (comps, comp, c, m->seed);
      for (int a = 0; a < 3; a++)
        {
          m->seed[a] += lo[a];
          m->voxel_lo[a] = lo[a] + comp->bbox_min[a];
          m->voxel_hi[a] = lo[a] + comp->bbox_max[a];
        }
      meshes[c - 1] = m;
    }
  *n_out = n;
  return meshes;
}

MmMesh **
mm_marching_mask_parts (const MmVolume *vol, const MmMask *mask, int *n_out, int n_threads,
                        GError **error)
{
  return parts_build (vol, mask, NULL, NULL, 0, n_out, NULL, NULL, n_threads, error);
}

MmMesh **
mm_marching_mask_parts_update (const MmVolume *vol, const MmMask *mask, const MmMask *previous,
                               MmMesh **old_parts, int n_old, int *n_out, int *n_reused,
                               int *n_local, int n_threads, GError **error)
{
  g_return_val_if_fail (previous != NULL && (n_old == 0 || old_parts != NULL), NULL);
  g_return_val_if_fail (memcmp (previous->dims, mask->dims, sizeof mask->dims) == 0, NULL);
  return parts_build (vol, mask, previous, old_parts, n_old, n_out, n_reused, n_local, n_threads,
                      error);
}

static bool
changed_box_within (const MmMask *a, const MmMask *b, const int box_lo[3], const int box_hi[3],
                    int n_threads, int lo[3], int hi[3])
{
  const int *d = a->dims;
  int l0 = G_MAXINT, l1 = G_MAXINT, l2 = G_MAXINT, h0 = -1, h1 = -1, h2 = -1;
  int i0 = MAX (box_lo[0], 0), i1 = MIN (box_hi[0], d[0] - 1);
  int j0 = MAX (box_lo[1], 0), j1 = MIN (box_hi[1], d[1] - 1);
  int k0 = MAX (box_lo[2], 0), k1 = MIN (box_hi[2], d[2] - 1);
  if (i0 > i1 || j0 > j1)
    k1 = k0 - 1;
  /* A metal's box is small: waking a second thread costs more than it saves (as for the
   * labelling in parts_build). */
  if (k1 >= k0 && (size_t) (i1 - i0 + 1) * (j1 - j0 + 1) * (k1 - k0 + 1) < ((size_t) 4 << 20))
    n_threads = 1;
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 4) \
    reduction(min : l0, l1, l2) reduction(max : h0, h1, h2)
  for (int k = k0; k <= k1; k++)
    for (int j = j0; j <= j1; j++)
      {
        const uint8_t *ra = mm_mask_slice (a, k) + (size_t) j * d[0];
        const uint8_t *rb = mm_mask_slice (b, k) + (size_t) j * d[0];
        /* Most rows are untouched by an edit: one memcmp each. */
        if (memcmp (ra + i0, rb + i0, (size_t) (i1 - i0 + 1)) == 0)
          continue;
        for (int i = i0; i <= i1; i++)
          if ((ra[i] != 0) != (rb[i] != 0))
            {
              l0 = MIN (l0, i), h0 = MAX (h0, i);
              l1 = MIN (l1, j), h1 = MAX (h1, j);
              l2 = MIN (l2, k), h2 = MAX (h2, k);
            }
      }
  lo[0] = l0, lo[1] = l1, lo[2] = l2, hi[0] = h0, hi[1] = h1, hi[2] = h2;
  return h2 >= 0;
}

bool
mm_mask_changed_box (const MmMask *a, const MmMask *b, int lo[3], int hi[3])
{
  g_return_val_if_fail (memcmp (a->dims, b->dims, sizeof a->dims) == 0, false);
  const int zero[3] = { 0, 0, 0 }, top[3] = { a->dims[0] - 1, a->dims[1] - 1, a->dims[2] - 1 };
  return changed_box_within (a, b, zero, top, omp_get_max_threads (), lo, hi);
}

uint64_t
mm_marching_ambiguous_faces (const MmMask *mask)
{
  const int *d = mask->dims;
  uint64_t n = 0;
  /* A face of a cube of the voxel-centre grid is a 2x2 block of voxels in one of the three
   * planes; ambiguous when its diagonals are inside and outside. */
#pragma omp parallel for reduction(+ : n) schedule (static)
  for (int k = 0; k < d[2]; k++)
    for (int j = 0; j < d[1]; j++)
      for (int i = 0; i < d[0]; i++)
        {
          const uint8_t *p = mask->data + ((size_t) k * d[1] + j) * d[0] + i;
          size_t sx = 1, sy = d[0], sz = (size_t) d[0] * d[1];
          size_t steps[3][2] = { { sx, sy }, { sx, sz }, { sy, sz } };
          bool fits[3] = { i + 1 < d[0] && j + 1 < d[1], i + 1 < d[0] && k + 1 < d[2],
                           j + 1 < d[1] && k + 1 < d[2] };
          for (int f = 0; f < 3; f++)
            {
              if (!fits[f])
                continue;
              bool a = p[0] != 0, b = p[steps[f][0]] != 0, c = p[steps[f][1]] != 0,
                   e = p[steps[f][0] + steps[f][1]] != 0;
              n += a == e && b == c && a != b;
            }
        }
  return n;
}
