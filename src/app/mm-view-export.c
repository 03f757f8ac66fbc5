/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A slice view to PNG and to the clipboard, through mm_slice_view_render_texture. */
#include "mm-view-export.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

GdkTexture *
mm_view_export_texture (MmSliceView *view, bool overlays)
{
  GtkWidget *widget = GTK_WIDGET (view);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  GtkNative *native = gtk_widget_get_native (widget);
  if (w <= 0 || h <= 0 || native == NULL)
    return NULL;
  /* The view drawn again into a snapshot of its own, at its size in logical pixels, as it
   * is on screen (or without texts, crosshair and handles); never the handles, which follow
   * the pointer. */
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  mm_slice_view_set_bare (view, !overlays);
  mm_slice_view_set_handles_hidden (view, true);
  GTK_WIDGET_GET_CLASS (widget)->snapshot (widget, snapshot);
  mm_slice_view_set_bare (view, false);
  mm_slice_view_set_handles_hidden (view, false);
  g_autoptr (GskRenderNode) node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    return NULL;
  return gsk_renderer_render_texture (gtk_native_get_renderer (native), node,
                                      &GRAPHENE_RECT_INIT (0, 0, w, h));
}

bool
mm_view_export_save_png (MmSliceView *view, bool overlays, const char *path, GError **error)
{
  g_autoptr (GdkTexture) tex = mm_view_export_texture (view, overlays);
  if (tex == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("%s: there is no image to save yet"),
                   path);
      return false;
    }
  /* Written beside the target and renamed, so a failed write leaves no half file. */
  g_autofree char *tmp = g_strdup_printf ("%s.part", path);
  if (!gdk_texture_save_to_png (tex, tmp))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("%s: cannot write the PNG (is the folder writable and the disk not full?)"),
                   path);
      g_unlink (tmp);
      return false;
    }
  if (g_rename (tmp, path) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("%s: cannot rename the PNG into place"),
                   path);
      g_unlink (tmp);
      return false;
    }
  return true;
}

typedef struct
{
  MmSliceView *view;
  bool overlays;
  MmViewExportDone done;
  gpointer data;
} SaveJob;

static void
save_response_cb (GtkNativeDialog *dialog, int response, SaveJob *job)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      GtkFileChooser *chooser = GTK_FILE_CHOOSER (dialog);
      g_autoptr (GFile) file = gtk_file_chooser_get_file (chooser);
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      bool overlays = job->overlays;
      g_autoptr (GError) err = NULL;
      if (path == NULL)
        err = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, _("Choose a local file to save to"));
      else if (!g_str_has_suffix (path, ".png") && !g_str_has_suffix (path, ".PNG"))
        {
          char *with = g_strconcat (path, ".png", NULL);
          g_free (path);
          path = with;
        }
      if (err == NULL)
        mm_view_export_save_png (job->view, overlays, path, &err);
      if (job->done)
        job->done (job->data, err ? NULL : path, err ? err->message : NULL);
    }
  else if (job->done)
    job->done (job->data, NULL, NULL); /* cancelled */
  g_object_unref (job->view);
  g_free (job);
  g_object_unref (dialog);
}

void
mm_view_export_save_dialog (GtkWindow *parent, MmSliceView *view, bool overlays,
                            MmViewExportDone done, gpointer data)
{
  /* Two commands rather than a choice in the dialog: GTK 4.8's fallback file chooser does
   * not report a choice changed in it back through gtk_file_chooser_get_choice. */
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (
      overlays ? _("Save View as PNG") : _("Save Image as PNG (without overlays)"), parent,
      GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), overlays ? "view.png" : "image.png");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  SaveJob *job = g_new0 (SaveJob, 1);
  job->overlays = overlays;
  job->view = g_object_ref (view);
  job->done = done;
  job->data = data;
  g_signal_connect (dialog, "response", G_CALLBACK (save_response_cb), job);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

bool
mm_view_export_copy (MmSliceView *view, GError **error)
{
  g_autoptr (GdkTexture) tex = mm_view_export_texture (view, true);
  if (tex == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("There is no image to copy yet"));
      return false;
    }
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (view)), tex);
  return true;
}
