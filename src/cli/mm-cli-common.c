/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli: option parsing, loading with warnings, error and JSON printing. */
#include "mm-cli.h"
#include "mm-json.h"
#include "mm-text.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <stdio.h>
#include <string.h>

void
mm_cli_error (const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "metalmark-cli: %s\n", msg);
}

typedef struct
{
  const GOptionEntry *entries; /* the command's, pointing at its variables */
  const MmCliRange *ranges;
} ParseState;

static bool
is_numeric (GOptionArg arg)
{
  return arg == G_OPTION_ARG_INT || arg == G_OPTION_ARG_INT64 || arg == G_OPTION_ARG_DOUBLE;
}

static const MmCliRange *
find_range (const MmCliRange *ranges, const char *long_name)
{
  for (const MmCliRange *r = ranges; r && r->option; r++)
    if (strcmp (r->option, long_name) == 0)
      return r;
  return NULL;
}

/* GLib names the option as given: "--batch" or "-b". */
static const GOptionEntry *
find_entry (const GOptionEntry *entries, const char *option_name)
{
  for (const GOptionEntry *e = entries; e->long_name; e++)
    if ((g_str_has_prefix (option_name, "--") && strcmp (option_name + 2, e->long_name) == 0)
        || (e->short_name && option_name[0] == '-' && option_name[1] == e->short_name
            && option_name[2] == '\0'))
      return e;
  return NULL;
}

static char *
range_text (const GOptionEntry *e, const MmCliRange *r)
{
  if (e->arg == G_OPTION_ARG_DOUBLE)
    return g_strdup_printf ("%g to %g", r->min, r->max);
  /* (double) G_MAXINT64 is 2^63, one more than the largest int64. */
  gint64 lo = r->min <= (double) G_MININT64 ? G_MININT64 : (gint64) r->min;
  gint64 hi = r->max >= (double) G_MAXINT64 ? G_MAXINT64 : (gint64) r->max;
  return g_strdup_printf ("%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, lo, hi);
}

/* Every numeric option is parsed here rather than by GLib: strictly (the whole text, a
 * finite number) and against its range, before the command sees it. */
static gboolean
numeric_cb (const char *option_name, const char *value, gpointer data, GError **error)
{
  const ParseState *st = data;
  const GOptionEntry *e = find_entry (st->entries, option_name);
  const MmCliRange *r = e ? find_range (st->ranges, e->long_name) : NULL;
  if (r == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "%s: no range (a bug)",
                   option_name);
      return FALSE;
    }
  g_autofree char *range = range_text (e, r);
  double v;
  gint64 i = 0;
  if (e->arg == G_OPTION_ARG_DOUBLE)
    {
      char *end = NULL;
      v = g_ascii_strtod (value, &end);
      if (end == value || *end != '\0' || !isfinite (v))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--%s '%s' is not a number; it must be from %s", e->long_name, value,
                       range);
          return FALSE;
        }
    }
  else
    {
      g_autoptr (GError) perr = NULL;
      if (!g_ascii_string_to_signed (value, 10, G_MININT64, G_MAXINT64, &i, &perr))
        {
          bool too_big = g_error_matches (perr, G_NUMBER_PARSER_ERROR,
                                          G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS);
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--%s '%s' %s; it must be from %s", e->long_name, value,
                       too_big ? "is out of range" : "is not a whole number", range);
          return FALSE;
        }
      v = (double) i;
    }
  if (!(v >= r->min && v <= r->max))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--%s %s is out of range; it must be from %s", e->long_name, value, range);
      return FALSE;
    }
  if (e->arg == G_OPTION_ARG_DOUBLE)
    *(double *) e->arg_data = v;
  else if (e->arg == G_OPTION_ARG_INT64)
    *(gint64 *) e->arg_data = i;
  else
    *(int *) e->arg_data = (int) i; /* within the range, which fits an int */
  return TRUE;
}

bool
mm_cli_parse (const char *command, const char *params, const char *summary,
              GOptionEntry *entries, const MmCliRange *ranges, int *argc, char ***argv)
{
  g_autofree char *title = g_strdup_printf ("%s %s", command, params);
  g_autoptr (GOptionContext) ctx = g_option_context_new (title);
  g_option_context_set_summary (ctx, summary);

  /* A copy of the entries in which numeric options go through numeric_cb; their help
   * gives the range. */
  size_t n = 0;
  while (entries[n].long_name)
    n++;
  g_autofree GOptionEntry *copy = g_new0 (GOptionEntry, n + 1);
  g_autoptr (GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  for (size_t k = 0; k < n; k++)
    {
      copy[k] = entries[k];
      if (!is_numeric (entries[k].arg))
        continue;
      const MmCliRange *r = find_range (ranges, entries[k].long_name);
      if (r == NULL || !(r->min <= r->max) || (entries[k].arg == G_OPTION_ARG_INT
                                                && (r->min < G_MININT || r->max > G_MAXINT)))
        {
          g_critical ("%s --%s: no range, or one an int cannot hold", command,
                      entries[k].long_name);
          return false;
        }
      g_autofree char *range = range_text (&entries[k], r);
      char *help = g_strdup_printf ("%s; %s", entries[k].description, range);
      g_ptr_array_add (texts, help);
      copy[k].arg = G_OPTION_ARG_CALLBACK;
      copy[k].arg_data = (gpointer) numeric_cb;
      copy[k].description = help;
    }
  ParseState st = { entries, ranges };
  GOptionGroup *group = g_option_group_new (command, summary, command, &st, NULL);
  g_option_group_add_entries (group, copy);
  g_option_context_set_main_group (ctx, group);

  g_autoptr (GError) err = NULL;
  bool ok = g_option_context_parse (ctx, argc, argv, &err);
  if (!ok)
    {
      mm_cli_error ("%s: %s", command, err->message);
      return false;
    }
  return true;
}

MmVolume *
mm_cli_load (char **paths, const char *series_uid, int n_threads, MmDicomReport **report_out)
{
  MmDicomLoadOptions opts;
  mm_dicom_load_options_init (&opts);
  opts.series_uid = series_uid;
  opts.n_threads = n_threads;
  return mm_cli_load_with (paths, &opts, report_out, NULL);
}

MmVolume *
mm_cli_load_with (char **paths, const MmDicomLoadOptions *opts, MmDicomReport **report_out,
                  bool *cannot_stream)
{
  MmDicomReport *report = mm_dicom_report_new ();
  g_autoptr (GError) err = NULL;
  MmVolume *vol = mm_dicom_load ((const char *const *) paths, g_strv_length (paths), opts,
                                 report, &err);
  if (cannot_stream)
    *cannot_stream = g_error_matches (err, MM_DICOM_ERROR, MM_DICOM_ERROR_STREAM);
  if (cannot_stream && *cannot_stream)
    {
      /* Not an error of the input: the caller loads it again without streaming. */
      mm_dicom_report_free (report);
      if (report_out)
        *report_out = NULL;
      return NULL;
    }
  /* Warnings quote file names and DICOM values: printable only, so a Series Description
   * cannot send escape sequences to the terminal. */
  for (guint w = 0; w < report->warnings->len; w++)
    {
      g_autofree char *line = mm_text_printable (report->warnings->pdata[w]);
      fprintf (stderr, "metalmark-cli: warning: %s\n", line);
    }
  if (vol && report->chosen_reason)
    {
      g_autofree char *reason = mm_text_printable (report->chosen_reason);
      fprintf (stderr, "metalmark-cli: %s\n", reason);
      for (guint s = 0; s < report->series->len; s++)
        {
          MmDicomSeriesInfo *info = report->series->pdata[s];
          if (g_strcmp0 (info->uid, report->chosen_uid) == 0)
            continue;
          g_autofree char *uid = mm_text_printable (info->uid[0] ? info->uid
                                                                 : "(no Series Instance UID)");
          g_autofree char *modality = mm_text_printable (info->modality ? info->modality
                                                                        : "no modality");
          g_autofree char *desc = mm_text_printable (info->description);
          g_autofree char *why = mm_text_printable (info->split_reason);
          fprintf (stderr, "metalmark-cli:   also found %s: %s, %u file%s%s%s (%s; --series to "
                   "pick it)\n",
                   uid, modality, info->n_files, info->n_files == 1 ? "" : "s",
                   desc ? ", " : "", desc ? desc : "", why ? why : "a series of its own");
        }
    }
  if (vol == NULL)
    {
      g_autofree char *msg = mm_text_printable (err->message);
      mm_cli_error ("%s", msg);
    }
  if (report_out)
    *report_out = report;
  else
    mm_dicom_report_free (report);
  return vol;
}

bool
mm_cli_metal_rule_applies (const char *command, const MmVolume *vol, bool force)
{
  g_autofree char *uid = mm_text_printable (vol->series_uid ? vol->series_uid : "");
  g_autofree char *why = NULL;
  if (!mm_volume_is_hu (vol))
    why = g_strdup_printf ("the values of series %s are %s, not HU", uid, mm_volume_unit (vol));
  else if (vol->not_acquired)
    why = g_strdup_printf ("series %s is %s, not a CT volume", uid, vol->not_acquired);
  if (why == NULL)
    return true;
  if (force)
    {
      fprintf (stderr, "metalmark-cli: warning: %s; going ahead (--force): metal is looked "
               "for in these values as if they were HU\n", why);
      return true;
    }
  mm_cli_error ("%s: %s: finding metal assumes HU from a CT acquisition; --force to go "
                "ahead anyway", command, why);
  return false;
}

void
mm_cli_print_json (JsonNode *node)
{
  guint n_nonfinite = 0;
  g_autofree char *text = mm_json_to_data (node, TRUE, NULL, &n_nonfinite);
  printf ("%s\n", text);
  if (n_nonfinite)
    fprintf (stderr, "metalmark-cli: warning: %u figure%s not finite (NaN or infinite), "
             "printed as null\n", n_nonfinite, n_nonfinite == 1 ? " is" : "s are");
}
