/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The training window: status, progress, figures and the live curves (drawn by mm-nn-plot.c,
 * as in the PNG beside the model); Cancel while training, then Close. Not modal: the series
 * can be viewed and edited meanwhile (training works on a copy). */
#pragma once

#include "mm-nn-train.h"

#include <adwaita.h>

G_BEGIN_DECLS

#define MM_TYPE_TRAIN_WINDOW (mm_train_window_get_type ())
G_DECLARE_FINAL_TYPE (MmTrainWindow, mm_train_window, MM, TRAIN_WINDOW, AdwWindow)

MmTrainWindow *mm_train_window_new (GtkWindow *parent);

/* A new run: the curves are cleared, Cancel cancels cancel. planned_s 0: no time limit. */
void mm_train_window_start (MmTrainWindow *self, int planned_epochs, double planned_s,
                            const char *file_text, GCancellable *cancel);
void mm_train_window_progress (MmTrainWindow *self, const MmNnTrainProgress *progress);
/* The run is over: status says how; the button closes the window. */
void mm_train_window_finish (MmTrainWindow *self, const char *status);

G_END_DECLS
