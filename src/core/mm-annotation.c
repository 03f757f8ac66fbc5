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

void
mm_annot_frame_from_reslice (MmAnnotFrame *f, const MmReslicePlane *p)
{
  mm_reslice_pixel_to_lps (p, 0, 0, f->origin_lps);
  memcpy (f->right, p->right, sizeof f->right);
  memcpy (f->down, p->down, sizeof f->down);
  f->pixel_w = p->pixel_w;
  f->pixel_h = p->pixel_h;
}

void
mm_annot_frame_to_lps (const MmAnnotFrame *f, double u, double v, double lps[3])
{
  for (int a = 0; a < 3; a++)
    lps[a] = f->origin_lps[a] + u * f->pixel_w * f->right[a] + v * f->pixel_h * f->down[a];
}

bool
mm_annot_frame_equal (const MmAnnotFrame *a, const MmAnnotFrame *b)
{
  for (int k = 0; k < 3; k++)
    if (fabs (a->right[k] - b->right[k]) > MM_ANNOT_FRAME_SAME_DIR
        || fabs (a->down[k] - b->down[k]) > MM_ANNOT_FRAME_SAME_DIR
        || fabs (a->origin_lps[k] - b->origin_lps[k]) > MM_ANNOT_FRAME_SAME_MM)
      return false;
  return fabs (a->pixel_w - b->pixel_w) <= 1e-6 * b->pixel_w
         && fabs (a->pixel_h - b->pixel_h) <= 1e-6 * b->pixel_h;
}

static double
dot3 (const double a[3], const double b[3])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

bool
mm_annot_frame_valid (const MmAnnotFrame *f, const char **why)
{
  for (int k = 0; k < 3; k++)
    if (!isfinite (f->origin_lps[k]) || !isfinite (f->right[k]) || !isfinite (f->down[k]))
      return *why = "a number of \"oblique\" is not finite", false;
  for (int k = 0; k < 3; k++)
    if (fabs (f->origin_lps[k]) > COORD_LIMIT)
      return *why = "\"oblique\" \"origin_lps\" is out of range", false;
  if (fabs (sqrt (dot3 (f->right, f->right)) - 1) > MM_ANNOT_FRAME_UNIT_TOL
      || fabs (sqrt (dot3 (f->down, f->down)) - 1) > MM_ANNOT_FRAME_UNIT_TOL)
    return *why = "\"oblique\" \"right\" or \"down\" is not a unit vector", false;
  if (fabs (dot3 (f->right, f->down)) > MM_ANNOT_FRAME_UNIT_TOL)
    return *why = "\"oblique\" \"right\" and \"down\" are not orthogonal", false;
  if (!isfinite (f->pixel_w) || !isfinite (f->pixel_h) || f->pixel_w <= 0 || f->pixel_h <= 0
      || f->pixel_w > 1000 || f->pixel_h > 1000)
    return *why = "\"oblique\" \"pixel_mm\" is not two spacings in (0, 1000] mm", false;
  return true;
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
mm_annotation_list_add_oblique (MmAnnotationList *list, MmAnnotKind kind, MmPlane plane,
                                const MmAnnotFrame *frame, const double *points, int n_points)
{
  g_return_val_if_fail (frame != NULL, NULL);
  MmAnnotation *a = mm_annotation_list_add (list, kind, plane, 0, points, n_points);
  if (a)
    {
      a->oblique = true;
      a->frame = *frame;
    }
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
  if (a->oblique)
    return true; /* a plane through space: samples outside the volume are NaN */
  MmPlaneGeometry g;
  mm_plane_geometry (vol, a->plane, &g);
  return a->depth >= 0 && a->depth < g.depth;
}

/* The figures of an item on an oblique plane, from its points in 3D (mm): the distance
 * between them, the angle between the arms, the ROIs' statistics on the plane resliced over
 * their box. */
static void
measure_oblique (const MmAnnotation *a, const MmVolume *vol, MmAnnotationFigures *f)
{
  const MmAnnotFrame *fr = &a->frame;
  const double *p = a->points;
  double q[3][3];
  for (int k = 0; k < MIN (a->n_points, 3); k++)
    mm_annot_frame_to_lps (fr, p[2 * k], p[2 * k + 1], q[k]);
  switch (a->kind)
    {
    case MM_ANNOT_DISTANCE:
    case MM_ANNOT_PROFILE:
      f->length_mm = sqrt ((q[1][0] - q[0][0]) * (q[1][0] - q[0][0])
                           + (q[1][1] - q[0][1]) * (q[1][1] - q[0][1])
                           + (q[1][2] - q[0][2]) * (q[1][2] - q[0][2]));
      break;
    case MM_ANNOT_ANGLE:
      {
        double u[3], w[3];
        for (int k = 0; k < 3; k++)
          {
            u[k] = q[0][k] - q[1][k];
            w[k] = q[2][k] - q[1][k];
          }
        double lu = sqrt (dot3 (u, u)), lw = sqrt (dot3 (w, w));
        if (lu > 0 && lw > 0)
          f->angle_deg = acos (CLAMP (dot3 (u, w) / (lu * lw), -1.0, 1.0)) * 180.0 / G_PI;
        break;
      }
    case MM_ANNOT_RECTANGLE:
    case MM_ANNOT_ELLIPSE:
    case MM_ANNOT_FREEHAND:
      {
        /* The plane's pixels over the ROI's box (a pixel of margin), resliced exactly as the
         * view shows them: same grid, trilinear; pixels outside the volume are NaN. */
        double lo_u = p[0], hi_u = p[0], lo_v = p[1], hi_v = p[1];
        for (int k = 1; k < a->n_points; k++)
          {
            lo_u = MIN (lo_u, p[2 * k]), hi_u = MAX (hi_u, p[2 * k]);
            lo_v = MIN (lo_v, p[2 * k + 1]), hi_v = MAX (hi_v, p[2 * k + 1]);
          }
        /* Pixels outside the volume do not count: the box is cut to the volume's shadow on
         * the plane, so a ROI far larger than the series (a typo, a hostile file) costs no
         * more than the series. */
        double su[2] = { INFINITY, -INFINITY }, sv[2] = { INFINITY, -INFINITY };
        for (int c = 0; c < 8; c++)
          {
            double lps[3], d[3];
            mm_volume_index_to_lps (vol, (c & 1) ? vol->dims[0] - 1 : 0,
                                    (c & 2) ? vol->dims[1] - 1 : 0, (c & 4) ? vol->dims[2] - 1 : 0,
                                    lps);
            for (int k = 0; k < 3; k++)
              d[k] = lps[k] - fr->origin_lps[k];
            double cu = dot3 (d, fr->right) / fr->pixel_w, cv = dot3 (d, fr->down) / fr->pixel_h;
            su[0] = MIN (su[0], cu), su[1] = MAX (su[1], cu);
            sv[0] = MIN (sv[0], cv), sv[1] = MAX (sv[1], cv);
          }
        lo_u = MAX (lo_u, su[0]), hi_u = MIN (hi_u, su[1]);
        lo_v = MAX (lo_v, sv[0]), hi_v = MIN (hi_v, sv[1]);
        if (!(lo_u <= hi_u && lo_v <= hi_v))
          {
            /* Wholly outside: empty, as on a standard plane. */
            f->has_stats = true;
            break;
          }
        double x0 = floor (lo_u) - 1, y0 = floor (lo_v) - 1;
        double wd = ceil (hi_u) + 1 - x0, ht = ceil (hi_v) + 1 - y0;
        /* Tiny pixels of a hostile file: no figures rather than gigabytes. */
        if (wd > MM_LIMIT_IMAGE_SIDE || ht > MM_LIMIT_IMAGE_SIDE
            || wd * ht > (double) MM_LIMIT_IMAGE_SIDE * 1024)
          break;
        MmReslicePlane rp = { .width = (int) wd, .height = (int) ht, .pixel_w = fr->pixel_w,
                              .pixel_h = fr->pixel_h };
        memcpy (rp.right, fr->right, sizeof rp.right);
        memcpy (rp.down, fr->down, sizeof rp.down);
        /* Pixel (x, y) of rp is pixel (x0 + x, y0 + y) of the frame: its centre, continuous
         * (x0 + (w - 1) / 2 + 0.5), is rp's centre. */
        mm_annot_frame_to_lps (fr, x0 + 0.5 * wd, y0 + 0.5 * ht, rp.centre_lps);
        g_autofree float *img = g_new (float, (size_t) rp.width * rp.height);
        mm_reslice_volume (vol, &rp, NAN, img, 0);
        g_autofree double *shifted = g_new (double, 2 * (size_t) a->n_points);
        for (int k = 0; k < a->n_points; k++)
          {
            shifted[2 * k] = p[2 * k] - x0;
            shifted[2 * k + 1] = p[2 * k + 1] - y0;
          }
        MmRoi roi = { .shape = a->kind == MM_ANNOT_RECTANGLE ? MM_ROI_RECTANGLE
                               : a->kind == MM_ANNOT_ELLIPSE ? MM_ROI_ELLIPSE
                                                             : MM_ROI_POLYGON };
        if (roi.shape == MM_ROI_POLYGON)
          {
            roi.points = shifted;
            roi.n_points = a->n_points;
          }
        else
          {
            roi.x0 = shifted[0], roi.y0 = shifted[1], roi.x1 = shifted[2], roi.y1 = shifted[3];
          }
        f->has_stats = mm_roi_plane_stats (img, rp.width, rp.height, rp.pixel_w, rp.pixel_h,
                                           &roi, &f->stats);
        break;
      }
    default:
      break;
    }
}

static void
standard_frame (const MmVolume *vol, MmPlane plane, int depth, MmAnnotFrame *f)
{
  MmReslicePlane rp;
  mm_reslice_plane_init_standard (&rp, vol, plane, depth);
  mm_annot_frame_from_reslice (f, &rp);
}

bool
mm_annotation_on_view (const MmAnnotation *a, const MmVolume *vol, MmPlane plane, int depth,
                       const MmAnnotFrame *frame)
{
  MmAnnotFrame s;
  if (frame == NULL)
    {
      if (!a->oblique)
        return a->plane == plane && a->depth == depth;
      standard_frame (vol, plane, depth, &s);
      return mm_annot_frame_equal (&a->frame, &s);
    }
  if (a->oblique)
    return mm_annot_frame_equal (&a->frame, frame);
  /* Only a standard item of the view's own plane can lie on it (same depth checked by the
   * frames). */
  if (a->plane != plane || !mm_annotation_fits (a, vol))
    return false;
  standard_frame (vol, a->plane, a->depth, &s);
  return mm_annot_frame_equal (&s, frame);
}

void
mm_annotation_measure (const MmAnnotation *a, const MmVolume *vol, MmAnnotationFigures *f)
{
  *f = (MmAnnotationFigures){ .angle_deg = NAN };
  if (!mm_annotation_fits (a, vol))
    return;
  if (a->oblique)
    {
      measure_oblique (a, vol, f);
      return;
    }
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
  double s[3], e[3], step;
  if (a->oblique)
    {
      /* The 3D segment between the mapped ends, sampled trilinearly like any profile. */
      mm_annot_frame_to_lps (&a->frame, a->points[0], a->points[1], s);
      mm_annot_frame_to_lps (&a->frame, a->points[2], a->points[3], e);
      step = MIN (a->frame.pixel_w, a->frame.pixel_h);
    }
  else
    {
      MmReslicePlane rp;
      mm_reslice_plane_init_standard (&rp, vol, a->plane, a->depth);
      mm_reslice_pixel_to_lps (&rp, a->points[0], a->points[1], s);
      mm_reslice_pixel_to_lps (&rp, a->points[2], a->points[3], e);
      step = MIN (rp.pixel_w, rp.pixel_h);
    }
  *n = mm_measure_profile_samples (s, e, step, MAX_PROFILE_SAMPLES);
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
      if (a->oblique)
        {
          const MmAnnotFrame *fr = &a->frame;
          double px[2] = { fr->pixel_w, fr->pixel_h };
          json_builder_set_member_name (b, "oblique");
          json_builder_begin_object (b);
          mm_json_set_doubles (b, "origin_lps", fr->origin_lps, 3);
          mm_json_set_doubles (b, "right", fr->right, 3);
          mm_json_set_doubles (b, "down", fr->down, 3);
          mm_json_set_doubles (b, "pixel_mm", px, 2);
          json_builder_end_object (b);
        }
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
      /* An oblique item has no slice: its plane is in the JSON. */
      if (a->oblique)
        g_string_append_printf (s, "%u,%s,oblique,,\"", a->id, mm_annotation_kind_name (a->kind));
      else
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

/* member of o as exactly n numbers (any JSON number; not-finite values are checked later). */
static bool
read_numbers (JsonObject *o, const char *member, double *out, guint n)
{
  JsonArray *arr = mm_json_member_array (o, member);
  if (arr == NULL || json_array_get_length (arr) != n)
    return false;
  for (guint k = 0; k < n; k++)
    {
      JsonNode *node = json_array_get_element (arr, k);
      GType t = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
      if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
        return false;
      out[k] = json_node_get_double (node);
    }
  return true;
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
  MmAnnotFrame frame;
  bool oblique = json_object_has_member (o, "oblique");
  if (oblique)
    {
      JsonNode *on = json_object_get_member (o, "oblique");
      JsonObject *ob = JSON_NODE_HOLDS_OBJECT (on) ? json_node_get_object (on) : NULL;
      const char *why = NULL;
      if (ob == NULL)
        return bad_item (error, name, i, "\"oblique\" is not an object"), NULL;
      double px[2];
      if (!read_numbers (ob, "origin_lps", frame.origin_lps, 3)
          || !read_numbers (ob, "right", frame.right, 3)
          || !read_numbers (ob, "down", frame.down, 3) || !read_numbers (ob, "pixel_mm", px, 2))
        return bad_item (error, name, i, "\"oblique\" needs \"origin_lps\", \"right\", "
                                         "\"down\" (3 numbers each) and \"pixel_mm\" (2)"), NULL;
      frame.pixel_w = px[0];
      frame.pixel_h = px[1];
      if (!mm_annot_frame_valid (&frame, &why))
        return bad_item (error, name, i, why), NULL;
    }
  MmAnnotation *a = annotation_new (kind, plane, (int) depth, xy, (int) (n / 2));
  if (oblique)
    {
      a->oblique = true;
      a->frame = frame;
    }
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
