/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-conn.h"

#include "mm-pacs-qido.h"
#include "mm-pacs-stow.h"
#include "mm-pacs-thumb.h"

MmPacsConn *
mm_pacs_conn_new_dicomweb (const char *url, MmPacsAuth auth, const char *user,
                           const char *secret, guint timeout_s, GError **error)
{
  MmPacsServer *srv = mm_pacs_server_new (url, auth, user, secret, error);
  if (srv == NULL)
    return NULL;
  if (timeout_s > 0)
    mm_pacs_server_set_timeout (srv, timeout_s);
  MmPacsConn *conn = g_new0 (MmPacsConn, 1);
  conn->kind = MM_PACS_KIND_DICOMWEB;
  conn->web = srv;
  return conn;
}

MmPacsConn *
mm_pacs_conn_new_dimse (const char *spec, const char *our_aet, guint timeout_s,
                        GError **error)
{
  mm_dimse_init ();
  MmPacsConn *conn = g_new0 (MmPacsConn, 1);
  conn->kind = MM_PACS_KIND_DIMSE;
  if (!mm_dimse_peer_parse (spec ? spec : "", our_aet && *our_aet ? our_aet : NULL, timeout_s,
                            &conn->peer, error))
    {
      g_free (conn);
      return NULL;
    }
  return conn;
}

void
mm_pacs_conn_free (MmPacsConn *conn)
{
  if (conn == NULL)
    return;
  g_clear_pointer (&conn->web, mm_pacs_server_free);
  mm_dimse_peer_clear (&conn->peer);
  g_free (conn);
}

char *
mm_pacs_conn_name (const MmPacsConn *conn)
{
  return conn->kind == MM_PACS_KIND_DIMSE ? mm_dimse_peer_name (&conn->peer)
                                          : g_strdup (conn->web->base_url);
}

bool
mm_pacs_conn_echo (MmPacsConn *conn, GCancellable *cancellable, GError **error)
{
  return conn->kind == MM_PACS_KIND_DIMSE ? mm_dimse_echo (&conn->peer, error)
                                          : mm_pacs_server_echo (conn->web, cancellable, error);
}

GPtrArray *
mm_pacs_conn_find_studies (MmPacsConn *conn, const MmPacsQuery *q, GCancellable *cancellable,
                           GError **error)
{
  if (conn->kind == MM_PACS_KIND_DIMSE)
    {
      GPtrArray *res = mm_dimse_find_studies (&conn->peer, q, error);
      /* C-FIND has no limit of its own (the CLI's --limit is applied alike). */
      if (res && q->limit > 0 && res->len > q->limit)
        g_ptr_array_set_size (res, q->limit);
      return res;
    }
  return mm_pacs_find_studies (conn->web, q, cancellable, error);
}

GPtrArray *
mm_pacs_conn_find_series (MmPacsConn *conn, const MmPacsQuery *q, GCancellable *cancellable,
                          GError **error)
{
  return conn->kind == MM_PACS_KIND_DIMSE ? mm_dimse_find_series (&conn->peer, q, error)
                                          : mm_pacs_find_series (conn->web, q, cancellable,
                                                                 error);
}

GBytes *
mm_pacs_conn_thumbnail (MmPacsConn *conn, const char *study_uid, const char *series_uid,
                        GCancellable *cancellable, GError **error)
{
  if (conn->kind == MM_PACS_KIND_DIMSE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "DIMSE servers offer no rendered thumbnails");
      return NULL;
    }
  return mm_pacs_thumbnail (conn->web, study_uid, series_uid, cancellable, error);
}

bool
mm_pacs_conn_send (MmPacsConn *conn, const char *const *files, MmPacsStowResult *r,
                   GCancellable *cancellable, GError **error)
{
  return conn->kind == MM_PACS_KIND_DIMSE
             ? mm_dimse_store_files (&conn->peer, files, r, error)
             : mm_pacs_stow (conn->web, files, r, cancellable, error);
}

char *
mm_pacs_conn_send_summary (const MmPacsConn *conn, const MmPacsStowResult *r)
{
  g_autofree char *name = mm_pacs_conn_name (conn);
  if (r->n_failed == 0 && r->n_accepted == r->n_sent)
    return g_strdup_printf ("Sent %u of %u instances to %s: accepted%s%s", r->n_accepted,
                            r->n_sent, name, r->message ? " with warnings: " : ".",
                            r->message ? r->message : "");
  return g_strdup_printf ("%s refused %u of %u instances%s%s", name,
                          r->n_sent - r->n_accepted, r->n_sent, r->message ? ": " : ".",
                          r->message ? r->message : "");
}

void
mm_pacs_conn_get_async (MmPacsConn *conn, const MmPacsGet *req, MmPacsProgress progress,
                        gpointer progress_data, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  if (conn->kind == MM_PACS_KIND_DIMSE)
    mm_pacs_dimse_get_async (&conn->peer, req, progress, progress_data, cancellable, callback,
                             user_data);
  else
    mm_pacs_get_async (conn->web, req, progress, progress_data, cancellable, callback,
                       user_data);
}
