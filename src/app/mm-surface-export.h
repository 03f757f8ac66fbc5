/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Export of the 3D view's metal surface: the user picks a folder, the mesh is written there
 * atomically by mm_mesh_export_parts (core) as metal.EXT (all parts) or metal-part-N.EXT. */
#pragma once

#include "mm-mesh-export.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Ask for a folder (a file chooser on view's window), then write; the result is told with
 * the view's "message" signal. The meshes are copied now (they may be rebuilt meanwhile). */
void mm_surface_export_ask (GtkWidget *view, const MmMesh *const *parts, int n_parts, int part,
                            MmMeshFormat format, bool lps);

G_END_DECLS
