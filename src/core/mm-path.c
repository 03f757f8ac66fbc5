/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Safe path components from outside values. */
#include "mm-path.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include <stdbool.h>
#include <string.h>

#define HASH_DIGITS 16
/* Room for the prefix, '-' and the hash within MM_SAFE_NAME_MAX. */
#define PREFIX_MAX (MM_SAFE_NAME_MAX - 1 - HASH_DIGITS)

char *
mm_safe_name (const char *value, gssize len)
{
  if (value == NULL)
    return g_strdup ("unknown");
  size_t n = len < 0 ? strlen (value) : (size_t) len;
  if (n == 0)
    return g_strdup ("unknown");

  GString *out = g_string_sized_new (MIN (n, MM_SAFE_NAME_MAX) + 1);
  bool changed = false;
  for (size_t i = 0; i < n && out->len < MM_SAFE_NAME_MAX + 1; i++)
    {
      unsigned char c = (unsigned char) value[i];
      bool ok = g_ascii_isalnum (c) || c == '-' || c == '_' || (c == '.' && i > 0);
      g_string_append_c (out, ok ? (char) c : '_');
      changed |= !ok;
    }
  if (!changed && n <= MM_SAFE_NAME_MAX)
    return g_string_free (out, FALSE);

  /* The hash is of the whole original value, so two values that share a prefix or differ
   * only in replaced bytes still get different names. */
  g_autofree char *sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) value, n);
  g_string_truncate (out, MIN (out->len, PREFIX_MAX));
  g_string_append_c (out, '-');
  g_string_append_len (out, sum, HASH_DIGITS);
  return g_string_free (out, FALSE);
}

char *
mm_project_dir_for (const char *source, const char *series_uid)
{
  g_autofree char *abs = g_canonicalize_filename (source, NULL);
  if (g_file_test (abs, G_FILE_TEST_IS_REGULAR))
    {
      char *dir = g_path_get_dirname (abs);
      g_free (abs);
      abs = dir;
    }
  g_autofree char *parent = g_path_get_dirname (abs);
  /* Mode bits count too: root may write anywhere, but a folder without write bits says its
   * owner wants it left alone (shared data, a CD copy). */
  GStatBuf st;
  if (access (parent, W_OK) == 0 && g_stat (parent, &st) == 0 && (st.st_mode & 0222) != 0)
    return g_strconcat (abs, ".metalmark", NULL);
  /* The UID comes from the file: reduced to one safe name, or "../../x" would climb out. */
  g_autofree char *name = mm_safe_name (series_uid, -1);
  return g_build_filename (g_get_user_data_dir (), "metalmark", "projects", name, NULL);
}
