/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Series figures as JSON and text. */
#include "mm-info.h"
#include "mm-json.h"
#include "mm-text.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

/* member: [x, y], or null when there is no such pair. */
static void
set_pair_or_null (JsonBuilder *b, const char *member, bool present, double x, double y)
{
  json_builder_set_member_name (b, member);
  if (!present)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_array (b);
  json_builder_add_double_value (b, x);
  json_builder_add_double_value (b, y);
  json_builder_end_array (b);
}

void
mm_info_build_json (JsonBuilder *b, const MmVolume *vol, const MmStats *st)
{
  double centre[3], ras[3], first[3], last[3];
  mm_volume_centre_lps (vol, centre);
  mm_lps_to_ras (centre, ras);
  mm_volume_index_to_lps (vol, 0, 0, 0, first);
  mm_volume_index_to_lps (vol, vol->dims[0] - 1, vol->dims[1] - 1, vol->dims[2] - 1, last);

  /* Strings from the file, printable: JSON escapes control characters, but a reader that
   * prints the value would pass an escape sequence on to its terminal. */
  g_autofree char *uid = mm_text_printable (vol->series_uid);
  g_autofree char *study = mm_text_printable (vol->study_uid);
  g_autofree char *desc = mm_text_printable (vol->series_description);
  g_autofree char *modality = mm_text_printable (vol->modality);
  g_autofree char *frame = mm_text_printable (vol->frame_of_reference_uid);
  mm_json_set_string (b, "series_uid", uid);
  mm_json_set_string (b, "study_uid", study);
  mm_json_set_string (b, "series_description", desc);
  mm_json_set_string (b, "modality", modality);
  mm_json_set_string (b, "frame_of_reference_uid", frame);
  mm_json_set_string (b, "unit", mm_volume_unit (vol));
  mm_json_set_string (b, "not_a_ct_volume", vol->not_acquired);
  mm_json_set_ints (b, "dims", vol->dims, 3);
  mm_json_set_doubles (b, "spacing_mm", vol->spacing, 3);
  double gaps[2] = { vol->slice_gap_min, vol->slice_gap_max };
  mm_json_set_doubles (b, "slice_gap_min_max_mm", gaps, 2);
  mm_json_set_doubles (b, "orientation_row", vol->direction, 3);
  mm_json_set_doubles (b, "orientation_column", vol->direction + 3, 3);
  mm_json_set_doubles (b, "orientation_normal", vol->direction + 6, 3);
  mm_json_set_string (b, "orientation", mm_volume_orientation_name (vol));
  mm_json_set_doubles (b, "first_voxel_lps_mm", first, 3);
  mm_json_set_doubles (b, "last_voxel_lps_mm", last, 3);
  mm_json_set_doubles (b, "centre_lps_mm", centre, 3);
  mm_json_set_doubles (b, "centre_ras_mm", ras, 3);
  mm_json_set_string (b, "voxel_type", vol->type == MM_VOXEL_INT16 ? "int16" : "float32");
  double rescale[2] = { vol->rescale_slope, vol->rescale_intercept };
  mm_json_set_doubles (b, "rescale_slope_intercept", rescale, 2);
  set_pair_or_null (b, "window_center_width", vol->has_window, vol->window_center,
                    vol->window_width);

  mm_json_set_double (b, "max", st->max);
  mm_json_set_double (b, "min", st->min);
  mm_json_set_double (b, "mean", st->mean);
  /* null when every voxel is padding */
  json_builder_set_member_name (b, "mean_without_padding");
  if (isnan (st->mean_without_padding))
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, st->mean_without_padding);
  json_builder_set_member_name (b, "padding_value");
  if (st->padding_source != MM_PADDING_NONE)
    json_builder_add_double_value (b, st->padding_value);
  else
    json_builder_add_null_value (b);
  set_pair_or_null (b, "padding_range", st->padding_source != MM_PADDING_NONE, st->padding_lo,
                    st->padding_hi);
  mm_json_set_string (b, "padding_source", mm_padding_source_name (st->padding_source));
  mm_json_set_int (b, "padding_voxels", (gint64) st->n_padding);
  mm_json_set_int (b, "voxels", (gint64) st->n_voxels);
}

static void
info_row_free (gpointer p)
{
  MmInfoRow *row = p;
  g_free (row->value);
  g_free (row);
}

static void
add_row (GPtrArray *rows, const char *label, char *value)
{
  MmInfoRow *row = g_new (MmInfoRow, 1);
  row->label = label;
  row->value = value;
  g_ptr_array_add (rows, row);
}

GPtrArray *
mm_info_rows (const MmVolume *vol, const MmStats *st)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func (info_row_free);
  double c[3], r[3];
  mm_volume_centre_lps (vol, c);
  mm_lps_to_ras (c, r);
  const double *d = vol->direction;

  const char *unit = mm_volume_unit (vol);
  add_row (rows, _("Series"),
           vol->series_uid ? mm_text_printable (vol->series_uid) : g_strdup (_("(none)")));
  add_row (rows, _("Description"), vol->series_description
                                       ? mm_text_printable (vol->series_description)
                                       : g_strdup (_("(none)")));
  add_row (rows, _("Modality"),
           vol->modality ? mm_text_printable (vol->modality) : g_strdup (_("(not given)")));
  if (vol->not_acquired)
    add_row (rows, _("Image"), g_strdup_printf (_("%s: not a CT volume"), vol->not_acquired));
  if (mm_volume_is_hu (vol))
    add_row (rows, _("Values"), g_strdup (_("HU (Hounsfield units)")));
  else if (strcmp (unit, "stored values") == 0)
    add_row (rows, _("Values"),
             g_strdup (_("stored values (not CT, no Rescale Type (0028,1054)): not HU")));
  else
    add_row (rows, _("Values"),
             g_strdup_printf (_("%s (Rescale Type (0028,1054)): not HU"), unit));
  add_row (rows, _("Dimensions"),
           g_strdup_printf (_("%d x %d x %d (columns x rows x slices)"), vol->dims[0],
                            vol->dims[1], vol->dims[2]));
  add_row (rows, _("Pixel spacing"),
           g_strdup_printf (_("%.4f x %.4f mm (column, row)"), vol->spacing[0], vol->spacing[1]));
  if (vol->dims[2] > 1)
    add_row (rows, _("Slice spacing"),
             g_strdup_printf (_("%.4f mm from positions (gaps %.4f .. %.4f mm)"),
                              vol->spacing[2], vol->slice_gap_min, vol->slice_gap_max));
  add_row (rows, _("Orientation"),
           g_strdup_printf (_("%s: row (%.4f, %.4f, %.4f), column (%.4f, %.4f, %.4f)"),
                            mm_volume_orientation_name (vol), d[0], d[1], d[2], d[3], d[4],
                            d[5]));
  add_row (rows, _("Maximum"), g_strdup_printf (_("%.2f %s"), st->max, unit));
  add_row (rows, _("Minimum"), g_strdup_printf (_("%.2f %s"), st->min, unit));
  add_row (rows, _("Mean"), g_strdup_printf (_("%.4f %s"), st->mean, unit));
  g_autofree char *mean_wo = isnan (st->mean_without_padding)
                                 ? g_strdup (_("n/a (every voxel is padding)"))
                                 : g_strdup_printf (_("%.4f %s"), st->mean_without_padding, unit);
  switch (st->padding_source)
    {
    case MM_PADDING_NONE:
      add_row (rows, _("Mean w/o padding"),
               g_strdup_printf (_("%s (no padding found)"), mean_wo));
      break;
    case MM_PADDING_TAG:
      if (st->padding_lo != st->padding_hi)
        add_row (rows, _("Mean w/o padding"),
                 g_strdup_printf (_("%s (padding %.0f to %.0f %s from Pixel Padding Value and "
                                    "Range Limit, %llu voxels)"),
                                  mean_wo, st->padding_lo, st->padding_hi, unit,
                                  (unsigned long long) st->n_padding));
      else
        add_row (rows, _("Mean w/o padding"),
                 g_strdup_printf (_("%s (padding %.0f %s from Pixel Padding Value, %llu "
                                    "voxels)"),
                                  mean_wo, st->padding_value, unit,
                                  (unsigned long long) st->n_padding));
      break;
    case MM_PADDING_DETECTED:
      add_row (rows, _("Mean w/o padding"),
               g_strdup_printf (_("%s (padding %.0f %s detected outside the reconstruction "
                                  "circle, %llu voxels)"),
                                mean_wo, st->padding_value, unit,
                                (unsigned long long) st->n_padding));
      break;
    }
  add_row (rows, _("Centre (LPS)"), g_strdup_printf (_("%.3f, %.3f, %.3f mm"), c[0], c[1], c[2]));
  add_row (rows, _("Centre (RAS)"), g_strdup_printf (_("%.3f, %.3f, %.3f mm"), r[0], r[1], r[2]));
  return rows;
}

char *
mm_info_format_text (const MmVolume *vol, const MmStats *st)
{
  g_autoptr (GPtrArray) rows = mm_info_rows (vol, st);
  GString *s = g_string_new (NULL);
  for (guint n = 0; n < rows->len; n++)
    {
      const MmInfoRow *row = rows->pdata[n];
      g_string_append_printf (s, "%-17s %s\n", row->label, row->value);
    }
  return g_string_free (s, FALSE);
}
