/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Saving a slice view as PNG (with its overlays or without) and copying it to the
 * clipboard. */
#pragma once

#include "mm-slice-view.h"

G_BEGIN_DECLS

/* Write the view to path as PNG; false with a sentence in error. */
bool mm_view_export_save_png (MmSliceView *view, bool overlays, const char *path, GError **error);

/* Ask for a file (with a choice "Include texts and crosshair", on by default) and save the
 * view there; done (may be NULL) gets the path written or an error message. */
typedef void (*MmViewExportDone) (gpointer data, const char *path, const char *error);
void mm_view_export_save_dialog (GtkWindow *parent, MmSliceView *view, MmViewExportDone done,
                                 gpointer data);

/* Put the view, as on screen, on the clipboard as an image; false (error set) when there is
 * nothing to copy. */
bool mm_view_export_copy (MmSliceView *view, GError **error);

G_END_DECLS
