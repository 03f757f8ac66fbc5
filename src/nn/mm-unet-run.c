/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The U-Net's run graph on oneDNN's C API: assembled once, then executed.
 *
 * A run is two lists of steps built once: forward and backward. Most steps are oneDNN
 * primitives (convolution, transposed convolution, batch norm with ReLU fused, max pooling,
 * reorders); a few are plain C: the 1x1 head (one output channel, not worth a primitive and
 * its layouts), gradient sums, running statistics.
 *
 * Activations stay in one oneDNN layout between layers (blocked nChw16c by default; see
 * choose_layout). The skip concatenation is never materialised: the decoder's first
 * convolution over [skip, up] is two convolutions, the second accumulating into the first's
 * output with a sum post-op. That is the same arithmetic as a convolution over the
 * concatenation (the weight tensor is stored whole, as PyTorch stores it; each half is a view)
 * and saves a copy of the widest tensors forward and a split backward. */
#include "mm-unet-run-private.h"

#include "mm-nn-profile.h"
#include "mm-profile.h"

#include <math.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <string.h>

/* Channels in blocks of 16 when every level's channel count is a multiple of 16 (oneDNN's
 * AVX-512 kernels), else blocks of 8 (its AVX2 ones): with 8 channels padded to 16 blocks
 * oneDNN 2.6 finds no JIT convolution and falls back to its reference code, ~100x slower.
 * Inference with multiples of 8 on an AVX-512 CPU: nhwc, where oneDNN 2.6 has its brgemm
 * convolutions (brgconv:avx512_core); the default depth 3 width 8 network ran 57 ms per
 * 512 x 512 slice there against 67 in nChw8c (jit:avx2), one thread, same transposed
 * convolutions (docs/nn-inference-profile.md). Training keeps the blocked layouts (their
 * backward kernels were what the layouts were chosen by).
 * MM_NN_LAYOUT=nhwc|blocked8|blocked16 overrides it, for the benchmark's comparisons. */
static dnnl_format_tag_t
choose_layout (const MmUnet *net, bool training)
{
  const char *env = g_getenv ("MM_NN_LAYOUT");
  if (env && strcmp (env, "nhwc") == 0)
    return dnnl_nhwc;
  if (env && strcmp (env, "blocked8") == 0)
    return dnnl_nChw8c;
  if (env && strcmp (env, "blocked16") == 0)
    return dnnl_nChw16c;
  if (net->arch.width % 16 == 0)
    return dnnl_nChw16c;
  if (net->arch.width % 8 == 0)
    {
      /* the ISA values are bit sets: avx512_core's bits are in every later AVX-512 one */
      unsigned isa = (unsigned) dnnl_get_effective_cpu_isa ();
      bool avx512 = (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
      return !training && avx512 ? dnnl_nhwc : dnnl_nChw8c;
    }
  return dnnl_nhwc;
}

static MmUnetRun *
run_build (MmUnet *net, int batch, int height, int width, bool training, bool sync,
           bool own_grads, GError **error)
{
  int depth = net->arch.depth;
  int mult = 1 << (depth - 1);
  if (batch < 1 || height < mult || width < mult || height % mult || width % mult
      || (training && batch * height * width < 2))
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                   "This network (depth %d) takes images whose sides are multiples of %d, not "
                   "%d x %d (batch %d)",
                   depth, mult, width, height, batch);
      return NULL;
    }
  MmUnetRun *run = g_new0 (MmUnetRun, 1);
  run->net = net;
  run->batch = batch;
  run->height = height;
  run->width = width;
  run->training = training;
  run->sync = sync && training;
  if (own_grads && training)
    {
      run->own_grads = g_new0 (float *, net->params->len);
      for (guint i = 0; i < net->params->len; i++)
        if (mm_unet_param (net, (int) i)->grad)
          run->own_grads[i] = g_new0 (float, mm_unet_param (net, (int) i)->size);
    }
  run->act_tag = choose_layout (net, training);
  /* bfloat16 inference, an experiment measured in the benchmark (MM_NN_BF16=1): oneDNN runs
   * it with AVX-512 BF16 or AMX where the CPU has them, else emulates it. */
  run->act_type = dnnl_f32;
  /* oneDNN 2.6 has bf16 kernels for 16-channel blocks only; with 8 it falls back to its
   * reference code, ~100x slower: then bf16 is not used. */
  if (!training && g_strcmp0 (g_getenv ("MM_NN_BF16"), "1") == 0 && run->act_tag == dnnl_nChw16c)
    run->act_type = dnnl_bf16;
  TRY (run, dnnl_stream_create (&run->stream, net->engine, dnnl_stream_default_flags));
  run->weights = g_array_new (FALSE, TRUE, sizeof (Step));
  run->fwd = g_array_new (FALSE, TRUE, sizeof (Step));
  run->bwd = g_array_new (FALSE, TRUE, sizeof (Step));
  run->mems = g_ptr_array_new ();
  run->prims = g_ptr_array_new ();
  run->buffers = g_ptr_array_new_with_free_func (g_free);
  run->logits = g_malloc0_n ((size_t) batch * height * width, sizeof (float));

  dnnl_memory_desc_t in_md;
  dnnl_dims_t in_dims = { batch, MM_UNET_IN_CHANNELS, height, width };
  dnnl_memory_desc_init_by_tag (&in_md, 4, in_dims, dnnl_f32, dnnl_nchw);
  run->input = mm_unet_mem_new (run, &in_md, NULL);
  if (training)
    run->input_grad = mm_unet_mem_new (run, &in_md, NULL);
  dnnl_memory_t net_input = run->input;
  /* Inference in nhwc: the input in nhwc too (a reorder of 3 channels), since oneDNN 2.6
   * has only reference code, ~300x slower, for a convolution from nchw to nhwc. */
  bool input_nhwc = !training && run->act_tag == dnnl_nhwc;
  if (run->act_type != dnnl_f32 || input_nhwc)
    {
      /* bf16 from the first convolution on: the input converted once per forward */
      dnnl_memory_desc_t bmd;
      dnnl_memory_desc_init_by_tag (&bmd, 4, in_dims, run->act_type,
                                    input_nhwc ? dnnl_nhwc : dnnl_nchw);
      net_input = mm_unet_mem_new (run, &bmd, NULL);
      mm_unet_reorder_push (run, run->fwd, run->input, net_input);
    }

  Level L[MM_UNET_MAX_DEPTH];
  memset (L, 0, sizeof L);
  for (int l = 0; l < depth; l++)
    {
      L[l].bwd_enc = g_array_new (FALSE, TRUE, sizeof (Step));
      L[l].bwd_dec = g_array_new (FALSE, TRUE, sizeof (Step));
    }

  /* Encoder. Each unit's backward steps are built into a scratch list and prepended to the
   * level's, so that the level's list runs last unit first. */
  dnnl_memory_t src = net_input, dsrc = run->input_grad;
  for (int l = 0; l < depth && !run->error; l++)
    {
      int c = mm_unet_level_channels (net, l), h = height >> l, w = width >> l;
      for (int i = 0; i < 2; i++)
        mm_unet_unit_alloc (run, &L[l].enc[i], c, h, w);
      GArray *u0 = g_array_new (FALSE, TRUE, sizeof (Step));
      GArray *u1 = g_array_new (FALSE, TRUE, sizeof (Step));
      mm_unet_unit_build (run, &L[l].enc[0], &net->enc[l].u[0], src, dsrc, u0);
      mm_unet_unit_build (run, &L[l].enc[1], &net->enc[l].u[1], L[l].enc[0].a, L[l].enc[0].da, u1);
      if (l < depth - 1)
        {
          L[l].pooled = mm_unet_act_new (run, c, h / 2, w / 2);
          if (training)
            L[l].dpooled = mm_unet_act_new (run, c, h / 2, w / 2);
          /* pool backward writes enc[1].da; the skip's gradient is added after it */
          mm_unet_pool_build (run, &L[l]);
          if (training)
            {
              L[l].dskip = mm_unet_like_new (run, L[l].enc[1].da);
              mm_unet_add_push (L[l].bwd_enc, L[l].enc[1].da, L[l].dskip);
            }
          src = L[l].pooled;
          dsrc = L[l].dpooled;
        }
      mm_unet_append_steps (L[l].bwd_enc, u1);
      mm_unet_append_steps (L[l].bwd_enc, u0);
      g_array_unref (u0);
      g_array_unref (u1);
    }

  /* Decoder. */
  dnnl_memory_t below = L[depth - 1].enc[1].a, dbelow = L[depth - 1].enc[1].da;
  for (int l = depth - 2; l >= 0 && !run->error; l--)
    {
      int c = mm_unet_level_channels (net, l), h = height >> l, w = width >> l;
      Level *lv = &L[l];
      lv->up = mm_unet_act_new (run, c, h, w);
      if (training)
        lv->dup = mm_unet_act_new (run, c, h, w);
      for (int i = 0; i < 2; i++)
        mm_unet_unit_alloc (run, &lv->dec[i], c, h, w);

      GArray *up_steps = g_array_new (FALSE, TRUE, sizeof (Step));
      GArray *u0 = g_array_new (FALSE, TRUE, sizeof (Step));
      GArray *u1 = g_array_new (FALSE, TRUE, sizeof (Step));

      /* transposed conv: below -> up */
      Param *uw = mm_unet_param (net, net->up_w[l]);
      if (mm_unet_up_as_conv (run, c))
        mm_unet_up_build (run, below, lv->up, uw, mm_unet_param (net, net->up_b[l]));
      else
        {
          dnnl_memory_desc_t bmd;
          dnnl_dims_t bd = { c };
          dnnl_memory_desc_init_by_tag (&bmd, 1, bd, dnnl_f32, dnnl_x);
          ConvSpec up = { .deconv = true, .k = 2, .stride = 2, .pad = 0, .src = below,
                          .dst = lv->up, .dsrc = dbelow, .ddst = lv->dup };
          up.bias = mm_unet_mem_new (run, &bmd, mm_unet_param (net, net->up_b[l])->data);
          up.grad_bias = mm_unet_run_grad_ptr (run, net->up_b[l]);
          up.plain_w = mm_unet_weight_view (run, uw->data, uw->shape, dnnl_iohw, 0, 0);
          if (training)
            up.plain_gw = mm_unet_weight_view (run, mm_unet_run_grad_ptr (run, net->up_w[l]),
                                               uw->shape, dnnl_iohw, 0, 0);
          mm_unet_conv_build (run, &up, up_steps);
        }

      /* first unit: conv over [skip, up] as two convolutions into one output */
      const UnitParams *p0 = &net->dec[l].u[0];
      Param *w0 = mm_unet_param (net, p0->w);
      ConvSpec ca = { .k = 3, .stride = 1, .pad = 1, .src = lv->enc[1].a, .dst = lv->dec[0].y,
                      .dsrc = lv->dskip, .ddst = lv->dec[0].dy };
      ConvSpec cb = ca;
      cb.src = lv->up;
      cb.dsrc = lv->dup;
      cb.sum = true;
      ca.plain_w = mm_unet_weight_view (run, w0->data, w0->shape, dnnl_oihw, 0, c);
      cb.plain_w = mm_unet_weight_view (run, w0->data, w0->shape, dnnl_oihw, c, c);
      if (training)
        {
          float *g0 = mm_unet_run_grad_ptr (run, p0->w);
          ca.plain_gw = mm_unet_weight_view (run, g0, w0->shape, dnnl_oihw, 0, c);
          cb.plain_gw = mm_unet_weight_view (run, g0, w0->shape, dnnl_oihw, c, c);
        }
      else
        {
          /* folded: the skip half brings the bias, the up half sums into it and applies
           * the ReLU */
          ca.dst = cb.dst = lv->dec[0].a;
          ca.fold = cb.fold = p0;
          ca.fold_i0 = 0;
          cb.fold_i0 = c;
          ca.fold_ni = cb.fold_ni = c;
          ca.fold_bias = true;
          cb.relu = true;
        }
      GArray *conv_bwd = g_array_new (FALSE, TRUE, sizeof (Step));
      mm_unet_conv_build (run, &ca, conv_bwd);
      mm_unet_conv_build (run, &cb, conv_bwd);
      if (training)
        mm_unet_bn_build (run, &lv->dec[0], p0, u0);
      mm_unet_append_steps (u0, conv_bwd);
      g_array_unref (conv_bwd);

      mm_unet_unit_build (run, &lv->dec[1], &net->dec[l].u[1], lv->dec[0].a, lv->dec[0].da, u1);

      /* backward of this decoder level: unit 1, unit 0, then the transposed conv */
      mm_unet_append_steps (lv->bwd_dec, u1);
      mm_unet_append_steps (lv->bwd_dec, u0);
      mm_unet_append_steps (lv->bwd_dec, up_steps);
      g_array_unref (up_steps);
      g_array_unref (u0);
      g_array_unref (u1);
      below = lv->dec[1].a;
      dbelow = lv->dec[1].da;
    }

  /* head: C over the last unit's output. Training wants it in plain layout (the backward
   * writes a plain gradient); inference reads it where it is when its layout has one fixed
   * channel block (nChw8c, nChw16c; nhwc: all channels), which spares a reorder of the
   * widest tensor (~2 of ~85 ms per 512 x 512 slice, MM_PROFILE=cpu). */
  int c0 = net->arch.width;
  dnnl_memory_desc_t hmd;
  dnnl_dims_t hd = { batch, c0, height, width };
  dnnl_memory_desc_init_by_tag (&hmd, 4, hd, dnnl_f32, dnnl_nchw);
  int block = run->act_tag == dnnl_nChw8c ? 8 : run->act_tag == dnnl_nChw16c ? 16
              : run->act_tag == dnnl_nhwc ? c0 : 0;
  dnnl_memory_desc_t act_md;
  dnnl_memory_desc_init_by_tag (&act_md, 4, hd, dnnl_f32, run->act_tag);
  /* MM_NN_HEAD_PLAIN=1: the reorder as in training, for tests/test-nn.c's comparison */
  if (!training && block > 0 && !run->error && g_strcmp0 (g_getenv ("MM_NN_HEAD_PLAIN"), "1") != 0
      && dnnl_memory_desc_equal (&act_md, mm_unet_mem_md (below)))
    {
      run->head_in = below;
      run->head_block = block;
    }
  else
    {
      run->head_in = mm_unet_mem_new (run, &hmd, NULL);
      run->head_block = 1;
      mm_unet_reorder_push (run, run->fwd, below, run->head_in);
    }
  Step hf = { .kind = STEP_HEAD_FWD };
  g_array_append_val (run->fwd, hf);
  if (training)
    {
      run->head_in_grad = mm_unet_mem_new (run, &hmd, NULL);
      Step hb = { .kind = STEP_HEAD_BWD };
      g_array_append_val (run->bwd, hb);
      mm_unet_reorder_push (run, run->bwd, run->head_in_grad, dbelow);
      for (int l = 0; l <= depth - 2; l++)
        g_array_append_vals (run->bwd, L[l].bwd_dec->data, L[l].bwd_dec->len);
      for (int l = depth - 1; l >= 0; l--)
        g_array_append_vals (run->bwd, L[l].bwd_enc->data, L[l].bwd_enc->len);
    }
  for (int l = 0; l < depth; l++)
    {
      g_array_unref (L[l].bwd_enc);
      g_array_unref (L[l].bwd_dec);
    }
  if (run->error)
    {
      g_propagate_error (error, g_steal_pointer (&run->error));
      mm_unet_run_free (run);
      return NULL;
    }
  run->sync_buf = g_new0 (double, run->sync_len + 1);
  return run;
}

MmUnetRun *
mm_unet_run_new (MmUnet *net, int batch, int height, int width, bool training, GError **error)
{
  return run_build (net, batch, height, width, training, false, false, error);
}

MmUnetRun *
mm_unet_run_new_sync (MmUnet *net, int batch, int height, int width, bool own_grads,
                      GError **error)
{
  return run_build (net, batch, height, width, true, true, own_grads, error);
}

const float *
mm_unet_run_logits (MmUnetRun *run)
{
  return run->logits;
}

float *
mm_unet_run_param_grad (MmUnetRun *run, int i)
{
  g_return_val_if_fail (i >= 0 && (guint) i < run->net->params->len, NULL);
  return mm_unet_run_grad_ptr (run, i);
}

void
mm_unet_run_free (MmUnetRun *run)
{
  if (run == NULL)
    return;
  for (guint i = 0; i < run->prims->len; i++)
    dnnl_primitive_destroy (run->prims->pdata[i]);
  for (guint i = 0; i < run->mems->len; i++)
    dnnl_memory_destroy (run->mems->pdata[i]);
  g_ptr_array_unref (run->prims);
  g_ptr_array_unref (run->buffers);
  if (run->stream)
    dnnl_stream_destroy (run->stream);
  g_ptr_array_unref (run->mems);
  g_array_unref (run->weights);
  g_array_unref (run->fwd);
  g_array_unref (run->bwd);
  g_free (run->logits);
  g_free (run->sync_buf);
  for (guint i = 0; run->own_grads && i < run->net->params->len; i++)
    g_free (run->own_grads[i]);
  g_free (run->own_grads);
  g_clear_error (&run->error);
  g_free (run);
}

float *
mm_unet_run_input (MmUnetRun *run)
{
  return mm_unet_mem_ptr (run->input);
}

void
mm_unet_run_want_input_grad (MmUnetRun *run, bool want)
{
  run->want_input_grad = want && run->training;
}

const float *
mm_unet_run_input_grad (MmUnetRun *run)
{
  return run->want_input_grad ? mm_unet_mem_ptr (run->input_grad) : NULL;
}

static void
head_forward (MmUnetRun *run)
{
  MmUnet *net = run->net;
  const float *x = mm_unet_mem_ptr (run->head_in);
  const float *w = mm_unet_param (net, net->head_w)->data;
  float b = mm_unet_param (net, net->head_b)->data[0];
  int c0 = net->arch.width;
  size_t plane = (size_t) run->height * run->width;
  /* channel c of pixel p of image n: ((n CB + c / B) plane + p) B + c % B, where B is the
   * channel block (1: plain nchw) and CB the blocks per image (channels padded to B) */
  size_t bs = (size_t) run->head_block, cb = (c0 + bs - 1) / bs;
  g_autofree size_t *off = g_new (size_t, c0);
  for (int c = 0; c < c0; c++)
    off[c] = (size_t) c / bs * plane * bs + (size_t) c % bs;
  for (int n = 0; n < run->batch; n++)
    {
      float *out = run->logits + n * plane;
      const float *xn = x + (size_t) n * cb * bs * plane;
      /* Pixels in chunks, channel by channel: the channels in order whatever the layout (the
       * same sum, bit for bit, as one pixel at a time), but the chunk's sums are independent
       * of each other, not one chain of dependent additions per pixel (3.6 ms per 512 x 512
       * slice that way). */
      enum { CHUNK = 256 };
#pragma omp parallel for schedule(static)
      for (size_t p0 = 0; p0 < plane; p0 += CHUNK)
        {
          size_t len = MIN ((size_t) CHUNK, plane - p0);
          float acc[CHUNK];
          for (size_t j = 0; j < len; j++)
            acc[j] = b;
          for (int c = 0; c < c0; c++)
            {
              const float *xc = xn + p0 * bs + off[c];
              float wc = w[c];
              for (size_t j = 0; j < len; j++)
                acc[j] += wc * xc[j * bs];
            }
          memcpy (out + p0, acc, len * sizeof *acc);
        }
    }
}

static void
head_backward (MmUnetRun *run)
{
  MmUnet *net = run->net;
  const float *x = mm_unet_mem_ptr (run->head_in);
  float *dx = mm_unet_mem_ptr (run->head_in_grad);
  const float *w = mm_unet_param (net, net->head_w)->data;
  float *gw = mm_unet_run_grad_ptr (run, net->head_w);
  float *gb = mm_unet_run_grad_ptr (run, net->head_b);
  const float *g = run->grad_logits;
  int c0 = net->arch.width;
  size_t plane = (size_t) run->height * run->width;
  /* Sums in a fixed order: per (image, channel) in double, then added in sequence, so the
   * result does not depend on the thread count. */
  double *partial = g_new0 (double, (size_t) run->batch * (c0 + 1));
#pragma omp parallel for schedule(static) collapse(2)
  for (int n = 0; n < run->batch; n++)
    for (int c = 0; c <= c0; c++)
      {
        const float *gn = g + n * plane;
        double s = 0;
        if (c == c0)
          for (size_t p = 0; p < plane; p++)
            s += gn[p];
        else
          {
            const float *xc = x + ((size_t) n * c0 + c) * plane;
            float *dxc = dx + ((size_t) n * c0 + c) * plane;
            for (size_t p = 0; p < plane; p++)
              {
                s += (double) gn[p] * xc[p];
                dxc[p] = w[c] * gn[p];
              }
          }
        partial[n * (c0 + 1) + c] = s;
      }
  for (int c = 0; c < c0; c++)
    {
      double s = 0;
      for (int n = 0; n < run->batch; n++)
        s += partial[n * (c0 + 1) + c];
      gw[c] = (float) s;
    }
  double sb = 0;
  for (int n = 0; n < run->batch; n++)
    sb += partial[n * (c0 + 1) + c0];
  gb[0] = (float) sb;
  g_free (partial);
}

static void
running_update (MmUnetRun *run, const Step *s)
{
  MmUnet *net = run->net;
  Param *rm = mm_unet_param (net, s->unit_rm), *rv = mm_unet_param (net, s->unit_rv);
  const float *mean = mm_unet_mem_ptr (s->a), *var = mm_unet_mem_ptr (s->b);
  double n = s->countp ? *s->countp : s->count; /* PyTorch keeps the unbiased variance */
  for (size_t c = 0; c < rm->size; c++)
    {
      rm->data[c] = (1.f - BN_MOMENTUM) * rm->data[c] + BN_MOMENTUM * mean[c];
      double unbiased = n > 1 ? var[c] * n / (n - 1) : var[c];
      rv->data[c] = (1.f - BN_MOMENTUM) * rv->data[c] + BN_MOMENTUM * (float) unbiased;
    }
}

static void
fold_weights (const Fold *f)
{
  for (int o = 0; o < f->o; o++)
    {
      float s = f->scale[o] / sqrtf (f->var[o] + BN_EPS);
      for (int i = 0; i < f->ni; i++)
        for (int k = 0; k < f->kk; k++)
          f->out_w[((size_t) o * f->ni + i) * f->kk + k]
            = s * f->w[((size_t) o * f->i + f->i0 + i) * f->kk + k];
      if (f->out_b)
        f->out_b[o] = f->shift[o] - s * f->mean[o];
    }
}

/* A step's profile name: its list, index and what it computes ("fwd 03 convolution
 * 8x512x512 -> 16x512x512"), so a profile reads as the network's layers in order. */
static char *
step_name (MmUnetRun *run, GArray *steps, guint i, const Step *s)
{
  const char *list = steps == run->weights ? "weights" : steps == run->fwd ? "fwd" : "bwd";
  if (s->kind != STEP_PRIM)
    {
      static const char *const kinds[] = { "prim", "add", "running-stats", "head 1x1 (C)",
                                           "head backward (C)", "batch-norm fold", "sync",
                                           "batch-norm sums", "batch-norm moments",
                                           "batch-norm d sums", "batch-norm d grad",
                                           "transposed conv as 1x1: weights",
                                           "transposed conv as 1x1: pixel shuffle" };
      G_STATIC_ASSERT (G_N_ELEMENTS (kinds) == STEP_UP_SHUFFLE + 1);
      return g_strdup_printf ("%s %02u %s", list, i, kinds[s->kind]);
    }
  const_dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_get_primitive_desc (s->prim, &pd);
  dnnl_primitive_kind_t kind = dnnl_undefined_primitive;
  dnnl_primitive_desc_query (pd, dnnl_query_primitive_kind, 0, &kind);
  const dnnl_memory_desc_t *src = dnnl_primitive_desc_query_md (pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *dst = dnnl_primitive_desc_query_md (pd, dnnl_query_dst_md, 0);
  if (src == NULL || dst == NULL || src->ndims != 4 || dst->ndims != 4)
    return g_strdup_printf ("%s %02u %s", list, i, dnnl_prim_kind2str (kind));
  return g_strdup_printf ("%s %02u %s %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                          " -> %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT,
                          list, i, dnnl_prim_kind2str (kind), src->dims[1], src->dims[2],
                          src->dims[3], dst->dims[1], dst->dims[2], dst->dims[3]);
}

/* Runs steps from `from` up to the next STEP_SYNC (returns its index) or the end (returns
 * steps->len). Of a group of runs only the first (primary) updates the running statistics:
 * the group's batch statistics are one. */
static guint
execute_to_sync (MmUnetRun *run, GArray *steps, guint from, bool primary)
{
  dnnl_stream_t stream = run->stream;
  bool profile = mm_profile_enabled ();
  guint i;
  for (i = from; i < steps->len; i++)
    {
      Step *s = &g_array_index (steps, Step, i);
      if (s->input_grad && !run->want_input_grad)
        continue;
      if (s->kind == STEP_SYNC)
        break;
      gint64 t0 = profile ? mm_profile_now () : 0;
      switch (s->kind)
        {
        case STEP_PRIM:
          dnnl_primitive_execute (s->prim, stream, s->nargs, s->args);
          break;
        case STEP_ADD:
          {
            float *d = mm_unet_mem_ptr (s->a);
            const float *x = mm_unet_mem_ptr (s->b);
            size_t n = dnnl_memory_desc_get_size (mm_unet_mem_md (s->a)) / sizeof (float);
#pragma omp parallel for schedule(static)
            for (size_t k = 0; k < n; k++)
              d[k] += x[k];
            break;
          }
        case STEP_RUNNING:
          if (primary)
            running_update (run, s);
          break;
        case STEP_SYNC:
          break;
        case STEP_BN_SUMS:
        case STEP_BN_MOMENTS:
        case STEP_BN_DSUMS:
        case STEP_BN_DGRAD:
          /* their inputs are primitives' outputs */
          dnnl_stream_wait (stream);
          mm_unet_sync_execute (run, s);
          break;
        case STEP_FOLD:
          fold_weights (s->fold);
          break;
        case STEP_UP_FOLD:
          mm_unet_up_fold (s->upfold);
          break;
        case STEP_UP_SHUFFLE:
          mm_unet_up_shuffle (s->shuffle);
          break;
        case STEP_HEAD_FWD:
          head_forward (run);
          break;
        case STEP_HEAD_BWD:
          head_backward (run);
          break;
        }
      if (profile)
        {
          /* oneDNN's CPU stream runs a primitive before returning: the time is its own */
          gint64 us = mm_profile_now () - t0;
          g_autofree char *name = step_name (run, steps, i, s);
          mm_nn_profile_add (name, us);
        }
    }
  dnnl_stream_wait (stream);
  return i;
}

/* A run alone: its sync steps sum over itself (nothing to add). */
static void
execute (MmUnetRun *run, GArray *steps)
{
  for (guint i = 0; i < steps->len; i++)
    i = execute_to_sync (run, steps, i, true);
}

/* Runs of one group in lock step: each runs to its next sync step, then the slots of that
 * step are added over the group, in the order of the runs, then by sum (over processes),
 * and every run continues with the same sums. The runs' lists have the same steps (one
 * network, one shape), so their sync steps pair up. */
static void
execute_group (MmUnetRun **runs, int n, bool bwd, MmUnetSumFn sum, void *data)
{
  guint pos[MM_UNET_MAX_GROUP] = { 0 };
  for (;;)
    {
      for (int k = 0; k < n; k++)
        {
          GArray *steps = bwd ? runs[k]->bwd : runs[k]->fwd;
          pos[k] = execute_to_sync (runs[k], steps, pos[k], k == 0);
        }
      GArray *steps0 = bwd ? runs[0]->bwd : runs[0]->fwd;
      if (pos[0] >= steps0->len)
        break;
      const Step *s = &g_array_index (steps0, Step, pos[0]);
      double *acc = runs[0]->sync_buf + s->slot;
      for (int k = 1; k < n; k++)
        for (size_t j = 0; j < s->slot_len; j++)
          acc[j] += runs[k]->sync_buf[s->slot + j];
      if (sum)
        sum (acc, s->slot_len, data);
      for (int k = 1; k < n; k++)
        memcpy (runs[k]->sync_buf + s->slot, acc, s->slot_len * sizeof (double));
      for (int k = 0; k < n; k++)
        pos[k]++;
    }
}

static bool
group_ok (MmUnetRun **runs, int n)
{
  g_return_val_if_fail (n >= 1 && n <= MM_UNET_MAX_GROUP, false);
  for (int k = 0; k < n; k++)
    {
      g_return_val_if_fail (runs[k]->sync, false);
      g_return_val_if_fail (runs[k]->net == runs[0]->net, false);
      g_return_val_if_fail (runs[k]->fwd->len == runs[0]->fwd->len, false);
      g_return_val_if_fail (runs[k]->bwd->len == runs[0]->bwd->len, false);
    }
  return true;
}

void
mm_unet_runs_forward (MmUnetRun **runs, int n, MmUnetSumFn sum, void *data)
{
  if (!group_ok (runs, n))
    return;
  for (int k = 0; k < n; k++)
    execute (runs[k], runs[k]->weights);
  execute_group (runs, n, false, sum, data);
}

void
mm_unet_runs_backward (MmUnetRun **runs, const float *const *grad_logits, int n,
                       MmUnetSumFn sum, void *data)
{
  if (!group_ok (runs, n))
    return;
  for (int k = 0; k < n; k++)
    runs[k]->grad_logits = grad_logits[k];
  execute_group (runs, n, true, sum, data);
  for (int k = 0; k < n; k++)
    runs[k]->grad_logits = NULL;
}

const float *
mm_unet_run_forward (MmUnetRun *run)
{
  execute (run, run->weights);
  execute (run, run->fwd);
  return run->logits;
}

void
mm_unet_run_backward (MmUnetRun *run, const float *grad_logits)
{
  g_return_if_fail (run->training);
  run->grad_logits = grad_logits;
  execute (run, run->bwd);
  run->grad_logits = NULL;
}
