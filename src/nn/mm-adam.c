/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-adam.h"

#include <math.h>

struct _MmAdam
{
  MmUnet *net;
  MmAdamParams p;
  int64_t step;
  float **m, **v; /* per parameter; NULL for buffers */
};

void
mm_adam_params_init (MmAdamParams *p)
{
  p->lr = 1e-3;
  p->beta1 = 0.9;
  p->beta2 = 0.999;
  p->eps = 1e-8;
}

MmAdam *
mm_adam_new (MmUnet *net, const MmAdamParams *p)
{
  MmAdam *adam = g_new0 (MmAdam, 1);
  int n = mm_unet_n_params (net);
  adam->net = net;
  adam->p = *p;
  adam->m = g_new0 (float *, n);
  adam->v = g_new0 (float *, n);
  for (int i = 0; i < n; i++)
    if (mm_unet_param_trainable (net, i))
      {
        adam->m[i] = g_new0 (float, mm_unet_param_size (net, i));
        adam->v[i] = g_new0 (float, mm_unet_param_size (net, i));
      }
  return adam;
}

void
mm_adam_free (MmAdam *adam)
{
  if (adam == NULL)
    return;
  for (int i = 0; i < mm_unet_n_params (adam->net); i++)
    {
      g_free (adam->m[i]);
      g_free (adam->v[i]);
    }
  g_free (adam->m);
  g_free (adam->v);
  g_free (adam);
}

void
mm_adam_set_lr (MmAdam *adam, double lr)
{
  adam->p.lr = lr;
}

void
mm_adam_step (MmAdam *adam)
{
  adam->step++;
  /* torch.optim.Adam: p -= lr / (1 - b1^t) * m / (sqrt (v) / sqrt (1 - b2^t) + eps) */
  double bc1 = 1.0 - pow (adam->p.beta1, (double) adam->step);
  double bc2 = 1.0 - pow (adam->p.beta2, (double) adam->step);
  float b1 = (float) adam->p.beta1, b2 = (float) adam->p.beta2;
  float step_size = (float) (adam->p.lr / bc1);
  float sqrt_bc2 = (float) sqrt (bc2), eps = (float) adam->p.eps;
  for (int i = 0; i < mm_unet_n_params (adam->net); i++)
    {
      if (adam->m[i] == NULL)
        continue;
      float *w = mm_unet_param_data (adam->net, i);
      const float *g = mm_unet_param_grad (adam->net, i);
      float *m = adam->m[i], *v = adam->v[i];
      size_t n = mm_unet_param_size (adam->net, i);
#pragma omp parallel for schedule(static) if (n > 65536)
      for (size_t k = 0; k < n; k++)
        {
          m[k] = b1 * m[k] + (1.f - b1) * g[k];
          v[k] = b2 * v[k] + (1.f - b2) * g[k] * g[k];
          w[k] -= step_size * m[k] / (sqrtf (v[k]) / sqrt_bc2 + eps);
        }
    }
}

int64_t
mm_adam_get_step (const MmAdam *adam)
{
  return adam->step;
}

void
mm_adam_set_step (MmAdam *adam, int64_t step)
{
  adam->step = step;
}

float *
mm_adam_moment (MmAdam *adam, int param, int which)
{
  return which == 1 ? adam->m[param] : adam->v[param];
}
