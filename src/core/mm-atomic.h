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

/* fsync a directory, so that renames in it survive a crash. */
bool mm_fsync_dir (const char *dir, GError **error);

/* Create dir and its parents (0755); a clear error if that is not possible. */
bool mm_ensure_dir (const char *dir, GError **error);

G_END_DECLS
