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
