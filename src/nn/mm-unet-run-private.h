/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the files of the U-Net's run graph share: its steps, the run, and the builders of its
 * layers (mm-unet-layers.c) that mm_unet_run_new (mm-unet-run.c) assembles. */
#pragma once

#include "mm-unet-private.h"

typedef enum
{
  STEP_PRIM,
  STEP_ADD,        /* dst += src, whole buffers of equal layout */
  STEP_RUNNING,    /* running mean/var from the batch statistics */
  STEP_HEAD_FWD,
  STEP_HEAD_BWD,
  STEP_FOLD,       /* inference: batch norm folded into a convolution's weights and bias */
  /* Synchronised batch norm (mm-unet-sync.c): */
  STEP_SYNC,       /* the runs of a group meet: their sync slots are summed over the group */
  STEP_BN_SUMS,    /* per-channel sum and sum of squares of y into the sync slot */
  STEP_BN_MOMENTS, /* the slot's (summed) sums -> mean and variance */
  STEP_BN_DSUMS,   /* this run's d shift, d scale (sums of dy and dy x-hat) into the slot */
  STEP_BN_DGRAD,   /* dy -= the terms of the batch's mean and variance, from the slot */
  /* Inference's transposed convolution as a 1x1 convolution (mm-unet-up.c): */
  STEP_UP_FOLD,    /* its weights and bias from the transposed convolution's */
  STEP_UP_SHUFFLE, /* its 4 c channels to the 2x2 output pixels */
} StepKind;

/* What a synchronised batch norm step works on. */
typedef struct
{
  dnnl_memory_t y, dy, mean, var;
  const float *scale;          /* gamma */
  const float *dscale, *dshift; /* this run's gradients of gamma and beta */
  int c;
  size_t slot;                 /* offset in run->sync_buf: sums of y and y^2, the count */
  size_t dslot;                /* sums of dy and dy x-hat (2 c) */
  double n;                    /* values per channel over the group (BN_MOMENTS sets it) */
} SyncBn;

/* W' = W s and b' = shift - s mean, s = scale / sqrt (var + eps), per output channel o; the
 * weights are input channels [i0, i0 + ni) of an (O, I, k, k) tensor. */
typedef struct
{
  const float *w, *scale, *shift, *mean, *var;
  int o, i, i0, ni, kk;
  float *out_w, *out_b; /* out_b NULL: no bias from this part */
} Fold;

/* The 1x1 convolution's (4 co, ci) weights and 4 co bias from PyTorch's (ci, co, 2, 2). */
typedef struct
{
  const float *w, *b;
  int ci, co;
  float *out_w, *out_b;
} UpFold;

/* src: 4 c channels at h x w, tap q = 2 kh + kw in channels [q c, q c + c); dst: c channels
 * at 2h x 2w; both in the run's layout, of channel block `block` (nhwc: c). */
typedef struct
{
  dnnl_memory_t src, dst;
  int c, block;
  bool nhwc;
} UpShuffle;

typedef struct
{
  StepKind kind;
  dnnl_primitive_t prim;
  int nargs;
  dnnl_exec_arg_t args[10];
  dnnl_memory_t a, b; /* ADD: dst, src; RUNNING: mean, var */
  int unit_rm, unit_rv;
  bool input_grad;    /* runs only when the input's gradient is wanted */
  Fold *fold;
  double count;       /* RUNNING: values per channel behind the batch statistics */
  const double *countp; /* RUNNING in a synchronised run: the group's count, else NULL */
  SyncBn *sbn;        /* the BN_ steps */
  size_t slot, slot_len; /* SYNC: the part of run->sync_buf summed over the group */
  UpFold *upfold;
  UpShuffle *shuffle;
} Step;

/* Memories of one conv -> batch norm -> ReLU unit. */
typedef struct
{
  dnnl_memory_t y, a;             /* conv output, unit output */
  dnnl_memory_t mean, var, ws;    /* batch statistics, ReLU workspace */
  dnnl_memory_t dy, da;           /* their gradients */
} Unit;

struct _MmUnetRun
{
  MmUnet *net;
  int batch, height, width;
  bool training;
  dnnl_format_tag_t act_tag;
  dnnl_data_type_t act_type; /* f32; bf16 for inference where MM_NN_BF16=1 */
  GArray *weights;  /* Step: reorders of plain weights into primitive layouts */
  GArray *fwd, *bwd;
  GPtrArray *mems;  /* dnnl_memory_t, destroyed with the run */
  GPtrArray *prims; /* dnnl_primitive_t */
  GPtrArray *buffers; /* g_free'd with the run */
  dnnl_memory_t input, input_grad, head_in, head_in_grad;
  int head_block;   /* head_in's channel block: 1 plain nchw, 8/16 blocked, width nhwc */
  bool want_input_grad;
  float *logits;
  const float *grad_logits;
  GError *error;    /* the first failure while building */
  dnnl_stream_t stream; /* one per run: runs may execute in parallel threads */
  /* Synchronised batch norm (mm_unet_run_new_sync): the statistics of a batch spread over
   * several runs (data-parallel parts); the sync steps' sums live in sync_buf. */
  bool sync;
  double *sync_buf;
  size_t sync_len;
  float **own_grads; /* per parameter: where this run writes its gradient; NULL: the net's */
};

/* Where this run writes parameter i's gradient. */
static inline float *
mm_unet_run_grad_ptr (MmUnetRun *run, int i)
{
  return run->own_grads ? run->own_grads[i] : mm_unet_param (run->net, i)->grad;
}

/* Building: records the first failure in run->error; later builders then do nothing. */
void mm_unet_run_fail (MmUnetRun *run, const char *what, dnnl_status_t s);

#define TRY(run, call)                                                                      \
  G_STMT_START                                                                              \
  {                                                                                         \
    dnnl_status_t s_ = (call);                                                              \
    if (s_ != dnnl_success)                                                                 \
      mm_unet_run_fail ((run), #call, s_);                                                \
  }                                                                                         \
  G_STMT_END

static inline const dnnl_memory_desc_t *
mm_unet_mem_md (dnnl_memory_t m)
{
  const dnnl_memory_desc_t *md = NULL;
  dnnl_memory_get_memory_desc (m, &md);
  return md;
}

static inline float *
mm_unet_mem_ptr (dnnl_memory_t m)
{
  void *p = NULL;
  dnnl_memory_get_data_handle (m, &p);
  return p;
}

/* Forward (and in training, backward) primitives of a convolution or transposed
 * convolution. `plain` is the parameter's view in PyTorch layout, `grad_plain` its gradient's
 * view; sum: accumulate into dst (post-op). Backward steps go to *bwd_data_steps and
 * *bwd_weight_steps lists given. */
typedef struct
{
  bool deconv;
  int k, stride, pad;
  dnnl_memory_t src, dst, bias;          /* bias may be NULL */
  dnnl_memory_t plain_w, plain_gw;       /* views of the parameter and its gradient */
  float *grad_bias;                      /* plain */
  bool sum;
  dnnl_memory_t dsrc;                    /* NULL: no backward data */
  dnnl_memory_t ddst;                    /* in training */
  /* inference: this unit's batch norm folded in, ReLU as a post-op (after the sum) */
  const UnitParams *fold;
  int fold_i0, fold_ni;                  /* the input channels of plain_w's view */
  bool fold_bias, relu;
} ConvSpec;

/* Per level, what the builder keeps. */
typedef struct
{
  Unit enc[2], dec[2];
  dnnl_memory_t pooled, dpooled;    /* max pool of enc[1].a (input of the next level) */
  dnnl_memory_t pool_ws;
  dnnl_memory_t up, dup;            /* transposed conv output (decoder levels) */
  dnnl_memory_t dskip;              /* gradient reaching enc[1].a through the skip */
  GArray *bwd_enc, *bwd_dec;        /* backward steps, in execution order within the level */
} Level;

/* Memories owned by the run: of a descriptor (on handle, or allocated when NULL), an
 * activation in the run's layout, one like another. */
dnnl_memory_t mm_unet_mem_new (MmUnetRun *run, const dnnl_memory_desc_t *md, void *handle);
dnnl_memory_t mm_unet_act_new (MmUnetRun *run, int c, int h, int w);
dnnl_memory_t mm_unet_like_new (MmUnetRun *run, dnnl_memory_t m);
/* Steps appended to a list: a reorder from one memory to another, dst += src, a whole list. */
void mm_unet_reorder_push (MmUnetRun *run, GArray *list, dnnl_memory_t from, dnnl_memory_t to);
void mm_unet_add_push (GArray *list, dnnl_memory_t dst, dnnl_memory_t src);
void mm_unet_append_steps (GArray *dst, GArray *src);
/* A plain view of a weight parameter: the whole tensor (ni 0), or input channels
 * [i0, i0 + ni) of an OIHW one. */
dnnl_memory_t mm_unet_weight_view (MmUnetRun *run, float *data, const int64_t shape[4],
                                   dnnl_format_tag_t tag, int64_t i0, int64_t ni);
/* The layers: forward steps go to run->fwd (weight reorders and folds to run->weights),
 * backward steps to bwd in execution order. */
void mm_unet_conv_build (MmUnetRun *run, const ConvSpec *c, GArray *bwd);
void mm_unet_bn_build (MmUnetRun *run, Unit *u, const UnitParams *up, GArray *bwd);
/* The C steps of synchronised batch norm. */
void mm_unet_sync_execute (MmUnetRun *run, const Step *s);
void mm_unet_unit_alloc (MmUnetRun *run, Unit *u, int c, int h, int w);
void mm_unet_unit_build (MmUnetRun *run, Unit *u, const UnitParams *up, dnnl_memory_t src,
                         dnnl_memory_t dsrc, GArray *bwd);
void mm_unet_pool_build (MmUnetRun *run, Level *L);

/* Inference's transposed convolution below -> up as a 1x1 convolution and a pixel shuffle
 * (mm-unet-up.c), when the run's layout allows it (else mm_unet_conv_build's
 * deconvolution); w, b: the transposed convolution's parameters. */
bool mm_unet_up_as_conv (const MmUnetRun *run, int c);
void mm_unet_up_build (MmUnetRun *run, dnnl_memory_t below, dnnl_memory_t up, const Param *w,
                       const Param *b);
void mm_unet_up_fold (const UpFold *f);
void mm_unet_up_shuffle (const UpShuffle *s);
