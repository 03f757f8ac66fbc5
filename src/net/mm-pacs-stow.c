/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-stow.h"

#include "mm-json.h"

#include <string.h>

void
mm_pacs_stow_result_clear (MmPacsStowResult *r)
{
  g_clear_pointer (&r->message, g_free);
  memset (r, 0, sizeof *r);
}

/* PS3.18 / PS3.4 status codes a STOW-RS Failure Reason (0008,1197) carries. */
static const char *
failure_text (gint64 code)
{
  switch (code)
    {
    case 0x0110:
      return "processing failure";
    case 0x0122:
      return "SOP class not supported";
    case 0x0124:
      return "not authorized";
    case 0xA700:
      return "out of resources";
    case 0xA900:
      return "data set does not match the SOP class";
    case 0xB000:
      return "coercion of data elements";
    case 0xB006:
      return "elements discarded";
    case 0xB007:
      return "data set does not match the SOP class (warning)";
    case 0xC122:
      return "referenced transfer syntax not supported";
    default:
      if (code >= 0xC000 && code <= 0xCFFF)
        return "cannot understand";
      return "refused";
    }
}

static JsonArray *
seq_items (JsonObject *ds, const char *tag)
{
  JsonNode *n = json_object_get_member (ds, tag);
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  return mm_json_member_array (json_node_get_object (n), "Value");
}

static gint64
first_int (JsonObject *ds, const char *tag)
{
  JsonArray *a = seq_items (ds, tag);
  if (a == NULL || json_array_get_length (a) < 1)
    return -1;
  return mm_json_array_int (a, 0, -1);
}

static void
parse_answer (JsonObject *ds, MmPacsStowResult *r)
{
  GString *msg = g_string_new (NULL);
  JsonArray *ok = seq_items (ds, "00081199");
  JsonArray *bad = seq_items (ds, "00081198");
  r->n_accepted = ok ? json_array_get_length (ok) : 0;
  r->n_failed = bad ? json_array_get_length (bad) : 0;
  for (guint i = 0; bad && i < json_array_get_length (bad) && i < 8; i++)
    {
      JsonObject *item = mm_json_array_object (bad, i);
      gint64 code = item ? first_int (item, "00081197") : -1;
      g_string_append_printf (msg, "%sinstance refused: %s (0x%04" G_GINT64_MODIFIER "X)",
                              msg->len ? "; " : "", failure_text (code), code < 0 ? 0 : code);
    }
  for (guint i = 0; ok && i < json_array_get_length (ok); i++)
    {
      JsonObject *item = mm_json_array_object (ok, i);
      gint64 code = item ? first_int (item, "00081196") : -1;
      if (code >= 0)
        {
          r->n_warnings++;
          if (r->n_warnings <= 4)
            g_string_append_printf (msg, "%swarning: %s (0x%04" G_GINT64_MODIFIER "X)",
                                    msg->len ? "; " : "", failure_text (code), code);
        }
    }
  r->message = msg->len ? g_string_free (msg, FALSE) : (g_string_free (msg, TRUE), NULL);
}

bool
mm_pacs_stow (MmPacsServer *srv, const char *const *files, MmPacsStowResult *r,
              GCancellable *cancellable, GError **error)
{
  memset (r, 0, sizeof *r);
  /* A boundary that cannot occur in the files is checked below, not hoped for. */
  g_autofree char *boundary = g_strdup_printf ("metalmark-%08x%08x%08x", g_random_int (),
                                               g_random_int (), g_random_int ());
  g_autofree char *delim = g_strconcat ("\r\n--", boundary, NULL);
  GByteArray *body = g_byte_array_new ();
  for (guint i = 0; files[i]; i++)
    {
      g_autoptr (GMappedFile) mf = g_mapped_file_new (files[i], FALSE, error);
      if (mf == NULL)
        goto failed;
      gsize len = g_mapped_file_get_length (mf);
      const char *data = g_mapped_file_get_contents (mf);
      /* The request is built in memory: one cap for all the files together. */
      if (len > MM_PACS_STOW_FILE_MAX || body->len + len > MM_PACS_STOW_FILE_MAX)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       "%s: the files to send are larger than the %llu MiB one request may "
                       "carry; send fewer at a time", files[i],
                       (unsigned long long) (MM_PACS_STOW_FILE_MAX >> 20));
          goto failed;
        }
      if (len < 132 || memcmp (data + 128, "DICM", 4) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: not a DICOM Part 10 file (no DICM preamble); only such files "
                       "can be sent", files[i]);
          goto failed;
        }
      if (memmem (data, len, delim + 2, strlen (delim) - 2) != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "%s: holds the multipart boundary by chance; send it again", files[i]);
          goto failed;
        }
      const char *head = i == 0 ? "--" : "\r\n--";
      g_byte_array_append (body, (const guint8 *) head, (guint) strlen (head));
      g_byte_array_append (body, (const guint8 *) boundary, (guint) strlen (boundary));
      static const char part_head[] = "\r\nContent-Type: application/dicom\r\n\r\n";
      g_byte_array_append (body, (const guint8 *) part_head, sizeof part_head - 1);
      g_byte_array_append (body, (const guint8 *) data, (guint) len);
      r->n_sent++;
    }
  {
    g_autofree char *tail = g_strconcat ("\r\n--", boundary, "--\r\n", NULL);
    g_byte_array_append (body, (const guint8 *) tail, (guint) strlen (tail));
  }
  {
    g_autoptr (GBytes) bytes = g_byte_array_free_to_bytes (body);
    body = NULL;
    g_autoptr (SoupMessage) msg = mm_pacs_server_message (srv, "POST", "/studies");
    g_autofree char *ctype = g_strdup_printf (
      "multipart/related; type=\"application/dicom\"; boundary=%s", boundary);
    soup_message_set_request_body_from_bytes (msg, ctype, bytes);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept",
                                  "application/dicom+json");
    g_autoptr (GInputStream) in = mm_pacs_server_send_any (srv, msg, cancellable, error);
    if (in == NULL)
      return false;
    guint status = soup_message_get_status (msg);
    /* 200 all stored, 202 some refused or with warnings, 409 none stored: all three carry
     * the per-instance answer. Anything else is an HTTP failure. */
    if (status != 200 && status != 202 && status != 409)
      {
        mm_pacs_server_status_error (srv, msg, error);
        if (status == 400 && error && *error)
          {
            /* Orthanc answers 400 to a file it refuses as a whole; say the usual cause. */
            char *m = g_strconcat ((*error)->message,
                                   " (a data set without SOP Instance UID, SOP Class UID or "
                                   "Patient ID, e.g. one kept only in the file meta, is "
                                   "refused)", NULL);
            g_free ((*error)->message);
            (*error)->message = m;
          }
        return false;
      }
    g_autoptr (GBytes) answer
      = mm_pacs_server_read_stream (srv, msg, in, 16u << 20, cancellable, error);
    if (answer == NULL)
      return false;
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_autofree char *name = g_strdup_printf ("PACS %s", srv->base_url);
    gsize len = 0;
    const char *text = g_bytes_get_data (answer, &len);
    if (!mm_json_load_data (parser, text, (gssize) len, name, "STOW-RS answer", error))
      return false;
    JsonNode *root = json_parser_get_root (parser);
    /* Some servers wrap the data set in a one-element array. */
    if (root && JSON_NODE_HOLDS_ARRAY (root) && json_array_get_length (json_node_get_array (root)) == 1)
      root = json_array_get_element (json_node_get_array (root), 0);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "PACS %s: the STOW-RS answer is not a DICOM JSON data set",
                     srv->base_url);
        return false;
      }
    parse_answer (json_node_get_object (root), r);
    if (status == 409 && r->n_failed == 0)
      {
        r->n_failed = r->n_sent - MIN (r->n_sent, r->n_accepted);
        if (r->message == NULL)
          r->message = g_strdup ("the server refused the data (HTTP 409) without a reason");
      }
    return true;
  }

failed:
  if (body)
    g_byte_array_unref (body);
  return false;
}
