/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The materials of the CT simulator: composition (weight fractions), density and their linear
 * attenuation from xraylib's cross sections. See docs/ct-simulation.md. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef enum
{
  MM_CT_AIR,
  MM_CT_FAT,   /* adipose tissue */
  MM_CT_WATER, /* water; soft tissue is water at the density its HU says */
  MM_CT_BONE,  /* cortical bone */
  MM_CT_TITANIUM, /* Ti-6Al-4V */
  MM_CT_COCR,     /* CoCrMo, ASTM F75 */
  MM_CT_STEEL,    /* stainless steel 316L */
  MM_CT_N_MATERIALS
} MmCtMaterial;

/* The projector's two 4-channel images: tissue (air, fat, water, bone) everywhere and metal
 * (titanium, CoCr, steel, unused) only near metal. */
#define MM_CT_TISSUE_CHANNELS 4
#define MM_CT_METAL_CHANNEL0 MM_CT_TITANIUM

const char *mm_ct_material_name (MmCtMaterial m);
double mm_ct_material_density (MmCtMaterial m); /* g/cm^3 */
/* Linear attenuation at the nominal density, 1/mm, at energy_kev (1..150 keV): the total
 * cross section (photoelectric, Compton, Rayleigh) of xraylib summed over the elements by
 * weight fraction. */
double mm_ct_material_mu (MmCtMaterial m, double energy_kev);
/* The same for aluminium and copper filters (1/mm). */
double mm_ct_filter_mu (int z, double energy_kev);

G_END_DECLS
