/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSeriesPicker: the rows (description, modality, slices, UID) and the chosen series. */
#include "mm-series-picker.h"

#include "mm-text.h"

#include <glib/gi18n.h>

struct _MmSeriesPicker
{
  AdwMessageDialog parent_instance;

  /* template widgets */
  GtkListBox *list;

  /* owned */
  GPtrArray *uids; /* of the rows, in order */
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
mm_series_picker_finalize (GObject *object)
{
  g_clear_pointer (&MM_SERIES_PICKER (object)->uids, g_ptr_array_unref);
  G_OBJECT_CLASS (mm_series_picker_parent_class)->finalize (object);
}

static void
mm_series_picker_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), MM_TYPE_SERIES_PICKER);
  G_OBJECT_CLASS (mm_series_picker_parent_class)->dispose (object);
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
}

MmSeriesPicker *
mm_series_picker_new (GtkWindow *parent, const MmDicomReport *report, const char *folder)
{
  g_return_val_if_fail (report != NULL && folder != NULL, NULL);
  MmSeriesPicker *self = g_object_new (MM_TYPE_SERIES_PICKER, "transient-for", parent, "modal",
                                       TRUE, NULL);
  g_autofree char *body = g_strdup_printf (_("%u series were found in %s."), report->series->len,
                                           folder);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self), body);
  for (guint s = 0; s < report->series->len; s++)
    {
      const MmDicomSeriesInfo *info = report->series->pdata[s];
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *desc = mm_text_printable (info->description ? info->description
                                                                   : _("(no description)"));
      g_autofree char *modality = mm_text_printable (info->modality ? info->modality
                                                                    : (info->is_ct ? "CT" : "?"));
      g_autofree char *uid = mm_text_printable (info->uid);
      /* Titles are markup by default: the description is text. */
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), desc);
      g_autofree char *sub = g_strdup_printf (g_dngettext (NULL, "%s · %u slice · %s",
                                                           "%s · %u slices · %s", info->n_files),
                                              modality, info->n_files, uid);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), sub);
      gtk_list_box_append (self->list, row);
      g_ptr_array_add (self->uids, g_strdup (info->uid));
    }
  gtk_list_box_select_row (self->list, gtk_list_box_get_row_at_index (self->list, 0));
  return self;
}
