/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli: option parsing, loading with warnings, error and JSON printing. */
#include "mm-cli.h"
#include "mm-json.h"
#include "mm-text.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <stdio.h>

void
mm_cli_error (const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "metalmark-cli: %s\n", msg);
}

bool
mm_cli_parse (const char *command, const char *params, const char *summary,
              GOptionEntry *entries, int *argc, char ***argv)
{
  g_autofree char *title = g_strdup_printf ("%s %s", command, params);
  g_autoptr (GOptionContext) ctx = g_option_context_new (title);
  g_option_context_set_summary (ctx, summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  /* Every number option must be finite: "--threshold nan" would reach the manifest and the
   * figures. GOption cannot say whether an option was given, and some defaults are NaN
   * ("unset"), so each double holds a NaN with its own payload during parsing: still that
   * payload afterwards means not given (the default goes back), anything else not finite
   * is a usage error. */
  const guint64 unset_bits = 0x7ff80000000005ecull;
  double unset;
  memcpy (&unset, &unset_bits, sizeof unset);
  guint n = 0;
  while (entries[n].long_name)
    n++;
  g_autofree double *defaults = g_new0 (double, n + 1);
  for (guint e = 0; e < n; e++)
    if (entries[e].arg == G_OPTION_ARG_DOUBLE)
      {
        defaults[e] = *(double *) entries[e].arg_data;
        *(double *) entries[e].arg_data = unset;
      }
  g_autoptr (GError) err = NULL;
  bool ok = g_option_context_parse (ctx, argc, argv, &err);
  const char *bad = NULL;
  for (guint e = 0; e < n; e++)
    if (entries[e].arg == G_OPTION_ARG_DOUBLE)
      {
        double *v = entries[e].arg_data;
        if (memcmp (v, &unset_bits, sizeof *v) == 0)
          *v = defaults[e];
        else if (!isfinite (*v) && bad == NULL)
          bad = entries[e].long_name;
      }
  if (!ok)
    {
      mm_cli_error ("%s: %s", command, err->message);
      return false;
    }
  if (bad)
    {
      mm_cli_error ("%s: --%s must be a finite number", command, bad);
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
          fprintf (stderr, "metalmark-cli:   also found %s: %s, %u file%s%s%s (--series to pick it)\n",
                   uid, modality, info->n_files, info->n_files == 1 ? "" : "s",
                   desc ? ", " : "", desc ? desc : "");
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
