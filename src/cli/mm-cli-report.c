/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli report: every status.json under a batch output root in one table (CSV and
 * JSON), Dice against truth label stacks when given, and the failures listed. */
#include "mm-cli.h"
#include "mm-json.h"

#include "mm-atomic.h"
#include "mm-batch.h"
#include "mm-text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const columns[] = {
  "folder", "series_uid", "command", "state", "reason", "files", "slices", "metal_voxels",
  "volume_ml", "components", "total_s", "read_s", "segment_s", "write_s", "dice", "host",
  "finished_utc", NULL,
};

static void
csv_field (GString *s, const char *v)
{
  if (v == NULL)
    return;
  if (strpbrk (v, ",\"\n\r") == NULL)
    {
      g_string_append (s, v);
      return;
    }
  g_string_append_c (s, '"');
  for (const char *c = v; *c; c++)
    {
      if (*c == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *c);
    }
  g_string_append_c (s, '"');
}

static char *
number_text (JsonObject *o, const char *member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;
  if (n == NULL || JSON_NODE_TYPE (n) != JSON_NODE_VALUE)
    return NULL;
  GType t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
  if (t == G_TYPE_DOUBLE)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g", json_node_get_double (n)));
    }
  if (t == G_TYPE_STRING)
    return mm_text_printable (json_node_get_string (n));
  return NULL;
}

static JsonObject *
object_member (JsonObject *o, const char *member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* Dice of ROOT/folder/labels against truth/folder, by 'metalmark-cli eval' in a child. */
static char *
dice_of (const char *self, const char *truth, const char *root, const char *folder)
{
  g_autofree char *t = g_build_filename (truth, folder, NULL);
  g_autofree char *p = g_build_filename (root, folder, "labels", NULL);
  if (!g_file_test (t, G_FILE_TEST_IS_DIR) || !g_file_test (p, G_FILE_TEST_IS_DIR))
    return NULL;
  const char *argv[] = { self, "eval", "--json", "--truth", t, "--pred", p, NULL };
  g_autofree char *out = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                     NULL, &status, NULL)
      || !g_spawn_check_wait_status (status, NULL))
    return NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = mm_json_parse_object (parser, out);
  return number_text (o, "dice");
}

int
mm_cli_report (int argc, char **argv)
{
  char *csv = NULL, *json = NULL, *truth = NULL;
  char **rest = NULL;
  GOptionEntry entries[] = {
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Write the table as CSV here (default: stdout)",
      "FILE" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write the table as JSON here", "FILE" },
    { "truth", 0, 0, G_OPTION_ARG_FILENAME, &truth,
      "Truth label stacks, TRUTH/<series folder>/: adds Dice (segment)", "DIR" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, "ROOT" },
    { NULL },
  };
  const MmCliRange ranges[] = { { NULL } };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("report", "ROOT [--csv FILE] [--json FILE] [--truth DIR]",
                     "One row per series folder of a batch output root (its status.json); "
                     "the failures are listed on stderr.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (rest == NULL || rest[0] == NULL || rest[1] != NULL)
    {
      mm_cli_error ("report: one ROOT is required; try 'metalmark-cli report --help'");
      goto out;
    }
  do
    {
      const char *root = rest[0];
      g_autoptr (GError) err = NULL;
      g_autoptr (GPtrArray) names = mm_batch_list (root, &err);
      if (names == NULL)
        {
          mm_cli_error ("report: %s", err->message);
          rc = MM_EXIT_INPUT;
          break;
        }
      g_autofree char *self = truth ? g_file_read_link ("/proc/self/exe", NULL) : NULL;
      g_autoptr (GString) table = g_string_new (NULL);
      for (const char *const *c = columns; *c; c++)
        g_string_append_printf (table, "%s%s", c == columns ? "" : ",", *c);
      g_string_append_c (table, '\n');
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "series");
      json_builder_begin_array (b);
      guint n_done = 0, n_failed = 0, n_bad = 0;
      g_autoptr (GString) failures = g_string_new (NULL);
      for (guint i = 0; i < names->len; i++)
        {
          const char *folder = names->pdata[i];
          g_autofree char *path = g_build_filename (root, folder, MM_BATCH_STATUS_FILE, NULL);
          g_autoptr (JsonParser) parser = json_parser_new ();
          g_autoptr (GError) perr = NULL;
          if (!mm_json_load_file (parser, path, "batch status", &perr)
              || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
            {
              fprintf (stderr, "metalmark-cli: report: %s: %s\n", path,
                       perr ? perr->message : "not a JSON object");
              n_bad++;
              continue;
            }
          JsonObject *o = json_node_get_object (json_parser_get_root (parser));
          JsonObject *res = object_member (o, "result");
          JsonObject *tim = object_member (o, "timings_s");
          g_autofree char *dice = truth ? dice_of (self, truth, root, folder) : NULL;
          char *values[G_N_ELEMENTS (columns)] = { 0 };
          values[0] = g_strdup (folder);
          values[1] = number_text (o, "series_uid");
          values[2] = number_text (o, "command");
          values[3] = number_text (o, "state");
          values[4] = number_text (o, "reason");
          values[5] = number_text (o, "files");
          values[6] = number_text (res, "slices");
          values[7] = number_text (res, "metal_voxels");
          values[8] = number_text (res, "volume_ml");
          values[9] = number_text (res, "components");
          values[10] = number_text (tim, "total");
          values[11] = number_text (tim, "read");
          values[12] = number_text (tim, "segment");
          values[13] = number_text (tim, "write");
          values[14] = g_strdup (dice);
          values[15] = number_text (o, "host");
          values[16] = number_text (o, "finished_utc");
          json_builder_begin_object (b);
          for (guint c = 0; columns[c]; c++)
            {
              g_string_append (table, c ? "," : "");
              csv_field (table, values[c]);
              json_builder_set_member_name (b, columns[c]);
              char *end = NULL;
              double d = values[c] && c >= 5 && c <= 14 ? g_ascii_strtod (values[c], &end) : NAN;
              if (values[c] == NULL)
                json_builder_add_null_value (b);
              else if (end && *end == '\0' && isfinite (d))
                json_builder_add_double_value (b, d);
              else
                json_builder_add_string_value (b, values[c]);
            }
          json_builder_end_object (b);
          g_string_append_c (table, '\n');
          if (g_strcmp0 (values[3], "done") == 0)
            n_done++;
          else
            {
              n_failed++;
              g_string_append_printf (failures, "metalmark-cli: report: failed: %s: %s\n", folder,
                                      values[4] ? values[4] : "(no reason)");
            }
          for (guint c = 0; columns[c]; c++)
            g_free (values[c]);
        }
      json_builder_end_array (b);
      mm_json_set_int (b, "done", n_done);
      mm_json_set_int (b, "failed", n_failed);
      mm_json_set_int (b, "unreadable", n_bad);
      json_builder_end_object (b);
      rc = MM_EXIT_OK;
      if (csv == NULL && json == NULL)
        fputs (table->str, stdout);
      if (csv && !mm_atomic_write (csv, table->str, table->len, true, &err))
        {
          mm_cli_error ("report: %s", err->message);
          rc = MM_EXIT_OUTPUT;
        }
      g_clear_error (&err);
      if (json)
        {
          g_autoptr (JsonNode) node = json_builder_get_root (b);
          gsize len = 0;
          g_autofree char *text = mm_json_to_data (node, TRUE, &len, NULL);
          if (!mm_atomic_write (json, text, len, true, &err))
            {
              mm_cli_error ("report: %s", err->message);
              rc = MM_EXIT_OUTPUT;
            }
        }
      fputs (failures->str, stderr);
      fprintf (stderr, "metalmark-cli: report: %u series: %u done, %u failed%s\n", names->len,
               n_done, n_failed, n_bad ? ", some status.json unreadable" : "");
    }
  while (0);
out:
  g_free (csv);
  g_free (json);
  g_free (truth);
  g_strfreev (rest);
  return rc;
}
