/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The training loss: binary cross-entropy (mean over pixels) + (1 - soft Dice), the Dice
 * taken over the whole batch with smoothing 1:
 *   p = sigmoid (z), dice = (2 sum p t + 1) / (sum p + sum t + 1).
 * Cross-entropy alone collapses to "no metal" (metal is ~0.04 % of a CT's voxels); the
 * Dice term keeps the gradient of the rare class. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct
{
  double loss;  /* bce + (1 - soft_dice) */
  double bce;
  double soft_dice;
  double hard_dice; /* Dice of (p >= 0.5) against t; 1 when both are empty */
  uint64_t tp, fp, fn;
} MmNnLoss;

/* logits and target (0/1) of n pixels; grad (may be NULL) receives d loss / d logits. */
void mm_nn_loss_dice_bce (const float *logits, const uint8_t *target, size_t n, float *grad,
                          MmNnLoss *out);

/* The same in two halves, for data-parallel training where each rank holds part of the
 * batch: the sums the loss is made of (cross-entropy, sum p t, sum p, sum t, tp, fp, fn,
 * pixels), which ranks add up, then the loss and the gradient of this rank's n pixels from
 * the sums of all. Dice over the whole batch is not a mean of per-part Dice, so averaging
 * per-rank gradients alone would not give the global batch's gradient. */
#define MM_NN_LOSS_N_SUMS 8
typedef struct
{
  double v[MM_NN_LOSS_N_SUMS];
} MmNnLossSums;

void mm_nn_loss_sums (const float *logits, const uint8_t *target, size_t n, MmNnLossSums *sums);
void mm_nn_loss_finish (const MmNnLossSums *sums, const float *logits, const uint8_t *target,
                        size_t n, float *grad, MmNnLoss *out);

G_END_DECLS
