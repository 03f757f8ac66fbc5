/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmTagsWindow: the DICOM tags browser, a searchable tree of one file's data set
 * (mm-dicom-dump.h) with Copy Value and Copy All. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MM_TYPE_TAGS_WINDOW (mm_tags_window_get_type ())
G_DECLARE_FINAL_TYPE (MmTagsWindow, mm_tags_window, MM, TAGS_WINDOW, AdwWindow)

MmTagsWindow *mm_tags_window_new (GtkWindow *parent);

/* Show path's data set (read here: one header, a few milliseconds); title names the slice
 * ("Slice 12 of 200"). An unreadable file shows its error in place of the tree. */
void mm_tags_window_show_file (MmTagsWindow *self, const char *path, const char *title);

G_END_DECLS
