/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Filtered back-projection of fan-beam (equiangular, full scan) and parallel-beam sinograms
 * (A. C. Kak and M. Slaney, Principles of Computerized Tomographic Imaging, IEEE 1988,
 * sections 3.3 and 3.4.1): the ramp filter built from its band-limited spatial kernel (no DC
 * offset), times a window, applied by FFT; linear interpolation in back-projection. */
#pragma once

#include "mm-ct-project.h"

G_BEGIN_DECLS

typedef enum
{
  MM_CT_WINDOW_RAMP,        /* the bare ramp (Ram-Lak) */
  MM_CT_WINDOW_SHEPP_LOGAN, /* ramp times sinc: a standard body kernel */
  MM_CT_WINDOW_HANN,        /* ramp times a Hann window: smooth */
} MmCtWindow;

bool mm_ct_window_from_name (const char *name, MmCtWindow *w);

/* Reconstructs the single-channel sinogram sino[view * n_det + channel] (line integrals) into
 * image[j * n + i] (attenuation per mm) on the grid of pixel (i, j) at
 * ((i - cx) pixel_mm, (j - cy) pixel_mm); pixels outside the field of view are set to
 * outside. OpenMP over image rows. FALSE with error if the geometry or grid is out of range
 * or memory runs out. */
bool mm_ct_fbp (const MmCtGeometry *g, const float *sino, MmCtWindow window, int n,
                double pixel_mm, double cx, double cy, float outside, float *image,
                GError **error);

G_END_DECLS
