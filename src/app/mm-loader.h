/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Loading a series off the main thread: scan for series, or load one with its statistics,
 * reporting progress to the main loop and honouring cancellation. */
#pragma once

#include "mm-dicom.h"
#include "mm-stats.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  MmVolume *volume;       /* NULL after a scan */
  MmStats *stats;
  MmDicomReport *report;
} MmLoadResult;

void mm_load_result_free (MmLoadResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmLoadResult, mm_load_result_free)

/* progress is called on the main context with a fraction in [0, 1]. series_uid NULL: the
 * reader's choice. scan_only: find the series, read no pixels. */
void mm_load_async (const char *path, const char *series_uid, bool scan_only,
                    GCancellable *cancellable, MmProgressFunc progress, gpointer progress_data,
                    GAsyncReadyCallback callback, gpointer user_data);
MmLoadResult *mm_load_finish (GAsyncResult *result, GError **error);

G_END_DECLS
