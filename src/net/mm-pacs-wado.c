/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-wado.h"

#include "mm-error.h"
#include "mm-multipart.h"
#include "mm-pacs-qido.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>
#include <unistd.h>

void
mm_pacs_limits_init (MmPacsLimits *lim)
{
  lim->max_bytes = 16ull << 30;
  lim->max_part_bytes = 2ull << 30;
  lim->max_instances = 100000;
}

typedef struct
{
  const char *dir; /* the temporary folder */
  const char *url; /* for messages */
  const MmPacsLimits *lim;
  int fd;
  guint n_files;      /* files created (complete or not) */
  guint n_done;       /* files complete */
  guint64 part_bytes; /* of the current part */
  guint64 total;      /* of all parts */
  guint8 head[132];   /* the first bytes of the part: the Part 10 preamble and "DICM" */
} Sink;

static char *
part_path (const char *dir, guint i)
{
  char name[32];
  g_snprintf (name, sizeof name, "%06u.dcm", i);
  return g_build_filename (dir, name, NULL);
}

static bool
sink_begin (const char *content_type, gpointer user, GError **error)
{
  Sink *s = user;
  /* application/dicom, with parameters (transfer-syntax=...) or not; not dicom+json etc. */
  if (g_ascii_strncasecmp (content_type, "application/dicom", 17) != 0
      || (content_type[17] != '\0' && content_type[17] != ';' && content_type[17] != ' '))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "PACS %s: part %u of the answer is '%s', not application/dicom", s->url,
                   s->n_files + 1, *content_type ? content_type : "(no content type)");
      return false;
    }
  if (s->n_files >= s->lim->max_instances)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "PACS %s: the series has more than %u instances", s->url,
                   s->lim->max_instances);
      return false;
    }
  g_autofree char *path = part_path (s->dir, ++s->n_files);
  s->fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (s->fd < 0)
    return mm_error_errno (error, errno, path, "create the retrieved file");
  s->part_bytes = 0;
  return true;
}

static bool
sink_data (const guint8 *data, gsize len, gpointer user, GError **error)
{
  Sink *s = user;
  if (s->part_bytes + len > s->lim->max_part_bytes || s->total + len > s->lim->max_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "PACS %s: the answer is larger than allowed (%" G_GUINT64_FORMAT
                   " bytes per instance, %" G_GUINT64_FORMAT " in all)",
                   s->url, s->lim->max_part_bytes, s->lim->max_bytes);
      return false;
    }
  if (s->part_bytes < sizeof s->head)
    {
      gsize n = MIN (len, sizeof s->head - s->part_bytes);
      memcpy (s->head + s->part_bytes, data, n);
    }
  s->part_bytes += len;
  s->total += len;
  while (len > 0)
    {
      ssize_t w = write (s->fd, data, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          g_autofree char *path = part_path (s->dir, s->n_files);
          return mm_error_errno (error, errno, path, "write the retrieved file");
        }
      data += w;
      len -= (gsize) w;
    }
  return true;
}

static bool
sink_end (gpointer user, GError **error)
{
  Sink *s = user;
  int fd = s->fd;
  s->fd = -1;
  if (close (fd) != 0)
    {
      g_autofree char *path = part_path (s->dir, s->n_files);
      return mm_error_errno (error, errno, path, "write the retrieved file");
    }
  if (s->part_bytes < sizeof s->head || memcmp (s->head + 128, "DICM", 4) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "PACS %s: instance %u of the answer is not a DICOM file (no DICM "
                   "preamble)", s->url, s->n_files);
      return false;
    }
  s->n_done++;
  return true;
}

/* Remove what the retrieval created in dir (only our own file names), then dir. */
static void
remove_partial (const char *dir, guint n_files)
{
  for (guint i = 1; i <= n_files; i++)
    {
      g_autofree char *path = part_path (dir, i);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* A cached series as the rename left it: files 000001.dcm... numbered without a gap, each a
 * DICOM Part 10 file. The files are not flushed to disk before the rename (that would make a
 * retrieval wait for the disk; curl does not either), so after a power loss a folder may hold
 * empty files: this check finds them and the series is fetched again. */
static void remove_folder (const char *dir);

static bool
cached_series_ok (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return false;
  guint n = 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  g_dir_close (d);
  if (n == 0)
    return false;
  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *path = part_path (dir, i);
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return false;
      guint8 head[132];
      ssize_t got = pread (fd, head, sizeof head, 0);
      close (fd);
      if (got != (ssize_t) sizeof head || memcmp (head + 128, "DICM", 4) != 0)
        return false;
    }
  return true;
}

guint
mm_pacs_retrieve_series (MmPacsServer *srv, const char *study_uid, const char *series_uid,
                         const char *dest, const MmPacsLimits *lim, MmPacsProgress progress,
                         gpointer user, GCancellable *cancellable, GError **error)
{
  MmPacsLimits dflt;
  if (lim == NULL)
    {
      mm_pacs_limits_init (&dflt);
      lim = &dflt;
    }
  if (!mm_pacs_uid_ok (study_uid) || !mm_pacs_uid_ok (series_uid))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a Study / Series Instance UID (digits and dots, at most 64)",
                   !mm_pacs_uid_ok (study_uid) ? (study_uid ? study_uid : "")
                                               : (series_uid ? series_uid : ""));
      return 0;
    }
  /* The destination: absent, or an empty folder (rename replaces an empty folder). */
  GDir *existing = g_dir_open (dest, 0, NULL);
  if (existing != NULL)
    {
      bool empty = g_dir_read_name (existing) == NULL;
      g_dir_close (existing);
      if (!empty)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       "%s: the folder exists and is not empty; give a new folder", dest);
          return 0;
        }
    }
  else if (g_file_test (dest, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s: exists and is not a folder",
                   dest);
      return 0;
    }
  g_autofree char *tmpl = g_strconcat (dest, ".partial-XXXXXX", NULL);
  if (g_mkdtemp_full (tmpl, 0755) == NULL)
    {
      mm_error_errno (error, errno, tmpl, "create a temporary folder");
      return 0;
    }

  Sink sink = { .dir = tmpl, .url = srv->base_url, .lim = lim, .fd = -1 };
  g_autofree char *path
    = g_strconcat ("/studies/", study_uid, "/series/", series_uid, NULL);
  g_autoptr (SoupMessage) msg = mm_pacs_server_message (srv, "GET", path);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                "multipart/related; type=\"application/dicom\"; "
                                "transfer-syntax=*");
  g_autoptr (GInputStream) in = mm_pacs_server_send (srv, msg, cancellable, error);
  g_autoptr (MmMultipart) mp = NULL;
  if (in == NULL)
    goto failed;
  {
    const char *ctype = soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                      "Content-Type");
    g_autoptr (GError) berr = NULL;
    g_autofree char *boundary = mm_multipart_boundary (ctype, &berr);
    if (boundary == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "PACS %s: %s",
                     srv->base_url, berr->message);
        goto failed;
      }
    static const MmMultipartHandler handler = { sink_begin, sink_data, sink_end };
    mp = mm_multipart_new (boundary, &handler, &sink, &berr);
    if (mp == NULL)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "PACS %s: %s",
                     srv->base_url, berr->message);
        goto failed;
      }
  }
  {
    /* Bounded memory: one chunk and the parser's small carry-over. */
    gsize chunk_size = 1u << 20;
    g_autofree guint8 *chunk = g_malloc (chunk_size);
    guint64 received = 0;
    for (;;)
      {
        g_autoptr (GError) err = NULL;
        /* Whole chunks: the body stream hands out what one socket read gave; fewer, larger
         * pieces mean fewer parser passes and write calls. */
        gsize got_all = 0;
        gssize got = g_input_stream_read_all (in, chunk, chunk_size, &got_all, cancellable,
                                              &err)
                       ? (gssize) got_all
                       : -1;
        if (got < 0)
          {
            if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
              g_propagate_error (error, g_steal_pointer (&err));
            else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                           "PACS %s: the answer stopped for %u s (timed out) after %u "
                           "instances", srv->base_url, srv->timeout_s, sink.n_done);
            else
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                           "PACS %s: the answer broke off after %u instances: %s",
                           srv->base_url, sink.n_done, err->message);
            goto failed;
          }
        if (got == 0)
          break;
        received += (guint64) got;
        if (!mm_multipart_feed (mp, chunk, (gsize) got, error))
          goto failed_prefixed;
        if (progress)
          progress (received, sink.n_done, user);
      }
    if (!mm_multipart_finish (mp, error))
      goto failed_prefixed;
  }
  if (sink.n_done == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "PACS %s: the series %s has no instance", srv->base_url, series_uid);
      goto failed;
    }
  if (g_rename (tmpl, dest) != 0)
    {
      mm_error_errno (error, errno, dest, "move the retrieved series into place");
      goto failed;
    }
  return sink.n_done;

failed_prefixed:
  /* Parser errors name no server: add it, once. */
  if (error && *error && !g_str_has_prefix ((*error)->message, "PACS "))
    g_prefix_error (error, "PACS %s: ", srv->base_url);
failed:
  if (sink.fd >= 0)
    close (sink.fd);
  remove_partial (tmpl, sink.n_files);
  return 0;
}

char *
mm_pacs_cache_default_root (void)
{
  return g_build_filename (g_get_user_cache_dir (), "metalmark", "pacs", NULL);
}

char *
mm_pacs_cache_key (const char *base_url, const char *study_uid, const char *series_uid)
{
  g_autofree char *text = g_strjoin ("\n", base_url, study_uid, series_uid, NULL);
  g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  return g_strdup_printf ("series-%.32s", hex);
}

static guint64
folder_bytes (const char *dir)
{
  guint64 total = 0;
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return 0;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      GStatBuf st;
      if (g_lstat (p, &st) == 0 && S_ISREG (st.st_mode))
        total += (guint64) st.st_blocks * 512u;
    }
  g_dir_close (d);
  return total;
}

typedef struct
{
  char *name;
  gint64 used; /* the folder's mtime, set when it is used */
  guint64 bytes;
} Entry;

static gint
by_use (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;
  return x->used < y->used ? -1 : x->used > y->used;
}

static void
remove_folder (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      /* Only the files a retrieval writes. */
      if (!g_str_has_suffix (name, ".dcm"))
        continue;
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

guint64
mm_pacs_cache_evict (const char *root, guint64 max_bytes, const char *keep)
{
  GDir *d = g_dir_open (root, 0, NULL);
  if (d == NULL)
    return 0;
  g_autoptr (GArray) entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  guint64 total = 0;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      /* DICOMweb writes series-KEY.partial-XXXXXX, DIMSE .series-KEY.part-XXXXXX (hidden:
       * mm-dimse.cc); both are renamed into place only when complete. */
      bool dimse_part = g_str_has_prefix (name, ".series-") && strstr (name, ".part-") != NULL;
      if (!g_str_has_prefix (name, "series-") && !dimse_part)
        continue;
      g_autofree char *p = g_build_filename (root, name, NULL);
      GStatBuf st;
      if (g_lstat (p, &st) != 0 || !S_ISDIR (st.st_mode))
        continue;
      if (dimse_part || strstr (name, ".partial-") != NULL)
        {
          /* A retrieval killed midway; a running one touches its folder constantly. */
          if (now - st.st_mtime > 3600)
            remove_folder (p);
          continue;
        }
      Entry e = { g_strdup (name), st.st_mtime, folder_bytes (p) };
      total += e.bytes;
      g_array_append_val (entries, e);
    }
  g_dir_close (d);
  g_array_sort (entries, by_use);
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = &g_array_index (entries, Entry, i);
      if (total > max_bytes && g_strcmp0 (e->name, keep) != 0)
        {
          g_autofree char *p = g_build_filename (root, e->name, NULL);
          remove_folder (p);
          total -= e->bytes;
        }
      g_free (e->name);
    }
  return total;
}

char *
mm_pacs_cache_series (MmPacsServer *srv, const char *root, guint64 max_bytes,
                      const char *study_uid, const char *series_uid, const MmPacsLimits *lim,
                      MmPacsProgress progress, gpointer user, GCancellable *cancellable,
                      GError **error)
{
  if (g_mkdir_with_parents (root, 0700) != 0)
    {
      mm_error_errno (error, errno, root, "create the cache folder");
      return NULL;
    }
  g_autofree char *key = mm_pacs_cache_key (srv->base_url, study_uid, series_uid);
  g_autofree char *dir = g_build_filename (root, key, NULL);
  if (g_file_test (dir, G_FILE_TEST_IS_DIR) && !cached_series_ok (dir))
    remove_folder (dir);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR)
      && mm_pacs_retrieve_series (srv, study_uid, series_uid, dir, lim, progress, user,
                                  cancellable, error)
           == 0)
    return NULL;
  /* The folder's mtime is its last use, for the LRU order. */
  g_utime (dir, NULL);
  mm_pacs_cache_evict (root, max_bytes, key);
  return g_steal_pointer (&dir);
}
