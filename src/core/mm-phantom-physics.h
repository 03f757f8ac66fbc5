/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A phantom variant as a CT scanner sees it: its anatomy and metal turned into materials and
 * scanned by the simulator (mm-ct-sim), with and without the metal. docs/ct-simulation.md. */
#pragma once

#include "mm-ct-sim.h"
#include "mm-phantom.h"

G_BEGIN_DECLS

#define MM_PHANTOM_PHYSICS_MAX_SIZE 1024

/* The material of a phantom metal object, from its nominal HU: below 8000 titanium (Ti-6Al-4V),
 * below 16000 stainless steel, else CoCr: the densest-looking implants are the densest
 * alloys. */
MmCtMaterial mm_phantom_physics_material (double object_hu);

/* Fills scan (and no_metal, when not NULL) with the simulated CT of variant p->variant >= 1:
 * int16 HU volumes of the phantom's dims, made by the caller (mm_phantom_new gives their
 * geometry and UIDs). sim->n and sim->pixel_mm are taken from the phantom. Values are limited
 * to what int16 with intercept -1024 stores (-1024..31743 HU). Slices in parallel. */
bool mm_phantom_physics_scan (const MmPhantomParams *p, const MmCtSimParams *sim,
                              MmVolume *scan, MmVolume *no_metal, GError **error);

G_END_DECLS
