/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A DICOMweb server as the user configured it, and the HTTP exchange every DICOMweb call
 * shares: authentication, TLS verification (always on), timeouts, no redirects followed,
 * HTTP failures as one-line errors, JSON answers read under a size cap. No GTK: the CLI and
 * the app share it. Secrets are kept here only in memory and never written to any log or
 * error message. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef enum
{
  MM_PACS_AUTH_NONE,
  MM_PACS_AUTH_BASIC,  /* user + password */
  MM_PACS_AUTH_BEARER, /* a token in secret */
} MmPacsAuth;

/* Seconds the default configuration waits for a connection and between two reads. */
#define MM_PACS_TIMEOUT_DEFAULT 30

typedef struct
{
  char *base_url; /* the DICOMweb root, e.g. http://host:8042/dicom-web (no trailing '/') */
  MmPacsAuth auth;
  char *user;
  char *secret; /* password (basic) or token (bearer); never printed */
  guint timeout_s;
  SoupSession *session;
} MmPacsServer;

/* A server for base_url (http or https; anything else, or a URL with user info, is an
 * error). secret may be NULL for MM_PACS_AUTH_NONE. */
MmPacsServer *mm_pacs_server_new (const char *base_url, MmPacsAuth auth, const char *user,
                                  const char *secret, GError **error);
void mm_pacs_server_free (MmPacsServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmPacsServer, mm_pacs_server_free)

/* "none", "basic", "bearer" to the enum; false for anything else. */
bool mm_pacs_auth_parse (const char *name, MmPacsAuth *out);

/* The timeout in seconds (1..3600) for connecting and for each read. */
void mm_pacs_server_set_timeout (MmPacsServer *srv, guint seconds);

/* A request to base_url + path (path starts with '/', its values already escaped) with the
 * authentication header set and redirects not followed. */
SoupMessage *mm_pacs_server_message (MmPacsServer *srv, const char *method, const char *path);

/* Send msg and return the body stream when the status is 2xx; otherwise NULL with a one-line
 * error naming the server, the status and what to check (401: the credentials, ...). */
GInputStream *mm_pacs_server_send (MmPacsServer *srv, SoupMessage *msg,
                                   GCancellable *cancellable, GError **error);

/* The same for any HTTP status (the connection errors only). */
GInputStream *mm_pacs_server_send_any (MmPacsServer *srv, SoupMessage *msg,
                                       GCancellable *cancellable, GError **error);

/* When msg's status is not 2xx: true with the one-line error described above. */
bool mm_pacs_server_status_error (MmPacsServer *srv, SoupMessage *msg, GError **error);

/* The rest of in, at most max_bytes (more is an error; nothing larger is allocated). */
GBytes *mm_pacs_server_read_stream (MmPacsServer *srv, SoupMessage *msg, GInputStream *in,
                                    gsize max_bytes, GCancellable *cancellable,
                                    GError **error);

/* The whole body of a 2xx answer, at most max_bytes (more is an error, nothing larger is
 * allocated). */
GBytes *mm_pacs_server_read_body (MmPacsServer *srv, SoupMessage *msg, gsize max_bytes,
                                  GCancellable *cancellable, GError **error);

/* A GET of path expecting application/dicom+json (or application/json): the parsed root,
 * under the JSON size and depth limits. */
JsonNode *mm_pacs_server_get_json (MmPacsServer *srv, const char *path,
                                   GCancellable *cancellable, GError **error);

/* "Test connection": a QIDO-RS studies query for one result. False with the one-line reason
 * (connection refused, TLS certificate, 401, not a DICOMweb root...). */
bool mm_pacs_server_echo (MmPacsServer *srv, GCancellable *cancellable, GError **error);

G_END_DECLS
