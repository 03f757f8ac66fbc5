/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The window's metadata panel: the series' figures as label pairs, the reader's warnings,
 * and "Copy as Text". */
#include "mm-window-private.h"

#include "mm-info.h"
#include "mm-text.h"

#include <glib/gi18n.h>

void
mm_window_metadata_fill (MmWindow *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->metadata_grid))))
    gtk_grid_remove (self->metadata_grid, child);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  const MmStats *st = mm_viewer_get_stats (self->viewer);
  const MmDicomReport *rep = mm_viewer_get_report (self->viewer);
  if (vol == NULL)
    return;
  g_autoptr (GPtrArray) rows = mm_info_rows (vol, st);
  guint n = 0;
  for (; n < rows->len; n++)
    {
      const MmInfoRow *row = rows->pdata[n];
      GtkWidget *label = gtk_label_new (row->label);
      GtkWidget *value = gtk_label_new (row->value);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_yalign (GTK_LABEL (label), 0);
      gtk_label_set_xalign (GTK_LABEL (value), 0);
      gtk_label_set_wrap (GTK_LABEL (value), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (value), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_selectable (GTK_LABEL (value), TRUE);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_add_css_class (value, "numeric");
      gtk_widget_set_hexpand (value, TRUE);
      gtk_grid_attach (self->metadata_grid, label, 0, n, 1, 1);
      gtk_grid_attach (self->metadata_grid, value, 1, n, 1, 1);
    }
  if (rep)
    {
      g_autofree char *files = g_strdup_printf (_("%u read, %u skipped"), rep->files_read,
                                                rep->files_skipped);
      GtkWidget *label = gtk_label_new (_("Files"));
      GtkWidget *value = gtk_label_new (files);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_xalign (GTK_LABEL (value), 0);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_grid_attach (self->metadata_grid, label, 0, n, 1, 1);
      gtk_grid_attach (self->metadata_grid, value, 1, n, 1, 1);

      GString *w = g_string_new (NULL);
      for (guint i = 0; i < rep->warnings->len; i++)
        {
          g_autofree char *line = mm_text_printable (rep->warnings->pdata[i]);
          g_string_append_printf (w, "%s%s", i ? "\n" : "", line);
        }
      gtk_label_set_text (self->warnings_label, w->str);
      g_autofree char *title = g_strdup_printf (g_dngettext (NULL, "%u warning", "%u warnings",
                                                             rep->warnings->len),
                                                rep->warnings->len);
      gtk_expander_set_label (self->warnings_expander, title);
      gtk_widget_set_visible (GTK_WIDGET (self->warnings_expander), rep->warnings->len > 0);
      g_string_free (w, TRUE);
    }
}

static void
copy_info_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    return;
  g_autofree char *text = mm_info_format_text (vol, mm_viewer_get_stats (self->viewer));
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), text);
  mm_window_toast (self, _("Copied the series figures"));
}

void
mm_window_metadata_class_init (GtkWidgetClass *klass)
{
  gtk_widget_class_install_action (klass, "win.copy-info", NULL, copy_info_action);
}
