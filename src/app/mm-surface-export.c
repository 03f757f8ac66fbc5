/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 3D view's mesh export (see mm-surface-export.h). */
#include "mm-surface-export.h"

#include "mm-surface-view.h"

#include <glib/gi18n.h>

typedef struct
{
  GtkWidget *view;
  MmMesh **parts;
  int n_parts, part;
  MmMeshFormat format;
  bool lps;
} Request;

static void
request_free (Request *r)
{
  for (int i = 0; i < r->n_parts; i++)
    mm_mesh_free (r->parts[i]);
  g_free (r->parts);
  g_object_unref (r->view);
  g_free (r);
}

static void
response_cb (GtkNativeDialog *dialog, int response, Request *r)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = folder ? g_file_get_path (folder) : NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *written = NULL;
      if (path == NULL)
        mm_surface_view_message (MM_SURFACE_VIEW (r->view), _("The mesh can only be written to a local folder"));
      else if (mm_mesh_export_parts (path, r->parts, r->n_parts, r->part, r->format, r->lps, &written, &error))
        {
          g_autofree char *msg = g_strdup_printf (_("Mesh written to %s"), written);
          mm_surface_view_message (MM_SURFACE_VIEW (r->view), msg);
        }
      else
        mm_surface_view_message (MM_SURFACE_VIEW (r->view), error->message);
    }
  g_object_unref (dialog);
  request_free (r);
}

void
mm_surface_export_ask (GtkWidget *view, const MmMesh *const *parts, int n_parts, int part,
                       MmMeshFormat format, bool lps)
{
  Request *r = g_new0 (Request, 1);
  r->view = g_object_ref (view);
  r->n_parts = n_parts;
  r->parts = g_new0 (MmMesh *, n_parts);
  for (int i = 0; i < n_parts; i++)
    r->parts[i] = mm_mesh_concat ((MmMesh *const *) &parts[i], 1);
  r->part = CLAMP (part, 0, n_parts);
  r->format = format;
  r->lps = lps;
  GtkRoot *root = gtk_widget_get_root (view);
  GtkFileChooserNative *dialog = gtk_file_chooser_native_new (_("Export Mesh to Folder"), GTK_WINDOW (root),
                                                              GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                                              _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  g_signal_connect (dialog, "response", G_CALLBACK (response_cb), r);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}
