/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Batch over many series: the per-series output folders, their status.json, the share of a
 * cluster task (shard) and the rules that make a rerun idempotent. No DICOM, no process
 * handling here: the caller finds the series and runs one (see src/cli/mm-cli-batch.c). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

#define MM_BATCH_STATUS_FILE "status.json"
/* Work folders under the output root; never a series folder (a UID starts with a digit). */
#define MM_BATCH_PARTIAL_DIR ".partial"
#define MM_BATCH_MAX_SHARDS 1000000

/* The folder name for a series: the UID itself when it is a valid DICOM UID (digits and
 * dots, at most 64 characters, no empty component), else "h-" and 32 hex digits of its
 * SHA-256. Never a path built from an unchecked DICOM value. */
char *mm_batch_folder_name (const char *uid);

/* The shard (0 <= k < n) a UID belongs to: the first 8 bytes of its SHA-256, modulo n. The
 * same UID always lands in the same shard, whatever else is in the archive. */
guint mm_batch_shard_of (const char *uid, guint n);

/* Parse "K/N" (0 <= K < N <= MM_BATCH_MAX_SHARDS). */
bool mm_batch_parse_shard (const char *text, guint *k, guint *n, GError **error);

/* The shard from a Slurm array task: K = SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN,
 * N = SLURM_ARRAY_TASK_COUNT. env is a GLib environment (g_get_environ ()). Returns false
 * with no error when they are not set (the caller then does everything, 0/1), false with an
 * error when they are set but make no sense (an array with gaps such as --array=1,5 ...). */
bool mm_batch_shard_from_env (char **env, guint *k, guint *n, GError **error);

/* A hash of what decides a series' outputs: the command, the program version and the
 * command's options (in order). Equal hashes: a done series is not done again. */
char *mm_batch_params_hash (const char *command, const char *version, char **args);

/* A fingerprint of a series' input files (path, size, modification time, in the order
 * given): a series whose files changed is done again even with the same parameters. Files
 * that cannot be examined count as changed (their path and "?"). */
char *mm_batch_inputs_hash (char **files);

typedef enum
{
  MM_BATCH_TODO,   /* no folder, or no readable status.json */
  MM_BATCH_DONE,   /* done with the same parameters hash */
  MM_BATCH_FAILED, /* failed with the same parameters hash: tried again */
  MM_BATCH_STALE,  /* done or failed with other parameters or inputs: done again */
} MmBatchState;

/* The state of root/name for params_hash and inputs_hash (NULL: inputs not compared). */
MmBatchState mm_batch_state (const char *root, const char *name, const char *params_hash,
                             const char *inputs_hash);

/* A fresh work folder root/.partial/name.XXXXXX (g_free) for a series, after removing what a
 * killed task left there for the same series. Only the shard owning name calls this. */
char *mm_batch_begin (const char *root, const char *name, GError **error);

/* Write status (pretty JSON) as work/status.json, then publish work as root/name in one
 * rename (an older root/name is moved aside first and removed after): a reader sees the old
 * folder or the finished new one, never a half-written series. */
bool mm_batch_commit (const char *root, const char *name, const char *work, JsonNode *status,
                      GError **error);

/* Remove a folder tree we wrote (symbolic links are removed, never followed). */
void mm_batch_remove_tree (const char *path);

/* The series folders (names) under root that hold a status.json, sorted. */
GPtrArray *mm_batch_list (const char *root, GError **error);

/* ---- The series index: the archive scanned once, for every task ------------------------ */

/* A series as batch needs it: its name for the reader (--series) and its files. */
typedef struct
{
  char *uid;
  char **files; /* NULL-terminated */
  guint n_files;
} MmBatchSeries;

void mm_batch_series_free (MmBatchSeries *series);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmBatchSeries, mm_batch_series_free)

/* An index file is at most this large (about 5 million files of 100-character paths). */
#define MM_BATCH_INDEX_MAX_BYTES (512u << 20)

/* Write series (MmBatchSeries *) as an index: a header line, then "UID<TAB>PATH" for every
 * file, atomically. A UID or path holding a tab, a newline or a carriage return cannot be
 * written: an error naming it. */
bool mm_batch_index_write (const char *path, GPtrArray *series, GError **error);

/* Read an index written by mm_batch_index_write: the series (MmBatchSeries *, free func
 * set) in the order of their first line. Errors name the file and line. */
GPtrArray *mm_batch_index_read (const char *path, GError **error);

G_END_DECLS
