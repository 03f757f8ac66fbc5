/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli segment: threshold metal, 3D components, PNG label stack. */
#include "mm-cli.h"
#include "mm-json.h"

#include "mm-label-stack.h"
#include "mm-profile.h"
#include "mm-segment.h"

#include <math.h>
#include <stdio.h>

static JsonObject *
parameters_new (const MmSegmentParams *p)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "tool", "metalmark-cli segment");
  json_object_set_string_member (o, "version", MM_VERSION);
  json_object_set_double_member (o, "threshold_hu", p->lower);
  if (p->has_upper)
    json_object_set_double_member (o, "upper_hu", p->upper);
  else
    json_object_set_null_member (o, "upper_hu");
  json_object_set_double_member (o, "min_volume_mm3", p->min_volume_mm3);
  json_object_set_int_member (o, "connectivity", 26);
  return o;
}

typedef struct
{
  const MmComponents *comps;
  const bool *keep;
} KeptComponents;

static uint64_t
paint_slice_cb (int k, uint8_t *out, gpointer user_data)
{
  const KeptComponents *kc = user_data;
  return mm_components_paint_slice (kc->comps, kc->keep, k, out, 255);
}

/* Streaming: each slice's runs are extracted as it is decoded, so the volume is never held
 * (no 100 MB buffer to allocate, fault in and zero). */
typedef struct
{
  GMutex lock;
  MmComponentsBuilder *builder;
  double lower, upper;
} Stream;

static void
stream_slice_cb (int k, const int16_t *hu, const int dims[3], gpointer data)
{
  Stream *s = data;
  g_mutex_lock (&s->lock);
  if (s->builder == NULL)
    s->builder = mm_components_builder_new (dims, s->lower, s->upper);
  MmComponentsBuilder *b = s->builder;
  g_mutex_unlock (&s->lock);
  mm_components_builder_add_slice (b, k, hu);
}

int
mm_cli_segment (int argc, char **argv)
{
  char *series = NULL, *out_dir = NULL;
  double threshold = MM_METAL_THRESHOLD_DEFAULT, upper = NAN;
  double min_volume = MM_METAL_MIN_VOLUME_DEFAULT;
  gboolean json = FALSE, force = FALSE;
  int threads = 0;
  char **paths = NULL;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Folder for the PNG stack (required)",
      "DIR" },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold, "Lower bound, HU (default 3000)",
      "HU" },
    { "upper", 0, 0, G_OPTION_ARG_DOUBLE, &upper, "Upper bound, HU (default none)", "HU" },
    { "min-volume", 0, 0, G_OPTION_ARG_DOUBLE, &min_volume,
      "Drop components smaller than this, mm^3 (default 0: keep all)", "MM3" },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID to read", "UID" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the summary as JSON", NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      "Segment even when the values are not HU or the image is not a CT acquisition "
      "(a Secondary Capture, a derived secondary image)", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..." },
    { NULL },
  };
  const MmCliRange ranges[] = {
    { "threshold", -MM_LIMIT_HU, MM_LIMIT_HU }, { "upper", -MM_LIMIT_HU, MM_LIMIT_HU },
    /* a cubic metre: more than any body */
    { "min-volume", 0, 1e9 }, MM_CLI_THREADS_RANGE, { NULL },
  };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("segment", "PATH... --out DIR",
                     "Metal is HU >= threshold (and <= upper), 26-connected components smaller "
                     "than --min-volume dropped; one 0/255 PNG per slice plus manifest.json.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (paths == NULL || paths[0] == NULL || out_dir == NULL)
    {
      mm_cli_error ("segment: PATH and --out DIR are required; try 'metalmark-cli segment "
                    "--help'");
      goto out;
    }
  if (!isnan (upper) && upper < threshold)
    {
      mm_cli_error ("segment: --upper %g is below --threshold %g", upper, threshold);
      goto out;
    }

  {
    MmSegmentParams p;
    mm_segment_params_init (&p);
    p.lower = threshold;
    p.has_upper = !isnan (upper);
    p.upper = upper;
    p.min_volume_mm3 = min_volume;

    Stream stream = { .lower = p.lower, .upper = p.has_upper ? p.upper : INFINITY };
    g_mutex_init (&stream.lock);
    MmDicomLoadOptions opts;
    mm_dicom_load_options_init (&opts);
    opts.series_uid = series;
    opts.n_threads = threads;
    opts.slice_func = stream_slice_cb;
    opts.slice_data = &stream;
    bool cannot_stream = false;
    g_autoptr (MmVolume) vol = mm_cli_load_with (paths, &opts, NULL, &cannot_stream);
    g_autoptr (MmComponents) comps = NULL;
    gint64 t_comps = mm_profile_begin ();
    if (vol)
      {
        comps = mm_components_builder_finish (g_steal_pointer (&stream.builder), threads);
        mm_profile_end (MM_PROFILE_COMPONENTS, t_comps);
      }
    else if (stream.builder)
      mm_components_free (mm_components_builder_finish (g_steal_pointer (&stream.builder), 1));
    g_mutex_clear (&stream.lock);
    if (vol == NULL && cannot_stream)
      {
        /* Float voxels or a damaged slice: the ordinary load, which handles both. */
        vol = mm_cli_load (paths, series, threads, NULL);
        if (vol)
          {
            double up = p.has_upper ? p.upper : INFINITY;
            t_comps = mm_profile_begin ();
            comps = mm_components_label_range (vol, p.lower, up, threads);
            mm_profile_end (MM_PROFILE_COMPONENTS, t_comps);
          }
      }
    if (vol == NULL)
      {
        rc = MM_EXIT_INPUT;
        goto out;
      }
    /* Streaming has already labelled the slices; nothing of it is written unless the rule
     * applies. */
    if (!mm_cli_metal_rule_applies ("segment", vol, force))
      {
        rc = MM_EXIT_INPUT;
        goto out;
      }
    MmSegmentResult res;
    /* The PNGs are painted from the components' runs: no whole-volume mask is needed. */
    g_autoptr (JsonObject) params = parameters_new (&p);
    json_object_set_string_member (params, "values", mm_volume_unit (vol));
    g_autofree bool *keep = mm_segment_select (comps, vol, &p, &res);
    KeptComponents kc = { comps, keep };
    g_autoptr (GError) err = NULL;
    if (!mm_label_stack_write_func (out_dir, vol, paint_slice_cb, &kc, params, threads, &err))
      {
        mm_cli_error ("%s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    if (json)
      {
        g_autoptr (JsonBuilder) b = json_builder_new ();
        json_builder_begin_object (b);
        mm_json_set_int (b, "metal_voxels", (gint64) res.metal_voxels);
        mm_json_set_double (b, "volume_ml", res.volume_ml);
        mm_json_set_int (b, "components", res.components);
        mm_json_set_int (b, "components_dropped", res.components_dropped);
        mm_json_set_int (b, "voxels_dropped", (gint64) res.voxels_dropped);
        mm_json_set_int (b, "slices_with_metal", res.slices_with_metal);
        mm_json_set_int (b, "slices", vol->dims[2]);
        mm_json_set_string (b, "out", out_dir);
        json_builder_set_member_name (b, "parameters");
        json_builder_add_value (b, json_node_init_object (json_node_alloc (), params));
        json_builder_end_object (b);
        g_autoptr (JsonNode) root = json_builder_get_root (b);
        mm_cli_print_json (root);
      }
    else
      {
        printf ("Metal voxels    %" G_GUINT64_FORMAT "\n", res.metal_voxels);
        printf ("Metal volume    %.3f ml\n", res.volume_ml);
        printf ("Components      %d (%d smaller than %.1f mm^3 dropped)\n", res.components,
                res.components_dropped, p.min_volume_mm3);
        printf ("Slices w/ metal %d of %d\n", res.slices_with_metal, vol->dims[2]);
        printf ("Written         %s (%d PNGs and %s)\n", out_dir, vol->dims[2],
                MM_LABEL_STACK_MANIFEST);
      }
    rc = MM_EXIT_OK;
    g_autofree char *profile = mm_profile_format ();
    if (profile)
      fputs (profile, stderr);
  }
out:
  g_free (series);
  g_free (out_dir);
  g_strfreev (paths);
  return rc;
}
