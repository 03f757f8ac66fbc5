/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A series retrieval in a worker thread, for a caller with a main loop (the app's "Open from
 * PACS…", the CLI's Ctrl+C): progress reaches the caller's main context, a GCancellable
 * stops it and leaves nothing behind, the result comes back as a GAsyncResult. */
#pragma once

#include "mm-pacs-wado.h"

G_BEGIN_DECLS

typedef struct
{
  const char *study_uid, *series_uid;
  const char *dest;       /* a new folder; NULL: the cache */
  const char *cache_root; /* with dest NULL; NULL: mm_pacs_cache_default_root () */
  guint64 cache_max_bytes;
} MmPacsGet;

/* Retrieve as mm_pacs_retrieve_series (dest) or mm_pacs_cache_series (cache) do, in a
 * thread. srv must stay alive until callback has run (libsoup >= 3.2 allows its synchronous
 * use from another thread). progress (may be NULL) runs in the thread-default main context
 * of the caller, at most ten times a second, and never after callback. */
void mm_pacs_get_async (MmPacsServer *srv, const MmPacsGet *req, MmPacsProgress progress,
                        gpointer progress_data, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);

typedef struct _MmDimsePeer MmDimsePeer;

/* The same over DIMSE (C-GET): into req->dest, or the cache keyed by dimse://AET@HOST:PORT
 * and the UIDs (a cached series is used as it is). peer must stay alive until callback ran;
 * mm_dimse_init must have run on the main thread. */
void mm_pacs_dimse_get_async (const MmDimsePeer *peer, const MmPacsGet *req,
                              MmPacsProgress progress, gpointer progress_data,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data);

/* The folder of the retrieved series, or NULL with the error (G_IO_ERROR_CANCELLED when
 * cancelled). */
char *mm_pacs_get_finish (GAsyncResult *result, GError **error);

G_END_DECLS
