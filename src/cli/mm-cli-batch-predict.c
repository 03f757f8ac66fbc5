/* SPDX-License-Identifier: GPL-3.0-or-later */
/* batch predict (mm-cli-batch-predict.h). */
#include "mm-cli-batch-predict.h"

#include "mm-cli.h"
#include "mm-json.h"
#include "mm-label-stack.h"
#include "mm-nn-default.h"
#include "mm-nn-input.h"
#include "mm-nn-model.h"
#include "mm-nn-predict.h"
#include "mm-text.h"

#include <omp.h>

struct _MmCliBatchPredict
{
  char *model_path;
  MmUnet *net;
  int batch;
  int threads;
  bool force;
};

void
mm_cli_batch_predict_free (MmCliBatchPredict *p)
{
  if (p == NULL)
    return;
  g_free (p->model_path);
  if (p->net)
    mm_unet_free (p->net);
  g_free (p);
}

MmCliBatchPredict *
mm_cli_batch_predict_new (char **opts, int threads, int *rc)
{
  char *model_path = NULL;
  int batch = MM_NN_PREDICT_BATCH_DEFAULT;
  gboolean force = FALSE;
  char **rest = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path, "Model file", "MODEL" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Slices per batch of each thread", "N" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Predict on values that are not HU", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL },
  };
  const MmCliRange ranges[] = { { "batch", 1, MM_LIMIT_PREDICT_BATCH }, { NULL } };
  /* The options after batch's --, parsed as predict would parse them. */
  int argc = 1 + (int) g_strv_length (opts);
  g_autofree char **argv = g_new0 (char *, argc + 1);
  argv[0] = "predict";
  for (int i = 1; i < argc; i++)
    argv[i] = opts[i - 1];
  char **argvp = argv;
  *rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("batch predict", "-- [--model MODEL] [--batch N] [--force]",
                     "predict's options for batch", entries, ranges, &argc, &argvp))
    {
      g_free (model_path);
      g_strfreev (rest);
      return NULL;
    }
  if (rest && rest[0])
    {
      mm_cli_error ("batch predict: '%s' is not an option of predict", rest[0]);
      g_free (model_path);
      g_strfreev (rest);
      return NULL;
    }
  g_strfreev (rest);
  if (model_path == NULL)
    model_path = mm_nn_default_model_path ();
  if (model_path == NULL)
    {
      mm_cli_error ("batch predict: no model installed; give -- --model MODEL");
      return NULL;
    }
  g_autoptr (GError) err = NULL;
  MmUnet *net = mm_nn_model_load (model_path, NULL, &err);
  if (net == NULL)
    {
      mm_cli_error ("%s", err->message);
      g_free (model_path);
      *rc = MM_EXIT_INPUT;
      return NULL;
    }
  if (threads > 0)
    omp_set_num_threads (threads);
  MmCliBatchPredict *p = g_new0 (MmCliBatchPredict, 1);
  p->model_path = model_path;
  p->net = net;
  p->batch = batch;
  p->threads = threads;
  p->force = force;
  *rc = MM_EXIT_OK;
  return p;
}

static double
seconds_since (gint64 t)
{
  return (g_get_monotonic_time () - t) / 1e6;
}

bool
mm_cli_batch_predict_run (MmCliBatchPredict *p, const MmBatchSeries *series, const char *work,
                          JsonBuilder *b)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *labels = g_build_filename (work, "labels", NULL);
  double t_read = 0, t_segment = 0, t_write = 0;
  guint64 voxels = 0;
  int with_metal = 0, slices = 0;
  double ml = 0;

  gint64 t = g_get_monotonic_time ();
  MmDicomLoadOptions opts;
  mm_dicom_load_options_init (&opts);
  opts.n_threads = p->threads;
  g_autoptr (MmDicomReport) report = mm_dicom_report_new ();
  g_autoptr (MmVolume) vol = mm_dicom_load ((const char *const *) series->files,
                                            g_strv_length (series->files), &opts, report, &err);
  t_read = seconds_since (t);
  g_autoptr (MmMask) mask = NULL;
  if (vol == NULL)
    reason = mm_text_printable (err->message);
  else if (!p->force && (!mm_volume_is_hu (vol) || vol->not_acquired))
    reason = g_strdup_printf ("predict: the values are %s%s%s: the network learnt metal from "
                              "HU of CT acquisitions; -- --force to go ahead anyway",
                              mm_volume_unit (vol), vol->not_acquired ? ", " : "",
                              vol->not_acquired ? vol->not_acquired : "");
  else
    {
      t = g_get_monotonic_time ();
      mask = mm_nn_predict_volume (p->net, vol, p->batch, NULL, NULL, NULL, &err);
      t_segment = seconds_since (t);
      if (mask == NULL)
        reason = g_strdup_printf ("predict: %s", err->message);
    }
  if (mask)
    {
      /* The parameters exactly as 'metalmark-cli predict' writes them. */
      g_autoptr (JsonObject) params = json_object_new ();
      json_object_set_string_member (params, "tool", "metalmark-cli predict");
      json_object_set_string_member (params, "version", MM_VERSION);
      json_object_set_string_member (params, "model", p->model_path);
      json_object_set_string_member (params, "input_transform", MM_NN_INPUT_TRANSFORM);
      json_object_set_string_member (params, "decision", "logit > 0");
      t = g_get_monotonic_time ();
      if (!mm_label_stack_write (labels, mask, vol, params, p->threads, &err))
        reason = g_strdup (err->message);
      t_write = seconds_since (t);
      voxels = mm_mask_count (mask);
      slices = vol->dims[2];
      for (int k = 0; k < slices; k++)
        with_metal += !mm_mask_slice_is_empty (mask, k);
      ml = voxels * mm_volume_voxel_mm3 (vol) / 1000;
    }

  mm_json_set_string (b, "state", reason ? "failed" : "done");
  if (reason)
    mm_json_set_string (b, "reason", reason);
  json_builder_set_member_name (b, "timings_s");
  json_builder_begin_object (b);
  mm_json_set_double (b, "total", t_read + t_segment + t_write);
  mm_json_set_double (b, "read", t_read);
  mm_json_set_double (b, "segment", t_segment);
  mm_json_set_double (b, "write", t_write);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "messages");
  json_builder_begin_array (b);
  for (guint w = 0; w < report->warnings->len && w < 40; w++)
    {
      g_autofree char *line = mm_text_printable (report->warnings->pdata[w]);
      json_builder_add_string_value (b, line);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "result");
  if (reason)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      mm_json_set_int (b, "metal_voxels", (gint64) voxels);
      mm_json_set_double (b, "volume_ml", ml);
      mm_json_set_int (b, "slices_with_metal", with_metal);
      mm_json_set_int (b, "slices", slices);
      mm_json_set_string (b, "out", "labels");
      mm_json_set_string (b, "model", p->model_path);
      json_builder_end_object (b);
    }
  return reason == NULL;
}
