/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmMesh: a triangle surface in patient coordinates (LPS mm), with the measurements that
 * tell whether it is a closed, consistently oriented 2-manifold. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct
{
  float *positions;     /* 3 per vertex, LPS mm (float: 0.1 µm at 1 m, plenty for export) */
  size_t n_vertices;
  uint32_t *triangles;  /* 3 vertex indices per triangle, counter-clockwise seen from outside:
                           the normal (b - a) x (c - a) points out of the object */
  size_t n_triangles;
  int component;        /* 3D component label (1..n) it was built from; 0 for a whole mask */
  int voxel_lo[3], voxel_hi[3]; /* for a component's mesh: the box of its voxels (inclusive) */
  int seed[3];          /* and its first voxel in scan order (mm_marching_mask_parts_update) */
} MmMesh;

/* An empty mesh with room for the given counts (not yet used). */
MmMesh *mm_mesh_new (size_t vertex_capacity, size_t triangle_capacity);
void mm_mesh_free (MmMesh *mesh);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmMesh, mm_mesh_free)

/* Signed enclosed volume (mm^3, divergence theorem): positive for outward normals. */
double mm_mesh_volume (const MmMesh *mesh);
/* Total surface area, mm^2. */
double mm_mesh_area (const MmMesh *mesh);
/* Axis-aligned bounds of the vertices: min[3], max[3] in the mesh's coordinates. */
void mm_mesh_bounds (const MmMesh *mesh, double min[3], double max[3]);

typedef struct
{
  size_t edges;               /* undirected edges */
  size_t boundary_edges;      /* edges in one triangle: holes */
  size_t nonmanifold_edges;   /* edges in three or more triangles */
  size_t misoriented_edges;   /* edges whose two triangles run them the same way */
  size_t degenerate_triangles; /* a triangle that names one vertex twice */
  long euler;                 /* V - E + F over the vertices that triangles use */
} MmMeshTopology;

/* Count edges by their triangles. The mesh is watertight and 2-manifold along its edges when
 * boundary_edges, nonmanifold_edges and degenerate_triangles are 0, and consistently oriented
 * when misoriented_edges is 0 too. */
void mm_mesh_topology (const MmMesh *mesh, MmMeshTopology *topo);
bool mm_mesh_is_closed_manifold (const MmMesh *mesh);

/* Negate x and y of every vertex: LPS to RAS or back. Orientation is kept (the reflection
 * pair is a rotation by 180 degrees about z). */
void mm_mesh_flip_xy (MmMesh *mesh);

/* Several meshes as one (vertices renumbered); the inputs are not changed. */
MmMesh *mm_mesh_concat (MmMesh *const *meshes, int n);

G_END_DECLS
