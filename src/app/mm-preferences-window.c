/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmPreferencesWindow: mouse mapping, the window/level a series opens with, the overlay. */
#include "mm-preferences-window.h"

#include "mm-preferences-pacs.h"

#include <math.h>

struct _MmPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  /* template widgets */
  AdwComboRow *left_drag_row, *middle_drag_row, *right_drag_row;
  AdwComboRow *preset_row;
  GtkColorButton *color_button;
  GtkAdjustment *opacity_adjustment;
  GtkSwitch *outline_switch;

  /* owned */
  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (MmPreferencesWindow, mm_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* The drag choices in the schema's order, as the combo rows list them. */
static const char *const drag_ids[] = { "window-level", "pan", "zoom" };

static gboolean
drag_get_cb (GValue *value, GVariant *variant, gpointer user_data)
{
  const char *s = g_variant_get_string (variant, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (drag_ids); i++)
    if (g_str_equal (s, drag_ids[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
drag_set_cb (const GValue *value, const GVariantType *type, gpointer user_data)
{
  guint i = g_value_get_uint (value);
  return i < G_N_ELEMENTS (drag_ids) ? g_variant_new_string (drag_ids[i]) : NULL;
}

gboolean
mm_settings_get_rgba (GValue *value, GVariant *variant, gpointer user_data)
{
  GdkRGBA rgba;
  if (!gdk_rgba_parse (&rgba, g_variant_get_string (variant, NULL)))
    return FALSE;
  g_value_set_boxed (value, &rgba);
  return TRUE;
}

GVariant *
mm_settings_set_rgba (const GValue *value, const GVariantType *type, gpointer user_data)
{
  const GdkRGBA *c = g_value_get_boxed (value);
  if (c == NULL)
    return NULL;
  g_autofree char *hex = g_strdup_printf ("#%02x%02x%02x", (int) lrint (c->red * 255),
                                          (int) lrint (c->green * 255), (int) lrint (c->blue * 255));
  return g_variant_new_string (hex);
}

static void
mm_preferences_window_dispose (GObject *object)
{
  MmPreferencesWindow *self = MM_PREFERENCES_WINDOW (object);
  gtk_widget_dispose_template (GTK_WIDGET (self), MM_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (mm_preferences_window_parent_class)->dispose (object);
}

static void
mm_preferences_window_finalize (GObject *object)
{
  g_clear_object (&MM_PREFERENCES_WINDOW (object)->settings);
  G_OBJECT_CLASS (mm_preferences_window_parent_class)->finalize (object);
}

static void
mm_preferences_window_class_init (MmPreferencesWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = mm_preferences_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = mm_preferences_window_finalize;
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/metalmark/Metalmark/ui/mm-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MmPreferencesWindow, left_drag_row);
  gtk_widget_class_bind_template_child (widget_class, MmPreferencesWindow, middle_drag_row);
  gtk_widget_class_bind_template_child (widget_class, MmPreferencesWindow, right_drag_row);
  gtk_widget_class_bind_template_child (widget_class, MmPreferencesWindow, preset_row);
  gtk_widget_class_bind_template_child (widget_class, MmPreferencesWindow, color_button);
  gtk_widget_class_bind_template_child (widget_class, MmPreferencesWindow, opacity_adjustment);
  gtk_widget_class_bind_template_child (widget_class, MmPreferencesWindow, outline_switch);
}

static void
mm_preferences_window_init (MmPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

MmPreferencesWindow *
mm_preferences_window_new (GtkWindow *parent, GSettings *settings)
{
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  MmPreferencesWindow *self = g_object_new (MM_TYPE_PREFERENCES_WINDOW, "transient-for", parent,
                                            NULL);
  self->settings = g_object_ref (settings);
  static const char *const keys[] = { "left-drag", "middle-drag", "right-drag" };
  AdwComboRow *rows[] = { self->left_drag_row, self->middle_drag_row, self->right_drag_row };
  for (guint b = 0; b < 3; b++)
    g_settings_bind_with_mapping (settings, keys[b], rows[b], "selected", G_SETTINGS_BIND_DEFAULT,
                                  drag_get_cb, drag_set_cb, NULL, NULL);
  g_settings_bind (settings, "default-preset", self->preset_row, "selected", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (settings, "overlay-color", self->color_button, "rgba",
                                G_SETTINGS_BIND_DEFAULT, mm_settings_get_rgba, mm_settings_set_rgba,
                                NULL, NULL);
  g_settings_bind (settings, "overlay-opacity", self->opacity_adjustment, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "overlay-outline", self->outline_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  mm_preferences_pacs_add_page (ADW_PREFERENCES_WINDOW (self), settings);
  return self;
}
