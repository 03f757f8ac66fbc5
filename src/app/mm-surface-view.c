/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSurfaceView: the 3D view (see mm-surface-view.h). The export of its meshes is in
 * mm-surface-export.c. */
#include "mm-surface-view.h"

#include "mm-camera.h"
#include "mm-gl-renderer.h"
#include "mm-mesh-pick.h"
#include "mm-raster.h"
#include "mm-surface-export.h"
#include "mm-surface-lod.h"
#include "mm-surface-tasks.h"

#include <glib/gi18n.h>
#include <epoxy/gl.h>
#include <math.h>

#define SETTLE_MS 250           /* after the last wheel step: the full bone again */
#define REBUILD_DELAY_MS 400 /* after the last mask edit: a brush stroke is many edits */
#define CLICK_SLOP 4.0       /* pixels a press may move and still be a click (a pick) */

struct _MmSurfaceView
{
  GtkWidget parent_instance;

  /* children */
  GtkWidget *overlay;
  GtkWidget *area;      /* GtkGLArea, or a GtkDrawingArea on the software path */
  GtkLabel *parts_label;
  GtkLabel *readout;
  GtkCheckButton *bone_check;
  GtkSpinButton *bone_hu;
  GtkDropDown *format_drop;
  GtkDropDown *part_drop;
  GtkCheckButton *lps_check;
  GtkLabel *status;

  /* borrowed, with a reference */
  MmViewer *viewer;

  /* owned */
  MmSurfaceMetal *metal;
  MmMesh *bone;
  MmMesh *bone_lod;
  double bone_built_hu;
  MmGlRenderer *gl;
  GCancellable *metal_cancel, *bone_cancel;
  guint rebuild_id;
  guint settle_id; /* the view moved by the wheel: the coarse bone until it fires */
  int gl_parts; /* metal parts in the GL renderer's slots 2.. */
  bool software, active, fitted, metal_dirty, bone_dirty, metal_stale;
  /* The fit framed the metal (not the whole volume); the user turned, panned or zoomed since
   * the series came: a metal arriving after the volume (a progressive load shows the volume
   * first) is framed only while neither holds. */
  bool fit_on_metal, user_moved;
  MmCamera cam;
  /* the pointer */
  int drag_mode; /* 0 none, 1 rotate, 2 pan */
  double drag_last_x, drag_last_y;
  double press_x, press_y;
};

G_DEFINE_FINAL_TYPE (MmSurfaceView, mm_surface_view, GTK_TYPE_WIDGET)

enum { MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

static const float part_colours[][3] = {
  { 0.95f, 0.75f, 0.25f }, { 0.35f, 0.65f, 0.95f }, { 0.95f, 0.40f, 0.35f },
  { 0.45f, 0.85f, 0.45f }, { 0.80f, 0.50f, 0.95f }, { 0.95f, 0.60f, 0.20f },
  { 0.30f, 0.85f, 0.85f }, { 0.85f, 0.85f, 0.85f },
};
static const float bone_rgba[4] = { 0.93f, 0.90f, 0.82f, 0.35f };
static const float background[3] = { 0.10f, 0.11f, 0.13f };
/* The planes' outlines in the colours 3D Slicer gives them: axial red, coronal green,
 * sagittal yellow. */
static const float plane_colours[3][4] = { { 0.9f, 0.3f, 0.3f, 1 }, { 0.4f, 0.8f, 0.4f, 1 },
                                           { 0.9f, 0.85f, 0.3f, 1 } };

static void start_metal (MmSurfaceView *self);

/* The line over the crosshair readout: what is being built; hidden when nothing is. */
static void
set_status (MmSurfaceView *self, const char *text)
{
  gtk_label_set_text (self->status, text);
  gtk_widget_set_visible (GTK_WIDGET (self->status), text != NULL && *text != '\0');
}
static void start_bone (MmSurfaceView *self);

static void
redraw (MmSurfaceView *self)
{
  if (self->area)
    gtk_widget_queue_draw (self->area);
}

/* ---- what is drawn ---- */

/* The outlines of the three planes through the crosshair: 12 lines in LPS. */
static int
plane_lines (MmSurfaceView *self, MmRasterLine lines[12])
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    return 0;
  int c[3];
  mm_viewer_get_cursor (self->viewer, c);
  double lo[3] = { -0.5, -0.5, -0.5 };
  double hi[3] = { vol->dims[0] - 0.5, vol->dims[1] - 0.5, vol->dims[2] - 0.5 };
  int n = 0;
  /* MmPlane order: axial (k fixed), coronal (j fixed), sagittal (i fixed). */
  static const int fixed[3] = { 2, 1, 0 };
  for (int p = 0; p < 3; p++)
    {
      int f = fixed[p], a = (f + 1) % 3, b = (f + 2) % 3;
      double corner[4][3];
      for (int q = 0; q < 4; q++)
        {
          double ijk[3];
          ijk[f] = c[f];
          ijk[a] = (q == 1 || q == 2) ? hi[a] : lo[a];
          ijk[b] = (q >= 2) ? hi[b] : lo[b];
          mm_volume_index_to_lps (vol, ijk[0], ijk[1], ijk[2], corner[q]);
        }
      for (int q = 0; q < 4; q++)
        {
          MmRasterLine *l = &lines[n++];
          memcpy (l->a, corner[q], sizeof l->a);
          memcpy (l->b, corner[(q + 1) % 4], sizeof l->b);
          memcpy (l->rgba, plane_colours[p], sizeof l->rgba);
        }
    }
  return n;
}

static bool
bone_shown (MmSurfaceView *self)
{
  return self->bone != NULL && gtk_check_button_get_active (self->bone_check);
}

/* The coarse bone while the pointer turns or moves the view, or the wheel zooms it. */
static bool
use_lod (MmSurfaceView *self)
{
  return (self->drag_mode != 0 || self->settle_id != 0) && self->bone_lod != NULL;
}

static gboolean
settle_cb (gpointer data)
{
  MmSurfaceView *self = data;
  self->settle_id = 0;
  redraw (self); /* at rest: the full bone */
  return G_SOURCE_REMOVE;
}

static void
part_rgba (int i, float rgba[4])
{
  const float *c = part_colours[i % G_N_ELEMENTS (part_colours)];
  rgba[0] = c[0];
  rgba[1] = c[1];
  rgba[2] = c[2];
  rgba[3] = 1;
}

static void
fit (MmSurfaceView *self)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  double lo[3] = { INFINITY, INFINITY, INFINITY }, hi[3] = { -INFINITY, -INFINITY, -INFINITY };
  if (self->metal && self->metal->n_parts > 0)
    for (int i = 0; i < self->metal->n_parts; i++)
      {
        double a[3], b[3];
        mm_mesh_bounds (self->metal->parts[i], a, b);
        for (int k = 0; k < 3; k++)
          {
            lo[k] = MIN (lo[k], a[k]);
            hi[k] = MAX (hi[k], b[k]);
          }
      }
  else if (vol)
    for (int q = 0; q < 8; q++)
      {
        double p[3];
        mm_volume_index_to_lps (vol, q & 1 ? vol->dims[0] : 0, q & 2 ? vol->dims[1] : 0,
                                q & 4 ? vol->dims[2] : 0, p);
        for (int k = 0; k < 3; k++)
          {
            lo[k] = MIN (lo[k], p[k]);
            hi[k] = MAX (hi[k], p[k]);
          }
      }
  else
    return;
  mm_camera_fit (&self->cam, lo, hi);
  self->fit_on_metal = self->metal && self->metal->n_parts > 0;
  /* Room in depth for the whole volume (bone, planes) around the metal. */
  if (vol)
    self->cam.radius = MAX (self->cam.radius, vol->dims[0] * vol->spacing[0] + vol->dims[1] * vol->spacing[1]
                                                  + vol->dims[2] * vol->spacing[2]);
  self->fitted = true;
}

static void
update_size (MmSurfaceView *self)
{
  int w = gtk_widget_get_width (self->area), h = gtk_widget_get_height (self->area);
  if (w <= 0 || h <= 0)
    return;
  if (self->cam.width > 0 && self->fitted)
    {
      /* Keep what is shown: the scale follows the smaller side. */
      double f = (double) MIN (w, h) / MAX (MIN (self->cam.width, self->cam.height), 1);
      self->cam.scale *= f;
    }
  bool had_size = self->cam.width > 0;
  self->cam.width = w;
  self->cam.height = h;
  if (!had_size && self->fitted)
    fit (self); /* fitted before the first allocation: again, now that the size is known */
}

static void
software_draw (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  MmSurfaceView *self = data;
  if (w != self->cam.width || h != self->cam.height)
    update_size (self);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  if (cairo_surface_status (s) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (s);
      return;
    }
  int n_parts = self->metal ? self->metal->n_parts : 0;
  g_autofree MmRasterItem *items = g_new0 (MmRasterItem, n_parts + 1);
  int n = 0;
  for (int i = 0; i < n_parts; i++)
    {
      items[n].mesh = self->metal->parts[i];
      part_rgba (i, items[n++].rgba);
    }
  if (bone_shown (self))
    {
      items[n].mesh = use_lod (self) ? self->bone_lod : self->bone;
      memcpy (items[n++].rgba, bone_rgba, sizeof bone_rgba);
    }
  MmRasterLine lines[12];
  int n_lines = plane_lines (self, lines);
  cairo_surface_flush (s);
  mm_raster_draw (&self->cam, items, n, lines, n_lines, background,
                  (uint32_t *) cairo_image_surface_get_data (s), cairo_image_surface_get_stride (s), 0);
  cairo_surface_mark_dirty (s);
  cairo_set_source_surface (cr, s, 0, 0);
  cairo_paint (cr);
  cairo_surface_destroy (s);
}

static gboolean
gl_render_cb (GtkGLArea *area, GdkGLContext *context, MmSurfaceView *self)
{
  if (self->gl == NULL)
    return TRUE;
  int w = gtk_widget_get_width (self->area), h = gtk_widget_get_height (self->area);
  if (w != self->cam.width || h != self->cam.height)
    update_size (self);
  int n_parts = self->metal ? self->metal->n_parts : 0;
  if (self->metal_dirty)
    {
      /* The metal's slots only: the bone's 500 k triangles stay on the GPU across edits. */
      for (int i = 0; i < MAX (n_parts, self->gl_parts); i++)
        mm_gl_renderer_set_mesh (self->gl, 2 + i, i < n_parts ? self->metal->parts[i] : NULL);
      self->gl_parts = n_parts;
      self->metal_dirty = false;
    }
  if (self->bone_dirty)
    {
      mm_gl_renderer_set_mesh (self->gl, 0, self->bone);
      mm_gl_renderer_set_mesh (self->gl, 1, self->bone_lod);
      self->bone_dirty = false;
    }
  g_autofree int *slots = g_new0 (int, n_parts + 1);
  g_autofree float (*rgba)[4] = g_malloc0_n (n_parts + 1, sizeof *rgba);
  int n = 0;
  for (int i = 0; i < n_parts; i++)
    {
      slots[n] = 2 + i;
      part_rgba (i, rgba[n++]);
    }
  if (bone_shown (self))
    {
      slots[n] = use_lod (self) ? 1 : 0;
      memcpy (rgba[n++], bone_rgba, sizeof bone_rgba);
    }
  MmRasterLine lines[12];
  int n_lines = plane_lines (self, lines);
  int sf = gtk_widget_get_scale_factor (self->area);
  glViewport (0, 0, w * sf, h * sf);
  mm_gl_renderer_set_resolution (self->gl, use_lod (self) ? MM_SURFACE_LOD_SCALE : 1);
  mm_gl_renderer_draw (self->gl, &self->cam, slots, (const float (*)[4]) rgba, n, lines, n_lines, background);
  return TRUE;
}

/* ---- GL or not ---- */

static void attach_pointer (MmSurfaceView *self);

static void
use_area (MmSurfaceView *self, GtkWidget *area)
{
  if (self->area)
    gtk_overlay_set_child (GTK_OVERLAY (self->overlay), NULL);
  self->area = area;
  gtk_widget_set_hexpand (area, TRUE);
  gtk_widget_set_vexpand (area, TRUE);
  gtk_widget_set_focusable (area, TRUE);
  gtk_widget_set_focus_on_click (area, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (area), GTK_ACCESSIBLE_PROPERTY_LABEL, _("3D view"), -1);
  gtk_overlay_set_child (GTK_OVERLAY (self->overlay), area);
  attach_pointer (self);
}

static void
use_software (MmSurfaceView *self, const char *why)
{
  if (self->software)
    return;
  self->software = true;
  if (why)
    g_message ("3D view: drawing on the CPU (%s)", why);
  GtkWidget *area = gtk_drawing_area_new ();
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (area), software_draw, self, NULL);
  use_area (self, area);
}

static gboolean
software_idle (gpointer data)
{
  MmSurfaceView *self = data;
  use_software (self, NULL);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
gl_realize_cb (GtkGLArea *area, MmSurfaceView *self)
{
  gtk_gl_area_make_current (area);
  GError *error = gtk_gl_area_get_error (area);
  g_autoptr (GError) own = NULL;
  if (error == NULL)
    {
      GdkGLContext *ctx = gtk_gl_area_get_context (area);
      self->gl = mm_gl_renderer_new (gdk_gl_context_get_use_es (ctx), &own);
      if (self->gl != NULL)
        mm_gl_renderer_set_flush_triangles (self->gl, MM_SURFACE_PIECE_TRIANGLES);
      error = own;
      self->metal_dirty = self->bone_dirty = true;
      self->gl_parts = 0;
    }
  if (error != NULL)
    {
      /* No GL here (GDK_DEBUG=gl-disable, a broken driver): the CPU draws the same. */
      g_message ("3D view: drawing on the CPU (%s)", error->message);
      g_idle_add (software_idle, g_object_ref (self));
    }
}

static void
gl_unrealize_cb (GtkGLArea *area, MmSurfaceView *self)
{
  gtk_gl_area_make_current (area);
  if (gtk_gl_area_get_error (area) == NULL)
    g_clear_pointer (&self->gl, mm_gl_renderer_free);
  self->gl = NULL;
}

/* ---- the pointer and the keys ---- */

static void
pick (MmSurfaceView *self, double x, double y)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL || self->metal == NULL)
    return;
  int n_parts = self->metal->n_parts;
  g_autofree const MmMesh **meshes = g_new0 (const MmMesh *, n_parts + 1);
  for (int i = 0; i < n_parts; i++)
    meshes[i] = self->metal->parts[i];
  if (bone_shown (self))
    meshes[n_parts] = self->bone;
  double o[3], d[3];
  mm_camera_ray (&self->cam, x, y, o, d);
  MmMeshHit hit;
  if (!mm_mesh_pick (meshes, n_parts + 1, o, d, &hit))
    return;
  /* The surface lies half a voxel outside the object's voxels: step half the smallest
   * spacing into it, so the crosshair lands on a voxel of what was clicked. */
  double step = 0.5 * MIN (vol->spacing[0], MIN (vol->spacing[1], vol->spacing[2]));
  double p[3], ijk[3];
  for (int a = 0; a < 3; a++)
    p[a] = hit.point[a] + step * d[a];
  mm_volume_lps_to_index (vol, p, ijk);
  int c[3] = { (int) lround (ijk[0]), (int) lround (ijk[1]), (int) lround (ijk[2]) };
  mm_viewer_set_cursor (self->viewer, c);
}

static void
drag_begin_cb (GtkGestureDrag *g, double x, double y, MmSurfaceView *self)
{
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (g));
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (g));
  self->drag_mode = (button == 2 || (button == 1 && (state & GDK_SHIFT_MASK))) ? 2 : button == 1 ? 1 : 0;
  self->drag_last_x = self->press_x = x;
  self->drag_last_y = self->press_y = y;
  gtk_widget_grab_focus (self->area);
}

static void
drag_update_cb (GtkGestureDrag *g, double dx, double dy, MmSurfaceView *self)
{
  double x = self->press_x + dx, y = self->press_y + dy;
  double mx = x - self->drag_last_x, my = y - self->drag_last_y;
  if (hypot (dx, dy) < CLICK_SLOP && self->drag_mode == 1)
    return; /* may still be a click */
  if (self->drag_mode == 1)
    {
      mm_camera_rotate (&self->cam, mx, my);
      self->user_moved = true;
    }
  else if (self->drag_mode == 2)
    {
      mm_camera_pan (&self->cam, mx, my);
      self->user_moved = true;
    }
  self->drag_last_x = x;
  self->drag_last_y = y;
  redraw (self);
}

static void
drag_end_cb (GtkGestureDrag *g, double dx, double dy, MmSurfaceView *self)
{
  if (self->drag_mode == 1 && hypot (dx, dy) < CLICK_SLOP)
    pick (self, self->press_x, self->press_y);
  self->drag_mode = 0;
  redraw (self); /* the full bone again */
}

static gboolean
scroll_cb (GtkEventControllerScroll *c, double dx, double dy, MmSurfaceView *self)
{
  mm_camera_zoom (&self->cam, pow (1.15, -dy));
  self->user_moved = true;
  g_clear_handle_id (&self->settle_id, g_source_remove);
  self->settle_id = g_timeout_add (SETTLE_MS, settle_cb, self);
  redraw (self);
  return TRUE;
}

bool
mm_surface_view_owns_key (guint keyval, GdkModifierType mods)
{
  if (mods & ~GDK_SHIFT_MASK)
    return false;
  guint k = gdk_keyval_to_upper (keyval);
  return k == GDK_KEY_A || k == GDK_KEY_P || k == GDK_KEY_L || k == GDK_KEY_R || k == GDK_KEY_S
         || k == GDK_KEY_I;
}

static gboolean
key_cb (GtkEventControllerKey *c, guint keyval, guint keycode, GdkModifierType state, MmSurfaceView *self)
{
  GdkModifierType mods = state & gtk_accelerator_get_default_mod_mask ();
  if (!mm_surface_view_owns_key (keyval, mods))
    return FALSE;
  mm_surface_view_set_standard (self, (char) gdk_keyval_to_upper (keyval));
  return TRUE;
}

static void
attach_pointer (MmSurfaceView *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (self->area, GTK_EVENT_CONTROLLER (drag));
  GtkEventController *scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL
                                                                | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (self->area, scroll);
  GtkEventController *keys = gtk_event_controller_key_new ();
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_cb), self);
  gtk_widget_add_controller (self->area, keys);
}

void
mm_surface_view_set_standard (MmSurfaceView *self, char view)
{
  g_return_if_fail (MM_IS_SURFACE_VIEW (self));
  if (mm_camera_set_standard (&self->cam, view))
    redraw (self);
}

/* ---- the meshes ---- */

static void
update_readout (MmSurfaceView *self)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    {
      gtk_label_set_text (self->readout, "");
      return;
    }
  int c[3];
  double lps[3];
  mm_viewer_get_cursor (self->viewer, c);
  mm_volume_index_to_lps (vol, c[0], c[1], c[2], lps);
  /* RAS letters as the 2D views' readout; the voxel for anyone who checks. */
  g_autofree char *text = g_strdup_printf (_("Crosshair %c %.1f, %c %.1f, %c %.1f mm · voxel %d, %d, %d"),
                                           lps[0] >= 0 ? 'L' : 'R', fabs (lps[0]),
                                           lps[1] >= 0 ? 'P' : 'A', fabs (lps[1]),
                                           lps[2] >= 0 ? 'S' : 'I', fabs (lps[2]), c[0], c[1], c[2]);
  gtk_label_set_text (self->readout, text);
}

static void
update_parts (MmSurfaceView *self)
{
  GString *s = g_string_new (NULL);
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);
  gtk_string_list_append (names, _("All parts"));
  if (self->metal == NULL || self->metal->n_parts == 0)
    g_string_append (s, self->metal_stale ? _("Building the metal's surface…") : _("No metal in the mask"));
  for (int i = 0; self->metal && i < self->metal->n_parts; i++)
    {
      const float *c = part_colours[i % G_N_ELEMENTS (part_colours)];
      g_autofree char *line = g_strdup_printf (_("Part %d: %.2f ml, %.2f cm²"), i + 1,
                                               self->metal->volume_ml[i], self->metal->area_cm2[i]);
      g_string_append_printf (s, "%s<span foreground=\"#%02x%02x%02x\">■</span> %s", i ? "\n" : "",
                              (int) (c[0] * 255), (int) (c[1] * 255), (int) (c[2] * 255), line);
      g_autofree char *name = g_strdup_printf (_("Part %d"), i + 1);
      gtk_string_list_append (names, name);
    }
  gtk_label_set_markup (self->parts_label, s->str);
  g_string_free (s, TRUE);
  gtk_drop_down_set_model (self->part_drop, G_LIST_MODEL (names));
}

static void
metal_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  MmSurfaceMetal *metal = mm_surface_metal_finish (result, &error);
  if (metal == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          MmSurfaceView *self = data;
          g_signal_emit (self, signals[MESSAGE], 0, error->message);
          if (g_task_get_cancellable (G_TASK (result)) == self->metal_cancel)
            g_clear_object (&self->metal_cancel);
        }
      g_object_unref (data); /* the reference the task held; cancelled: the view may be gone */
      return;
    }
  MmSurfaceView *self = data;
  if (g_task_get_cancellable (G_TASK (result)) != self->metal_cancel)
    {
      /* Finished just as a newer build started: that one's result is the one to show. */
      mm_surface_metal_free (metal);
      g_object_unref (self);
      return;
    }
  g_clear_object (&self->metal_cancel);
  mm_surface_metal_adopt (metal, self->metal);
  mm_surface_metal_free (self->metal);
  self->metal = metal;
  self->metal_stale = false;
  self->metal_dirty = true;
  g_debug ("3D view: %d metal parts (%d reused, %d rebuilt around the edit) in %.1f ms", metal->n_parts,
           metal->n_reused, metal->n_local, metal->ms);
  if (!self->fitted || (!self->fit_on_metal && !self->user_moved && metal->n_parts > 0))
    fit (self);
  update_parts (self);
  set_status (self, "");
  redraw (self);
  g_object_unref (self);
}

static void
start_metal (MmSurfaceView *self)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  const MmMask *mask = mm_viewer_get_mask (self->viewer);
  if (self->metal_cancel)
    g_cancellable_cancel (self->metal_cancel);
  g_clear_object (&self->metal_cancel);
  if (vol == NULL || mask == NULL)
    {
      g_clear_pointer (&self->metal, mm_surface_metal_free);
      self->metal_dirty = true;
      self->metal_stale = false;
      if (vol != NULL && !self->fitted)
        fit (self);
      update_parts (self);
      redraw (self);
      return;
    }
  self->metal_stale = true;
  self->metal_cancel = g_cancellable_new ();
  mm_surface_metal_async (vol, mask, self->metal, self->metal_cancel, metal_done_cb, g_object_ref (self));
}

static void
bone_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  MmSurfaceBone *bone = mm_surface_bone_finish (result, &error);
  MmSurfaceView *self = data;
  if (bone == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_signal_emit (self, signals[MESSAGE], 0, error->message);
          if (g_task_get_cancellable (G_TASK (result)) == self->bone_cancel)
            g_clear_object (&self->bone_cancel);
          set_status (self, "");
        }
      g_object_unref (self);
      return;
    }
  if (g_task_get_cancellable (G_TASK (result)) != self->bone_cancel)
    {
      mm_surface_bone_free (bone);
      g_object_unref (self);
      return;
    }
  g_clear_object (&self->bone_cancel);
  g_clear_pointer (&self->bone, mm_mesh_free);
  g_clear_pointer (&self->bone_lod, mm_mesh_free);
  self->bone = g_steal_pointer (&bone->mesh);
  self->bone_lod = g_steal_pointer (&bone->lod);
  mm_surface_bone_free (bone);
  self->bone_dirty = true;
  set_status (self, "");
  redraw (self);
  g_object_unref (self);
}

/* The coarse bone's budget; MM_3D_LOD_TRIANGLES overrides it (the GUI test makes the coarse
 * bone plainly coarser than the full one on its small phantom). */
static size_t
lod_triangles (void)
{
  const char *env = g_getenv ("MM_3D_LOD_TRIANGLES");
  guint64 v = 0;
  if (env != NULL && g_ascii_string_to_unsigned (env, 10, 100, MM_SURFACE_BONE_TRIANGLES, &v, NULL))
    return (size_t) v;
  return MM_SURFACE_LOD_TRIANGLES;
}

static void
start_bone (MmSurfaceView *self)
{
  if (self->bone_cancel)
    g_cancellable_cancel (self->bone_cancel);
  g_clear_object (&self->bone_cancel);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL || !gtk_check_button_get_active (self->bone_check) || !self->active)
    {
      redraw (self);
      return;
    }
  double hu = gtk_spin_button_get_value (self->bone_hu);
  if (self->bone != NULL && hu == self->bone_built_hu)
    {
      redraw (self);
      return;
    }
  g_clear_pointer (&self->bone, mm_mesh_free);
  g_clear_pointer (&self->bone_lod, mm_mesh_free);
  self->bone_dirty = true;
  self->bone_built_hu = hu;
  set_status (self, _("Building the bone surface…"));
  self->bone_cancel = g_cancellable_new ();
  mm_surface_bone_async (vol, hu, MM_SURFACE_BONE_TRIANGLES, lod_triangles (), self->bone_cancel, bone_done_cb, g_object_ref (self));
}

static gboolean
rebuild_cb (gpointer data)
{
  MmSurfaceView *self = data;
  self->rebuild_id = 0;
  start_metal (self);
  return G_SOURCE_REMOVE;
}

static void
viewer_changed_cb (MmViewer *viewer, guint what, MmSurfaceView *self)
{
  if (what & MM_VIEWER_CHANGED_VOLUME)
    {
      if (self->bone_cancel)
        g_cancellable_cancel (self->bone_cancel);
      g_clear_object (&self->bone_cancel);
      g_clear_pointer (&self->bone, mm_mesh_free);
      g_clear_pointer (&self->bone_lod, mm_mesh_free);
      /* The running metal build may reuse parts of this one: it goes now, so does the build. */
      if (self->metal_cancel)
        g_cancellable_cancel (self->metal_cancel);
      g_clear_object (&self->metal_cancel);
      g_clear_pointer (&self->metal, mm_surface_metal_free);
      self->metal_dirty = self->bone_dirty = true;
      self->fitted = false;
      self->user_moved = false;
      mm_camera_set_standard (&self->cam, 'A');
    }
  if (what & (MM_VIEWER_CHANGED_VOLUME | MM_VIEWER_CHANGED_MASK))
    {
      /* Debounced: a brush stroke edits the mask many times; a new build cancels the old. */
      g_clear_handle_id (&self->rebuild_id, g_source_remove);
      if (self->active)
        self->rebuild_id = g_timeout_add (what & MM_VIEWER_CHANGED_VOLUME ? 0 : REBUILD_DELAY_MS, rebuild_cb, self);
      else
        self->metal_stale = true;
    }
  if (what & MM_VIEWER_CHANGED_VOLUME)
    start_bone (self);
  if (what & (MM_VIEWER_CHANGED_CURSOR | MM_VIEWER_CHANGED_VOLUME))
    {
      update_readout (self);
      redraw (self);
    }
}

void
mm_surface_view_set_active (MmSurfaceView *self, bool active)
{
  g_return_if_fail (MM_IS_SURFACE_VIEW (self));
  if (active == self->active)
    return;
  self->active = active;
  if (active && (self->metal_stale || self->metal == NULL))
    start_metal (self);
  if (active)
    start_bone (self);
}

bool
mm_surface_view_is_software (MmSurfaceView *self)
{
  return self->software;
}

/* ---- export ---- */

static void
export_cb (GtkButton *button, MmSurfaceView *self)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (self->metal == NULL || self->metal->n_parts == 0 || vol == NULL)
    {
      g_signal_emit (self, signals[MESSAGE], 0, _("No metal surface to export: segment the metal first"));
      return;
    }
  static const MmMeshFormat formats[] = { MM_MESH_STL, MM_MESH_PLY, MM_MESH_OBJ };
  guint f = MIN (gtk_drop_down_get_selected (self->format_drop), G_N_ELEMENTS (formats) - 1);
  guint part = gtk_drop_down_get_selected (self->part_drop);
  mm_surface_export_ask (GTK_WIDGET (self), (const MmMesh *const *) self->metal->parts, self->metal->n_parts,
                         part == GTK_INVALID_LIST_POSITION ? 0 : (int) part, formats[f],
                         gtk_check_button_get_active (self->lps_check));
}

void
mm_surface_view_message (MmSurfaceView *self, const char *text)
{
  g_signal_emit (self, signals[MESSAGE], 0, text);
}

/* ---- GObject ---- */

static void
mm_surface_view_dispose (GObject *object)
{
  MmSurfaceView *self = MM_SURFACE_VIEW (object);
  g_clear_handle_id (&self->rebuild_id, g_source_remove);
  g_clear_handle_id (&self->settle_id, g_source_remove);
  if (self->metal_cancel)
    g_cancellable_cancel (self->metal_cancel);
  if (self->bone_cancel)
    g_cancellable_cancel (self->bone_cancel);
  g_clear_object (&self->metal_cancel);
  g_clear_object (&self->bone_cancel);
  if (self->viewer)
    g_signal_handlers_disconnect_by_data (self->viewer, self);
  g_clear_object (&self->viewer);
  g_clear_pointer (&self->overlay, gtk_widget_unparent);
  G_OBJECT_CLASS (mm_surface_view_parent_class)->dispose (object);
}

static void
mm_surface_view_finalize (GObject *object)
{
  MmSurfaceView *self = MM_SURFACE_VIEW (object);
  mm_surface_metal_free (self->metal);
  mm_mesh_free (self->bone);
  mm_mesh_free (self->bone_lod);
  G_OBJECT_CLASS (mm_surface_view_parent_class)->finalize (object);
}

static void
mm_surface_view_class_init (MmSurfaceViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = mm_surface_view_dispose;
  object_class->finalize = mm_surface_view_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "surfaceview");
  /* message (a sentence for the user: a toast) */
  signals[MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                   NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static GtkWidget *
panel_box (GtkAlign h, GtkAlign v)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_halign (box, h);
  gtk_widget_set_valign (box, v);
  gtk_widget_set_margin_start (box, 8);
  gtk_widget_set_margin_end (box, 8);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 8);
  gtk_widget_add_css_class (box, "osd");
  return box;
}

static void
bone_changed_cb (MmSurfaceView *self)
{
  start_bone (self);
}

static void
mm_surface_view_init (MmSurfaceView *self)
{
  self->cam.scale = 1;
  self->cam.radius = 100;
  mm_camera_set_standard (&self->cam, 'A');
  self->overlay = gtk_overlay_new ();
  gtk_widget_set_parent (self->overlay, GTK_WIDGET (self));

  /* Top left: the parts; bottom left: the crosshair. */
  GtkWidget *left = panel_box (GTK_ALIGN_START, GTK_ALIGN_START);
  self->parts_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->parts_label, 0);
  gtk_box_append (GTK_BOX (left), GTK_WIDGET (self->parts_label));
  gtk_overlay_add_overlay (GTK_OVERLAY (self->overlay), left);
  GtkWidget *bottom = panel_box (GTK_ALIGN_START, GTK_ALIGN_END);
  self->readout = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->readout, 0);
  self->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->status, 0);
  gtk_box_append (GTK_BOX (bottom), GTK_WIDGET (self->status));
  gtk_widget_set_visible (GTK_WIDGET (self->status), FALSE);
  gtk_box_append (GTK_BOX (bottom), GTK_WIDGET (self->readout));
  gtk_overlay_add_overlay (GTK_OVERLAY (self->overlay), bottom);

  /* Top right: a menu button with the bone surface and the export, so the picture stays
   * clear of controls. */
  GtkWidget *right = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (right, 6);
  gtk_widget_set_margin_end (right, 6);
  gtk_widget_set_margin_top (right, 6);
  gtk_widget_set_margin_bottom (right, 6);
  GtkWidget *bone_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->bone_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("Bone")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->bone_check), _("Show the bone as a translucent surface at this HU"));
  self->bone_hu = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (-1000, 3000, 50));
  gtk_spin_button_set_value (self->bone_hu, 300);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->bone_hu), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Bone threshold (HU)"), -1);
  gtk_box_append (GTK_BOX (bone_row), GTK_WIDGET (self->bone_check));
  gtk_box_append (GTK_BOX (bone_row), GTK_WIDGET (self->bone_hu));
  gtk_box_append (GTK_BOX (right), bone_row);
  gtk_box_append (GTK_BOX (right), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  const char *format_names[] = { "STL", "PLY", "OBJ", NULL };
  self->format_drop = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (format_names));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->format_drop), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Mesh format"), -1);
  self->part_drop = GTK_DROP_DOWN (gtk_drop_down_new (NULL, NULL));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->part_drop), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Parts to export"), -1);
  self->lps_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("LPS (DICOM) instead of RAS")));
  GtkWidget *export = gtk_button_new_with_mnemonic (_("_Export Mesh…"));
  gtk_widget_set_tooltip_text (export, _("Write the metal's surface to a folder (RAS mm, as 3D Slicer)"));
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->format_drop));
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->part_drop));
  gtk_box_append (GTK_BOX (right), row);
  gtk_box_append (GTK_BOX (right), GTK_WIDGET (self->lps_check));
  gtk_box_append (GTK_BOX (right), export);
  GtkWidget *popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (popover), right);
  GtkWidget *menu = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu), "view-more-symbolic");
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (menu), popover);
  gtk_widget_set_tooltip_text (menu, _("3D view: bone surface and mesh export"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("3D view: bone surface and mesh export"), -1);
  gtk_widget_set_halign (menu, GTK_ALIGN_END);
  gtk_widget_set_valign (menu, GTK_ALIGN_START);
  gtk_widget_set_margin_end (menu, 8);
  gtk_widget_set_margin_top (menu, 8);
  gtk_widget_add_css_class (menu, "osd");
  gtk_overlay_add_overlay (GTK_OVERLAY (self->overlay), menu);
  g_signal_connect (export, "clicked", G_CALLBACK (export_cb), self);
  g_signal_connect_swapped (self->bone_check, "toggled", G_CALLBACK (bone_changed_cb), self);
  g_signal_connect_swapped (self->bone_hu, "value-changed", G_CALLBACK (bone_changed_cb), self);

  const char *soft = g_getenv ("MM_3D_SOFTWARE");
  if (soft != NULL && g_strcmp0 (soft, "0") != 0)
    use_software (self, "MM_3D_SOFTWARE is set");
  else
    {
      GtkWidget *area = gtk_gl_area_new ();
      gtk_gl_area_set_has_depth_buffer (GTK_GL_AREA (area), TRUE);
      gtk_gl_area_set_required_version (GTK_GL_AREA (area), 3, 0);
      g_signal_connect (area, "realize", G_CALLBACK (gl_realize_cb), self);
      g_signal_connect (area, "unrealize", G_CALLBACK (gl_unrealize_cb), self);
      g_signal_connect (area, "render", G_CALLBACK (gl_render_cb), self);
      use_area (self, area);
    }
  update_parts (self);
}

MmSurfaceView *
mm_surface_view_new (MmViewer *viewer)
{
  MmSurfaceView *self = g_object_new (MM_TYPE_SURFACE_VIEW, NULL);
  self->viewer = g_object_ref (viewer);
  g_signal_connect (viewer, "changed", G_CALLBACK (viewer_changed_cb), self);
  if (mm_viewer_get_volume (viewer))
    viewer_changed_cb (viewer, MM_VIEWER_CHANGED_VOLUME | MM_VIEWER_CHANGED_MASK, self);
  return self;
}
