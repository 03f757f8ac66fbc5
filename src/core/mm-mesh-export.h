/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Export of a set of parts (the metal's components) into a folder the user chose: one file,
 * all parts together or one of them, RAS or LPS mm, written atomically. */
#pragma once

#include "mm-mesh-io.h"

G_BEGIN_DECLS

/* The file's name for part (0: all parts): "metal.stl", "metal-part-2.ply". Never from DICOM
 * values, so nothing but this name is written into the folder. */
char *mm_mesh_export_file_name (int part, MmMeshFormat format);

/* Write parts[0..n_parts) (part 0) or parts[part - 1] to folder/name in RAS mm (lps false:
 * x and y negated, as 3D Slicer places a model on the CT) or LPS. The meshes are not changed.
 * *written (may be NULL) gets the path. */
bool mm_mesh_export_parts (const char *folder, MmMesh *const *parts, int n_parts, int part,
                           MmMeshFormat format, bool lps, char **written, GError **error);

G_END_DECLS
