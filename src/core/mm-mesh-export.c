/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Export of the metal's parts into a folder (see mm-mesh-export.h). */
#include "mm-mesh-export.h"

char *
mm_mesh_export_file_name (int part, MmMeshFormat format)
{
  g_autofree char *ext = g_ascii_strdown (mm_mesh_format_name (format), -1);
  return part > 0 ? g_strdup_printf ("metal-part-%d.%s", part, ext) : g_strdup_printf ("metal.%s", ext);
}

bool
mm_mesh_export_parts (const char *folder, MmMesh *const *parts, int n_parts, int part,
                      MmMeshFormat format, bool lps, char **written, GError **error)
{
  g_return_val_if_fail (folder != NULL && n_parts > 0 && part >= 0 && part <= n_parts, false);
  g_autoptr (MmMesh) mesh = part > 0 ? mm_mesh_concat (parts + part - 1, 1) : mm_mesh_concat (parts, n_parts);
  if (!lps)
    mm_mesh_flip_xy (mesh);
  g_autofree char *name = mm_mesh_export_file_name (part, format);
  g_autofree char *path = g_build_filename (folder, name, NULL);
  g_autofree char *comment = g_strdup_printf ("Metalmark metal, %s, %s mm",
                                              part > 0 ? "one part" : "all parts", lps ? "LPS" : "RAS");
  if (!mm_mesh_write (path, mesh, format, comment, error))
    return false;
  if (written)
    *written = g_steal_pointer (&path);
  return true;
}
