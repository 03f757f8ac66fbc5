/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The U-Net's parameters: their names, shapes and initialisation, in PyTorch's layout and
 * order. The run graph that computes with them is mm-unet-run.c (assembly and execution) and
 * mm-unet-layers.c (one layer's oneDNN primitives). */
#include "mm-random.h"
#include "mm-unet-private.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (mm-nn-error-quark, mm_nn_error)

/* In [0, 1) (not mm_uniform01's centred values: the initial weights stay as they were). */
static double
uniform01 (guint64 *s)
{
  return (double) (mm_splitmix64 (s) >> 11) * (1.0 / 9007199254740992.0);
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

/* U(-bound, bound) with bound = 1 / sqrt (fan_in): what PyTorch's default
 * kaiming_uniform_(a = sqrt 5) and its bias initialisation amount to. */
static void
init_uniform (MmUnet *net, int i, int fan_in, guint64 *rng)
{
  Param *p = mm_unet_param (net, i);
  double bound = 1.0 / sqrt ((double) fan_in);
  for (size_t k = 0; k < p->size; k++)
    p->data[k] = (float) ((2.0 * uniform01 (rng) - 1.0) * bound);
}

static void
fill (MmUnet *net, int i, float v)
{
  Param *p = mm_unet_param (net, i);
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
      int cin = l == 0 ? MM_UNET_IN_CHANNELS : mm_unet_level_channels (net, l - 1);
      int c = mm_unet_level_channels (net, l);
      g_snprintf (prefix, sizeof prefix, "enc.%d", l);
      add_unit (net, &net->enc[l].u[0], prefix, 1, cin, c, &rng);
      add_unit (net, &net->enc[l].u[1], prefix, 2, c, c, &rng);
    }
  for (int l = arch->depth - 2; l >= 0; l--)
    {
      int c = mm_unet_level_channels (net, l);
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
      Param *p = mm_unet_param (net, (int) i);
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
  return mm_unet_param (net, i)->name;
}

int
mm_unet_param_shape (const MmUnet *net, int i, int64_t shape[4])
{
  const Param *p = mm_unet_param (net, i);
  memcpy (shape, p->shape, sizeof p->shape);
  return p->ndim;
}

size_t
mm_unet_param_size (const MmUnet *net, int i)
{
  return mm_unet_param (net, i)->size;
}

bool
mm_unet_param_trainable (const MmUnet *net, int i)
{
  return mm_unet_param (net, i)->trainable;
}

float *
mm_unet_param_data (MmUnet *net, int i)
{
  return mm_unet_param (net, i)->data;
}

float *
mm_unet_param_grad (MmUnet *net, int i)
{
  return mm_unet_param (net, i)->grad;
}

int
mm_unet_find_param (const MmUnet *net, const char *name)
{
  for (guint i = 0; i < net->params->len; i++)
    if (strcmp (mm_unet_param (net, (int) i)->name, name) == 0)
      return (int) i;
  return -1;
}

size_t
mm_unet_n_weights (const MmUnet *net)
{
  size_t n = 0;
  for (guint i = 0; i < net->params->len; i++)
    if (mm_unet_param (net, (int) i)->trainable)
      n += mm_unet_param (net, (int) i)->size;
  return n;
}
