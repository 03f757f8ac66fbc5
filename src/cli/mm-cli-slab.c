/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli slab: a MIP, MinIP or mean slab of a standard plane, as .npy. */
#include "mm-cli-plane.h"

#include "mm-json.h"
#include "mm-slab.h"

#include <stdio.h>

int
mm_cli_slab (int argc, char **argv)
{
  MmCliPlane po;
  mm_cli_plane_init (&po);
  char *series = NULL, *mode_name = NULL, *npy = NULL;
  double thickness = 0;
  int threads = 0;
  char **paths = NULL;
  GOptionEntry entries[] = {
    MM_CLI_PLANE_ENTRIES (po),
    { "thickness", 0, 0, G_OPTION_ARG_DOUBLE, &thickness,
      "Slab thickness in mm; a plane counts when its centre lies within it (default 0: the "
      "plane alone)", "MM" },
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode_name, "mip (default), minip or mean", "MODE" },
    { "npy", 0, 0, G_OPTION_ARG_FILENAME, &npy,
      "Write the slab as a float32 NumPy array (rows top to bottom)", "FILE.npy" },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID to read", "UID" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..." },
    { NULL },
  };
  const MmCliRange ranges[] = {
    MM_CLI_PLANE_RANGES, { "thickness", 0, 1e4 }, MM_CLI_THREADS_RANGE, { NULL },
  };
  int rc = MM_EXIT_USAGE;
  MmSlabMode mode = MM_SLAB_MIP;
  MmPlane plane;
  if (!mm_cli_parse ("slab", "PATH... [--plane NAME] [--index N] --thickness MM [--mode MODE]",
                     "Computes the maximum (mip), minimum (minip) or mean of the planes of a "
                     "standard plane within a slab of the given thickness centred on plane "
                     "--index, and prints what it covered as JSON.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (paths == NULL || paths[0] == NULL)
    {
      mm_cli_error ("slab: PATH is required; try 'metalmark-cli slab --help'");
      goto out;
    }
  if (mode_name && !mm_slab_mode_parse (mode_name, &mode))
    {
      mm_cli_error ("slab: --mode %s: expected mip, minip or mean", mode_name);
      goto out;
    }
  if (mm_cli_plane_is_oblique (&po))
    {
      mm_cli_error ("slab: slabs are of the standard planes: give --plane and --index only");
      goto out;
    }
  if (!mm_cli_plane_kind ("slab", &po, &plane))
    goto out;

  {
    g_autoptr (MmVolume) vol = mm_cli_load (paths, series, threads, NULL);
    if (vol == NULL)
      {
        rc = MM_EXIT_INPUT;
        goto out;
      }
    MmReslicePlane p;
    int depth;
    if (!mm_cli_plane_resolve ("slab", &po, vol, &p, &plane, &depth))
      goto out;
    int first, last;
    mm_slab_range (vol, plane, depth, thickness, &first, &last);
    g_autofree float *img = g_try_new (float, (size_t) p.width * p.height);
    if (img == NULL)
      {
        mm_cli_error ("slab: not enough memory for a %d x %d image", p.width, p.height);
        rc = MM_EXIT_INPUT;
        goto out;
      }
    mm_slab_compute (vol, plane, depth, thickness, mode, img, threads);
    g_autoptr (GError) err = NULL;
    if (npy && !mm_cli_write_npy (npy, "<f4", img, p.height, p.width, &err))
      {
        mm_cli_error ("%s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    g_autoptr (JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    mm_json_set_string (b, "plane", po.plane ? po.plane : "axial");
    mm_json_set_int (b, "index", depth);
    mm_json_set_string (b, "mode", mm_slab_mode_name (mode));
    mm_json_set_double (b, "thickness_mm", thickness);
    mm_json_set_int (b, "first", first);
    mm_json_set_int (b, "last", last);
    mm_json_set_int (b, "planes", last - first + 1);
    mm_cli_plane_json (b, &p, vol);
    json_builder_end_object (b);
    g_autoptr (JsonNode) root = json_builder_get_root (b);
    mm_cli_print_json (root);
    rc = MM_EXIT_OK;
  }
out:
  mm_cli_plane_clear (&po);
  g_free (series);
  g_free (mode_name);
  g_free (npy);
  g_strfreev (paths);
  return rc;
}
