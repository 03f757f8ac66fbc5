/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The window's DICOM tags browser: win.show-tags (Ctrl+T) opens it on the axial slice's file,
 * and while it is open it follows the slice shown. */
#include "mm-window-private.h"

#include "mm-tags-window.h"

#include <glib/gi18n.h>

/* The file of the slice the axial view shows; NULL without a series. */
static const char *
current_file (MmWindow *self, int *k_out)
{
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL || vol->slices == NULL)
    return NULL;
  int k = mm_viewer_get_depth (self->viewer, MM_PLANE_AXIAL);
  if (k < 0 || k >= vol->dims[2])
    return NULL;
  *k_out = k;
  return vol->slices[k].file;
}

void
mm_window_tags_update (MmWindow *self)
{
  if (self->tags_window == NULL)
    return;
  int k = 0;
  const char *file = current_file (self, &k);
  if (file == NULL || g_strcmp0 (file, self->tags_file) == 0)
    return;
  g_free (self->tags_file);
  self->tags_file = g_strdup (file);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  g_autofree char *title = g_strdup_printf (_("Slice %d of %d"), k + 1, vol->dims[2]);
  mm_tags_window_show_file (MM_TAGS_WINDOW (self->tags_window), file, title);
}

static void
show_tags_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  int k = 0;
  if (current_file (self, &k) == NULL)
    {
      mm_window_toast (self, _("Open a series first"));
      return;
    }
  if (self->tags_window == NULL)
    {
      self->tags_window = GTK_WIDGET (mm_tags_window_new (GTK_WINDOW (self)));
      g_object_add_weak_pointer (G_OBJECT (self->tags_window), (gpointer *) &self->tags_window);
      g_clear_pointer (&self->tags_file, g_free);
    }
  mm_window_tags_update (self);
  gtk_window_present (GTK_WINDOW (self->tags_window));
}

void
mm_window_tags_class_init (GtkWidgetClass *klass)
{
  gtk_widget_class_install_action (klass, "win.show-tags", NULL, show_tags_action);
  gtk_widget_class_add_binding_action (klass, GDK_KEY_t, GDK_CONTROL_MASK, "win.show-tags",
                                       NULL);
}

void
mm_window_tags_dispose (MmWindow *self)
{
  if (self->tags_window)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->tags_window),
                                    (gpointer *) &self->tags_window);
      gtk_window_destroy (GTK_WINDOW (self->tags_window));
      self->tags_window = NULL;
    }
  g_clear_pointer (&self->tags_file, g_free);
}
