/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PNG label stacks: write in parallel, each file atomic, manifest last; strict import. */
#include "mm-label-stack.h"
#include "mm-json.h"

#include "mm-atomic.h"
#include "mm-limits.h"
#include "mm-png.h"
#include "mm-profile.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <omp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *
mm_label_stack_file_name (int index, int n_slices, int instance_number)
{
  return mm_label_stack_file_name_gen (index, n_slices, instance_number, 0);
}

char *
mm_label_stack_file_name_gen (int index, int n_slices, int instance_number, gint64 generation)
{
  int width = 4;
  for (int n = n_slices - 1; n >= 10000; n /= 10)
    width++;
  g_autofree char *gen = generation > 0 ? g_strdup_printf ("-g%" G_GINT64_FORMAT, generation)
                                        : g_strdup ("");
  if (instance_number == G_MININT)
    return g_strdup_printf ("mask-%0*d%s.png", width, index, gen);
  return g_strdup_printf ("mask-%0*d-i%d%s.png", width, index, instance_number, gen);
}

static JsonNode *
manifest_new (const MmVolume *vol, JsonObject *parameters, const uint64_t *counts,
              gint64 generation)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  int n = vol->dims[2];
  json_builder_begin_object (b);
  mm_json_set_string (b, "format", MM_LABEL_STACK_FORMAT);
  mm_json_set_int (b, "version", MM_LABEL_STACK_VERSION);
  mm_json_set_int (b, "generation", generation);
  mm_json_set_string (b, "series_uid", vol->series_uid);
  mm_json_set_ints (b, "dims", vol->dims, 3);
  mm_json_set_doubles (b, "spacing_mm", vol->spacing, 3);
  json_builder_set_member_name (b, "label");
  json_builder_begin_object (b);
  mm_json_set_string (b, "name", "metal");
  mm_json_set_int (b, "value", 255);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "parameters");
  if (parameters)
    json_builder_add_value (b, json_node_init_object (json_node_alloc (), parameters));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "slices");
  json_builder_begin_array (b);
  for (int k = 0; k < n; k++)
    {
      const MmSliceInfo *s = &vol->slices[k];
      g_autofree char *name = mm_label_stack_file_name_gen (k, n, s->instance_number,
                                                            generation);
      json_builder_begin_object (b);
      mm_json_set_int (b, "index", k);
      mm_json_set_string (b, "file", name);
      mm_json_set_string (b, "sop_instance_uid", s->sop_instance_uid);
      if (s->frame_number > 0) /* a frame of a multi-frame file */
        mm_json_set_int (b, "frame_number", s->frame_number);
      json_builder_set_member_name (b, "instance_number");
      if (s->instance_number != G_MININT)
        json_builder_add_int_value (b, s->instance_number);
      else
        json_builder_add_null_value (b);
      mm_json_set_double (b, "z_mm", mm_volume_slice_z (vol, k));
      mm_json_set_int (b, "voxels", (gint64) counts[k]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static uint64_t
mask_slice_cb (int k, uint8_t *out, gpointer user_data)
{
  const MmMask *mask = user_data;
  size_t n = (size_t) mask->dims[0] * mask->dims[1];
  if (mm_mask_slice_is_empty (mask, k))
    {
      memset (out, 0, n);
      return 0;
    }
  const uint8_t *src = mm_mask_slice (mask, k);
  uint64_t count = 0;
  for (size_t x = 0; x < n; x++)
    {
      out[x] = src[x] ? 255 : 0;
      count += src[x] != 0;
    }
  return count;
}

bool
mm_label_stack_write (const char *dir, const MmMask *mask, const MmVolume *vol,
                      JsonObject *parameters, int n_threads, GError **error)
{
  g_return_val_if_fail (dir && mask && vol, false);
  g_return_val_if_fail (memcmp (mask->dims, vol->dims, sizeof mask->dims) == 0, false);
  return mm_label_stack_write_func (dir, vol, mask_slice_cb, (gpointer) mask, parameters,
                                    n_threads, error);
}

/* ---- writing: generations ----
 *
 * A stack is the set of files its manifest names, and a manifest names only files of its own
 * generation ("mask-0007-i306-g12.png" for generation 12). A write never replaces a file a
 * manifest names: it creates the next generation beside the current one (slices that did not
 * change are hard links to the current files when the caller says which changed), renames
 * the new manifest over the old one, and only then removes the files of older generations.
 * Killed at any point, the folder's manifest is the old one with all its files, or the new
 * one with all of its; leftovers (temporaries, files of an unfinished generation) are removed
 * by the next write. Version 1 manifests (no generation, names without "-g") are still read
 * and replaced the same way. */

/* Our files in a stack folder: slice PNGs of any generation (group 3: the generation). */
static GRegex *
stack_png_regex (void)
{
  static GRegex *re;
  if (g_once_init_enter (&re))
    g_once_init_leave (&re, g_regex_new ("^mask-[0-9]+(-i-?[0-9]+)?(-g([0-9]+))?\\.png$",
                                                 G_REGEX_OPTIMIZE, 0, NULL));
  return re;
}

/* Temporaries of mm_atomic_prepare for our PNGs and manifest, left by a killed writer. */
static bool
is_stale_temporary (const char *name)
{
  return (g_str_has_prefix (name, "mask-") || g_str_has_prefix (name, MM_LABEL_STACK_MANIFEST "."))
         && strstr (name, ".tmp-") != NULL;
}

static bool
json_int (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return false;
  *out = json_node_get_int (n);
  return true;
}

static const char *
json_str (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* The stack on disk as a writer needs it. */
typedef struct
{
  gint64 generation;      /* of the current manifest; 0: version 1 or none */
  bool in_order;          /* it lists vol's slices in vol's order, under the expected names */
  gint64 *counts;         /* per slice, when in_order */
  JsonObject *parameters; /* its "parameters" (a reference), or NULL */
} OldStack;

static void
old_stack_clear (OldStack *o)
{
  g_free (o->counts);
  g_clear_pointer (&o->parameters, json_object_unref);
}

static void
old_stack_read (const char *dir, const MmVolume *vol, OldStack *o)
{
  memset (o, 0, sizeof *o);
  g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_mapped_file (parser, manifest, NULL))
    return;
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *obj = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  gint64 version = 0, gen = 0;
  if (!json_int (obj, "version", &version)
      || (version == 2 && (!json_int (obj, "generation", &gen) || gen < 1))
      || (version != 1 && version != 2))
    return;
  o->generation = gen;
  JsonNode *par = json_object_get_member (obj, "parameters");
  if (par && JSON_NODE_HOLDS_OBJECT (par))
    o->parameters = json_object_ref (json_node_get_object (par));
  JsonNode *sl = json_object_get_member (obj, "slices");
  int n = vol->dims[2];
  if (!sl || !JSON_NODE_HOLDS_ARRAY (sl)
      || (int) json_array_get_length (json_node_get_array (sl)) != n)
    return;
  JsonArray *a = json_node_get_array (sl);
  g_autofree gint64 *counts = g_new (gint64, n);
  for (int e = 0; e < n; e++)
    {
      JsonNode *en = json_array_get_element (a, e);
      JsonObject *s = JSON_NODE_HOLDS_OBJECT (en) ? json_node_get_object (en) : NULL;
      gint64 index = -1;
      if (!json_int (s, "index", &index) || index != e || !json_int (s, "voxels", &counts[e])
          || counts[e] < 0)
        return;
      const MmSliceInfo *info = &vol->slices[e];
      g_autofree char *name = mm_label_stack_file_name_gen (e, n, info->instance_number, gen);
      if (g_strcmp0 (json_str (s, "file"), name) != 0
          || g_strcmp0 (json_str (s, "sop_instance_uid"), info->sop_instance_uid) != 0)
        return;
    }
  o->counts = g_steal_pointer (&counts);
  o->in_order = true;
}

/* Remove stale temporaries; *max_gen becomes the highest generation of any slice PNG here,
 * so the next one collides with nothing a killed run left. */
static void
scan_folder (const char *dir, gint64 *max_gen)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      g_autoptr (GMatchInfo) m = NULL;
      if (is_stale_temporary (name))
        {
          g_autofree char *path = g_build_filename (dir, name, NULL);
          g_unlink (path);
        }
      else if (g_regex_match (stack_png_regex (), name, 0, &m))
        {
          g_autofree char *g = g_match_info_fetch (m, 3);
          if (g && *g)
            *max_gen = MAX (*max_gen, g_ascii_strtoll (g, NULL, 10));
        }
    }
  g_dir_close (d);
}

/* After the new manifest is in place: every slice PNG it does not name goes. */
static void
remove_other_generations (const char *dir, GHashTable *keep)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  g_autoptr (GPtrArray) doomed = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d)))
    if ((g_regex_match (stack_png_regex (), name, 0, NULL) && !g_hash_table_contains (keep, name))
        || is_stale_temporary (name))
      g_ptr_array_add (doomed, g_build_filename (dir, name, NULL));
  g_dir_close (d);
  for (guint i = 0; i < doomed->len; i++)
    {
      mm_atomic_test_step ();
      g_unlink (doomed->pdata[i]);
    }
}

static bool
write_stack (const char *dir, const MmVolume *vol, MmLabelSliceFunc func, gpointer user_data,
             JsonObject *parameters, bool keep_parameters, const bool *changed, int n_threads,
             GError **error)
{
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  if (!mm_ensure_dir (dir, error))
    return false;

  OldStack old;
  old_stack_read (dir, vol, &old);
  gint64 max_gen = old.generation;
  scan_folder (dir, &max_gen);
  gint64 gen = max_gen + 1;
  if (keep_parameters)
    parameters = old.parameters;

  int n = vol->dims[2], w = vol->dims[0], h = vol->dims[1];
  size_t slice = (size_t) w * h;
  GError *first_error = NULL;
  int stop = 0;
  g_autofree uint64_t *counts = g_new0 (uint64_t, n);
  g_autofree bool *created = g_new0 (bool, n);
  g_autofree char **names = g_new0 (char *, n + 1);
  for (int k = 0; k < n; k++)
    names[k] = mm_label_stack_file_name_gen (k, n, vol->slices[k].instance_number, gen);
  /* Most slices of a CT hold no metal; their PNG is the same bytes every time. */
  g_autofree uint8_t *zeros = g_malloc0 (slice);
  g_autoptr (GBytes) empty_png = mm_png_encode_gray8 (zeros, w, h, error);
  if (empty_png == NULL)
    {
      old_stack_clear (&old);
      g_strfreev (g_steal_pointer (&names));
      return false;
    }

  /* All or nothing: every PNG is written to a temporary file first (encoding overlaps across
   * threads, each file's writeback starts at once), then every temporary file is synced
   * (fsync, in a pass after all writes: the disk writes them in parallel and one journal
   * commit covers most, where an fsync after each write waited for each in turn); only when
   * all are on disk are they renamed into place, so a crash, a full disk or an error part way
   * leaves the previous stack as it was, never a new one with files missing or half-written. */
  g_autofree char **tmps = g_new0 (char *, n);
#pragma omp parallel num_threads (n_threads)
  {
    g_autofree uint8_t *buf = g_malloc (slice);
#pragma omp for schedule (dynamic, 1)
    for (int k = 0; k < n; k++)
      {
        int failed;
#pragma omp atomic read
        failed = stop;
        if (failed)
          continue;
        g_autofree char *path = g_build_filename (dir, names[k], NULL);
        if (changed && !changed[k] && old.in_order)
          {
            /* Unchanged: the current file under the new name (where links work). */
            g_autofree char *cur_name = mm_label_stack_file_name_gen (
                k, n, vol->slices[k].instance_number, old.generation);
            g_autofree char *cur = g_build_filename (dir, cur_name, NULL);
            GStatBuf st;
            if (g_lstat (cur, &st) == 0 && S_ISREG (st.st_mode) && link (cur, path) == 0)
              {
                counts[k] = (uint64_t) old.counts[k];
                created[k] = true;
                continue;
              }
          }
        gint64 t0 = mm_profile_begin ();
        uint64_t count = func (k, buf, user_data);
        counts[k] = count;
        GError *err = NULL;
        g_autoptr (GBytes) png = count == 0 ? g_bytes_ref (empty_png)
                                            : mm_png_encode_gray8 (buf, w, h, &err);
        mm_profile_end (MM_PROFILE_PNG_ENCODE, t0);
        gsize len = 0;
        const void *data = png ? g_bytes_get_data (png, &len) : NULL;
        t0 = mm_profile_begin ();
        bool prepared = png != NULL
                        && mm_atomic_prepare_unsynced (path, data, len, &tmps[k], &err);
        mm_profile_end (MM_PROFILE_FSYNC, t0);
        if (!prepared)
          {
#pragma omp critical (label_stack_error)
            {
              if (first_error == NULL)
                first_error = err;
              else
                g_error_free (err);
            }
#pragma omp atomic write
            stop = 1;
          }
      }
  }
  /* The sync pass: every new file durable before any is renamed (and so before any manifest
   * can name it). */
  gint64 t_files = mm_profile_begin ();
  if (first_error == NULL)
    {
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 4)
      for (int k = 0; k < n; k++)
        {
          int failed;
#pragma omp atomic read
          failed = stop;
          if (failed || tmps[k] == NULL)
            continue;
          g_autofree char *path = g_build_filename (dir, names[k], NULL);
          GError *err = NULL;
          if (!mm_atomic_sync_file (tmps[k], path, &err))
            {
#pragma omp critical (label_stack_error)
              {
                if (first_error == NULL)
                  first_error = err;
                else
                  g_error_free (err);
              }
#pragma omp atomic write
              stop = 1;
            }
        }
    }
  mm_profile_end (MM_PROFILE_FSYNC, t_files);
  for (int k = 0; k < n && first_error == NULL; k++)
    {
      if (tmps[k] == NULL)
        continue;
      g_autofree char *path = g_build_filename (dir, names[k], NULL);
      if (!mm_atomic_commit (tmps[k], path, &first_error))
        break;
      g_clear_pointer (&tmps[k], g_free);
      created[k] = true;
    }
  /* The new PNGs are durable before a manifest names them. */
  gint64 t_sync = mm_profile_begin ();
  if (first_error == NULL)
    mm_fsync_dir (dir, &first_error);
  if (first_error == NULL)
    {
      g_autoptr (JsonNode) root = manifest_new (vol, parameters, counts, gen);
      gsize len = 0;
      g_autofree char *text = mm_json_to_data (root, TRUE, &len, NULL);
      g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
      if (mm_atomic_write (manifest, text, len, true, &first_error))
        mm_fsync_dir (dir, &first_error);
    }
  mm_profile_end (MM_PROFILE_FSYNC, t_sync);
  for (int k = 0; k < n; k++)
    if (tmps[k])
      {
        g_unlink (tmps[k]);
        g_free (tmps[k]);
      }
  old_stack_clear (&old);
  if (first_error)
    {
      /* The old manifest still rules: the new generation's files are nobody's. */
      for (int k = 0; k < n; k++)
        if (created[k])
          {
            g_autofree char *path = g_build_filename (dir, names[k], NULL);
            g_unlink (path);
          }
      g_strfreev (g_steal_pointer (&names));
      g_propagate_error (error, first_error);
      return false;
    }
  g_autoptr (GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  for (int k = 0; k < n; k++)
    g_hash_table_add (keep, names[k]);
  remove_other_generations (dir, keep);
  g_strfreev (g_steal_pointer (&names));
  return true;
}

bool
mm_label_stack_write_func (const char *dir, const MmVolume *vol, MmLabelSliceFunc func,
                           gpointer user_data, JsonObject *parameters, int n_threads,
                           GError **error)
{
  g_return_val_if_fail (dir && vol && func, false);
  return write_stack (dir, vol, func, user_data, parameters, false, NULL, n_threads, error);
}

bool
mm_label_stack_update (const char *dir, const MmMask *mask, const MmVolume *vol,
                       const bool *changed, int n_threads, GError **error)
{
  g_return_val_if_fail (dir && mask && vol && changed, false);
  g_return_val_if_fail (memcmp (mask->dims, vol->dims, sizeof mask->dims) == 0, false);
  return write_stack (dir, vol, mask_slice_cb, (gpointer) mask, NULL, true, changed, n_threads,
                      error);
}

static bool
manifest_error (GError **error, const char *path, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path, what);
  return false;
}

/* Before anything is allocated: the PNG of slice k exists and declares the stack's size. */
static bool
check_slice (const char *dir, const char *name, const int dims[3], int k, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GStatBuf st;
  if (g_lstat (path, &st) == 0 && !S_ISREG (st.st_mode))
    {
      /* Never read through a link out of the stack's folder, nor from a device or pipe. */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s: is not a regular file (a link, device or pipe); a label stack holds "
                   "only its own PNGs", path);
      return false;
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "%s: missing: the manifest lists it for slice %d", path, k);
      return false;
    }
  MmPngHeader h = { 0 };
  if (!mm_png_read_header (path, &h, error))
    return false;
  if (h.width != (guint32) dims[0] || h.height != (guint32) dims[1])
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: is %u x %u pixels, the series' slices are %d x %d", path, h.width,
                   h.height, dims[0], dims[1]);
      return false;
    }
  return true;
}

/* Read one PNG of the stack into slice k of mask, checking size and values. */
static bool
read_slice (const char *dir, const char *name, MmMask *mask, int k, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree uint8_t *px = NULL;
  int w = mask->dims[0], h = mask->dims[1];
  if (!mm_png_read_gray8 (path, w, h, &px, error))
    return false;
  uint8_t *dst = mm_mask_slice (mask, k);
  for (size_t x = 0; x < (size_t) w * h; x++)
    {
      if (px[x] != 0 && px[x] != 255)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: value %d at pixel (%zu, %zu); a label PNG holds only 0 and 255", path,
                       px[x], x % w, x / w);
          return false;
        }
      dst[x] = px[x] != 0;
    }
  return true;
}

/* Parse the manifest at path into parser; *obj is its top-level object, or NULL when the
 * top level is something else (the caller says what it lacks). */
static bool
load_manifest (JsonParser *parser, const char *path, JsonObject **obj, GError **error)
{
  *obj = NULL;
  if (!mm_json_load_file (parser, path, "label stack manifest", error))
    return false;
  JsonNode *root = json_parser_get_root (parser);
  *obj = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  return true;
}

MmMask *
mm_label_stack_read (const char *dir, const MmVolume *vol, GError **error)
{
  g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  if (!load_manifest (parser, manifest, &obj, error))
    return NULL;
  /* Every member is read through mm_json_*: a member of another type than expected is
   * treated as missing (json-glib's own getters emit a critical for it). */
  if (obj == NULL || g_strcmp0 (mm_json_member_string (obj, "format"), MM_LABEL_STACK_FORMAT) != 0)
    return manifest_error (error, manifest, "not a Metalmark label stack manifest"), NULL;
  /* Version 1: no generations (names without "-g"); 2: every file of the manifest's. */
  gint64 version = 0, generation = 0;
  if (!json_int (obj, "version", &version) || (version != 1 && version != MM_LABEL_STACK_VERSION))
    return manifest_error (error, manifest, "unsupported label stack version"), NULL;
  if (version == MM_LABEL_STACK_VERSION
      && (!json_int (obj, "generation", &generation) || generation < 1))
    return manifest_error (error, manifest, "manifest lacks a valid \"generation\""), NULL;
  JsonArray *dims_a = mm_json_member_array (obj, "dims");
  JsonArray *slices = mm_json_member_array (obj, "slices");
  if (dims_a == NULL || json_array_get_length (dims_a) != 3 || slices == NULL)
    return manifest_error (error, manifest, "manifest lacks \"dims\" or \"slices\""), NULL;
  int dims[3];
  const gint64 most[3] = { MM_LIMIT_IMAGE_SIDE, MM_LIMIT_IMAGE_SIDE, MM_LIMIT_SLICES };
  guint64 voxels = 1;
  for (int a = 0; a < 3; a++)
    {
      JsonNode *e = json_array_get_element (dims_a, a);
      gint64 v = JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_INT64
                     ? json_node_get_int (e) : 0;
      if (v <= 0 || v > most[a])
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: manifest \"dims\" [%d] is %s; it must be a whole number from 1 to "
                       "%" G_GINT64_FORMAT, manifest, a, v > 0 ? "too large" : "not positive",
                       most[a]);
          return NULL;
        }
      dims[a] = (int) v;
      voxels *= (guint64) v;
    }
  if (voxels > MM_LIMIT_VOXELS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: manifest \"dims\" %d x %d x %d is %" G_GUINT64_FORMAT " voxels, more "
                   "than the %llu a mask may have", manifest, dims[0], dims[1], dims[2], voxels,
                   MM_LIMIT_VOXELS);
      return NULL;
    }
  guint n = json_array_get_length (slices);
  if ((int) n != dims[2])
    return manifest_error (error, manifest, "manifest lists a different number of slices "
                                            "than its \"dims\" say"), NULL;

  if (vol)
    {
      if (vol->dims[0] != dims[0] || vol->dims[1] != dims[1] || vol->dims[2] != dims[2])
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: the mask is %d x %d x %d, the series is %d x %d x %d", manifest,
                       dims[0], dims[1], dims[2], vol->dims[0], vol->dims[1], vol->dims[2]);
          return NULL;
        }
    }

  /* Map SOP Instance UID -> volume slice, so a stack follows its slices, not file order. */
  g_autoptr (GHashTable) by_uid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree bool *seen = g_new0 (bool, dims[2]);
  g_autofree const char **files = g_new0 (const char *, dims[2]); /* borrowed from the parser */
  g_autoptr (GHashTable) dups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (vol)
    for (int k = 0; k < vol->dims[2]; k++)
      if (vol->slices[k].sop_instance_uid)
        {
          char *key = mm_slice_key (vol->slices[k].sop_instance_uid, vol->slices[k].frame_number);
          if (g_hash_table_contains (by_uid, key))
            g_hash_table_add (dups, g_strdup (key));
          g_hash_table_insert (by_uid, key, GINT_TO_POINTER (k + 1));
        }

  for (guint e = 0; e < n; e++)
    {
      JsonObject *s = mm_json_array_object (slices, e);
      if (s == NULL)
        return manifest_error (error, manifest, "a \"slices\" entry is not an object"), NULL;
      gint64 index = mm_json_member_int (s, "index", -1);
      const char *file = mm_json_member_string (s, "file");
      const char *uid = mm_json_member_string (s, "sop_instance_uid");
      if (index < 0 || index >= dims[2] || file == NULL)
        return manifest_error (error, manifest, "a \"slices\" entry lacks a valid index or file"),
               NULL;
      /* Missing or null: the slice has none (the file name then has no "-i" part). */
      gint64 inst = G_MININT;
      JsonNode *inst_node = json_object_get_member (s, "instance_number");
      if (inst_node && !JSON_NODE_HOLDS_NULL (inst_node))
        {
          inst = mm_json_member_int (s, "instance_number", G_MININT64);
          if (inst < G_MININT || inst > G_MAXINT)
            return manifest_error (error, manifest, "a \"slices\" entry has an \"instance_number\" "
                                                    "that is not an integer"), NULL;
        }
      g_autofree char *expected
          = mm_label_stack_file_name_gen ((int) index, dims[2], (int) inst, generation);
      if (strcmp (expected, file) != 0 || strchr (file, '/') != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s/%s: misnamed: slice %d should be %s", dir, file, (int) index, expected);
          return NULL;
        }
      int k = (int) index;
      if (vol)
        {
          g_autofree char *key
              = mm_slice_key (uid, (int) mm_json_member_int (s, "frame_number", 0));
          bool dup = key && g_hash_table_contains (dups, key);
          k = key && !dup ? GPOINTER_TO_INT (g_hash_table_lookup (by_uid, key)) - 1 : -1;
          /* A UID the series holds twice, or none, cannot place a slice: the index does,
           * when the series' slice there has the entry's UID (or none, like the entry). */
          if (k < 0 && index < vol->dims[2]
              && g_strcmp0 (uid, vol->slices[index].sop_instance_uid) == 0)
            k = (int) index;
          if (k < 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s/%s: its SOP Instance UID %s is not a slice of this series", dir,
                           file, uid ? uid : "(none)");
              return NULL;
            }
        }
      if (seen[k])
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s/%s: a second entry for slice %d", dir, file, k);
          return NULL;
        }
      seen[k] = true;
      files[k] = file;
    }

  /* Every PNG the manifest lists is there and declares the right size: only now is the
   * mask allocated (a manifest declaring a huge stack of files that do not exist costs
   * nothing). */
  for (int k = 0; k < dims[2]; k++)
    if (files[k] && !check_slice (dir, files[k], dims, k, error))
      return NULL;
  g_autoptr (MmMask) mask = mm_mask_new (dims);
  if (mask == NULL)
    return manifest_error (error, manifest, "not enough memory for the mask"), NULL;

  /* The manifest checks out: decode the PNGs in parallel, reporting the first failure in
   * slice order so the message does not depend on the thread count. */
  g_autofree GError **errors = g_new0 (GError *, dims[2]);
#pragma omp parallel for schedule (dynamic, 2)
  for (int k = 0; k < dims[2]; k++)
    if (files[k])
      read_slice (dir, files[k], mask, k, &errors[k]);
  GError *first = NULL;
  for (int k = 0; k < dims[2]; k++)
    if (errors[k] && first == NULL)
      first = errors[k];
    else if (errors[k])
      g_error_free (errors[k]);
  if (first)
    {
      g_propagate_error (error, first);
      return NULL;
    }
  return g_steal_pointer (&mask);
}

bool
mm_label_stack_read_geometry (const char *dir, double spacing_mm[3], GPtrArray **uids,
                              GError **error)
{
  g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  if (!load_manifest (parser, manifest, &obj, error))
    return false;
  JsonArray *sp = obj ? mm_json_member_array (obj, "spacing_mm") : NULL;
  if (sp == NULL || json_array_get_length (sp) != 3)
    return manifest_error (error, manifest, "manifest lacks \"spacing_mm\" (3 numbers)");
  for (int a = 0; a < 3; a++)
    {
      JsonNode *e = json_array_get_element (sp, a);
      GType t = JSON_NODE_HOLDS_VALUE (e) ? json_node_get_value_type (e) : G_TYPE_INVALID;
      spacing_mm[a] = t == G_TYPE_DOUBLE || t == G_TYPE_INT64 ? json_node_get_double (e) : NAN;
      if (!(spacing_mm[a] > 0) || !isfinite (spacing_mm[a]))
        return manifest_error (error, manifest, "manifest \"spacing_mm\" is not 3 positive "
                                                "numbers");
    }
  if (uids == NULL)
    return true;
  JsonArray *slices = mm_json_member_array (obj, "slices");
  if (slices == NULL)
    return manifest_error (error, manifest, "manifest lacks \"slices\"");
  guint n = json_array_get_length (slices);
  g_autoptr (GPtrArray) list = g_ptr_array_new_full (n, g_free);
  g_ptr_array_set_size (list, n);
  for (guint e = 0; e < n; e++)
    {
      JsonObject *s = mm_json_array_object (slices, e);
      gint64 index = s ? mm_json_member_int (s, "index", -1) : -1;
      if (index < 0 || index >= n)
        return manifest_error (error, manifest, "a \"slices\" entry lacks a valid index");
      const char *uid = mm_json_member_string (s, "sop_instance_uid");
      g_free (list->pdata[index]);
      list->pdata[index]
          = mm_slice_key (uid, (int) mm_json_member_int (s, "frame_number", 0));
    }
  *uids = g_steal_pointer (&list);
  return true;
}
