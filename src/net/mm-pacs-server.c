/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-server.h"

#include "mm-json.h"
#include "mm-limits.h"

#include <string.h>

bool
mm_pacs_auth_parse (const char *name, MmPacsAuth *out)
{
  if (g_strcmp0 (name, "none") == 0)
    *out = MM_PACS_AUTH_NONE;
  else if (g_strcmp0 (name, "basic") == 0)
    *out = MM_PACS_AUTH_BASIC;
  else if (g_strcmp0 (name, "bearer") == 0)
    *out = MM_PACS_AUTH_BEARER;
  else
    return false;
  return true;
}

MmPacsServer *
mm_pacs_server_new (const char *base_url, MmPacsAuth auth, const char *user,
                    const char *secret, GError **error)
{
  g_autoptr (GUri) uri = base_url ? g_uri_parse (base_url, G_URI_FLAGS_NONE, NULL) : NULL;
  const char *scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0)
      || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "'%s' is not an http:// or https:// DICOMweb URL", base_url ? base_url : "");
      return NULL;
    }
  if (g_uri_get_userinfo (uri) != NULL)
    {
      /* A password in the URL would end up in shell histories and error messages. */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the DICOMweb URL must not hold a user name or password: give them as "
                   "basic authentication");
      return NULL;
    }
  if (auth == MM_PACS_AUTH_BASIC && (user == NULL || secret == NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "basic authentication needs a user name and a password");
      return NULL;
    }
  if (auth == MM_PACS_AUTH_BEARER && secret == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "bearer authentication needs a token");
      return NULL;
    }
  MmPacsServer *srv = g_new0 (MmPacsServer, 1);
  srv->base_url = g_strdup (base_url);
  gsize n = strlen (srv->base_url);
  while (n > 0 && srv->base_url[n - 1] == '/')
    srv->base_url[--n] = '\0';
  srv->auth = auth;
  srv->user = g_strdup (user);
  srv->secret = g_strdup (secret);
  /* libsoup verifies TLS certificates against the system's store by default; nothing here
   * turns that off. */
  srv->session = soup_session_new_with_options ("user-agent", "Metalmark/" MM_VERSION,
                                                "max-conns-per-host", 4, NULL);
  mm_pacs_server_set_timeout (srv, MM_PACS_TIMEOUT_DEFAULT);
  return srv;
}

void
mm_pacs_server_free (MmPacsServer *srv)
{
  if (srv == NULL)
    return;
  g_free (srv->base_url);
  g_free (srv->user);
  if (srv->secret)
    {
      memset (srv->secret, 0, strlen (srv->secret));
      g_free (srv->secret);
    }
  g_clear_object (&srv->session);
  g_free (srv);
}

void
mm_pacs_server_set_timeout (MmPacsServer *srv, guint seconds)
{
  srv->timeout_s = CLAMP (seconds, 1, 3600);
  soup_session_set_timeout (srv->session, srv->timeout_s);
  g_object_set (srv->session, "idle-timeout", srv->timeout_s, NULL);
}

SoupMessage *
mm_pacs_server_message (MmPacsServer *srv, const char *method, const char *path)
{
  g_autofree char *url = g_strconcat (srv->base_url, path, NULL);
  SoupMessage *msg = soup_message_new (method, url);
  if (msg == NULL)
    return NULL;
  /* A redirect could carry the Authorization header to another host: never followed. */
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  if (srv->auth == MM_PACS_AUTH_BASIC)
    {
      g_autofree char *pair = g_strconcat (srv->user, ":", srv->secret, NULL);
      g_autofree char *b64 = g_base64_encode ((const guchar *) pair, strlen (pair));
      g_autofree char *value = g_strconcat ("Basic ", b64, NULL);
      soup_message_headers_replace (h, "Authorization", value);
      memset (pair, 0, strlen (pair));
    }
  else if (srv->auth == MM_PACS_AUTH_BEARER)
    {
      g_autofree char *value = g_strconcat ("Bearer ", srv->secret, NULL);
      soup_message_headers_replace (h, "Authorization", value);
    }
  return msg;
}

static const char *
status_hint (guint status)
{
  switch (status)
    {
    case 400:
      return "the server did not understand the request";
    case 401:
      return "the server wants credentials: check the authentication, user name and password "
             "or token";
    case 403:
      return "these credentials may not do this on the server";
    case 404:
      return "not found: check the DICOMweb base URL and the UIDs";
    case 406:
    case 415:
      return "the server does not offer this DICOMweb media type";
    case 409:
      return "the server refused the data";
    default:
      if (status >= 500)
        return "the server failed; its log says why";
      if (status >= 300 && status < 400)
        return "the server redirects elsewhere; give the final URL";
      return "unexpected answer";
    }
}

GInputStream *
mm_pacs_server_send_any (MmPacsServer *srv, SoupMessage *msg, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (GError) err = NULL;
  GInputStream *in = soup_session_send (srv->session, msg, cancellable, &err);
  if (in != NULL)
    return in;
  if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_steal_pointer (&err));
  else if (err->domain == G_TLS_ERROR)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "PACS %s: the TLS connection failed (%s); the server's certificate must "
                 "be trusted by the system", srv->base_url, err->message);
  else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "PACS %s: no answer within %u s (timed out)", srv->base_url, srv->timeout_s);
  else
    g_set_error (error, G_IO_ERROR, err->domain == G_IO_ERROR ? err->code : G_IO_ERROR_FAILED,
                 "PACS %s: cannot connect: %s", srv->base_url, err->message);
  return NULL;
}

bool
mm_pacs_server_status_error (MmPacsServer *srv, SoupMessage *msg, GError **error)
{
  guint status = soup_message_get_status (msg);
  if (status >= 200 && status <= 299)
    return false;
  const char *reason = soup_message_get_reason_phrase (msg);
  g_set_error (error, G_IO_ERROR,
               status == 401 || status == 403
                 ? G_IO_ERROR_PERMISSION_DENIED
                 : (status == 404 ? G_IO_ERROR_NOT_FOUND : G_IO_ERROR_FAILED),
               "PACS %s: HTTP %u %s: %s", srv->base_url, status,
               reason && *reason ? reason : soup_status_get_phrase (status),
               status_hint (status));
  return true;
}

GInputStream *
mm_pacs_server_send (MmPacsServer *srv, SoupMessage *msg, GCancellable *cancellable,
                     GError **error)
{
  GInputStream *in = mm_pacs_server_send_any (srv, msg, cancellable, error);
  if (in != NULL && mm_pacs_server_status_error (srv, msg, error))
    {
      g_input_stream_close (in, NULL, NULL);
      g_clear_object (&in);
    }
  return in;
}

GBytes *
mm_pacs_server_read_stream (MmPacsServer *srv, SoupMessage *msg, GInputStream *in,
                            gsize max_bytes, GCancellable *cancellable, GError **error)
{
  goffset declared = soup_message_headers_get_content_length (
    soup_message_get_response_headers (msg));
  if (declared > 0 && (guint64) declared > max_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "PACS %s: the answer is %" G_GINT64_FORMAT " bytes, more than the %zu "
                   "allowed", srv->base_url, (gint64) declared, max_bytes);
      return NULL;
    }
  g_autoptr (GByteArray) body = g_byte_array_new ();
  guint8 chunk[65536];
  for (;;)
    {
      g_autoptr (GError) err = NULL;
      gssize got = g_input_stream_read (in, chunk, sizeof chunk, cancellable, &err);
      if (got < 0)
        {
          if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                         "PACS %s: the answer stopped for %u s (timed out)", srv->base_url,
                         srv->timeout_s);
          else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&err));
          else
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                         "PACS %s: the answer broke off: %s", srv->base_url, err->message);
          return NULL;
        }
      if (got == 0)
        break;
      if (body->len + (gsize) got > max_bytes)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       "PACS %s: the answer is longer than the %zu bytes allowed",
                       srv->base_url, max_bytes);
          return NULL;
        }
      g_byte_array_append (body, chunk, (guint) got);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&body));
}

GBytes *
mm_pacs_server_read_body (MmPacsServer *srv, SoupMessage *msg, gsize max_bytes,
                          GCancellable *cancellable, GError **error)
{
  g_autoptr (GInputStream) in = mm_pacs_server_send (srv, msg, cancellable, error);
  if (in == NULL)
    return NULL;
  return mm_pacs_server_read_stream (srv, msg, in, max_bytes, cancellable, error);
}

JsonNode *
mm_pacs_server_get_json (MmPacsServer *srv, const char *path, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (SoupMessage) msg = mm_pacs_server_message (srv, "GET", path);
  if (msg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "PACS %s: the query cannot be made into a URL", srv->base_url);
      return NULL;
    }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                "application/dicom+json");
  g_autoptr (GBytes) body
    = mm_pacs_server_read_body (srv, msg, MM_LIMIT_JSON_BYTES, cancellable, error);
  if (body == NULL)
    return NULL;
  /* QIDO-RS answers 204 No Content when nothing matches. */
  if (g_bytes_get_size (body) == 0)
    return json_node_init_array (json_node_alloc (), json_array_new ());
  const char *ctype = soup_message_headers_get_content_type (
    soup_message_get_response_headers (msg), NULL);
  if (ctype == NULL
      || (g_ascii_strcasecmp (ctype, "application/dicom+json") != 0
          && g_ascii_strcasecmp (ctype, "application/json") != 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "PACS %s: the answer is '%s', not DICOM JSON: is this the DICOMweb root?",
                   srv->base_url, ctype ? ctype : "(no content type)");
      return NULL;
    }
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *name = g_strdup_printf ("PACS %s", srv->base_url);
  gsize len = 0;
  const char *text = g_bytes_get_data (body, &len);
  if (!mm_json_load_data (parser, text, (gssize) len, name, "answer", error))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "PACS %s: the answer is not a JSON array of DICOM data sets",
                   srv->base_url);
      return NULL;
    }
  return json_node_copy (root);
}

bool
mm_pacs_server_echo (MmPacsServer *srv, GCancellable *cancellable, GError **error)
{
  g_autoptr (JsonNode) root = mm_pacs_server_get_json (srv, "/studies?limit=1", cancellable,
                                                       error);
  return root != NULL;
}
