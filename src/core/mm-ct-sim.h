/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The CT simulator's pipeline for one axial slice: material images -> polychromatic line
 * integrals per energy bin (mm-ct-project, mm-ct-spectrum, mm-ct-material) -> detector
 * crosstalk, Poisson (photon) and Gaussian (electronic) noise -> log -> water
 * beam-hardening correction -> fan-beam FBP (mm-ct-fbp) -> HU. docs/ct-simulation.md. */
#pragma once

#include "mm-ct-fbp.h"
#include "mm-ct-material.h"
#include "mm-ct-spectrum.h"

G_BEGIN_DECLS

typedef struct
{
  MmCtGeometry geometry;
  MmCtSpectrum spectrum;
  MmCtWindow window;
  double photons;       /* per detector channel and view without an object; 0: no noise */
  double electronic_sd; /* additive Gaussian noise, in photons of the mean energy */
  double crosstalk;     /* share of a channel's signal seen by each neighbour (0..0.25) */
  int n;                /* reconstructed columns = rows */
  double pixel_mm;
  gboolean clip_12bit;  /* limit to -1024..3071 HU, as many scanners store */
  guint64 seed;
} MmCtSimParams;

/* 1152 views over the default fan, the default spectrum, 2e5 photons, electronic noise of
 * 4 photons, crosstalk 0.05, Shepp-Logan window, 512 x 512 of 0.976 mm. */
void mm_ct_sim_params_init (MmCtSimParams *p);

typedef struct _MmCtSim MmCtSim;

MmCtSim *mm_ct_sim_new (const MmCtSimParams *p, GError **error);
void mm_ct_sim_free (MmCtSim *sim);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmCtSim, mm_ct_sim_free)

/* The water-corrected scan's effective energy (keV) and the HU a material has there. */
double mm_ct_sim_effective_kev (const MmCtSim *sim);
double mm_ct_sim_material_hu (const MmCtSim *sim, MmCtMaterial m);
/* A tissue of the given HU (at the effective energy) as volume fractions of air, fat, water
 * and bone, the 4 tissue channels: mixtures of the two neighbours in HU order, bone at
 * higher density above its own HU. scale (0..1) multiplies them (partial volume). */
void mm_ct_sim_tissue (const MmCtSim *sim, double hu, double scale, float out[4]);

/* One slice: tissue (n x n x 4, air fat water bone) and optionally metal (n x n x 4: titanium,
 * CoCr, steel, 0) as volume fractions, on the reconstruction grid (isocentre at the image
 * centre); writes n x n HU (outside the field of view -1024). slice_seed makes the noise, the
 * same whatever the thread count. OpenMP over views inside. */
bool mm_ct_sim_slice (const MmCtSim *sim, const float *tissue, const float *metal,
                      guint64 slice_seed, float *hu, GError **error);

G_END_DECLS
