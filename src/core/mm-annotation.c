/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The measurement list (mm-annotation.h): editing, figures through mm-measure and mm-roi,
 * and the project's measurements.json, read as hostile input. */
#include "mm-annotation.h"

#include "mm-atomic.h"
#include "mm-json.h"
#include "mm-limits.h"
#include "mm-measure.h"
#include "mm-reslice.h"
#include "mm-slab.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* Coordinates beyond this many pixels from the plane are no drawing: a typo or an attack. */
#define COORD_LIMIT 1e6

/* A profile's samples: a 16384-pixel line at a tenth of a pixel at most. */
#define MAX_PROFILE_SAMPLES 163840

static const char *const kind_names[MM_ANNOT_N_KINDS] = {
  "distance", "angle", "profile", "rectangle", "ellipse", "freehand",
};
static const char *const plane_names[] = { "axial", "coronal", "sagittal" };

const char *
mm_annotation_kind_name (MmAnnotKind kind)
{
  return (unsigned) kind < MM_ANNOT_N_KINDS ? kind_names[kind] : NULL;
}

bool
mm_annotation_kind_parse (const char *name, MmAnnotKind *kind)
{
  for (int k = 0; name && k < MM_ANNOT_N_KINDS; k++)
    if (g_str_equal (name, kind_names[k]))
      {
        *kind = (MmAnnotKind) k;
        return true;
      }
  return false;
}

int
mm_annotation_kind_points (MmAnnotKind kind)
{
  switch (kind)
    {
    case MM_ANNOT_ANGLE:
      return 3;
    case MM_ANNOT_FREEHAND:
      return 3; /* at least */
    default:
      return 2;
    }
}

static bool
points_fit_kind (MmAnnotKind kind, int n)
{
  if (kind == MM_ANNOT_FREEHAND)
    return n >= 3 && n <= MM_ANNOTATION_MAX_POINTS;
  return n == mm_annotation_kind_points (kind);
}

static void
annotation_free (gpointer p)
{
  MmAnnotation *a = p;
  g_free (a->points);
  g_free (a);
}

MmAnnotationList *
mm_annotation_list_new (void)
{
  MmAnnotationList *list = g_new0 (MmAnnotationList, 1);
  list->items = g_ptr_array_new_with_free_func (annotation_free);
  list->next_id = 1;
  return list;
}

void
mm_annotation_list_free (MmAnnotationList *list)
{
  if (list == NULL)
    return;
  g_ptr_array_unref (list->items);
  g_free (list);
}

void
mm_annotation_list_clear (MmAnnotationList *list)
{
  g_ptr_array_set_size (list->items, 0);
  list->next_id = 1;
}

/* Freehand strokes grow point by point: room for the largest from the start would be 64 KB
 * each, so they double as they grow. */
static MmAnnotation *
annotation_new (MmAnnotKind kind, MmPlane plane, int depth, const double *points, int n)
{
  MmAnnotation *a = g_new0 (MmAnnotation, 1);
  a->kind = kind;
  a->plane = plane;
  a->depth = depth;
  a->n_points = n;
  a->points = g_new (double, 2 * (size_t) (kind == MM_ANNOT_FREEHAND ? MAX (n, 64) : n));
  memcpy (a->points, points, sizeof (double) * 2 * (size_t) n);
  return a;
}

MmAnnotation *
mm_annotation_list_add (MmAnnotationList *list, MmAnnotKind kind, MmPlane plane, int depth,
                        const double *points, int n_points)
{
  g_return_val_if_fail (list != NULL && points != NULL, NULL);
  /* A freehand stroke starts as one point and grows: allow 1.. while drawing. */
  bool ok = kind == MM_ANNOT_FREEHAND ? n_points >= 1 && n_points <= MM_ANNOTATION_MAX_POINTS
                                      : points_fit_kind (kind, n_points);
  if (!ok || (unsigned) kind >= MM_ANNOT_N_KINDS || list->items->len >= MM_ANNOTATION_MAX_ITEMS
      || list->next_id > MM_ANNOTATION_MAX_ID)
    return NULL;
  MmAnnotation *a = annotation_new (kind, plane, depth, points, n_points);
  a->id = list->next_id++;
  g_ptr_array_add (list->items, a);
  return a;
}

bool
mm_annotation_append_point (MmAnnotation *a, double u, double v)
{
  g_return_val_if_fail (a != NULL && a->kind == MM_ANNOT_FREEHAND, false);
  if (a->n_points >= MM_ANNOTATION_MAX_POINTS)
    return false;
  /* Capacity is the next power of two from 64 up. */
  int cap = 64;
  while (cap < a->n_points)
    cap *= 2;
  if (a->n_points == cap)
    a->points = g_renew (double, a->points, 4 * (size_t) cap);
  a->points[2 * a->n_points] = u;
  a->points[2 * a->n_points + 1] = v;
  a->n_points++;
  return true;
}

MmAnnotation *
mm_annotation_list_find (MmAnnotationList *list, guint id)
{
  for (guint i = 0; i < list->items->len; i++)
    {
      MmAnnotation *a = list->items->pdata[i];
      if (a->id == id)
        return a;
    }
  return NULL;
}

bool
mm_annotation_list_remove (MmAnnotationList *list, guint id)
{
  MmAnnotation *a = mm_annotation_list_find (list, id);
  return a != NULL && g_ptr_array_remove (list->items, a);
}

/* ---- figures ---- */

bool
mm_annotation_fits (const MmAnnotation *a, const MmVolume *vol)
{
  if ((unsigned) a->plane > MM_PLANE_SAGITTAL)
    return false;
  MmPlaneGeometry g;
  mm_plane_geometry (vol, a->plane, &g);
  return a->depth >= 0 && a->depth < g.depth;
}

void
mm_annotation_measure (const MmAnnotation *a, const MmVolume *vol, MmAnnotationFigures *f)
{
  *f = (MmAnnotationFigures){ .angle_deg = NAN };
  if (!mm_annotation_fits (a, vol))
    return;
  MmPlaneGeometry g;
  mm_plane_geometry (vol, a->plane, &g);
  const double *p = a->points;
  switch (a->kind)
    {
    case MM_ANNOT_DISTANCE:
    case MM_ANNOT_PROFILE:
      f->length_mm = mm_measure_distance (p[0], p[1], p[2], p[3], g.pixel_w, g.pixel_h);
      break;
    case MM_ANNOT_ANGLE:
      f->angle_deg = mm_measure_angle (p[0], p[1], p[2], p[3], p[4], p[5], g.pixel_w, g.pixel_h);
      break;
    case MM_ANNOT_RECTANGLE:
    case MM_ANNOT_ELLIPSE:
    case MM_ANNOT_FREEHAND:
      {
        MmRoi roi = { .shape = a->kind == MM_ANNOT_RECTANGLE ? MM_ROI_RECTANGLE
                               : a->kind == MM_ANNOT_ELLIPSE ? MM_ROI_ELLIPSE
                                                             : MM_ROI_POLYGON };
        if (roi.shape == MM_ROI_POLYGON)
          {
            roi.points = p;
            roi.n_points = a->n_points;
          }
        else
          {
            roi.x0 = p[0], roi.y0 = p[1], roi.x1 = p[2], roi.y1 = p[3];
          }
        /* The plane's voxels exactly (a slab of one plane). */
        g_autofree float *img = g_new (float, (size_t) g.width * g.height);
        mm_slab_compute (vol, a->plane, a->depth, 0, MM_SLAB_MIP, img, 1);
        f->has_stats = mm_roi_plane_stats (img, g.width, g.height, g.pixel_w, g.pixel_h, &roi,
                                           &f->stats);
        break;
      }
    default:
      break;
    }
}

void
mm_annotation_profile (const MmAnnotation *a, const MmVolume *vol, int *n, double **hu,
                       double **pos_mm)
{
  *n = 0;
  *hu = *pos_mm = NULL;
  if (a->n_points < 2 || !mm_annotation_fits (a, vol))
    return;
  MmReslicePlane rp;
  mm_reslice_plane_init_standard (&rp, vol, a->plane, a->depth);
  double s[3], e[3];
  mm_reslice_pixel_to_lps (&rp, a->points[0], a->points[1], s);
  mm_reslice_pixel_to_lps (&rp, a->points[2], a->points[3], e);
  *n = mm_measure_profile_samples (s, e, MIN (rp.pixel_w, rp.pixel_h), MAX_PROFILE_SAMPLES);
  *hu = g_new (double, *n);
  *pos_mm = g_new (double, *n);
  mm_measure_profile (vol, s, e, *n, *hu, *pos_mm);
}

/* ---- JSON ---- */

static void
add_number_or_null (JsonBuilder *b, const char *member, double v)
{
  json_builder_set_member_name (b, member);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

char *
mm_annotation_list_to_json (const MmAnnotationList *list, const MmVolume *vol, gsize *len)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  mm_json_set_string (b, "format", "metalmark-annotations");
  mm_json_set_int (b, "version", 1);
  mm_json_set_string (b, "series_uid", vol ? vol->series_uid : NULL);
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < list->items->len; i++)
    {
      const MmAnnotation *a = list->items->pdata[i];
      json_builder_begin_object (b);
      mm_json_set_int (b, "id", a->id);
      mm_json_set_string (b, "kind", mm_annotation_kind_name (a->kind));
      mm_json_set_string (b, "plane", plane_names[a->plane]);
      mm_json_set_int (b, "depth", a->depth);
      mm_json_set_doubles (b, "points", a->points, 2 * a->n_points);
      if (vol && mm_annotation_fits (a, vol))
        {
          MmAnnotationFigures f;
          mm_annotation_measure (a, vol, &f);
          json_builder_set_member_name (b, "figures");
          json_builder_begin_object (b);
          if (a->kind == MM_ANNOT_DISTANCE || a->kind == MM_ANNOT_PROFILE)
            mm_json_set_double (b, "length_mm", f.length_mm);
          if (a->kind == MM_ANNOT_ANGLE)
            add_number_or_null (b, "angle_deg", f.angle_deg);
          if (f.has_stats)
            {
              mm_json_set_int (b, "count", (gint64) f.stats.count);
              mm_json_set_double (b, "area_mm2", f.stats.area_mm2);
              mm_json_set_double (b, "mean", f.stats.mean);
              mm_json_set_double (b, "sd", f.stats.sd);
              mm_json_set_double (b, "median", f.stats.median);
              mm_json_set_double (b, "min", f.stats.min);
              mm_json_set_double (b, "max", f.stats.max);
            }
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return mm_json_to_data (root, TRUE, len, NULL);
}

static void
csv_number (GString *s, bool applies, double v)
{
  g_string_append_c (s, ',');
  if (applies && isfinite (v))
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_string_append (s, g_ascii_formatd (buf, sizeof buf, "%.6g", v));
    }
}

char *
mm_annotation_list_to_csv (const MmAnnotationList *list, const MmVolume *vol, gsize *len)
{
  GString *s = g_string_new ("id,kind,plane,slice,points,length_mm,angle_deg,count,area_mm2,"
                             "mean,sd,median,min,max\r\n");
  for (guint i = 0; i < list->items->len; i++)
    {
      const MmAnnotation *a = list->items->pdata[i];
      MmAnnotationFigures f = { .angle_deg = NAN };
      if (vol)
        mm_annotation_measure (a, vol, &f);
      g_string_append_printf (s, "%u,%s,%s,%d,\"", a->id, mm_annotation_kind_name (a->kind),
                              plane_names[a->plane], a->depth + 1);
      for (int k = 0; k < a->n_points; k++)
        {
          char x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE];
          g_string_append_printf (s, "%s%s %s", k ? ";" : "",
                                  g_ascii_formatd (x, sizeof x, "%.3f", a->points[2 * k]),
                                  g_ascii_formatd (y, sizeof y, "%.3f", a->points[2 * k + 1]));
        }
      g_string_append_c (s, '"');
      bool line = a->kind == MM_ANNOT_DISTANCE || a->kind == MM_ANNOT_PROFILE;
      csv_number (s, line && vol, f.length_mm);
      csv_number (s, a->kind == MM_ANNOT_ANGLE, f.angle_deg);
      csv_number (s, f.has_stats, (double) f.stats.count);
      csv_number (s, f.has_stats, f.stats.area_mm2);
      csv_number (s, f.has_stats, f.stats.mean);
      csv_number (s, f.has_stats, f.stats.sd);
      csv_number (s, f.has_stats, f.stats.median);
      csv_number (s, f.has_stats, f.stats.min);
      csv_number (s, f.has_stats, f.stats.max);
      g_string_append (s, "\r\n");
    }
  if (len)
    *len = s->len;
  return g_string_free (s, FALSE);
}

static bool
bad_item (GError **error, const char *name, guint index, const char *why)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "%s: cannot read the measurements: item %u: %s", name, index + 1, why);
  return false;
}

/* One item of the file, checked member by member; NULL and *error on anything wrong. */
static MmAnnotation *
read_item (JsonArray *items, guint i, const char *name, const MmVolume *vol, GError **error)
{
  JsonObject *o = mm_json_array_object (items, i);
  if (o == NULL)
    return bad_item (error, name, i, "not a JSON object"), NULL;
  MmAnnotKind kind;
  if (!mm_annotation_kind_parse (mm_json_member_string (o, "kind"), &kind))
    return bad_item (error, name, i, "\"kind\" is not one of distance, angle, profile, "
                                     "rectangle, ellipse, freehand"), NULL;
  const char *pn = mm_json_member_string (o, "plane");
  int plane = -1;
  for (int p = 0; pn && p < 3; p++)
    if (g_str_equal (pn, plane_names[p]))
      plane = p;
  if (plane < 0)
    return bad_item (error, name, i, "\"plane\" is not axial, coronal or sagittal"), NULL;
  gint64 depth = mm_json_member_int (o, "depth", -1);
  int max_depth = MM_LIMIT_SLICES;
  if (vol)
    {
      MmPlaneGeometry g;
      mm_plane_geometry (vol, plane, &g);
      max_depth = g.depth;
    }
  if (depth < 0 || depth >= max_depth)
    {
      g_autofree char *why = g_strdup_printf ("\"depth\" is not a slice of this series "
                                              "(0 to %d)", max_depth - 1);
      return bad_item (error, name, i, why), NULL;
    }
  JsonArray *pts = mm_json_member_array (o, "points");
  guint n = pts ? json_array_get_length (pts) : 0;
  if (pts == NULL || n % 2 != 0 || !points_fit_kind (kind, (int) MIN (n / 2, G_MAXINT)))
    {
      g_autofree char *why = g_strdup_printf ("\"points\" is not a list of %s%d (u, v) pairs "
                                              "for a %s", kind == MM_ANNOT_FREEHAND ? "3 to " : "",
                                              kind == MM_ANNOT_FREEHAND ? MM_ANNOTATION_MAX_POINTS
                                                                        : mm_annotation_kind_points (kind),
                                              kind_names[kind]);
      return bad_item (error, name, i, why), NULL;
    }
  g_autofree double *xy = g_new (double, n);
  for (guint k = 0; k < n; k++)
    {
      JsonNode *node = json_array_get_element (pts, k);
      GType t = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
      if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
        return bad_item (error, name, i, "a point coordinate is not a number"), NULL;
      xy[k] = json_node_get_double (node);
      if (!isfinite (xy[k]) || fabs (xy[k]) > COORD_LIMIT)
        return bad_item (error, name, i, "a point coordinate is out of range"), NULL;
    }
  MmAnnotation *a = annotation_new (kind, plane, (int) depth, xy, (int) (n / 2));
  return a;
}

bool
mm_annotation_list_load_data (MmAnnotationList *list, const char *text, gssize len,
                              const char *name, const MmVolume *vol, GError **error)
{
  g_return_val_if_fail (list != NULL && text != NULL && name != NULL, false);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!mm_json_load_data (parser, text, len, name, "measurements", error))
    return false;
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *format = o ? mm_json_member_string (o, "format") : NULL;
  if (o == NULL || format == NULL || !g_str_equal (format, "metalmark-annotations"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: cannot read the measurements: not a Metalmark measurements file "
                   "(no \"format\": \"metalmark-annotations\")", name);
      return false;
    }
  gint64 version = mm_json_member_int (o, "version", -1);
  if (version != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: cannot read the measurements: version %" G_GINT64_FORMAT " is not "
                   "the version 1 this Metalmark reads", name, version);
      return false;
    }
  JsonArray *items = mm_json_member_array (o, "items");
  if (items == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: cannot read the measurements: \"items\" is not a list", name);
      return false;
    }
  guint n = json_array_get_length (items);
  if (n > MM_ANNOTATION_MAX_ITEMS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: cannot read the measurements: %u items, more than the %d allowed",
                   name, n, MM_ANNOTATION_MAX_ITEMS);
      return false;
    }
  g_autoptr (GPtrArray) read = g_ptr_array_new_with_free_func (annotation_free);
  g_autoptr (GHashTable) ids = g_hash_table_new (NULL, NULL);
  bool renumber = false;
  guint max_id = 0;
  for (guint i = 0; i < n; i++)
    {
      MmAnnotation *a = read_item (items, i, name, vol, error);
      if (a == NULL)
        return false;
      /* The file's ids are kept (the user knows them from the panel and the exports) when
       * each is a distinct number in range; otherwise all are numbered afresh. */
      gint64 id = mm_json_member_int (mm_json_array_object (items, i), "id", 0);
      if (id < 1 || id > MM_ANNOTATION_MAX_ID || g_hash_table_contains (ids, GUINT_TO_POINTER ((guint) id)))
        renumber = true;
      else
        {
          a->id = (guint) id;
          g_hash_table_add (ids, GUINT_TO_POINTER (a->id));
          max_id = MAX (max_id, a->id);
        }
      g_ptr_array_add (read, a);
    }
  if (renumber)
    for (guint i = 0; i < read->len; i++)
      ((MmAnnotation *) read->pdata[i])->id = i + 1;
  g_ptr_array_set_size (list->items, 0);
  for (guint i = 0; i < read->len; i++)
    g_ptr_array_add (list->items, read->pdata[i]);
  g_ptr_array_set_free_func (read, NULL);
  list->next_id = renumber ? n + 1 : max_id + 1;
  return true;
}

bool
mm_annotation_list_load (MmAnnotationList *list, const char *path, const MmVolume *vol,
                         GError **error)
{
  g_return_val_if_fail (list != NULL && path != NULL, false);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr (GError) err = NULL;
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", path, g_strerror (e));
      return false;
    }
  if (!S_ISREG (st.st_mode) || (guint64) st.st_size > MM_LIMIT_JSON_BYTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: cannot read the measurements: not a regular file of at most %u MiB",
                   path, MM_LIMIT_JSON_BYTES >> 20);
      return false;
    }
  if (!g_file_get_contents (path, &text, &len, &err))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err->message);
      return false;
    }
  return mm_annotation_list_load_data (list, text, (gssize) len, path, vol, error);
}

bool
mm_annotation_list_save (const MmAnnotationList *list, const MmVolume *vol, const char *path,
                         GError **error)
{
  g_return_val_if_fail (list != NULL && path != NULL, false);
  if (!mm_atomic_check_target (path, error))
    return false;
  if (list->items->len == 0)
    {
      if (g_unlink (path) != 0 && errno != ENOENT)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                       "%s: cannot remove the empty measurements file: %s", path, g_strerror (e));
          return false;
        }
      return true;
    }
  gsize len = 0;
  g_autofree char *text = mm_annotation_list_to_json (list, vol, &len);
  return mm_atomic_write (path, text, len, true, error);
}
