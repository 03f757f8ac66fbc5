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

G_END_DECLS
