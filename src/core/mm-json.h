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

/* root as JSON text (RFC 8259), in member insertion order, pretty-printed with two-space
 * indents when pretty. Use this rather than JsonGenerator, whose output is not always JSON
 * (see mm-json.c). A number that is not finite (NaN, infinity) is written as null and counted
 * in *n_nonfinite (may be NULL); strings are made valid UTF-8 and control characters
 * escaped. */
char *mm_json_to_data (JsonNode *root, gboolean pretty, gsize *length, guint *n_nonfinite);

G_END_DECLS
