/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A synthetic CT with known anatomy and metal: the embedded default and the tests' truth. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

G_BEGIN_DECLS

#define MM_PHANTOM_PADDING_HU (-2048)
#define MM_PHANTOM_N_METAL 2

typedef struct
{
  int size;          /* columns = rows */
  int slices;
  guint64 seed;      /* noise and UIDs */
  double noise_sd;   /* Gaussian noise inside the field of view, HU */
  double tilt_deg;   /* rotation of the slice plane about the row (x) axis */
  double pixel_mm;   /* in-plane spacing */
  double slice_mm;   /* spacing between slice positions */
} MmPhantomParams;

/* What the phantom is, known by construction rather than measured from its voxels. */
typedef struct
{
  MmVolume *volume;   /* int16 HU with geometry, UIDs and instance numbers */
  MmMask *truth;      /* voxel centre inside a metal object */
  double centre_lps[3];
  double max_hu, min_hu;             /* without noise */
  double mean_hu, mean_without_padding_hu; /* without noise, from region counts */
  uint64_t n_padding;
  uint64_t metal_voxels;
  int metal_components;
  uint64_t object_voxels[MM_PHANTOM_N_METAL];
  double object_hu[MM_PHANTOM_N_METAL];
} MmPhantom;

void mm_phantom_params_init (MmPhantomParams *params);
MmPhantom *mm_phantom_new (const MmPhantomParams *params, GError **error);
void mm_phantom_free (MmPhantom *ph);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmPhantom, mm_phantom_free)

G_END_DECLS
