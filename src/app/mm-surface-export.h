/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Export of the 3D view's metal surface: the user picks a folder, the mesh is written there
 * atomically (mm-mesh-io.c) as metal.EXT (all parts) or metal-part-N.EXT (part N). */
#pragma once

#include "mm-mesh-io.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* File name for part (0: all parts) in format: "metal.stl", "metal-part-2.ply". */
char *mm_surface_export_file_name (int part, MmMeshFormat format);

/* Write parts (all when part is 0, else part N, 1-based) to folder/file name, in RAS mm
 * unless lps. The meshes are not changed. */
bool mm_surface_export_write (const char *folder, MmMesh *const *parts, int n_parts, int part,
                              MmMeshFormat format, bool lps, char **written, GError **error);

/* Ask for a folder (a file chooser on view's window), then write; the result is told with
 * the view's "message" signal. The meshes are copied now (they may be rebuilt meanwhile). */
void mm_surface_export_ask (GtkWidget *view, const MmMesh *const *parts, int n_parts, int part,
                            MmMeshFormat format, bool lps);

G_END_DECLS
