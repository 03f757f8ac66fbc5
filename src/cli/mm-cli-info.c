/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli info: the numbers of a series. */
#include "mm-cli.h"
#include "mm-json.h"

#include "mm-info.h"
#include "mm-figures.h"
#include "mm-text.h"

#include <omp.h>
#include <stdio.h>

static void
figures_slice_cb (int k, const int16_t *hu, const int dims[3], gpointer data)
{
  mm_figures_builder_add_slice (data, k, hu, dims);
}

static void
figures_float_slice_cb (int k, const float *hu, const int dims[3], gpointer data)
{
  mm_figures_builder_add_float_slice (data, k, hu, dims);
}

/* The series streamed: each slice's figures are taken as it is decoded, so the volume is
 * never held (no buffer the size of the series to allocate, fault in and zero, and no second
 * read of it). A series that cannot be streamed (values beyond int16, a damaged slice) or whose
 * padding cannot be counted from the slices' figures is loaded the ordinary way. */
static MmVolume *
load_with_figures (char **paths, const char *series, int threads, MmDicomReport **report,
                   MmStats **st)
{
  g_autoptr (MmFiguresBuilder) fb = mm_figures_builder_new ();
  MmDicomLoadOptions opts;
  mm_dicom_load_options_init (&opts);
  opts.series_uid = series;
  opts.n_threads = threads;
  opts.slice_func = figures_slice_cb;
  opts.slice_float_func = figures_float_slice_cb;
  opts.slice_data = fb;
  bool cannot_stream = false;
  MmVolume *vol = mm_cli_load_with (paths, &opts, report, &cannot_stream);
  if (vol)
    {
      *st = mm_figures_builder_finish (fb, vol);
      if (*st)
        return vol;
      /* Warnings were printed by the streamed load: the reload's report is not shown. */
      g_clear_pointer (&vol, mm_volume_free);
      MmDicomLoadOptions plain;
      mm_dicom_load_options_init (&plain);
      plain.series_uid = series;
      plain.n_threads = threads;
      g_autoptr (MmDicomReport) again = mm_dicom_report_new ();
      g_autoptr (GError) err = NULL;
      vol = mm_dicom_load ((const char *const *) paths, g_strv_length (paths), &plain, again,
                           &err);
      if (vol == NULL)
        {
          g_autofree char *msg = mm_text_printable (err->message);
          mm_cli_error ("%s", msg);
          return NULL;
        }
    }
  else if (cannot_stream)
    vol = mm_cli_load (paths, series, threads, report);
  /* A static split over the volume: a thread more than the cores would leave one core two
   * shares (the default's extra thread is for the reader, which hands out slices one by one). */
  if (vol)
    *st = mm_figures_compute (vol, MAX (1, MIN (threads, omp_get_num_procs ())));
  return vol;
}

/* Threads when --threads is not given: one more than the cores. libgomp's threads spin
 * up to 300 000 times (GOMP_SPINCOUNT) whenever they wait, during and after each parallel
 * region, unless there are more threads than CPUs: then 1000 (documented in libgomp's
 * manual). The variable is read before main, so oversubscribing by one is the way to turn
 * the spinning off from here; the reader hands the slices out one by one, so the extra
 * thread costs nothing in balance (the figures of a volume read whole use the cores only).
 * Measured under load 9-10 (docs/cli-speed.md): a 200-slice series 88.8 ms of CPU with 2
 * threads, 75.8 with 3, wall 0.179 -> 0.160 s; one slice 20.1 -> 11.8 ms. A user's OMP_NUM_THREADS, OMP_WAIT_POLICY or GOMP_SPINCOUNT is kept. */
static int
default_threads (void)
{
  int n = omp_get_max_threads ();
  if (n <= 1 || n >= MM_LIMIT_THREADS || g_getenv ("OMP_NUM_THREADS") != NULL
      || g_getenv ("OMP_WAIT_POLICY") != NULL || g_getenv ("GOMP_SPINCOUNT") != NULL)
    return n;
  return n + 1;
}

int
mm_cli_info (int argc, char **argv)
{
  char *series = NULL;
  gboolean json = FALSE;
  int threads = 0;
  char **paths = NULL;
  GOptionEntry entries[] = {
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID to read", "UID" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "Threads (default: one more than the cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..." },
    { NULL },
  };
  const MmCliRange ranges[] = { MM_CLI_THREADS_RANGE, { NULL } };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("info", "PATH...",
                     "PATH is a folder (searched recursively), a DICOMDIR or DICOM files.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (paths == NULL || paths[0] == NULL)
    {
      mm_cli_error ("info: no PATH given; try 'metalmark-cli info --help'");
      goto out;
    }
  if (threads == 0)
    threads = default_threads ();

  {
    MmDicomReport *report = NULL;
    MmStats *figures = NULL;
    g_autoptr (MmVolume) vol = load_with_figures (paths, series, threads, &report, &figures);
    g_autoptr (MmStats) st = figures;
    if (vol == NULL)
      {
        mm_dicom_report_free (report);
        rc = MM_EXIT_INPUT;
        goto out;
      }
    if (json)
      {
        g_autoptr (JsonBuilder) b = json_builder_new ();
        json_builder_begin_object (b);
        mm_info_build_json (b, vol, st);
        mm_json_set_int (b, "files_found", report->files_found);
        mm_json_set_int (b, "files_read", report->files_read);
        mm_json_set_int (b, "files_skipped", report->files_skipped);
        json_builder_set_member_name (b, "warnings");
        json_builder_begin_array (b);
        for (guint w = 0; w < report->warnings->len; w++)
          {
            g_autofree char *line = mm_text_printable (report->warnings->pdata[w]);
            json_builder_add_string_value (b, line);
          }
        json_builder_end_array (b);
        json_builder_set_member_name (b, "series_found");
        json_builder_begin_array (b);
        for (guint s = 0; s < report->series->len; s++)
          {
            MmDicomSeriesInfo *info = report->series->pdata[s];
            json_builder_begin_object (b);
            g_autofree char *uid = mm_text_printable (info->uid);
            g_autofree char *modality = mm_text_printable (info->modality);
            g_autofree char *desc = mm_text_printable (info->description);
            mm_json_set_string (b, "uid", uid);
            mm_json_set_string (b, "modality", modality);
            mm_json_set_bool (b, "is_ct", info->is_ct);
            mm_json_set_string (b, "description", desc);
            mm_json_set_int (b, "files", info->n_files);
            g_autofree char *why = mm_text_printable (info->split_reason);
            mm_json_set_string (b, "split_reason", why);
            json_builder_end_object (b);
          }
        json_builder_end_array (b);
        json_builder_end_object (b);
        g_autoptr (JsonNode) root = json_builder_get_root (b);
        mm_cli_print_json (root);
      }
    else
      {
        g_autofree char *text = mm_info_format_text (vol, st);
        fputs (text, stdout);
        printf ("%-17s %u read, %u skipped\n", "Files", report->files_read,
                report->files_skipped);
      }
    mm_dicom_report_free (report);
    rc = MM_EXIT_OK;
  }
out:
  g_free (series);
  g_strfreev (paths);
  return rc;
}
