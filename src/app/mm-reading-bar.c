/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The reading tools' row: controls bound to MmReading, MmViewer's window and MmCine. */
#include "mm-reading-bar.h"
#include "mm-reading.h"

#include <glib/gi18n.h>

struct _MmReadingBar
{
  GtkBox parent_instance;

  /* borrowed children */
  GtkDropDown *slab_mode;
  GtkSpinButton *thickness, *fps, *window, *level;

  /* owned */
  MmViewer *viewer;
  MmReading *reading;
  gulong viewer_id, reading_id;
  /* borrowed */
  MmCine *cine;
  bool syncing; /* fields being set from the state: no write back */
};

G_DEFINE_FINAL_TYPE (MmReadingBar, mm_reading_bar, GTK_TYPE_BOX)

static void
sync_window (MmReadingBar *self)
{
  double w, l;
  mm_viewer_get_window (self->viewer, &w, &l);
  self->syncing = true;
  gtk_spin_button_set_value (self->window, w);
  gtk_spin_button_set_value (self->level, l);
  self->syncing = false;
}

static void
sync_slab (MmReadingBar *self)
{
  self->syncing = true;
  gtk_drop_down_set_selected (self->slab_mode, mm_reading_get_slab_mode (self->reading) + 1);
  gtk_spin_button_set_value (self->thickness, mm_reading_get_slab_thickness (self->reading));
  self->syncing = false;
}

static void
viewer_changed_cb (MmViewer *viewer, guint what, MmReadingBar *self)
{
  if (what & MM_VIEWER_CHANGED_WINDOW)
    sync_window (self);
}

static void
window_edited_cb (MmReadingBar *self)
{
  if (self->syncing)
    return;
  mm_viewer_set_window (self->viewer, gtk_spin_button_get_value (self->window),
                        gtk_spin_button_get_value (self->level));
}

static void
slab_edited_cb (MmReadingBar *self)
{
  if (self->syncing)
    return;
  mm_reading_set_slab (self->reading, (int) gtk_drop_down_get_selected (self->slab_mode) - 1,
                       gtk_spin_button_get_value (self->thickness));
}

static void
fps_edited_cb (MmReadingBar *self)
{
  mm_cine_set_fps (self->cine, gtk_spin_button_get_value (self->fps));
}

static GtkSpinButton *
spin (MmReadingBar *self, const char *label, const char *tooltip, double lo, double hi,
      double step, int digits, int chars)
{
  GtkWidget *l = gtk_label_new (label);
  gtk_widget_add_css_class (l, "dim-label");
  gtk_box_append (GTK_BOX (self), l);
  GtkSpinButton *s = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (lo, hi, step));
  gtk_spin_button_set_digits (s, digits);
  gtk_editable_set_width_chars (GTK_EDITABLE (s), chars);
  gtk_widget_set_tooltip_text (GTK_WIDGET (s), tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (s), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (s));
  return s;
}

static GtkWidget *
button (MmReadingBar *self, const char *icon, const char *label, const char *tooltip,
        const char *action, bool toggle)
{
  GtkWidget *b = toggle ? gtk_toggle_button_new () : gtk_button_new ();
  if (icon)
    gtk_button_set_icon_name (GTK_BUTTON (b), icon);
  else
    gtk_button_set_label (GTK_BUTTON (b), label);
  gtk_widget_set_tooltip_text (b, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
  gtk_box_append (GTK_BOX (self), b);
  return b;
}

static void
separator (MmReadingBar *self)
{
  GtkWidget *s = gtk_separator_new (GTK_ORIENTATION_VERTICAL);
  gtk_widget_set_margin_start (s, 4);
  gtk_widget_set_margin_end (s, 4);
  gtk_box_append (GTK_BOX (self), s);
}

static void
mm_reading_bar_dispose (GObject *object)
{
  MmReadingBar *self = MM_READING_BAR (object);
  if (self->viewer)
    g_clear_signal_handler (&self->viewer_id, self->viewer);
  if (self->reading)
    g_clear_signal_handler (&self->reading_id, self->reading);
  g_clear_object (&self->viewer);
  g_clear_object (&self->reading);
  G_OBJECT_CLASS (mm_reading_bar_parent_class)->dispose (object);
}

static void
mm_reading_bar_class_init (MmReadingBarClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mm_reading_bar_dispose;
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "readingbar");
}

static void
mm_reading_bar_init (MmReadingBar *self)
{
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_HORIZONTAL);
  gtk_box_set_spacing (GTK_BOX (self), 4);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 6);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 6);
  gtk_widget_set_margin_top (GTK_WIDGET (self), 3);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self), 3);
}

MmReadingBar *
mm_reading_bar_new (MmViewer *viewer, MmCine *cine)
{
  MmReadingBar *self = g_object_new (MM_TYPE_READING_BAR, NULL);
  self->viewer = g_object_ref (viewer);
  self->reading = g_object_ref (mm_viewer_get_reading (viewer));
  self->cine = cine;

  GMenu *menu = g_menu_new ();
  g_menu_append (menu, _("Save View as PNG…"), "reading.save-view(true)");
  g_menu_append (menu, _("Save Image as PNG without Overlays…"), "reading.save-view(false)");
  GtkWidget *save = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (save), "document-save-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (save), G_MENU_MODEL (menu));
  g_object_unref (menu);
  gtk_widget_set_tooltip_text (save, _("Save the active view as PNG (Ctrl+Shift+S; without "
                                       "overlays Ctrl+Alt+S)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (save), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Save View as PNG"), -1);
  gtk_box_append (GTK_BOX (self), save);
  button (self, "edit-copy-symbolic", _("Copy View"),
          _("Copy the active view as an image (Ctrl+Shift+C)"), "reading.copy-view", false);
  separator (self);
  const char *modes[] = { _("Slab off"), _("MIP"), _("MinIP"), _("Average"), NULL };
  self->slab_mode = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (modes));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->slab_mode),
                               _("Slab: maximum, minimum or mean over the thickness (M)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->slab_mode), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Slab mode"), -1);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->slab_mode));
  self->thickness = spin (self, _("mm"), _("Slab thickness (mm)"), 0.5, 500, 1, 1, 4);
  separator (self);
  button (self, NULL, _("Reset Oblique"), _("Back to the standard planes (Shift+O); drag a handle on "
                                            "the crosshair to turn them"),
          "reading.reset-oblique", false);
  separator (self);
  button (self, "media-playback-start-symbolic", _("Play slices"),
          _("Play the slices of the active view, looped (C)"), "reading.cine", true);
  self->fps = spin (self, _("fps"), _("Frames per second"), 1, 60, 1, 0, 2);
  gtk_spin_button_set_value (self->fps, mm_cine_get_fps (cine));
  separator (self);
  self->window = spin (self, _("W"), _("Window width (HU)"), 1, 100000, 10, 0, 5);
  self->level = spin (self, _("L"), _("Window level (HU)"), -50000, 50000, 10, 0, 5);

  sync_window (self);
  sync_slab (self);
  self->viewer_id = g_signal_connect (viewer, "changed", G_CALLBACK (viewer_changed_cb), self);
  self->reading_id = g_signal_connect_swapped (self->reading, "changed", G_CALLBACK (sync_slab), self);
  g_signal_connect_swapped (self->window, "value-changed", G_CALLBACK (window_edited_cb), self);
  g_signal_connect_swapped (self->level, "value-changed", G_CALLBACK (window_edited_cb), self);
  g_signal_connect_swapped (self->slab_mode, "notify::selected", G_CALLBACK (slab_edited_cb), self);
  g_signal_connect_swapped (self->thickness, "value-changed", G_CALLBACK (slab_edited_cb), self);
  g_signal_connect_swapped (self->fps, "value-changed", G_CALLBACK (fps_edited_cb), self);
  return self;
}
