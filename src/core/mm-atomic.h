/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Atomic file replacement: a reader sees the old file or the new one, never half of one. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* Write data to a temporary file beside path, fsync it (when durable), rename it over path.
 * On failure the temporary file is removed and path is untouched. */
bool mm_atomic_write (const char *path, const void *data, size_t len, bool durable,
                      GError **error);

/* The two halves of mm_atomic_write, for writing many files all-or-nothing: prepare writes
 * and syncs a temporary file beside path (its name in *tmp_out, g_free), commit renames it
 * over path. A batch prepares every file first and commits only when all succeeded. */
bool mm_atomic_prepare (const char *path, const void *data, size_t len, char **tmp_out,
                        GError **error);
bool mm_atomic_commit (const char *tmp, const char *path, GError **error);
/* Batches of many files, durable at less cost: prepare_unsynced writes the temporary file and
 * only starts its writeback; after every file of the batch is written, sync_file waits for
 * each (fsync; path names the file in errors). The disk then writes them in parallel and one
 * journal commit covers many files, where an fsync after each write waited for each in turn.
 * Commit only after every sync_file succeeded. */
bool mm_atomic_prepare_unsynced (const char *path, const void *data, size_t len,
                                 char **tmp_out, GError **error);
bool mm_atomic_sync_file (const char *tmp, const char *path, GError **error);

/* True when path does not exist or is a regular file (not a symbolic link); otherwise a
 * G_IO_ERROR_NOT_REGULAR_FILE naming it. Every writer here calls it before replacing path:
 * output never goes through a link or into a device, pipe or folder. */
bool mm_atomic_check_target (const char *path, GError **error);

/* A crash-test point before each commit step (see MM_TEST_KILL_AT_RENAME in mm-atomic.c). */
void mm_atomic_test_step (void);

/* Remove the regular files in dir named prefix + 6 characters + suffix: the temporaries a
 * killed writer left (mm_atomic_write does it for its own file before writing). */
void mm_atomic_remove_stale (const char *dir, const char *prefix, const char *suffix);

/* fsync a directory, so that renames in it survive a crash. */
bool mm_fsync_dir (const char *dir, GError **error);

/* Create dir and its parents (0755); a clear error if that is not possible. */
bool mm_ensure_dir (const char *dir, GError **error);

G_END_DECLS
