/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The app's metal artifact reduction as background work (issue 17, part 3; docs/mar-app.md):
 * the correction of a series (mm_mar_volume, the core's LI-MAR or NMAR) and the writing of
 * the corrected series as a new derived DICOM series (mm_dicom_write_derived, the writer
 * `metalmark-cli mar` uses). Each worker owns what it reads (copies the caller hands over),
 * so the window may show another series or close meanwhile; progress reaches the main
 * context through mm_main_call. */
#pragma once

#include "mm-mar.h"
#include "mm-mask.h"
#include "mm-volume.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* On the main context: slices done of total. */
typedef void (*MmMarTaskProgressFunc) (gpointer target, int done, int total);

typedef struct
{
  void *voxels;      /* the corrected values: the type and size of the input's voxels
                        (mm_alloc_large; free with mm_free_large) */
  MmMarMethod method;
  int n_views;
  bool from_threshold; /* no mask was given: metal was HU >= MM_METAL_THRESHOLD_DEFAULT, as
                          `metalmark-cli mar` does without --mask */
  guint64 metal_voxels;
  double seconds;    /* wall time of the correction */
} MmMarTaskResult;

void mm_mar_task_result_free (MmMarTaskResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmMarTaskResult, mm_mar_task_result_free)

/* vol (voxels and grid; a copy the caller made) and mask (nullable: threshold as the CLI
 * does; a copy) are taken. progress (nullable) is called with target (a GObject, referenced
 * until the task ends) at most once per slice. Test only: MM_TEST_SLOW_MAR_MS=N in the
 * environment makes the worker wait N ms after each slice (cancellably), so that tests can
 * use the window or cancel while a correction is surely under way. */
void mm_mar_task_async (MmVolume *vol, MmMask *mask, MmMarMethod method,
                        GCancellable *cancellable, MmMarTaskProgressFunc progress,
                        gpointer target, GAsyncReadyCallback callback, gpointer user_data);
/* The result, or NULL with the error (G_IO_ERROR_CANCELLED when cancelled). */
MmMarTaskResult *mm_mar_task_finish (GAsyncResult *result, GError **error);

/* A folder for a new series inside the folder the user chose: dir itself when it is empty,
 * else a new subfolder dir/<base>, dir/<base>-2, ... (created here, so that two exports never
 * share one). base is the app's own text, never a DICOM value. NULL with error when dir
 * cannot be read or no subfolder can be made. */
char *mm_mar_task_output_dir (const char *dir, const char *base, GError **error);

/* Write vol (the source series' header with the corrected int16 HU as voxels; taken) into
 * dir as a derived series named description, derivation as its Derivation Description. */
void mm_mar_export_async (MmVolume *vol, const char *dir, const char *description,
                          const char *derivation, GAsyncReadyCallback callback,
                          gpointer user_data);
gboolean mm_mar_export_finish (GAsyncResult *result, GError **error);

/* Corrected voxels of vol's type as the int16 HU a derived series stores (float values
 * rounded and clamped to -1024..32767 - 1024, as `metalmark-cli mar` does); a new buffer
 * (mm_alloc_large), NULL without memory. */
gint16 *mm_mar_task_to_int16 (const MmVolume *vol, const void *voxels);

G_END_DECLS
