/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Short forms for building JSON objects member by member. */
#include "mm-json.h"

void
mm_json_set_int (JsonBuilder *b, const char *member, gint64 value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_int_value (b, value);
}

void
mm_json_set_double (JsonBuilder *b, const char *member, double value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_double_value (b, value);
}

void
mm_json_set_bool (JsonBuilder *b, const char *member, gboolean value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_boolean_value (b, value);
}

void
mm_json_set_string (JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name (b, member);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
mm_json_set_ints (JsonBuilder *b, const char *member, const int *v, int n)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (int a = 0; a < n; a++)
    json_builder_add_int_value (b, v[a]);
  json_builder_end_array (b);
}

void
mm_json_set_doubles (JsonBuilder *b, const char *member, const double *v, int n)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (int a = 0; a < n; a++)
    json_builder_add_double_value (b, v[a]);
  json_builder_end_array (b);
}

JsonObject *
mm_json_parse_object (JsonParser *parser, const char *text)
{
  if (text == NULL || !json_parser_load_from_data (parser, text, -1, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  return root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}

static gint64
node_int (JsonNode *n, gint64 fallback)
{
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64
             ? json_node_get_int (n)
             : fallback;
}

gint64
mm_json_member_int (JsonObject *o, const char *member, gint64 fallback)
{
  return node_int (json_object_get_member (o, member), fallback);
}

const char *
mm_json_member_string (JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member (o, member);
  return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
             ? json_node_get_string (n)
             : NULL;
}

JsonArray *
mm_json_member_array (JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member (o, member);
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

gint64
mm_json_array_int (JsonArray *a, guint index, gint64 fallback)
{
  return index < json_array_get_length (a) ? node_int (json_array_get_element (a, index), fallback)
                                           : fallback;
}

JsonObject *
mm_json_array_object (JsonArray *a, guint index)
{
  if (index >= json_array_get_length (a))
    return NULL;
  JsonNode *n = json_array_get_element (a, index);
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}
