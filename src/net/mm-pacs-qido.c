/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-qido.h"

#include "mm-json.h"

#include <string.h>

void
mm_pacs_study_free (MmPacsStudy *s)
{
  if (s == NULL)
    return;
  g_free (s->study_uid);
  g_free (s->patient_name);
  g_free (s->patient_id);
  g_free (s->accession);
  g_free (s->date);
  g_free (s->time);
  g_free (s->description);
  g_free (s->modalities);
  g_free (s);
}

void
mm_pacs_series_free (MmPacsSeries *s)
{
  if (s == NULL)
    return;
  g_free (s->study_uid);
  g_free (s->series_uid);
  g_free (s->modality);
  g_free (s->description);
  g_free (s);
}

bool
mm_pacs_uid_ok (const char *uid)
{
  if (uid == NULL)
    return false;
  gsize n = strlen (uid);
  if (n == 0 || n > 64 || uid[0] == '.' || uid[n - 1] == '.')
    return false;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (uid[i]) && uid[i] != '.')
      return false;
  return true;
}

bool
mm_pacs_date_ok (const char *date)
{
  if (date == NULL || strlen (date) != 8)
    return false;
  for (int i = 0; i < 8; i++)
    if (!g_ascii_isdigit (date[i]))
      return false;
  return true;
}

static void
add_param (GString *s, const char *key, const char *value)
{
  if (value == NULL || *value == '\0')
    return;
  /* DICOM wildcards and the PN separator stay as they are: Orthanc 1.10 matches the query
   * text without percent-decoding it ("Phantom%2A" finds nothing, "Phantom*" does). '*' and
   * ',' are sub-delims RFC 3986 allows in a query; '^' every server accepts. */
  g_autofree char *esc = g_uri_escape_string (value, "*?^,", FALSE);
  g_string_append_c (s, s->len == 0 ? '?' : '&');
  g_string_append_printf (s, "%s=%s", key, esc);
}

char *
mm_pacs_query_string (const MmPacsQuery *q, bool series)
{
  GString *s = g_string_new (NULL);
  if (!series)
    {
      add_param (s, "PatientName", q->patient_name);
      add_param (s, "PatientID", q->patient_id);
      add_param (s, "AccessionNumber", q->accession);
      if ((q->date_from && *q->date_from) || (q->date_to && *q->date_to))
        {
          g_autofree char *range = g_strdup_printf ("%s-%s", q->date_from ? q->date_from : "",
                                                    q->date_to ? q->date_to : "");
          add_param (s, "StudyDate", range);
        }
      add_param (s, "ModalitiesInStudy", q->modality);
      add_param (s, "StudyInstanceUID", q->study_uid);
      for (const char *const *f = (const char *const[]){ "00081030", "00201206", "00201208",
                                                         "00080061", NULL };
           *f; f++)
        add_param (s, "includefield", *f);
    }
  else
    {
      add_param (s, "Modality", q->modality);
      for (const char *const *f = (const char *const[]){ "0008103E", "00201209", NULL }; *f;
           f++)
        add_param (s, "includefield", *f);
    }
  if (q->limit > 0)
    {
      g_autofree char *lim = g_strdup_printf ("%u", q->limit);
      add_param (s, "limit", lim);
    }
  return g_string_free (s, FALSE);
}

/* The element's Value array of a DICOM JSON data set, or NULL. */
static JsonArray *
tag_values (JsonObject *ds, const char *tag)
{
  JsonNode *n = json_object_get_member (ds, tag);
  if (n == NULL || !JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  return mm_json_member_array (json_node_get_object (n), "Value");
}

/* A string element's values joined with '\\' (PN: the Alphabetic group), or NULL. */
static char *
tag_string (JsonObject *ds, const char *tag)
{
  JsonArray *a = tag_values (ds, tag);
  if (a == NULL)
    return NULL;
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (a) && i < 64; i++)
    {
      JsonNode *v = json_array_get_element (a, i);
      const char *text = NULL;
      if (JSON_NODE_HOLDS_VALUE (v) && json_node_get_value_type (v) == G_TYPE_STRING)
        text = json_node_get_string (v);
      else if (JSON_NODE_HOLDS_OBJECT (v))
        text = mm_json_member_string (json_node_get_object (v), "Alphabetic");
      if (i > 0)
        g_string_append_c (s, '\\');
      if (text)
        g_string_append_len (s, text, (gssize) strnlen (text, 1024));
    }
  /* Values from a server are shown and printed: valid UTF-8 only. */
  char *out = g_utf8_make_valid (s->str, -1);
  g_string_free (s, TRUE);
  return out;
}

static gint64
tag_int (JsonObject *ds, const char *tag)
{
  JsonArray *a = tag_values (ds, tag);
  if (a == NULL || json_array_get_length (a) < 1)
    return -1;
  JsonNode *v = json_array_get_element (a, 0);
  if (!JSON_NODE_HOLDS_VALUE (v))
    return -1;
  GType t = json_node_get_value_type (v);
  if (t == G_TYPE_INT64)
    return json_node_get_int (v);
  if (t == G_TYPE_DOUBLE)
    return (gint64) json_node_get_double (v);
  if (t == G_TYPE_STRING) /* IS may come as a string */
    return g_ascii_strtoll (json_node_get_string (v), NULL, 10);
  return -1;
}

static JsonArray *
answer_array (JsonNode *root)
{
  return json_node_get_array (root);
}

static bool
bad_data_set (MmPacsServer *srv, guint i, const char *what, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "PACS %s: result %u of the search has no valid %s", srv->base_url, i + 1, what);
  return false;
}

GPtrArray *
mm_pacs_find_studies (MmPacsServer *srv, const MmPacsQuery *q, GCancellable *cancellable,
                      GError **error)
{
  g_autofree char *qs = mm_pacs_query_string (q, false);
  g_autofree char *path = g_strconcat ("/studies", qs, NULL);
  g_autoptr (JsonNode) root = mm_pacs_server_get_json (srv, path, cancellable, error);
  if (root == NULL)
    return NULL;
  JsonArray *a = answer_array (root);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mm_pacs_study_free);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *ds = mm_json_array_object (a, i);
      if (ds == NULL)
        {
          bad_data_set (srv, i, "data set", error);
          return NULL;
        }
      MmPacsStudy *s = g_new0 (MmPacsStudy, 1);
      g_ptr_array_add (out, s);
      s->study_uid = tag_string (ds, "0020000D");
      if (!mm_pacs_uid_ok (s->study_uid))
        {
          bad_data_set (srv, i, "Study Instance UID", error);
          return NULL;
        }
      s->patient_name = tag_string (ds, "00100010");
      s->patient_id = tag_string (ds, "00100020");
      s->accession = tag_string (ds, "00080050");
      s->date = tag_string (ds, "00080020");
      s->time = tag_string (ds, "00080030");
      s->description = tag_string (ds, "00081030");
      s->modalities = tag_string (ds, "00080061");
      s->n_series = tag_int (ds, "00201206");
      s->n_instances = tag_int (ds, "00201208");
    }
  return g_steal_pointer (&out);
}

GPtrArray *
mm_pacs_find_series (MmPacsServer *srv, const MmPacsQuery *q, GCancellable *cancellable,
                     GError **error)
{
  if (!mm_pacs_uid_ok (q->study_uid))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a Study Instance UID (digits and dots, at most 64)",
                   q->study_uid ? q->study_uid : "");
      return NULL;
    }
  g_autofree char *qs = mm_pacs_query_string (q, true);
  g_autofree char *path = g_strconcat ("/studies/", q->study_uid, "/series", qs, NULL);
  g_autoptr (JsonNode) root = mm_pacs_server_get_json (srv, path, cancellable, error);
  if (root == NULL)
    return NULL;
  JsonArray *a = answer_array (root);
  g_autoptr (GPtrArray) out
    = g_ptr_array_new_with_free_func ((GDestroyNotify) mm_pacs_series_free);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *ds = mm_json_array_object (a, i);
      if (ds == NULL)
        {
          bad_data_set (srv, i, "data set", error);
          return NULL;
        }
      MmPacsSeries *s = g_new0 (MmPacsSeries, 1);
      g_ptr_array_add (out, s);
      s->series_uid = tag_string (ds, "0020000E");
      if (!mm_pacs_uid_ok (s->series_uid))
        {
          bad_data_set (srv, i, "Series Instance UID", error);
          return NULL;
        }
      s->study_uid = g_strdup (q->study_uid);
      s->modality = tag_string (ds, "00080060");
      s->description = tag_string (ds, "0008103E");
      s->number = tag_int (ds, "00200011");
      s->n_instances = tag_int (ds, "00201209");
    }
  return g_steal_pointer (&out);
}

static void
set_opt_int (JsonBuilder *b, const char *member, gint64 v)
{
  json_builder_set_member_name (b, member);
  if (v < 0)
    json_builder_add_null_value (b);
  else
    json_builder_add_int_value (b, v);
}

JsonNode *
mm_pacs_studies_to_json (GPtrArray *studies)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < studies->len; i++)
    {
      MmPacsStudy *s = studies->pdata[i];
      json_builder_begin_object (b);
      mm_json_set_string (b, "study_uid", s->study_uid);
      mm_json_set_string (b, "patient_name", s->patient_name);
      mm_json_set_string (b, "patient_id", s->patient_id);
      mm_json_set_string (b, "accession", s->accession);
      mm_json_set_string (b, "date", s->date);
      mm_json_set_string (b, "time", s->time);
      mm_json_set_string (b, "description", s->description);
      mm_json_set_string (b, "modalities", s->modalities);
      set_opt_int (b, "series", s->n_series);
      set_opt_int (b, "instances", s->n_instances);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

JsonNode *
mm_pacs_series_to_json (GPtrArray *series)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < series->len; i++)
    {
      MmPacsSeries *s = series->pdata[i];
      json_builder_begin_object (b);
      mm_json_set_string (b, "study_uid", s->study_uid);
      mm_json_set_string (b, "series_uid", s->series_uid);
      mm_json_set_string (b, "modality", s->modality);
      mm_json_set_string (b, "description", s->description);
      set_opt_int (b, "number", s->number);
      set_opt_int (b, "instances", s->n_instances);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}
