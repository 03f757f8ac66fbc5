/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSeriesPicker: a dialog listing the series found in a folder; "series-chosen" gives the
 * UID of the one the user opens. */
#pragma once

#include "mm-dicom.h"

#include <adwaita.h>

G_BEGIN_DECLS

#define MM_TYPE_SERIES_PICKER (mm_series_picker_get_type ())
G_DECLARE_FINAL_TYPE (MmSeriesPicker, mm_series_picker, MM, SERIES_PICKER, AdwMessageDialog)

/* One row per series of report (in its order: the largest CT first), the first selected;
 * folder is named in the body. */
MmSeriesPicker *mm_series_picker_new (GtkWindow *parent, const MmDicomReport *report,
                                      const char *folder);

G_END_DECLS
