/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A 2D U-Net for metal segmentation, built from oneDNN primitives.
 *
 * The architecture (bench/nn/reference_torch.py builds the same one in PyTorch, with the
 * same parameter names, so a model file loads into either):
 *   level l = 0 .. depth-1 has c_l = width * 2^l channels;
 *   enc.l:  [conv 3x3 (pad 1, no bias) -> batch norm -> ReLU] x 2   (input: 3 channels at
 *           l = 0, else the 2x2/stride 2 max pool of enc.(l-1));
 *   dec.l (l = depth-2 .. 0): up = transposed conv 2x2 stride 2 (c_{l+1} -> c_l, bias),
 *           concatenate [enc.l output, up] on channels, then the same double conv block
 *           (2 c_l -> c_l);
 *   head:   conv 1x1 (c_0 -> 1, bias) -> one logit per pixel (sigmoid = metal probability).
 * Batch norm: eps 1e-5, momentum 0.1, running variance unbiased (PyTorch's conventions).
 *
 * Parameters are kept as plain float arrays in PyTorch layout (OIHW; transposed conv
 * weights are (in, out, kH, kW)), named as PyTorch's state_dict names them
 * ("enc.0.conv1.weight", "enc.0.bn1.running_var", "dec.1.up.bias", "head.weight", ...).
 * The oneDNN side keeps its own blocked copies, refreshed from the plain ones before each
 * forward pass. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

#define MM_UNET_IN_CHANNELS 3
#define MM_UNET_MAX_DEPTH 6
/* Channels at the bottom level (width << (depth - 1)) at most. */
#define MM_UNET_MAX_CHANNELS 4096

#define MM_NN_ERROR (mm_nn_error_quark ())
GQuark mm_nn_error_quark (void);
typedef enum
{
  MM_NN_ERROR_FAILED,      /* oneDNN refused a primitive, or out of memory */
  MM_NN_ERROR_SHAPE,       /* sizes that the network cannot take */
  MM_NN_ERROR_MODEL,       /* a model file that does not fit this program */
} MmNnError;

typedef struct
{
  int depth;  /* resolution levels, 1 .. MM_UNET_MAX_DEPTH; inputs are multiples of 2^(depth-1) */
  int width;  /* channels of level 0 */
} MmUnetArch;

typedef struct _MmUnet MmUnet;

/* Kaiming-uniform convolution weights (PyTorch's default initialisation), batch norm scale 1,
 * shift 0, running mean 0, variance 1, head bias log (0.01 / 0.99) (p = 0.01 at the start);
 * deterministic for a seed. */
MmUnet *mm_unet_new (const MmUnetArch *arch, guint64 seed, GError **error);
void mm_unet_free (MmUnet *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmUnet, mm_unet_free)

const MmUnetArch *mm_unet_get_arch (const MmUnet *net);

/* Parameters and buffers (running statistics), in a fixed order. */
int mm_unet_n_params (const MmUnet *net);
const char *mm_unet_param_name (const MmUnet *net, int i);
int mm_unet_param_shape (const MmUnet *net, int i, int64_t shape[4]); /* returns ndim */
size_t mm_unet_param_size (const MmUnet *net, int i);                 /* elements */
bool mm_unet_param_trainable (const MmUnet *net, int i); /* false for running mean/var */
float *mm_unet_param_data (MmUnet *net, int i);          /* plain layout; writable */
float *mm_unet_param_grad (MmUnet *net, int i);          /* NULL for buffers */
int mm_unet_find_param (const MmUnet *net, const char *name); /* -1 if none */
size_t mm_unet_n_weights (const MmUnet *net); /* trainable elements in all */

/* An execution plan: the primitives and activations for one batch size and input size,
 * created once and reused. In training mode batch norm normalises with the batch's
 * statistics and updates the running ones; in inference mode it uses the running ones.
 * Several runs of one network may exist (say, training patches and whole-slice validation).
 * Inference runs may execute at the same time in different threads (each has its own
 * stream; inside an OpenMP parallel region each runs on its calling thread alone); a training
 * run changes the network and must run alone. */
typedef struct _MmUnetRun MmUnetRun;

MmUnetRun *mm_unet_run_new (MmUnet *net, int batch, int height, int width, bool training,
                            GError **error);
void mm_unet_run_free (MmUnetRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmUnetRun, mm_unet_run_free)

/* Synchronised batch norm, for data-parallel training: a training run whose batch is one
 * part of a larger batch spread over a group of runs (in this process, or in several: MPI
 * ranks). Run together by mm_unet_runs_forward/backward, batch norm normalises with the
 * statistics of the whole group's batch and back-propagates through them, so a group of R
 * runs of batch B computes what one run of batch R x B computes (to float rounding: the
 * sums are added in another order). own_grads: the run writes its gradients into buffers
 * of its own (mm_unet_run_param_grad), not the network's, so that several runs of one
 * network in one process keep theirs apart. Alone (mm_unet_run_forward) it is an ordinary
 * training run. */
MmUnetRun *mm_unet_run_new_sync (MmUnet *net, int batch, int height, int width, bool own_grads,
                                 GError **error);
/* Where run writes parameter i's gradient (the network's, or the run's own). */
float *mm_unet_run_param_grad (MmUnetRun *run, int i);

#define MM_UNET_MAX_GROUP 64
/* In-place sums of n values over the other processes of the group (MPI_Allreduce); NULL
 * when the group is all in this process. */
typedef void (*MmUnetSumFn) (double *v, size_t n, void *data);
/* Forward and backward of a group of 1 .. MM_UNET_MAX_GROUP synchronised runs of one
 * network and shape, in lock step: at each batch norm the runs' per-channel sums are added
 * over the runs (in their order) and then by sum. Every process of the group must make the
 * same calls. Only runs[0] updates the running statistics (the group's are one).
 * grad_logits[k] is runs[k]'s d loss / d logits. */
void mm_unet_runs_forward (MmUnetRun **runs, int n, MmUnetSumFn sum, void *data);
void mm_unet_runs_backward (MmUnetRun **runs, const float *const *grad_logits, int n,
                            MmUnetSumFn sum, void *data);

/* batch x 3 x height x width, plain NCHW: fill it before forward. */
float *mm_unet_run_input (MmUnetRun *run);

/* Runs the network on the input; returns batch x height x width logits (owned by run,
 * valid until the next forward). */
const float *mm_unet_run_forward (MmUnetRun *run);

/* The logits of the last forward (batch x height x width, owned by run). */
const float *mm_unet_run_logits (MmUnetRun *run);

/* After forward in training mode: back-propagates d loss / d logits (batch x height x
 * width) and writes every trainable parameter's gradient (overwriting, not adding). */
void mm_unet_run_backward (MmUnetRun *run, const float *grad_logits);

/* Gradient with respect to the input (batch x 3 x height x width), for tests: computed by
 * backward only after mm_unet_run_want_input_grad (run, true) (training does not need it,
 * and oneDNN has only slow code for it); NULL otherwise. */
void mm_unet_run_want_input_grad (MmUnetRun *run, bool want);
const float *mm_unet_run_input_grad (MmUnetRun *run);

G_END_DECLS
