/* SPDX-License-Identifier: GPL-3.0-or-later */
/* batch predict: the model loaded once per process, each series predicted in this process
 * (a child per series would load the model again for every series). */
#pragma once

#include "mm-batch.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _MmCliBatchPredict MmCliBatchPredict;

/* Parse predict's options (--model, --batch, --force) and load the model; NULL with a
 * usage message or the model's error printed, *rc set. */
MmCliBatchPredict *mm_cli_batch_predict_new (char **opts, int threads, int *rc);
void mm_cli_batch_predict_free (MmCliBatchPredict *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmCliBatchPredict, mm_cli_batch_predict_free)

/* Predict series into work/labels (what 'metalmark-cli predict' writes, byte for byte) and
 * add state, reason, timings_s (read, segment, write: wall seconds) and result to b; true
 * when done. */
bool mm_cli_batch_predict_run (MmCliBatchPredict *p, const MmBatchSeries *series,
                               const char *work, JsonBuilder *b);

G_END_DECLS
