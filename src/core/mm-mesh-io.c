/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Mesh encoders. Binary numbers are written little endian whatever the host, as STL and
 * "binary_little_endian" PLY require. */
#include "mm-mesh-io.h"

#include "mm-atomic.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

static const char *const names[] = { "stl", "ply", "obj" };

bool
mm_mesh_format_parse (const char *name, MmMeshFormat *out)
{
  for (int f = 0; f < (int) G_N_ELEMENTS (names); f++)
    if (name && g_ascii_strcasecmp (name, names[f]) == 0)
      {
        *out = (MmMeshFormat) f;
        return true;
      }
  return false;
}

bool
mm_mesh_format_from_path (const char *path, MmMeshFormat *out)
{
  const char *dot = path ? strrchr (path, '.') : NULL;
  const char *slash = path ? strrchr (path, '/') : NULL;
  if (dot == NULL || (slash && dot < slash))
    return false;
  return mm_mesh_format_parse (dot + 1, out);
}

const char *
mm_mesh_format_name (MmMeshFormat format)
{
  return names[format];
}

static void
put_u32 (GByteArray *b, uint32_t v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (b, (const guint8 *) &v, 4);
}

static void
put_f32 (GByteArray *b, float f)
{
  uint32_t v;
  memcpy (&v, &f, 4);
  put_u32 (b, v);
}

static void
encode_stl (GByteArray *b, const MmMesh *m, const char *comment)
{
  char header[80] = { 0 };
  /* An STL header must not start with "solid": readers would take the file for ASCII STL. */
  g_snprintf (header, sizeof header, "metalmark mesh %s", comment ? comment : "");
  g_byte_array_append (b, (const guint8 *) header, 80);
  put_u32 (b, (uint32_t) m->n_triangles);
  for (size_t t = 0; t < m->n_triangles; t++)
    {
      const float *p[3];
      for (int c = 0; c < 3; c++)
        p[c] = m->positions + 3 * (size_t) m->triangles[3 * t + c];
      double u[3], v[3], n[3];
      for (int x = 0; x < 3; x++)
        {
          u[x] = (double) p[1][x] - p[0][x];
          v[x] = (double) p[2][x] - p[0][x];
        }
      n[0] = u[1] * v[2] - u[2] * v[1];
      n[1] = u[2] * v[0] - u[0] * v[2];
      n[2] = u[0] * v[1] - u[1] * v[0];
      double len = sqrt (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
      for (int x = 0; x < 3; x++)
        put_f32 (b, len > 0 ? (float) (n[x] / len) : 0.0f);
      for (int c = 0; c < 3; c++)
        for (int x = 0; x < 3; x++)
          put_f32 (b, p[c][x]);
      const guint8 attr[2] = { 0, 0 };
      g_byte_array_append (b, attr, 2);
    }
}

static void
encode_ply (GByteArray *b, const MmMesh *m, const char *comment)
{
  g_autofree char *header = g_strdup_printf (
      "ply\nformat binary_little_endian 1.0\ncomment metalmark mesh %s\n"
      "element vertex %zu\nproperty float x\nproperty float y\nproperty float z\n"
      "element face %zu\nproperty list uchar int vertex_indices\nend_header\n",
      comment ? comment : "", m->n_vertices, m->n_triangles);
  g_byte_array_append (b, (const guint8 *) header, strlen (header));
  for (size_t v = 0; v < 3 * m->n_vertices; v++)
    put_f32 (b, m->positions[v]);
  for (size_t t = 0; t < m->n_triangles; t++)
    {
      const guint8 three = 3;
      g_byte_array_append (b, &three, 1);
      for (int c = 0; c < 3; c++)
        put_u32 (b, m->triangles[3 * t + c]);
    }
}

static void
encode_obj (GByteArray *b, const MmMesh *m, const char *comment)
{
  GString *s = g_string_sized_new (64 * (m->n_vertices + m->n_triangles) + 128);
  g_string_append_printf (s, "# metalmark mesh %s\n", comment ? comment : "");
  char x[3][G_ASCII_DTOSTR_BUF_SIZE];
  for (size_t v = 0; v < m->n_vertices; v++)
    {
      /* 9 significant digits give every float back exactly; the C locale's dot always. */
      for (int a = 0; a < 3; a++)
        g_ascii_formatd (x[a], sizeof x[a], "%.9g", m->positions[3 * v + a]);
      g_string_append_printf (s, "v %s %s %s\n", x[0], x[1], x[2]);
    }
  for (size_t t = 0; t < m->n_triangles; t++)
    g_string_append_printf (s, "f %u %u %u\n", m->triangles[3 * t] + 1,
                            m->triangles[3 * t + 1] + 1, m->triangles[3 * t + 2] + 1);
  g_byte_array_append (b, (const guint8 *) s->str, s->len);
  g_string_free (s, TRUE);
}

GBytes *
mm_mesh_encode (const MmMesh *mesh, MmMeshFormat format, const char *comment, GError **error)
{
  g_return_val_if_fail (mesh != NULL, NULL);
  if (comment && strchr (comment, '\n'))
    comment = NULL; /* a line break would end a PLY or OBJ comment early */
  if (format == MM_MESH_STL && mesh->n_triangles > UINT32_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%zu triangles do not fit in an STL file (at most 2^32 - 1): decimate "
                   "with --max-triangles or write PLY", mesh->n_triangles);
      return NULL;
    }
  GByteArray *b = g_byte_array_new ();
  switch (format)
    {
    case MM_MESH_STL:
      encode_stl (b, mesh, comment);
      break;
    case MM_MESH_PLY:
      encode_ply (b, mesh, comment);
      break;
    case MM_MESH_OBJ:
      encode_obj (b, mesh, comment);
      break;
    }
  return g_byte_array_free_to_bytes (b);
}

bool
mm_mesh_write (const char *path, const MmMesh *mesh, MmMeshFormat format, const char *comment,
               GError **error)
{
  if (!mm_atomic_check_target (path, error))
    return false;
  g_autoptr (GBytes) bytes = mm_mesh_encode (mesh, format, comment, error);
  if (bytes == NULL)
    return false;
  gsize len;
  const void *data = g_bytes_get_data (bytes, &len);
  return mm_atomic_write (path, data, len, true, error);
}
