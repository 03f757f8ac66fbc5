/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli export: a metal mask (and the CT) as NIfTI, DICOM SEG or a PNG label stack. */
#include "mm-cli.h"

#include "mm-label-stack.h"
#include "mm-nifti.h"
#include "mm-segment.h"

#include <math.h>
#include <stdio.h>

static bool
nifti_name_ok (const char *option, const char *path)
{
  if (path == NULL || g_str_has_suffix (path, ".nii.gz") || g_str_has_suffix (path, ".nii"))
    return true;
  mm_cli_error ("export: %s %s: the file name must end in .nii.gz or .nii", option, path);
  return false;
}

int
mm_cli_export (int argc, char **argv)
{
  char *series = NULL, *mask_dir = NULL, *mask_nifti = NULL;
  char *png_dir = NULL, *nifti = NULL, *ct_nifti = NULL, *seg = NULL;
  gboolean segment = FALSE, force = FALSE;
  double threshold = NAN;
  int threads = 0;
  char **paths = NULL;
  GOptionEntry entries[] = {
    { "mask", 0, 0, G_OPTION_ARG_FILENAME, &mask_dir,
      "The mask is this PNG label stack (slices matched by SOP Instance UID)", "DIR" },
    { "mask-nifti", 0, 0, G_OPTION_ARG_FILENAME, &mask_nifti,
      "The mask is this NIfTI file, on the series' grid (nonzero is metal)", "FILE" },
    { "segment", 0, 0, G_OPTION_ARG_NONE, &segment,
      "The mask is the threshold segmentation (the default without --mask)", NULL },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
      "Metal is HU >= this, with --segment (default 3000)", "HU" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      "With --segment: segment even when the values are not HU or the image is not a CT "
      "acquisition", NULL },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &png_dir, "Write the mask as a PNG label stack",
      "DIR" },
    { "nifti", 0, 0, G_OPTION_ARG_FILENAME, &nifti, "Write the mask as NIfTI (uint8 0/1)",
      "FILE.nii.gz" },
    { "ct-nifti", 0, 0, G_OPTION_ARG_FILENAME, &ct_nifti, "Write the CT as NIfTI (HU)",
      "FILE.nii.gz" },
    { "seg", 0, 0, G_OPTION_ARG_FILENAME, &seg, "Write the mask as a DICOM Segmentation",
      "FILE.dcm" },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID to read", "UID" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..." },
    { NULL },
  };
  const MmCliRange ranges[] = {
    { "threshold", -MM_LIMIT_HU, MM_LIMIT_HU }, MM_CLI_THREADS_RANGE, { NULL },
  };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("export", "PATH... [--mask DIR | --mask-nifti FILE | --segment] OUTPUTS",
                     "Writes the metal mask as a NIfTI file (--nifti), a DICOM Segmentation "
                     "(--seg) or a PNG label stack (--png), and the CT as NIfTI (--ct-nifti). "
                     "NIfTI files are in RAS and lie on each other and on the DICOM series in 3D "
                     "Slicer and ITK-SNAP; every file is written atomically.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (paths == NULL || paths[0] == NULL)
    {
      mm_cli_error ("export: PATH is required; try 'metalmark-cli export --help'");
      goto out;
    }
  if (png_dir == NULL && nifti == NULL && ct_nifti == NULL && seg == NULL)
    {
      mm_cli_error ("export: nothing to write: give --nifti, --seg, --png or --ct-nifti");
      goto out;
    }
  if ((mask_dir != NULL) + (mask_nifti != NULL) + (segment != FALSE) > 1)
    {
      mm_cli_error ("export: --mask, --mask-nifti and --segment exclude each other");
      goto out;
    }
  if (!isnan (threshold) && (mask_dir || mask_nifti))
    {
      mm_cli_error ("export: --threshold applies to --segment, not to a mask read from a file");
      goto out;
    }
  if (!nifti_name_ok ("--nifti", nifti) || !nifti_name_ok ("--ct-nifti", ct_nifti)
      || !nifti_name_ok ("--mask-nifti", mask_nifti))
    goto out;

  {
    g_autoptr (MmVolume) vol = mm_cli_load (paths, series, threads, NULL);
    if (vol == NULL)
      {
        rc = MM_EXIT_INPUT;
        goto out;
      }
    g_autoptr (GError) err = NULL;
    g_autoptr (MmMask) mask = NULL;
    g_autofree char *algorithm = NULL;
    bool need_mask = png_dir || nifti || seg;
    if (need_mask && mask_dir)
      mask = mm_label_stack_read (mask_dir, vol, &err);
    else if (need_mask && mask_nifti)
      mask = mm_nifti_read_mask (mask_nifti, vol, &err);
    else if (need_mask)
      {
        if (!mm_cli_metal_rule_applies ("export", vol, force))
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
        algorithm = g_strdup_printf ("Metalmark threshold >= %g HU", p.lower);
      }
    if (need_mask && mask == NULL)
      {
        mm_cli_error ("%s", err ? err->message : "export: the segmentation failed");
        rc = MM_EXIT_INPUT;
        goto out;
      }

    if (png_dir)
      {
        g_autoptr (JsonObject) params = json_object_new ();
        json_object_set_string_member (params, "tool", "metalmark-cli export");
        json_object_set_string_member (params, "version", MM_VERSION);
        if (algorithm)
          json_object_set_string_member (params, "algorithm", algorithm);
        if (!mm_label_stack_write (png_dir, mask, vol, params, threads, &err))
          goto write_failed;
        printf ("Written  %s (%d PNGs and %s)\n", png_dir, vol->dims[2],
                MM_LABEL_STACK_MANIFEST);
      }
    if (nifti)
      {
        if (!mm_nifti_write_mask (nifti, mask, vol, &err))
          goto write_failed;
        printf ("Written  %s (mask, NIfTI)\n", nifti);
      }
    if (ct_nifti)
      {
        if (!mm_nifti_write_volume (ct_nifti, vol, &err))
          goto write_failed;
        printf ("Written  %s (CT in HU, NIfTI)\n", ct_nifti);
      }
    if (seg)
      {
        MmDicomSegOptions so;
        mm_dicom_seg_options_init (&so);
        if (algorithm)
          {
            so.algorithm = MM_DICOM_SEG_AUTOMATIC;
            so.algorithm_name = algorithm;
          }
        if (!mm_dicom_write_seg_full (seg, mask, vol, &so, &err))
          goto write_failed;
        printf ("Written  %s (DICOM Segmentation, %d frames)\n", seg, vol->dims[2]);
      }
    rc = MM_EXIT_OK;
    goto out;

  write_failed:
    mm_cli_error ("%s", err->message);
    rc = MM_EXIT_OUTPUT;
  }
out:
  g_free (series);
  g_free (mask_dir);
  g_free (mask_nifti);
  g_free (png_dir);
  g_free (nifti);
  g_free (ct_nifti);
  g_free (seg);
  g_strfreev (paths);
  return rc;
}
