/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Short forms for building JSON objects member by member. */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void mm_json_set_int (JsonBuilder *b, const char *member, gint64 value);
void mm_json_set_double (JsonBuilder *b, const char *member, double value);
void mm_json_set_bool (JsonBuilder *b, const char *member, gboolean value);
/* A string member, or null when value is NULL. */
void mm_json_set_string (JsonBuilder *b, const char *member, const char *value);
void mm_json_set_ints (JsonBuilder *b, const char *member, const int *v, int n);
void mm_json_set_doubles (JsonBuilder *b, const char *member, const double *v, int n);

/* text parsed as a JSON object (owned by parser), or NULL: NULL text, bad JSON, not an
 * object. */
JsonObject *mm_json_parse_object (JsonParser *parser, const char *text);

/* Members and elements of JSON read from a file (outside input). json-glib's getters emit a
 * critical when a node holds another type than asked; these check the type instead and
 * give the fallback (or NULL) for a missing member, a null, or a value of another type. */
gint64 mm_json_member_int (JsonObject *o, const char *member, gint64 fallback);
const char *mm_json_member_string (JsonObject *o, const char *member);
JsonArray *mm_json_member_array (JsonObject *o, const char *member);
gint64 mm_json_array_int (JsonArray *a, guint index, gint64 fallback);
JsonObject *mm_json_array_object (JsonArray *a, guint index);

G_END_DECLS
