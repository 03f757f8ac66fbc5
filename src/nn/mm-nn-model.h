/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Model files and training checkpoints: a U-Net's parameters as a safetensors file, named as
 * PyTorch's state_dict names them (so torch and safetensors.torch.load_file read it), with
 * metadata saying what the model is and what it needs.
 *
 * Metadata written (all strings): format ("metalmark-unet", or "metalmark-unet-checkpoint"),
 * format_version ("1"), architecture ({"type":"unet2d","depth":D,"width":W,"in_channels":3,
 * "out_channels":1,"norm":"batchnorm"}), input_transform and input_transform_description
 * (mm-nn-input.h), training_data, metrics, created, notes, program. A checkpoint adds the
 * Adam moments as tensors "adam.m.<param>" and "adam.v.<param>", "adam_step" and
 * "trainer_state" (the trainer's own JSON). A checkpoint also loads as a model. */
#pragma once

#include "mm-adam.h"
#include "mm-unet.h"

G_BEGIN_DECLS

#define MM_NN_MODEL_FORMAT "metalmark-unet"
#define MM_NN_CHECKPOINT_FORMAT "metalmark-unet-checkpoint"
#define MM_NN_MODEL_FORMAT_VERSION 1

typedef struct
{
  char *training_data; /* free text: what the model was trained on (may be NULL) */
  char *metrics_json;  /* a JSON object as text, e.g. validation Dice/HD95 (may be NULL) */
  char *created;       /* ISO 8601 UTC time; filled by save when NULL */
  char *notes;         /* free text (may be NULL) */
} MmNnModelInfo;

void mm_nn_model_info_clear (MmNnModelInfo *info); /* g_free members, zero */

/* Writes atomically. info may be NULL. */
bool mm_nn_model_save (const char *path, MmUnet *net, const MmNnModelInfo *info,
                       GError **error);
/* Builds the network the file describes and loads every tensor into it; the values are the
 * ones saved, bit for bit. On success info (nullable) is overwritten with owned strings (free
 * with mm_nn_model_info_clear); on failure it is left alone. Errors are MM_NN_ERROR_MODEL
 * for a file that does not fit, G_FILE_ERROR when it cannot be read. */
MmUnet *mm_nn_model_load (const char *path, MmNnModelInfo *info, GError **error);

/* Checkpoint = model + optimiser moments + step + trainer_state_json (nullable, must be JSON
 * when given). */
bool mm_nn_checkpoint_save (const char *path, MmUnet *net, MmAdam *adam,
                            const char *trainer_state_json, GError **error);
/* adam_params: NULL for mm_adam_params_init's; adam_out and trainer_state_json (NULL when the
 * file has none) may be NULL when not wanted. *adam_out borrows the returned network: free
 * the optimiser first. */
MmUnet *mm_nn_checkpoint_load (const char *path, const MmAdamParams *adam_params,
                               MmAdam **adam_out, char **trainer_state_json, GError **error);

G_END_DECLS
