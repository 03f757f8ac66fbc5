/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Training a U-Net on CT volumes with metal masks: patch sampling and augmentation, Adam on
 * Dice + BCE, whole-slice validation after every epoch, the best model kept and written,
 * checkpoints to resume from. Used by `metalmark-cli train` and by the app; reports through
 * a callback and stops on a GCancellable, never prints.
 *
 * Files, for an output path MODEL: MODEL (the best model so far, rewritten whenever the
 * validation Dice improves; without validation, after every epoch), MODEL.csv and MODEL.png
 * (the curves, after every epoch), MODEL.ckpt (network, optimiser and trainer state, after
 * every epoch and when cancelled). Training with one seed, a fixed thread count
 * (mm_nn_trainer_set_threads) and the same data gives the same tensors bit for bit, also
 * across a cancel and resume. */
#pragma once

#include "mm-mask.h"
#include "mm-nn-plot.h"
#include "mm-unet.h"
#include "mm-volume.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* How slices are set aside for validation, per volume of n slices. */
typedef enum
{
  /* The slices are cut into `blocks` contiguous blocks, block b = [b n / blocks,
   * (b + 1) n / blocks); block val_block validates and `guard` slices either side of it are
   * used for neither, so that neighbours nearly identical to validation slices do not leak
   * into training. */
  MM_NN_SPLIT_BLOCKS,
  /* Every interleave-th slice (k % interleave == interleave - 1) validates, the rest trains:
   * what older work did; neighbours leak, so its Dice is optimistic. For comparison. */
  MM_NN_SPLIT_INTERLEAVED,
  MM_NN_SPLIT_NONE, /* everything trains; the model file is the last epoch's */
} MmNnSplit;

const char *mm_nn_split_name (MmNnSplit split);
bool mm_nn_split_from_name (const char *name, MmNnSplit *split);

typedef struct
{
  MmUnetArch arch;       /* depth 3, width 8; when fine-tuning, the model's own */
  int batch;             /* patches per step: 8 */
  int patch;             /* side of a square patch, a multiple of 2^(depth-1): 128 */
  double lr;             /* Adam's learning rate, constant: 1e-3 */
  int epochs;            /* 20; 0: until the time budget is spent */
  double time_budget_s;  /* 0: none; else stop (after validating) once training has taken
                            this long, all sessions counted */
  int steps_per_epoch;   /* 200 */
  guint64 seed;          /* initial weights and sampling: 1 */
  MmNnSplit split;       /* blocks */
  int blocks;            /* 5 */
  int val_block;         /* 2, the middle of 5 */
  int guard;             /* 2 */
  int interleave;        /* 5 */
  int val_batch;         /* slices per validation batch of each thread: 1 */
  double metal_fraction; /* share of patches centred near a metal voxel: 0.6 */
} MmNnTrainOptions;

void mm_nn_train_options_init (MmNnTrainOptions *opts);

/* One training volume and its mask (same dims); borrowed for the trainer's lifetime. The
 * names (series path and mask folder) go into the model's description. */
typedef struct
{
  const MmVolume *volume;
  const MmMask *mask;
  const char *name;
  const char *mask_name;
} MmNnTrainData;

typedef enum
{
  MM_NN_TRAIN_STEP,     /* a training step is done */
  MM_NN_TRAIN_VALIDATE, /* validation slices predicted */
  MM_NN_TRAIN_EPOCH,    /* an epoch is over; record holds its figures */
} MmNnTrainPhase;

typedef struct
{
  MmNnTrainPhase phase;
  int epoch;           /* 1-based: the epoch under way, or just finished */
  int epochs;          /* planned; 0 when only the time budget bounds training */
  int step, steps;     /* STEP: steps of this epoch; VALIDATE: slices predicted of all */
  double loss;         /* mean loss of this epoch's steps so far */
  double val_dice;     /* the last validation's; NaN before it or without validation */
  double best_dice;    /* NaN likewise */
  int best_epoch;      /* 0: none yet */
  double eta_s;        /* to the end of training; NaN while unknown */
  double images_per_s; /* training patches per second in this epoch */
  double elapsed_s;    /* all sessions */
  const MmNnEpochRecord *record; /* EPOCH only */
  bool improved;       /* EPOCH: the model file was rewritten */
} MmNnTrainProgress;

typedef void (*MmNnTrainProgressFunc) (const MmNnTrainProgress *progress, gpointer user_data);

typedef struct _MmNnTrainer MmNnTrainer;

/* A new training run writing to out_path. init_model (may be NULL) is a model file to
 * fine-tune from: its architecture replaces opts->arch. Errors name the file or option at
 * fault: masks that do not fit their volume, a split with no training or validation slice,
 * a patch the network cannot take. */
MmNnTrainer *mm_nn_trainer_new (const MmNnTrainOptions *opts, const MmNnTrainData *data,
                                int n_data, const char *out_path, const char *init_model,
                                GError **error);

/* Continues the run whose checkpoint is out_path + ".ckpt", with its options; epochs and
 * time_budget_s replace the checkpoint's when >= 0. The data must be the same volumes and
 * masks (checked by size and metal voxel count). */
MmNnTrainer *mm_nn_trainer_resume (const MmNnTrainData *data, int n_data,
                                   const char *out_path, int epochs, double time_budget_s,
                                   GError **error);

void mm_nn_trainer_free (MmNnTrainer *trainer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmNnTrainer, mm_nn_trainer_free)

/* A few lines saying what will be trained on what (volumes, slices, split, network). */
char *mm_nn_trainer_dup_summary (const MmNnTrainer *trainer);
const MmNnTrainOptions *mm_nn_trainer_get_options (const MmNnTrainer *trainer);

/* Threads of each training step. 0 (the default): chosen per step by measurement, one or
 * omp_get_max_threads () (mm-nn-threads.h: two threads slow down 5-15x when another process
 * is busy on a two-core machine); the tensors then depend on the load in their last digits.
 * 1: one thread; n > 1: the omp_get_max_threads () of the trainer's creation (oneDNN fixes a
 * plan's thread count when it is built). Both bit-identical from run to run. */
void mm_nn_trainer_set_threads (MmNnTrainer *trainer, int n);

/* Trains until the epochs or the time budget are done. When cancel fires, the checkpoint is
 * written and false returned with G_IO_ERROR_CANCELLED (the model file holds the best epoch
 * so far, if one has finished). The progress callback runs in the calling thread. */
bool mm_nn_trainer_run (MmNnTrainer *trainer, MmNnTrainProgressFunc progress,
                        gpointer progress_data, GCancellable *cancel, GError **error);

/* The epochs finished so far (all sessions). */
const MmNnEpochRecord *mm_nn_trainer_get_curves (const MmNnTrainer *trainer, int *n);
/* The best epoch (0 when none has finished) and its record. */
int mm_nn_trainer_get_best (const MmNnTrainer *trainer, const MmNnEpochRecord **record);

/* out_path + suffix: ".csv", ".png", ".ckpt". */
char *mm_nn_train_file (const char *out_path, const char *suffix);

G_END_DECLS
