/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The trainer's data side: which slices train and which validate (MmNnSplit), and training
 * patches drawn from the training slices with augmentation, from a seeded random stream of
 * our own (the same sequence on every platform and thread count). */
#pragma once

#include "mm-nn-train.h"

G_BEGIN_DECLS

typedef struct _MmNnSampler MmNnSampler;

/* Splits every volume's slices as opts says; data are borrowed. Errors: a volume with fewer
 * slices than blocks, no training slice left. */
MmNnSampler *mm_nn_sampler_new (const MmNnTrainData *data, int n_data,
                                const MmNnTrainOptions *opts, GError **error);
void mm_nn_sampler_free (MmNnSampler *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmNnSampler, mm_nn_sampler_free)

/* Validation slices of volume v, ascending; and of all volumes together. */
const int *mm_nn_sampler_val_slices (const MmNnSampler *s, int v, int *n);
int mm_nn_sampler_n_val (const MmNnSampler *s);
/* Training slices of volume v, and how many of them hold metal. */
void mm_nn_sampler_train_counts (const MmNnSampler *s, int v, int *slices, int *with_metal);
/* How volume v was split, in words. */
char *mm_nn_sampler_describe (const MmNnSampler *s, int v);

/* One patch (opts->patch squared) as HU and 0/1 target: with probability metal_fraction
 * around a random metal voxel of a random training slice that holds metal (jittered by up to
 * a third of the patch), else anywhere on a random training slice, redrawn a few times while
 * it is nothing but air and padding; then one of the eight symmetries of the square. Beyond
 * the slice: MM_NN_PAD_HU and no metal. */
void mm_nn_sampler_draw (MmNnSampler *s, int16_t *hu, uint8_t *target);

/* The random stream's state, for checkpoints. */
void mm_nn_sampler_get_state (const MmNnSampler *s, guint64 state[4]);
void mm_nn_sampler_set_state (MmNnSampler *s, const guint64 state[4]);

G_END_DECLS
