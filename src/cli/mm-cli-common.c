/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli: option parsing, loading with warnings, error and JSON printing. */
#include "mm-cli.h"
#include "mm-json.h"

#include <stdarg.h>
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
  g_autoptr (GError) err = NULL;
  if (!g_option_context_parse (ctx, argc, argv, &err))
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
  for (guint w = 0; w < report->warnings->len; w++)
    fprintf (stderr, "metalmark-cli: warning: %s\n", (char *) report->warnings->pdata[w]);
  if (vol && report->chosen_reason)
    {
      fprintf (stderr, "metalmark-cli: %s\n", report->chosen_reason);
      for (guint s = 0; s < report->series->len; s++)
        {
          MmDicomSeriesInfo *info = report->series->pdata[s];
          if (g_strcmp0 (info->uid, report->chosen_uid) == 0)
            continue;
          fprintf (stderr, "metalmark-cli:   also found %s: %s, %u file%s%s%s (--series to pick it)\n",
                   info->uid[0] ? info->uid : "(no Series Instance UID)",
                   info->modality ? info->modality : "no modality", info->n_files,
                   info->n_files == 1 ? "" : "s", info->description ? ", " : "",
                   info->description ? info->description : "");
        }
    }
  if (vol == NULL)
    mm_cli_error ("%s", err->message);
  if (report_out)
    *report_out = report;
  else
    mm_dicom_report_free (report);
  return vol;
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
