/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli pacs: echo (test the connection), find (QIDO-RS), get (WADO-RS into a folder
 * or the cache), send (STOW-RS of DICOM files such as export --seg's Segmentation). */
#include "mm-cli.h"

#include "mm-dimse.h"
#include "mm-pacs-qido.h"
#include "mm-pacs-server.h"
#include "mm-pacs-stow.h"
#include "mm-pacs-task.h"
#include "mm-pacs-thumb.h"
#include "mm-pacs-wado.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

/* Options every pacs command has. */
typedef struct
{
  char *url, *auth, *user, *password_file;
  char *dimse, *aet; /* DIMSE instead of DICOMweb: AET@HOST:PORT, our AE title */
  int timeout;
} Conn;

static void
conn_clear (Conn *c)
{
  g_free (c->url);
  g_free (c->auth);
  g_free (c->user);
  g_free (c->password_file);
  g_free (c->dimse);
  g_free (c->aet);
}

#define CONN_ENTRIES(c)                                                                      \
  { "url", 0, 0, G_OPTION_ARG_STRING, &(c).url,                                              \
    "DICOMweb base URL (default: $MM_PACS_URL)", "URL" },                                    \
    { "auth", 0, 0, G_OPTION_ARG_STRING, &(c).auth,                                          \
      "Authentication: none (default), basic or bearer", "KIND" },                           \
    { "user", 0, 0, G_OPTION_ARG_STRING, &(c).user, "User name for basic authentication",   \
      "NAME" },                                                                              \
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &(c).password_file,                      \
      "Read the password (basic) or token (bearer) from the first line of FILE (default: "   \
      "$MM_PACS_PASSWORD)",                                                                  \
      "FILE" },                                                                              \
    { "timeout", 0, 0, G_OPTION_ARG_INT, &(c).timeout,                                       \
      "Seconds to wait for a connection or the next bytes (default 30)", "S" },              \
    { "dimse", 0, 0, G_OPTION_ARG_STRING, &(c).dimse,                                        \
      "Use DIMSE (C-ECHO, C-FIND, C-GET, C-STORE) with this PACS instead of DICOMweb",       \
      "AET@HOST:PORT" },                                                                     \
    { "aet", 0, 0, G_OPTION_ARG_STRING, &(c).aet,                                            \
      "Our AE title for --dimse (default METALMARK)", "AET" }

#define CONN_RANGE { "timeout", 1, 3600 }

/* The secret: the password file's first line, else $MM_PACS_PASSWORD. Never printed. */
static bool
read_secret (const Conn *c, char **out)
{
  *out = NULL;
  if (c->password_file)
    {
      g_autofree char *text = NULL;
      gsize len = 0;
      g_autoptr (GError) err = NULL;
      GStatBuf st;
      if (g_stat (c->password_file, &st) == 0 && st.st_size > 65536)
        {
          mm_cli_error ("pacs: %s: a password file of more than 64 KiB is not a password "
                        "file", c->password_file);
          return false;
        }
      if (!g_file_get_contents (c->password_file, &text, &len, &err))
        {
          mm_cli_error ("pacs: %s", err->message);
          return false;
        }
      text[strcspn (text, "\r\n")] = '\0';
      *out = g_strdup (text);
      memset (text, 0, len);
      return true;
    }
  const char *env = g_getenv ("MM_PACS_PASSWORD");
  if (env && *env)
    *out = g_strdup (env);
  return true;
}

/* With --dimse: the peer (true), or false after a one-line error. */
static bool
dimse_peer (const char *command, const Conn *c, MmDimsePeer *peer)
{
  g_autoptr (GError) err = NULL;
  mm_dimse_init (); /* here, before the retrieval's thread starts: it sets $TCP_NODELAY */
  if (c->url)
    {
      mm_cli_error ("%s: --url and --dimse exclude each other", command);
      return false;
    }
  if (!mm_dimse_peer_parse (c->dimse, c->aet, c->timeout > 0 ? (guint) c->timeout : 0, peer,
                            &err))
    {
      mm_cli_error ("%s: --dimse %s", command, err->message);
      return false;
    }
  return true;
}

static MmPacsServer *
connect_server (const char *command, const Conn *c)
{
  const char *url = c->url ? c->url : g_getenv ("MM_PACS_URL");
  if (url == NULL || *url == '\0')
    {
      mm_cli_error ("%s: give the DICOMweb URL with --url (or $MM_PACS_URL)", command);
      return NULL;
    }
  MmPacsAuth auth = MM_PACS_AUTH_NONE;
  if (c->auth && !mm_pacs_auth_parse (c->auth, &auth))
    {
      mm_cli_error ("%s: --auth %s: use none, basic or bearer", command, c->auth);
      return NULL;
    }
  g_autofree char *secret = NULL;
  if (auth != MM_PACS_AUTH_NONE && !read_secret (c, &secret))
    return NULL;
  g_autoptr (GError) err = NULL;
  MmPacsServer *srv = mm_pacs_server_new (url, auth, c->user, secret, &err);
  if (secret)
    memset (secret, 0, strlen (secret));
  if (srv == NULL)
    {
      mm_cli_error ("%s: %s", command, err->message);
      return NULL;
    }
  if (c->timeout > 0)
    mm_pacs_server_set_timeout (srv, (guint) c->timeout);
  return srv;
}

static int
pacs_echo (int argc, char **argv)
{
  Conn c = { 0 };
  GOptionEntry entries[] = { CONN_ENTRIES (c), { NULL } };
  const MmCliRange ranges[] = { CONN_RANGE, { NULL } };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("pacs echo", "--url URL",
                     "Tests the connection to a DICOMweb server: asks it for one study and "
                     "says exactly what failed (connection, TLS, authentication, URL).",
                     entries, ranges, &argc, &argv))
    goto out;
  if (c.dimse)
    {
      MmDimsePeer peer;
      g_autoptr (GError) err = NULL;
      if (!dimse_peer ("pacs echo", &c, &peer))
        goto out;
      g_autofree char *name = mm_dimse_peer_name (&peer);
      rc = mm_dimse_echo (&peer, &err) ? MM_EXIT_OK : MM_EXIT_INPUT;
      if (rc == MM_EXIT_OK)
        printf ("OK       %s answers C-ECHO\n", name);
      else
        mm_cli_error ("pacs echo: %s", err->message);
      mm_dimse_peer_clear (&peer);
      goto out;
    }
  {
    g_autoptr (MmPacsServer) srv = connect_server ("pacs echo", &c);
    g_autoptr (GError) err = NULL;
    if (srv == NULL)
      goto out;
    rc = MM_EXIT_INPUT;
    if (!mm_pacs_server_echo (srv, NULL, &err))
      {
        mm_cli_error ("pacs echo: %s", err->message);
        goto out;
      }
    printf ("OK       %s answers DICOMweb queries\n", srv->base_url);
    rc = MM_EXIT_OK;
  }
out:
  conn_clear (&c);
  return rc;
}

/* --date FROM-TO, FROM-, -TO or DAY (YYYYMMDD). */
static bool
parse_dates (const char *text, char **from, char **to)
{
  *from = *to = NULL;
  if (text == NULL)
    return true;
  const char *dash = strchr (text, '-');
  g_autofree char *a = dash ? g_strndup (text, (gsize) (dash - text)) : g_strdup (text);
  g_autofree char *b = dash ? g_strdup (dash + 1) : g_strdup (text);
  if ((*a && !mm_pacs_date_ok (a)) || (*b && !mm_pacs_date_ok (b)) || (!*a && !*b))
    return false;
  *from = *a ? g_steal_pointer (&a) : NULL;
  *to = *b ? g_steal_pointer (&b) : NULL;
  return true;
}

static void
print_studies (GPtrArray *studies)
{
  for (guint i = 0; i < studies->len; i++)
    {
      MmPacsStudy *s = studies->pdata[i];
      char ns[32] = "?", ni[32] = "?";
      if (s->n_series >= 0)
        g_snprintf (ns, sizeof ns, "%" G_GINT64_FORMAT, s->n_series);
      if (s->n_instances >= 0)
        g_snprintf (ni, sizeof ni, "%" G_GINT64_FORMAT, s->n_instances);
      printf ("%s  %-8s  %-24s  %-12s  %-6s  %s series, %s instances  %s\n", s->study_uid,
              s->date ? s->date : "-", s->patient_name ? s->patient_name : "-",
              s->patient_id ? s->patient_id : "-", s->modalities ? s->modalities : "-", ns, ni,
              s->description ? s->description : "");
    }
  if (studies->len == 0)
    printf ("No study matches.\n");
}

static void
print_series (GPtrArray *series)
{
  for (guint i = 0; i < series->len; i++)
    {
      MmPacsSeries *s = series->pdata[i];
      printf ("%s  %-4s  #%-4" G_GINT64_FORMAT "  %5" G_GINT64_FORMAT " instances  %s\n",
              s->series_uid, s->modality ? s->modality : "-", s->number, s->n_instances,
              s->description ? s->description : "");
    }
  if (series->len == 0)
    printf ("No series matches.\n");
}

static int
pacs_find (int argc, char **argv)
{
  Conn c = { 0 };
  char *patient = NULL, *patient_id = NULL, *accession = NULL, *date = NULL, *modality = NULL;
  char *study = NULL, *from = NULL, *to = NULL;
  gboolean json = FALSE;
  int limit = 0;
  GOptionEntry entries[] = {
    CONN_ENTRIES (c),
    { "patient", 0, 0, G_OPTION_ARG_STRING, &patient, "Patient's name (wildcards * and ?)",
      "NAME" },
    { "patient-id", 0, 0, G_OPTION_ARG_STRING, &patient_id, "Patient ID", "ID" },
    { "accession", 0, 0, G_OPTION_ARG_STRING, &accession, "Accession number", "NUMBER" },
    { "date", 0, 0, G_OPTION_ARG_STRING, &date,
      "Study date or range: YYYYMMDD, FROM-TO, FROM- or -TO", "RANGE" },
    { "modality", 0, 0, G_OPTION_ARG_STRING, &modality, "Modality, e.g. CT", "MOD" },
    { "study", 0, 0, G_OPTION_ARG_STRING, &study,
      "List the series of this study instead of studies", "UID" },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, "At most N results (default: the server's)",
      "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    { NULL },
  };
  const MmCliRange ranges[] = { CONN_RANGE, { "limit", 0, 100000 }, { NULL } };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("pacs find", "--url URL [FILTERS]",
                     "Searches a DICOMweb server (QIDO-RS) for studies, or with --study for "
                     "the series of one study.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (!parse_dates (date, &from, &to))
    {
      mm_cli_error ("pacs find: --date %s: give YYYYMMDD, FROM-TO, FROM- or -TO", date);
      goto out;
    }
  if (study && !mm_pacs_uid_ok (study))
    {
      mm_cli_error ("pacs find: --study %s: not a UID (digits and dots, at most 64)", study);
      goto out;
    }
  {
    g_autoptr (MmPacsServer) srv = NULL;
    MmDimsePeer peer = { 0 };
    if (c.dimse ? !dimse_peer ("pacs find", &c, &peer)
                : (srv = connect_server ("pacs find", &c)) == NULL)
      goto out;
    MmPacsQuery q = { patient, patient_id, accession, from, to, modality, study, (guint) limit };
    g_autoptr (GError) err = NULL;
    g_autoptr (GPtrArray) found = NULL;
    if (c.dimse)
      found = study ? mm_dimse_find_series (&peer, &q, &err)
                    : mm_dimse_find_studies (&peer, &q, &err);
    else
      found = study ? mm_pacs_find_series (srv, &q, NULL, &err)
                    : mm_pacs_find_studies (srv, &q, NULL, &err);
    mm_dimse_peer_clear (&peer);
    rc = MM_EXIT_INPUT;
    if (found == NULL)
      {
        mm_cli_error ("pacs find: %s", err->message);
        goto out;
      }
    if (json)
      {
        g_autoptr (JsonNode) node = study ? mm_pacs_series_to_json (found)
                                          : mm_pacs_studies_to_json (found);
        mm_cli_print_json (node);
      }
    else if (study)
      print_series (found);
    else
      print_studies (found);
    rc = MM_EXIT_OK;
  }
out:
  conn_clear (&c);
  g_free (patient);
  g_free (patient_id);
  g_free (accession);
  g_free (date);
  g_free (modality);
  g_free (study);
  g_free (from);
  g_free (to);
  return rc;
}

static void
show_progress (guint64 bytes, guint instances, gpointer user)
{
  gint64 *last = user;
  gint64 now = g_get_monotonic_time ();
  if (now - *last < G_USEC_PER_SEC / 2)
    return;
  *last = now;
  fprintf (stderr, "\r%u instances, %.1f MB", instances, (double) bytes / 1e6);
}

typedef struct
{
  GMainLoop *loop;
  GCancellable *cancel;
  char *where;
  GError *error;
  bool interrupted;
} GetRun;

static gboolean
on_signal (gpointer data)
{
  GetRun *r = data;
  r->interrupted = true;
  g_cancellable_cancel (r->cancel);
  return G_SOURCE_CONTINUE;
}

static void
on_got (GObject *source, GAsyncResult *result, gpointer data)
{
  GetRun *r = data;
  r->where = mm_pacs_get_finish (result, &r->error);
  g_main_loop_quit (r->loop);
}

/* C-GET in a worker thread so that Ctrl+C (on the main loop) can cancel it. */
typedef struct
{
  MmDimsePeer *peer;
  const char *study, *series, *dest;
  MmPacsProgress progress;
  gpointer progress_data;
} DimseGet;

static void
dimse_get_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  DimseGet *d = data;
  GError *err = NULL;
  if (mm_dimse_get_series (d->peer, d->study, d->series, d->dest, NULL, d->progress,
                           d->progress_data, cancellable, &err) > 0)
    g_task_return_pointer (task, g_strdup (d->dest), g_free);
  else
    g_task_return_error (task, err);
}

static void
on_dimse_got (GObject *source, GAsyncResult *result, gpointer data)
{
  GetRun *r = data;
  r->where = g_task_propagate_pointer (G_TASK (result), &r->error);
  g_main_loop_quit (r->loop);
}

/* --dimse: into --out, or the cache (keyed by the peer and the UIDs; a cached series is used
 * as it is), then the cache evicted down to its bound. */
static void
dimse_get_start (MmDimsePeer *peer, DimseGet *d, const char *out_dir, const char *root,
                 GetRun *r)
{
  g_autofree char *dest = NULL;
  if (out_dir == NULL)
    {
      g_autofree char *name = mm_dimse_peer_name (peer);
      g_autofree char *url = g_strconcat ("dimse://", name, NULL);
      g_autofree char *key = mm_pacs_cache_key (url, d->study, d->series);
      g_mkdir_with_parents (root, 0700);
      dest = g_build_filename (root, key, NULL);
    }
  else
    dest = g_strdup (out_dir);
  d->peer = peer;
  d->dest = g_steal_pointer (&dest);
  GTask *task = g_task_new (NULL, r->cancel, on_dimse_got, r);
  /* The thread's own answer counts: a series renamed into place just before Ctrl+C is kept
   * and printed, a cancelled one reports the cancel. */
  g_task_set_check_cancellable (task, FALSE);
  if (out_dir == NULL && g_file_test (d->dest, G_FILE_TEST_IS_DIR))
    g_task_return_pointer (task, g_strdup (d->dest), g_free);
  else
    {
      g_task_set_task_data (task, d, NULL);
      g_task_run_in_thread (task, dimse_get_thread);
    }
  g_object_unref (task);
}

static int
pacs_get (int argc, char **argv)
{
  Conn c = { 0 };
  char *study = NULL, *series = NULL, *out_dir = NULL, *cache_dir = NULL;
  int cache_mb = 4096;
  gboolean progress = FALSE;
  GOptionEntry entries[] = {
    CONN_ENTRIES (c),
    { "study", 0, 0, G_OPTION_ARG_STRING, &study, "Study Instance UID (required)", "UID" },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID (required)", "UID" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Write the series into this new (or empty) folder instead of the cache", "DIR" },
    { "cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &cache_dir,
      "The cache folder (default: $XDG_CACHE_HOME/metalmark/pacs)", "DIR" },
    { "cache-max-mb", 0, 0, G_OPTION_ARG_INT, &cache_mb,
      "Evict least recently used series beyond this size (default 4096)", "MB" },
    { "progress", 0, 0, G_OPTION_ARG_NONE, &progress, "Show progress on stderr", NULL },
    { NULL },
  };
  const MmCliRange ranges[] = { CONN_RANGE, { "cache-max-mb", 0, 16 << 20 }, { NULL } };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("pacs get", "--url URL --study UID --series UID [--out DIR]",
                     "Retrieves a series (WADO-RS) into a new folder (--out) or the local "
                     "cache, and prints the folder. The answer is streamed to disk; the folder "
                     "appears only when the whole series arrived.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (!mm_pacs_uid_ok (study) || !mm_pacs_uid_ok (series))
    {
      mm_cli_error ("pacs get: give --study and --series as UIDs (digits and dots, at most "
                    "64)");
      goto out;
    }
  if (out_dir && cache_dir)
    {
      mm_cli_error ("pacs get: --out and --cache-dir exclude each other");
      goto out;
    }
  {
    g_autoptr (MmPacsServer) srv = NULL;
    MmDimsePeer peer = { 0 };
    if (c.dimse ? !dimse_peer ("pacs get", &c, &peer)
                : (srv = connect_server ("pacs get", &c)) == NULL)
      goto out;
    DimseGet dg = { NULL, study, series, NULL, progress ? show_progress : NULL, NULL };
    /* The retrieval runs in a thread (as in the app); Ctrl+C or SIGTERM cancels it, and the
     * cancelled retrieval removes what it wrote before the command exits. */
    gint64 last = 0;
    g_autofree char *root = cache_dir ? g_strdup (cache_dir) : mm_pacs_cache_default_root ();
    MmPacsGet req = { study, series, out_dir, out_dir ? NULL : root, (guint64) cache_mb << 20 };
    GetRun r = { g_main_loop_new (NULL, FALSE), g_cancellable_new (), NULL, NULL, false };
    guint sig_int = g_unix_signal_add (SIGINT, on_signal, &r);
    guint sig_term = g_unix_signal_add (SIGTERM, on_signal, &r);
    if (c.dimse)
      {
        dg.progress_data = &last;
        dimse_get_start (&peer, &dg, out_dir, root, &r);
      }
    else
      mm_pacs_get_async (srv, &req, progress ? show_progress : NULL, &last, r.cancel, on_got,
                         &r);
    g_main_loop_run (r.loop);
    if (c.dimse && r.where && out_dir == NULL)
      mm_pacs_cache_evict (root, (guint64) cache_mb << 20, r.where + strlen (root) + 1);
    mm_dimse_peer_clear (&peer);
    g_free ((char *) dg.dest);
    g_source_remove (sig_int);
    g_source_remove (sig_term);
    g_main_loop_unref (r.loop);
    g_object_unref (r.cancel);
    g_autofree char *where = r.where;
    g_autoptr (GError) err = r.error;
    if (r.interrupted && where == NULL)
      {
        g_clear_error (&err);
        g_set_error (&err, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                     "interrupted: the retrieval stopped and nothing of it was kept");
      }
    if (progress)
      fprintf (stderr, "\n");
    if (where == NULL)
      {
        mm_cli_error ("pacs get: %s", err->message);
        rc = err->domain == G_IO_ERROR
                 && (err->code == G_IO_ERROR_NO_SPACE || err->code == G_IO_ERROR_EXISTS
                     || err->code == G_IO_ERROR_PERMISSION_DENIED)
                 && !g_str_has_prefix (err->message, "PACS ")
               ? MM_EXIT_OUTPUT
               : MM_EXIT_INPUT;
        goto out;
      }
    printf ("%s\n", where);
    rc = MM_EXIT_OK;
  }
out:
  conn_clear (&c);
  g_free (study);
  g_free (series);
  g_free (out_dir);
  g_free (cache_dir);
  return rc;
}

static int
pacs_send (int argc, char **argv)
{
  Conn c = { 0 };
  char **files = NULL;
  GOptionEntry entries[] = {
    CONN_ENTRIES (c),
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE..." },
    { NULL },
  };
  const MmCliRange ranges[] = { CONN_RANGE, { NULL } };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("pacs send", "--url URL FILE...",
                     "Sends DICOM files (e.g. the Segmentation written by export --seg) to a "
                     "DICOMweb server (STOW-RS) and prints what the server accepted or refused "
                     "and why.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (files == NULL || files[0] == NULL)
    {
      mm_cli_error ("pacs send: give the DICOM files to send");
      goto out;
    }
  {
    g_autoptr (MmPacsServer) srv = NULL;
    MmDimsePeer peer = { 0 };
    if (c.dimse ? !dimse_peer ("pacs send", &c, &peer)
                : (srv = connect_server ("pacs send", &c)) == NULL)
      goto out;
    g_autoptr (GError) err = NULL;
    g_autofree char *name = c.dimse ? mm_dimse_peer_name (&peer) : g_strdup (srv->base_url);
    MmPacsStowResult r;
    rc = MM_EXIT_INPUT;
    bool sent = c.dimse ? mm_dimse_store_files (&peer, (const char *const *) files, &r, &err)
                        : mm_pacs_stow (srv, (const char *const *) files, &r, NULL, &err);
    mm_dimse_peer_clear (&peer);
    if (!sent)
      {
        mm_cli_error ("pacs send: %s", err->message);
        goto out;
      }
    printf ("%s %u of %u instances accepted by %s%s%s\n",
            r.n_failed == 0 ? "Sent    " : "Refused ", r.n_accepted, r.n_sent, name,
            r.message ? ": " : "", r.message ? r.message : "");
    rc = r.n_failed == 0 && r.n_accepted == r.n_sent ? MM_EXIT_OK : MM_EXIT_INPUT;
    mm_pacs_stow_result_clear (&r);
  }
out:
  conn_clear (&c);
  g_strfreev (files);
  return rc;
}

static int
pacs_thumbnail (int argc, char **argv)
{
  Conn c = { 0 };
  char *study = NULL, *series = NULL, *out_file = NULL;
  GOptionEntry entries[] = {
    CONN_ENTRIES (c),
    { "study", 0, 0, G_OPTION_ARG_STRING, &study, "Study Instance UID (required)", "UID" },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID (required)", "UID" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out_file, "Write the PNG here (required)", "FILE" },
    { NULL },
  };
  const MmCliRange ranges[] = { CONN_RANGE, { NULL } };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("pacs thumbnail", "--url URL --study UID --series UID --out FILE.png",
                     "Writes the server's rendered thumbnail (WADO-RS rendered, about 64x64 "
                     "PNG) of the series' middle instance, as the app shows it. DICOMweb "
                     "only.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (!mm_pacs_uid_ok (study) || !mm_pacs_uid_ok (series) || out_file == NULL)
    {
      mm_cli_error ("pacs thumbnail: give --study and --series as UIDs and --out");
      goto out;
    }
  if (c.dimse)
    {
      mm_cli_error ("pacs thumbnail: DIMSE servers offer no rendered thumbnails");
      goto out;
    }
  {
    g_autoptr (MmPacsServer) srv = connect_server ("pacs thumbnail", &c);
    if (srv == NULL)
      goto out;
    g_autoptr (GError) err = NULL;
    g_autoptr (GBytes) png = mm_pacs_thumbnail (srv, study, series, NULL, &err);
    rc = MM_EXIT_INPUT;
    if (png == NULL)
      {
        mm_cli_error ("pacs thumbnail: %s", err->message);
        goto out;
      }
    gsize len = 0;
    const char *data = g_bytes_get_data (png, &len);
    if (!g_file_set_contents (out_file, data, (gssize) len, &err))
      {
        mm_cli_error ("pacs thumbnail: %s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    rc = MM_EXIT_OK;
  }
out:
  conn_clear (&c);
  g_free (study);
  g_free (series);
  g_free (out_file);
  return rc;
}

int
mm_cli_pacs (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    int (*run) (int, char **);
    const char *help;
  } sub[] = {
    { "echo", pacs_echo, "test the connection to a DICOMweb server" },
    { "find", pacs_find, "search studies (or a study's series), QIDO-RS" },
    { "get", pacs_get, "retrieve a series into a folder or the cache, WADO-RS" },
    { "send", pacs_send, "send DICOM files (a SEG) to the server, STOW-RS" },
    { "thumbnail", pacs_thumbnail, "a series' rendered thumbnail as PNG, WADO-RS" },
  };
  if (argc >= 2)
    for (size_t i = 0; i < G_N_ELEMENTS (sub); i++)
      if (strcmp (argv[1], sub[i].name) == 0)
        {
          /* "pacs find" as argv[0] so that the option parser names the whole command. */
          argv[1] = argv[0];
          return sub[i].run (argc - 1, argv + 1);
        }
  FILE *out = argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
                ? stdout
                : stderr;
  fprintf (out, "Usage: metalmark-cli pacs COMMAND [OPTIONS...]\n\nCommands:\n");
  for (size_t i = 0; i < G_N_ELEMENTS (sub); i++)
    fprintf (out, "  %-9s %s\n", sub[i].name, sub[i].help);
  return out == stdout ? MM_EXIT_OK : MM_EXIT_USAGE;
}
