/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulator's X-ray tube spectrum in energy bins: Kramers' law for the bremsstrahlung of a
 * thick target (H. A. Kramers, Phil. Mag. 46 (1923) 836), photons per keV proportional to
 * (kVp - E) / E, hardened by aluminium and copper filtration (xraylib attenuation).
 * Characteristic tungsten lines and the anode's self-absorption are left out. The default
 * (7 mm Al + 0.1 mm Cu) gives a mean energy of 62.9 keV and an energy-fluence half-value layer
 * of 9.5 mm Al, a hard clinical body beam with its bowtie's centre (docs/ct-simulation.md). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MM_CT_MAX_BINS 64

typedef struct
{
  double kvp, al_mm, cu_mm, bin_kev;
  int n_bins;
  double energy[MM_CT_MAX_BINS];  /* keV, the bin's photon-weighted mean */
  double photons[MM_CT_MAX_BINS]; /* fraction of the photons leaving the filter, sum 1 */
} MmCtSpectrum;

/* kvp 20..150, bin_kev 1..20 (fewer than MM_CT_MAX_BINS bins from 10 keV up to kvp), filters
 * >= 0 mm; FALSE (and nothing set) outside these. */
gboolean mm_ct_spectrum_kramers (MmCtSpectrum *s, double kvp, double al_mm, double cu_mm,
                                 double bin_kev);
/* The simulator's default: 120 kVp, 7 mm Al + 0.1 mm Cu, 4 keV bins. */
void mm_ct_spectrum_default (MmCtSpectrum *s);
double mm_ct_spectrum_mean_kev (const MmCtSpectrum *s);
/* The aluminium thickness (mm) that halves the energy fluence (an energy-integrating
 * detector's signal), by bisection. */
double mm_ct_spectrum_hvl_al_mm (const MmCtSpectrum *s);

G_END_DECLS
