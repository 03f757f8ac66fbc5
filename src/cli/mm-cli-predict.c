/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli predict: segment metal with a trained U-Net, write a PNG label stack. */
#include "mm-cli.h"

#include "mm-label-stack.h"
#include "mm-nn-input.h"
#include "mm-nn-default.h"
#include "mm-nn-model.h"
#include "mm-nn-predict.h"
#include "mm-nn-profile.h"
#include "mm-profile.h"

#include <omp.h>
#include <stdio.h>
#include <unistd.h>

static void
progress_cb (int done, int total, gpointer data)
{
  fprintf (stderr, "\rpredicting %d/%d slices", done, total);
  if (done == total)
    fprintf (stderr, "\r\033[K");
  fflush (stderr);
}

int
mm_cli_predict (int argc, char **argv)
{
  char *series = NULL, *out_dir = NULL, *model_path = NULL;
  int batch = MM_NN_PREDICT_BATCH_DEFAULT, threads = 0;
  char **paths = NULL;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file (default: the shipped model, trained on phantoms)", "MODEL" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Folder for the PNG stack (required)",
      "DIR" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Slices per batch of each thread (default 1)", "N" },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID to read", "UID" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      "Predict even when the values are not HU or the image is not a CT acquisition", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..." },
    { NULL },
  };
  const MmCliRange ranges[] = {
    { "batch", 1, MM_LIMIT_PREDICT_BATCH }, MM_CLI_THREADS_RANGE, { NULL },
  };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("predict", "PATH... [--model MODEL] --out DIR",
                     "Runs the model on every whole slice (padded to a size the network takes) "
                     "and writes metal (logit > 0) as one 0/255 PNG per slice plus "
                     "manifest.json, the format of 'segment'.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (model_path == NULL)
    model_path = mm_nn_default_model_path ();
  if (paths == NULL || paths[0] == NULL || out_dir == NULL || model_path == NULL)
    {
      mm_cli_error ("predict: PATH and --out DIR are required, and --model MODEL when no "
                    "model is installed; try 'metalmark-cli predict --help'");
      goto out;
    }
  if (threads > 0)
    omp_set_num_threads (threads);

  {
    rc = MM_EXIT_INPUT;
    g_autoptr (GError) err = NULL;
    /* The model first: a bad file is reported before a long series load. */
    gint64 t_model = mm_profile_begin ();
    g_autoptr (MmUnet) net = mm_nn_model_load (model_path, NULL, &err);
    if (t_model)
      mm_nn_profile_add ("model load", mm_profile_now () - t_model);
    if (net == NULL)
      {
        mm_cli_error ("%s", err->message);
        goto out;
      }
    g_autoptr (MmVolume) vol = mm_cli_load (paths, series, threads, NULL);
    if (vol == NULL)
      goto out;
    /* The network learnt metal from HU: other values would give a confident, wrong mask. */
    if (!mm_cli_metal_rule_applies ("predict", vol, force))
      goto out;
    gint64 start = g_get_monotonic_time ();
    g_autoptr (MmMask) mask
        = mm_nn_predict_volume (net, vol, batch, isatty (fileno (stderr)) ? progress_cb : NULL,
                                NULL, NULL, &err);
    double seconds = (g_get_monotonic_time () - start) / 1e6;
    if (mask == NULL)
      {
        mm_cli_error ("predict: %s", err->message);
        goto out;
      }
    g_autoptr (JsonObject) params = json_object_new ();
    json_object_set_string_member (params, "tool", "metalmark-cli predict");
    json_object_set_string_member (params, "version", MM_VERSION);
    json_object_set_string_member (params, "model", model_path);
    json_object_set_string_member (params, "input_transform", MM_NN_INPUT_TRANSFORM);
    json_object_set_string_member (params, "decision", "logit > 0");
    if (!mm_label_stack_write (out_dir, mask, vol, params, threads, &err))
      {
        mm_cli_error ("%s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    guint64 voxels = mm_mask_count (mask);
    int with_metal = 0;
    for (int k = 0; k < vol->dims[2]; k++)
      with_metal += !mm_mask_slice_is_empty (mask, k);
    printf ("Metal voxels    %" G_GUINT64_FORMAT "\n", voxels);
    printf ("Metal volume    %.3f ml\n", voxels * mm_volume_voxel_mm3 (vol) / 1000);
    printf ("Slices w/ metal %d of %d\n", with_metal, vol->dims[2]);
    printf ("Predicted       %d slices in %.2f s (%.1f slices/s), batch %d\n", vol->dims[2],
            seconds, vol->dims[2] / MAX (seconds, 1e-9), batch);
    printf ("Written         %s (%d PNGs and %s)\n", out_dir, vol->dims[2],
            MM_LABEL_STACK_MANIFEST);
    rc = MM_EXIT_OK;
    /* MM_PROFILE: reading and writing (core stages), then inference's own (mm-nn-profile) */
    g_autofree char *profile = mm_profile_format ();
    g_autofree char *nn_profile = mm_nn_profile_format ();
    if (profile)
      fputs (profile, stderr);
    if (nn_profile)
      fputs (nn_profile, stderr);
  }
out:
  g_free (series);
  g_free (out_dir);
  g_free (model_path);
  g_strfreev (paths);
  return rc;
}
