/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The U-Net on oneDNN's C API.
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
#include "mm-unet.h"

#include <math.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <string.h>

G_DEFINE_QUARK (mm-nn-error-quark, mm_nn_error)

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

typedef struct
{
  char *name;
  int ndim;
  int64_t shape[4];
  size_t size;
  bool trainable;
  float *data;
  float *grad;
} Param;

/* Parameter indices of one conv -> batch norm -> ReLU unit. */
typedef struct
{
  int w, bn_w, bn_b, bn_rm, bn_rv;
} UnitParams;

typedef struct
{
  UnitParams u[2];
} BlockParams;

struct _MmUnet
{
  MmUnetArch arch;
  GArray *params; /* Param */
  BlockParams enc[MM_UNET_MAX_DEPTH];
  BlockParams dec[MM_UNET_MAX_DEPTH];
  int up_w[MM_UNET_MAX_DEPTH], up_b[MM_UNET_MAX_DEPTH];
  int head_w, head_b;
  dnnl_engine_t engine;
};

/* ---- parameters ---------------------------------------------------------------------- */

static guint64
splitmix64 (guint64 *s)
{
  guint64 z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static double
uniform01 (guint64 *s)
{
  return (double) (splitmix64 (s) >> 11) * (1.0 / 9007199254740992.0);
}

static int
add_param (MmUnet *net, const char *name, int ndim, const int64_t *shape, bool trainable)
{
  Param p = { 0 };
  p.name = g_strdup (name);
  p.ndim = ndim;
  p.size = 1;
  for (int d = 0; d < ndim; d++)
    {
      p.shape[d] = shape[d];
      p.size *= (size_t) shape[d];
    }
  p.trainable = trainable;
  p.data = g_malloc0_n (p.size, sizeof (float));
  if (trainable)
    p.grad = g_malloc0_n (p.size, sizeof (float));
  g_array_append_val (net->params, p);
  return (int) net->params->len - 1;
}

static Param *
param (const MmUnet *net, int i)
{
  return &g_array_index (net->params, Param, i);
}

/* U(-bound, bound) with bound = 1 / sqrt (fan_in): what PyTorch's default
 * kaiming_uniform_(a = sqrt 5) and its bias initialisation amount to. */
static void
init_uniform (MmUnet *net, int i, int fan_in, guint64 *rng)
{
  Param *p = param (net, i);
  double bound = 1.0 / sqrt ((double) fan_in);
  for (size_t k = 0; k < p->size; k++)
    p->data[k] = (float) ((2.0 * uniform01 (rng) - 1.0) * bound);
}

static void
fill (MmUnet *net, int i, float v)
{
  Param *p = param (net, i);
  for (size_t k = 0; k < p->size; k++)
    p->data[k] = v;
}

static void
add_unit (MmUnet *net, UnitParams *u, const char *prefix, int unit, int cin, int cout,
          guint64 *rng)
{
  char name[96];
  int64_t wshape[4] = { cout, cin, 3, 3 };
  int64_t cshape[1] = { cout };
  g_snprintf (name, sizeof name, "%s.conv%d.weight", prefix, unit);
  u->w = add_param (net, name, 4, wshape, true);
  init_uniform (net, u->w, cin * 9, rng);
  g_snprintf (name, sizeof name, "%s.bn%d.weight", prefix, unit);
  u->bn_w = add_param (net, name, 1, cshape, true);
  fill (net, u->bn_w, 1.f);
  g_snprintf (name, sizeof name, "%s.bn%d.bias", prefix, unit);
  u->bn_b = add_param (net, name, 1, cshape, true);
  g_snprintf (name, sizeof name, "%s.bn%d.running_mean", prefix, unit);
  u->bn_rm = add_param (net, name, 1, cshape, false);
  g_snprintf (name, sizeof name, "%s.bn%d.running_var", prefix, unit);
  u->bn_rv = add_param (net, name, 1, cshape, false);
  fill (net, u->bn_rv, 1.f);
}

static int
level_channels (const MmUnet *net, int l)
{
  return net->arch.width << l;
}

MmUnet *
mm_unet_new (const MmUnetArch *arch, guint64 seed, GError **error)
{
  if (arch->depth < 1 || arch->depth > MM_UNET_MAX_DEPTH || arch->width < 1
      || ((gint64) arch->width << (arch->depth - 1)) > MM_UNET_MAX_CHANNELS)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                   "A U-Net of depth %d and width %d is not supported (depth 1 to %d, at most "
                   "%d channels at the bottom)",
                   arch->depth, arch->width, MM_UNET_MAX_DEPTH, MM_UNET_MAX_CHANNELS);
      return NULL;
    }
  MmUnet *net = g_new0 (MmUnet, 1);
  net->arch = *arch;
  net->params = g_array_new (FALSE, TRUE, sizeof (Param));
  guint64 rng = seed ^ 0x5EEDF00DULL;
  char prefix[32];

  for (int l = 0; l < arch->depth; l++)
    {
      int cin = l == 0 ? MM_UNET_IN_CHANNELS : level_channels (net, l - 1);
      int c = level_channels (net, l);
      g_snprintf (prefix, sizeof prefix, "enc.%d", l);
      add_unit (net, &net->enc[l].u[0], prefix, 1, cin, c, &rng);
      add_unit (net, &net->enc[l].u[1], prefix, 2, c, c, &rng);
    }
  for (int l = arch->depth - 2; l >= 0; l--)
    {
      int c = level_channels (net, l);
      char name[96];
      int64_t upshape[4] = { 2 * c, c, 2, 2 }; /* (in, out, kH, kW) as PyTorch */
      int64_t bshape[1] = { c };
      g_snprintf (name, sizeof name, "dec.%d.up.weight", l);
      net->up_w[l] = add_param (net, name, 4, upshape, true);
      init_uniform (net, net->up_w[l], c * 4, &rng); /* PyTorch's fan_in: dim 1 x k x k */
      g_snprintf (name, sizeof name, "dec.%d.up.bias", l);
      net->up_b[l] = add_param (net, name, 1, bshape, true);
      init_uniform (net, net->up_b[l], c * 4, &rng);
      g_snprintf (prefix, sizeof prefix, "dec.%d", l);
      add_unit (net, &net->dec[l].u[0], prefix, 1, 2 * c, c, &rng);
      add_unit (net, &net->dec[l].u[1], prefix, 2, c, c, &rng);
    }
  int64_t hshape[4] = { 1, arch->width, 1, 1 };
  int64_t one[1] = { 1 };
  net->head_w = add_param (net, "head.weight", 4, hshape, true);
  init_uniform (net, net->head_w, arch->width, &rng);
  net->head_b = add_param (net, "head.bias", 1, one, true);
  /* The prior trick of RetinaNet: start at p = 0.01 rather than 0.5, since metal is rare;
   * otherwise the first hundreds of steps only learn that most pixels are not metal. */
  fill (net, net->head_b, (float) log (0.01 / 0.99));

  if (dnnl_engine_create (&net->engine, dnnl_cpu, 0) != dnnl_success)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_FAILED,
                   "oneDNN could not start its CPU engine");
      mm_unet_free (net);
      return NULL;
    }
  return net;
}

void
mm_unet_free (MmUnet *net)
{
  if (net == NULL)
    return;
  for (guint i = 0; i < net->params->len; i++)
    {
      Param *p = param (net, (int) i);
      g_free (p->name);
      g_free (p->data);
      g_free (p->grad);
    }
  g_array_unref (net->params);
  if (net->engine)
    dnnl_engine_destroy (net->engine);
  g_free (net);
}

const MmUnetArch *
mm_unet_get_arch (const MmUnet *net)
{
  return &net->arch;
}

int
mm_unet_n_params (const MmUnet *net)
{
  return (int) net->params->len;
}

const char *
mm_unet_param_name (const MmUnet *net, int i)
{
  return param (net, i)->name;
}

int
mm_unet_param_shape (const MmUnet *net, int i, int64_t shape[4])
{
  const Param *p = param (net, i);
  memcpy (shape, p->shape, sizeof p->shape);
  return p->ndim;
}

size_t
mm_unet_param_size (const MmUnet *net, int i)
{
  return param (net, i)->size;
}

bool
mm_unet_param_trainable (const MmUnet *net, int i)
{
  return param (net, i)->trainable;
}

float *
mm_unet_param_data (MmUnet *net, int i)
{
  return param (net, i)->data;
}

float *
mm_unet_param_grad (MmUnet *net, int i)
{
  return param (net, i)->grad;
}

int
mm_unet_find_param (const MmUnet *net, const char *name)
{
  for (guint i = 0; i < net->params->len; i++)
    if (strcmp (param (net, (int) i)->name, name) == 0)
      return (int) i;
  return -1;
}

size_t
mm_unet_n_weights (const MmUnet *net)
{
  size_t n = 0;
  for (guint i = 0; i < net->params->len; i++)
    if (param (net, (int) i)->trainable)
      n += param (net, (int) i)->size;
  return n;
}

/* ---- runs ---------------------------------------------------------------------------- */

typedef enum
{
  STEP_PRIM,
  STEP_ADD,        /* dst += src, whole buffers of equal layout */
  STEP_RUNNING,    /* running mean/var from the batch statistics */
  STEP_HEAD_FWD,
  STEP_HEAD_BWD,
  STEP_FOLD,       /* inference: batch norm folded into a convolution's weights and bias */
} StepKind;

/* W' = W s and b' = shift - s mean, s = scale / sqrt (var + eps), per output channel o; the
 * weights are input channels [i0, i0 + ni) of an (O, I, k, k) tensor. */
typedef struct
{
  const float *w, *scale, *shift, *mean, *var;
  int o, i, i0, ni, kk;
  float *out_w, *out_b; /* out_b NULL: no bias from this part */
} Fold;

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
  bool want_input_grad;
  float *logits;
  const float *grad_logits;
  GError *error;    /* the first failure while building */
  dnnl_stream_t stream; /* one per run: runs may execute in parallel threads */
};

static void
fail (MmUnetRun *run, const char *what, dnnl_status_t s)
{
  if (run->error == NULL)
    g_set_error (&run->error, MM_NN_ERROR, MM_NN_ERROR_FAILED,
                 "oneDNN could not set up the network (%s: status %d) for batch %d of %d x %d",
                 what, (int) s, run->batch, run->width, run->height);
}

#define TRY(run, call)                                                                      \
  G_STMT_START                                                                              \
  {                                                                                         \
    dnnl_status_t s_ = (call);                                                              \
    if (s_ != dnnl_success)                                                                 \
      fail ((run), #call, s_);                                                              \
  }                                                                                         \
  G_STMT_END

static const dnnl_memory_desc_t *
mem_md (dnnl_memory_t m)
{
  const dnnl_memory_desc_t *md = NULL;
  dnnl_memory_get_memory_desc (m, &md);
  return md;
}

static float *
mem_ptr (dnnl_memory_t m)
{
  void *p = NULL;
  dnnl_memory_get_data_handle (m, &p);
  return p;
}

static dnnl_memory_t
mem_new (MmUnetRun *run, const dnnl_memory_desc_t *md, void *handle)
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

static dnnl_memory_t
act_new (MmUnetRun *run, int c, int h, int w)
{
  dnnl_memory_desc_t md = act_md (run, c, h, w);
  return mem_new (run, &md, NULL);
}

static dnnl_memory_t
like_new (MmUnetRun *run, dnnl_memory_t m)
{
  return m ? mem_new (run, mem_md (m), NULL) : NULL;
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

static void
append_steps (GArray *dst, GArray *src)
{
  g_array_append_vals (dst, src->data, src->len);
}

static void
reorder_push (MmUnetRun *run, GArray *list, dnnl_memory_t from, dnnl_memory_t to)
{
  if (run->error)
    return;
  dnnl_primitive_desc_t pd = NULL;
  TRY (run, dnnl_reorder_primitive_desc_create (&pd, mem_md (from), run->net->engine,
                                                mem_md (to), run->net->engine, NULL));
  dnnl_primitive_t p = prim_new (run, pd);
  if (pd)
    dnnl_primitive_desc_destroy (pd);
  dnnl_exec_arg_t args[] = { { DNNL_ARG_FROM, from }, { DNNL_ARG_TO, to } };
  if (p)
    step_push (list, p, 2, args);
}

static void
add_push (GArray *list, dnnl_memory_t dst, dnnl_memory_t src)
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
static dnnl_memory_t
weight_view (MmUnetRun *run, float *data, const int64_t shape[4], dnnl_format_tag_t tag,
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
    return mem_new (run, &whole, data);
  dnnl_dims_t vdims = { dims[0], ni, dims[2], dims[3] };
  dnnl_dims_t offs = { 0, i0, 0, 0 };
  TRY (run, dnnl_memory_desc_init_submemory (&view, &whole, vdims, offs));
  return mem_new (run, &view, data);
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

static void
conv_build (MmUnetRun *run, const ConvSpec *c, GArray *bwd)
{
  if (run->error)
    return;
  dnnl_dims_t strides = { c->stride, c->stride };
  dnnl_dims_t pad = { c->pad, c->pad };
  dnnl_memory_desc_t wany;
  const dnnl_memory_desc_t *pw = mem_md (c->plain_w);
  dnnl_memory_desc_init_by_tag (&wany, 4, pw->dims, run->act_type, dnnl_format_tag_any);
  dnnl_prop_kind_t prop = run->training ? dnnl_forward_training : dnnl_forward_inference;
  dnnl_alg_kind_t alg = c->deconv ? dnnl_deconvolution_direct : dnnl_convolution_direct;

  dnnl_memory_t plain_w = c->plain_w, bias = c->bias;
  Fold *fold = NULL;
  if (c->fold)
    {
      /* weights scaled into a buffer of the view's shape, the bias beside them */
      MmUnet *net = run->net;
      const Param *wp = param (net, c->fold->w);
      fold = g_new0 (Fold, 1);
      g_ptr_array_add (run->buffers, fold);
      fold->w = wp->data;
      fold->scale = param (net, c->fold->bn_w)->data;
      fold->shift = param (net, c->fold->bn_b)->data;
      fold->mean = param (net, c->fold->bn_rm)->data;
      fold->var = param (net, c->fold->bn_rv)->data;
      fold->o = (int) wp->shape[0];
      fold->i = (int) wp->shape[1];
      fold->i0 = c->fold_i0;
      fold->ni = c->fold_ni ? c->fold_ni : fold->i;
      fold->kk = (int) (wp->shape[2] * wp->shape[3]);
      fold->out_w = g_new (float, (size_t) fold->o * fold->ni * fold->kk);
      g_ptr_array_add (run->buffers, fold->out_w);
      int64_t vshape[4] = { fold->o, fold->ni, wp->shape[2], wp->shape[3] };
      plain_w = weight_view (run, fold->out_w, vshape, dnnl_oihw, 0, 0);
      if (c->fold_bias)
        {
          dnnl_memory_desc_t bmd;
          dnnl_dims_t bd = { fold->o };
          dnnl_memory_desc_init_by_tag (&bmd, 1, bd, dnnl_f32, dnnl_x);
          fold->out_b = g_new (float, fold->o);
          g_ptr_array_add (run->buffers, fold->out_b);
          bias = mem_new (run, &bmd, fold->out_b);
        }
      Step fs = { .kind = STEP_FOLD, .fold = fold };
      g_array_append_val (run->weights, fs);
    }
  const dnnl_memory_desc_t *bmd = bias ? mem_md (bias) : NULL;

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
    TRY (run, dnnl_deconvolution_forward_desc_init (&d.deconv, prop, alg, mem_md (c->src),
                                                    &wany, bmd, mem_md (c->dst), strides, pad,
                                                    pad));
  else
    TRY (run, dnnl_convolution_forward_desc_init (&d.conv, prop, alg, mem_md (c->src), &wany,
                                                  bmd, mem_md (c->dst), strides, pad, pad));
  dnnl_primitive_desc_t fpd = pd_new (run, &d, attr, NULL);
  if (attr)
    dnnl_primitive_attr_destroy (attr);
  if (fpd == NULL)
    return;
  dnnl_memory_t w = mem_new (run, query (fpd, dnnl_query_weights_md), NULL);
  reorder_push (run, run->weights, plain_w, w);
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
        TRY (run, dnnl_deconvolution_backward_data_desc_init (&d.deconv, alg, mem_md (c->dsrc),
                                                              &wany, mem_md (c->ddst), strides,
                                                              pad, pad));
      else
        TRY (run, dnnl_convolution_backward_data_desc_init (&d.conv, alg, mem_md (c->dsrc),
                                                            &wany, mem_md (c->ddst), strides,
                                                            pad, pad));
      dnnl_primitive_desc_t bpd = pd_new (run, &d, NULL, fpd);
      if (bpd)
        {
          dnnl_memory_t bw = w;
          const dnnl_memory_desc_t *bwmd = query (bpd, dnnl_query_weights_md);
          if (!dnnl_memory_desc_equal (bwmd, mem_md (w)))
            {
              bw = mem_new (run, bwmd, NULL);
              reorder_push (run, run->weights, c->plain_w, bw);
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
    dnnl_memory_desc_init_by_tag (&bany, 1, mem_md (c->bias)->dims, dnnl_f32, dnnl_x);
  if (c->deconv)
    TRY (run, dnnl_deconvolution_backward_weights_desc_init (&d.deconv, alg, mem_md (c->src),
                                                             &wany, c->bias ? &bany : NULL,
                                                             mem_md (c->ddst), strides, pad,
                                                             pad));
  else
    TRY (run, dnnl_convolution_backward_weights_desc_init (&d.conv, alg, mem_md (c->src),
                                                           &wany, c->bias ? &bany : NULL,
                                                           mem_md (c->ddst), strides, pad, pad));
  dnnl_primitive_desc_t wpd = pd_new (run, &d, NULL, fpd);
  if (wpd)
    {
      dnnl_memory_t gw = mem_new (run, query (wpd, dnnl_query_diff_weights_md), NULL);
      dnnl_memory_t gb = c->bias ? mem_new (run, &bany, c->grad_bias) : NULL;
      dnnl_primitive_t wp = prim_new (run, wpd);
      dnnl_exec_arg_t wargs[] = { { DNNL_ARG_SRC, c->src },
                                  { DNNL_ARG_DIFF_DST, c->ddst },
                                  { DNNL_ARG_DIFF_WEIGHTS, gw },
                                  { DNNL_ARG_DIFF_BIAS, gb } };
      if (wp)
        step_push (bwd, wp, c->bias ? 4 : 3, wargs);
      reorder_push (run, bwd, gw, c->plain_gw);
      dnnl_primitive_desc_destroy (wpd);
    }
  dnnl_primitive_desc_destroy (fpd);
}

/* Batch norm + ReLU of a unit: y -> a forward; da -> dy backward. */
static void
bn_build (MmUnetRun *run, Unit *u, const UnitParams *up, GArray *bwd)
{
  if (run->error)
    return;
  MmUnet *net = run->net;
  const dnnl_memory_desc_t *md = mem_md (u->y);
  int64_t c = md->dims[1];
  dnnl_memory_desc_t vmd;
  dnnl_dims_t vd = { c };
  dnnl_memory_desc_init_by_tag (&vmd, 1, vd, dnnl_f32, dnnl_x);
  dnnl_memory_t scale = mem_new (run, &vmd, param (net, up->bn_w)->data);
  dnnl_memory_t shift = mem_new (run, &vmd, param (net, up->bn_b)->data);
  unsigned flags = dnnl_use_scale | dnnl_use_shift | dnnl_fuse_norm_relu;
  dnnl_batch_normalization_desc_t d;

  if (!run->training)
    {
      u->mean = mem_new (run, &vmd, param (net, up->bn_rm)->data);
      u->var = mem_new (run, &vmd, param (net, up->bn_rv)->data);
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

  u->mean = mem_new (run, &vmd, NULL);
  u->var = mem_new (run, &vmd, NULL);
  TRY (run, dnnl_batch_normalization_forward_desc_init (&d, dnnl_forward_training, md, BN_EPS,
                                                        flags));
  dnnl_primitive_desc_t fpd = pd_new (run, &d, NULL, NULL);
  if (fpd == NULL)
    return;
  u->ws = mem_new (run, query (fpd, dnnl_query_workspace_md), NULL);
  dnnl_primitive_t fp = prim_new (run, fpd);
  dnnl_exec_arg_t fargs[] = { { DNNL_ARG_SRC, u->y },     { DNNL_ARG_DST, u->a },
                              { DNNL_ARG_MEAN, u->mean }, { DNNL_ARG_VARIANCE, u->var },
                              { DNNL_ARG_SCALE, scale },  { DNNL_ARG_SHIFT, shift },
                              { DNNL_ARG_WORKSPACE, u->ws } };
  if (fp)
    step_push (run->fwd, fp, 7, fargs);
  Step rs = { .kind = STEP_RUNNING, .a = u->mean, .b = u->var, .unit_rm = up->bn_rm,
              .unit_rv = up->bn_rv, .count = (double) md->dims[0] * md->dims[2] * md->dims[3] };
  g_array_append_val (run->fwd, rs);

  TRY (run, dnnl_batch_normalization_backward_desc_init (&d, dnnl_backward, md, md, BN_EPS,
                                                         flags));
  dnnl_primitive_desc_t bpd = pd_new (run, &d, NULL, fpd);
  if (bpd)
    {
      dnnl_memory_t gscale = mem_new (run, &vmd, param (net, up->bn_w)->grad);
      dnnl_memory_t gshift = mem_new (run, &vmd, param (net, up->bn_b)->grad);
      dnnl_primitive_t bp = prim_new (run, bpd);
      dnnl_exec_arg_t bargs[] = { { DNNL_ARG_SRC, u->y },           { DNNL_ARG_DIFF_DST, u->da },
                                  { DNNL_ARG_MEAN, u->mean },       { DNNL_ARG_VARIANCE, u->var },
                                  { DNNL_ARG_SCALE, scale },        { DNNL_ARG_SHIFT, shift },
                                  { DNNL_ARG_WORKSPACE, u->ws },    { DNNL_ARG_DIFF_SRC, u->dy },
                                  { DNNL_ARG_DIFF_SCALE, gscale },  { DNNL_ARG_DIFF_SHIFT, gshift } };
      if (bp)
        step_push (bwd, bp, 10, bargs);
      dnnl_primitive_desc_destroy (bpd);
    }
  dnnl_primitive_desc_destroy (fpd);
}

static void
unit_alloc (MmUnetRun *run, Unit *u, int c, int h, int w)
{
  if (run->training)
    u->y = act_new (run, c, h, w);
  u->a = act_new (run, c, h, w);
  if (run->training)
    {
      u->dy = act_new (run, c, h, w);
      u->da = act_new (run, c, h, w);
    }
}

/* A plain 3x3 conv unit: src -> unit (conv, bn+relu); backward into dsrc. Backward steps are
 * collected in a list of their own, which the caller splices in reverse order of units. */
static void
unit_build (MmUnetRun *run, Unit *u, const UnitParams *up, dnnl_memory_t src,
            dnnl_memory_t dsrc, GArray *bwd)
{
  Param *w = param (run->net, up->w);
  ConvSpec c = { .k = 3, .stride = 1, .pad = 1, .src = src, .dst = u->y, .dsrc = dsrc,
                 .ddst = u->dy };
  c.plain_w = weight_view (run, w->data, w->shape, dnnl_oihw, 0, 0);
  if (!run->training)
    {
      /* inference: batch norm folded into the convolution, ReLU fused, no y at all */
      c.dst = u->a;
      c.fold = up;
      c.fold_bias = c.relu = true;
      conv_build (run, &c, bwd);
      return;
    }
  c.plain_gw = weight_view (run, w->grad, w->shape, dnnl_oihw, 0, 0);
  /* Backward runs in reverse: the unit's batch norm first, then its convolution. */
  GArray *conv_bwd = g_array_new (FALSE, TRUE, sizeof (Step));
  conv_build (run, &c, conv_bwd);
  bn_build (run, u, up, bwd);
  append_steps (bwd, conv_bwd);
  g_array_unref (conv_bwd);
}

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

static void
pool_build (MmUnetRun *run, Level *L, Level *next_in)
{
  if (run->error)
    return;
  dnnl_dims_t k = { 2, 2 }, z = { 0, 0 };
  dnnl_prop_kind_t prop = run->training ? dnnl_forward_training : dnnl_forward_inference;
  dnnl_pooling_desc_t d;
  TRY (run, dnnl_pooling_forward_desc_init (&d, prop, dnnl_pooling_max, mem_md (L->enc[1].a),
                                            mem_md (L->pooled), k, k, z, z));
  dnnl_primitive_desc_t fpd = pd_new (run, &d, NULL, NULL);
  if (fpd == NULL)
    return;
  dnnl_primitive_t fp = prim_new (run, fpd);
  if (run->training)
    {
      L->pool_ws = mem_new (run, query (fpd, dnnl_query_workspace_md), NULL);
      dnnl_exec_arg_t a[] = { { DNNL_ARG_SRC, L->enc[1].a },
                              { DNNL_ARG_DST, L->pooled },
                              { DNNL_ARG_WORKSPACE, L->pool_ws } };
      if (fp)
        step_push (run->fwd, fp, 3, a);
      TRY (run, dnnl_pooling_backward_desc_init (&d, dnnl_pooling_max, mem_md (L->enc[1].da),
                                                 mem_md (L->dpooled), k, k, z, z));
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
  (void) next_in;
}

/* Channels in blocks of 16 when every level's channel count is a multiple of 16 (oneDNN's
 * AVX-512 kernels), else blocks of 8 (its AVX2 ones): with 8 channels padded to 16 blocks
 * oneDNN 2.6 finds no JIT convolution and falls back to its reference code, ~100x slower.
 * MM_NN_LAYOUT=nhwc|blocked8|blocked16 overrides it, for the benchmark's comparisons. */
static dnnl_format_tag_t
choose_layout (const MmUnet *net)
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
    return dnnl_nChw8c;
  return dnnl_nhwc;
}

MmUnetRun *
mm_unet_run_new (MmUnet *net, int batch, int height, int width, bool training, GError **error)
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
  run->act_tag = choose_layout (net);
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
  run->input = mem_new (run, &in_md, NULL);
  if (training)
    run->input_grad = mem_new (run, &in_md, NULL);
  dnnl_memory_t net_input = run->input;
  if (run->act_type != dnnl_f32)
    {
      /* bf16 from the first convolution on: the input converted once per forward */
      dnnl_memory_desc_t bmd;
      dnnl_memory_desc_init_by_tag (&bmd, 4, in_dims, run->act_type, dnnl_nchw);
      net_input = mem_new (run, &bmd, NULL);
      reorder_push (run, run->fwd, run->input, net_input);
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
      int c = level_channels (net, l), h = height >> l, w = width >> l;
      for (int i = 0; i < 2; i++)
        unit_alloc (run, &L[l].enc[i], c, h, w);
      GArray *u0 = g_array_new (FALSE, TRUE, sizeof (Step));
      GArray *u1 = g_array_new (FALSE, TRUE, sizeof (Step));
      unit_build (run, &L[l].enc[0], &net->enc[l].u[0], src, dsrc, u0);
      unit_build (run, &L[l].enc[1], &net->enc[l].u[1], L[l].enc[0].a, L[l].enc[0].da, u1);
      if (l < depth - 1)
        {
          L[l].pooled = act_new (run, c, h / 2, w / 2);
          if (training)
            L[l].dpooled = act_new (run, c, h / 2, w / 2);
          /* pool backward writes enc[1].da; the skip's gradient is added after it */
          pool_build (run, &L[l], NULL);
          if (training)
            {
              L[l].dskip = like_new (run, L[l].enc[1].da);
              add_push (L[l].bwd_enc, L[l].enc[1].da, L[l].dskip);
            }
          src = L[l].pooled;
          dsrc = L[l].dpooled;
        }
      append_steps (L[l].bwd_enc, u1);
      append_steps (L[l].bwd_enc, u0);
      g_array_unref (u0);
      g_array_unref (u1);
    }

  /* Decoder. */
  dnnl_memory_t below = L[depth - 1].enc[1].a, dbelow = L[depth - 1].enc[1].da;
  for (int l = depth - 2; l >= 0 && !run->error; l--)
    {
      int c = level_channels (net, l), h = height >> l, w = width >> l;
      Level *lv = &L[l];
      lv->up = act_new (run, c, h, w);
      if (training)
        lv->dup = act_new (run, c, h, w);
      for (int i = 0; i < 2; i++)
        unit_alloc (run, &lv->dec[i], c, h, w);

      GArray *up_steps = g_array_new (FALSE, TRUE, sizeof (Step));
      GArray *u0 = g_array_new (FALSE, TRUE, sizeof (Step));
      GArray *u1 = g_array_new (FALSE, TRUE, sizeof (Step));

      /* transposed conv: below -> up */
      Param *uw = param (net, net->up_w[l]);
      dnnl_memory_desc_t bmd;
      dnnl_dims_t bd = { c };
      dnnl_memory_desc_init_by_tag (&bmd, 1, bd, dnnl_f32, dnnl_x);
      ConvSpec up = { .deconv = true, .k = 2, .stride = 2, .pad = 0, .src = below,
                      .dst = lv->up, .dsrc = dbelow, .ddst = lv->dup };
      up.bias = mem_new (run, &bmd, param (net, net->up_b[l])->data);
      up.grad_bias = param (net, net->up_b[l])->grad;
      up.plain_w = weight_view (run, uw->data, uw->shape, dnnl_iohw, 0, 0);
      if (training)
        up.plain_gw = weight_view (run, uw->grad, uw->shape, dnnl_iohw, 0, 0);
      conv_build (run, &up, up_steps);

      /* first unit: conv over [skip, up] as two convolutions into one output */
      const UnitParams *p0 = &net->dec[l].u[0];
      Param *w0 = param (net, p0->w);
      ConvSpec ca = { .k = 3, .stride = 1, .pad = 1, .src = lv->enc[1].a, .dst = lv->dec[0].y,
                      .dsrc = lv->dskip, .ddst = lv->dec[0].dy };
      ConvSpec cb = ca;
      cb.src = lv->up;
      cb.dsrc = lv->dup;
      cb.sum = true;
      ca.plain_w = weight_view (run, w0->data, w0->shape, dnnl_oihw, 0, c);
      cb.plain_w = weight_view (run, w0->data, w0->shape, dnnl_oihw, c, c);
      if (training)
        {
          ca.plain_gw = weight_view (run, w0->grad, w0->shape, dnnl_oihw, 0, c);
          cb.plain_gw = weight_view (run, w0->grad, w0->shape, dnnl_oihw, c, c);
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
      conv_build (run, &ca, conv_bwd);
      conv_build (run, &cb, conv_bwd);
      if (training)
        bn_build (run, &lv->dec[0], p0, u0);
      append_steps (u0, conv_bwd);
      g_array_unref (conv_bwd);

      unit_build (run, &lv->dec[1], &net->dec[l].u[1], lv->dec[0].a, lv->dec[0].da, u1);

      /* backward of this decoder level: unit 1, unit 0, then the transposed conv */
      append_steps (lv->bwd_dec, u1);
      append_steps (lv->bwd_dec, u0);
      append_steps (lv->bwd_dec, up_steps);
      g_array_unref (up_steps);
      g_array_unref (u0);
      g_array_unref (u1);
      below = lv->dec[1].a;
      dbelow = lv->dec[1].da;
    }

  /* head: the last unit's output in plain layout, then C */
  int c0 = net->arch.width;
  dnnl_memory_desc_t hmd;
  dnnl_dims_t hd = { batch, c0, height, width };
  dnnl_memory_desc_init_by_tag (&hmd, 4, hd, dnnl_f32, dnnl_nchw);
  run->head_in = mem_new (run, &hmd, NULL);
  reorder_push (run, run->fwd, below, run->head_in);
  Step hf = { .kind = STEP_HEAD_FWD };
  g_array_append_val (run->fwd, hf);
  if (training)
    {
      run->head_in_grad = mem_new (run, &hmd, NULL);
      Step hb = { .kind = STEP_HEAD_BWD };
      g_array_append_val (run->bwd, hb);
      reorder_push (run, run->bwd, run->head_in_grad, dbelow);
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
  return run;
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
  g_clear_error (&run->error);
  g_free (run);
}

float *
mm_unet_run_input (MmUnetRun *run)
{
  return mem_ptr (run->input);
}

void
mm_unet_run_want_input_grad (MmUnetRun *run, bool want)
{
  run->want_input_grad = want && run->training;
}

const float *
mm_unet_run_input_grad (MmUnetRun *run)
{
  return run->want_input_grad ? mem_ptr (run->input_grad) : NULL;
}

static void
head_forward (MmUnetRun *run)
{
  MmUnet *net = run->net;
  const float *x = mem_ptr (run->head_in);
  const float *w = param (net, net->head_w)->data;
  float b = param (net, net->head_b)->data[0];
  int c0 = net->arch.width;
  size_t plane = (size_t) run->height * run->width;
  for (int n = 0; n < run->batch; n++)
    {
      float *out = run->logits + n * plane;
      const float *xn = x + (size_t) n * c0 * plane;
#pragma omp parallel for schedule(static)
      for (size_t p = 0; p < plane; p++)
        {
          float s = b;
          for (int c = 0; c < c0; c++)
            s += w[c] * xn[c * plane + p];
          out[p] = s;
        }
    }
}

static void
head_backward (MmUnetRun *run)
{
  MmUnet *net = run->net;
  const float *x = mem_ptr (run->head_in);
  float *dx = mem_ptr (run->head_in_grad);
  const float *w = param (net, net->head_w)->data;
  float *gw = param (net, net->head_w)->grad;
  float *gb = param (net, net->head_b)->grad;
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
  Param *rm = param (net, s->unit_rm), *rv = param (net, s->unit_rv);
  const float *mean = mem_ptr (s->a), *var = mem_ptr (s->b);
  double n = s->count; /* PyTorch keeps the unbiased variance */
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

static void
execute (MmUnetRun *run, GArray *steps)
{
  dnnl_stream_t stream = run->stream;
  for (guint i = 0; i < steps->len; i++)
    {
      Step *s = &g_array_index (steps, Step, i);
      if (s->input_grad && !run->want_input_grad)
        continue;
      switch (s->kind)
        {
        case STEP_PRIM:
          dnnl_primitive_execute (s->prim, stream, s->nargs, s->args);
          break;
        case STEP_ADD:
          {
            float *d = mem_ptr (s->a);
            const float *x = mem_ptr (s->b);
            size_t n = dnnl_memory_desc_get_size (mem_md (s->a)) / sizeof (float);
#pragma omp parallel for schedule(static)
            for (size_t k = 0; k < n; k++)
              d[k] += x[k];
            break;
          }
        case STEP_RUNNING:
          running_update (run, s);
          break;
        case STEP_FOLD:
          fold_weights (s->fold);
          break;
        case STEP_HEAD_FWD:
          head_forward (run);
          break;
        case STEP_HEAD_BWD:
          head_backward (run);
          break;
        }
    }
  dnnl_stream_wait (stream);
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
