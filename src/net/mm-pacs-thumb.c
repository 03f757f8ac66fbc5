/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-thumb.h"

#include "mm-json.h"
#include "mm-pacs-qido.h"

#include <string.h>

bool
mm_pacs_png_size (const guint8 *data, gsize len, guint32 *width, guint32 *height)
{
  static const guint8 sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  /* The signature, then the IHDR chunk first (length 13): width and height big endian. */
  if (len < 24 || memcmp (data, sig, 8) != 0 || memcmp (data + 12, "IHDR", 4) != 0)
    return false;
  *width = (guint32) data[16] << 24 | (guint32) data[17] << 16 | (guint32) data[18] << 8
           | data[19];
  *height = (guint32) data[20] << 24 | (guint32) data[21] << 16 | (guint32) data[22] << 8
            | data[23];
  return true;
}

/* The first value of element tag of data set ds (DICOM JSON), or NULL. */
static JsonNode *
first_value (JsonObject *ds, const char *tag)
{
  JsonNode *el = ds ? json_object_get_member (ds, tag) : NULL;
  if (el == NULL || !JSON_NODE_HOLDS_OBJECT (el))
    return NULL;
  JsonArray *v = mm_json_member_array (json_node_get_object (el), "Value");
  if (v == NULL || json_array_get_length (v) < 1)
    return NULL;
  JsonNode *first = json_array_get_element (v, 0);
  return JSON_NODE_HOLDS_VALUE (first) ? first : NULL;
}

typedef struct
{
  gint64 number;
  guint index;
} Numbered;

static int
by_number (gconstpointer a, gconstpointer b)
{
  const Numbered *x = a, *y = b;
  return x->number < y->number ? -1 : x->number > y->number ? 1 : (int) x->index - (int) y->index;
}

/* The SOP Instance UID of the middle instance (by Instance Number where every data set has
 * one, else the server's order), or NULL (error set, NOT_SUPPORTED when there is none). */
static char *
middle_instance (MmPacsServer *srv, const char *study_uid, const char *series_uid,
                 GCancellable *cancellable, GError **error)
{
  g_autofree char *path
    = g_strconcat ("/studies/", study_uid, "/series/", series_uid,
                   "/instances?includefield=00200013", NULL);
  g_autoptr (JsonNode) root = mm_pacs_server_get_json (srv, path, cancellable, error);
  if (root == NULL)
    return NULL;
  JsonArray *a = json_node_get_array (root);
  guint n = json_array_get_length (a);
  if (n == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "PACS %s: the series lists no instance", srv->base_url);
      return NULL;
    }
  g_autoptr (GArray) order = g_array_sized_new (FALSE, FALSE, sizeof (Numbered), n);
  bool numbered = true;
  for (guint i = 0; i < n; i++)
    {
      JsonNode *v = first_value (mm_json_array_object (a, i), "00200013");
      Numbered e = { 0, i };
      if (v && json_node_get_value_type (v) == G_TYPE_INT64)
        e.number = json_node_get_int (v);
      else if (v && json_node_get_value_type (v) == G_TYPE_STRING) /* IS as a string */
        e.number = g_ascii_strtoll (json_node_get_string (v), NULL, 10);
      else
        numbered = false;
      g_array_append_val (order, e);
    }
  if (numbered)
    g_array_sort (order, by_number);
  guint pick = g_array_index (order, Numbered, n / 2).index;
  JsonNode *v = first_value (mm_json_array_object (a, pick), "00080018");
  const char *uid = v && json_node_get_value_type (v) == G_TYPE_STRING
                      ? json_node_get_string (v)
                      : NULL;
  if (!mm_pacs_uid_ok (uid))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "PACS %s: instance %u of the series has no valid SOP Instance UID",
                   srv->base_url, pick + 1);
      return NULL;
    }
  return g_strdup (uid);
}

GBytes *
mm_pacs_thumbnail (MmPacsServer *srv, const char *study_uid, const char *series_uid,
                   GCancellable *cancellable, GError **error)
{
  if (!mm_pacs_uid_ok (study_uid) || !mm_pacs_uid_ok (series_uid))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "a thumbnail needs the study and series as UIDs");
      return NULL;
    }
  g_autofree char *instance
    = middle_instance (srv, study_uid, series_uid, cancellable, error);
  if (instance == NULL)
    return NULL;
  g_autofree char *path = g_strdup_printf ("/studies/%s/series/%s/instances/%s/rendered"
                                           "?viewport=%d,%d",
                                           study_uid, series_uid, instance,
                                           MM_PACS_THUMB_VIEWPORT, MM_PACS_THUMB_VIEWPORT);
  g_autoptr (SoupMessage) msg = mm_pacs_server_message (srv, "GET", path);
  if (msg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "PACS %s: the thumbnail cannot be made into a URL", srv->base_url);
      return NULL;
    }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept", "image/png");
  g_autoptr (GInputStream) in = mm_pacs_server_send_any (srv, msg, cancellable, error);
  if (in == NULL)
    return NULL;
  guint status = soup_message_get_status (msg);
  if (status == 400 || status == 404 || status == 406 || status == 415 || status == 501)
    {
      /* No rendered resource (or not as PNG): the row shows no thumbnail. */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "PACS %s: no rendered thumbnail (HTTP %u)", srv->base_url, status);
      return NULL;
    }
  if (mm_pacs_server_status_error (srv, msg, error))
    return NULL;
  const char *ctype = soup_message_headers_get_content_type (
    soup_message_get_response_headers (msg), NULL);
  if (ctype == NULL || g_ascii_strcasecmp (ctype, "image/png") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "PACS %s: the thumbnail is '%s', not the image/png asked for",
                   srv->base_url, ctype ? ctype : "(no content type)");
      return NULL;
    }
  g_autoptr (GBytes) body = mm_pacs_server_read_stream (srv, msg, in, MM_PACS_THUMB_MAX_BYTES,
                                                        cancellable, error);
  if (body == NULL)
    return NULL;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (body, &len);
  guint32 w = 0, h = 0;
  if (!mm_pacs_png_size (data, len, &w, &h) || w == 0 || h == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "PACS %s: the thumbnail is not a PNG image", srv->base_url);
      return NULL;
    }
  if (w > MM_PACS_THUMB_MAX_SIDE || h > MM_PACS_THUMB_MAX_SIDE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                   "PACS %s: the thumbnail is %ux%u pixels, more than %d a side",
                   srv->base_url, w, h, MM_PACS_THUMB_MAX_SIDE);
      return NULL;
    }
  return g_steal_pointer (&body);
}
