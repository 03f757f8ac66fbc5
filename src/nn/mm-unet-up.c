/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Inference's 2x2 stride-2 transposed convolution as a 1x1 convolution and a pixel shuffle.
 *
 * With kernel 2 and stride 2 each output pixel (2y + kh, 2x + kw) takes exactly one tap of
 * one input pixel (y, x): out[o](2y + kh, 2x + kw) = b[o] + sum_i W[i][o][kh][kw] x[i](y, x).
 * That is a 1x1 convolution to 4 c channels (channel q c + o for tap q = 2 kh + kw) followed
 * by moving each tap's c channels to their output pixel. oneDNN 2.6 runs the 1x1
 * convolution as a GEMM-like kernel; its deconvolution (a backward-data convolution) cost
 * 10 ms per 512 x 512 slice here, 4-8x less efficient than the 3x3 convolutions
 * (docs/nn-inference-profile.md). The same products are summed over the same input
 * channels, so the logits agree with the deconvolution's to float rounding.
 *
 * Training keeps oneDNN's deconvolution (its backward passes). MM_NN_UP=deconv keeps it at
 * inference too, for the tests' and the benchmark's comparisons. */
#include "mm-unet-run-private.h"

#include <string.h>

/* The channel block of the run's activation layout (channels contiguous per pixel in runs
 * of this many), or 0 when the shuffle cannot take it. */
static int
act_block (const MmUnetRun *run, int c)
{
  switch (run->act_tag)
    {
    case dnnl_nChw8c:
      return c % 8 == 0 ? 8 : 0;
    case dnnl_nChw16c:
      return c % 16 == 0 ? 16 : 0;
    case dnnl_nhwc:
      return c;
    default:
      return 0;
    }
}

bool
mm_unet_up_as_conv (const MmUnetRun *run, int c)
{
  if (run->training || run->act_type != dnnl_f32)
    return false;
  if (g_strcmp0 (g_getenv ("MM_NN_UP"), "deconv") == 0)
    return false;
  return act_block (run, c) > 0;
}

void
mm_unet_up_fold (const UpFold *f)
{
  /* (4 co, ci, 1, 1) OIHW from PyTorch's (ci, co, 2, 2) */
  for (int q = 0; q < 4; q++)
    for (int o = 0; o < f->co; o++)
      {
        float *row = f->out_w + ((size_t) q * f->co + o) * f->ci;
        for (int i = 0; i < f->ci; i++)
          row[i] = f->w[((size_t) i * f->co + o) * 4 + q];
        f->out_b[q * f->co + o] = f->b[o];
      }
}

/* Offset of channel ch of pixel (y, x) of image n in a layout of channel block B (nhwc: B is
 * all the channels): ((n CB + ch / B) H W + y W + x) B + ch % B. */
static inline size_t
act_offset (size_t n, size_t cb, size_t ch, size_t bs, size_t hh, size_t ww, size_t y,
            size_t x)
{
  return ((n * cb + ch / bs) * hh * ww + y * ww + x) * bs + ch % bs;
}

void
mm_unet_up_shuffle (const UpShuffle *s)
{
  const float *src = mm_unet_mem_ptr (s->src);
  float *dst = mm_unet_mem_ptr (s->dst);
  const dnnl_memory_desc_t *md = mm_unet_mem_md (s->dst);
  int batch = (int) md->dims[0], c = s->c, hh = (int) md->dims[2], ww = (int) md->dims[3];
  int h = hh / 2, w = ww / 2;
  /* runs of `run` contiguous channels: a block, or (nhwc) all c of a tap */
  size_t run = s->block, sbs = s->nhwc ? 4 * (size_t) c : run, dbs = s->nhwc ? (size_t) c : run;
  size_t scb = 4 * (size_t) c / sbs, dcb = (size_t) c / dbs;
#pragma omp parallel for schedule(static) collapse(2)
  for (int n = 0; n < batch; n++)
    for (int yy = 0; yy < hh; yy++)
      {
        int kh = yy & 1, y = yy >> 1;
        for (size_t r = 0; r < (size_t) c / run; r++)
          {
            /* the source row of each of the two taps of this output row */
            const float *from[2];
            for (int kw = 0; kw < 2; kw++)
              from[kw] = src + act_offset (n, scb, (size_t) (2 * kh + kw) * c + r * run, sbs, h,
                                           w, y, 0);
            float *to = dst + act_offset (n, dcb, r * run, dbs, hh, ww, yy, 0);
            for (int xx = 0; xx < ww; xx++)
              {
                const float *f = from[xx & 1] + (size_t) (xx >> 1) * sbs;
                float *t = to + (size_t) xx * dbs;
                for (size_t k = 0; k < run; k++)
                  t[k] = f[k];
              }
          }
      }
}

void
mm_unet_up_build (MmUnetRun *run, dnnl_memory_t below, dnnl_memory_t up, const Param *w,
                  const Param *b)
{
  if (run->error)
    return;
  int ci = (int) w->shape[0], co = (int) w->shape[1];
  const dnnl_memory_desc_t *bmd = mm_unet_mem_md (below);
  int h = (int) bmd->dims[2], wd = (int) bmd->dims[3];

  UpFold *f = g_new0 (UpFold, 1);
  g_ptr_array_add (run->buffers, f);
  *f = (UpFold) { .w = w->data, .b = b->data, .ci = ci, .co = co };
  f->out_w = g_new (float, (size_t) 4 * co * ci);
  g_ptr_array_add (run->buffers, f->out_w);
  f->out_b = g_new (float, (size_t) 4 * co);
  g_ptr_array_add (run->buffers, f->out_b);
  Step fs = { .kind = STEP_UP_FOLD, .upfold = f };
  g_array_append_val (run->weights, fs);

  int64_t shape[4] = { 4 * co, ci, 1, 1 };
  dnnl_memory_desc_t bias_md;
  dnnl_dims_t bd = { 4 * co };
  dnnl_memory_desc_init_by_tag (&bias_md, 1, bd, dnnl_f32, dnnl_x);
  dnnl_memory_t taps = mm_unet_act_new (run, 4 * co, h, wd);
  ConvSpec cs = { .k = 1, .stride = 1, .pad = 0, .src = below, .dst = taps };
  cs.plain_w = mm_unet_weight_view (run, f->out_w, shape, dnnl_oihw, 0, 0);
  cs.bias = mm_unet_mem_new (run, &bias_md, f->out_b);
  mm_unet_conv_build (run, &cs, NULL);

  UpShuffle *s = g_new0 (UpShuffle, 1);
  g_ptr_array_add (run->buffers, s);
  *s = (UpShuffle) { .src = taps, .dst = up, .c = co, .block = act_block (run, co),
                     .nhwc = run->act_tag == dnnl_nhwc };
  Step ss = { .kind = STEP_UP_SHUFFLE, .shuffle = s };
  g_array_append_val (run->fwd, ss);
}
