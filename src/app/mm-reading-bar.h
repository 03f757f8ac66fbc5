/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmReadingBar: the reading tools' row above the views: slab mode and thickness, oblique
 * reset, cine (play, frames per second), the exact window and level, save and copy the
 * view. Its buttons use the window's actions (reading.reset-oblique, reading.cine, reading.save-view,
 * reading.copy-view); the fields edit the viewer's state directly. */
#pragma once

#include "mm-cine.h"
#include "mm-viewer.h"

G_BEGIN_DECLS

#define MM_TYPE_READING_BAR (mm_reading_bar_get_type ())
G_DECLARE_FINAL_TYPE (MmReadingBar, mm_reading_bar, MM, READING_BAR, GtkBox)

/* cine is borrowed (the window owns it and outlives the bar). */
MmReadingBar *mm_reading_bar_new (MmViewer *viewer, MmCine *cine);

G_END_DECLS
