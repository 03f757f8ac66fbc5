/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The tags dump as text and JSON, and the browser's search match (mm-dicom-dump.h). Plain C:
 * the tree holds no GDCM type. */
#include "mm-dicom-dump.h"

#include <string.h>

void
mm_dicom_tag_format_number (const MmDicomTag *tag, char buf[12])
{
  g_snprintf (buf, 12, "(%04X,%04X)", tag->group, tag->element);
}

static void text_rec (GString *out, const MmDicomTag *parent, int indent);

static void
text_tag (GString *out, const MmDicomTag *t, int indent)
{
  char num[12];
  mm_dicom_tag_format_number (t, num);
  g_string_append_printf (out, "%*s%s%s%s %s", indent * 2, "", num, *t->vr ? " " : "",
                          t->vr, t->keyword ? t->keyword : (t->name ? t->name : "?"));
  if (t->creator)
    g_string_append_printf (out, " [%s]", t->creator);
  if (t->value)
    g_string_append_printf (out, "  %s%s", t->value, t->value_truncated ? "…" : "");
  g_string_append_c (out, '\n');
  text_rec (out, t, indent + 1);
  if (t->children_truncated)
    g_string_append_printf (out, "%*s…\n", (indent + 1) * 2, "");
}

static void
text_rec (GString *out, const MmDicomTag *parent, int indent)
{
  for (guint i = 0; parent->children && i < parent->children->len; i++)
    text_tag (out, parent->children->pdata[i], indent);
}

char *
mm_dicom_tag_to_text (const MmDicomTag *tag)
{
  g_return_val_if_fail (tag != NULL, NULL);
  GString *out = g_string_new (NULL);
  text_tag (out, tag, 0);
  return g_string_free (out, FALSE);
}

char *
mm_dicom_dump_to_text (const MmDicomDump *dump)
{
  g_return_val_if_fail (dump != NULL, NULL);
  GString *out = g_string_new (NULL);
  text_rec (out, dump->root, 0);
  return g_string_free (out, FALSE);
}

static void
add_string_or_null (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static JsonNode *
json_elements (const MmDicomTag *parent)
{
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; parent->children && i < parent->children->len; i++)
    {
      const MmDicomTag *t = parent->children->pdata[i];
      char tag[9];
      g_snprintf (tag, sizeof tag, "%04X%04X", t->group, t->element);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "tag");
      json_builder_add_string_value (b, tag);
      json_builder_set_member_name (b, "vr");
      json_builder_add_string_value (b, t->vr);
      add_string_or_null (b, "keyword", t->keyword);
      add_string_or_null (b, "name", t->name);
      if (t->creator)
        {
          json_builder_set_member_name (b, "creator");
          json_builder_add_string_value (b, t->creator);
        }
      json_builder_set_member_name (b, "length");
      json_builder_add_int_value (b, (gint64) t->length);
      if (t->value)
        {
          json_builder_set_member_name (b, "value");
          json_builder_add_string_value (b, t->value);
          json_builder_set_member_name (b, "value_truncated");
          json_builder_add_boolean_value (b, t->value_truncated);
        }
      if (t->children)
        {
          /* A sequence: its items, each the array of its elements. */
          json_builder_set_member_name (b, "items");
          json_builder_begin_array (b);
          for (guint k = 0; k < t->children->len; k++)
            json_builder_add_value (b, json_elements (t->children->pdata[k]));
          json_builder_end_array (b);
          json_builder_set_member_name (b, "items_truncated");
          json_builder_add_boolean_value (b, t->children_truncated);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  JsonNode *node = json_builder_get_root (b);
  g_object_unref (b);
  return node;
}

JsonNode *
mm_dicom_dump_to_json (const MmDicomDump *dump)
{
  g_return_val_if_fail (dump != NULL, NULL);
  JsonBuilder *b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "file");
  g_autofree char *file = g_filename_display_name (dump->path);
  json_builder_add_string_value (b, file);
  json_builder_set_member_name (b, "transfer_syntax");
  json_builder_add_string_value (b, dump->transfer_syntax);
  json_builder_set_member_name (b, "nodes");
  json_builder_add_int_value (b, dump->n_nodes);
  json_builder_set_member_name (b, "truncated");
  json_builder_add_boolean_value (b, dump->truncated);
  json_builder_set_member_name (b, "elements");
  json_builder_add_value (b, json_elements (dump->root));
  json_builder_end_object (b);
  JsonNode *node = json_builder_get_root (b);
  g_object_unref (b);
  return node;
}

static bool
contains_fold (const char *hay, const char *needle_folded)
{
  if (hay == NULL)
    return false;
  g_autofree char *h = g_utf8_casefold (hay, -1);
  return strstr (h, needle_folded) != NULL;
}

bool
mm_dicom_tag_matches (const MmDicomTag *tag, const char *query)
{
  g_return_val_if_fail (tag != NULL, false);
  if (query == NULL || *query == 0)
    return true;
  g_autofree char *q = g_utf8_casefold (query, -1);
  /* The number in its three spellings, so "0010,0010", "00100010" and "(0010" all match. */
  char with[12], bare[9];
  mm_dicom_tag_format_number (tag, with);
  g_snprintf (bare, sizeof bare, "%04X%04X", tag->group, tag->element);
  return contains_fold (with, q) || contains_fold (bare, q) || contains_fold (tag->keyword, q)
         || contains_fold (tag->name, q) || contains_fold (tag->value, q)
         || contains_fold (tag->creator, q);
}
