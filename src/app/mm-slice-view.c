/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSliceView: renders a plane through the core's renderer into a texture, draws the
 * crosshair, and keeps the texts over it (mm-slice-overlay.c) and its accessible
 * description up to date; its pointer input is in mm-slice-view-input.c. */
#include "mm-slice-view-private.h"
#include "mm-slice-overlay.h"
#include "mm-oblique-handles.h"
#include "mm-reading.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>


G_DEFINE_FINAL_TYPE (MmSliceView, mm_slice_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_VIEWER,
  PROP_PLANE,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

guint mm_slice_view_signals[N_SIGNALS];

static const char *
plane_name (MmPlane plane)
{
  switch (plane)
    {
    case MM_PLANE_CORONAL:
      return _("Coronal");
    case MM_PLANE_SAGITTAL:
      return _("Sagittal");
    case MM_PLANE_AXIAL:
    default:
      return _("Axial");
    }
}

void
mm_slice_view_get_viewport (MmSliceView *self, MmViewport *vp)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  int w = gtk_widget_get_width (GTK_WIDGET (self)), h = gtk_widget_get_height (GTK_WIDGET (self));
  if (vol == NULL || w <= 0 || h <= 0)
    {
      *vp = (MmViewport){ 0, 0, 1 };
      return;
    }
  MmPlaneGeometry g;
  mm_reading_get_geometry (self->reading, self->viewer, self->plane, &g);
  mm_reading_fit_viewport (self->reading, self->viewer, self->plane, w, h, vp);
  if (self->abs_zoom > 0 && vp->scale > 0)
    /* An absolute zoom (100 %, --zoom): recomputed from the fit of the current size, so a
     * size that changes after it was asked for (the first layouts) does not change it. */
    self->zoom = CLAMP (self->abs_zoom / (vp->scale * g.pixel_w), 0.1, 50.0);
  /* Zoom about the widget centre, then pan. */
  vp->origin_x = w / 2.0 + (vp->origin_x - w / 2.0) * self->zoom + self->pan_x;
  vp->origin_y = h / 2.0 + (vp->origin_y - h / 2.0) * self->zoom + self->pan_y;
  vp->scale *= self->zoom;
}

/* Continuous plane coordinates (pixels) of a widget point. */
bool
mm_slice_view_widget_to_plane_f (MmSliceView *self, double x, double y, double *u, double *v)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    return false;
  MmPlaneGeometry g;
  MmViewport vp;
  mm_reading_get_geometry (self->reading, self->viewer, self->plane, &g);
  mm_slice_view_get_viewport (self, &vp);
  mm_viewport_to_plane (&g, &vp, x, y, u, v);
  return true;
}

/* The plane pixel under a widget point; false outside the plane. */
bool
mm_slice_view_widget_to_plane (MmSliceView *self, double x, double y, int *u, int *v)
{
  double fu, fv;
  if (!mm_slice_view_widget_to_plane_f (self, x, y, &fu, &fv))
    return false;
  MmPlaneGeometry g;
  mm_reading_get_geometry (self->reading, self->viewer, self->plane, &g);
  *u = (int) floor (fu);
  *v = (int) floor (fv);
  return *u >= 0 && *v >= 0 && *u < g.width && *v < g.height;
}

/* The oblique plane this view shows, for the measurements (NULL on standard planes). */
const MmAnnotFrame *
mm_slice_view_annot_frame (MmSliceView *self, MmAnnotFrame *frame)
{
  if (!mm_reading_is_oblique (self->reading))
    return NULL;
  MmReslicePlane rp;
  mm_reading_get_plane (self->reading, self->viewer, self->plane, &rp);
  mm_annot_frame_from_reslice (frame, &rp);
  return frame;
}

static void
update_description (MmSliceView *self)
{
  g_autofree char *text = mm_slice_overlay_describe (self->overlay);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text, -1);
}

/* A text changed: redraw, and tell assistive technologies (which read the texts there). */
void
mm_slice_view_overlay_changed (MmSliceView *self, gboolean changed)
{
  if (!changed)
    return;
  update_description (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
update_window_label (MmSliceView *self)
{
  double w, l;
  mm_viewer_get_window (self->viewer, &w, &l);
  bool inv = mm_viewer_get_invert (self->viewer);
  g_autofree char *slab = mm_reading_dup_slab_text (self->reading);
  g_autofree char *text = g_strdup_printf (_("W %.0f L %.0f%s"), w, l, inv ? _(" (inverted)") : "");
  g_autofree char *brief = g_strdup_printf ("W %.0f L %.0f%s", w, l, inv ? _(" inv.") : "");
  if (slab)
    {
      /* The slab belongs with the window: both say how the values became grey. */
      g_autofree char *t = g_strdup_printf ("%s · %s", text, slab), *b = g_strdup_printf ("%s · %s", brief, slab);
      g_free (text), g_free (brief);
      text = g_steal_pointer (&t);
      brief = g_steal_pointer (&b);
    }
  mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_WINDOW, text, brief, NULL));
}

/* The letter(s) of the patient direction in which the slice number grows (depth + 1), and
 * of the opposite one: "I" and "S" for an axial series numbered from the feet. */
static void
depth_direction (MmSliceView *self, char from[4], char to[4])
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  int a[3], b[3];
  double pa[3], pb[3], d[3], nd[3];
  MmPlaneGeometry g;
  mm_plane_geometry (vol, self->plane, &g);
  mm_plane_to_index (vol, self->plane, 0, 0, 0, a);
  mm_plane_to_index (vol, self->plane, 0, 0, MIN (1, g.depth - 1), b);
  mm_volume_index_to_lps (vol, a[0], a[1], a[2], pa);
  mm_volume_index_to_lps (vol, b[0], b[1], b[2], pb);
  for (int i = 0; i < 3; i++)
    {
      d[i] = pb[i] - pa[i];
      nd[i] = -d[i];
    }
  mm_direction_letters (d, to);
  mm_direction_letters (nd, from);
}

void
mm_slice_view_get_depth_direction (MmSliceView *self, char from[4], char to[4])
{
  from[0] = to[0] = '\0';
  if (mm_viewer_get_volume (self->viewer))
    depth_direction (self, from, to);
}

/* Percent of the slices in while a progressive load fills vol; -1 once all are. */
static int
mm_slice_view_loading_percent (const MmVolume *vol)
{
  if (vol->slice_ready == NULL)
    return -1;
  int n = 0;
  for (int k = 0; k < vol->dims[2]; k++)
    n += mm_volume_slice_is_ready (vol, k);
  return n == vol->dims[2] ? -1 : (int) (100.0 * n / vol->dims[2]);
}

static void
update_slice_label (MmSliceView *self)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    {
      mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_SLICE, NULL, NULL));
      return;
    }
  MmPlaneGeometry g;
  mm_plane_geometry (vol, self->plane, &g);
  int d = mm_viewer_get_depth (self->viewer, self->plane);
  /* Position along the plane's normal, through the centre of the plane's first pixel. */
  int ijk[3];
  double lps[3], right[3], down[3], normal[3];
  mm_plane_to_index (vol, self->plane, 0, 0, d, ijk);
  mm_volume_index_to_lps (vol, ijk[0], ijk[1], ijk[2], lps);
  mm_plane_screen_axes (vol, self->plane, right, down);
  normal[0] = right[1] * down[2] - right[2] * down[1];
  normal[1] = right[2] * down[0] - right[0] * down[2];
  normal[2] = right[0] * down[1] - right[1] * down[0];
  /* Signed like the patient axis the plane is closest to (x for sagittal, y for coronal, z
   * for axial), so the figure reads as the LPS coordinate of the plane. */
  int main_axis = 0;
  for (int a = 1; a < 3; a++)
    if (fabs (normal[a]) > fabs (normal[main_axis]))
      main_axis = a;
  double pos = (lps[0] * normal[0] + lps[1] * normal[1] + lps[2] * normal[2])
               * (normal[main_axis] < 0 ? -1 : 1);
  /* Which way the numbers run ("I→S": slice 1 is the most inferior), as on the slider. */
  char from[4], to[4];
  depth_direction (self, from, to);
  g_autofree char *text = g_strdup_printf (mm_reading_plane_is_turned (self->reading, self->viewer, self->plane)
                                           ? _("%s oblique %d/%d (%s→%s) · %.1f mm")
                                           : _("%s %d/%d (%s→%s) · %.1f mm"),
                                           plane_name (self->plane), d + 1, g.depth, from, to, pos);
  g_autofree char *brief = g_strdup_printf (_("%d/%d (%s→%s) · %.1f mm"), d + 1, g.depth, from, to, pos);
  g_autofree char *briefest = g_strdup_printf ("%d/%d", d + 1, g.depth);
  int loading = mm_slice_view_loading_percent (vol);
  if (loading >= 0)
    {
      /* A progressive load (mm-loader.h) is filling the volume. */
      g_autofree char *more = g_strdup_printf (_("loading %d %%"), loading);
      g_autofree char *t = g_strdup_printf ("%s · %s", text, more);
      g_autofree char *b = g_strdup_printf ("%s · %s", brief, more);
      g_autofree char *bb = g_strdup_printf ("%s · %s", briefest, more);
      mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_SLICE, t, b, bb,
                                                   NULL));
      return;
    }
  mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_SLICE, text, brief,
                                               briefest, NULL));
}

static void
update_letters (MmSliceView *self)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    return;
  double right[3], down[3], left[3], up[3];
  MmReslicePlane rp;
  mm_reading_get_plane (self->reading, self->viewer, self->plane, &rp);
  memcpy (right, rp.right, sizeof right);
  memcpy (down, rp.down, sizeof down);
  for (int a = 0; a < 3; a++)
    {
      left[a] = -right[a];
      up[a] = -down[a];
    }
  char buf[4];
  mm_direction_letters (right, buf);
  mm_slice_overlay_set (self->overlay, MM_OVERLAY_RIGHT, buf, NULL);
  mm_direction_letters (left, buf);
  mm_slice_overlay_set (self->overlay, MM_OVERLAY_LEFT, buf, NULL);
  mm_direction_letters (up, buf);
  mm_slice_overlay_set (self->overlay, MM_OVERLAY_TOP, buf, NULL);
  mm_direction_letters (down, buf);
  mm_slice_overlay_set (self->overlay, MM_OVERLAY_BOTTOM, buf, NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Screen pixels per image pixel (along the plane's rows): 1 is "100 %", as in RadiAnt and
 * Horos; 0 without a volume or a size. */
double
mm_slice_view_get_zoom_ratio (MmSliceView *self)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL || gtk_widget_get_width (GTK_WIDGET (self)) <= 0)
    return 0;
  MmPlaneGeometry g;
  MmViewport vp;
  mm_reading_get_geometry (self->reading, self->viewer, self->plane, &g);
  mm_slice_view_get_viewport (self, &vp);
  return vp.scale * g.pixel_w;
}

/* Called while drawing (the figure depends on the size): the frame being drawn shows it. */
static void
update_zoom_label (MmSliceView *self)
{
  double ratio = mm_slice_view_get_zoom_ratio (self);
  if (ratio <= 0)
    {
      if (mm_slice_overlay_set (self->overlay, MM_OVERLAY_ZOOM, NULL, NULL))
        update_description (self);
      return;
    }
  bool fit = self->abs_zoom == 0 && self->zoom == 1.0 && self->pan_x == 0 && self->pan_y == 0;
  double pc = ratio * 100;
  g_autofree char *text = fit ? g_strdup_printf (_("Zoom %.0f %% (fit)"), pc)
                              : g_strdup_printf (_("Zoom %.0f %%"), pc);
  g_autofree char *brief = g_strdup_printf ("%.0f %%", pc);
  if (mm_slice_overlay_set (self->overlay, MM_OVERLAY_ZOOM, text, brief, NULL))
    update_description (self);
}


/* Over every view while the viewer shows values that are not the series as read (e.g. the
 * metal artifact reduced series), so that no one takes them for the scan. */
static void
update_derived_label (MmSliceView *self)
{
  const char *label = mm_viewer_get_derived_label (self->viewer);
  g_autofree char *brief = NULL;
  /* Shorter variants for a small view: the part before the dash always stays. */
  const char *dash = label ? strstr (label, " — ") : NULL;
  if (dash)
    brief = g_strndup (label, dash - label);
  mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_DERIVED, label, brief,
                                               NULL));
}

static void
viewer_changed_cb (MmViewer *viewer, guint what, MmSliceView *self)
{
  if (what & MM_VIEWER_CHANGED_VOLUME)
    {
      self->zoom = 1.0;
      self->pan_x = self->pan_y = 0;
      update_letters (self);
      mm_reading_image_invalidate (self->rimg);
      mm_slice_view_overlay_changed (self, mm_slice_overlay_set (self->overlay, MM_OVERLAY_PROBE, NULL, NULL));
    }
  /* More slices of a progressive load are in: a slab or an oblique plane made from the
   * partial volume is stale (repaints are throttled by the loader, so this is cheap). */
  if (what & MM_VIEWER_CHANGED_VOXELS)
    mm_reading_image_invalidate (self->rimg);
  if (what & MM_VIEWER_CHANGED_WINDOW)
    update_window_label (self);
  if (what & MM_VIEWER_CHANGED_CURSOR)
    mm_reading_cursor_changed (self->reading, viewer);
  if (what & MM_VIEWER_CHANGED_MASK)
    mm_reading_mask_changed (self->reading);
  if (what & (MM_VIEWER_CHANGED_CURSOR | MM_VIEWER_CHANGED_VOLUME | MM_VIEWER_CHANGED_VOXELS))
    update_slice_label (self);
  if (what & (MM_VIEWER_CHANGED_VOLUME | MM_VIEWER_CHANGED_VOXELS))
    update_derived_label (self);
  /* Other values under a pointer that did not move: the readout reads what is shown now. */
  if ((what & MM_VIEWER_CHANGED_VOXELS) && self->pointer_in)
    mm_slice_view_probe (self, self->pointer_x, self->pointer_y);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
reading_changed_cb (MmReading *reading, MmSliceView *self)
{
  update_window_label (self);
  update_slice_label (self);
  update_letters (self);
  update_description (self); /* the letters are set without it */
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
update_scale_bar (MmSliceView *self, const MmViewport *vp, int w)
{
  /* A round length near a fifth of the width: 1, 2 or 5 times a power of ten, in mm. */
  double target = w / 5.0 / vp->scale;
  if (!(target > 0) || !isfinite (target))
    {
      mm_slice_overlay_set_scale_bar (self->overlay, 0, NULL);
      return;
    }
  double p = pow (10, floor (log10 (target))), len = p;
  if (2 * p <= target)
    len = 2 * p;
  if (5 * p <= target)
    len = 5 * p;
  g_autofree char *text = len >= 10 ? g_strdup_printf ("%.0f mm", len)
                                    : g_strdup_printf ("%g mm", len);
  if (mm_slice_overlay_set_scale_bar (self->overlay, len * vp->scale, text))
    update_description (self);
}

static void
draw_crosshair (MmSliceView *self, GtkSnapshot *snapshot, const MmViewport *vp, int w, int h)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  MmPlaneGeometry g;
  mm_plane_geometry (vol, self->plane, &g);
  int ijk[3], u, v, d;
  mm_viewer_get_cursor (self->viewer, ijk);
  mm_index_to_plane (vol, self->plane, ijk, &u, &v, &d);
  double x = vp->origin_x + (u + 0.5) * g.pixel_w * vp->scale;
  double y = vp->origin_y + (v + 0.5) * g.pixel_h * vp->scale;
  const GdkRGBA color = { 0.2, 0.8, 1.0, 0.7 };
  gtk_snapshot_append_color (snapshot, &color, &GRAPHENE_RECT_INIT (0, (float) y, w, 1));
  gtk_snapshot_append_color (snapshot, &color, &GRAPHENE_RECT_INIT ((float) x, 0, 1, h));
}

static void
mm_slice_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  MmSliceView *self = MM_SLICE_VIEW (widget);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  const GdkRGBA black = { 0, 0, 0, 1 };
  gtk_snapshot_append_color (snapshot, &black, &GRAPHENE_RECT_INIT (0, 0, w, h));
  if (vol != NULL && w > 0 && h > 0)
    {
      /* Rendered at device pixels, so the texture is drawn 1:1 and nearest-neighbour
       * scaling is the core's, not the GPU's. */
      int sf = gtk_widget_get_scale_factor (widget);
      int pw = w * sf, ph = h * sf;
      gsize need = (gsize) pw * ph * 4;
      if (self->pixels_size < need)
        {
          self->pixels = g_realloc (self->pixels, need);
          self->pixels_size = need;
        }
      MmViewport vp, dvp;
      mm_slice_view_get_viewport (self, &vp);
      dvp = (MmViewport){ vp.origin_x * sf, vp.origin_y * sf, vp.scale * sf };
      MmRenderStyle style;
      mm_viewer_get_style (self->viewer, &style);
      gint64 t0 = g_get_monotonic_time ();
      /* A slab or an oblique plane: the core's image of it, drawn as a one-slice series. */
      const MmVolume *image = mm_reading_image_update (self->rimg, self->reading, self->viewer,
                                                       self->plane, &style);
      if (image)
        mm_renderer_draw (self->renderer, image, MM_PLANE_AXIAL, 0, &style, &dvp, self->pixels,
                          pw, ph, pw * 4);
      else
        mm_renderer_draw (self->renderer, vol, self->plane,
                          mm_viewer_get_depth (self->viewer, self->plane), &style, &dvp,
                          self->pixels, pw, ph, pw * 4);
      /* Copied into the texture's own bytes: the buffer is drawn into again next frame while
       * GSK may not have uploaded this one yet. */
      g_autoptr (GBytes) bytes = g_bytes_new (self->pixels, need);
      g_autoptr (GdkTexture) tex
          = gdk_memory_texture_new (pw, ph, GDK_MEMORY_R8G8B8A8, bytes, (gsize) pw * 4);
      gtk_snapshot_append_texture (snapshot, tex, &GRAPHENE_RECT_INIT (0, 0, w, h));
      self->last_render_us = g_get_monotonic_time () - t0;
      if (self->crosshair && !self->bare)
        {
          MmPlaneGeometry g;
          mm_reading_get_geometry (self->reading, self->viewer, self->plane, &g);
          if (!mm_reading_is_oblique (self->reading))
            draw_crosshair (self, snapshot, &vp, w, h);
          /* Handles while the pointer is over the view or one is dragged: they would hide
           * the image's pixels in a still picture. */
          mm_oblique_handles_draw (snapshot, self->reading, self->viewer, self->plane, &g, &vp,
                                   w, h, (self->pointer_in || self->rotation.active) && !self->hide_handles);
        }
      if (self->annotations && !self->bare)
        {
          MmAnnotFrame frame;
          cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
          mm_annotation_layer_draw (self->annotations, cr, self->plane,
                                    mm_viewer_get_depth (self->viewer, self->plane),
                                    mm_slice_view_annot_frame (self, &frame), &vp);
          cairo_destroy (cr);
        }
      if (self->tool_active && self->cursor_mm > 0 && self->pointer_in && !self->bare)
        {
          /* The brush at its true size: radius in mm times screen pixels per mm. */
          double r = self->cursor_mm * vp.scale;
          cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
          cairo_set_line_width (cr, 1.5);
          cairo_set_source_rgba (cr, 1, 1, 0.3, 0.9);
          cairo_arc (cr, self->pointer_x, self->pointer_y, r, 0, 2 * G_PI);
          cairo_stroke (cr);
          cairo_destroy (cr);
        }
      /* Texts that depend on the size: the zoom in screen pixels per image pixel, the bar. */
      update_scale_bar (self, &vp, w);
      update_zoom_label (self);
    }
  if (!self->bare)
    mm_slice_overlay_draw (self->overlay, snapshot, w, h);
}

/* ---- public ---- */

void
mm_slice_view_set_tool (MmSliceView *self, bool active, double cursor_mm)
{
  self->tool_active = active;
  self->cursor_mm = cursor_mm;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mm_slice_view_set_annotations (MmSliceView *self, MmAnnotationLayer *layer)
{
  g_set_object (&self->annotations, layer);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mm_slice_view_step (MmSliceView *self, int delta)
{
  if (mm_reading_is_oblique (self->reading))
    {
      mm_reading_step (self->reading, self->viewer, self->plane, delta);
      return;
    }
  int d = mm_viewer_get_depth (self->viewer, self->plane);
  mm_slice_view_go_to (self, MAX (0, d + delta));
}

void
mm_slice_view_go_to (MmSliceView *self, int depth)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    return;
  MmPlaneGeometry g;
  mm_plane_geometry (vol, self->plane, &g);
  if (depth < 0 || depth >= g.depth)
    depth = g.depth - 1;
  mm_viewer_set_depth (self->viewer, self->plane, depth);
}

void
mm_slice_view_zoom_by (MmSliceView *self, double factor)
{
  self->abs_zoom = 0; /* self->zoom is the zoom last drawn, relative to the fit */
  self->zoom = CLAMP (self->zoom * factor, 0.1, 50.0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mm_slice_view_reset (MmSliceView *self)
{
  self->zoom = 1.0;
  self->abs_zoom = 0;
  self->pan_x = self->pan_y = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mm_slice_view_set_zoom_ratio (MmSliceView *self, double ratio)
{
  g_return_if_fail (ratio > 0);
  /* Applied when the viewport is next computed, when the view has its size. */
  self->abs_zoom = ratio;
  self->pan_x = self->pan_y = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mm_slice_view_set_crosshair (MmSliceView *self, bool shown)
{
  self->crosshair = shown;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mm_slice_view_set_drag_action (MmSliceView *self, guint button, MmDragAction action)
{
  g_return_if_fail (button >= 1 && button <= 3);
  self->drag_action[button] = action;
}

bool
mm_slice_view_get_oblique_plane (MmSliceView *self, MmReslicePlane *p)
{
  g_return_val_if_fail (MM_IS_SLICE_VIEW (self), false);
  if (!mm_reading_is_oblique (self->reading) || mm_viewer_get_volume (self->viewer) == NULL)
    return false;
  mm_reading_get_plane (self->reading, self->viewer, self->plane, p);
  return true;
}

MmPlane
mm_slice_view_get_plane (MmSliceView *self)
{
  return self->plane;
}

gint64
mm_slice_view_get_last_render_us (MmSliceView *self)
{
  return self->last_render_us;
}

const char *
mm_slice_view_get_slice_text (MmSliceView *self)
{
  return mm_slice_overlay_get (self->overlay, MM_OVERLAY_SLICE);
}

const char *
mm_slice_view_get_window_text (MmSliceView *self)
{
  return mm_slice_overlay_get (self->overlay, MM_OVERLAY_WINDOW);
}

void
mm_slice_view_print_texts (MmSliceView *self, FILE *out, double x0, double y0)
{
  mm_slice_overlay_print (self->overlay, out, self->plane, x0, y0);
}

void
mm_slice_view_set_bare (MmSliceView *self, bool bare)
{
  self->bare = bare;
}

void
mm_slice_view_set_handles_hidden (MmSliceView *self, bool hidden)
{
  self->hide_handles = hidden;
}

/* ---- GObject ---- */

static void
mm_slice_view_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  MmSliceView *self = MM_SLICE_VIEW (object);
  switch (prop_id)
    {
    case PROP_VIEWER:
      self->viewer = g_value_dup_object (value);
      self->changed_id = g_signal_connect (self->viewer, "changed", G_CALLBACK (viewer_changed_cb), self);
      self->reading = g_object_ref (mm_viewer_get_reading (self->viewer));
      self->reading_id = g_signal_connect (self->reading, "changed", G_CALLBACK (reading_changed_cb), self);
      break;
    case PROP_PLANE:
      self->plane = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mm_slice_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  MmSliceView *self = MM_SLICE_VIEW (object);
  switch (prop_id)
    {
    case PROP_VIEWER:
      g_value_set_object (value, self->viewer);
      break;
    case PROP_PLANE:
      g_value_set_int (value, self->plane);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mm_slice_view_constructed (GObject *object)
{
  MmSliceView *self = MM_SLICE_VIEW (object);
  G_OBJECT_CLASS (mm_slice_view_parent_class)->constructed (object);
  g_autofree char *name = g_strdup_printf (_("%s view"), plane_name (self->plane));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  update_window_label (self);
  update_slice_label (self);
  update_letters (self);
}

static void
mm_slice_view_dispose (GObject *object)
{
  MmSliceView *self = MM_SLICE_VIEW (object);
  if (self->viewer)
    g_clear_signal_handler (&self->changed_id, self->viewer);
  g_clear_object (&self->viewer);
  if (self->reading)
    g_clear_signal_handler (&self->reading_id, self->reading);
  g_clear_object (&self->reading);
  g_clear_object (&self->annotations);
  G_OBJECT_CLASS (mm_slice_view_parent_class)->dispose (object);
}

static void
mm_slice_view_finalize (GObject *object)
{
  MmSliceView *self = MM_SLICE_VIEW (object);
  g_clear_pointer (&self->renderer, mm_renderer_free);
  g_clear_pointer (&self->rimg, mm_reading_image_free);
  g_clear_pointer (&self->overlay, mm_slice_overlay_free);
  g_free (self->pixels);
  G_OBJECT_CLASS (mm_slice_view_parent_class)->finalize (object);
}

static void
mm_slice_view_class_init (MmSliceViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->set_property = mm_slice_view_set_property;
  object_class->get_property = mm_slice_view_get_property;
  object_class->constructed = mm_slice_view_constructed;
  object_class->dispose = mm_slice_view_dispose;
  object_class->finalize = mm_slice_view_finalize;
  widget_class->snapshot = mm_slice_view_snapshot;

  properties[PROP_VIEWER] = g_param_spec_object ("viewer", NULL, NULL, MM_TYPE_VIEWER,
                                                 G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY
                                                     | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLANE] = g_param_spec_int ("plane", NULL, NULL, MM_PLANE_AXIAL,
                                             MM_PLANE_SAGITTAL, MM_PLANE_AXIAL,
                                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY
                                                 | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  /* interacted: the user scrolled or dragged in this view, which makes it the active one */
  mm_slice_view_signals[INTERACTED] = g_signal_new ("interacted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  mm_slice_view_signals[TOOL_STROKE] = g_signal_new ("tool-stroke", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 4, G_TYPE_DOUBLE,
                                       G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  mm_slice_view_signals[TOOL_DONE] = g_signal_new ("tool-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  mm_slice_view_signals[TOOL_CLICK] = g_signal_new ("tool-click", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE,
                                      G_TYPE_DOUBLE);

  gtk_widget_class_set_css_name (widget_class, "sliceview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
mm_slice_view_init (MmSliceView *self)
{
  self->overlay = mm_slice_overlay_new (GTK_WIDGET (self));
  self->renderer = mm_renderer_new ();
  self->rimg = mm_reading_image_new ();
  self->zoom = 1.0;
  self->drag_action[1] = MM_DRAG_WINDOW_LEVEL;
  self->drag_action[2] = MM_DRAG_PAN;
  self->drag_action[3] = MM_DRAG_ZOOM;
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  mm_slice_view_input_init (self);
}

MmSliceView *
mm_slice_view_new (MmViewer *viewer, MmPlane plane)
{
  return g_object_new (MM_TYPE_SLICE_VIEW, "viewer", viewer, "plane", plane, NULL);
}
