/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli batch: one command over every series of an archive (or of a list), each
 * series in its own folder under the output root with a status.json; this process does only
 * its shard. Each series runs as a child process of this same program, so a series that
 * crashes the reader costs that series only (it is reported failed, the shard goes on), the
 * memory of one series is returned before the next, and the outputs are those of the plain
 * command byte for byte. The bookkeeping (names, shards, status, atomic publication) is in
 * src/core/mm-batch.c. */
#include "mm-cli.h"
#include "mm-json.h"

#include "mm-atomic.h"
#include "mm-batch.h"
#ifdef MM_CLI_NN
#include "mm-cli-batch-predict.h"
#endif
#include "mm-text.h"

#include <stdio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define LIST_MAX_BYTES (64 << 20)
#define STDERR_LINES_KEPT 40

typedef enum
{
  RUN_INDEX,
  RUN_INFO,
  RUN_SEGMENT,
  RUN_EXPORT,
  RUN_PREDICT,
} RunKind;

static const struct
{
  const char *name;
  RunKind kind;
} batch_commands[] = {
  { "index", RUN_INDEX },
  { "info", RUN_INFO },
  { "segment", RUN_SEGMENT },
  { "export", RUN_EXPORT },
  { "predict", RUN_PREDICT },
};

/* Options batch sets itself for each series: given by the user they would send outputs
 * outside the series folder or change what batch reads back. */
static const char *const reserved[] = {
  "--out", "-o", "--series", "--json", "--nifti", "--png", "--seg", "--ct-nifti", "--mask",
  "--mask-nifti", "--threads", "--help", "-h", NULL,
};

static bool
option_is_reserved (const char *arg)
{
  for (const char *const *r = reserved; *r; r++)
    {
      size_t n = strlen (*r);
      if (strncmp (arg, *r, n) == 0 && (arg[n] == '\0' || arg[n] == '='))
        return true;
    }
  return false;
}

/* The paths of a list file: one a line, blank lines and lines starting with '#' ignored. */
static bool
read_list (const char *file, GPtrArray *paths)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  GStatBuf st;
  if (g_stat (file, &st) == 0 && st.st_size > LIST_MAX_BYTES)
    {
      mm_cli_error ("batch: %s: the list is larger than %d MB", file, LIST_MAX_BYTES >> 20);
      return false;
    }
  if (!g_file_get_contents (file, &text, &len, &err))
    {
      mm_cli_error ("batch: %s", err->message);
      return false;
    }
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      char *line = g_strstrip (*l);
      if (*line && *line != '#')
        g_ptr_array_add (paths, g_strdup (line));
    }
  return true;
}

static double
profile_seconds (const char *err_text, const char *const *stages)
{
  double sum = 0;
  g_auto (GStrv) lines = g_strsplit (err_text ? err_text : "", "\n", -1);
  for (char **l = lines; *l; l++)
    for (const char *const *s = stages; *s; s++)
      {
        g_autofree char *prefix = g_strdup_printf ("metalmark-cli: profile %s ", *s);
        g_autofree char *bare = g_strdup_printf ("profile %s ", *s);
        const char *p = g_str_has_prefix (*l, prefix) ? *l + strlen (prefix)
                        : g_str_has_prefix (*l, bare) ? *l + strlen (bare)
                                                      : NULL;
        if (p)
          sum += g_ascii_strtod (p, NULL);
      }
  return sum;
}

/* The last error line of a child's stderr, as the failure's reason: our own one-line error
 * ("metalmark-cli: ...") when there is one, else the last line that is not a warning (a
 * crash report, a sanitizer's or a library's message may follow ours). */
static char *
failure_reason (const char *err_text, int status)
{
  g_auto (GStrv) lines = g_strsplit (err_text ? err_text : "", "\n", -1);
  const char *last = NULL, *ours = NULL;
  for (char **l = lines; *l; l++)
    if (**l && strstr (*l, "profile ") == NULL && strstr (*l, "warning:") == NULL)
      {
        last = *l;
        if (g_str_has_prefix (*l, "metalmark-cli: "))
          ours = *l;
      }
  if (ours)
    last = ours;
  if (last)
    return mm_text_printable (g_str_has_prefix (last, "metalmark-cli: ")
                                ? last + strlen ("metalmark-cli: ")
                                : last);
  return g_strdup_printf ("the command ended without a message (wait status %d)", status);
}

typedef struct
{
  RunKind kind;
  const char *command;
  char **cmd_opts;
  char *self;
  int threads;
  char **env;
  const char *params_hash;
  const char *shard_text;
#ifdef MM_CLI_NN
  MmCliBatchPredict *predict; /* predict: the model, loaded once */
#endif
} Batch;

static void
add_strv (JsonBuilder *b, const char *member, char **v, guint max)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; v && v[i] && i < max; i++)
    {
      g_autofree char *s = mm_text_printable (v[i]);
      json_builder_add_string_value (b, s);
    }
  json_builder_end_array (b);
}

/* Run one series in work; true when done. The status is built in b. */
static bool
run_series (const Batch *bt, const MmBatchSeries *info, const char *work, JsonBuilder *b)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_strdup (bt->self));
  g_ptr_array_add (argv, g_strdup (bt->command));
  g_autofree char *labels = g_build_filename (work, "labels", NULL);
  g_autofree char *nifti = g_build_filename (work, "mask.nii.gz", NULL);
  switch (bt->kind)
    {
    case RUN_INFO:
      g_ptr_array_add (argv, g_strdup ("--json"));
      break;
    case RUN_SEGMENT:
      g_ptr_array_add (argv, g_strdup ("--json"));
      g_ptr_array_add (argv, g_strdup ("--out"));
      g_ptr_array_add (argv, g_strdup (labels));
      break;
    case RUN_INDEX:
    case RUN_PREDICT:
      g_assert_not_reached ();
    case RUN_EXPORT:
      g_ptr_array_add (argv, g_strdup ("--segment"));
      g_ptr_array_add (argv, g_strdup ("--nifti"));
      g_ptr_array_add (argv, g_strdup (nifti));
      break;
    }
  for (char **o = bt->cmd_opts; o && *o; o++)
    g_ptr_array_add (argv, g_strdup (*o));
  g_ptr_array_add (argv, g_strdup_printf ("--threads=%d", bt->threads));
  /* The files are this series' only, so the child finds it alone; a part split from a UID
   * ("UID#2") or a series without UID is then no longer named so: no --series for them. */
  if (info->uid[0] != '\0' && strchr (info->uid, '#') == NULL)
    g_ptr_array_add (argv, g_strdup_printf ("--series=%s", info->uid));
  g_ptr_array_add (argv, g_strdup ("--")); /* file names that start with '-' */
  for (char **f = info->files; f && *f; f++)
    g_ptr_array_add (argv, g_strdup (*f));
  g_ptr_array_add (argv, NULL);

  g_autofree char *out_text = NULL, *err_text = NULL;
  int status = 0;
  g_autoptr (GError) err = NULL;
  gint64 t0 = g_get_monotonic_time ();
  bool spawned = g_spawn_sync (NULL, (char **) argv->pdata, bt->env, G_SPAWN_DEFAULT, NULL,
                               NULL, &out_text, &err_text, &status, &err);
  double total = (g_get_monotonic_time () - t0) / 1e6;
  bool ok = spawned && g_spawn_check_wait_status (status, NULL);

  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *result = NULL;
  if (ok && bt->kind != RUN_EXPORT)
    {
      g_autoptr (GError) perr = NULL;
      if (!mm_json_load_data (parser, out_text, -1, bt->command, "summary", &perr))
        {
          ok = false;
          g_free (err_text);
          err_text = g_strdup_printf ("the summary printed is not JSON: %s", perr->message);
        }
      else
        {
          result = json_parser_get_root (parser);
          /* The work folder's path means nothing once published. */
          if (JSON_NODE_HOLDS_OBJECT (result)
              && json_object_has_member (json_node_get_object (result), "out"))
            json_object_set_string_member (json_node_get_object (result), "out", "labels");
        }
    }
  if (ok && bt->kind == RUN_INFO)
    {
      gsize len = 0;
      g_autofree char *text = mm_json_to_data (result, TRUE, &len, NULL);
      g_autofree char *path = g_build_filename (work, "info.json", NULL);
      if (!g_file_set_contents (path, text, (gssize) len, &err))
        {
          ok = false;
          g_free (err_text);
          err_text = g_strdup (err->message);
        }
    }

  mm_json_set_string (b, "state", ok ? "done" : "failed");
  if (!ok)
    {
      g_autofree char *reason = spawned ? failure_reason (err_text, status)
                                        : g_strdup (err->message);
      mm_json_set_string (b, "reason", reason);
    }
  mm_json_set_int (b, "wait_status", status);
  json_builder_set_member_name (b, "timings_s");
  json_builder_begin_object (b);
  mm_json_set_double (b, "total", total);
  if (bt->kind == RUN_SEGMENT)
    {
      /* From the command's MM_PROFILE lines: thread-seconds per stage. */
      static const char *const read[] = { "headers", "decode", NULL };
      static const char *const seg[] = { "threshold", "components", NULL };
      static const char *const write[] = { "png-encode", "fsync", NULL };
      mm_json_set_double (b, "read", profile_seconds (err_text, read));
      mm_json_set_double (b, "segment", profile_seconds (err_text, seg));
      mm_json_set_double (b, "write", profile_seconds (err_text, write));
    }
  json_builder_end_object (b);
  g_auto (GStrv) err_lines = g_strsplit (err_text ? err_text : "", "\n", -1);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();
  for (char **l = err_lines; *l; l++)
    if (**l && !g_str_has_prefix (*l, "profile ") && strstr (*l, ": profile ") == NULL)
      g_ptr_array_add (kept, *l);
  g_ptr_array_add (kept, NULL);
  add_strv (b, "messages", (char **) kept->pdata, STDERR_LINES_KEPT);
  json_builder_set_member_name (b, "result");
  if (result)
    json_builder_add_value (b, json_node_copy (result));
  else
    json_builder_add_null_value (b);
  return ok;
}

static char *
now_utc (void)
{
  g_autoptr (GDateTime) t = g_date_time_new_now_utc ();
  return g_date_time_format (t, "%Y-%m-%dT%H:%M:%S.%fZ");
}

/* One series from start to published folder. Returns 1 done, 0 failed, -1 not published. */
static int
do_series (const Batch *bt, const char *root, const MmBatchSeries *info, const char *name,
           const char *inputs_hash)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *work = mm_batch_begin (root, name, &err);
  if (work == NULL)
    {
      mm_cli_error ("batch: %s", err->message);
      return -1;
    }
  g_autofree char *started = now_utc ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  g_autofree char *uid = mm_text_printable (info->uid);
  mm_json_set_string (b, "series_uid", uid);
  mm_json_set_string (b, "folder", name);
  mm_json_set_string (b, "command", bt->command);
  mm_json_set_int (b, "files", info->n_files);
#ifdef MM_CLI_NN
  bool ok = bt->predict ? mm_cli_batch_predict_run (bt->predict, info, work, b)
                        : run_series (bt, info, work, b);
#else
  bool ok = run_series (bt, info, work, b);
#endif
  mm_json_set_string (b, "started_utc", started);
  g_autofree char *finished = now_utc ();
  mm_json_set_string (b, "finished_utc", finished);
  mm_json_set_string (b, "host", g_get_host_name ());
  mm_json_set_int (b, "pid", getpid ());
  mm_json_set_string (b, "shard", bt->shard_text);
  const char *job = g_environ_getenv (bt->env, "SLURM_ARRAY_JOB_ID");
  const char *task = g_environ_getenv (bt->env, "SLURM_ARRAY_TASK_ID");
  const char *jobid = g_environ_getenv (bt->env, "SLURM_JOB_ID");
  mm_json_set_string (b, "slurm_job_id", jobid);
  mm_json_set_string (b, "slurm_array_job_id", job);
  mm_json_set_string (b, "slurm_array_task_id", task);
  json_builder_set_member_name (b, "versions");
  json_builder_begin_object (b);
  mm_json_set_string (b, "metalmark", MM_VERSION);
  g_autofree char *glib = g_strdup_printf ("%u.%u.%u", glib_major_version, glib_minor_version,
                                           glib_micro_version);
  mm_json_set_string (b, "glib", glib);
  json_builder_end_object (b);
  add_strv (b, "parameters", bt->cmd_opts, G_MAXUINT);
  mm_json_set_string (b, "parameters_hash", bt->params_hash);
  mm_json_set_string (b, "inputs_hash", inputs_hash);
  json_builder_end_object (b);
  g_autoptr (JsonNode) status = json_builder_get_root (b);
  /* A test point: the outputs are written and not yet published, the moment a killed task
   * must not leave a series that looks done (tests/slurm cancels a task here). */
  const char *slow = g_environ_getenv (bt->env, "MM_TEST_BATCH_SLOW_MS");
  if (slow)
    g_usleep (1000 * CLAMP (g_ascii_strtoll (slow, NULL, 10), 0, 60000));
  if (!mm_batch_commit (root, name, work, status, &err))
    {
      mm_cli_error ("batch: %s", err->message);
      mm_batch_remove_tree (work);
      return -1;
    }
  JsonObject *o = json_node_get_object (status);
  JsonObject *t = json_object_get_object_member (o, "timings_s");
  if (ok)
    printf ("done    %s  %.2f s\n", name, json_object_get_double_member (t, "total"));
  else
    printf ("failed  %s  %s\n", name, json_object_get_string_member (o, "reason"));
  fflush (stdout);
  return ok ? 1 : 0;
}

/* The series under root_in and the paths of list, headers read once (MmBatchSeries *); NULL
 * with *rc set after printing why. */
static GPtrArray *
find_series (const char *root_in, const char *list, int threads, int *rc)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  if (root_in)
    g_ptr_array_add (paths, g_strdup (root_in));
  if (list && !read_list (list, paths))
    {
      *rc = MM_EXIT_INPUT;
      return NULL;
    }
  /* Absolute paths: an index is read by tasks started in other folders. */
  for (guint p = 0; p < paths->len; p++)
    {
      char *abs = g_canonicalize_filename (paths->pdata[p], NULL);
      g_free (paths->pdata[p]);
      paths->pdata[p] = abs;
    }
  g_autoptr (MmDicomReport) report = mm_dicom_report_new ();
  g_autoptr (GError) err = NULL;
  MmDicomLoadOptions opts;
  mm_dicom_load_options_init (&opts);
  opts.n_threads = threads;
  if (!mm_dicom_scan ((const char *const *) paths->pdata, paths->len, &opts, report, &err))
    {
      g_autofree char *msg = mm_text_printable (err->message);
      mm_cli_error ("batch: %s", msg);
      *rc = MM_EXIT_INPUT;
      return NULL;
    }
  /* Files that are not DICOM or not readable belong to no series: said once, not lost. */
  if (report->files_skipped > 0 && report->warnings->len > 0)
    {
      g_autofree char *first = mm_text_printable (report->warnings->pdata[0]);
      fprintf (stderr, "metalmark-cli: batch: %u file%s skipped while finding the series "
               "(not DICOM, not an image, or unreadable), the first: %s\n",
               report->files_skipped, report->files_skipped == 1 ? "" : "s", first);
    }
  GPtrArray *series = g_ptr_array_new_with_free_func ((GDestroyNotify) mm_batch_series_free);
  for (guint s = 0; s < report->series->len; s++)
    {
      const MmDicomSeriesInfo *info = report->series->pdata[s];
      MmBatchSeries *bs = g_new0 (MmBatchSeries, 1);
      bs->uid = g_strdup (info->uid);
      bs->files = g_strdupv (info->files);
      bs->n_files = g_strv_length (info->files);
      g_ptr_array_add (series, bs);
    }
  return series;
}

int
mm_cli_batch (int argc, char **argv)
{
#ifndef MM_CLI_NN
  /* batch predict runs in metalmark-cli-nn (the network's program: the model is loaded once
   * there); option parsing below changes argv, so keep the arguments as given. */
  g_autoptr (GStrvBuilder) given_b = g_strv_builder_new ();
  g_strv_builder_add (given_b, g_get_prgname () ? g_get_prgname () : "metalmark-cli");
  for (int i = 0; i < argc; i++)
    g_strv_builder_add (given_b, argv[i]);
  g_auto (GStrv) given = g_strv_builder_end (given_b);
#endif
  char *list = NULL, *root_in = NULL, *out = NULL, *shard = NULL, *index = NULL;
  int threads = 0;
  gboolean dry_run = FALSE;
  char **rest = NULL;
  GOptionEntry entries[] = {
    { "root", 0, 0, G_OPTION_ARG_FILENAME, &root_in,
      "Folder holding the series (searched recursively, grouped by Series Instance UID)",
      "DIR" },
    { "list", 0, 0, G_OPTION_ARG_FILENAME, &list,
      "Text file of paths (folders or files), one a line", "FILE" },
    { "index", 0, 0, G_OPTION_ARG_FILENAME, &index,
      "The series as 'batch index' wrote them: no header is read to find them", "FILE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "Output root: one folder per series ('batch index': the index file)", "ROOT" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard,
      "Do share K of N (K from 0); default from SLURM_ARRAY_TASK_ID, _MIN and _COUNT, else "
      "0/1",
      "K/N" },
    { "dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
      "List this shard's series and their state, run nothing", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "Threads per series (default: SLURM_CPUS_PER_TASK, else all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, NULL },
    { NULL },
  };
  const MmCliRange ranges[] = { MM_CLI_THREADS_RANGE, { NULL } };
  bool has_dashdash = false;
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--") == 0)
      has_dashdash = true;
  int rc = MM_EXIT_USAGE;
  g_auto (GStrv) env = g_get_environ ();
  if (!mm_cli_parse ("batch", "COMMAND (--root DIR | --list FILE) --out ROOT [-- OPTIONS...]",
                     "COMMAND (info, segment, export, predict) runs on every series found, each in "
                     "ROOT/<Series UID>/ with status.json; a rerun skips what is done with the "
                     "same options and inputs. OPTIONS after -- go to COMMAND. 'batch index "
                     "--root DIR --out FILE' writes the series found for --index.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (rest == NULL || rest[0] == NULL || out == NULL
      || (root_in == NULL && list == NULL && index == NULL))
    {
      mm_cli_error ("batch: COMMAND, --root DIR, --list FILE or --index FILE, and --out ROOT "
                    "are required; try 'metalmark-cli batch --help'");
      goto out;
    }
  Batch bt = { .command = rest[0], .cmd_opts = rest + 1, .env = env };
  bool known = false;
  for (size_t c = 0; c < G_N_ELEMENTS (batch_commands); c++)
    if (strcmp (rest[0], batch_commands[c].name) == 0)
      {
        bt.kind = batch_commands[c].kind;
        known = true;
      }
  if (!known)
    {
      mm_cli_error ("batch: '%s' is not a command batch runs (info, segment, export, "
                    "predict; index)",
                    rest[0]);
      goto out;
    }
#ifndef MM_CLI_NN
  if (bt.kind == RUN_PREDICT)
    {
      rc = mm_cli_run_helper (given);
      goto out;
    }
#endif
  if (rest[1] && !has_dashdash)
    {
      mm_cli_error ("batch: '%s': the command's options come after --", rest[1]);
      goto out;
    }
  for (char **o = bt.cmd_opts; *o; o++)
    if (option_is_reserved (*o))
      {
        mm_cli_error ("batch: %s is set by batch for each series; leave it out", *o);
        goto out;
      }
  do
    {
      guint k = 0, n = 1;
      {
        g_autoptr (GError) err = NULL;
        if (shard ? !mm_batch_parse_shard (shard, &k, &n, &err)
                  : (!mm_batch_shard_from_env (env, &k, &n, &err) && err != NULL))
          {
            mm_cli_error ("batch: %s", err->message);
            break;
          }
      }
      const char *cpus = g_environ_getenv (env, "SLURM_CPUS_PER_TASK");
      if (threads == 0 && cpus)
        threads = (int) CLAMP (g_ascii_strtoll (cpus, NULL, 10), 0, MM_LIMIT_THREADS);
      bt.threads = threads;
      g_autofree char *shard_text = g_strdup_printf ("%u/%u", k, n);
      bt.shard_text = shard_text;
      g_autofree char *hash = mm_batch_params_hash (bt.command, MM_VERSION, bt.cmd_opts);
      bt.params_hash = hash;
      if (bt.kind == RUN_SEGMENT)
        env = g_environ_setenv (env, "MM_PROFILE", "1", TRUE);
      bt.env = env;

      g_autoptr (GPtrArray) series = NULL;
      if (index && (root_in || list))
        {
          mm_cli_error ("batch: --index replaces --root and --list; give one or the other");
          break;
        }
      if (index)
        {
          g_autoptr (GError) err = NULL;
          series = mm_batch_index_read (index, &err);
          if (series == NULL)
            {
              mm_cli_error ("batch: %s", err->message);
              rc = MM_EXIT_INPUT;
              break;
            }
        }
      else
        {
          series = find_series (root_in, list, threads, &rc);
          if (series == NULL)
            break;
        }
      if (bt.kind == RUN_INDEX)
        {
          g_autoptr (GError) err = NULL;
          if (!mm_batch_index_write (out, series, &err))
            {
              mm_cli_error ("batch: %s", err->message);
              rc = MM_EXIT_OUTPUT;
              break;
            }
          printf ("%u series indexed in %s\n", series->len, out);
          rc = MM_EXIT_OK;
          break;
        }
      {
        g_autoptr (GError) err = NULL;
        if (!mm_ensure_dir (out, &err))
          {
            mm_cli_error ("batch: %s", err->message);
            rc = MM_EXIT_OUTPUT;
            break;
          }
      }
#ifdef MM_CLI_NN
      g_autoptr (MmCliBatchPredict) predict = NULL;
      if (bt.kind == RUN_PREDICT)
        {
          predict = mm_cli_batch_predict_new (bt.cmd_opts, threads, &rc);
          if (predict == NULL)
            break;
          bt.predict = predict;
        }
#endif
      bt.self = g_file_read_link ("/proc/self/exe", NULL);
      if (bt.self == NULL)
        {
          mm_cli_error ("batch: cannot find this program's path (/proc/self/exe)");
          rc = MM_EXIT_INPUT;
          break;
        }

      guint n_mine = 0, n_done = 0, n_failed = 0, n_skipped = 0, n_lost = 0;
      for (guint s = 0; s < series->len; s++)
        {
          const MmBatchSeries *info = series->pdata[s];
          if (mm_batch_shard_of (info->uid, n) != k)
            continue;
          n_mine++;
          g_autofree char *name = mm_batch_folder_name (info->uid);
          g_autofree char *inputs = mm_batch_inputs_hash (info->files);
      MmBatchState state = mm_batch_state (out, name, hash, inputs);
          if (state == MM_BATCH_DONE)
            {
              n_skipped++;
              printf ("skip    %s  done already with these options\n", name);
              continue;
            }
          if (dry_run)
            {
              printf ("todo    %s  %u files\n", name, info->n_files);
              continue;
            }
          int r = do_series (&bt, out, info, name, inputs);
          n_done += r == 1;
          n_failed += r == 0;
          n_lost += r < 0;
        }
      printf ("shard %s: %u series of %u; %u done now, %u done before, %u failed%s\n", shard_text,
              n_mine, series->len, n_done, n_skipped, n_failed,
              n_lost ? ", some not written (see above)" : "");
      g_free (bt.self);
      rc = n_lost ? MM_EXIT_OUTPUT : n_failed ? MM_EXIT_INPUT : MM_EXIT_OK;
    }
  while (0);
out:
  g_free (list);
  g_free (root_in);
  g_free (out);
  g_free (shard);
  g_free (index);
  g_strfreev (rest);
  return rc;
}
