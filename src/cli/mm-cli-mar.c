/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli mar: metal artifact reduction (LI-MAR or NMAR, docs/mar.md) of a CT series,
 * written as a new derived DICOM series. */
#include "mm-cli.h"

#include "mm-label-stack.h"
#include "mm-mar.h"
#include "mm-segment.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

typedef struct
{
  int last_tenth;
  gint64 t0;
} Progress;

static bool
progress_cb (int done, int total, gpointer user_data)
{
  Progress *pr = user_data;
  int tenth = (int) (10LL * done / MAX (total, 1));
  if (tenth > pr->last_tenth)
    {
      pr->last_tenth = tenth;
      fprintf (stderr, "mar: %d of %d slices, %.1f s\n", done, total,
               (g_get_monotonic_time () - pr->t0) / 1e6);
    }
  return true;
}

/* The output folder must be new or empty: a derived series is never mixed into another. */
static bool
check_out_dir (const char *dir)
{
  if (!g_file_test (dir, G_FILE_TEST_EXISTS))
    return true;
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      mm_cli_error ("mar: %s: exists and is not a folder", dir);
      return false;
    }
  g_autoptr (GError) err = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &err);
  if (d == NULL)
    {
      mm_cli_error ("mar: %s", err->message);
      return false;
    }
  if (g_dir_read_name (d) != NULL)
    {
      mm_cli_error ("mar: %s: the folder is not empty; give a new or empty folder", dir);
      return false;
    }
  return true;
}

int
mm_cli_mar (int argc, char **argv)
{
  char *series = NULL, *mask_dir = NULL, *out_dir = NULL, *method_name = NULL;
  double threshold = MM_METAL_THRESHOLD_DEFAULT;
  int threads = 0, views = 0;
  gboolean force = FALSE;
  char **paths = NULL;
  GOptionEntry entries[] = {
    { "method", 0, 0, G_OPTION_ARG_STRING, &method_name, "li or nmar (default nmar)", "METHOD" },
    { "mask", 0, 0, G_OPTION_ARG_FILENAME, &mask_dir,
      "The metal mask: a PNG label stack as 'segment' writes (default: HU >= --threshold)",
      "DIR" },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
      "Without --mask: metal is HU >= this (default 3000)", "HU" },
    { "views", 0, 0, G_OPTION_ARG_INT, &views,
      "Views of the virtual fan beam over 360 degrees (default 180)", "N" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Write the corrected series into this new or empty folder", "DIR" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Also on values that are not HU", NULL },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID to read", "UID" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..." },
    { NULL },
  };
  const MmCliRange ranges[] = {
    { "threshold", -MM_LIMIT_HU, MM_LIMIT_HU },
    { "views", 0, 4096 },
    MM_CLI_THREADS_RANGE,
    { NULL },
  };
  int rc = MM_EXIT_USAGE;
  MmMarParams p;
  mm_mar_params_init (&p);
  if (!mm_cli_parse ("mar", "PATH... --out DIR",
                     "Reduces metal artifacts: forward-projects each slice in a virtual fan "
                     "beam, replaces the rays through the metal by linear interpolation (li) "
                     "or by NMAR's prior-normalised interpolation (nmar), reconstructs the "
                     "change, puts the metal back, and writes a new derived DICOM series.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (paths == NULL || paths[0] == NULL || out_dir == NULL)
    {
      mm_cli_error ("mar: PATH and --out DIR are required; try 'metalmark-cli mar --help'");
      goto out;
    }
  if (method_name && !mm_mar_method_from_name (method_name, &p.method))
    {
      mm_cli_error ("mar: unknown --method '%s'; one of li, nmar", method_name);
      goto out;
    }
  if (views != 0 && views < 16)
    {
      mm_cli_error ("mar: --views %d is too few; 16..4096", views);
      goto out;
    }
  if (views)
    p.n_views = views;
  if (!check_out_dir (out_dir))
    {
      rc = MM_EXIT_OUTPUT;
      goto out;
    }

  rc = MM_EXIT_INPUT;
  {
    g_autoptr (MmVolume) vol = mm_cli_load (paths, series, threads, NULL);
    if (vol == NULL)
      goto out;
    if (!mm_cli_metal_rule_applies ("mar", vol, force))
      goto out;
    g_autoptr (GError) err = NULL;
    g_autoptr (MmMask) mask = NULL;
    if (mask_dir)
      {
        mask = mm_label_stack_read (mask_dir, vol, &err);
        if (mask == NULL)
          {
            mm_cli_error ("mar: %s", err->message);
            goto out;
          }
      }
    else
      {
        MmSegmentParams sp;
        mm_segment_params_init (&sp);
        sp.lower = threshold;
        mask = mm_segment_threshold (vol, &sp, threads);
        if (mask == NULL)
          {
            mm_cli_error ("mar: not enough memory for the metal mask of %s", paths[0]);
            goto out;
          }
      }
    size_t bytes = mm_volume_n_voxels (vol) * (vol->type == MM_VOXEL_INT16 ? 2 : 4);
    g_autofree void *out_voxels = g_try_malloc (bytes);
    if (out_voxels == NULL)
      {
        mm_cli_error ("mar: not enough memory for the corrected series (%zu MB)",
                      bytes >> 20);
        goto out;
      }
    Progress pr = { 0, g_get_monotonic_time () };
    clock_t c0 = clock ();
    if (!mm_mar_volume (&p, vol, mask, out_voxels, threads, progress_cb, &pr, &err))
      {
        mm_cli_error ("mar: %s: %s", paths[0], err->message);
        goto out;
      }
    fprintf (stderr, "mar: %s of %d slices in %.1f s (%.1f s CPU)\n",
             mm_mar_method_label (p.method), vol->dims[2],
             (g_get_monotonic_time () - pr.t0) / 1e6, (double) (clock () - c0) / CLOCKS_PER_SEC);
    if (vol->type != MM_VOXEL_INT16)
      {
        /* The derived series stores 16-bit HU + 1024, as the phantom writer does. */
        const float *f = out_voxels;
        g_autofree gint16 *s = g_try_new (gint16, mm_volume_n_voxels (vol));
        if (s == NULL)
          {
            mm_cli_error ("mar: not enough memory for the corrected series");
            goto out;
          }
        for (size_t x = 0; x < mm_volume_n_voxels (vol); x++)
          s[x] = (gint16) CLAMP (lrintf (f[x]), -1024, G_MAXINT16 - 1024);
        g_free (vol->voxels);
        vol->voxels = g_steal_pointer (&s);
        vol->type = MM_VOXEL_INT16;
      }
    else
      {
        g_free (vol->voxels);
        vol->voxels = g_steal_pointer (&out_voxels);
      }
    g_autofree char *desc = g_strdup_printf ("%s (Metalmark)", mm_mar_method_label (p.method));
    g_autofree char *deriv = g_strdup_printf (
        "Metal artifact reduction %s in a virtual fan beam of %d views; metal from %s",
        mm_mar_method_label (p.method), p.n_views, mask_dir ? "a label stack" : "a threshold");
    if (!mm_dicom_write_derived (out_dir, vol, desc, deriv, &err))
      {
        mm_cli_error ("mar: %s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    printf ("%s\n", out_dir);
    rc = MM_EXIT_OK;
  }
out:
  g_free (series);
  g_free (mask_dir);
  g_free (out_dir);
  g_free (method_name);
  g_strfreev (paths);
  return rc;
}
