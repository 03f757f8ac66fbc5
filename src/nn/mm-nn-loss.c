/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-nn-loss.h"

#include <math.h>
#include <stdbool.h>

#define DICE_SMOOTH 1.0

/* Sums are taken in double over fixed chunks and added in order, so that the loss and its
 * gradient do not depend on the number of threads. */
#define CHUNK 65536

void
mm_nn_loss_sums (const float *logits, const uint8_t *target, size_t n, MmNnLossSums *sums)
{
  size_t n_chunks = (n + CHUNK - 1) / CHUNK;
  double *part = g_new0 (double, n_chunks * 4);
  uint64_t *cnt = g_new0 (uint64_t, n_chunks * 3);

#pragma omp parallel for schedule(static)
  for (size_t ch = 0; ch < n_chunks; ch++)
    {
      size_t lo = ch * CHUNK, hi = MIN (n, lo + CHUNK);
      double bce = 0, spt = 0, sp = 0, st = 0;
      uint64_t tp = 0, fp = 0, fn = 0;
      for (size_t i = lo; i < hi; i++)
        {
          double z = logits[i], t = target[i] ? 1.0 : 0.0;
          /* log(1 + e^-|z|) + max(z, 0) - z t: cross-entropy with logits, stable */
          bce += fmax (z, 0.0) - z * t + log1p (exp (-fabs (z)));
          double p = 1.0 / (1.0 + exp (-z));
          spt += p * t;
          sp += p;
          st += t;
          bool pos = z > 0;
          tp += pos && t > 0;
          fp += pos && t == 0;
          fn += !pos && t > 0;
        }
      part[ch * 4 + 0] = bce;
      part[ch * 4 + 1] = spt;
      part[ch * 4 + 2] = sp;
      part[ch * 4 + 3] = st;
      cnt[ch * 3 + 0] = tp;
      cnt[ch * 3 + 1] = fp;
      cnt[ch * 3 + 2] = fn;
    }
  double bce = 0, spt = 0, sp = 0, st = 0;
  uint64_t tp = 0, fp = 0, fn = 0;
  for (size_t ch = 0; ch < n_chunks; ch++)
    {
      bce += part[ch * 4 + 0];
      spt += part[ch * 4 + 1];
      sp += part[ch * 4 + 2];
      st += part[ch * 4 + 3];
      tp += cnt[ch * 3 + 0];
      fp += cnt[ch * 3 + 1];
      fn += cnt[ch * 3 + 2];
    }
  g_free (part);
  g_free (cnt);
  *sums = (MmNnLossSums){ .v = { bce, spt, sp, st, (double) tp, (double) fp, (double) fn,
                                 (double) n } };
}

void
mm_nn_loss_finish (const MmNnLossSums *sums, const float *logits, const uint8_t *target,
                   size_t n, float *grad, MmNnLoss *out)
{
  double bce = sums->v[0], spt = sums->v[1], sp = sums->v[2], st = sums->v[3];
  /* Counts travel as doubles (for MPI_Allreduce): exact below 2^53 pixels. */
  uint64_t tp = (uint64_t) sums->v[4], fp = (uint64_t) sums->v[5], fn = (uint64_t) sums->v[6];
  double n_all = sums->v[7];
  double num = 2.0 * spt + DICE_SMOOTH, den = sp + st + DICE_SMOOTH;
  double dice = num / den;
  if (out)
    {
      out->bce = n_all > 0 ? bce / n_all : 0;
      out->soft_dice = dice;
      out->loss = out->bce + (1.0 - dice);
      out->tp = tp;
      out->fp = fp;
      out->fn = fn;
      out->hard_dice = (tp + fp + fn) ? 2.0 * tp / (2.0 * tp + fp + fn) : 1.0;
    }
  if (grad == NULL)
    return;
  /* d(1 - dice)/dp_i = -(2 t_i den - num) / den^2; dp/dz = p (1 - p) */
  double inv_n = n_all > 0 ? 1.0 / n_all : 0;
  double a = 2.0 / den, b = num / (den * den);
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < n; i++)
    {
      double z = logits[i], t = target[i] ? 1.0 : 0.0;
      double p = 1.0 / (1.0 + exp (-z));
      double ddice = -(a * t - b);
      grad[i] = (float) ((p - t) * inv_n + ddice * p * (1.0 - p));
    }
}

void
mm_nn_loss_dice_bce (const float *logits, const uint8_t *target, size_t n, float *grad,
                     MmNnLoss *out)
{
  MmNnLossSums sums;
  mm_nn_loss_sums (logits, target, n, &sums);
  mm_nn_loss_finish (&sums, logits, target, n, grad, out);
}
