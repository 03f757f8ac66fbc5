/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Adam (Kingma & Ba) over a U-Net's trainable parameters, as torch.optim.Adam computes it
 * (no weight decay, bias-corrected moments, eps added to sqrt (v_hat)). */
#pragma once

#include "mm-unet.h"

G_BEGIN_DECLS

typedef struct
{
  double lr, beta1, beta2, eps;
} MmAdamParams;

typedef struct _MmAdam MmAdam;

void mm_adam_params_init (MmAdamParams *p); /* 1e-3, 0.9, 0.999, 1e-8 */
MmAdam *mm_adam_new (MmUnet *net, const MmAdamParams *p);
void mm_adam_free (MmAdam *adam);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmAdam, mm_adam_free)

void mm_adam_set_lr (MmAdam *adam, double lr);
/* One update from the gradients the last backward left in the network. */
void mm_adam_step (MmAdam *adam);

/* State for checkpoints (--resume): the step count and, per trainable parameter i of the
 * network (in mm_unet order), its first and second moments (mm_unet_param_size elements). */
int64_t mm_adam_get_step (const MmAdam *adam);
void mm_adam_set_step (MmAdam *adam, int64_t step);
float *mm_adam_moment (MmAdam *adam, int param, int which /* 1 or 2 */);

G_END_DECLS
