/* SPDX-License-Identifier: GPL-3.0-or-later */
/* safetensors files: an atomic writer and a strict reader of F32 tensors. */
#include "mm-safetensors.h"

#include "mm-atomic.h"
#include "mm-json.h"
#include "mm-limits.h"
#include "mm-unet.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A model is tens of MB of weights but its header a few kB; 100 MB of JSON is not a model. */
#define MAX_HEADER_BYTES (100u << 20)
/* A valid header nests three deep (root, tensor, shape); json-glib recurses per level, so a
 * deeper header is refused before it is parsed rather than allowed to exhaust the stack. */
#define MAX_HEADER_DEPTH 8

typedef struct
{
  MmSafetensor t; /* first, so that a const MmSafetensor * handed out can be cast back */
  guint64 begin, end;
} Entry;

struct _MmSafetensors
{
  char *path;
  char *contents; /* the whole file */
  const char *data; /* the data area inside contents */
  guint64 data_len;
  GArray *entries;     /* Entry, in data order */
  GHashTable *names;   /* name -> index + 1 (borrowed keys) */
  GHashTable *metadata; /* owned strings */
};

bool
mm_nn_file_error (GError **error, int code, const char *path, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *why = g_strdup_vprintf (format, ap);
  va_end (ap);
  /* Names and values quoted from the file stay on the message's one line. */
  for (char *c = why; *c; c++)
    if ((unsigned char) *c < ' ')
      *c = ' ';
  g_set_error (error, MM_NN_ERROR, code, "%s: %s", path, why);
  return false;
}

#define fail(error, path, ...) mm_nn_file_error ((error), MM_NN_ERROR_MODEL, (path), __VA_ARGS__)

char *
mm_safetensors_shape_to_string (int ndim, const int64_t *shape)
{
  GString *s = g_string_new ("[");
  for (int d = 0; d < ndim; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? "," : "", shape[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

size_t
mm_safetensors_tensor_size (const MmSafetensor *t)
{
  size_t n = 1;
  for (int d = 0; d < t->ndim; d++)
    n *= (size_t) t->shape[d];
  return n;
}

/* Little-endian on disk: a plain copy on the machines oneDNN runs on, a swap elsewhere. */
static void
copy_le32 (void *dst, const void *src, size_t n)
{
  memcpy (dst, src, n * 4);
#if G_BYTE_ORDER == G_BIG_ENDIAN
  guint32 *w = dst;
  for (size_t k = 0; k < n; k++)
    w[k] = GUINT32_SWAP_LE_BE (w[k]);
#endif
}

/* ---- writing ---- */

bool
mm_safetensors_write (const char *path, const MmSafetensor *tensors, int n_tensors,
                      const char *const *metadata, GError **error)
{
  g_return_val_if_fail (path != NULL, false);
  g_return_val_if_fail (n_tensors >= 0 && (tensors != NULL || n_tensors == 0), false);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  if (metadata && metadata[0])
    {
      json_builder_set_member_name (b, "__metadata__");
      json_builder_begin_object (b);
      for (int k = 0; metadata[k]; k += 2)
        if (metadata[k + 1])
          {
            json_builder_set_member_name (b, metadata[k]);
            json_builder_add_string_value (b, metadata[k + 1]);
          }
      json_builder_end_object (b);
    }
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint64 offset = 0;
  for (int i = 0; i < n_tensors; i++)
    {
      const MmSafetensor *t = &tensors[i];
      g_return_val_if_fail (t->name && t->ndim >= 0 && t->ndim <= MM_SAFETENSORS_MAX_DIMS,
                            false);
      g_return_val_if_fail (strcmp (t->name, "__metadata__") != 0, false);
      bool unique = g_hash_table_add (seen, (gpointer) t->name);
      g_return_val_if_fail (unique, false);
      json_builder_set_member_name (b, t->name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, "F32");
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int d = 0; d < t->ndim; d++)
        {
          g_return_val_if_fail (t->shape[d] >= 0, false);
          json_builder_add_int_value (b, t->shape[d]);
        }
      json_builder_end_array (b);
      guint64 bytes = 4 * (guint64) mm_safetensors_tensor_size (t);
      json_builder_set_member_name (b, "data_offsets");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, (gint64) offset);
      json_builder_add_int_value (b, (gint64) (offset + bytes));
      json_builder_end_array (b);
      json_builder_end_object (b);
      offset += bytes;
    }
  json_builder_end_object (b);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  gsize json_len = 0;
  g_autofree char *json = json_generator_to_data (gen, &json_len);

  /* Padding the header to a multiple of 8 keeps the data area 8-byte aligned in the file, as
   * the safetensors library does, so that readers may map the file and use it in place. */
  guint64 header_len = (json_len + 7) / 8 * 8;
  gsize total = 8 + header_len + offset;
  g_autofree char *buf = g_try_malloc (total);
  if (buf == NULL)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_FAILED,
                   "%s: not enough memory for %" G_GSIZE_FORMAT " bytes", path, total);
      return false;
    }
  guint64 le = GUINT64_TO_LE (header_len);
  memcpy (buf, &le, 8);
  memcpy (buf + 8, json, json_len);
  memset (buf + 8 + json_len, ' ', header_len - json_len);
  char *p = buf + 8 + header_len;
  for (int i = 0; i < n_tensors; i++)
    {
      size_t n = mm_safetensors_tensor_size (&tensors[i]);
      g_return_val_if_fail (tensors[i].data != NULL || n == 0, false);
      if (n)
        copy_le32 (p, tensors[i].data, n);
      p += 4 * n;
    }
  return mm_atomic_write (path, buf, total, true, error);
}

/* ---- reading ---- */

void
mm_safetensors_free (MmSafetensors *st)
{
  if (st == NULL)
    return;
  if (st->entries)
    for (guint i = 0; i < st->entries->len; i++)
      g_free ((char *) g_array_index (st->entries, Entry, i).t.name);
  g_clear_pointer (&st->entries, g_array_unref);
  g_clear_pointer (&st->names, g_hash_table_unref);
  g_clear_pointer (&st->metadata, g_hash_table_unref);
  g_free (st->contents);
  g_free (st->path);
  g_free (st);
}

/* A JSON integer member >= 0; json-glib gives integers without a fraction or exponent as
 * gint64, and anything else (1.5, 1e3, strings) is refused. */
static bool
get_count (JsonNode *node, gint64 *out)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return false;
  *out = json_node_get_int (node);
  return *out >= 0;
}

static bool
parse_metadata (MmSafetensors *st, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, st->path, "__metadata__ is not a JSON object");
  JsonObjectIter it;
  const char *key;
  JsonNode *value;
  json_object_iter_init (&it, json_node_get_object (node));
  while (json_object_iter_next (&it, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_STRING)
        return fail (error, st->path, "metadata '%s' is not a string", key);
      g_hash_table_replace (st->metadata, g_strdup (key), json_node_dup_string (value));
    }
  return true;
}

static bool
parse_tensor (MmSafetensors *st, const char *name, JsonNode *node, GError **error)
{
  const char *path = st->path;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, path, "tensor '%s' is not described by a JSON object", name);
  JsonObject *o = json_node_get_object (node);
  JsonNode *dtype = json_object_get_member (o, "dtype");
  JsonNode *shape = json_object_get_member (o, "shape");
  JsonNode *offsets = json_object_get_member (o, "data_offsets");
  if (!dtype || !shape || !offsets || json_object_get_size (o) != 3)
    return fail (error, path,
                 "tensor '%s' must have exactly dtype, shape and data_offsets", name);
  const char *type = JSON_NODE_HOLDS_VALUE (dtype) ? json_node_get_string (dtype) : NULL;
  if (type == NULL)
    return fail (error, path, "tensor '%s' has a dtype that is not a string", name);
  if (strcmp (type, "F32") != 0)
    return fail (error, path, "tensor '%s' has dtype %s; Metalmark reads only F32 tensors",
                 name, type);

  Entry e = { .t.name = name };
  JsonArray *dims = JSON_NODE_HOLDS_ARRAY (shape) ? json_node_get_array (shape) : NULL;
  if (dims == NULL || json_array_get_length (dims) > MM_SAFETENSORS_MAX_DIMS)
    return fail (error, path, "tensor '%s' has a shape that is not a list of at most %d sizes",
                 name, MM_SAFETENSORS_MAX_DIMS);
  e.t.ndim = (int) json_array_get_length (dims);
  bool empty = false;
  for (int d = 0; d < e.t.ndim; d++)
    {
      if (!get_count (json_array_get_element (dims, d), &e.t.shape[d]))
        return fail (error, path, "tensor '%s' has a size that is not an integer >= 0", name);
      empty |= e.t.shape[d] == 0;
    }
  g_autofree char *dims_text = mm_safetensors_shape_to_string (e.t.ndim, e.t.shape);
  guint64 n = empty ? 0 : 1;
  for (int d = 0; d < e.t.ndim && n; d++)
    {
      if (n > G_MAXUINT64 / 4 / (guint64) e.t.shape[d])
        return fail (error, path, "tensor '%s' has shape %s, larger than any file", name,
                     dims_text);
      n *= (guint64) e.t.shape[d];
    }

  JsonArray *range = JSON_NODE_HOLDS_ARRAY (offsets) ? json_node_get_array (offsets) : NULL;
  gint64 begin, end;
  if (range == NULL || json_array_get_length (range) != 2
      || !get_count (json_array_get_element (range, 0), &begin)
      || !get_count (json_array_get_element (range, 1), &end) || begin > end)
    return fail (error, path, "tensor '%s' has data_offsets that are not [begin, end]", name);
  if ((guint64) end > st->data_len)
    return fail (error, path,
                 "tensor '%s' ends at byte %" G_GINT64_FORMAT " of the data, which has only %"
                 G_GUINT64_FORMAT " (file truncated?)", name, end, st->data_len);
  if ((guint64) (end - begin) != 4 * n)
    return fail (error, path,
                 "tensor '%s' has %" G_GINT64_FORMAT " bytes of data but shape %s needs %"
                 G_GUINT64_FORMAT, name, end - begin, dims_text, 4 * n);
  e.begin = (guint64) begin;
  e.end = (guint64) end;
  e.t.name = g_strdup (name);
  g_array_append_val (st->entries, e);
  return true;
}

static int
by_offset (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;
  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

/* Every byte of the data area belongs to exactly one tensor, as the safetensors library
 * requires: overlaps would alias two tensors, holes would hide bytes nobody reads. */
static bool
check_layout (MmSafetensors *st, GError **error)
{
  g_array_sort (st->entries, by_offset);
  guint64 expected = 0;
  for (guint i = 0; i < st->entries->len; i++)
    {
      const Entry *e = &g_array_index (st->entries, Entry, i);
      if (e->begin < expected)
        return fail (error, st->path, "tensors '%s' and '%s' overlap in the file",
                     g_array_index (st->entries, Entry, i - 1).t.name, e->t.name);
      if (e->begin > expected)
        return fail (error, st->path,
                     "data bytes %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                     " belong to no tensor", expected, e->begin);
      expected = e->end;
    }
  if (expected != st->data_len)
    return fail (error, st->path,
                 "%" G_GUINT64_FORMAT " bytes after the last tensor belong to no tensor",
                 st->data_len - expected);
  for (guint i = 0; i < st->entries->len; i++)
    g_hash_table_insert (st->names, (gpointer) g_array_index (st->entries, Entry, i).t.name,
                         GUINT_TO_POINTER (i + 1));
  return true;
}

static bool
parse_header (MmSafetensors *st, const char *json, size_t len, GError **error)
{
  if (!g_utf8_validate (json, len, NULL))
    return fail (error, st->path, "the header is not UTF-8 text");
  if (mm_json_depth (json, len, MAX_HEADER_DEPTH) > MAX_HEADER_DEPTH)
    return fail (error, st->path, "the header nests deeper than a safetensors header does");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) err = NULL;
  if (!json_parser_load_from_data (parser, json, len, &err))
    return fail (error, st->path, "the header is not valid JSON (%s)", err->message);
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return fail (error, st->path, "the header is not a JSON object");

  JsonObjectIter it;
  const char *name;
  JsonNode *node;
  json_object_iter_init (&it, json_node_get_object (root));
  while (json_object_iter_next (&it, &name, &node))
    if (!(strcmp (name, "__metadata__") == 0 ? parse_metadata (st, node, error)
                                              : parse_tensor (st, name, node, error)))
      return false;
  return check_layout (st, error);
}

/* pread exactly len bytes at offset, or fail naming the file. */
static bool
read_at (int fd, const char *path, void *buf, size_t len, guint64 offset, GError **error)
{
  size_t got = 0;
  while (got < len)
    {
      ssize_t r = pread (fd, (char *) buf + got, len - got, (off_t) (offset + got));
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return fail (error, path, "%s", r < 0 ? g_strerror (errno)
                                              : "the file ended early (truncated while read?)");
      got += (size_t) r;
    }
  return true;
}

static bool
read_checked (MmSafetensors *st, int fd, const struct stat *sb, GError **error)
{
  const char *path = st->path;
  if (!S_ISREG (sb->st_mode))
    return fail (error, path, "not a regular file");
  guint64 len = (guint64) sb->st_size;
  if (len < 8)
    return fail (error, path, "%" G_GUINT64_FORMAT " bytes is too short for a safetensors file",
                 len);
  if (len > MM_LIMIT_MODEL_BYTES)
    return fail (error, path, "%" G_GUINT64_FORMAT " bytes, more than the %llu MiB a model "
                 "file may have", len, MM_LIMIT_MODEL_BYTES >> 20);
  guint64 header_len;
  if (!read_at (fd, path, &header_len, 8, 0, error))
    return false;
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len > MAX_HEADER_BYTES || header_len > len - 8)
    return fail (error, path,
                 "the header length %" G_GUINT64_FORMAT " does not fit a file of %"
                 G_GUINT64_FORMAT " bytes (not a safetensors file, or truncated)", header_len,
                 len);
  /* The header says where every tensor's bytes are; only when they tile the rest of the
   * file exactly is the rest read. */
  g_autofree char *header = g_malloc (header_len + 1);
  if (!read_at (fd, path, header, header_len, 8, error))
    return false;
  st->data_len = len - 8 - header_len;
  if (!parse_header (st, header, header_len, error))
    return false;
  st->contents = g_try_malloc (len);
  if (st->contents == NULL)
    return fail (error, path, "not enough memory to read its %" G_GUINT64_FORMAT " bytes", len);
  memcpy (st->contents, &(guint64){ GUINT64_TO_LE (header_len) }, 8);
  memcpy (st->contents + 8, header, header_len);
  st->data = st->contents + 8 + header_len;
  return read_at (fd, path, st->contents + 8 + header_len, st->data_len, 8 + header_len,
                  error);
}

MmSafetensors *
mm_safetensors_read (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (MmSafetensors) st = g_new0 (MmSafetensors, 1);
  st->path = g_strdup (path);
  st->entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  st->names = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* The file's size, then its header, are checked before its data is read: a sparse file
   * can claim gigabytes for free. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat sb;
  if (fd < 0 || fstat (fd, &sb) != 0)
    {
      int err = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "%s: cannot open: %s",
                   path, g_strerror (err));
      return NULL;
    }
  bool ok = read_checked (st, fd, &sb, error);
  close (fd);
  return ok ? g_steal_pointer (&st) : NULL;
}

const char *
mm_safetensors_get_path (const MmSafetensors *st)
{
  return st->path;
}

int
mm_safetensors_n_tensors (const MmSafetensors *st)
{
  return (int) st->entries->len;
}

const MmSafetensor *
mm_safetensors_get_tensor (const MmSafetensors *st, int i)
{
  g_return_val_if_fail (i >= 0 && (guint) i < st->entries->len, NULL);
  return &g_array_index (st->entries, Entry, i).t;
}

const MmSafetensor *
mm_safetensors_find (const MmSafetensors *st, const char *name)
{
  guint k = GPOINTER_TO_UINT (g_hash_table_lookup (st->names, name));
  return k ? &g_array_index (st->entries, Entry, k - 1).t : NULL;
}

void
mm_safetensors_read_f32 (const MmSafetensors *st, const MmSafetensor *t, float *out)
{
  const Entry *e = (const Entry *) t;
  /* The data may sit at any offset in a file from elsewhere: copy, never cast in place. */
  copy_le32 (out, st->data + e->begin, (e->end - e->begin) / 4);
}

const char *
mm_safetensors_get_metadata (const MmSafetensors *st, const char *key)
{
  return g_hash_table_lookup (st->metadata, key);
}
