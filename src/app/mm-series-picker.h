/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSeriesPicker: the series browser, a window of the series found in a folder or DICOMDIR;
 * "series-chosen" gives the UID of the one the user opens. */
#pragma once

#include "mm-dicom.h"

#include <adwaita.h>

G_BEGIN_DECLS

#define MM_TYPE_SERIES_PICKER (mm_series_picker_get_type ())
G_DECLARE_FINAL_TYPE (MmSeriesPicker, mm_series_picker, MM, SERIES_PICKER, AdwWindow)

/* One tile per series of report with its thumbnail (computed in the background), in a grid
 * per study under its patient's and study's headers (in the order of their first series in
 * report, i.e. the largest CT first); the first series that is neither a scout nor a dose
 * report is selected; folder is named in the subtitle. A double-click or Enter on a tile, or
 * Open, opens its series. Its size is kept in GSettings. */
MmSeriesPicker *mm_series_picker_new (GtkWindow *parent, const MmDicomReport *report,
                                      const char *folder);

/* When the folder was opened (g_get_monotonic_time): with MM_BENCH_THUMBNAILS set in the
 * environment, the time to the first and the last thumbnail is printed on stderr. */
void mm_series_picker_set_start_time (MmSeriesPicker *self, gint64 start_time);

/* Select the series with this UID (the one shown, when the browser is opened again). */
void mm_series_picker_select (MmSeriesPicker *self, const char *uid);

G_END_DECLS
