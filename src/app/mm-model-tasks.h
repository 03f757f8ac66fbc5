/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The model's background work as GTask: detection (a U-Net's mask of a volume) and training
 * (fine-tuning on one series and its mask). Each worker owns what it reads (copies the caller
 * hands over) and holds the default application while it runs, so a window may close at once
 * while the worker stops at its next slice or step and cleans up on its own; the process ends
 * after it. Progress reaches the main context through mm_main_call. */
#pragma once

#include "mm-mask.h"
#include "mm-nn-train.h"
#include "mm-volume.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* On the main context: slices done of total. */
typedef void (*MmDetectProgressFunc) (gpointer target, int done, int total);

/* vol is taken (a copy the caller made). progress (nullable) is called with target (a GObject,
 * referenced until the task ends). Test only: MM_TEST_SLOW_PREDICT_MS=N in the environment
 * makes the worker wait N ms after each batch (cancellably), so that tests can cancel or close
 * while a detection is surely under way. */
void mm_detect_async (const char *model, MmVolume *vol, GCancellable *cancellable,
                      MmDetectProgressFunc progress, gpointer target,
                      GAsyncReadyCallback callback, gpointer user_data);
/* The mask, or NULL with the error (G_IO_ERROR_CANCELLED when cancelled). */
MmMask *mm_detect_finish (GAsyncResult *result, GError **error);

/* On the main context; progress->record is valid during the call (EPOCH only). */
typedef void (*MmTrainProgressFunc) (gpointer target, const MmNnTrainProgress *progress);

typedef struct
{
  char *init_model;     /* the model to fine-tune, NULL: a new network */
  MmVolume *volume;     /* the series (a copy) */
  MmMask *mask;         /* its mask (a copy) */
  char *name, *mask_name; /* recorded in the model's description */
  char *out;            /* the model file to write */
  MmNnTrainOptions opts;
} MmTrainJob;

void mm_train_job_free (MmTrainJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmTrainJob, mm_train_job_free)

/* job is taken. The app offers no resume, so the trainer's checkpoint (out + ".ckpt") is
 * removed when the run ends however it ends; when cancelled before an epoch finished, nothing
 * of the run is left (no model, curves or checkpoint). */
void mm_train_async (MmTrainJob *job, GCancellable *cancellable, MmTrainProgressFunc progress,
                     gpointer target, GAsyncReadyCallback callback, gpointer user_data);
/* True: trained to the end. False with G_IO_ERROR_CANCELLED: cancelled, and *have_model says
 * whether the best epoch so far is kept in the model file; false with another error: failed
 * (nothing kept when no epoch finished). */
gboolean mm_train_finish (GAsyncResult *result, gboolean *have_model, GError **error);

G_END_DECLS
