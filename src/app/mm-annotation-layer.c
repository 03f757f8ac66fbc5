/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmAnnotationLayer (see mm-annotation-layer.h): pointer handling and drawing of the
 * measurements over the slice views; the list and its files are the core's. */
#include "mm-annotation-layer.h"

#include "mm-atomic.h"

#include <glib/gi18n.h>
#include <math.h>

/* Screen pixels within which a press takes a handle or a line. */
#define GRAB_PX 7.0

typedef enum
{
  DRAG_NONE,
  DRAG_NEW,      /* the last point of a new item follows the pointer */
  DRAG_FREEHAND, /* every pointer event adds a point */
  DRAG_HANDLE,   /* one point of an item */
  DRAG_MOVE,     /* the whole item */
} DragKind;

struct _MmAnnotationLayer
{
  GObject parent_instance;

  /* owned */
  MmAnnotationList *list;
  GHashTable *figures; /* id -> MmAnnotationFigures, dropped when the item changes */
  char *path;          /* measurements.json of the series, NULL: not kept */

  /* borrowed */
  MmViewer *viewer;

  MmMeasureTool tool;
  guint selected;
  guint pending_angle; /* an angle whose first arm is drawn: the next press places its end */

  DragKind drag;
  guint drag_id;
  int drag_point;
  MmPlane drag_plane;
  bool drag_oblique;
  MmAnnotFrame drag_frame; /* the oblique plane of the drag's view, when drag_oblique */
  double drag_u, drag_v; /* where the move began (plane pixels) */
  bool drag_moved;
};

G_DEFINE_FINAL_TYPE (MmAnnotationLayer, mm_annotation_layer, G_TYPE_OBJECT)

enum
{
  CHANGED,
  MESSAGE,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static const char *const tool_ids[MM_MEASURE_N_TOOLS] = {
  "pointer", "distance", "angle", "profile", "ellipse", "rectangle", "freehand",
};

const char *
mm_measure_tool_id (MmMeasureTool tool)
{
  return (unsigned) tool < MM_MEASURE_N_TOOLS ? tool_ids[tool] : NULL;
}

bool
mm_measure_tool_parse (const char *id, MmMeasureTool *tool)
{
  for (int t = 0; id && t < MM_MEASURE_N_TOOLS; t++)
    if (g_str_equal (id, tool_ids[t]))
      {
        *tool = (MmMeasureTool) t;
        return true;
      }
  return false;
}

static void
emit_changed (MmAnnotationLayer *self, guint what)
{
  g_signal_emit (self, signals[CHANGED], 0, what);
}

static void
save (MmAnnotationLayer *self)
{
  if (self->path == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (self->path);
  if (!mm_ensure_dir (dir, &error)
      || !mm_annotation_list_save (self->list, mm_viewer_get_volume (self->viewer), self->path, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Measurements not saved: %s"), error->message);
      g_signal_emit (self, signals[MESSAGE], 0, msg);
    }
}

static void
item_changed (MmAnnotationLayer *self, guint id)
{
  g_hash_table_remove (self->figures, GUINT_TO_POINTER (id));
}

void
mm_annotation_layer_set_tool (MmAnnotationLayer *self, MmMeasureTool tool)
{
  g_return_if_fail (MM_IS_ANNOTATION_LAYER (self));
  if (self->pending_angle && tool != MM_MEASURE_ANGLE)
    {
      /* An angle left with one arm is no measurement. */
      mm_annotation_list_remove (self->list, self->pending_angle);
      self->pending_angle = 0;
      emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING | MM_ANNOTATION_CHANGED_LIST);
    }
  self->tool = tool;
}

MmMeasureTool
mm_annotation_layer_get_tool (MmAnnotationLayer *self)
{
  return self->tool;
}

void
mm_annotation_layer_set_series (MmAnnotationLayer *self, const char *project_dir)
{
  g_return_if_fail (MM_IS_ANNOTATION_LAYER (self));
  mm_annotation_list_clear (self->list);
  g_hash_table_remove_all (self->figures);
  g_clear_pointer (&self->path, g_free);
  self->selected = self->pending_angle = 0;
  self->drag = DRAG_NONE;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (project_dir != NULL && vol != NULL)
    {
      g_autofree char *path = g_build_filename (project_dir, "measurements.json", NULL);
      g_autoptr (GError) error = NULL;
      if (mm_annotation_list_load (self->list, path, vol, &error))
        self->path = g_steal_pointer (&path);
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        self->path = g_steal_pointer (&path);
      else
        {
          /* Not overwritten: the user may want to look at it. New measurements stay in
           * memory for this session. */
          g_autofree char *msg = g_strdup_printf (_("Measurements not loaded (%s); new ones are "
                                                    "not saved"), error->message);
          g_signal_emit (self, signals[MESSAGE], 0, msg);
        }
    }
  emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING | MM_ANNOTATION_CHANGED_LIST);
}

const char *
mm_annotation_layer_get_path (MmAnnotationLayer *self)
{
  return self->path;
}

MmAnnotationList *
mm_annotation_layer_get_list (MmAnnotationLayer *self)
{
  return self->list;
}

const MmAnnotationFigures *
mm_annotation_layer_figures (MmAnnotationLayer *self, const MmAnnotation *a)
{
  MmAnnotationFigures *f = g_hash_table_lookup (self->figures, GUINT_TO_POINTER (a->id));
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (f == NULL && vol != NULL)
    {
      f = g_new (MmAnnotationFigures, 1);
      mm_annotation_measure (a, vol, f);
      g_hash_table_insert (self->figures, GUINT_TO_POINTER (a->id), f);
    }
  return f;
}

guint
mm_annotation_layer_get_selected (MmAnnotationLayer *self)
{
  return self->selected;
}

void
mm_annotation_layer_select (MmAnnotationLayer *self, guint id)
{
  if (self->selected == id)
    return;
  self->selected = id;
  emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING);
}

void
mm_annotation_layer_delete (MmAnnotationLayer *self, guint id)
{
  if (id == 0 || !mm_annotation_list_remove (self->list, id))
    return;
  item_changed (self, id);
  if (self->selected == id)
    self->selected = 0;
  if (self->pending_angle == id)
    self->pending_angle = 0;
  save (self);
  emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING | MM_ANNOTATION_CHANGED_LIST);
}

/* ---- geometry ---- */

/* The pixel of the plane a view shows: frame's on an oblique plane (NULL: standard). */
static void
plane_pixel (MmAnnotationLayer *self, MmPlane plane, const MmAnnotFrame *frame, double *pw,
             double *ph)
{
  if (frame)
    {
      *pw = frame->pixel_w;
      *ph = frame->pixel_h;
      return;
    }
  MmPlaneGeometry g;
  mm_plane_geometry (mm_viewer_get_volume (self->viewer), plane, &g);
  *pw = g.pixel_w;
  *ph = g.pixel_h;
}

static void
to_screen (const MmViewport *vp, double pw, double ph, double u, double v, double *x, double *y)
{
  *x = vp->origin_x + u * pw * vp->scale;
  *y = vp->origin_y + v * ph * vp->scale;
}

static void
to_plane (const MmViewport *vp, double pw, double ph, double x, double y, double *u, double *v)
{
  *u = (x - vp->origin_x) / (pw * vp->scale);
  *v = (y - vp->origin_y) / (ph * vp->scale);
}

/* Distance from p to the segment a-b (screen pixels). */
static double
segment_distance (double px, double py, double ax, double ay, double bx, double by)
{
  double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
  double t = l2 > 0 ? CLAMP (((px - ax) * dx + (py - ay) * dy) / l2, 0, 1) : 0;
  return hypot (px - (ax + t * dx), py - (ay + t * dy));
}

/* Whether a is drawn in the view of plane at depth, or on the oblique plane frame: only on
 * its own grid (its points are that grid's pixels), within the tolerance of
 * mm_annot_frame_equal (mm_annotation_on_view). */
static bool
on_plane (MmAnnotationLayer *self, const MmAnnotation *a, MmPlane plane, int depth,
          const MmAnnotFrame *frame)
{
  return mm_annotation_on_view (a, mm_viewer_get_volume (self->viewer), plane, depth, frame);
}

/* The item and point under (x, y): point >= 0 a handle, -1 the item's body (only when
 * bodies count: with a drawing tool a press inside a ROI starts a new item, as one draws a
 * small ROI inside a large one). */
static MmAnnotation *
hit (MmAnnotationLayer *self, MmPlane plane, int depth, const MmAnnotFrame *frame,
     const MmViewport *vp, double x, double y, bool bodies, int *point)
{
  double pw, ph;
  plane_pixel (self, plane, frame, &pw, &ph);
  GPtrArray *items = self->list->items;
  /* Handles first, the topmost (last drawn) item first. */
  for (guint i = items->len; i-- > 0;)
    {
      MmAnnotation *a = items->pdata[i];
      if (!on_plane (self, a, plane, depth, frame) || a->kind == MM_ANNOT_FREEHAND)
        continue;
      for (int k = 0; k < a->n_points; k++)
        {
          double sx, sy;
          to_screen (vp, pw, ph, a->points[2 * k], a->points[2 * k + 1], &sx, &sy);
          if (hypot (sx - x, sy - y) <= GRAB_PX)
            {
              *point = k;
              return a;
            }
        }
    }
  for (guint i = items->len; bodies && i-- > 0;)
    {
      MmAnnotation *a = items->pdata[i];
      if (!on_plane (self, a, plane, depth, frame))
        continue;
      double u, v;
      to_plane (vp, pw, ph, x, y, &u, &v);
      const double *p = a->points;
      bool in = false;
      switch (a->kind)
        {
        case MM_ANNOT_RECTANGLE:
        case MM_ANNOT_ELLIPSE:
          in = u >= MIN (p[0], p[2]) && u <= MAX (p[0], p[2]) && v >= MIN (p[1], p[3])
               && v <= MAX (p[1], p[3]);
          break;
        default:
          for (int k = 0; k + 1 < a->n_points + (a->kind == MM_ANNOT_FREEHAND); k++)
            {
              int k2 = (k + 1) % a->n_points;
              double ax, ay, bx, by;
              to_screen (vp, pw, ph, p[2 * k], p[2 * k + 1], &ax, &ay);
              to_screen (vp, pw, ph, p[2 * k2], p[2 * k2 + 1], &bx, &by);
              if (segment_distance (x, y, ax, ay, bx, by) <= GRAB_PX)
                in = true;
            }
          break;
        }
      if (in)
        {
          *point = -1;
          return a;
        }
    }
  return NULL;
}

/* ---- pointer ---- */

static MmAnnotKind
tool_kind (MmMeasureTool tool)
{
  switch (tool)
    {
    case MM_MEASURE_ANGLE:
      return MM_ANNOT_ANGLE;
    case MM_MEASURE_PROFILE:
      return MM_ANNOT_PROFILE;
    case MM_MEASURE_ELLIPSE:
      return MM_ANNOT_ELLIPSE;
    case MM_MEASURE_RECTANGLE:
      return MM_ANNOT_RECTANGLE;
    case MM_MEASURE_FREEHAND:
      return MM_ANNOT_FREEHAND;
    case MM_MEASURE_DISTANCE:
    default:
      return MM_ANNOT_DISTANCE;
    }
}

bool
mm_annotation_layer_press (MmAnnotationLayer *self, MmPlane plane, int depth,
                           const MmAnnotFrame *frame, const MmViewport *vp, double x, double y)
{
  g_return_val_if_fail (MM_IS_ANNOTATION_LAYER (self), false);
  if (mm_viewer_get_volume (self->viewer) == NULL)
    return false;
  /* A drag whose end never came (the gesture was cancelled, the grab lost) ends now, as a
   * release would have ended it: an item without extent does not stay. */
  if (self->drag != DRAG_NONE)
    mm_annotation_layer_release (self);
  double pw, ph, u, v;
  plane_pixel (self, plane, frame, &pw, &ph);
  to_plane (vp, pw, ph, x, y, &u, &v);
  self->drag_plane = plane;
  self->drag_oblique = frame != NULL;
  if (frame)
    self->drag_frame = *frame;
  self->drag_u = u;
  self->drag_v = v;
  self->drag_moved = false;

  MmAnnotation *pending = self->pending_angle ? mm_annotation_list_find (self->list, self->pending_angle)
                                              : NULL;
  if (pending && !on_plane (self, pending, plane, depth, frame))
    {
      /* The second arm goes on the first one's slice: elsewhere the half-drawn angle is
       * dropped and this press starts afresh. */
      mm_annotation_list_remove (self->list, pending->id);
      self->pending_angle = 0;
      pending = NULL;
      emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING | MM_ANNOTATION_CHANGED_LIST);
    }
  if (pending)
    {
      /* The second arm of an angle: from the vertex to here, following the pointer. */
      pending->points[4] = u;
      pending->points[5] = v;
      self->pending_angle = 0;
      self->drag = DRAG_NEW;
      self->drag_id = pending->id;
      self->drag_point = 2;
      item_changed (self, pending->id);
      emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING);
      return true;
    }

  int point;
  MmAnnotation *a = hit (self, plane, depth, frame, vp, x, y, self->tool == MM_MEASURE_POINTER, &point);
  if (a != NULL)
    {
      self->selected = a->id;
      self->drag_id = a->id;
      self->drag_point = point;
      self->drag = point >= 0 ? DRAG_HANDLE : DRAG_MOVE;
      emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING | MM_ANNOTATION_CHANGED_LIST);
      return true;
    }
  if (self->tool == MM_MEASURE_POINTER)
    {
      /* A press on nothing: the view's own drag (windowing), and nothing selected. */
      mm_annotation_layer_select (self, 0);
      return false;
    }
  MmAnnotKind kind = tool_kind (self->tool);
  double pts[6] = { u, v, u, v, u, v };
  int n = kind == MM_ANNOT_FREEHAND ? 1 : mm_annotation_kind_points (kind);
  a = frame ? mm_annotation_list_add_oblique (self->list, kind, plane, frame, pts, n)
            : mm_annotation_list_add (self->list, kind, plane, depth, pts, n);
  if (a && frame)
    a->depth = depth; /* the view's slice then: kept for the panel, not for drawing */
  if (a == NULL)
    return false;
  self->selected = self->drag_id = a->id;
  self->drag = kind == MM_ANNOT_FREEHAND ? DRAG_FREEHAND : DRAG_NEW;
  /* The drag places the second point (an angle's first drag: its vertex). */
  self->drag_point = 1;
  emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING);
  return true;
}

void
mm_annotation_layer_motion (MmAnnotationLayer *self, const MmViewport *vp, double x, double y)
{
  MmAnnotation *a = self->drag != DRAG_NONE ? mm_annotation_list_find (self->list, self->drag_id) : NULL;
  if (a == NULL)
    return;
  double pw, ph, u, v;
  plane_pixel (self, self->drag_plane, self->drag_oblique ? &self->drag_frame : NULL, &pw, &ph);
  to_plane (vp, pw, ph, x, y, &u, &v);
  self->drag_moved = true;
  switch (self->drag)
    {
    case DRAG_NEW:
    case DRAG_HANDLE:
      a->points[2 * self->drag_point] = u;
      a->points[2 * self->drag_point + 1] = v;
      /* The angle's still undrawn second arm stays on the vertex while the first is drawn. */
      if (self->drag == DRAG_NEW && a->kind == MM_ANNOT_ANGLE && self->drag_point == 1)
        {
          a->points[4] = u;
          a->points[5] = v;
        }
      break;
    case DRAG_FREEHAND:
      {
        /* A point per screen pixel or two is all the precision a hand gives. */
        double lx, ly;
        int n = a->n_points;
        to_screen (vp, pw, ph, a->points[2 * n - 2], a->points[2 * n - 1], &lx, &ly);
        if (hypot (lx - x, ly - y) >= 2)
          mm_annotation_append_point (a, u, v);
        break;
      }
    case DRAG_MOVE:
      for (int k = 0; k < a->n_points; k++)
        {
          a->points[2 * k] += u - self->drag_u;
          a->points[2 * k + 1] += v - self->drag_v;
        }
      self->drag_u = u;
      self->drag_v = v;
      break;
    case DRAG_NONE:
    default:
      break;
    }
  item_changed (self, a->id);
  emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING);
}

void
mm_annotation_layer_release (MmAnnotationLayer *self)
{
  MmAnnotation *a = self->drag != DRAG_NONE ? mm_annotation_list_find (self->list, self->drag_id) : NULL;
  DragKind drag = self->drag;
  self->drag = DRAG_NONE;
  if (a == NULL)
    return;
  if (drag == DRAG_NEW || drag == DRAG_FREEHAND)
    {
      /* A click is no drawing: an item without extent goes again. */
      const double *p = a->points;
      bool empty = drag == DRAG_FREEHAND ? a->n_points < 3
                                         : p[2 * self->drag_point] == p[2 * self->drag_point - 2]
                                               && p[2 * self->drag_point + 1] == p[2 * self->drag_point - 1];
      if (empty || !self->drag_moved)
        {
          bool second_arm = a->kind == MM_ANNOT_ANGLE && self->drag_point == 2;
          if (!second_arm)
            {
              /* The removal frees a: keep its id for the selection. */
              guint id = a->id;
              mm_annotation_list_remove (self->list, id);
              if (self->selected == id)
                self->selected = 0;
              emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING);
              return;
            }
        }
      if (a->kind == MM_ANNOT_ANGLE && self->drag_point == 1)
        {
          /* First arm drawn: the next press places the second arm's end. */
          self->pending_angle = a->id;
          emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING);
          return;
        }
    }
  else if (!self->drag_moved)
    {
      /* A click on an item selects it, nothing moved. */
      emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING | MM_ANNOTATION_CHANGED_LIST);
      return;
    }
  item_changed (self, a->id);
  save (self);
  emit_changed (self, MM_ANNOTATION_CHANGED_DRAWING | MM_ANNOTATION_CHANGED_LIST);
}

/* ---- drawing ---- */

/* The short figure drawn beside an item. */
static char *
short_text (MmAnnotationLayer *self, const MmAnnotation *a)
{
  const MmAnnotationFigures *f = mm_annotation_layer_figures (self, a);
  if (f == NULL)
    return NULL;
  switch (a->kind)
    {
    case MM_ANNOT_DISTANCE:
    case MM_ANNOT_PROFILE:
      return g_strdup_printf (_("%.1f mm"), f->length_mm);
    case MM_ANNOT_ANGLE:
      return isnan (f->angle_deg) ? NULL : g_strdup_printf ("%.1f°", f->angle_deg);
    default:
      return f->has_stats ? g_strdup_printf (_("%.1f ± %.1f HU"), f->stats.mean, f->stats.sd) : NULL;
    }
}

static void
draw_label (cairo_t *cr, double x, double y, const char *text)
{
  if (text == NULL)
    return;
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 12);
  /* A dark outline keeps the text legible on bright bone and metal. */
  cairo_move_to (cr, x, y);
  cairo_text_path (cr, text);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.85);
  cairo_set_line_width (cr, 3);
  cairo_stroke_preserve (cr);
  cairo_set_source_rgb (cr, 1, 0.95, 0.4);
  cairo_fill (cr);
}

void
mm_annotation_layer_draw (MmAnnotationLayer *self, cairo_t *cr, MmPlane plane, int depth,
                          const MmAnnotFrame *frame, const MmViewport *vp)
{
  if (mm_viewer_get_volume (self->viewer) == NULL)
    return;
  double pw, ph;
  plane_pixel (self, plane, frame, &pw, &ph);
  for (guint i = 0; i < self->list->items->len; i++)
    {
      MmAnnotation *a = self->list->items->pdata[i];
      if (!on_plane (self, a, plane, depth, frame))
        continue;
      bool sel = a->id == self->selected;
      double xs[3], ys[3];
      for (int k = 0; k < MIN (a->n_points, 3); k++)
        to_screen (vp, pw, ph, a->points[2 * k], a->points[2 * k + 1], &xs[k], &ys[k]);
      cairo_new_path (cr);
      switch (a->kind)
        {
        case MM_ANNOT_RECTANGLE:
          cairo_rectangle (cr, MIN (xs[0], xs[1]), MIN (ys[0], ys[1]), fabs (xs[1] - xs[0]),
                           fabs (ys[1] - ys[0]));
          break;
        case MM_ANNOT_ELLIPSE:
          {
            double rx = fabs (xs[1] - xs[0]) / 2, ry = fabs (ys[1] - ys[0]) / 2;
            if (rx > 0 && ry > 0)
              {
                cairo_save (cr);
                cairo_translate (cr, (xs[0] + xs[1]) / 2, (ys[0] + ys[1]) / 2);
                cairo_scale (cr, rx, ry);
                cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
                cairo_restore (cr);
              }
            break;
          }
        case MM_ANNOT_FREEHAND:
          for (int k = 0; k < a->n_points; k++)
            {
              double x, y;
              to_screen (vp, pw, ph, a->points[2 * k], a->points[2 * k + 1], &x, &y);
              if (k == 0)
                cairo_move_to (cr, x, y);
              else
                cairo_line_to (cr, x, y);
            }
          if (self->drag != DRAG_FREEHAND || self->drag_id != a->id)
            cairo_close_path (cr);
          break;
        default:
          cairo_move_to (cr, xs[0], ys[0]);
          for (int k = 1; k < a->n_points; k++)
            cairo_line_to (cr, xs[k], ys[k]);
          break;
        }
      cairo_set_line_width (cr, sel ? 2.5 : 1.5);
      if (sel)
        cairo_set_source_rgb (cr, 1, 0.6, 0.1);
      else
        cairo_set_source_rgb (cr, 1, 0.95, 0.4);
      cairo_stroke (cr);
      /* Handles: the points a person can drag. */
      if (a->kind != MM_ANNOT_FREEHAND)
        for (int k = 0; k < a->n_points; k++)
          {
            cairo_rectangle (cr, xs[k] - 3, ys[k] - 3, 6, 6);
            cairo_fill (cr);
          }
      g_autofree char *text = short_text (self, a);
      double lx = a->kind == MM_ANNOT_ANGLE ? xs[1] : MAX (xs[0], xs[MIN (a->n_points, 3) - 1]);
      double ly = a->kind == MM_ANNOT_ANGLE ? ys[1] : MIN (ys[0], ys[MIN (a->n_points, 3) - 1]);
      draw_label (cr, lx + 8, ly - 6, text);
    }
}

bool
mm_annotation_layer_export (MmAnnotationLayer *self, const char *path, bool csv, GError **error)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  gsize len = 0;
  g_autofree char *text = csv ? mm_annotation_list_to_csv (self->list, vol, &len)
                              : mm_annotation_list_to_json (self->list, vol, &len);
  return mm_atomic_check_target (path, error) && mm_atomic_write (path, text, len, true, error);
}

/* ---- GObject ---- */

static void
mm_annotation_layer_finalize (GObject *object)
{
  MmAnnotationLayer *self = MM_ANNOTATION_LAYER (object);
  mm_annotation_list_free (self->list);
  g_hash_table_unref (self->figures);
  g_free (self->path);
  G_OBJECT_CLASS (mm_annotation_layer_parent_class)->finalize (object);
}

static void
mm_annotation_layer_class_init (MmAnnotationLayerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mm_annotation_layer_finalize;
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
mm_annotation_layer_init (MmAnnotationLayer *self)
{
  self->list = mm_annotation_list_new ();
  self->figures = g_hash_table_new_full (NULL, NULL, NULL, g_free);
}

MmAnnotationLayer *
mm_annotation_layer_new (MmViewer *viewer)
{
  MmAnnotationLayer *self = g_object_new (MM_TYPE_ANNOTATION_LAYER, NULL);
  self->viewer = viewer;
  return self;
}
