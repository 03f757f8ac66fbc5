/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The series browser's thumbnails, computed off the main thread: each series' middle slice
 * decoded and drawn with its window (mm-thumbnail.h), delivered one by one to the main loop. */
#pragma once

#include "mm-dicom.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* index: the series' index in the report; texture NULL when its slice could not be read. */
typedef void (*MmThumbnailFunc) (guint index, GdkTexture *texture, gpointer user_data);

/* Start computing size x size thumbnails of every series of report (read now: the report
 * may go after this returns). func runs on the calling thread's main context for each, in
 * report order, never after cancellable is cancelled; done (may be NULL) once after the
 * last one. */
void mm_thumbnailer_start (const MmDicomReport *report, int size, GCancellable *cancellable,
                           MmThumbnailFunc func, GCallback done, gpointer user_data);

G_END_DECLS
