/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PNG label stacks: write in parallel, each file atomic, manifest last; strict import. */
#include "mm-label-stack.h"
#include "mm-json.h"

#include "mm-atomic.h"
#include "mm-png.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <omp.h>
#include <string.h>

char *
mm_label_stack_file_name (int index, int n_slices, int instance_number)
{
  int width = 4;
  for (int n = n_slices - 1; n >= 10000; n /= 10)
    width++;
  if (instance_number == G_MININT)
    return g_strdup_printf ("mask-%0*d.png", width, index);
  return g_strdup_printf ("mask-%0*d-i%d.png", width, index, instance_number);
}

static JsonNode *
manifest_new (const MmVolume *vol, JsonObject *parameters, const uint64_t *counts)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  int n = vol->dims[2];
  json_builder_begin_object (b);
  mm_json_set_string (b, "format", MM_LABEL_STACK_FORMAT);
  mm_json_set_int (b, "version", MM_LABEL_STACK_VERSION);
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
      g_autofree char *name = mm_label_stack_file_name (k, n, s->instance_number);
      json_builder_begin_object (b);
      mm_json_set_int (b, "index", k);
      mm_json_set_string (b, "file", name);
      mm_json_set_string (b, "sop_instance_uid", s->sop_instance_uid);
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

bool
mm_label_stack_write_func (const char *dir, const MmVolume *vol, MmLabelSliceFunc func,
                           gpointer user_data, JsonObject *parameters, int n_threads,
                           GError **error)
{
  g_return_val_if_fail (dir && vol && func, false);
  if (n_threads <= 0)
    n_threads = omp_get_max_threads ();
  if (!mm_ensure_dir (dir, error))
    return false;

  int n = vol->dims[2], w = vol->dims[0], h = vol->dims[1];
  size_t slice = (size_t) w * h;
  GError *first_error = NULL;
  int stop = 0;
  g_autofree uint64_t *counts = g_new0 (uint64_t, n);
  /* Most slices of a CT hold no metal; their PNG is the same bytes every time. */
  g_autofree uint8_t *zeros = g_malloc0 (slice);
  g_autoptr (GBytes) empty_png = mm_png_encode_gray8 (zeros, w, h, error);
  if (empty_png == NULL)
    return false;

  /* All or nothing: every PNG is written and synced to a temporary file first (encoding and
   * fsyncs overlap across threads); only when all exist are they renamed into place, so a
   * full disk or an error part way leaves the previous stack as it was. */
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
        uint64_t count = func (k, buf, user_data);
        counts[k] = count;
        g_autofree char *name = mm_label_stack_file_name (k, n, vol->slices[k].instance_number);
        g_autofree char *path = g_build_filename (dir, name, NULL);
        GError *err = NULL;
        g_autoptr (GBytes) png = count == 0 ? g_bytes_ref (empty_png)
                                            : mm_png_encode_gray8 (buf, w, h, &err);
        gsize len = 0;
        const void *data = png ? g_bytes_get_data (png, &len) : NULL;
        if (png == NULL || !mm_atomic_prepare (path, data, len, &tmps[k], &err))
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
  for (int k = 0; k < n && first_error == NULL; k++)
    {
      g_autofree char *name = mm_label_stack_file_name (k, n, vol->slices[k].instance_number);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (!mm_atomic_commit (tmps[k], path, &first_error))
        break;
      g_clear_pointer (&tmps[k], g_free);
    }
  for (int k = 0; k < n; k++)
    if (tmps[k])
      {
        g_unlink (tmps[k]);
        g_free (tmps[k]);
      }
  if (first_error)
    {
      g_propagate_error (error, first_error);
      return false;
    }

  /* The manifest goes last: a stack with a manifest is a complete stack. */
  g_autoptr (JsonNode) root = manifest_new (vol, parameters, counts);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  gsize len = 0;
  g_autofree char *text = json_generator_to_data (gen, &len);
  g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
  if (!mm_atomic_write (manifest, text, len, true, error))
    return false;
  return mm_fsync_dir (dir, error);
}

static bool
manifest_error (GError **error, const char *path, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path, what);
  return false;
}

/* Read one PNG of the stack into slice k of mask, checking size and values. */
static bool
read_slice (const char *dir, const char *name, MmMask *mask, int k, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "%s: missing: the manifest lists it for slice %d", path, k);
      return false;
    }
  g_autofree uint8_t *px = NULL;
  int w = 0, h = 0;
  if (!mm_png_read_gray8 (path, &px, &w, &h, error))
    return false;
  if (w != mask->dims[0] || h != mask->dims[1])
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: is %d x %d pixels, the series' slices are %d x %d", path, w, h,
                   mask->dims[0], mask->dims[1]);
      return false;
    }
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

MmMask *
mm_label_stack_read (const char *dir, const MmVolume *vol, GError **error)
{
  g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *err = NULL;
  if (!json_parser_load_from_mapped_file (parser, manifest, &err))
    {
      g_set_error (error, G_IO_ERROR,
                   g_error_matches (err, G_FILE_ERROR, G_FILE_ERROR_NOENT) ? G_IO_ERROR_NOT_FOUND
                                                                           : G_IO_ERROR_INVALID_DATA,
                   "%s: cannot read the label stack manifest: %s", manifest, err->message);
      g_error_free (err);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser); /* NULL for an empty file */
  JsonObject *obj = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  /* Every member is read through mm_json_*: a member of another type than expected is
   * treated as missing (json-glib's own getters emit a critical for it). */
  if (obj == NULL || g_strcmp0 (mm_json_member_string (obj, "format"), MM_LABEL_STACK_FORMAT) != 0)
    return manifest_error (error, manifest, "not a Metalmark label stack manifest"), NULL;
  if (mm_json_member_int (obj, "version", 0) != MM_LABEL_STACK_VERSION)
    return manifest_error (error, manifest, "unsupported label stack version"), NULL;
  JsonArray *dims_a = mm_json_member_array (obj, "dims");
  JsonArray *slices = mm_json_member_array (obj, "slices");
  if (dims_a == NULL || json_array_get_length (dims_a) != 3 || slices == NULL)
    return manifest_error (error, manifest, "manifest lacks \"dims\" or \"slices\""), NULL;
  int dims[3];
  for (int a = 0; a < 3; a++)
    {
      gint64 v = mm_json_array_int (dims_a, a, 0);
      if (v <= 0 || v > 65535)
        return manifest_error (error, manifest, "manifest \"dims\" out of range"), NULL;
      dims[a] = (int) v;
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

  g_autoptr (MmMask) mask = mm_mask_new (dims);
  if (mask == NULL)
    return manifest_error (error, manifest, "not enough memory for the mask"), NULL;

  /* Map SOP Instance UID -> volume slice, so a stack follows its slices, not file order. */
  g_autoptr (GHashTable) by_uid = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree bool *seen = g_new0 (bool, dims[2]);
  g_autofree const char **files = g_new0 (const char *, dims[2]); /* borrowed from the parser */
  if (vol)
    for (int k = 0; k < vol->dims[2]; k++)
      if (vol->slices[k].sop_instance_uid)
        g_hash_table_insert (by_uid, vol->slices[k].sop_instance_uid, GINT_TO_POINTER (k + 1));

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
      g_autofree char *expected = mm_label_stack_file_name ((int) index, dims[2], (int) inst);
      if (strcmp (expected, file) != 0 || strchr (file, '/') != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s/%s: misnamed: slice %d should be %s", dir, file, (int) index, expected);
          return NULL;
        }
      int k = (int) index;
      if (vol)
        {
          k = uid ? GPOINTER_TO_INT (g_hash_table_lookup (by_uid, uid)) - 1 : -1;
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
  GError *err = NULL;
  if (!json_parser_load_from_mapped_file (parser, manifest, &err))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: cannot read the label stack manifest: %s", manifest, err->message);
      g_error_free (err);
      return false;
    }
  JsonNode *root = json_parser_get_root (parser); /* NULL for an empty file */
  JsonObject *obj = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
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
      list->pdata[index] = g_strdup (uid);
    }
  *uids = g_steal_pointer (&list);
  return true;
}
