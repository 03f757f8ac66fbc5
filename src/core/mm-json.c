/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Short forms for building JSON objects member by member; every JSON read goes through
 * the size and depth checks here before json-glib sees it. */
#include "mm-json.h"

#include "mm-limits.h"

#include <math.h>

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Nesting of text as json-glib's scanner sees it: brackets count outside double-quoted
 * strings (backslash escapes), single-quoted strings (no escapes) and C comments, which
 * json-glib 1.6 all accepts. A bracket hidden from this count but seen by json-glib would let
 * deep input through, so every way json-glib leaves the plain state is followed; counting
 * too much (brackets json-glib never reaches after an error) is harmless. Stops counting
 * once past stop_after. */
int
mm_json_depth (const char *text, size_t len, int stop_after)
{
  enum { PLAIN, DQUOTE, SQUOTE, COMMENT } state = PLAIN;
  int depth = 0, deepest = 0;
  for (size_t k = 0; k < len && deepest <= stop_after; k++)
    {
      char c = text[k];
      switch (state)
        {
        case PLAIN:
          if (c == '[' || c == '{')
            {
              depth++;
              deepest = MAX (deepest, depth);
            }
          else if (c == ']' || c == '}')
            depth--;
          else if (c == '"')
            state = DQUOTE;
          else if (c == '\'')
            state = SQUOTE;
          else if (c == '/' && k + 1 < len && text[k + 1] == '*')
            {
              state = COMMENT;
              k++;
            }
          break;
        case DQUOTE:
          if (c == '\\')
            k++;
          else if (c == '"')
            state = PLAIN;
          break;
        case SQUOTE:
          if (c == '\'')
            state = PLAIN;
          break;
        case COMMENT:
          if (c == '*' && k + 1 < len && text[k + 1] == '/')
            {
              state = PLAIN;
              k++;
            }
          break;
        }
    }
  return deepest;
}

static bool
load_error (GError **error, int code, const char *name, const char *what, const char *why)
{
  if (what)
    g_set_error (error, G_IO_ERROR, code, "%s: cannot read the %s: %s", name, what, why);
  else
    g_set_error (error, G_IO_ERROR, code, "%s: %s", name, why);
  return false;
}

bool
mm_json_load_data (JsonParser *parser, const char *text, gssize len, const char *name,
                   const char *what, GError **error)
{
  g_return_val_if_fail (parser != NULL && text != NULL && name != NULL, false);
  size_t n = len < 0 ? strlen (text) : (size_t) len;
  if (n > MM_LIMIT_JSON_BYTES)
    {
      g_autofree char *why = g_strdup_printf ("%zu bytes of JSON, more than the %u MiB "
                                              "allowed", n, MM_LIMIT_JSON_BYTES >> 20);
      return load_error (error, G_IO_ERROR_INVALID_DATA, name, what, why);
    }
  if (mm_json_depth (text, n, MM_LIMIT_JSON_DEPTH) > MM_LIMIT_JSON_DEPTH)
    {
      g_autofree char *why = g_strdup_printf ("the JSON nests more than %d levels deep; "
                                              "Metalmark never writes that",
                                              MM_LIMIT_JSON_DEPTH);
      return load_error (error, G_IO_ERROR_INVALID_DATA, name, what, why);
    }
  g_autoptr (GError) err = NULL;
  if (!json_parser_load_from_data (parser, text, (gssize) n, &err))
    {
      /* json-glib's message names "<data>" and may quote the text: one line of our own. */
      g_autofree char *why = g_strdup_printf ("not valid JSON (%s)", err->message);
      for (char *c = why; *c; c++)
        if ((unsigned char) *c < ' ')
          *c = ' ';
      return load_error (error, G_IO_ERROR_INVALID_DATA, name, what, why);
    }
  /* Empty text (or only a comment) parses to no root at all, which json-glib's accessors
   * turn into criticals. */
  if (json_parser_get_root (parser) == NULL)
    return load_error (error, G_IO_ERROR_INVALID_DATA, name, what, "empty: no JSON value");
  return true;
}

bool
mm_json_load_file (JsonParser *parser, const char *path, const char *what, GError **error)
{
  g_return_val_if_fail (parser != NULL && path != NULL, false);
  /* O_NONBLOCK: a FIFO under the name must not hang the open; fstat then refuses it. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    {
      int err = errno;
      return load_error (error, g_io_error_from_errno (err), path, what, g_strerror (err));
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return load_error (error, G_IO_ERROR_INVALID_DATA, path, what, "not a regular file");
    }
  if ((guint64) st.st_size > MM_LIMIT_JSON_BYTES)
    {
      close (fd);
      g_autofree char *why = g_strdup_printf ("%" G_GUINT64_FORMAT " bytes, more than the "
                                              "%u MiB a JSON file may have",
                                              (guint64) st.st_size, MM_LIMIT_JSON_BYTES >> 20);
      return load_error (error, G_IO_ERROR_INVALID_DATA, path, what, why);
    }
  size_t cap = (size_t) st.st_size, got = 0;
  g_autofree char *text = g_malloc (cap + 1);
  while (got < cap)
    {
      ssize_t r = read (fd, text + got, cap - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int err = errno;
          close (fd);
          return load_error (error, g_io_error_from_errno (err), path, what, g_strerror (err));
        }
      if (r == 0)
        break; /* shrunk since fstat: parse what is there */
      got += (size_t) r;
    }
  close (fd);
  text[got] = '\0';
  return mm_json_load_data (parser, text, (gssize) got, path, what, error);
}

JsonObject *
mm_json_parse_object (JsonParser *parser, const char *text)
{
  if (text == NULL || !mm_json_load_data (parser, text, -1, "JSON", NULL, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root (parser);
  return root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}

/* ---- Writing ------------------------------------------------------------------------------ */

/* json-glib 1.6's generator writes doubles as g_ascii_dtostr then appends ".0" when there is
 * no '.', which gives "nan.0", "inf.0" and "1e+20.0": not JSON. It also leaves C1 controls
 * raw. So our files and outputs are written here; reading stays with json-glib. */

static void
append_double (GString *out, double v, guint *n_nonfinite)
{
  if (!isfinite (v))
    {
      if (n_nonfinite)
        (*n_nonfinite)++;
      g_string_append (out, "null");
      return;
    }
  /* The shortest of 15, 16, 17 significant digits that reads back as the same double. */
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  for (int digits = 15; digits <= 17; digits++)
    {
      char fmt[8];
      g_snprintf (fmt, sizeof fmt, "%%.%dg", digits);
      g_ascii_formatd (buf, sizeof buf, fmt, v);
      if (g_ascii_strtod (buf, NULL) == v)
        break;
    }
  g_string_append (out, buf);
  /* Keep it a floating-point number for readers that distinguish (json-glib does). */
  if (strpbrk (buf, ".eE") == NULL)
    g_string_append (out, ".0");
}

static void
append_string (GString *out, const char *s)
{
  g_autofree char *valid = g_utf8_validate (s, -1, NULL) ? NULL : g_utf8_make_valid (s, -1);
  if (valid)
    s = valid;
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          /* C0, DEL, C1 and the line separators escaped: the output stays one line per
           * value and inert on a terminal. */
          if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_len (out, p, g_utf8_next_char (p) - p);
        }
    }
  g_string_append_c (out, '"');
}

static void
newline (GString *out, gboolean pretty, int depth)
{
  if (!pretty)
    return;
  g_string_append_c (out, '\n');
  for (int d = 0; d < depth; d++)
    g_string_append (out, "  ");
}

static void
append_node (GString *out, JsonNode *node, gboolean pretty, int depth, guint *n_nonfinite)
{
  switch (node ? json_node_get_node_type (node) : JSON_NODE_NULL)
    {
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      break;
    case JSON_NODE_VALUE:
      switch (json_node_get_value_type (node))
        {
        case G_TYPE_INT64:
          g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (node));
          break;
        case G_TYPE_DOUBLE:
          append_double (out, json_node_get_double (node), n_nonfinite);
          break;
        case G_TYPE_BOOLEAN:
          g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          break;
        case G_TYPE_STRING:
          append_string (out, json_node_get_string (node));
          break;
        default:
          g_string_append (out, "null");
        }
      break;
    case JSON_NODE_ARRAY:
      {
        JsonArray *a = json_node_get_array (node);
        guint n = json_array_get_length (a);
        g_string_append_c (out, '[');
        for (guint i = 0; i < n; i++)
          {
            if (i)
              g_string_append_c (out, ',');
            newline (out, pretty, depth + 1);
            append_node (out, json_array_get_element (a, i), pretty, depth + 1, n_nonfinite);
          }
        if (n)
          newline (out, pretty, depth);
        g_string_append_c (out, ']');
        break;
      }
    case JSON_NODE_OBJECT:
      {
        JsonObject *o = json_node_get_object (node);
        /* In insertion order. */
        g_autoptr (GList) names = json_object_get_members (o);
        g_string_append_c (out, '{');
        for (GList *l = names; l; l = l->next)
          {
            if (l != names)
              g_string_append_c (out, ',');
            newline (out, pretty, depth + 1);
            append_string (out, l->data);
            g_string_append (out, pretty ? " : " : ":");
            append_node (out, json_object_get_member (o, l->data), pretty, depth + 1,
                         n_nonfinite);
          }
        if (names)
          newline (out, pretty, depth);
        g_string_append_c (out, '}');
        break;
      }
    }
}

char *
mm_json_to_data (JsonNode *root, gboolean pretty, gsize *length, guint *n_nonfinite)
{
  if (n_nonfinite)
    *n_nonfinite = 0;
  GString *out = g_string_new (NULL);
  append_node (out, root, pretty, 0, n_nonfinite);
  if (length)
    *length = out->len;
  return g_string_free (out, FALSE);
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
