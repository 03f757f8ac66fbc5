/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSeriesPicker: the series browser. One row per series (thumbnail, description, modality,
 * slices, series number, UID), grouped under a header per patient and study; thumbnails
 * arrive from a background task (mm-thumbnailer.h). Clicking a thumbnail opens its series;
 * selecting a row and Open does too. Scouts and dose reports are marked and never
 * preselected. */
#include "mm-series-picker.h"

#include "mm-text.h"
#include "mm-thumbnailer.h"

#include <glib/gi18n.h>

#define THUMB_SIZE 72

struct _MmSeriesPicker
{
  AdwMessageDialog parent_instance;

  /* template widgets */
  GtkListBox *list;

  /* owned */
  GPtrArray *uids;     /* of the rows, in the list's order */
  GPtrArray *pictures; /* GtkPicture * (borrowed from the rows), by report index */
  GPtrArray *names;    /* char *: each series' description as shown, by report index */
  GCancellable *cancellable;
  gint64 start_time;   /* when the folder was opened (monotonic µs); 0: unknown */
  guint n_thumbs;
};

G_DEFINE_FINAL_TYPE (MmSeriesPicker, mm_series_picker, ADW_TYPE_MESSAGE_DIALOG)

enum
{
  SERIES_CHOSEN,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
mm_series_picker_response (AdwMessageDialog *dialog, const char *response)
{
  MmSeriesPicker *self = MM_SERIES_PICKER (dialog);
  if (g_strcmp0 (response, "open") == 0 && self->uids->len > 0)
    {
      GtkListBoxRow *row = gtk_list_box_get_selected_row (self->list);
      int index = row ? gtk_list_box_row_get_index (row) : 0;
      g_signal_emit (self, signals[SERIES_CHOSEN], 0, (const char *) self->uids->pdata[index]);
    }
  AdwMessageDialogClass *parent = ADW_MESSAGE_DIALOG_CLASS (mm_series_picker_parent_class);
  if (parent->response) /* libadwaita 1.2 has no default handler */
    parent->response (dialog, response);
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
  g_clear_pointer (&self->uids, g_ptr_array_unref);
  g_clear_pointer (&self->pictures, g_ptr_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (mm_series_picker_parent_class)->finalize (object);
}

static void
mm_series_picker_class_init (MmSeriesPickerClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = mm_series_picker_dispose;
  G_OBJECT_CLASS (klass)->finalize = mm_series_picker_finalize;
  ADW_MESSAGE_DIALOG_CLASS (klass)->response = mm_series_picker_response;
  /* series-chosen (uid): the user opened the series with this UID */
  signals[SERIES_CHOSEN] = g_signal_new ("series-chosen", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                         G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/metalmark/Metalmark/ui/mm-series-picker.ui");
  gtk_widget_class_bind_template_child (widget_class, MmSeriesPicker, list);
}

static void
mm_series_picker_init (MmSeriesPicker *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->uids = g_ptr_array_new_with_free_func (g_free);
  self->pictures = g_ptr_array_new ();
  self->names = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();
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
group_key (const MmDicomSeriesInfo *info)
{
  return g_strdup_printf ("%s\x1f%s\x1f%s", info->patient_id ? info->patient_id : "",
                          info->patient_name ? info->patient_name : "",
                          info->study_uid ? info->study_uid : "");
}

static char *
group_title (const MmDicomSeriesInfo *info)
{
  g_autofree char *patient = NULL;
  if (info->patient_name && *info->patient_name)
    {
      /* PN: family^given^middle^prefix^suffix, shown with spaces. */
      g_autofree char *pn = g_strdup (info->patient_name);
      g_strdelimit (pn, "^", ' ');
      g_strstrip (pn);
      patient = mm_text_printable (pn);
    }
  else
    patient = g_strdup (_("Unnamed patient"));
  g_autofree char *id = info->patient_id && *info->patient_id
                            ? mm_text_printable (info->patient_id) : NULL;
  g_autofree char *study = info->study_description && *info->study_description
                               ? mm_text_printable (info->study_description)
                               : g_strdup (_("Study"));
  g_autofree char *date = info->study_date && *info->study_date ? format_date (info->study_date)
                                                                 : NULL;
  g_autofree char *who = id ? g_strdup_printf ("%s (%s)", patient, id) : g_strdup (patient);
  return date ? g_strdup_printf ("%s · %s, %s", who, study, date)
              : g_strdup_printf ("%s · %s", who, study);
}

static void
header_cb (GtkListBoxRow *row, GtkListBoxRow *before, gpointer data)
{
  const char *key = g_object_get_data (G_OBJECT (row), "mm-group");
  const char *prev = before ? g_object_get_data (G_OBJECT (before), "mm-group") : NULL;
  if (prev && g_strcmp0 (key, prev) == 0)
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }
  GtkWidget *label = gtk_label_new (g_object_get_data (G_OBJECT (row), "mm-group-title"));
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_set_margin_top (label, before ? 12 : 0);
  gtk_widget_set_margin_bottom (label, 6);
  gtk_list_box_row_set_header (row, label);
}

/* ---- thumbnails ---- */

static void
thumb_clicked_cb (GtkButton *button, MmSeriesPicker *self)
{
  const char *uid = g_object_get_data (G_OBJECT (button), "mm-uid");
  g_signal_emit (self, signals[SERIES_CHOSEN], 0, uid);
  /* adw_message_dialog_response only emits: the response buttons close the dialog, this
   * button must do it itself. */
  gtk_window_close (GTK_WINDOW (self));
}

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

static GtkWidget *
thumbnail_button (MmSeriesPicker *self, const char *desc, const char *uid)
{
  GtkWidget *pic = gtk_picture_new ();
  gtk_picture_set_can_shrink (GTK_PICTURE (pic), TRUE);
  gtk_widget_set_size_request (pic, THUMB_SIZE, THUMB_SIZE);
  g_autofree char *loading = g_strdup_printf (_("Thumbnail of %s (loading)"), desc);
  gtk_accessible_update_property (GTK_ACCESSIBLE (pic), GTK_ACCESSIBLE_PROPERTY_LABEL, loading,
                                  -1);
  g_ptr_array_add (self->pictures, pic);
  GtkWidget *button = gtk_button_new ();
  gtk_button_set_child (GTK_BUTTON (button), pic);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_autofree char *tip = g_strdup_printf (_("Open %s"), desc);
  gtk_widget_set_tooltip_text (button, tip);
  g_object_set_data_full (G_OBJECT (button), "mm-uid", g_strdup (uid), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (thumb_clicked_cb), self);
  return button;
}

/* ---- rows ---- */

static GtkWidget *
series_row (MmSeriesPicker *self, const MmDicomSeriesInfo *info)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *desc = mm_text_printable (info->description ? info->description
                                                               : _("(no description)"));
  g_autofree char *modality = mm_text_printable (info->modality ? info->modality
                                                                : (info->is_ct ? "CT" : "?"));
  g_autofree char *uid = mm_text_printable (info->uid);
  /* Titles are markup by default: the description is text. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), desc);
  g_autofree char *slices = g_strdup_printf (g_dngettext (NULL, "%s · %u slice",
                                                          "%s · %u slices", info->n_files),
                                             modality, info->n_files);
  g_autofree char *number = info->series_number ? mm_text_printable (info->series_number) : NULL;
  g_autofree char *sub = number ? g_strdup_printf (_("%s · series %s · %s"), slices, number, uid)
                                : g_strdup_printf ("%s · %s", slices, uid);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), sub);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), thumbnail_button (self, desc, info->uid));
  const char *kind = is_scout (info) ? _("Scout") : is_dose_report (info) ? _("Dose report")
                                                                           : NULL;
  if (kind)
    {
      GtkWidget *tag = gtk_label_new (kind);
      gtk_widget_add_css_class (tag, "dim-label");
      gtk_widget_add_css_class (tag, "caption");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), tag);
    }
  g_object_set_data_full (G_OBJECT (row), "mm-group", group_key (info), g_free);
  g_object_set_data_full (G_OBJECT (row), "mm-group-title", group_title (info), g_free);
  g_ptr_array_add (self->names, g_steal_pointer (&desc));
  return row;
}

MmSeriesPicker *
mm_series_picker_new (GtkWindow *parent, const MmDicomReport *report, const char *folder)
{
  g_return_val_if_fail (report != NULL && folder != NULL, NULL);
  MmSeriesPicker *self = g_object_new (MM_TYPE_SERIES_PICKER, "transient-for", parent, "modal",
                                       TRUE, NULL);
  g_autofree char *shown = g_filename_display_name (folder);
  g_autofree char *body = g_strdup_printf (_("%u series were found in %s."), report->series->len,
                                           shown);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self), body);
  guint n = report->series->len;
  GtkWidget **rows = g_new0 (GtkWidget *, n);
  for (guint s = 0; s < n; s++)
    rows[s] = series_row (self, report->series->pdata[s]);
  /* Groups in the order of their first series (the reader's order: the largest CT first),
   * each group's series in the reader's order. */
  g_autofree gboolean *placed = g_new0 (gboolean, n);
  guint preselect = G_MAXUINT;
  for (guint s = 0; s < n; s++)
    {
      if (placed[s])
        continue;
      const char *key = g_object_get_data (G_OBJECT (rows[s]), "mm-group");
      for (guint t = s; t < n; t++)
        if (!placed[t] && g_str_equal (key, g_object_get_data (G_OBJECT (rows[t]), "mm-group")))
          {
            placed[t] = TRUE;
            gtk_list_box_append (self->list, rows[t]);
            g_ptr_array_add (self->uids, g_strdup (((MmDicomSeriesInfo *) report->series->pdata[t])->uid));
          }
    }
  /* The first series in the reader's order that is neither a scout nor a dose report. */
  for (guint s = 0; s < n && preselect == G_MAXUINT; s++)
    {
      const MmDicomSeriesInfo *info = report->series->pdata[s];
      if (!is_scout (info) && !is_dose_report (info))
        preselect = s;
    }
  gtk_list_box_set_header_func (self->list, header_cb, NULL, NULL);
  if (n > 0)
    gtk_list_box_select_row (self->list,
                             GTK_LIST_BOX_ROW (rows[preselect == G_MAXUINT ? 0 : preselect]));
  g_free (rows);
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
  for (guint i = 0; uid && i < self->uids->len; i++)
    if (g_str_equal (self->uids->pdata[i], uid))
      gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, (int) i));
}
