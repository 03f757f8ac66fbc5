/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Synchronised batch norm: the C steps that make batch norm over a batch spread across
 * several runs (data-parallel parts, MPI ranks) equal batch norm over the whole batch.
 *
 * Forward, per channel c over the group's N values: sums S = sum y, Q = sum y^2 (double,
 * in a fixed order, so independent of the thread count), added over the group at the sync
 * step, then mean = S / N and the biased variance Q / N - mean^2; oneDNN normalises with
 * them (dnnl_use_global_stats) and fuses the ReLU as before.
 *
 * Backward: oneDNN, given the statistics, treats them as constants: it returns
 * dx' = gamma s g (s = 1 / sqrt (var + eps), g the gradient behind the ReLU) and this run's
 * sums d beta = sum g, d gamma = sum g x-hat. Those two are added over the group, and the
 * statistics' share of the gradient is subtracted here:
 *   dx = gamma s (g - d beta / N - x-hat d gamma / N),
 * which is what oneDNN computes for a batch it holds whole. The parameters' gradients stay
 * this run's own (the trainer adds them over the group with the other gradients). */
#include "mm-unet-run-private.h"

#include <math.h>
#include <string.h>

/* Where channel c of (n, h, w) lives: oneDNN's blocked layouts (nChw8c, nChw16c) and nhwc
 * alike: n s0 + (c / B) s1 + h s2 + w s3 + c % B, B the inner channel block (1 without). */
typedef struct
{
  int64_t n, c, h, w, B, CB;
  int64_t s0, s1, s2, s3;
} Layout;

static Layout
layout_of (dnnl_memory_t m)
{
  const dnnl_memory_desc_t *md = mm_unet_mem_md (m);
  const dnnl_blocking_desc_t *bd = &md->format_desc.blocking;
  Layout L = { .n = md->dims[0], .c = md->dims[1], .h = md->dims[2], .w = md->dims[3],
               .B = 1, .s0 = bd->strides[0], .s1 = bd->strides[1], .s2 = bd->strides[2],
               .s3 = bd->strides[3] };
  /* Activations are made by mm_unet_act_new: blocked by channels only, or plain. */
  g_assert (md->format_kind == dnnl_blocked && md->data_type == dnnl_f32);
  if (bd->inner_nblks == 1)
    {
      g_assert (bd->inner_idxs[0] == 1);
      L.B = bd->inner_blks[0];
    }
  else
    g_assert (bd->inner_nblks == 0);
  L.CB = (L.c + L.B - 1) / L.B;
  return L;
}

/* Per-channel sum and sum of squares of y into the slot, then the count. */
static void
bn_sums (MmUnetRun *run, const SyncBn *sb)
{
  Layout L = layout_of (sb->y);
  const float *y = mm_unet_mem_ptr (sb->y);
  int64_t C = sb->c, B = L.B;
  /* per (image, channel block): B sums then B sums of squares */
  double *part = g_new0 (double, (size_t) (L.n * L.CB * 2 * B));
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t n = 0; n < L.n; n++)
    for (int64_t cb = 0; cb < L.CB; cb++)
      {
        double *s = part + (n * L.CB + cb) * 2 * B, *q = s + B;
        const float *base = y + n * L.s0 + cb * L.s1;
        for (int64_t h = 0; h < L.h; h++)
          for (int64_t w = 0; w < L.w; w++)
            {
              const float *p = base + h * L.s2 + w * L.s3;
              for (int64_t j = 0; j < B; j++)
                {
                  s[j] += p[j];
                  q[j] += (double) p[j] * p[j];
                }
            }
      }
  double *S = run->sync_buf + sb->slot, *Q = S + C;
  for (int64_t c = 0; c < C; c++)
    {
      double s = 0, q = 0;
      int64_t cb = c / B, j = c % B;
      for (int64_t n = 0; n < L.n; n++)
        {
          s += part[(n * L.CB + cb) * 2 * B + j];
          q += part[(n * L.CB + cb) * 2 * B + B + j];
        }
      S[c] = s;
      Q[c] = q;
    }
  S[2 * C] = (double) (L.n * L.h * L.w);
  g_free (part);
}

static void
bn_moments (MmUnetRun *run, SyncBn *sb)
{
  const double *S = run->sync_buf + sb->slot, *Q = S + sb->c;
  float *mean = mm_unet_mem_ptr (sb->mean), *var = mm_unet_mem_ptr (sb->var);
  double N = S[2 * sb->c];
  sb->n = N;
  for (int c = 0; c < sb->c; c++)
    {
      double m = S[c] / N;
      /* In double the cancellation is harmless for activations (|mean| / std << 1e6). */
      double v = Q[c] / N - m * m;
      mean[c] = (float) m;
      var[c] = (float) (v > 0 ? v : 0);
    }
}

static void
bn_dsums (MmUnetRun *run, const SyncBn *sb)
{
  double *D = run->sync_buf + sb->dslot;
  for (int c = 0; c < sb->c; c++)
    {
      D[c] = sb->dshift[c];
      D[sb->c + c] = sb->dscale[c];
    }
}

static void
bn_dgrad (MmUnetRun *run, const SyncBn *sb)
{
  Layout L = layout_of (sb->dy);
  const float *y = mm_unet_mem_ptr (sb->y);
  float *dy = mm_unet_mem_ptr (sb->dy);
  const float *mean = mm_unet_mem_ptr (sb->mean), *var = mm_unet_mem_ptr (sb->var);
  const double *D = run->sync_buf + sb->dslot;
  int64_t C = sb->c, B = L.B;
  /* Per channel: s, a = gamma s d beta / N, b = gamma s d gamma / N (padding: zero). */
  float *k = g_new0 (float, (size_t) (3 * L.CB * B));
  for (int64_t c = 0; c < C; c++)
    {
      double s = 1.0 / sqrt ((double) var[c] + BN_EPS), gs = sb->scale[c] * s;
      k[c] = (float) s;
      k[L.CB * B + c] = (float) (gs * D[c] / sb->n);
      k[2 * L.CB * B + c] = (float) (gs * D[C + c] / sb->n);
    }
  const float *ks = k, *ka = k + L.CB * B, *kb = k + 2 * L.CB * B;
#pragma omp parallel for schedule(static) collapse(2)
  for (int64_t n = 0; n < L.n; n++)
    for (int64_t cb = 0; cb < L.CB; cb++)
      {
        int64_t o = n * L.s0 + cb * L.s1;
        int64_t nb = MIN (B, C - cb * B);
        for (int64_t h = 0; h < L.h; h++)
          for (int64_t w = 0; w < L.w; w++)
            {
              int64_t p = o + h * L.s2 + w * L.s3;
              for (int64_t j = 0; j < nb; j++)
                {
                  int64_t c = cb * B + j;
                  float xhat = (y[p + j] - mean[c]) * ks[c];
                  dy[p + j] -= ka[c] + xhat * kb[c];
                }
            }
      }
  g_free (k);
}

void
mm_unet_sync_execute (MmUnetRun *run, const Step *s)
{
  switch (s->kind)
    {
    case STEP_BN_SUMS:
      bn_sums (run, s->sbn);
      break;
    case STEP_BN_MOMENTS:
      bn_moments (run, s->sbn);
      break;
    case STEP_BN_DSUMS:
      bn_dsums (run, s->sbn);
      break;
    case STEP_BN_DGRAD:
      bn_dgrad (run, s->sbn);
      break;
    default:
      g_assert_not_reached ();
    }
}
