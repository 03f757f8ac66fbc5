/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One layer of the U-Net's run graph at a time: the oneDNN memories and primitives of a
 * convolution or transposed convolution (forward, backward data, backward weights), of batch
 * norm with ReLU, of max pooling, and the reorders between the parameters' plain layout and
 * the primitives' own. mm_unet_run_new (mm-unet-run.c) strings them together. */
#include "mm-unet-run-private.h"

#include <string.h>

void
mm_unet_run_fail (MmUnetRun *run, const char *what, dnnl_status_t s)
{
  if (run->error == NULL)
    g_set_error (&run->error, MM_NN_ERROR, MM_NN_ERROR_FAILED,
                 "oneDNN could not set up the network (%s: status %d) for batch %d of %d x %d",
                 what, (int) s, run->batch, run->width, run->height);
}

dnnl_memory_t
mm_unet_mem_new (MmUnetRun *run, const dnnl_memory_desc_t *md, void *handle)
{
  dnnl_memory_t m = NULL;
  if (run->error)
    return NULL;
  TRY (run, dnnl_memory_create (&m, md, run->net->engine, handle ? handle : DNNL_MEMORY_ALLOCATE));
  if (m)
    g_ptr_array_add (run->mems, m);
  return m;
}

static dnnl_memory_desc_t
act_md (MmUnetRun *run, int c, int h, int w)
{
  dnnl_memory_desc_t md;
  dnnl_dims_t dims = { run->batch, c, h, w };
  dnnl_memory_desc_init_by_tag (&md, 4, dims, run->act_type, run->act_tag);
  return md;
}

dnnl_memory_t
mm_unet_act_new (MmUnetRun *run, int c, int h, int w)
{
  dnnl_memory_desc_t md = act_md (run, c, h, w);
  return mm_unet_mem_new (run, &md, NULL);
}

dnnl_memory_t
mm_unet_like_new (MmUnetRun *run, dnnl_memory_t m)
{
  return m ? mm_unet_mem_new (run, mm_unet_mem_md (m), NULL) : NULL;
}

static dnnl_primitive_t
prim_new (MmUnetRun *run, dnnl_primitive_desc_t pd)
{
  dnnl_primitive_t p = NULL;
  if (run->error || pd == NULL)
    return NULL;
  TRY (run, dnnl_primitive_create (&p, pd));
  if (p)
    g_ptr_array_add (run->prims, p);
  return p;
}

static dnnl_primitive_desc_t
pd_new (MmUnetRun *run, const_dnnl_op_desc_t desc, const_dnnl_primitive_attr_t attr,
        const_dnnl_primitive_desc_t hint)
{
  dnnl_primitive_desc_t pd = NULL;
  if (run->error)
    return NULL;
  TRY (run, dnnl_primitive_desc_create (&pd, desc, attr, run->net->engine, hint));
  if (pd)
    {
      const char *impl = NULL;
      dnnl_primitive_desc_query (pd, dnnl_query_impl_info_str, 0, &impl);
      /* A reference implementation is correct but tens of times slower: worth knowing. */
      if (impl && g_str_has_prefix (impl, "ref"))
        g_debug ("oneDNN uses the reference implementation '%s'", impl);
    }
  return pd;
}

static void
step_push (GArray *list, dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args)
{
  Step s = { .kind = STEP_PRIM, .prim = prim, .nargs = nargs };
  memcpy (s.args, args, sizeof (dnnl_exec_arg_t) * nargs);
  g_array_append_val (list, s);
}

void
mm_unet_append_steps (GArray *dst, GArray *src)
{
  g_array_append_vals (dst, src->data, src->len);
}

void
mm_unet_reorder_push (MmUnetRun *run, GArray *list, dnnl_memory_t from, dnnl_memory_t to)
{
  if (run->error)
    return;
  dnnl_primitive_desc_t pd = NULL;
  TRY (run, dnnl_reorder_primitive_desc_create (&pd, mm_unet_mem_md (from), run->net->engine,
                                                mm_unet_mem_md (to), run->net->engine, NULL));
  dnnl_primitive_t p = prim_new (run, pd);
  if (pd)
    dnnl_primitive_desc_destroy (pd);
  dnnl_exec_arg_t args[] = { { DNNL_ARG_FROM, from }, { DNNL_ARG_TO, to } };
  if (p)
    step_push (list, p, 2, args);
}

void
mm_unet_add_push (GArray *list, dnnl_memory_t dst, dnnl_memory_t src)
{
  Step s = { .kind = STEP_ADD, .a = dst, .b = src };
  g_array_append_val (list, s);
}

static const dnnl_memory_desc_t *
query (dnnl_primitive_desc_t pd, dnnl_query_t what)
{
  return dnnl_primitive_desc_query_md (pd, what, 0);
}

/* A plain view of a weight parameter: the whole tensor, or input channels [i0, i0 + ni) of
 * an OIHW one. */
dnnl_memory_t
mm_unet_weight_view (MmUnetRun *run, float *data, const int64_t shape[4], dnnl_format_tag_t tag,
             int64_t i0, int64_t ni)
{
  dnnl_memory_desc_t whole, view;
  dnnl_dims_t dims = { shape[0], shape[1], shape[2], shape[3] };
  if (tag == dnnl_iohw) /* oneDNN's logical order is always (out, in, kh, kw) */
    {
      dims[0] = shape[1];
      dims[1] = shape[0];
    }
  dnnl_memory_desc_init_by_tag (&whole, 4, dims, dnnl_f32, tag);
  if (ni == 0)
    return mm_unet_mem_new (run, &whole, data);
  dnnl_dims_t vdims = { dims[0], ni, dims[2], dims[3] };
  dnnl_dims_t offs = { 0, i0, 0, 0 };
  TRY (run, dnnl_memory_desc_init_submemory (&view, &whole, vdims, offs));
  return mm_unet_mem_new (run, &view, data);
}

void
mm_unet_conv_build (MmUnetRun *run, const ConvSpec *c, GArray *bwd)
{
  if (run->error)
    return;
  dnnl_dims_t strides = { c->stride, c->stride };
  dnnl_dims_t pad = { c->pad, c->pad };
  dnnl_memory_desc_t wany;
  const dnnl_memory_desc_t *pw = mm_unet_mem_md (c->plain_w);
  dnnl_memory_desc_init_by_tag (&wany, 4, pw->dims, run->act_type, dnnl_format_tag_any);
  dnnl_prop_kind_t prop = run->training ? dnnl_forward_training : dnnl_forward_inference;
  dnnl_alg_kind_t alg = c->deconv ? dnnl_deconvolution_direct : dnnl_convolution_direct;

  dnnl_memory_t plain_w = c->plain_w, bias = c->bias;
  Fold *fold = NULL;
  if (c->fold)
    {
      /* weights scaled into a buffer of the view's shape, the bias beside them */
      MmUnet *net = run->net;
      const Param *wp = mm_unet_param (net, c->fold->w);
      fold = g_new0 (Fold, 1);
      g_ptr_array_add (run->buffers, fold);
      fold->w = wp->data;
      fold->scale = mm_unet_param (net, c->fold->bn_w)->data;
      fold->shift = mm_unet_param (net, c->fold->bn_b)->data;
      fold->mean = mm_unet_param (net, c->fold->bn_rm)->data;
      fold->var = mm_unet_param (net, c->fold->bn_rv)->data;
      fold->o = (int) wp->shape[0];
      fold->i = (int) wp->shape[1];
      fold->i0 = c->fold_i0;
      fold->ni = c->fold_ni ? c->fold_ni : fold->i;
      fold->kk = (int) (wp->shape[2] * wp->shape[3]);
      fold->out_w = g_new (float, (size_t) fold->o * fold->ni * fold->kk);
      g_ptr_array_add (run->buffers, fold->out_w);
      int64_t vshape[4] = { fold->o, fold->ni, wp->shape[2], wp->shape[3] };
      plain_w = mm_unet_weight_view (run, fold->out_w, vshape, dnnl_oihw, 0, 0);
      if (c->fold_bias)
        {
          dnnl_memory_desc_t bmd;
          dnnl_dims_t bd = { fold->o };
          dnnl_memory_desc_init_by_tag (&bmd, 1, bd, dnnl_f32, dnnl_x);
          fold->out_b = g_new (float, fold->o);
          g_ptr_array_add (run->buffers, fold->out_b);
          bias = mm_unet_mem_new (run, &bmd, fold->out_b);
        }
      Step fs = { .kind = STEP_FOLD, .fold = fold };
      g_array_append_val (run->weights, fs);
    }
  const dnnl_memory_desc_t *bmd = bias ? mm_unet_mem_md (bias) : NULL;

  dnnl_primitive_attr_t attr = NULL;
  if (c->sum || c->relu)
    {
      dnnl_post_ops_t po = NULL;
      TRY (run, dnnl_primitive_attr_create (&attr));
      TRY (run, dnnl_post_ops_create (&po));
      if (c->sum)
        TRY (run, dnnl_post_ops_append_sum (po, 1.f));
      if (c->relu)
        TRY (run, dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_relu, 0.f, 0.f));
      TRY (run, dnnl_primitive_attr_set_post_ops (attr, po));
      dnnl_post_ops_destroy (po);
    }

  /* forward */
  union
  {
    dnnl_convolution_desc_t conv;
    dnnl_deconvolution_desc_t deconv;
  } d;
  if (c->deconv)
    TRY (run, dnnl_deconvolution_forward_desc_init (&d.deconv, prop, alg, mm_unet_mem_md (c->src),
                                                    &wany, bmd, mm_unet_mem_md (c->dst), strides, pad,
                                                    pad));
  else
    TRY (run, dnnl_convolution_forward_desc_init (&d.conv, prop, alg, mm_unet_mem_md (c->src), &wany,
                                                  bmd, mm_unet_mem_md (c->dst), strides, pad, pad));
  dnnl_primitive_desc_t fpd = pd_new (run, &d, attr, NULL);
  if (attr)
    dnnl_primitive_attr_destroy (attr);
  if (fpd == NULL)
    return;
  dnnl_memory_t w = mm_unet_mem_new (run, query (fpd, dnnl_query_weights_md), NULL);
  mm_unet_reorder_push (run, run->weights, plain_w, w);
  dnnl_primitive_t fp = prim_new (run, fpd);
  dnnl_exec_arg_t fargs[] = { { DNNL_ARG_SRC, c->src },
                              { DNNL_ARG_WEIGHTS, w },
                              { DNNL_ARG_DST, c->dst },
                              { DNNL_ARG_BIAS, bias } };
  if (fp)
    step_push (run->fwd, fp, bias ? 4 : 3, fargs);

  if (!run->training || run->error)
    {
      dnnl_primitive_desc_destroy (fpd);
      return;
    }

  /* backward data, into c->dsrc */
  if (c->dsrc)
    {
      if (c->deconv)
        TRY (run, dnnl_deconvolution_backward_data_desc_init (&d.deconv, alg, mm_unet_mem_md (c->dsrc),
                                                              &wany, mm_unet_mem_md (c->ddst), strides,
                                                              pad, pad));
      else
        TRY (run, dnnl_convolution_backward_data_desc_init (&d.conv, alg, mm_unet_mem_md (c->dsrc),
                                                            &wany, mm_unet_mem_md (c->ddst), strides,
                                                            pad, pad));
      dnnl_primitive_desc_t bpd = pd_new (run, &d, NULL, fpd);
      if (bpd)
        {
          dnnl_memory_t bw = w;
          const dnnl_memory_desc_t *bwmd = query (bpd, dnnl_query_weights_md);
          if (!dnnl_memory_desc_equal (bwmd, mm_unet_mem_md (w)))
            {
              bw = mm_unet_mem_new (run, bwmd, NULL);
              mm_unet_reorder_push (run, run->weights, c->plain_w, bw);
            }
          dnnl_primitive_t bp = prim_new (run, bpd);
          dnnl_exec_arg_t bargs[] = { { DNNL_ARG_DIFF_DST, c->ddst },
                                      { DNNL_ARG_WEIGHTS, bw },
                                      { DNNL_ARG_DIFF_SRC, c->dsrc } };
          if (bp)
            {
              step_push (bwd, bp, 3, bargs);
              /* oneDNN has no fast kernel for a 3-channel diff_src, and training never
               * needs it */
              g_array_index (bwd, Step, bwd->len - 1).input_grad = c->dsrc == run->input_grad;
            }
          dnnl_primitive_desc_destroy (bpd);
        }
    }

  /* backward weights */
  dnnl_memory_desc_t bany;
  if (c->bias)
    dnnl_memory_desc_init_by_tag (&bany, 1, mm_unet_mem_md (c->bias)->dims, dnnl_f32, dnnl_x);
  if (c->deconv)
    TRY (run, dnnl_deconvolution_backward_weights_desc_init (&d.deconv, alg, mm_unet_mem_md (c->src),
                                                             &wany, c->bias ? &bany : NULL,
                                                             mm_unet_mem_md (c->ddst), strides, pad,
                                                             pad));
  else
    TRY (run, dnnl_convolution_backward_weights_desc_init (&d.conv, alg, mm_unet_mem_md (c->src),
                                                           &wany, c->bias ? &bany : NULL,
                                                           mm_unet_mem_md (c->ddst), strides, pad, pad));
  dnnl_primitive_desc_t wpd = pd_new (run, &d, NULL, fpd);
  if (wpd)
    {
      dnnl_memory_t gw = mm_unet_mem_new (run, query (wpd, dnnl_query_diff_weights_md), NULL);
      dnnl_memory_t gb = c->bias ? mm_unet_mem_new (run, &bany, c->grad_bias) : NULL;
      dnnl_primitive_t wp = prim_new (run, wpd);
      dnnl_exec_arg_t wargs[] = { { DNNL_ARG_SRC, c->src },
                                  { DNNL_ARG_DIFF_DST, c->ddst },
                                  { DNNL_ARG_DIFF_WEIGHTS, gw },
                                  { DNNL_ARG_DIFF_BIAS, gb } };
      if (wp)
        step_push (bwd, wp, c->bias ? 4 : 3, wargs);
      mm_unet_reorder_push (run, bwd, gw, c->plain_gw);
      dnnl_primitive_desc_destroy (wpd);
    }
  dnnl_primitive_desc_destroy (fpd);
}

/* Batch norm + ReLU of a unit: y -> a forward; da -> dy backward. */
void
mm_unet_bn_build (MmUnetRun *run, Unit *u, const UnitParams *up, GArray *bwd)
{
  if (run->error)
    return;
  MmUnet *net = run->net;
  const dnnl_memory_desc_t *md = mm_unet_mem_md (u->y);
  int64_t c = md->dims[1];
  dnnl_memory_desc_t vmd;
  dnnl_dims_t vd = { c };
  dnnl_memory_desc_init_by_tag (&vmd, 1, vd, dnnl_f32, dnnl_x);
  dnnl_memory_t scale = mm_unet_mem_new (run, &vmd, mm_unet_param (net, up->bn_w)->data);
  dnnl_memory_t shift = mm_unet_mem_new (run, &vmd, mm_unet_param (net, up->bn_b)->data);
  unsigned flags = dnnl_use_scale | dnnl_use_shift | dnnl_fuse_norm_relu;
  dnnl_batch_normalization_desc_t d;

  if (!run->training)
    {
      u->mean = mm_unet_mem_new (run, &vmd, mm_unet_param (net, up->bn_rm)->data);
      u->var = mm_unet_mem_new (run, &vmd, mm_unet_param (net, up->bn_rv)->data);
      TRY (run, dnnl_batch_normalization_forward_desc_init (&d, dnnl_forward_inference, md,
                                                            BN_EPS,
                                                            flags | dnnl_use_global_stats));
      dnnl_primitive_desc_t pd = pd_new (run, &d, NULL, NULL);
      dnnl_primitive_t p = prim_new (run, pd);
      dnnl_exec_arg_t args[] = { { DNNL_ARG_SRC, u->y },       { DNNL_ARG_DST, u->a },
                                 { DNNL_ARG_MEAN, u->mean },   { DNNL_ARG_VARIANCE, u->var },
                                 { DNNL_ARG_SCALE, scale },    { DNNL_ARG_SHIFT, shift } };
      if (p)
        step_push (run->fwd, p, 6, args);
      if (pd)
        dnnl_primitive_desc_destroy (pd);
      return;
    }

  u->mean = mm_unet_mem_new (run, &vmd, NULL);
  u->var = mm_unet_mem_new (run, &vmd, NULL);
  /* Synchronised: the statistics are the group's, computed here and given to oneDNN, which
   * then treats them as constants backward; the terms of their gradient are added after. */
  SyncBn *sb = NULL;
  if (run->sync)
    {
      flags |= dnnl_use_global_stats;
      sb = g_new0 (SyncBn, 1);
      g_ptr_array_add (run->buffers, sb);
      *sb = (SyncBn) { .y = u->y, .dy = u->dy, .mean = u->mean, .var = u->var,
                       .scale = mm_unet_param (net, up->bn_w)->data,
                       .dscale = mm_unet_run_grad_ptr (run, up->bn_w),
                       .dshift = mm_unet_run_grad_ptr (run, up->bn_b),
                       .c = (int) c, .slot = run->sync_len,
                       .dslot = run->sync_len + 2 * (size_t) c + 1 };
      run->sync_len += 4 * (size_t) c + 1;
      Step st[] = { { .kind = STEP_BN_SUMS, .sbn = sb },
                    { .kind = STEP_SYNC, .slot = sb->slot, .slot_len = 2 * (size_t) c + 1 },
                    { .kind = STEP_BN_MOMENTS, .sbn = sb } };
      g_array_append_vals (run->fwd, st, 3);
    }
  TRY (run, dnnl_batch_normalization_forward_desc_init (&d, dnnl_forward_training, md, BN_EPS,
                                                        flags));
  dnnl_primitive_desc_t fpd = pd_new (run, &d, NULL, NULL);
  if (fpd == NULL)
    return;
  u->ws = mm_unet_mem_new (run, query (fpd, dnnl_query_workspace_md), NULL);
  dnnl_primitive_t fp = prim_new (run, fpd);
  dnnl_exec_arg_t fargs[] = { { DNNL_ARG_SRC, u->y },     { DNNL_ARG_DST, u->a },
                              { DNNL_ARG_MEAN, u->mean }, { DNNL_ARG_VARIANCE, u->var },
                              { DNNL_ARG_SCALE, scale },  { DNNL_ARG_SHIFT, shift },
                              { DNNL_ARG_WORKSPACE, u->ws } };
  if (fp)
    step_push (run->fwd, fp, 7, fargs);
  Step rs = { .kind = STEP_RUNNING, .a = u->mean, .b = u->var, .unit_rm = up->bn_rm,
              .unit_rv = up->bn_rv, .count = (double) md->dims[0] * md->dims[2] * md->dims[3],
              .countp = sb ? &sb->n : NULL };
  g_array_append_val (run->fwd, rs);

  TRY (run, dnnl_batch_normalization_backward_desc_init (&d, dnnl_backward, md, md, BN_EPS,
                                                         flags));
  dnnl_primitive_desc_t bpd = pd_new (run, &d, NULL, fpd);
  if (bpd)
    {
      dnnl_memory_t gscale = mm_unet_mem_new (run, &vmd, mm_unet_run_grad_ptr (run, up->bn_w));
      dnnl_memory_t gshift = mm_unet_mem_new (run, &vmd, mm_unet_run_grad_ptr (run, up->bn_b));
      dnnl_primitive_t bp = prim_new (run, bpd);
      dnnl_exec_arg_t bargs[] = { { DNNL_ARG_SRC, u->y },           { DNNL_ARG_DIFF_DST, u->da },
                                  { DNNL_ARG_MEAN, u->mean },       { DNNL_ARG_VARIANCE, u->var },
                                  { DNNL_ARG_SCALE, scale },        { DNNL_ARG_SHIFT, shift },
                                  { DNNL_ARG_WORKSPACE, u->ws },    { DNNL_ARG_DIFF_SRC, u->dy },
                                  { DNNL_ARG_DIFF_SCALE, gscale },  { DNNL_ARG_DIFF_SHIFT, gshift } };
      if (bp)
        step_push (bwd, bp, 10, bargs);
      if (sb)
        {
          Step st[] = { { .kind = STEP_BN_DSUMS, .sbn = sb },
                        { .kind = STEP_SYNC, .slot = sb->dslot, .slot_len = 2 * (size_t) sb->c },
                        { .kind = STEP_BN_DGRAD, .sbn = sb } };
          g_array_append_vals (bwd, st, 3);
        }
      dnnl_primitive_desc_destroy (bpd);
    }
  dnnl_primitive_desc_destroy (fpd);
}

void
mm_unet_unit_alloc (MmUnetRun *run, Unit *u, int c, int h, int w)
{
  if (run->training)
    u->y = mm_unet_act_new (run, c, h, w);
  u->a = mm_unet_act_new (run, c, h, w);
  if (run->training)
    {
      u->dy = mm_unet_act_new (run, c, h, w);
      u->da = mm_unet_act_new (run, c, h, w);
    }
}

/* A plain 3x3 conv unit: src -> unit (conv, bn+relu); backward into dsrc. Backward steps are
 * collected in a list of their own, which the caller splices in reverse order of units. */
void
mm_unet_unit_build (MmUnetRun *run, Unit *u, const UnitParams *up, dnnl_memory_t src,
            dnnl_memory_t dsrc, GArray *bwd)
{
  Param *w = mm_unet_param (run->net, up->w);
  ConvSpec c = { .k = 3, .stride = 1, .pad = 1, .src = src, .dst = u->y, .dsrc = dsrc,
                 .ddst = u->dy };
  c.plain_w = mm_unet_weight_view (run, w->data, w->shape, dnnl_oihw, 0, 0);
  if (!run->training)
    {
      /* inference: batch norm folded into the convolution, ReLU fused, no y at all */
      c.dst = u->a;
      c.fold = up;
      c.fold_bias = c.relu = true;
      mm_unet_conv_build (run, &c, bwd);
      return;
    }
  c.plain_gw = mm_unet_weight_view (run, mm_unet_run_grad_ptr (run, up->w), w->shape,
                                    dnnl_oihw, 0, 0);
  /* Backward runs in reverse: the unit's batch norm first, then its convolution. */
  GArray *conv_bwd = g_array_new (FALSE, TRUE, sizeof (Step));
  mm_unet_conv_build (run, &c, conv_bwd);
  mm_unet_bn_build (run, u, up, bwd);
  mm_unet_append_steps (bwd, conv_bwd);
  g_array_unref (conv_bwd);
}

void
mm_unet_pool_build (MmUnetRun *run, Level *L)
{
  if (run->error)
    return;
  dnnl_dims_t k = { 2, 2 }, z = { 0, 0 };
  dnnl_prop_kind_t prop = run->training ? dnnl_forward_training : dnnl_forward_inference;
  dnnl_pooling_desc_t d;
  TRY (run, dnnl_pooling_forward_desc_init (&d, prop, dnnl_pooling_max, mm_unet_mem_md (L->enc[1].a),
                                            mm_unet_mem_md (L->pooled), k, k, z, z));
  dnnl_primitive_desc_t fpd = pd_new (run, &d, NULL, NULL);
  if (fpd == NULL)
    return;
  dnnl_primitive_t fp = prim_new (run, fpd);
  if (run->training)
    {
      L->pool_ws = mm_unet_mem_new (run, query (fpd, dnnl_query_workspace_md), NULL);
      dnnl_exec_arg_t a[] = { { DNNL_ARG_SRC, L->enc[1].a },
                              { DNNL_ARG_DST, L->pooled },
                              { DNNL_ARG_WORKSPACE, L->pool_ws } };
      if (fp)
        step_push (run->fwd, fp, 3, a);
      TRY (run, dnnl_pooling_backward_desc_init (&d, dnnl_pooling_max, mm_unet_mem_md (L->enc[1].da),
                                                 mm_unet_mem_md (L->dpooled), k, k, z, z));
      dnnl_primitive_desc_t bpd = pd_new (run, &d, NULL, fpd);
      dnnl_primitive_t bp = prim_new (run, bpd);
      dnnl_exec_arg_t b[] = { { DNNL_ARG_DIFF_DST, L->dpooled },
                              { DNNL_ARG_WORKSPACE, L->pool_ws },
                              { DNNL_ARG_DIFF_SRC, L->enc[1].da } };
      if (bp)
        step_push (L->bwd_enc, bp, 3, b);
      if (bpd)
        dnnl_primitive_desc_destroy (bpd);
    }
  else
    {
      dnnl_exec_arg_t a[] = { { DNNL_ARG_SRC, L->enc[1].a }, { DNNL_ARG_DST, L->pooled } };
      if (fp)
        step_push (run->fwd, fp, 2, a);
    }
  dnnl_primitive_desc_destroy (fpd);
}
