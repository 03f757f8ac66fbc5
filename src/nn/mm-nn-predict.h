/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Whole-slice inference of a U-Net over a CT volume: the metal mask is logit > 0. */
#pragma once

#include "mm-mask.h"
#include "mm-unet.h"
#include "mm-volume.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* Slices per batch of each worker (one worker per thread): 1 measured fastest on the seed CT
 * (31 slices/s against 30 with 4) and needs a third of the memory (394 against 1018 MB). */
#define MM_NN_PREDICT_BATCH_DEFAULT 1

/* The HU that pads a slice up to a size the network takes (and fills a training patch
 * beyond the slice). Every value at or below -1000 HU maps to the same input (all three
 * channels 0, see mm-nn-input.h), so this is indistinguishable from air and from whatever
 * padding value the scanner wrote outside its field of view. */
#define MM_NN_PAD_HU (-1000)

/* Slices done of total; called from the thread that runs the prediction. */
typedef void (*MmNnSlicesFunc) (int done, int total, gpointer user_data);

/* The smallest size >= n that a network of this depth takes (a multiple of 2^(depth-1)). */
int mm_nn_padded_size (const MmUnet *net, int n);

/* Slice k of vol (either voxel type, clamped to int16) centred in a w x h buffer (w, h at
 * least the slice's size), the rest MM_NN_PAD_HU. */
void mm_nn_slice_padded (const MmVolume *vol, int k, int16_t *out, int w, int h);

/* Predicts the n slices listed in slices into out (n planes of columns x rows bytes, 0/1,
 * in the order of the list), batch slices at a time. One execution plan serves every batch.
 * Cancelled: false with G_IO_ERROR_CANCELLED. */
bool mm_nn_predict_slices (MmUnet *net, const MmVolume *vol, const int *slices, int n,
                           int batch, uint8_t *out, MmNnSlicesFunc progress,
                           gpointer progress_data, GCancellable *cancel, GError **error);

/* Every slice of vol. */
MmMask *mm_nn_predict_volume (MmUnet *net, const MmVolume *vol, int batch,
                              MmNnSlicesFunc progress, gpointer progress_data,
                              GCancellable *cancel, GError **error);

G_END_DECLS
