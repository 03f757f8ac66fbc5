/* SPDX-License-Identifier: GPL-3.0-or-later */
/* "Send Mask to PACS…" (Ctrl+Shift+E): the current mask as a DICOM SEG (the export's
 * writer, mm_dicom_write_seg, referencing the open series) sent with STOW-RS or C-STORE to
 * a server of Preferences, in a thread; the server's answer in one line in a toast. */
#include "mm-window-private.h"

#include "mm-dicom.h"
#include "mm-pacs-servers.h"
#include "mm-text.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

typedef struct
{
  MmMask *mask;        /* a copy: editing goes on while sending */
  MmVolume *vol;       /* a copy of the header (the SEG needs no voxels): the shown series
                        * may be replaced while sending */
  MmPacsConn *conn;
} SendData;

static void
send_data_free (SendData *d)
{
  mm_mask_free (d->mask);
  mm_volume_free (d->vol);
  mm_pacs_conn_free (d->conn);
  g_free (d);
}

static void
send_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  SendData *d = task_data;
  GError *err = NULL;
  /* The SEG goes through a private temporary folder, removed whatever happens. */
  g_autofree char *dir = g_dir_make_tmp ("metalmark-send-XXXXXX", &err);
  if (dir == NULL)
    {
      g_task_return_error (task, err);
      return;
    }
  g_autofree char *seg = g_build_filename (dir, "seg.dcm", NULL);
  char *msg = NULL;
  if (mm_dicom_write_seg (seg, d->mask, d->vol, &err))
    {
      const char *files[] = { seg, NULL };
      MmPacsStowResult r;
      if (mm_pacs_conn_send (d->conn, files, &r, cancellable, &err))
        {
          msg = mm_pacs_conn_send_summary (d->conn, &r);
          mm_pacs_stow_result_clear (&r);
        }
    }
  g_unlink (seg);
  g_rmdir (dir);
  if (msg)
    g_task_return_pointer (task, msg, g_free);
  else
    g_task_return_error (task, err);
}

static void
send_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = MM_WINDOW (user_data);
  g_autoptr (GError) err = NULL;
  g_autofree char *msg = g_task_propagate_pointer (G_TASK (result), &err);
  mm_window_set_progress (self, NULL, 0);
  g_autofree char *line = mm_text_printable (msg ? msg : err->message);
  mm_window_toast (self, line);
  g_object_set_data (G_OBJECT (self), "mm-pacs-sending", NULL);
  g_object_unref (self);
}

static void
send_response (AdwMessageDialog *dialog, const char *response, MmWindow *self)
{
  GtkDropDown *drop = g_object_get_data (G_OBJECT (dialog), "mm-drop");
  GPtrArray *entries = g_object_get_data (G_OBJECT (dialog), "mm-entries");
  guint i = gtk_drop_down_get_selected (drop);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  const MmMask *mask = mm_viewer_get_mask (self->viewer);
  if (!g_str_equal (response, "send") || i >= entries->len || vol == NULL || mask == NULL
      || g_object_get_data (G_OBJECT (self), "mm-pacs-sending"))
    return;
  const MmPacsEntry *e = entries->pdata[i];
  if (self->settings && !e->from_env)
    g_settings_set_string (self->settings, "pacs-server", e->name);
  g_autoptr (GError) err = NULL;
  MmPacsConn *conn = mm_pacs_entry_connect (e, NULL, &err);
  if (conn == NULL)
    {
      mm_window_toast (self, err->message);
      return;
    }
  mm_mask_session_save_now (self->session);
  SendData *d = g_new0 (SendData, 1);
  d->mask = mm_mask_copy (mask);
  d->vol = mm_volume_copy_header (vol);
  d->conn = conn;
  g_autofree char *name = mm_pacs_conn_name (conn);
  g_autofree char *text = g_strdup_printf (_("Sending the mask as DICOM SEG to %s"), name);
  mm_window_set_progress (self, text, 0.0);
  g_object_set_data (G_OBJECT (self), "mm-pacs-sending", GINT_TO_POINTER (1));
  g_autoptr (GTask) task = g_task_new (NULL, NULL, send_done, g_object_ref (self));
  g_task_set_task_data (task, d, (GDestroyNotify) send_data_free);
  g_task_run_in_thread (task, send_thread);
}

static void
send_pacs_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  if (mm_viewer_get_mask (self->viewer) == NULL)
    {
      mm_window_toast (self, _("No mask to send: segment the metal or paint one first"));
      return;
    }
  GPtrArray *entries = mm_pacs_servers_load (self->settings);
  if (entries->len == 0)
    {
      g_ptr_array_unref (entries);
      mm_window_toast (self, _("No PACS server: add one in Preferences (Ctrl+comma), PACS page."));
      return;
    }
  GtkStringList *model = gtk_string_list_new (NULL);
  for (guint i = 0; i < entries->len; i++)
    {
      g_autofree char *label = mm_pacs_entry_label (entries->pdata[i]);
      g_autofree char *printable = mm_text_printable (label);
      gtk_string_list_append (model, printable);
    }
  GtkWidget *drop = gtk_drop_down_new (G_LIST_MODEL (model), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (drop), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Server"), -1);
  g_autofree char *last = self->settings ? g_settings_get_string (self->settings, "pacs-server")
                                         : NULL;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (drop), mm_pacs_servers_find (entries, last));
  GtkWidget *dialog = adw_message_dialog_new (
      GTK_WINDOW (self), _("Send Mask to PACS"),
      _("The metal mask is sent as a DICOM Segmentation of the open series."));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), drop);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "send",
                                    _("_Send"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "send",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "send");
  g_object_set_data (G_OBJECT (dialog), "mm-drop", drop);
  g_object_set_data_full (G_OBJECT (dialog), "mm-entries", entries,
                          (GDestroyNotify) g_ptr_array_unref);
  g_signal_connect (dialog, "response", G_CALLBACK (send_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
mm_window_pacs_class_init (GtkWidgetClass *klass)
{
  gtk_widget_class_install_action (klass, "win.send-pacs", NULL, send_pacs_action);
  GtkShortcut *s = gtk_shortcut_new (
      gtk_keyval_trigger_new (GDK_KEY_e, GDK_CONTROL_MASK | GDK_SHIFT_MASK),
      gtk_named_action_new ("win.send-pacs"));
  gtk_widget_class_add_shortcut (klass, s);
  g_object_unref (s);
}
