/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The trainer's insides, shared by mm-nn-train.c (the training loop) and
 * mm-nn-train-state.c (checkpoint state, model description, summary). */
#pragma once

#include "mm-adam.h"
#include "mm-nn-loss.h"
#include "mm-nn-model.h"
#include "mm-nn-sampler.h"
#include "mm-nn-threads.h"
#include "mm-nn-train.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MM_NN_TRAIN_STATE_FORMAT "metalmark-trainer-state"
#define MM_NN_TRAIN_STATE_VERSION 1

struct _MmNnTrainer
{
  MmNnTrainOptions opts;
  char *out, *ckpt, *csv, *png, *init_model;
  MmNnTrainData *data; /* names owned, volumes and masks borrowed */
  int n_data;
  MmNnSampler *sampler;

  MmUnet *net, *best;
  MmAdam *adam;
  MmUnetRun *run;  /* training patches, on the threads of the trainer's creation */
  MmUnetRun *run1; /* the same on one thread (made when first chosen) */
  int threads;     /* mm_nn_trainer_set_threads: 0 chooses per step */
  MmNnThreads pick;
  /* Data parallelism: the step's batch is parts x opts.batch patches; part p takes samples
   * p, p + parts, ... of the one random stream, which every rank draws whole. This process
   * holds parts [rank * local, (rank + 1) * local): one per MPI rank, or several emulated
   * in one process (MM_NN_EMULATE_RANKS, for tests; the parts' runs then go in lock step,
   * as separate ranks would). parts 1: the plain single-process step. */
  int rank, parts, local;
  bool sync_bn;          /* parts > 1: batch norm over all parts (MM_NN_SYNC_BN=0: off) */
  MmUnetRun **part_runs; /* local > 1: one run per local part */
  float *flat;           /* parts > 1: every trainable gradient, then the running stats */
  float *running0;       /* parts > 1: the running stats before the step */
  size_t n_flat_grad, n_flat_running;
  int16_t *hu;     /* one patch */
  uint8_t *target; /* batch x patch x patch */
  float *grad;

  /* Where training stands: epochs finished, steps into the next one and their sums. */
  int epoch, step;
  gint64 global_step;
  double loss_sum, step_s;
  guint64 tp, fp, fn;
  GArray *curves; /* MmNnEpochRecord, one per finished epoch */
  int best_epoch; /* 0: none yet */
  double val_s;   /* the last validation's duration, for the ETA */

  /* Time: what earlier sessions spent, and this session's start (0 when not running). */
  double elapsed_before;
  gint64 session_start;
  gint64 session_steps;
  double session_step_s;
};

/* One Adam step on opts.batch patches per part (mm-nn-train-step.c); fills loss. */
bool mm_nn_train_step_run (MmNnTrainer *t, MmUnetRun *run, MmNnLoss *loss,
                           GError **error);
/* Sets rank, parts and local from MPI or MM_NN_EMULATE_RANKS (trainer_build, first). */
bool mm_nn_train_parts_init (MmNnTrainer *t, GError **error);
/* A training run of the trainer's batch and patch: synchronised when the parts are. */
MmUnetRun *mm_nn_train_run_new (MmNnTrainer *t, MmUnet *net, bool own_grads, GError **error);
/* Sets up part runs and buffers (trainer_build, after parts_init). */
bool mm_nn_train_step_init (MmNnTrainer *t, GError **error);
/* Whether this process writes files: rank 0 only. */
static inline bool
mm_nn_trainer_writes (const MmNnTrainer *t)
{
  return t->rank == 0;
}

/* Training time of all sessions, seconds. */
double mm_nn_trainer_elapsed (const MmNnTrainer *t);
/* The record of a finished epoch (1-based), NULL for any other. */
const MmNnEpochRecord *mm_nn_trainer_record (const MmNnTrainer *t, int epoch);

/* The state a checkpoint carries: options, counters, random state, curves, and what the
 * data were (to refuse resuming on other data). */
char *mm_nn_trainer_state_json (const MmNnTrainer *t);
/* Parses a checkpoint's state; fills opts. NULL with MM_NN_ERROR_MODEL naming ckpt. */
JsonNode *mm_nn_train_state_parse (const char *text, const char *ckpt,
                                   MmNnTrainOptions *opts, GError **error);
/* Restores the counters, random state and curves into a trainer built from the same state. */
bool mm_nn_trainer_state_restore (MmNnTrainer *t, JsonNode *state, const char *ckpt,
                                  GError **error);

/* The description saved with the best model (owned strings: mm_nn_model_info_clear). */
void mm_nn_trainer_model_info (const MmNnTrainer *t, MmNnModelInfo *info);

G_END_DECLS
