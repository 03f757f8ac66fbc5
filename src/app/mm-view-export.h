/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Saving a slice view as PNG (with its overlays or without) and copying it to the
 * clipboard. */
#pragma once

#include "mm-slice-view.h"

G_BEGIN_DECLS

/* The view as a texture of its size: as on screen (overlays true) or the image alone,
 * without texts and crosshair (the mask overlay stays: it is part of the image); never the
 * rotation handles. NULL before the view is shown. */
GdkTexture *mm_view_export_texture (MmSliceView *view, bool overlays);

/* Write the view to path as PNG; false with a sentence in error. */
bool mm_view_export_save_png (MmSliceView *view, bool overlays, const char *path, GError **error);

/* Ask for a file and save the view there (with its overlays or the image alone); done (may
 * be NULL) gets the path written or an error message, or both NULL when the user cancelled. */
typedef void (*MmViewExportDone) (gpointer data, const char *path, const char *error);
void mm_view_export_save_dialog (GtkWindow *parent, MmSliceView *view, bool overlays,
                                 MmViewExportDone done, gpointer data);

/* Put the view, as on screen, on the clipboard as an image; false (error set) when there is
 * nothing to copy. */
bool mm_view_export_copy (MmSliceView *view, GError **error);

G_END_DECLS
