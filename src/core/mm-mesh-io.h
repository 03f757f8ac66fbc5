/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Mesh files: binary STL, binary little-endian PLY and OBJ, written atomically. */
#pragma once

#include "mm-mesh.h"

G_BEGIN_DECLS

typedef enum
{
  MM_MESH_STL,
  MM_MESH_PLY,
  MM_MESH_OBJ,
} MmMeshFormat;

/* "stl", "ply" or "obj" (any case); false for anything else. */
bool mm_mesh_format_parse (const char *name, MmMeshFormat *out);
/* The format a file name's extension names; false without a known one. */
bool mm_mesh_format_from_path (const char *path, MmMeshFormat *out);
const char *mm_mesh_format_name (MmMeshFormat format);

/* The file's bytes. comment (one line, may be NULL) goes in the STL header (80 bytes,
 * truncated), a PLY comment or an OBJ # line; it should name the coordinate system. NULL with
 * an error when the format cannot hold the mesh (over 2^32 - 1 triangles in STL). */
GBytes *mm_mesh_encode (const MmMesh *mesh, MmMeshFormat format, const char *comment,
                        GError **error);

/* Encode and replace path atomically (mm_atomic_write, durable): a reader sees the old file
 * or the new one; path must not be a symbolic link or a non-regular file. */
bool mm_mesh_write (const char *path, const MmMesh *mesh, MmMeshFormat format,
                    const char *comment, GError **error);

G_END_DECLS
