/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A synthetic CT with known anatomy and metal: the embedded default, the tests' truth and,
 * as random variants, training data for the metal-segmentation network. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

G_BEGIN_DECLS

#define MM_PHANTOM_PADDING_HU (-2048)
#define MM_PHANTOM_N_METAL 2
#define MM_PHANTOM_MAX_OBJECTS 8

typedef struct
{
  int size;          /* columns = rows */
  int slices;
  guint64 seed;      /* noise and UIDs */
  double noise_sd;   /* Gaussian noise inside the field of view, HU (variants: with a CT's
                      * grain, neighbours correlated about 0.7) */
  double tilt_deg;   /* rotation of the slice plane about the row (x) axis */
  double pixel_mm;   /* in-plane spacing */
  double slice_mm;   /* spacing between slice positions */
  int variant;       /* 0: the fixed phantom; >= 1: anatomy and metal drawn from (seed,
                      * variant), placed for the volume's size: the same parameters, the same
                      * phantom, voxel for voxel, whatever the thread count */
} MmPhantomParams;

/* One metal object of the phantom: a hip stem with its ball head, a cup, a group of screws...
 * voxels counts the truth voxels whose centre lies in it (in the first object holding it,
 * when objects overlap). */
typedef struct
{
  const char *kind; /* static string: "stem", "cup", "screws", "nail", "plate", "fragments",
                     * "wires" (variants); "stem", "fragment" (variant 0) */
  double hu;        /* core HU (variants: the edge is lower, never below 3000) */
  uint64_t voxels;
} MmPhantomObject;

/* What the phantom is, known by construction rather than measured from its voxels. */
typedef struct
{
  MmVolume *volume;   /* int16 HU with geometry, UIDs and instance numbers */
  MmMask *truth;      /* voxel centre inside a metal object */
  double centre_lps[3];
  double max_hu, min_hu;             /* without noise */
  double mean_hu, mean_without_padding_hu; /* without noise, from region counts (variants:
                                            * from the noise-free voxels) */
  uint64_t n_padding;
  uint64_t metal_voxels;
  int metal_components; /* 26-connected, in the truth */
  /* Variant 0 only (zero in variants): stem and fragment. */
  uint64_t object_voxels[MM_PHANTOM_N_METAL];
  double object_hu[MM_PHANTOM_N_METAL];
  /* Every variant, 0 included: the metal objects (none in every tenth variant). */
  int variant;
  int n_objects;
  MmPhantomObject objects[MM_PHANTOM_MAX_OBJECTS];
} MmPhantom;

void mm_phantom_params_init (MmPhantomParams *params);
/* Variant 0 is the fixed phantom described in mm-phantom.c, bit for bit the same whatever is
 * added to the variants. A variant >= 1 is a random pelvis with 1..4 metal objects (none when
 * variant % 10 == 0), noise and streak artefacts, in which every voxel outside metal stays
 * below 3000 HU and every metal voxel at or above it: its truth is exactly what the default
 * threshold segmentation finds. See mm-phantom.c for what is drawn. */
MmPhantom *mm_phantom_new (const MmPhantomParams *params, GError **error);
void mm_phantom_free (MmPhantom *ph);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmPhantom, mm_phantom_free)

G_END_DECLS
