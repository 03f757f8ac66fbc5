/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Text from outside made safe to show. */
#include "mm-text.h"

#include <string.h>

static gboolean
is_unsafe (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e)
         || (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029;
}

gboolean
mm_text_is_printable (const char *s)
{
  if (s == NULL)
    return TRUE;
  if (!g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    if (is_unsafe (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

char *
mm_text_printable (const char *s)
{
  if (s == NULL)
    return NULL;
  if (mm_text_is_printable (s))
    return g_strdup (s);
  /* Invalid bytes first (each becomes U+FFFD), then the controls among valid characters. */
  g_autofree char *valid = g_utf8_make_valid (s, -1);
  GString *out = g_string_sized_new (strlen (valid) + 8);
  for (const char *p = valid; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      g_string_append_unichar (out, is_unsafe (c) ? 0xfffd : c);
    }
  return g_string_free (out, FALSE);
}
