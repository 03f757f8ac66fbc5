/* SPDX-License-Identifier: GPL-3.0-or-later */
/* "Open from PACS…": a DICOMweb server, a study search, a study's series, and the chosen
 * series retrieved in the background (progress, cancel) into the cache, then opened. The
 * network work is src/net's; this file is only its window. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MM_TYPE_PACS_DIALOG (mm_pacs_dialog_get_type ())
G_DECLARE_FINAL_TYPE (MmPacsDialog, mm_pacs_dialog, MM, PACS_DIALOG, AdwWindow)

/* The dialog over parent; "series-retrieved" (path) is emitted with the folder of the
 * retrieved series, after the dialog hid itself (closing hides it too: the window keeps one
 * and shows it again). */
/* settings (may be NULL): the server list of Preferences and the cache bound. */
MmPacsDialog *mm_pacs_dialog_new (GtkWindow *parent, GSettings *settings);

G_END_DECLS
