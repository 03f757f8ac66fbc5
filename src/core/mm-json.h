/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Short forms for building JSON objects member by member, and reading JSON under the limits
 * of mm-limits.h (size, nesting) so that json-glib never recurses out of stack. */
#pragma once

#include <json-glib/json-glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

void mm_json_set_int (JsonBuilder *b, const char *member, gint64 value);
void mm_json_set_double (JsonBuilder *b, const char *member, double value);
void mm_json_set_bool (JsonBuilder *b, const char *member, gboolean value);
/* A string member, or null when value is NULL. */
void mm_json_set_string (JsonBuilder *b, const char *member, const char *value);
void mm_json_set_ints (JsonBuilder *b, const char *member, const int *v, int n);
void mm_json_set_doubles (JsonBuilder *b, const char *member, const double *v, int n);

/* Deepest nesting of [ and { in text[0..len) as json-glib would parse it; counting stops
 * once past stop_after. */
int mm_json_depth (const char *text, size_t len, int stop_after);

/* Parse text (len bytes, or NUL-terminated when len < 0) into parser after checking it is
 * at most MM_LIMIT_JSON_BYTES long and MM_LIMIT_JSON_DEPTH deep. The error (G_IO_ERROR) is
 * one line: "NAME: cannot read the WHAT: why" (WHAT may be NULL: "NAME: why"). */
bool mm_json_load_data (JsonParser *parser, const char *text, gssize len, const char *name,
                        const char *what, GError **error);

/* The same for the file at path (a regular file, at most MM_LIMIT_JSON_BYTES, read before
 * parsing); a missing file is G_IO_ERROR_NOT_FOUND. */
bool mm_json_load_file (JsonParser *parser, const char *path, const char *what,
                        GError **error);

/* text parsed (under the limits above) as a JSON object (owned by parser), or NULL: NULL text, bad JSON, not an
 * object. */
JsonObject *mm_json_parse_object (JsonParser *parser, const char *text);

/* root as JSON text (RFC 8259), in member insertion order, pretty-printed with two-space
 * indents when pretty. Use this rather than JsonGenerator, whose output is not always JSON
 * (see mm-json.c). A number that is not finite (NaN, infinity) is written as null and counted
 * in *n_nonfinite (may be NULL); strings are made valid UTF-8 and control characters
 * escaped. */
char *mm_json_to_data (JsonNode *root, gboolean pretty, gsize *length, guint *n_nonfinite);
/* Members and elements of JSON read from a file (outside input). json-glib's getters emit a
 * critical when a node holds another type than asked; these check the type instead and
 * give the fallback (or NULL) for a missing member, a null, or a value of another type. */
gint64 mm_json_member_int (JsonObject *o, const char *member, gint64 fallback);
const char *mm_json_member_string (JsonObject *o, const char *member);
JsonArray *mm_json_member_array (JsonObject *o, const char *member);
gint64 mm_json_array_int (JsonArray *a, guint index, gint64 fallback);
JsonObject *mm_json_array_object (JsonArray *a, guint index);

G_END_DECLS
