/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The network's input: HU mapped to three clipped windows, so that soft tissue, bone and
 * metal (up to 20 000+ HU) all stay distinguishable.
 *   channel 0 = clamp ((HU + 1000) / 2000, 0, 1)    -1000 .. 1000 HU (air to dense tissue)
 *   channel 1 = clamp (HU / 4000, 0, 1)                 0 .. 4000 HU (bone to metal)
 *   channel 2 = clamp ((HU - 2000) / 18000, 0, 1)    2000 .. 20000 HU (metals)
 * The transform is part of a model: its name is stored in the model file and checked. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

#define MM_NN_INPUT_TRANSFORM "hu-3window-v1"
#define MM_NN_INPUT_TRANSFORM_DESCRIPTION \
  "c0=clamp((HU+1000)/2000,0,1); c1=clamp(HU/4000,0,1); c2=clamp((HU-2000)/18000,0,1)"

/* Writes the three channel planes (each n floats) to out, out + n, out + 2n. */
void mm_nn_input_transform (const int16_t *hu, size_t n, float *out);

/* A rectangle of a slice (row stride `stride` voxels) into three planes of w x h. */
void mm_nn_input_transform_rect (const int16_t *slice, int stride, int x0, int y0, int w,
                                 int h, float *out);

G_END_DECLS
