/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmPreferencesWindow: the app's preferences, each row bound to a GSettings key. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MM_TYPE_PREFERENCES_WINDOW (mm_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (MmPreferencesWindow, mm_preferences_window, MM, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* settings: the app's (io.github.metalmark.Metalmark); the window keeps a reference. */
MmPreferencesWindow *mm_preferences_window_new (GtkWindow *parent, GSettings *settings);

/* The colour setting's mapping to a GdkRGBA property and back ("#rrggbb"), shared with the
 * main window's overlay colour button. */
gboolean mm_settings_get_rgba (GValue *value, GVariant *variant, gpointer user_data);
GVariant *mm_settings_set_rgba (const GValue *value, const GVariantType *type, gpointer user_data);

G_END_DECLS
