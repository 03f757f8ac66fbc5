/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli reslice: a standard or oblique plane sampled with trilinear interpolation
 * (the mask nearest-neighbour), as .npy, with its geometry as JSON. */
#include "mm-cli-plane.h"

#include "mm-json.h"
#include "mm-reslice-slab.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int
mm_cli_reslice (int argc, char **argv)
{
  MmCliPlane po;
  mm_cli_plane_init (&po);
  char *series = NULL, *npy = NULL, *mask_npy = NULL, *mask_nifti = NULL;
  gboolean segment = FALSE, force = FALSE;
  double outside = -1024, threshold = NAN, thickness = 0, slab_step = 0;
  char *slab_mode = NULL;
  int threads = 0;
  char **paths = NULL;
  GOptionEntry entries[] = {
    MM_CLI_PLANE_ENTRIES (po),
    { "outside", 0, 0, G_OPTION_ARG_DOUBLE, &outside,
      "Value of pixels outside the volume (default -1024)", "HU" },
    { "slab-mode", 0, 0, G_OPTION_ARG_STRING, &slab_mode,
      "With --thickness: a slab along the plane's normal: mip, minip or mean", "MODE" },
    { "thickness", 0, 0, G_OPTION_ARG_DOUBLE, &thickness,
      "Slab thickness in mm (samples within half of it count; default 0: the plane)", "MM" },
    { "slab-step", 0, 0, G_OPTION_ARG_DOUBLE, &slab_step,
      "Sample step along the normal in mm (default: the smallest voxel spacing)", "MM" },
    { "npy", 0, 0, G_OPTION_ARG_FILENAME, &npy, "Write the image as a float32 NumPy array",
      "FILE.npy" },
    { "mask-npy", 0, 0, G_OPTION_ARG_FILENAME, &mask_npy,
      "Write the mask on the same pixels (nearest voxel) as a uint8 NumPy array", "FILE.npy" },
    { "mask-nifti", 0, 0, G_OPTION_ARG_FILENAME, &mask_nifti,
      "The mask is this NIfTI file on the series' grid", "FILE" },
    { "segment", 0, 0, G_OPTION_ARG_NONE, &segment, "The mask is the threshold segmentation",
      NULL },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
      "Metal is HU >= this, with --segment (default 3000)", "HU" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "With --segment: also on values that are not HU",
      NULL },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID to read", "UID" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..." },
    { NULL },
  };
  const MmCliRange ranges[] = {
    MM_CLI_PLANE_RANGES,
    { "outside", -MM_LIMIT_HU, MM_LIMIT_HU },
    { "thickness", 0, 2000 },
    { "slab-step", 0, 100 },
    { "threshold", -MM_LIMIT_HU, MM_LIMIT_HU },
    MM_CLI_THREADS_RANGE,
    { NULL },
  };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("reslice", "PATH... [PLANE OPTIONS] --npy FILE.npy",
                     "Samples a plane of the volume with trilinear interpolation: a standard "
                     "plane (--plane, --index) or an oblique one (centre, directions, "
                     "rotations, size and pixel size); prints its geometry, orientation "
                     "letters and corner positions as JSON.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (paths == NULL || paths[0] == NULL)
    {
      mm_cli_error ("reslice: PATH is required; try 'metalmark-cli reslice --help'");
      goto out;
    }
  if (mask_npy && !mask_nifti && !segment)
    {
      mm_cli_error ("reslice: --mask-npy needs a mask: --mask-nifti FILE or --segment");
      goto out;
    }
  if (mask_nifti && segment)
    {
      mm_cli_error ("reslice: --mask-nifti and --segment exclude each other");
      goto out;
    }

  if (slab_step != 0 && slab_step < 0.01)
    {
      /* A smaller step only multiplies the work (4097 samples a side at most). */
      mm_cli_error ("reslice: --slab-step must be 0 (the smallest spacing) or at least 0.01 mm");
      goto out;
    }
  MmSlabMode mode = MM_SLAB_MIP;
  if (slab_mode && !mm_slab_mode_parse (slab_mode, &mode))
    {
      mm_cli_error ("reslice: --slab-mode must be mip, minip or mean, not '%s'", slab_mode);
      goto out;
    }

  {
    g_autoptr (MmVolume) vol = mm_cli_load (paths, series, threads, NULL);
    if (vol == NULL)
      {
        rc = MM_EXIT_INPUT;
        goto out;
      }
    MmReslicePlane p;
    if (!mm_cli_plane_resolve ("reslice", &po, vol, &p, NULL, NULL))
      goto out;
    g_autoptr (MmMask) mask = NULL;
    if (mask_nifti || segment)
      {
        mask = mm_cli_plane_mask ("reslice", vol, mask_nifti, segment, threshold, force,
                                  threads);
        if (mask == NULL)
          {
            rc = MM_EXIT_INPUT;
            goto out;
          }
      }
    size_t n = (size_t) p.width * p.height;
    g_autofree float *img = g_try_new (float, n);
    g_autofree uint8_t *mimg = mask ? g_try_new (uint8_t, n) : NULL;
    if (img == NULL || (mask && mimg == NULL))
      {
        mm_cli_error ("reslice: not enough memory for a %d x %d image", p.width, p.height);
        rc = MM_EXIT_INPUT;
        goto out;
      }
    if (slab_mode && thickness > 0)
      mm_reslice_slab (vol, &p, thickness, slab_step, mode, (float) outside, img, NULL, threads);
    else
      mm_reslice_volume (vol, &p, (float) outside, img, threads);
    int bmin[3], bmax[3];
    if (mask && mm_reslice_mask_bounds (mask, bmin, bmax))
      mm_reslice_mask_in (vol, mask, bmin, bmax, &p, mimg, threads);
    else if (mask)
      memset (mimg, 0, n);
    g_autoptr (GError) err = NULL;
    if ((npy && !mm_cli_write_npy (npy, "<f4", img, p.height, p.width, &err))
        || (mask_npy && !mm_cli_write_npy (mask_npy, "|u1", mimg, p.height, p.width, &err)))
      {
        mm_cli_error ("%s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    g_autoptr (JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    mm_json_set_bool (b, "oblique", mm_cli_plane_is_oblique (&po));
    mm_json_set_double (b, "outside", outside);
    if (slab_mode && thickness > 0)
      {
        double step = mm_reslice_slab_step (vol, slab_step);
        mm_json_set_string (b, "slab_mode", mm_slab_mode_name (mode));
        mm_json_set_double (b, "slab_step", step);
        mm_json_set_int (b, "slab_samples", mm_reslice_slab_samples (thickness, step));
      }
    mm_cli_plane_json (b, &p, vol);
    if (mask)
      {
        uint64_t c = 0;
        for (size_t x = 0; x < n; x++)
          c += mimg[x] != 0;
        mm_json_set_int (b, "mask_pixels", (gint64) c);
      }
    json_builder_end_object (b);
    g_autoptr (JsonNode) root = json_builder_get_root (b);
    mm_cli_print_json (root);
    rc = MM_EXIT_OK;
  }
out:
  mm_cli_plane_clear (&po);
  g_free (series);
  g_free (slab_mode);
  g_free (npy);
  g_free (mask_npy);
  g_free (mask_nifti);
  g_strfreev (paths);
  return rc;
}
