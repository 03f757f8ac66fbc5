/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The viewer's single keys (slices, zoom, presets, layout, tools) for a window, whatever
 * widget has the focus: a capture-phase key controller sees them before the focused widget
 * would use them to move the focus, scroll the panel or step a slider. Only a text field
 * keeps the keys it types with; a numeric field (spin button) also gives up the undo keys
 * and the letters it cannot hold. Keys on other surfaces (menus, popovers, dialogs) are left
 * alone. */
void     mm_viewer_keys_attach (GtkWidget *window);

G_END_DECLS
