/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the files of the U-Net share about its parameters (mm-unet.c owns them; the run
 * graph, mm-unet-run.c and mm-unet-layers.c, reads them and writes their gradients). */
#pragma once

#include "mm-unet.h"

#include <oneapi/dnnl/dnnl.h>

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

static inline Param *
mm_unet_param (const MmUnet *net, int i)
{
  return &g_array_index (net->params, Param, i);
}

static inline int
mm_unet_level_channels (const MmUnet *net, int l)
{
  return net->arch.width << l;
}
