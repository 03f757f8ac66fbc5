/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Metal artifact reduction on reconstructed CT slices (issue 17, part 3; docs/mar.md).
 * The raw data of a real scan are not available, so the slice is forward-projected in a
 * virtual fan-beam geometry (mm-ct-project) that covers the whole image, the rays through
 * the metal (the metal trace) are replaced, and the change is reconstructed with FBP
 * (mm-ct-fbp) and added to the slice:
 *  - LI-MAR: the trace linearly interpolated along the channels of each view;
 *  - NMAR (E. Meyer et al., Med. Phys. 37 (2010) 5482): the sinogram divided by the forward
 *    projection of a tissue-class prior (air, water, bone, from the LI-MAR image), then
 *    interpolated as in LI and multiplied back.
 * The metal pixels themselves are put back as they were. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef enum
{
  MM_MAR_LI,
  MM_MAR_NMAR,
} MmMarMethod;

/* "li" or "nmar"; false if neither. */
bool mm_mar_method_from_name (const char *name, MmMarMethod *method);
/* "LI-MAR" or "NMAR": what a derived series' description names. */
const char *mm_mar_method_label (MmMarMethod method);

typedef struct
{
  MmMarMethod method;
  int n_views;       /* views over 360 degrees of the virtual fan (default 180) */
  int downsample;    /* 1..4: the working grid's pixel is this many image pixels; 0 (default):
                        automatic, pixels up to 1.25 mm and at least 256 across */
  double det_scale;  /* channel pitch at the isocentre in working pixels (default 1) */
  int dilate;        /* pixels the metal mask grows by before use (default 1) */
  double mu_water;   /* attenuation of water per mm (default 0.0192, about 70 keV) */
  double air_hu;     /* NMAR prior: below this air (default -500) */
  double bone_hu;    /* NMAR prior: from this on bone, kept as it is (default 300); between:
                        water */
  double smooth_mm;  /* NMAR prior: Gaussian sigma applied to the LI image (default 0) */
  double trace_mm;   /* the metal trace: rays through at least this much of the grown mask
                        (default 0.5 mm; 0: every ray that touches it) */
} MmMarParams;

void mm_mar_params_init (MmMarParams *p);
bool mm_mar_params_check (const MmMarParams *p, GError **error);

/* One slice of nx x ny square pixels of pixel_mm: hu (row-major) and metal (nonzero: metal)
 * in, corrected HU out (out may be hu). A slice without metal is copied. Pixels below -1000
 * HU (padding) count as air and are copied. Single-threaded (for use inside a parallel
 * loop over slices). */
bool mm_mar_slice (const MmMarParams *p, int nx, int ny, double pixel_mm, const float *hu,
                   const guint8 *metal, float *out, GError **error);

/* Called from worker threads (serialised) after each slice: return false to cancel. */
typedef bool (*MmMarProgressFunc) (int done, int total, gpointer user_data);

/* Every slice of vol with metal in mask (on vol's grid) corrected into out_voxels (the type
 * and size of vol's voxels; int16 rounded and clamped). OpenMP over slices with n_threads
 * (0: all). False with error on bad parameters, non-square pixels, a mask of other size,
 * running out of memory or cancellation (G_IO_ERROR_CANCELLED). */
bool mm_mar_volume (const MmMarParams *p, const MmVolume *vol, const MmMask *metal,
                    void *out_voxels, int n_threads, MmMarProgressFunc progress,
                    gpointer user_data, GError **error);

G_END_DECLS
