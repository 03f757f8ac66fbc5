/* SPDX-License-Identifier: GPL-3.0-or-later */
/* WADO-RS series retrieval: the multipart/related answer is streamed to disk part by part
 * (never held in memory) into a temporary folder beside the destination, which is renamed
 * into place only when the whole series arrived: a folder at the destination is always
 * complete. And the local cache of retrieved series (bounded size, least recently used
 * evicted). */
#pragma once

#include "mm-pacs-server.h"

G_BEGIN_DECLS

/* Called after each chunk written: bytes of the answer so far, instances complete. */
typedef void (*MmPacsProgress) (guint64 bytes, guint instances, gpointer user);

typedef struct
{
  guint64 max_bytes;      /* the whole answer (default 16 GiB) */
  guint64 max_part_bytes; /* one instance (default 2 GiB) */
  guint max_instances;    /* default 100000 */
} MmPacsLimits;

void mm_pacs_limits_init (MmPacsLimits *lim);

/* Retrieve series series_uid of study study_uid into dest (which must not exist, or be an
 * empty folder; its parent must exist) as 000001.dcm, 000002.dcm... in the order the server
 * sent them (no name comes from a DICOM value). Each part must be application/dicom and a
 * DICOM Part 10 file. On any failure (HTTP error, wrong content type, truncated answer, a
 * limit, cancel) nothing is left at dest nor beside it. Returns the number of instances, 0
 * on failure. */
guint mm_pacs_retrieve_series (MmPacsServer *srv, const char *study_uid,
                               const char *series_uid, const char *dest,
                               const MmPacsLimits *lim, MmPacsProgress progress,
                               gpointer user, GCancellable *cancellable, GError **error);

/* $XDG_CACHE_HOME/metalmark/pacs (newly allocated). */
char *mm_pacs_cache_default_root (void);

/* The cache folder name of a series: a hash of the server URL and the UIDs (never a DICOM
 * value in a path). */
char *mm_pacs_cache_key (const char *base_url, const char *study_uid, const char *series_uid);

/* The series from the cache under root (created when missing), retrieved first when it is
 * not there; marks it as used now and then evicts the least recently used series until the
 * cache holds at most max_bytes (never the one returned). The folder's path, or NULL. */
char *mm_pacs_cache_series (MmPacsServer *srv, const char *root, guint64 max_bytes,
                            const char *study_uid, const char *series_uid,
                            const MmPacsLimits *lim, MmPacsProgress progress, gpointer user,
                            GCancellable *cancellable, GError **error);

/* Evict least recently used series under root until the total is at most max_bytes; keep
 * (a folder name, may be NULL) is never evicted. Also removes temporary folders left by a
 * killed retrieval (older than an hour). The bytes the cache holds afterwards. */
guint64 mm_pacs_cache_evict (const char *root, guint64 max_bytes, const char *keep);

G_END_DECLS
