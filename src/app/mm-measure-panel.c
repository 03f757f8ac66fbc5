/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmMeasurePanel (see mm-measure-panel.h): widgets from ui/mm-measure-panel.ui; the rows
 * and the profile plot follow the annotation layer's "changed" signal. */
#include "mm-measure-panel.h"

#include "mm-scroll-guard.h"

#include <glib/gi18n.h>
#include <math.h>

struct _MmMeasurePanel
{
  GtkBox parent_instance;

  /* template widgets */
  GtkToggleButton *tool_pointer, *tool_distance, *tool_angle, *tool_profile, *tool_ellipse,
      *tool_rectangle, *tool_freehand;
  GtkListBox *list_box;
  GtkDrawingArea *profile_area;
  GtkWidget *delete_button;
  GtkSpinButton *component_spin;
  GtkLabel *mask_stats_label;

  /* borrowed */
  MmAnnotationLayer *layer;
  MmViewer *viewer;

  /* owned: the profile plotted (of item profile_id) */
  guint profile_id;
  int profile_n;
  double *profile_hu, *profile_pos;
  bool filling; /* rows being rebuilt: their selection is not the user's */
};

static guint message_signal;

G_DEFINE_FINAL_TYPE (MmMeasurePanel, mm_measure_panel, GTK_TYPE_BOX)

static const char *
plane_label (MmPlane plane)
{
  switch (plane)
    {
    case MM_PLANE_CORONAL:
      return _("coronal");
    case MM_PLANE_SAGITTAL:
      return _("sagittal");
    case MM_PLANE_AXIAL:
    default:
      return _("axial");
    }
}

static const char *
kind_label (MmAnnotKind kind)
{
  switch (kind)
    {
    case MM_ANNOT_DISTANCE:
      return _("Distance");
    case MM_ANNOT_ANGLE:
      return _("Angle");
    case MM_ANNOT_PROFILE:
      return _("Profile");
    case MM_ANNOT_RECTANGLE:
      return _("Rectangle");
    case MM_ANNOT_ELLIPSE:
      return _("Ellipse");
    case MM_ANNOT_FREEHAND:
    default:
      return _("Freehand");
    }
}

/* "2 · Rectangle · axial 61 · mean 40.12 HU · SD 3.40 · …": what a row says, and its
 * accessible name. */
static char *
row_text (MmMeasurePanel *self, const MmAnnotation *a)
{
  const MmAnnotationFigures *f = mm_annotation_layer_figures (self->layer, a);
  g_autofree char *head = a->oblique ? g_strdup_printf ("%u · %s · %s", a->id, kind_label (a->kind),
                                                        _("oblique plane"))
                                     : g_strdup_printf ("%u · %s · %s %d", a->id, kind_label (a->kind),
                                                        plane_label (a->plane), a->depth + 1);
  if (f == NULL)
    return g_steal_pointer (&head);
  switch (a->kind)
    {
    case MM_ANNOT_DISTANCE:
    case MM_ANNOT_PROFILE:
      return g_strdup_printf (_("%s · %.2f mm"), head, f->length_mm);
    case MM_ANNOT_ANGLE:
      return isnan (f->angle_deg) ? g_strdup_printf (_("%s · no angle (an arm has no length)"), head)
                                  : g_strdup_printf ("%s · %.2f°", head, f->angle_deg);
    default:
      if (!f->has_stats)
        return g_steal_pointer (&head);
      /* %llu, not G_GUINT64_FORMAT: xgettext cuts a message at a macro. */
      return g_strdup_printf (_("%s · mean %.2f HU · SD %.2f · median %.1f · min %.0f · max %.0f "
                                "· %llu pixels · %.2f mm²"),
                              head, f->stats.mean, f->stats.sd, f->stats.median, f->stats.min,
                              f->stats.max, (unsigned long long) f->stats.count, f->stats.area_mm2);
    }
}

static void
drop_profile (MmMeasurePanel *self)
{
  g_clear_pointer (&self->profile_hu, g_free);
  g_clear_pointer (&self->profile_pos, g_free);
  self->profile_n = 0;
  self->profile_id = 0;
}

static void
update_profile (MmMeasurePanel *self)
{
  drop_profile (self);
  guint id = mm_annotation_layer_get_selected (self->layer);
  MmAnnotation *a = id ? mm_annotation_list_find (mm_annotation_layer_get_list (self->layer), id) : NULL;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (a != NULL && a->kind == MM_ANNOT_PROFILE && vol != NULL)
    {
      mm_annotation_profile (a, vol, &self->profile_n, &self->profile_hu, &self->profile_pos);
      self->profile_id = id;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->profile_area), self->profile_n >= 2);
  gtk_widget_queue_draw (GTK_WIDGET (self->profile_area));
}

static void
fill_rows (MmMeasurePanel *self)
{
  self->filling = true;
  GtkWidget *row;
  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->list_box))) != NULL)
    gtk_list_box_remove (self->list_box, row);
  MmAnnotationList *list = mm_annotation_layer_get_list (self->layer);
  guint selected = mm_annotation_layer_get_selected (self->layer);
  for (guint i = 0; i < list->items->len; i++)
    {
      const MmAnnotation *a = list->items->pdata[i];
      g_autofree char *text = row_text (self, a);
      GtkWidget *label = gtk_label_new (text);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
      gtk_widget_set_margin_start (label, 6);
      gtk_widget_set_margin_end (label, 6);
      gtk_widget_set_margin_top (label, 4);
      gtk_widget_set_margin_bottom (label, 4);
      GtkWidget *r = gtk_list_box_row_new ();
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (r), label);
      gtk_accessible_update_property (GTK_ACCESSIBLE (r), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
      g_object_set_data (G_OBJECT (r), "mm-id", GUINT_TO_POINTER (a->id));
      gtk_list_box_append (self->list_box, r);
      if (a->id == selected)
        gtk_list_box_select_row (self->list_box, GTK_LIST_BOX_ROW (r));
    }
  self->filling = false;
}

static void
layer_changed_cb (MmAnnotationLayer *layer, guint what, MmMeasurePanel *self)
{
  if (what & MM_ANNOTATION_CHANGED_LIST)
    {
      fill_rows (self);
      update_profile (self);
    }
}

static void
row_selected_cb (GtkListBox *box, GtkListBoxRow *row, MmMeasurePanel *self)
{
  if (self->filling || self->layer == NULL)
    return;
  guint id = row ? GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "mm-id")) : 0;
  mm_annotation_layer_select (self->layer, id);
  update_profile (self);
  /* Show the item: its plane goes to its slice (an oblique item shows on its own plane
   * only; the crosshair stays where it is). */
  MmAnnotation *a = id ? mm_annotation_list_find (mm_annotation_layer_get_list (self->layer), id) : NULL;
  if (a != NULL && mm_viewer_get_volume (self->viewer) != NULL
      && !a->oblique && mm_annotation_fits (a, mm_viewer_get_volume (self->viewer)))
    mm_viewer_set_depth (self->viewer, a->plane, a->depth);
}

/* The HU profile: HU up, distance along the line to the right, with its range written. */
static void
profile_draw (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  MmMeasurePanel *self = data;
  if (self->profile_n < 2)
    return;
  double lo = INFINITY, hi = -INFINITY;
  for (int s = 0; s < self->profile_n; s++)
    if (!isnan (self->profile_hu[s]))
      {
        lo = MIN (lo, self->profile_hu[s]);
        hi = MAX (hi, self->profile_hu[s]);
      }
  cairo_set_source_rgb (cr, 0.12, 0.12, 0.12);
  cairo_paint (cr);
  if (!(hi >= lo))
    return;
  if (hi - lo < 1)
    hi = lo + 1;
  const double left = 4, top = 16, bottom = 16;
  double len = self->profile_pos[self->profile_n - 1];
  double pw = w - 2 * left, ph = h - top - bottom;
  cairo_set_source_rgb (cr, 1, 0.95, 0.4);
  cairo_set_line_width (cr, 1.5);
  bool pen = false;
  for (int s = 0; s < self->profile_n; s++)
    {
      if (isnan (self->profile_hu[s]))
        {
          pen = false;
          continue;
        }
      double x = left + (len > 0 ? self->profile_pos[s] / len : 0) * pw;
      double y = top + (1 - (self->profile_hu[s] - lo) / (hi - lo)) * ph;
      if (pen)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      pen = true;
    }
  cairo_stroke (cr);
  cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  g_autofree char *top_text = g_strdup_printf (_("max %.0f HU"), hi);
  g_autofree char *bottom_text = g_strdup_printf (_("min %.0f HU · %.1f mm"), lo, len);
  cairo_move_to (cr, left, 11);
  cairo_show_text (cr, top_text);
  cairo_move_to (cr, left, h - 4);
  cairo_show_text (cr, bottom_text);
}

/* ---- export ---- */

static void
export_response_cb (GtkNativeDialog *chooser, int response, MmMeasurePanel *self)
{
  bool csv = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "mm-csv"));
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT
                               ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser)) : NULL;
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  g_object_unref (chooser);
  if (path != NULL && self->layer != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *msg = mm_annotation_layer_export (self->layer, path, csv, &error)
                                 ? g_strdup_printf (_("Measurements exported to %s"), path)
                                 : g_strdup_printf (_("Measurements not exported: %s"), error->message);
      g_signal_emit (self, message_signal, 0, msg);
    }
  g_object_unref (self);
}

static void
export (MmMeasurePanel *self, bool csv)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      csv ? _("Export the Measurements as CSV") : _("Export the Measurements as JSON"),
      GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
      _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), csv ? "measurements.csv" : "measurements.json");
  g_object_set_data (G_OBJECT (chooser), "mm-csv", GINT_TO_POINTER (csv));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (export_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
export_json_cb (GtkButton *b, MmMeasurePanel *self)
{
  export (self, false);
}

static void
export_csv_cb (GtkButton *b, MmMeasurePanel *self)
{
  export (self, true);
}

/* ---- the mask ---- */

static void
mask_stats_cb (GtkButton *b, MmMeasurePanel *self)
{
  const MmVolume *vol = self->viewer ? mm_viewer_get_volume (self->viewer) : NULL;
  const MmMask *mask = self->viewer ? mm_viewer_get_mask (self->viewer) : NULL;
  if (vol == NULL || mask == NULL)
    {
      gtk_label_set_text (self->mask_stats_label, _("No mask: segment the metal or paint one first."));
      return;
    }
  int label = gtk_spin_button_get_value_as_int (self->component_spin);
  g_autoptr (MmComponents) comps = label > 0 ? mm_components_label (mask, 0) : NULL;
  if (comps != NULL && label > mm_components_count (comps))
    {
      g_autofree char *t = g_strdup_printf (_("The mask has %d components: choose 0 (all) to %d."),
                                            mm_components_count (comps), mm_components_count (comps));
      gtk_label_set_text (self->mask_stats_label, t);
      return;
    }
  MmRoiStats s;
  if (!mm_roi_volume_stats (vol, comps ? NULL : mask, comps, label, &s, 0))
    return;
  g_autofree char *what = label > 0 ? g_strdup_printf (_("Component %d"), label) : g_strdup (_("Mask"));
  g_autofree char *t = g_strdup_printf (_("%s: %llu voxels · %.3f ml · mean %.1f HU · "
                                          "SD %.1f · median %.1f · min %.0f · max %.0f"),
                                        what, (unsigned long long) s.count, s.volume_ml, s.mean, s.sd,
                                        s.median, s.min, s.max);
  gtk_label_set_text (self->mask_stats_label, t);
}

void
mm_measure_panel_mask_changed (MmMeasurePanel *self)
{
  g_return_if_fail (MM_IS_MEASURE_PANEL (self));
  gtk_label_set_text (self->mask_stats_label, "");
}

/* ---- setup ---- */

void
mm_measure_panel_show_tool (MmMeasurePanel *self, MmMeasureTool tool)
{
  GtkToggleButton *buttons[MM_MEASURE_N_TOOLS] = {
    self->tool_pointer, self->tool_distance, self->tool_angle,   self->tool_profile,
    self->tool_ellipse, self->tool_rectangle, self->tool_freehand,
  };
  for (int t = 0; t < MM_MEASURE_N_TOOLS; t++)
    gtk_toggle_button_set_active (buttons[t], t == (int) tool);
}

void
mm_measure_panel_set_layer (MmMeasurePanel *self, MmAnnotationLayer *layer, MmViewer *viewer)
{
  g_return_if_fail (MM_IS_MEASURE_PANEL (self) && MM_IS_ANNOTATION_LAYER (layer));
  /* Weak: the window owns the layer and may drop it before this panel is disposed. */
  g_set_weak_pointer (&self->layer, layer);
  self->viewer = viewer;
  g_signal_connect_object (layer, "changed", G_CALLBACK (layer_changed_cb), self, 0);
  fill_rows (self);
  mm_measure_panel_show_tool (self, mm_annotation_layer_get_tool (layer));
}

static void
mm_measure_panel_dispose (GObject *object)
{
  MmMeasurePanel *self = MM_MEASURE_PANEL (object);
  /* The rows go with the list: their "row-selected" must not reach a layer or a plot that
   * are going too. */
  if (self->list_box)
    g_signal_handlers_disconnect_by_data (self->list_box, self);
  if (self->layer)
    g_signal_handlers_disconnect_by_data (self->layer, self);
  g_clear_weak_pointer (&self->layer);
  gtk_widget_dispose_template (GTK_WIDGET (object), MM_TYPE_MEASURE_PANEL);
  G_OBJECT_CLASS (mm_measure_panel_parent_class)->dispose (object);
}

static void
mm_measure_panel_finalize (GObject *object)
{
  drop_profile (MM_MEASURE_PANEL (object));
  G_OBJECT_CLASS (mm_measure_panel_parent_class)->finalize (object);
}

static void
mm_measure_panel_class_init (MmMeasurePanelClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = mm_measure_panel_dispose;
  oc->finalize = mm_measure_panel_finalize;
  message_signal = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource (wc, "/io/github/metalmark/Metalmark/ui/mm-measure-panel.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (wc, MmMeasurePanel, name)
  CHILD (tool_pointer);
  CHILD (tool_distance);
  CHILD (tool_angle);
  CHILD (tool_profile);
  CHILD (tool_ellipse);
  CHILD (tool_rectangle);
  CHILD (tool_freehand);
  CHILD (list_box);
  CHILD (profile_area);
  CHILD (delete_button);
  CHILD (component_spin);
  CHILD (mask_stats_label);
#undef CHILD
  gtk_widget_class_bind_template_callback (wc, export_json_cb);
  gtk_widget_class_bind_template_callback (wc, export_csv_cb);
  gtk_widget_class_bind_template_callback (wc, mask_stats_cb);
}

static void
unfocus_flow_children (GtkWidget *widget)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      if (GTK_IS_FLOW_BOX_CHILD (c))
        gtk_widget_set_focusable (c, FALSE);
      unfocus_flow_children (c);
    }
}

static void
mm_measure_panel_init (MmMeasurePanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  unfocus_flow_children (GTK_WIDGET (self));
  mm_scroll_guard_attach (GTK_WIDGET (self->component_spin));
  gtk_drawing_area_set_draw_func (self->profile_area, profile_draw, self, NULL);
  g_signal_connect (self->list_box, "row-selected", G_CALLBACK (row_selected_cb), self);
}
