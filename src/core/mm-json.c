/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Short forms for building JSON objects member by member; every JSON read goes through
 * the size and depth checks here before json-glib sees it. */
#include "mm-json.h"

#include "mm-limits.h"

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
