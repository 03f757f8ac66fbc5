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
  MmDicomScan *scan;      /* after a scan: its headers, for mm_load_progressive_async */
} MmLoadResult;

void mm_load_result_free (MmLoadResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmLoadResult, mm_load_result_free)

/* progress is called on the main context with a fraction in [0, 1]. series_uid NULL: the
 * reader's choice. scan_only: find the series, read no pixels. */
void mm_load_async (const char *path, const char *series_uid, bool scan_only,
                    GCancellable *cancellable, MmProgressFunc progress, gpointer progress_data,
                    GAsyncReadyCallback callback, gpointer user_data);
MmLoadResult *mm_load_finish (GAsyncResult *result, GError **error);

/* ---- Progressive loading (docs/progressive-load.md) ------------------------------------ */

/* The volume of a progressive load, shared between the loading thread (which fills it) and
 * whoever shows it; freed when both have let go. */
typedef struct _MmLoadShared MmLoadShared;
MmLoadShared *mm_load_shared_ref (MmLoadShared *shared);
void mm_load_shared_unref (MmLoadShared *shared);
/* The slice on screen (main thread): decoded next when it is not in yet. */
void mm_load_shared_want_slice (MmLoadShared *shared, int k);
/* The first slice has been painted (main thread): the other slices are decoded only from
 * then on (or after 2 s), so that they do not delay that first frame. */
void mm_load_shared_first_shown (MmLoadShared *shared);

/* Main context, once, when the first slice (the middle one) is in: vol is shared's, filled
 * until the load ends; keep a reference (mm_load_shared_ref, released with
 * mm_load_shared_unref) as long as it is shown. Not called once cancelled. */
typedef void (*MmLoadFirstFunc) (GObject *target, MmVolume *vol, MmLoadShared *shared);
/* Main context, at most every 100 ms while slices come in. */
typedef void (*MmLoadMoreFunc) (GObject *target);

/* Load a series progressively: first (target, ...) as soon as one slice can be shown, more
 * (target) as the others come in, then callback. The result then holds stats and report
 * for the whole series, and volume NULL when the volume shown is the series (the usual
 * case), or else a volume read afresh that replaces it (a slice failed to decode after the
 * first was shown, or a value needed float). Test only: MM_TEST_SLOW_DECODE_MS=N in the
 * environment sleeps N ms after each slice but the first, so tests can act mid-load. */
/* scan (may be NULL): a scan of path (MmLoadResult.scan), whose headers the load takes
 * instead of reading them again; referenced for the load's duration. */
void mm_load_progressive_async (const char *path, const char *series_uid, MmDicomScan *scan,
                                GCancellable *cancellable, MmProgressFunc progress,
                                gpointer progress_data, GObject *target, MmLoadFirstFunc first,
                                MmLoadMoreFunc more, GAsyncReadyCallback callback,
                                gpointer user_data);

G_END_DECLS
