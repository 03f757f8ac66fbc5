/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSeriesPicker: the series browser. A resizable window (its size kept in GSettings) with a
 * header per patient, under it a header per study (description, date) and a grid of tiles,
 * one per series: thumbnail, description, modality and slices, scouts and dose reports marked
 * and never preselected. Thumbnails arrive from a background task (mm-thumbnailer.h). One
 * series is selected across all grids; a double-click or Enter on a tile, or Open, opens it.
 * The arrow keys move over all grids as one. */
#include "mm-series-picker.h"

#include "mm-text.h"
#include "mm-thumbnailer.h"

#include <glib/gi18n.h>
#include <math.h>

#define APP_ID "io.github.metalmark.Metalmark"
#define THUMB_SIZE 128

struct _MmSeriesPicker
{
  AdwWindow parent_instance;

  /* template widgets */
  AdwWindowTitle *title;
  GtkButton *open_button;
  GtkBox *groups;

  /* owned */
  GPtrArray *tiles;    /* GtkFlowBoxChild * (borrowed from the grids), by report index */
  GPtrArray *boxes;    /* GtkFlowBox * (borrowed), one per study, top to bottom */
  GPtrArray *pictures; /* GtkPicture * (borrowed), by report index */
  GPtrArray *names;    /* char *: each series' description as shown, by report index */
  GSettings *settings; /* NULL when the schema is not installed */
  GCancellable *cancellable;
  gint64 start_time;   /* when the folder was opened (monotonic µs); 0: unknown */
  guint n_thumbs;
  bool syncing;        /* clearing the other grids' selection */
};

G_DEFINE_FINAL_TYPE (MmSeriesPicker, mm_series_picker, ADW_TYPE_WINDOW)

enum
{
  SERIES_CHOSEN,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* ---- opening ---- */

static GtkFlowBoxChild *
selected_tile (MmSeriesPicker *self)
{
  for (guint b = 0; b < self->boxes->len; b++)
    {
      GList *sel = gtk_flow_box_get_selected_children (self->boxes->pdata[b]);
      GtkFlowBoxChild *child = sel ? sel->data : NULL;
      g_list_free (sel);
      if (child)
        return child;
    }
  return NULL;
}

static void
choose (MmSeriesPicker *self, GtkFlowBoxChild *child)
{
  const char *uid = child ? g_object_get_data (G_OBJECT (child), "mm-uid") : NULL;
  if (uid == NULL)
    return;
  g_signal_emit (self, signals[SERIES_CHOSEN], 0, uid);
  gtk_window_close (GTK_WINDOW (self));
}

static void
open_clicked_cb (GtkButton *button, MmSeriesPicker *self)
{
  choose (self, selected_tile (self));
}

static void
child_activated_cb (GtkFlowBox *box, GtkFlowBoxChild *child, MmSeriesPicker *self)
{
  choose (self, child);
}

/* One selection across the grids; AT-SPI hears which tile is selected. */
static void
selection_changed_cb (GtkFlowBox *box, MmSeriesPicker *self)
{
  if (self->syncing)
    return;
  GList *sel = gtk_flow_box_get_selected_children (box);
  self->syncing = true;
  if (sel)
    for (guint b = 0; b < self->boxes->len; b++)
      if (self->boxes->pdata[b] != box)
        gtk_flow_box_unselect_all (self->boxes->pdata[b]);
  self->syncing = false;
  g_list_free (sel);
  for (guint i = 0; i < self->tiles->len; i++)
    {
      GtkFlowBoxChild *c = self->tiles->pdata[i];
      gtk_accessible_update_state (GTK_ACCESSIBLE (c), GTK_ACCESSIBLE_STATE_SELECTED,
                                   gtk_flow_box_child_is_selected (c), -1);
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self->open_button), selected_tile (self) != NULL);
}

static void
select_tile (MmSeriesPicker *self, GtkFlowBoxChild *child, bool focus)
{
  GtkWidget *box = gtk_widget_get_parent (GTK_WIDGET (child));
  gtk_flow_box_select_child (GTK_FLOW_BOX (box), child);
  if (focus)
    gtk_widget_grab_focus (GTK_WIDGET (child));
  else
    gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (child));
}

/* The tile the focus is in, NULL when it is elsewhere (the buttons). */
static GtkWidget *
focused_tile (MmSeriesPicker *self)
{
  GtkWidget *f = gtk_window_get_focus (GTK_WINDOW (self));
  return f ? gtk_widget_get_ancestor (f, GTK_TYPE_FLOW_BOX_CHILD) : NULL;
}

/* The arrow keys over all grids as one: Left/Right to the previous/next tile in reading
 * order (on into the next study's grid), Up/Down to the nearest tile in the row above or
 * below (in whichever grid it lies), Home/End to the first/last; Enter opens. GtkFlowBox's
 * own keys stop at its grid's edge and move a cursor that a selection made in code does not
 * set. */
static gboolean
key_pressed_cb (GtkEventControllerKey *key, guint keyval, guint keycode, GdkModifierType state,
                MmSeriesPicker *self)
{
  GtkWidget *cur = focused_tile (self);
  guint n = self->tiles->len, at = 0;
  if (cur == NULL || n == 0 || (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK)))
    return FALSE;
  /* Reading order: grids top to bottom, each grid's children in order. */
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  for (guint b = 0; b < self->boxes->len; b++)
    for (GtkWidget *c = gtk_widget_get_first_child (self->boxes->pdata[b]); c;
         c = gtk_widget_get_next_sibling (c))
      if (GTK_IS_FLOW_BOX_CHILD (c))
        g_ptr_array_add (order, c);
  if (!g_ptr_array_find (order, cur, &at))
    return FALSE;
  GtkWidget *next = NULL;
  switch (keyval)
    {
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      choose (self, GTK_FLOW_BOX_CHILD (cur));
      return TRUE;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      next = at + 1 < order->len ? order->pdata[at + 1] : NULL;
      break;
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      next = at > 0 ? order->pdata[at - 1] : NULL;
      break;
    case GDK_KEY_Home:
      next = order->pdata[0];
      break;
    case GDK_KEY_End:
      next = order->pdata[order->len - 1];
      break;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      {
        bool down = keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down;
        graphene_point_t p0, p;
        if (!gtk_widget_compute_point (cur, GTK_WIDGET (self->groups), &GRAPHENE_POINT_INIT (0, 0), &p0))
          return FALSE;
        /* The next row: the nearest y beyond the current one; in it, the nearest x. */
        double best_dy = G_MAXDOUBLE, best_dx = G_MAXDOUBLE;
        for (guint i = 0; i < order->len; i++)
          {
            if (!gtk_widget_compute_point (order->pdata[i], GTK_WIDGET (self->groups),
                                           &GRAPHENE_POINT_INIT (0, 0), &p))
              continue;
            double dy = down ? p.y - p0.y : p0.y - p.y, dx = fabs (p.x - p0.x);
            if (dy < 1)
              continue;
            if (dy < best_dy - 1 || (fabs (dy - best_dy) <= 1 && dx < best_dx))
              best_dy = dy, best_dx = dx, next = order->pdata[i];
          }
        break;
      }
    default:
      return FALSE;
    }
  if (next)
    select_tile (self, GTK_FLOW_BOX_CHILD (next), true);
  return TRUE; /* at an edge: stay, rather than leave the grid for the buttons */
}

/* ---- life ---- */

static gboolean
mm_series_picker_close_request (GtkWindow *window)
{
  MmSeriesPicker *self = MM_SERIES_PICKER (window);
  if (self->settings && !gtk_window_is_maximized (window))
    {
      int w, h;
      gtk_window_get_default_size (window, &w, &h);
      if (w > 0 && h > 0)
        {
          g_settings_set_int (self->settings, "series-browser-width", w);
          g_settings_set_int (self->settings, "series-browser-height", h);
        }
    }
  return GTK_WINDOW_CLASS (mm_series_picker_parent_class)->close_request (window);
}

static void
mm_series_picker_dispose (GObject *object)
{
  MmSeriesPicker *self = MM_SERIES_PICKER (object);
  /* No thumbnail is delivered after this (the thumbnailer checks on the main thread). */
  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (object), MM_TYPE_SERIES_PICKER);
  G_OBJECT_CLASS (mm_series_picker_parent_class)->dispose (object);
}

static void
mm_series_picker_finalize (GObject *object)
{
  MmSeriesPicker *self = MM_SERIES_PICKER (object);
  g_clear_pointer (&self->tiles, g_ptr_array_unref);
  g_clear_pointer (&self->boxes, g_ptr_array_unref);
  g_clear_pointer (&self->pictures, g_ptr_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (mm_series_picker_parent_class)->finalize (object);
}

static void
mm_series_picker_class_init (MmSeriesPickerClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = mm_series_picker_dispose;
  G_OBJECT_CLASS (klass)->finalize = mm_series_picker_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = mm_series_picker_close_request;
  /* series-chosen (uid): the user opened the series with this UID */
  signals[SERIES_CHOSEN] = g_signal_new ("series-chosen", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                         G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/metalmark/Metalmark/ui/mm-series-picker.ui");
  gtk_widget_class_bind_template_child (widget_class, MmSeriesPicker, title);
  gtk_widget_class_bind_template_child (widget_class, MmSeriesPicker, open_button);
  gtk_widget_class_bind_template_child (widget_class, MmSeriesPicker, groups);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
mm_series_picker_init (MmSeriesPicker *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->tiles = g_ptr_array_new ();
  self->boxes = g_ptr_array_new ();
  self->pictures = g_ptr_array_new ();
  self->names = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = source ? g_settings_schema_source_lookup (source, APP_ID, TRUE)
                                              : NULL;
  /* An older installed schema may lack the keys: then the size is not kept. */
  if (schema && g_settings_schema_has_key (schema, "series-browser-width"))
    self->settings = g_settings_new (APP_ID);
  int w = self->settings ? g_settings_get_int (self->settings, "series-browser-width") : 1000;
  int h = self->settings ? g_settings_get_int (self->settings, "series-browser-height") : 680;
  gtk_window_set_default_size (GTK_WINDOW (self), CLAMP (w, 420, 8192), CLAMP (h, 320, 8192));
  g_signal_connect (self->open_button, "clicked", G_CALLBACK (open_clicked_cb), self);
  GtkEventController *keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
}

/* ---- what a series is ---- */

static bool
contains_word (const char *s, const char *word)
{
  if (s == NULL)
    return false;
  g_autofree char *lower = g_ascii_strdown (s, -1);
  return strstr (lower, word) != NULL;
}

/* A scout / localizer: Image Type (0008,0008) says LOCALIZER, or the description names one. */
static bool
is_scout (const MmDicomSeriesInfo *info)
{
  return contains_word (info->image_type, "localizer") || contains_word (info->description, "scout")
         || contains_word (info->description, "localizer")
         || contains_word (info->description, "topogram")
         || contains_word (info->description, "surview");
}

/* A dose report stored as an image (a screen capture of the scanner's dose page). */
static bool
is_dose_report (const MmDicomSeriesInfo *info)
{
  return contains_word (info->description, "dose") || contains_word (info->image_type, "dose");
}

/* "2026-12-05" from DA "20261205"; anything else as it is. */
static char *
format_date (const char *da)
{
  if (da && strlen (da) == 8 && strspn (da, "0123456789") == 8)
    return g_strdup_printf ("%.4s-%.2s-%.2s", da, da + 4, da + 6);
  return mm_text_printable (da);
}

static char *
patient_key (const MmDicomSeriesInfo *info)
{
  return g_strdup_printf ("%s\x1f%s", info->patient_id ? info->patient_id : "",
                          info->patient_name ? info->patient_name : "");
}

static char *
study_key (const MmDicomSeriesInfo *info)
{
  g_autofree char *p = patient_key (info);
  return g_strdup_printf ("%s\x1f%s", p, info->study_uid ? info->study_uid : "");
}

/* "Doe Anna (ANNA)": PN family^given^middle^prefix^suffix shown with spaces, and the ID. */
static char *
patient_title (const MmDicomSeriesInfo *info)
{
  g_autofree char *patient = NULL;
  if (info->patient_name && *info->patient_name)
    {
      g_autofree char *pn = g_strdup (info->patient_name);
      g_strdelimit (pn, "^", ' ');
      g_strstrip (pn);
      patient = mm_text_printable (pn);
    }
  else
    patient = g_strdup (_("Unnamed patient"));
  g_autofree char *id = info->patient_id && *info->patient_id
                            ? mm_text_printable (info->patient_id) : NULL;
  return id ? g_strdup_printf ("%s (%s)", patient, id) : g_steal_pointer (&patient);
}

/* "Study of Anna, 2026-01-02" */
static char *
study_title (const MmDicomSeriesInfo *info)
{
  g_autofree char *study = info->study_description && *info->study_description
                               ? mm_text_printable (info->study_description)
                               : g_strdup (_("Study"));
  g_autofree char *date = info->study_date && *info->study_date ? format_date (info->study_date)
                                                                 : NULL;
  return date ? g_strdup_printf ("%s, %s", study, date) : g_steal_pointer (&study);
}

static GtkWidget *
header_label (const char *text, const char *css, int margin_top)
{
  GtkWidget *label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, css);
  gtk_widget_set_margin_top (label, margin_top);
  return label;
}

/* ---- thumbnails ---- */

static void
thumbnail_cb (guint index, GdkTexture *texture, gpointer data)
{
  MmSeriesPicker *self = data;
  if (index >= self->pictures->len)
    return;
  GtkPicture *pic = self->pictures->pdata[index];
  const char *desc = self->names->pdata[index];
  g_autofree char *label = NULL;
  if (texture)
    {
      gtk_picture_set_paintable (pic, GDK_PAINTABLE (texture));
      label = g_strdup_printf (_("Thumbnail of %s"), desc);
    }
  else
    label = g_strdup_printf (_("Thumbnail of %s (not readable)"), desc);
  gtk_accessible_update_property (GTK_ACCESSIBLE (pic), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  self->n_thumbs++;
  if (self->n_thumbs == 1 || self->n_thumbs == self->pictures->len)
    if (self->start_time > 0 && g_getenv ("MM_BENCH_THUMBNAILS"))
      g_printerr ("metalmark: thumbnails: %u of %u after %.1f ms\n", self->n_thumbs,
                  self->pictures->len, (g_get_monotonic_time () - self->start_time) / 1000.0);
}

/* ---- tiles ---- */

static GtkWidget *
series_tile (MmSeriesPicker *self, const MmDicomSeriesInfo *info)
{
  g_autofree char *desc = mm_text_printable (info->description ? info->description
                                                               : _("(no description)"));
  g_autofree char *modality = mm_text_printable (info->modality ? info->modality
                                                                : (info->is_ct ? "CT" : "?"));
  g_autofree char *uid = mm_text_printable (info->uid);
  g_autofree char *slices = g_strdup_printf (g_dngettext (NULL, "%s · %u slice",
                                                          "%s · %u slices", info->n_files),
                                             modality, info->n_files);
  const char *kind = is_scout (info) ? _("Scout") : is_dose_report (info) ? _("Dose report")
                                                                           : NULL;

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *pic = gtk_picture_new ();
  gtk_picture_set_can_shrink (GTK_PICTURE (pic), TRUE);
  gtk_widget_set_size_request (pic, THUMB_SIZE, THUMB_SIZE);
  g_autofree char *loading = g_strdup_printf (_("Thumbnail of %s (loading)"), desc);
  gtk_accessible_update_property (GTK_ACCESSIBLE (pic), GTK_ACCESSIBLE_PROPERTY_LABEL, loading,
                                  -1);
  /* In a horizontal box: a vertical one would give the picture the tile's width and scale it
   * up; this way it keeps the thumbnail's size, pixel for pixel. */
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_set_halign (frame, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (frame), pic);
  gtk_box_append (GTK_BOX (box), frame);
  g_ptr_array_add (self->pictures, pic);

  GtkWidget *name = gtk_label_new (desc);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (name), 16);
  gtk_label_set_width_chars (GTK_LABEL (name), 16);
  gtk_box_append (GTK_BOX (box), name);
  GtkWidget *count = gtk_label_new (slices);
  gtk_widget_add_css_class (count, "dim-label");
  gtk_widget_add_css_class (count, "caption");
  gtk_box_append (GTK_BOX (box), count);
  if (kind)
    {
      GtkWidget *tag = gtk_label_new (kind);
      gtk_widget_add_css_class (tag, "series-kind");
      gtk_box_append (GTK_BOX (box), tag);
    }

  GtkWidget *child = gtk_flow_box_child_new ();
  gtk_flow_box_child_set_child (GTK_FLOW_BOX_CHILD (child), box);
  gtk_widget_add_css_class (child, "series-tile");
  g_autofree char *number = info->series_number ? mm_text_printable (info->series_number) : NULL;
  g_autofree char *tip = number ? g_strdup_printf (_("%s · series %s · %s"), slices, number, uid)
                                : g_strdup_printf ("%s · %s", slices, uid);
  g_autofree char *full_tip = g_strdup_printf ("%s\n%s", desc, tip);
  gtk_widget_set_tooltip_text (child, full_tip);
  g_autofree char *a11y = kind ? g_strdup_printf ("%s, %s, %s", desc, slices, kind)
                               : g_strdup_printf ("%s, %s", desc, slices);
  gtk_accessible_update_property (GTK_ACCESSIBLE (child), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y,
                                  -1);
  g_object_set_data_full (G_OBJECT (child), "mm-uid", g_strdup (info->uid), g_free);
  g_ptr_array_add (self->names, g_steal_pointer (&desc));
  return child;
}

static GtkFlowBox *
study_grid (MmSeriesPicker *self)
{
  GtkWidget *box = gtk_flow_box_new ();
  GtkFlowBox *fb = GTK_FLOW_BOX (box);
  gtk_flow_box_set_selection_mode (fb, GTK_SELECTION_SINGLE);
  gtk_flow_box_set_activate_on_single_click (fb, FALSE);
  gtk_flow_box_set_homogeneous (fb, TRUE);
  gtk_flow_box_set_min_children_per_line (fb, 1);
  gtk_flow_box_set_max_children_per_line (fb, 24);
  gtk_flow_box_set_column_spacing (fb, 6);
  gtk_flow_box_set_row_spacing (fb, 6);
  gtk_widget_set_valign (box, GTK_ALIGN_START);
  g_signal_connect (box, "child-activated", G_CALLBACK (child_activated_cb), self);
  g_signal_connect (box, "selected-children-changed", G_CALLBACK (selection_changed_cb), self);
  g_ptr_array_add (self->boxes, box);
  return fb;
}

MmSeriesPicker *
mm_series_picker_new (GtkWindow *parent, const MmDicomReport *report, const char *folder)
{
  g_return_val_if_fail (report != NULL && folder != NULL, NULL);
  MmSeriesPicker *self = g_object_new (MM_TYPE_SERIES_PICKER, "transient-for", parent, NULL);
  g_autofree char *shown = g_filename_display_name (folder);
  g_autofree char *body = g_strdup_printf (_("%u series were found in %s."), report->series->len,
                                           shown);
  adw_window_title_set_subtitle (self->title, body);
  guint n = report->series->len;
  for (guint s = 0; s < n; s++)
    g_ptr_array_add (self->tiles, series_tile (self, report->series->pdata[s]));
  /* Patients in the order of their first series (the reader's order: the largest CT first),
   * their studies likewise, each study's series in the reader's order. */
  g_autofree gboolean *placed = g_new0 (gboolean, n);
  for (guint s = 0; s < n; s++)
    {
      const MmDicomSeriesInfo *info = report->series->pdata[s];
      if (placed[s])
        continue;
      g_autofree char *pk = patient_key (info);
      g_autofree char *ptitle = patient_title (info);
      gtk_box_append (self->groups, header_label (ptitle, "title-3", s ? 18 : 0));
      for (guint t = s; t < n; t++)
        {
          const MmDicomSeriesInfo *st = report->series->pdata[t];
          g_autofree char *tpk = patient_key (st);
          if (placed[t] || !g_str_equal (pk, tpk))
            continue;
          g_autofree char *sk = study_key (st);
          g_autofree char *stitle = study_title (st);
          gtk_box_append (self->groups, header_label (stitle, "heading", 6));
          GtkFlowBox *grid = study_grid (self);
          for (guint u = t; u < n; u++)
            {
              g_autofree char *uk = study_key (report->series->pdata[u]);
              if (!placed[u] && g_str_equal (sk, uk))
                {
                  placed[u] = TRUE;
                  gtk_flow_box_append (grid, self->tiles->pdata[u]);
                }
            }
          gtk_box_append (self->groups, GTK_WIDGET (grid));
        }
    }
  /* The first series in the reader's order that is neither a scout nor a dose report. */
  guint preselect = 0;
  for (guint s = 0; s < n; s++)
    {
      const MmDicomSeriesInfo *info = report->series->pdata[s];
      if (!is_scout (info) && !is_dose_report (info))
        {
          preselect = s;
          break;
        }
    }
  if (n > 0)
    select_tile (self, self->tiles->pdata[preselect], false);
  gtk_widget_set_sensitive (GTK_WIDGET (self->open_button), n > 0);
  mm_thumbnailer_start (report, THUMB_SIZE, self->cancellable, thumbnail_cb, NULL, self);
  return self;
}

void
mm_series_picker_set_start_time (MmSeriesPicker *self, gint64 start_time)
{
  g_return_if_fail (MM_IS_SERIES_PICKER (self));
  self->start_time = start_time;
}

void
mm_series_picker_select (MmSeriesPicker *self, const char *uid)
{
  g_return_if_fail (MM_IS_SERIES_PICKER (self));
  for (guint i = 0; uid && i < self->tiles->len; i++)
    if (g_strcmp0 (g_object_get_data (G_OBJECT (self->tiles->pdata[i]), "mm-uid"), uid) == 0)
      select_tile (self, self->tiles->pdata[i], false);
}
