/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The PACS page of Preferences: the servers (add, edit, remove, Test Connection) and the
 * cache's size limit. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Adds the page to window; settings may be NULL (the page then says nothing is kept). */
void mm_preferences_pacs_add_page (AdwPreferencesWindow *window, GSettings *settings);

G_END_DECLS
