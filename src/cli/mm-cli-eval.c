/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli eval: compare a predicted label stack with a reference one. */
#include "mm-cli.h"
#include "mm-json.h"

#include "mm-atomic.h"
#include "mm-label-stack.h"
#include "mm-metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Spacings written by other tools may be rounded; this much relative difference is still the
 * same grid. */
#define SPACING_RTOL 1e-4

/* NaN (an undefined figure, see mm-metrics.h) is written as null. */
static void
set_double_or_null (JsonBuilder *b, const char *member, double value)
{
  json_builder_set_member_name (b, member);
  if (isnan (value))
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, value);
}

static JsonNode *
metrics_json (const MmMetrics *m, const char *truth_dir, const char *pred_dir, const char *csv)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  mm_json_set_string (b, "truth", truth_dir);
  mm_json_set_string (b, "pred", pred_dir);
  mm_json_set_ints (b, "dims", m->dims, 3);
  mm_json_set_doubles (b, "spacing_mm", m->spacing, 3);
  mm_json_set_int (b, "truth_voxels", (gint64) m->truth_voxels);
  mm_json_set_int (b, "pred_voxels", (gint64) m->pred_voxels);
  mm_json_set_int (b, "tp", (gint64) m->tp);
  mm_json_set_int (b, "fp", (gint64) m->fp);
  mm_json_set_int (b, "fn", (gint64) m->fn);
  mm_json_set_int (b, "truth_surface_voxels", (gint64) m->truth_surface_voxels);
  mm_json_set_int (b, "pred_surface_voxels", (gint64) m->pred_surface_voxels);
  set_double_or_null (b, "dice", m->dice);
  set_double_or_null (b, "iou", m->iou);
  set_double_or_null (b, "precision", m->precision);
  set_double_or_null (b, "recall", m->recall);
  set_double_or_null (b, "hd95_mm", m->hd95_mm);
  set_double_or_null (b, "assd_mm", m->assd_mm);
  set_double_or_null (b, "hausdorff_mm", m->hausdorff_mm);
  mm_json_set_double (b, "truth_volume_ml", m->truth_ml);
  mm_json_set_double (b, "pred_volume_ml", m->pred_ml);
  mm_json_set_double (b, "volume_difference_ml", m->volume_diff_ml);
  set_double_or_null (b, "volume_difference_percent", m->volume_diff_percent);
  mm_json_set_string (b, "csv", csv);
  json_builder_set_member_name (b, "conventions");
  json_builder_begin_object (b);
  mm_json_set_string (b, "surface", "mask voxels with a 6-neighbour outside the mask");
  mm_json_set_string (b, "hd95", "95th percentile (linear) of both directed distance sets "
                                 "pooled");
  mm_json_set_string (b, "assd", "mean of both directed distance sets pooled");
  mm_json_set_string (b, "volume_difference", "pred - truth; percent of truth");
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
print_distance (const char *label, double v)
{
  if (isnan (v))
    printf ("%-16s n/a (one mask is empty)\n", label);
  else
    printf ("%-16s %.3f mm\n", label, v);
}

static void
print_ratio (const char *label, double v)
{
  if (isnan (v))
    printf ("%-16s n/a (nothing to divide by)\n", label);
  else
    printf ("%-16s %.6f\n", label, v);
}

static void
metrics_print (const MmMetrics *m, const char *csv)
{
  int with_voxels = 0;
  for (int k = 0; k < m->dims[2]; k++)
    with_voxels += m->slices[k].truth_voxels + m->slices[k].pred_voxels > 0;
  print_ratio ("Dice", m->dice);
  print_ratio ("IoU", m->iou);
  print_ratio ("Precision", m->precision);
  print_ratio ("Recall", m->recall);
  print_distance ("HD95", m->hd95_mm);
  print_distance ("ASSD", m->assd_mm);
  print_distance ("Hausdorff", m->hausdorff_mm);
  printf ("%-16s %.3f ml truth, %.3f ml predicted\n", "Volume", m->truth_ml, m->pred_ml);
  if (isnan (m->volume_diff_percent))
    printf ("%-16s %+.3f ml\n", "Volume diff", m->volume_diff_ml);
  else
    printf ("%-16s %+.3f ml (%+.2f %%)\n", "Volume diff", m->volume_diff_ml,
            m->volume_diff_percent);
  printf ("%-16s %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT "\n",
          "TP / FP / FN", m->tp, m->fp, m->fn);
  printf ("%-16s %d of %d hold a voxel of either mask\n", "Slices", with_voxels, m->dims[2]);
  if (csv)
    printf ("%-16s %s\n", "Per-slice CSV", csv);
}

static void
csv_field (GString *out, const char *s)
{
  if (s == NULL)
    return;
  if (strpbrk (s, ",\"\r\n") == NULL)
    {
      g_string_append (out, s);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *c = s; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

static bool
write_csv (const char *path, const MmMetrics *m, GPtrArray *truth_uids, GPtrArray *pred_uids,
           GError **error)
{
  g_autoptr (GString) out = g_string_new ("index,sop_instance_uid,dice,truth_voxels,pred_voxels\n");
  for (int k = 0; k < m->dims[2]; k++)
    {
      const MmSliceMetrics *s = &m->slices[k];
      const char *uid = truth_uids->pdata[k] ? truth_uids->pdata[k] : pred_uids->pdata[k];
      g_string_append_printf (out, "%d,", k);
      csv_field (out, uid);
      g_string_append_printf (out, ",%.9g,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "\n",
                              s->dice, s->truth_voxels, s->pred_voxels);
    }
  return mm_atomic_write (path, out->str, out->len, true, error);
}

/* The two stacks must describe the same slices: same grid, same spacing, and where both name
 * their slices, the same SOP Instance UIDs in the same order. */
static bool
check_same_grid (const char *truth_dir, const char *pred_dir, const MmMask *truth,
                 const MmMask *pred, const double ts[3], const double ps[3],
                 GPtrArray *truth_uids, GPtrArray *pred_uids)
{
  g_autofree char *tm = g_build_filename (truth_dir, MM_LABEL_STACK_MANIFEST, NULL);
  g_autofree char *pm = g_build_filename (pred_dir, MM_LABEL_STACK_MANIFEST, NULL);
  if (memcmp (truth->dims, pred->dims, sizeof truth->dims) != 0)
    {
      mm_cli_error ("%s: the predicted mask is %d x %d x %d voxels, the reference (%s) "
                    "%d x %d x %d",
                    pm, pred->dims[0], pred->dims[1], pred->dims[2], tm, truth->dims[0],
                    truth->dims[1], truth->dims[2]);
      return false;
    }
  for (int a = 0; a < 3; a++)
    if (fabs (ts[a] - ps[a]) > SPACING_RTOL * MAX (ts[a], ps[a]))
      {
        mm_cli_error ("%s: spacing %g x %g x %g mm, the reference (%s) %g x %g x %g mm", pm,
                      ps[0], ps[1], ps[2], tm, ts[0], ts[1], ts[2]);
        return false;
      }
  for (guint k = 0; k < truth_uids->len; k++)
    {
      const char *a = truth_uids->pdata[k], *b = pred_uids->pdata[k];
      if (a && b && strcmp (a, b) != 0)
        {
          mm_cli_error ("%s: slice %u is SOP Instance UID %s, in the reference (%s) %s: the "
                        "stacks are not of the same slices",
                        pm, k, b, tm, a);
          return false;
        }
    }
  return true;
}

int
mm_cli_eval (int argc, char **argv)
{
  char *truth_dir = NULL, *pred_dir = NULL, *csv = NULL;
  gboolean json = FALSE;
  int threads = 0;
  char **rest = NULL;
  GOptionEntry entries[] = {
    { "truth", 't', 0, G_OPTION_ARG_FILENAME, &truth_dir,
      "Reference label stack (required)", "DIR" },
    { "pred", 'p', 0, G_OPTION_ARG_FILENAME, &pred_dir, "Predicted label stack (required)",
      "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the figures as JSON", NULL },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv,
      "Write per-slice figures (index, sop_instance_uid, dice, truth_voxels, pred_voxels)",
      "FILE" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, NULL },
    { NULL },
  };
  const MmCliRange ranges[] = { MM_CLI_THREADS_RANGE, { NULL } };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("eval", "--truth DIR --pred DIR",
                     "Dice, IoU, precision, recall, HD95 and ASSD (mm, 3D, the stacks' "
                     "spacing), volume difference. Surfaces are mask voxels with a 6-neighbour "
                     "outside; HD95 is the 95th percentile of both directed surface distance "
                     "sets pooled, ASSD their mean; NaN (JSON null) when one mask is empty.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (truth_dir == NULL || pred_dir == NULL)
    {
      mm_cli_error ("eval: --truth DIR and --pred DIR are required; try 'metalmark-cli eval "
                    "--help'");
      goto out;
    }
  if (rest && rest[0])
    {
      mm_cli_error ("eval: unexpected argument '%s'", rest[0]);
      goto out;
    }

  {
    rc = MM_EXIT_INPUT;
    g_autoptr (GError) err = NULL;
    g_autoptr (MmMask) truth = mm_label_stack_read (truth_dir, NULL, &err);
    g_autoptr (MmMask) pred = truth ? mm_label_stack_read (pred_dir, NULL, &err) : NULL;
    double ts[3], ps[3];
    g_autoptr (GPtrArray) truth_uids = NULL;
    g_autoptr (GPtrArray) pred_uids = NULL;
    if (truth == NULL || pred == NULL
        || !mm_label_stack_read_geometry (truth_dir, ts, &truth_uids, &err)
        || !mm_label_stack_read_geometry (pred_dir, ps, &pred_uids, &err))
      {
        mm_cli_error ("%s", err->message);
        goto out;
      }
    if (!check_same_grid (truth_dir, pred_dir, truth, pred, ts, ps, truth_uids, pred_uids))
      goto out;
    g_autoptr (MmMetrics) m = mm_metrics_compute (truth, pred, ts, threads, &err);
    if (m == NULL)
      {
        mm_cli_error ("%s", err->message);
        goto out;
      }
    if (csv && !write_csv (csv, m, truth_uids, pred_uids, &err))
      {
        mm_cli_error ("%s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    if (json)
      {
        g_autoptr (JsonNode) root = metrics_json (m, truth_dir, pred_dir, csv);
        mm_cli_print_json (root);
      }
    else
      metrics_print (m, csv);
    rc = MM_EXIT_OK;
  }
out:
  g_free (truth_dir);
  g_free (pred_dir);
  g_free (csv);
  g_strfreev (rest);
  return rc;
}
