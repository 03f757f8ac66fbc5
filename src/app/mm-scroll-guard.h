/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A value widget (spin button, scale) inside a scrolled panel changes with the wheel only
 * while it has the keyboard focus: otherwise the wheel scrolls the panel, so a field never
 * changes because the pointer passed over it while the user scrolled. */
void mm_scroll_guard_attach (GtkWidget *widget);

G_END_DECLS
