/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Export of the mask being annotated (PNG label stack, NIfTI mask and CT, DICOM SEG) in the
 * background with progress, and import of a NIfTI mask. */
#include "mm-window-private.h"

#include "mm-dicom.h"
#include "mm-label-stack.h"
#include "mm-nifti.h"

#include "mm-alloc.h"

#include <glib/gi18n.h>
#include <string.h>

typedef struct
{
  char *dir;
  MmMask *mask;          /* a copy: editing goes on during the export */
  MmVolume *vol; /* a reference (mm_volume_free) */
  MmWindow *window;
} ExportData;

typedef struct
{
  MmWindow *window;
  double fraction;
  char *text;
} ExportProgress;

static void
export_data_free (ExportData *d)
{
  g_free (d->dir);
  mm_mask_free (d->mask);
  mm_volume_free (d->vol);
  g_free (d);
}

static gboolean
progress_idle_cb (gpointer data)
{
  ExportProgress *p = data;
  mm_window_set_progress (p->window, p->text, p->fraction);
  return G_SOURCE_REMOVE;
}

static void
progress_free (gpointer data)
{
  ExportProgress *p = data;
  g_object_unref (p->window);
  g_free (p->text);
  g_free (p);
}

static void
report (ExportData *d, double fraction, const char *text)
{
  ExportProgress *p = g_new (ExportProgress, 1);
  p->window = g_object_ref (d->window);
  p->fraction = fraction;
  p->text = g_strdup (text);
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, progress_idle_cb, p, progress_free);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportData *d = task_data;
  GError *error = NULL;
  g_autofree char *stack = g_build_filename (d->dir, "labels", NULL);
  g_autofree char *nii = g_build_filename (d->dir, "mask.nii.gz", NULL);
  g_autofree char *ct = g_build_filename (d->dir, "ct.nii.gz", NULL);
  g_autofree char *seg = g_build_filename (d->dir, "seg.dcm", NULL);
  /* Each file is written atomically, so a failure part way leaves earlier exports intact. */
  report (d, 0.0, _("Exporting the PNG label stack"));
  if (!mm_label_stack_write (stack, d->mask, d->vol, NULL, 0, &error))
    goto fail;
  report (d, 0.3, _("Exporting the NIfTI mask"));
  if (!mm_nifti_write_mask (nii, d->mask, d->vol, &error))
    goto fail;
  report (d, 0.45, _("Exporting the CT as NIfTI"));
  if (!mm_nifti_write_volume (ct, d->vol, &error))
    goto fail;
  report (d, 0.8, _("Exporting the DICOM SEG"));
  if (!mm_dicom_write_seg (seg, d->mask, d->vol, &error))
    goto fail;
  g_task_return_boolean (task, TRUE);
  return;
fail:
  g_task_return_error (task, error);
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = MM_WINDOW (user_data);
  ExportData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  mm_window_set_progress (self, NULL, 0);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    mm_window_toast (self, error->message);
  else
    {
      g_autofree char *msg = g_strdup_printf (_("Exported to %s: labels/, mask.nii.gz, ct.nii.gz, seg.dcm"),
                                              d->dir);
      /* Toast titles are markup in libadwaita 1.2: a path may hold & or <. */
      g_autofree char *escaped = g_markup_escape_text (msg, -1);
      AdwToast *t = adw_toast_new (escaped);
      adw_toast_set_timeout (t, 10);
      adw_toast_set_button_label (t, _("Open Folder"));
      adw_toast_set_action_name (t, "win.open-folder");
      adw_toast_set_action_target_value (t, g_variant_new_string (d->dir));
      adw_toast_overlay_add_toast (self->toast_overlay, t);
    }
  g_object_unref (self);
}

static void
open_folder_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = MM_WINDOW (user_data);
  g_autoptr (GError) error = NULL;
  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot open the folder: %s"), error->message);
      mm_window_toast (self, msg);
    }
  g_object_unref (self);
}

/* The export's "Open Folder": the desktop's file manager (GTK 4.8 has no GtkFileLauncher). */
static void
open_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  g_autoptr (GFile) dir = g_file_new_for_path (g_variant_get_string (param, NULL));
  g_autofree char *uri = g_file_get_uri (dir);
  g_autoptr (GAppLaunchContext) ctx
      = G_APP_LAUNCH_CONTEXT (gdk_display_get_app_launch_context (gtk_widget_get_display (widget)));
  g_app_info_launch_default_for_uri_async (uri, ctx, NULL, open_folder_done_cb, g_object_ref (self));
}

/* The series as read, for the export: referenced, as the user may open another series while
 * the files are written; but a copy while metal artifact reduction holds a second buffer
 * (it swaps buffers in place and frees one with its result, and the export writes the
 * series as read, never the derived image). NULL without the memory. */
static MmVolume *
export_volume (MmWindow *self)
{
  MmVolume *vol = (MmVolume *) mm_viewer_get_volume (self->viewer);
  const void *original = mm_window_mar_original_voxels (self);
  if (original == NULL)
    return mm_volume_ref (vol);
  size_t bytes = mm_volume_n_voxels (vol)
                 * (vol->type == MM_VOXEL_INT16 ? sizeof (int16_t) : sizeof (float));
  void *voxels = mm_alloc_large (bytes, false);
  if (voxels == NULL)
    return NULL;
  memcpy (voxels, original, bytes);
  MmVolume *c = mm_volume_copy_header (vol);
  c->voxels = voxels;
  return c;
}

static void
export_chooser_cb (GtkNativeDialog *chooser, int response, MmWindow *self)
{
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT
                               ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser)) : NULL;
  g_autofree char *dir = file ? g_file_get_path (file) : NULL;
  g_object_unref (chooser);
  /* Referenced when the chooser opened: the window may have been closed meanwhile. */
  g_autoptr (MmWindow) held = self;
  if (gtk_widget_in_destruction (GTK_WIDGET (self)) || self->viewer == NULL)
    return;
  const MmMask *mask = mm_viewer_get_mask (self->viewer);
  if (dir == NULL || mask == NULL)
    return;
  mm_mask_session_save_now (self->session);
  ExportData *d = g_new0 (ExportData, 1);
  d->dir = g_steal_pointer (&dir);
  d->mask = mm_mask_copy (mask);
  d->vol = export_volume (self);
  if (d->vol == NULL)
    {
      export_data_free (d);
      mm_window_toast (self, _("Not enough memory to export the series"));
      return;
    }
  d->window = self;
  g_autoptr (GTask) task = g_task_new (NULL, NULL, export_done_cb, g_object_ref (self));
  g_task_set_task_data (task, d, (GDestroyNotify) export_data_free);
  g_task_run_in_thread (task, export_thread);
}

static void
export_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  if (mm_viewer_get_mask (self->viewer) == NULL)
    {
      mm_window_toast (self, _("No mask to export: segment the metal or paint one first"));
      return;
    }
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      _("Export the Mask into a Folder"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
      _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (export_chooser_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
import_chooser_cb (GtkNativeDialog *chooser, int response, MmWindow *self)
{
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT
                               ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser)) : NULL;
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  g_object_unref (chooser);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (path == NULL || vol == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autoptr (MmMask) mask = mm_nifti_read_mask (path, vol, &error);
  if (mask == NULL)
    {
      mm_window_toast (self, error->message);
      return;
    }
  if (!mm_mask_session_replace (self->session, g_steal_pointer (&mask), MM_MASK_SOURCE_FILE, path,
                                &error))
    mm_window_toast (self, error->message);
}

static void
import_nifti_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      _("Open a NIfTI Mask"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"),
      _("_Cancel"));
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("NIfTI images"));
  gtk_file_filter_add_pattern (filter, "*.nii");
  gtk_file_filter_add_pattern (filter, "*.nii.gz");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (import_chooser_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

void
mm_window_export_class_init (GtkWidgetClass *klass)
{
  gtk_widget_class_install_action (klass, "win.export", NULL, export_action);
  gtk_widget_class_install_action (klass, "win.import-nifti", NULL, import_nifti_action);
  gtk_widget_class_install_action (klass, "win.open-folder", "s", open_folder_action);
  GtkShortcut *s = gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_e, GDK_CONTROL_MASK),
                                     gtk_named_action_new ("win.export"));
  gtk_widget_class_add_shortcut (klass, s);
  g_object_unref (s);
}
