/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli mesh: the metal (or any HU threshold) as a closed surface mesh, STL/PLY/OBJ. */
#include "mm-cli.h"

#include "mm-label-stack.h"
#include "mm-marching.h"
#include "mm-mesh-decimate.h"
#include "mm-mesh-io.h"
#include "mm-mesh-smooth.h"
#include "mm-nifti.h"
#include "mm-segment.h"

#include <math.h>
#include <stdio.h>

/* The budget shared by the meshes: 4 triangles each (a tetrahedron, the least a closed part
 * can have), the rest in proportion to their size; the shares never sum above the budget. */
static void
decimate_all (MmMesh **meshes, int n, size_t budget)
{
  size_t total = 0;
  for (int c = 0; c < n; c++)
    total += meshes[c]->n_triangles;
  if (total <= budget)
    return;
  size_t rest = budget - 4 * (size_t) n;
  for (int c = 0; c < n; c++)
    {
      size_t share = 4 + (size_t) ((double) rest * meshes[c]->n_triangles / total);
      mm_mesh_decimate (meshes[c], share);
    }
}

int
mm_cli_mesh (int argc, char **argv)
{
  char *series = NULL, *mask_dir = NULL, *mask_nifti = NULL, *out = NULL, *format = NULL;
  gboolean segment = FALSE, force = FALSE, lps = FALSE;
  double threshold = NAN, above = NAN;
  int threads = 0, smooth = 0, component = 0;
  gint64 max_triangles = 0;
  char **paths = NULL;
  GOptionEntry entries[] = {
    { "mask", 0, 0, G_OPTION_ARG_FILENAME, &mask_dir,
      "The mask is this PNG label stack (slices matched by SOP Instance UID)", "DIR" },
    { "mask-nifti", 0, 0, G_OPTION_ARG_FILENAME, &mask_nifti,
      "The mask is this NIfTI file, on the series' grid (nonzero is metal)", "FILE" },
    { "segment", 0, 0, G_OPTION_ARG_NONE, &segment,
      "The mask is the threshold segmentation (the default without --mask or --above)", NULL },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
      "Metal is HU >= this, with --segment (default 3000)", "HU" },
    { "above", 0, 0, G_OPTION_ARG_DOUBLE, &above,
      "Instead of metal: one surface of every voxel with HU >= this (bone: 300)", "HU" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      "With --segment: segment even when the values are not HU or the image is not a CT "
      "acquisition", NULL },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Write the mesh here", "FILE" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      "stl (binary), ply (binary little endian) or obj (default: from the extension of "
      "--out, else stl)", "FORMAT" },
    { "smooth", 0, 0, G_OPTION_ARG_INT, &smooth,
      "Taubin smoothing iterations (lambda 0.5, mu -0.53; keeps the volume; default 0)", "N" },
    { "max-triangles", 0, 0, G_OPTION_ARG_INT64, &max_triangles,
      "Decimate (quadric edge collapse) to at most N triangles in all (default: no limit)",
      "N" },
    { "component", 0, 0, G_OPTION_ARG_INT, &component,
      "Only this 3D component (1 = first in slice order; default: all)", "N" },
    { "lps", 0, 0, G_OPTION_ARG_NONE, &lps,
      "Coordinates in DICOM LPS mm (default RAS mm, as 3D Slicer shows the CT)", NULL },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID to read", "UID" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..." },
    { NULL },
  };
  const MmCliRange ranges[] = {
    { "threshold", -MM_LIMIT_HU, MM_LIMIT_HU },
    { "above", -MM_LIMIT_HU, MM_LIMIT_HU },
    { "smooth", 0, 1000 },
    { "max-triangles", 0, UINT32_MAX },
    { "component", 0, G_MAXINT },
    MM_CLI_THREADS_RANGE,
    { NULL },
  };
  int rc = MM_EXIT_USAGE;
  MmMesh **meshes = NULL;
  int n = 0;
  if (!mm_cli_parse ("mesh", "PATH... [--mask DIR | --mask-nifti FILE | --segment | --above HU] "
                     "--out FILE",
                     "Writes the surface of the metal as a closed, consistently oriented "
                     "triangle mesh (marching cubes; outward normals), one part per 3D "
                     "component, in RAS mm (LPS with --lps) so that it lies on the CT in 3D "
                     "Slicer, as binary STL, PLY or OBJ, atomically. Prints each part's "
                     "voxels, volume and area.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (paths == NULL || paths[0] == NULL)
    {
      mm_cli_error ("mesh: PATH is required; try 'metalmark-cli mesh --help'");
      goto out;
    }
  if (out == NULL)
    {
      mm_cli_error ("mesh: --out FILE is required");
      goto out;
    }
  if ((mask_dir != NULL) + (mask_nifti != NULL) + (segment != FALSE) + !isnan (above) > 1)
    {
      mm_cli_error ("mesh: --mask, --mask-nifti, --segment and --above exclude each other");
      goto out;
    }
  if (!isnan (threshold) && (mask_dir || mask_nifti || !isnan (above)))
    {
      mm_cli_error ("mesh: --threshold applies to --segment only");
      goto out;
    }
  if (component > 0 && !isnan (above))
    {
      mm_cli_error ("mesh: --component picks a part of the mask; --above makes one surface");
      goto out;
    }
  if (max_triangles > 0 && max_triangles < 4)
    {
      mm_cli_error ("mesh: --max-triangles %" G_GINT64_FORMAT ": a closed mesh has at least 4",
                    max_triangles);
      goto out;
    }
  MmMeshFormat fmt = MM_MESH_STL;
  if (format && !mm_mesh_format_parse (format, &fmt))
    {
      mm_cli_error ("mesh: --format %s: expected stl, ply or obj", format);
      goto out;
    }
  if (format == NULL && !mm_mesh_format_from_path (out, &fmt))
    fmt = MM_MESH_STL;

  {
    g_autoptr (MmVolume) vol = mm_cli_load (paths, series, threads, NULL);
    if (vol == NULL)
      {
        rc = MM_EXIT_INPUT;
        goto out;
      }
    g_autoptr (GError) err = NULL;
    g_autoptr (MmMask) mask = NULL;
    g_autofree char *what = NULL;
    gint64 t0 = g_get_monotonic_time ();
    if (!isnan (above))
      {
        MmMesh *m = mm_marching_threshold (vol, above, threads, &err);
        if (m)
          {
            meshes = g_new (MmMesh *, 1);
            meshes[0] = m;
            n = 1;
          }
        what = g_strdup_printf ("HU >= %g", above);
      }
    else
      {
        if (mask_dir)
          mask = mm_label_stack_read (mask_dir, vol, &err);
        else if (mask_nifti)
          mask = mm_nifti_read_mask (mask_nifti, vol, &err);
        else
          {
            if (!mm_cli_metal_rule_applies ("mesh", vol, force))
              {
                rc = MM_EXIT_INPUT;
                goto out;
              }
            MmSegmentParams p;
            mm_segment_params_init (&p);
            if (!isnan (threshold))
              p.lower = threshold;
            MmSegmentResult res;
            mask = mm_segment_metal (vol, &p, &res, threads);
          }
        if (mask == NULL)
          {
            mm_cli_error ("%s", err ? err->message : "mesh: the segmentation failed");
            rc = MM_EXIT_INPUT;
            goto out;
          }
        meshes = mm_marching_mask_parts (vol, mask, &n, threads, &err);
        int nc = n;
        if (meshes == NULL)
          {
            mm_cli_error ("mesh: %s", err->message);
            rc = MM_EXIT_INPUT;
            goto out;
          }
        if (nc == 0)
          {
            mm_cli_error ("mesh: the mask is empty: no surface to write");
            rc = MM_EXIT_INPUT;
            goto out;
          }
        if (component > nc)
          {
            mm_cli_error ("mesh: --component %d: the mask has %d component%s", component, nc,
                          nc == 1 ? "" : "s");
            rc = MM_EXIT_INPUT;
            goto out;
          }
        if (component > 0)
          {
            /* Only the chosen one is kept (the others cost their boxes only). */
            for (int c = 0; c < n; c++)
              if (c != component - 1)
                mm_mesh_free (meshes[c]);
            meshes[0] = meshes[component - 1];
            n = 1;
          }
        what = g_strdup (component > 0 ? "metal component" : "metal");
      }
    if (meshes == NULL)
      {
        mm_cli_error ("mesh: %s", err->message);
        rc = MM_EXIT_INPUT;
        goto out;
      }
    for (int c = 0; c < n; c++)
      mm_mesh_smooth_taubin (meshes[c], smooth, MM_MESH_TAUBIN_LAMBDA, MM_MESH_TAUBIN_MU,
                             threads);
    if (max_triangles > 0)
      {
        if ((gint64) 4 * n > max_triangles)
          {
            mm_cli_error ("mesh: --max-triangles %" G_GINT64_FORMAT " is below 4 per part for "
                          "%d parts (a closed part has at least 4)", max_triangles, n);
            goto out;
          }
        decimate_all (meshes, n, (size_t) max_triangles);
      }
    double ms = (g_get_monotonic_time () - t0) / 1000.0;
    g_autoptr (MmMesh) all = mm_mesh_concat (meshes, n);
    if (!lps)
      mm_mesh_flip_xy (all);
    for (int c = 0; c < n; c++)
      {
        const MmMesh *m = meshes[c];
        printf ("Part %d (component %d): %zu triangles, volume %.3f ml, area %.3f cm2\n",
                c + 1, m->component, m->n_triangles,
                mm_mesh_volume (m) / 1000.0, mm_mesh_area (m) / 100.0);
      }
    g_autofree char *comment = g_strdup_printf ("%s, %s mm, %d part%s", what,
                                                lps ? "LPS" : "RAS", n, n == 1 ? "" : "s");
    if (!mm_mesh_write (out, all, fmt, comment, &err))
      {
        mm_cli_error ("mesh: %s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    printf ("Written  %s (%s, %zu triangles, %zu vertices, %s mm; surface in %.0f ms)\n", out,
            mm_mesh_format_name (fmt), all->n_triangles, all->n_vertices, lps ? "LPS" : "RAS",
            ms);
    rc = MM_EXIT_OK;
  }
out:
  for (int c = 0; c < n; c++)
    mm_mesh_free (meshes[c]);
  g_free (meshes);
  g_free (series);
  g_free (mask_dir);
  g_free (mask_nifti);
  g_free (out);
  g_free (format);
  g_strfreev (paths);
  return rc;
}
