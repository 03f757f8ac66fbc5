/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A PACS connection of either kind, DICOMweb (MmPacsServer) or DIMSE (MmDimsePeer), behind
 * one set of calls: the app's server list holds both kinds, and its dialogs ask the same
 * questions of each (echo, find, get, send). No GTK. */
#pragma once

#include "mm-dimse.h"
#include "mm-pacs-server.h"
#include "mm-pacs-task.h"

G_BEGIN_DECLS

typedef enum
{
  MM_PACS_KIND_DICOMWEB,
  MM_PACS_KIND_DIMSE,
} MmPacsKind;

typedef struct
{
  MmPacsKind kind;
  MmPacsServer *web; /* DICOMweb */
  MmDimsePeer peer;  /* DIMSE */
} MmPacsConn;

/* A DICOMweb connection (see mm_pacs_server_new); timeout_s 0: the default. */
MmPacsConn *mm_pacs_conn_new_dicomweb (const char *url, MmPacsAuth auth, const char *user,
                                       const char *secret, guint timeout_s, GError **error);

/* A DIMSE connection to spec "AET@HOST:PORT" as our_aet (NULL: the default). Calls
 * mm_dimse_init: create DIMSE connections on the main thread. */
MmPacsConn *mm_pacs_conn_new_dimse (const char *spec, const char *our_aet, guint timeout_s,
                                    GError **error);

void mm_pacs_conn_free (MmPacsConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmPacsConn, mm_pacs_conn_free)

/* The URL, or AET@HOST:PORT (newly allocated), for messages. */
char *mm_pacs_conn_name (const MmPacsConn *conn);

/* "Test connection": a QIDO-RS query or a C-ECHO; false with the one-line reason. The DIMSE
 * calls are bounded by the timeout instead of the cancellable. */
bool mm_pacs_conn_echo (MmPacsConn *conn, GCancellable *cancellable, GError **error);

GPtrArray *mm_pacs_conn_find_studies (MmPacsConn *conn, const MmPacsQuery *q,
                                      GCancellable *cancellable, GError **error);
GPtrArray *mm_pacs_conn_find_series (MmPacsConn *conn, const MmPacsQuery *q,
                                     GCancellable *cancellable, GError **error);

/* The series' thumbnail as PNG bytes (see mm_pacs_thumbnail). DIMSE has no rendered
 * resource: a thumbnail would mean a C-GET of a whole instance and decoding its pixels
 * (possibly compressed) in the app, so DIMSE connections give none (NULL with
 * G_IO_ERROR_NOT_SUPPORTED). */
GBytes *mm_pacs_conn_thumbnail (MmPacsConn *conn, const char *study_uid,
                                const char *series_uid, GCancellable *cancellable,
                                GError **error);

/* STOW-RS or C-STORE of files; as mm_pacs_stow. */
bool mm_pacs_conn_send (MmPacsConn *conn, const char *const *files, MmPacsStowResult *r,
                        GCancellable *cancellable, GError **error);

/* The result of a send in one line for the user ("Sent 1 of 1 instances to X: accepted." or
 * "X refused 1 of 1 instances: reason"), newly allocated. */
char *mm_pacs_conn_send_summary (const MmPacsConn *conn, const MmPacsStowResult *r);

/* A series retrieval in a thread, as mm_pacs_get_async, over either kind. For DIMSE the
 * cache key is made of dimse://AET@HOST:PORT and the UIDs (the CLI's). conn must stay alive
 * until callback ran; the result with mm_pacs_get_finish. */
void mm_pacs_conn_get_async (MmPacsConn *conn, const MmPacsGet *req, MmPacsProgress progress,
                             gpointer progress_data, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);

G_END_DECLS
