/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Batch bookkeeping: folder names, shards, status.json, atomic publication (mm-batch.h). */
#include "mm-batch.h"

#include "mm-atomic.h"
#include "mm-json.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define UID_MAX_LEN 64

static bool
uid_is_valid (const char *uid)
{
  size_t len = strlen (uid);
  if (len == 0 || len > UID_MAX_LEN)
    return false;
  bool component_start = true;
  for (const char *c = uid; *c; c++)
    {
      if (*c == '.')
        {
          if (component_start)
            return false; /* "..", ".1", "1..2": an empty component */
          component_start = true;
        }
      else if (*c >= '0' && *c <= '9')
        component_start = false;
      else
        return false;
    }
  return !component_start; /* no trailing dot */
}

char *
mm_batch_folder_name (const char *uid)
{
  if (uid != NULL && uid_is_valid (uid))
    return g_strdup (uid);
  g_autofree char *sum
    = g_compute_checksum_for_string (G_CHECKSUM_SHA256, uid ? uid : "", -1);
  return g_strdup_printf ("h-%.32s", sum);
}

guint
mm_batch_shard_of (const char *uid, guint n)
{
  g_return_val_if_fail (n > 0, 0);
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (c, (const guchar *) uid, (gssize) strlen (uid));
  g_checksum_get_digest (c, digest, &len);
  guint64 v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | digest[i];
  return (guint) (v % n);
}

static bool
parse_count (const char *text, guint64 max, guint64 *out)
{
  if (text == NULL || *text == '\0')
    return false;
  for (const char *c = text; *c; c++)
    if (*c < '0' || *c > '9')
      return false;
  return g_ascii_string_to_unsigned (text, 10, 0, max, out, NULL);
}

bool
mm_batch_parse_shard (const char *text, guint *k, guint *n, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text ? text : "", "/", 3);
  guint64 kk, nn;
  if (g_strv_length (parts) != 2 || !parse_count (parts[0], MM_BATCH_MAX_SHARDS, &kk)
      || !parse_count (parts[1], MM_BATCH_MAX_SHARDS, &nn) || nn == 0 || kk >= nn)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--shard '%s' is not K/N with 0 <= K < N <= %d (K counts from 0)",
                   text ? text : "", MM_BATCH_MAX_SHARDS);
      return false;
    }
  *k = (guint) kk;
  *n = (guint) nn;
  return true;
}

bool
mm_batch_shard_from_env (char **env, guint *k, guint *n, GError **error)
{
  const char *id = g_environ_getenv (env, "SLURM_ARRAY_TASK_ID");
  const char *count = g_environ_getenv (env, "SLURM_ARRAY_TASK_COUNT");
  const char *min = g_environ_getenv (env, "SLURM_ARRAY_TASK_MIN");
  const char *max = g_environ_getenv (env, "SLURM_ARRAY_TASK_MAX");
  if (id == NULL || count == NULL)
    return false;
  guint64 vid, vcount, vmin = 0, vmax = 0;
  if (!parse_count (id, G_MAXUINT32, &vid) || !parse_count (count, MM_BATCH_MAX_SHARDS, &vcount)
      || vcount == 0 || (min && !parse_count (min, G_MAXUINT32, &vmin))
      || (max && !parse_count (max, G_MAXUINT32, &vmax)))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "SLURM_ARRAY_TASK_ID=%s, SLURM_ARRAY_TASK_MIN=%s and "
                   "SLURM_ARRAY_TASK_COUNT=%s do not give a shard K/N; give --shard",
                   id, min ? min : "(unset)", count);
      return false;
    }
  /* --array=0-9:2 or 1,5,9 leave gaps: task ids then do not number the shards. */
  if (max && (vmax < vmin || vmax - vmin + 1 != vcount))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "the Slurm array %s-%s has %s tasks: it has gaps or a step, so task ids "
                   "are not shards; submit --array=0-%u or give --shard",
                   min ? min : "?", max, count, (guint) vcount - 1);
      return false;
    }
  if (vid < vmin || vid - vmin >= vcount)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "SLURM_ARRAY_TASK_ID=%s is outside the array (SLURM_ARRAY_TASK_MIN=%s, "
                   "SLURM_ARRAY_TASK_COUNT=%s); give --shard",
                   id, min ? min : "(unset)", count);
      return false;
    }
  *k = (guint) (vid - vmin);
  *n = (guint) vcount;
  return true;
}

char *
mm_batch_params_hash (const char *command, const char *version, char **args)
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_SHA256);
  /* Each string with its terminating NUL, so ("ab","c") and ("a","bc") differ. */
  g_checksum_update (c, (const guchar *) command, (gssize) strlen (command) + 1);
  g_checksum_update (c, (const guchar *) version, (gssize) strlen (version) + 1);
  for (char **a = args; a && *a; a++)
    g_checksum_update (c, (const guchar *) *a, (gssize) strlen (*a) + 1);
  return g_strdup (g_checksum_get_string (c));
}

char *
mm_batch_inputs_hash (char **files)
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_SHA256);
  for (char **f = files; f && *f; f++)
    {
      GStatBuf st;
      g_autofree char *line = NULL;
      if (g_stat (*f, &st) == 0)
        line = g_strdup_printf ("%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT ".%09ld\n", *f,
                                (gint64) st.st_size, (gint64) st.st_mtim.tv_sec,
                                (long) st.st_mtim.tv_nsec);
      else
        line = g_strdup_printf ("%s\t?\n", *f);
      g_checksum_update (c, (const guchar *) line, (gssize) strlen (line));
    }
  return g_strdup (g_checksum_get_string (c));
}

MmBatchState
mm_batch_state (const char *root, const char *name, const char *params_hash,
                const char *inputs_hash)
{
  g_autofree char *path = g_build_filename (root, name, MM_BATCH_STATUS_FILE, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return MM_BATCH_TODO;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!mm_json_load_file (parser, path, "batch status", NULL))
    return MM_BATCH_TODO;
  JsonNode *root_node = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root_node))
    return MM_BATCH_TODO;
  JsonObject *o = json_node_get_object (root_node);
  const char *state = json_object_get_string_member_with_default (o, "state", "");
  const char *hash = json_object_get_string_member_with_default (o, "parameters_hash", "");
  const char *inputs = json_object_get_string_member_with_default (o, "inputs_hash", "");
  if (g_strcmp0 (hash, params_hash) != 0
      || (inputs_hash != NULL && g_strcmp0 (inputs, inputs_hash) != 0))
    return MM_BATCH_STALE;
  if (strcmp (state, "done") == 0)
    return MM_BATCH_DONE;
  if (strcmp (state, "failed") == 0)
    return MM_BATCH_FAILED;
  return MM_BATCH_TODO;
}

void
mm_batch_remove_tree (const char *path)
{
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      GDir *dir = g_dir_open (path, 0, NULL);
      if (dir)
        {
          const char *entry;
          while ((entry = g_dir_read_name (dir)) != NULL)
            {
              g_autofree char *child = g_build_filename (path, entry, NULL);
              mm_batch_remove_tree (child);
            }
          g_dir_close (dir);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

char *
mm_batch_begin (const char *root, const char *name, GError **error)
{
  g_autofree char *partial = g_build_filename (root, MM_BATCH_PARTIAL_DIR, NULL);
  if (!mm_ensure_dir (partial, error))
    return NULL;
  /* What a killed task left for this series: name.XXXXXX work folders and name.old.XXXXXX. */
  g_autofree char *prefix = g_strconcat (name, ".", NULL);
  GDir *dir = g_dir_open (partial, 0, error);
  if (dir == NULL)
    return NULL;
  const char *entry;
  while ((entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (entry, prefix))
      {
        g_autofree char *stale = g_build_filename (partial, entry, NULL);
        mm_batch_remove_tree (stale);
      }
  g_dir_close (dir);
  g_autofree char *tmpl = g_strdup_printf ("%s/%s.XXXXXX", partial, name);
  if (g_mkdtemp_full (tmpl, 0755) == NULL)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   "cannot create a work folder in %s: %s", partial, g_strerror (e));
      return NULL;
    }
  return g_steal_pointer (&tmpl);
}

bool
mm_batch_commit (const char *root, const char *name, const char *work, JsonNode *status,
                 GError **error)
{
  gsize len = 0;
  g_autofree char *text = mm_json_to_data (status, TRUE, &len, NULL);
  g_autofree char *status_path = g_build_filename (work, MM_BATCH_STATUS_FILE, NULL);
  if (!mm_atomic_write (status_path, text, len, true, error) || !mm_fsync_dir (work, error))
    return false;
  g_autofree char *final = g_build_filename (root, name, NULL);
  g_autofree char *old = NULL;
  GStatBuf st;
  if (g_lstat (final, &st) == 0)
    {
      /* rename() will not replace a folder that holds files: move the old one aside into an
       * empty folder's place, publish, then remove it. */
      old = g_strdup_printf ("%s/%s/%s.old.XXXXXX", root, MM_BATCH_PARTIAL_DIR, name);
      if (g_mkdtemp_full (old, 0755) == NULL || g_rename (final, old) != 0)
        {
          int e = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                       "cannot move the earlier %s aside: %s", final, g_strerror (e));
          return false;
        }
    }
  if (g_rename (work, final) != 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "cannot publish %s: %s",
                   final, g_strerror (e));
      return false;
    }
  if (old)
    mm_batch_remove_tree (old);
  return mm_fsync_dir (root, error);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
mm_batch_list (const char *root, GError **error)
{
  GDir *dir = g_dir_open (root, 0, error);
  if (dir == NULL)
    return NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      if (entry[0] == '.')
        continue;
      g_autofree char *status = g_build_filename (root, entry, MM_BATCH_STATUS_FILE, NULL);
      if (g_file_test (status, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (names, g_strdup (entry));
    }
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_names);
  return names;
}

#define INDEX_HEADER "# metalmark batch index 1: series UID, tab, file path"

void
mm_batch_series_free (MmBatchSeries *series)
{
  if (series == NULL)
    return;
  g_free (series->uid);
  g_strfreev (series->files);
  g_free (series);
}

static bool
index_value_ok (const char *v)
{
  return strpbrk (v, "\t\n\r") == NULL;
}

bool
mm_batch_index_write (const char *path, GPtrArray *series, GError **error)
{
  g_autoptr (GString) text = g_string_new (INDEX_HEADER "\n");
  for (guint s = 0; s < series->len; s++)
    {
      const MmBatchSeries *bs = series->pdata[s];
      for (char **f = bs->files; f && *f; f++)
        {
          if (!index_value_ok (bs->uid) || !index_value_ok (*f) || **f == '\0')
            {
              g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                           "%s: cannot index series %s, file %s: a tab or line break in the "
                           "UID or path",
                           path, bs->uid, *f);
              return false;
            }
          g_string_append_printf (text, "%s\t%s\n", bs->uid, *f);
        }
    }
  return mm_atomic_write (path, text->str, text->len, true, error);
}

GPtrArray *
mm_batch_index_read (const char *path, GError **error)
{
  GStatBuf st;
  if (g_stat (path, &st) == 0 && (guint64) st.st_size > MM_BATCH_INDEX_MAX_BYTES)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s: the index is larger than %u MB", path, MM_BATCH_INDEX_MAX_BYTES >> 20);
      return NULL;
    }
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (!g_str_has_prefix (text, INDEX_HEADER "\n"))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "%s: not a batch index (its first line is not \"%s\")", path,
                   INDEX_HEADER);
      return NULL;
    }
  g_autoptr (GPtrArray) series = g_ptr_array_new_with_free_func (
    (GDestroyNotify) mm_batch_series_free);
  g_autoptr (GHashTable) by_uid = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) builders = g_hash_table_new_full (
    g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) g_strv_builder_unref);
  char *line = text + strlen (INDEX_HEADER "\n");
  guint lineno = 1;
  while (*line)
    {
      lineno++;
      char *end = strchr (line, '\n');
      if (end == NULL)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s: line %u: cut short (no line end): a partly written index", path,
                       lineno);
          return NULL;
        }
      *end = '\0';
      char *tab = strchr (line, '\t');
      if (tab == NULL || tab == line || tab[1] == '\0' || strchr (tab + 1, '\t')
          || !g_utf8_validate (line, -1, NULL))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "%s: line %u: not \"UID<tab>PATH\"", path, lineno);
          return NULL;
        }
      *tab = '\0';
      MmBatchSeries *bs = g_hash_table_lookup (by_uid, line);
      if (bs == NULL)
        {
          bs = g_new0 (MmBatchSeries, 1);
          bs->uid = g_strdup (line);
          g_ptr_array_add (series, bs);
          g_hash_table_insert (by_uid, bs->uid, bs);
          g_hash_table_insert (builders, bs, g_strv_builder_new ());
        }
      g_strv_builder_add (g_hash_table_lookup (builders, bs), tab + 1);
      bs->n_files++;
      line = end + 1;
    }
  for (guint s = 0; s < series->len; s++)
    {
      MmBatchSeries *bs = series->pdata[s];
      bs->files = g_strv_builder_end (g_hash_table_lookup (builders, bs));
    }
  return g_steal_pointer (&series);
}
