/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Material compositions, weight fractions by element:
 * - air: dry air near sea level (NIST): C 0.0124 %, N 75.5 %, O 23.2 %, Ar 1.28 %; 0.001205 g/cm3;
 * - fat: adipose tissue, ICRU Report 44: H 11.4, C 59.8, N 0.7, O 27.8, Na, S, Cl 0.1 % each;
 *   0.95 g/cm3;
 * - water: H2O, 1.00 g/cm3;
 * - bone: cortical bone, ICRU Report 44: H 3.4, C 15.5, N 4.2, O 43.5, Na 0.1, Mg 0.2,
 *   P 10.3, S 0.3, Ca 22.5 %; 1.92 g/cm3;
 * - titanium: Ti-6Al-4V (ASTM F136): Ti 90, Al 6, V 4 %; 4.43 g/cm3;
 * - CoCr: CoCrMo (ASTM F75): Co 65.5, Cr 28, Mo 6.5 %; 8.3 g/cm3;
 * - steel: 316L (ASTM F138): Fe 65.5, Cr 17, Ni 12, Mo 2.5, Mn 2, Si 1 %; 8.0 g/cm3.
 * Attenuation: xraylib's CS_Total (cm2/g, photoelectric + Compton + Rayleigh) times the weight
 * fraction, summed, times the density. */
#include "mm-ct-material.h"

#include <xraylib.h>

typedef struct
{
  int z;
  double w;
} Part;

typedef struct
{
  const char *name;
  double density;
  Part parts[10];
} Material;

static const Material materials[MM_CT_N_MATERIALS] = {
  [MM_CT_AIR] = { "air", 0.001205, { { 6, 0.000124 }, { 7, 0.755268 }, { 8, 0.231781 },
                                     { 18, 0.012827 } } },
  [MM_CT_FAT] = { "fat", 0.95, { { 1, 0.114 }, { 6, 0.598 }, { 7, 0.007 }, { 8, 0.278 },
                                 { 11, 0.001 }, { 16, 0.001 }, { 17, 0.001 } } },
  [MM_CT_WATER] = { "water", 1.0, { { 1, 0.111894 }, { 8, 0.888106 } } },
  [MM_CT_BONE] = { "bone", 1.92, { { 1, 0.034 }, { 6, 0.155 }, { 7, 0.042 }, { 8, 0.435 },
                                   { 11, 0.001 }, { 12, 0.002 }, { 15, 0.103 }, { 16, 0.003 },
                                   { 20, 0.225 } } },
  [MM_CT_TITANIUM] = { "titanium", 4.43, { { 22, 0.90 }, { 13, 0.06 }, { 23, 0.04 } } },
  [MM_CT_COCR] = { "CoCr", 8.3, { { 27, 0.655 }, { 24, 0.28 }, { 42, 0.065 } } },
  [MM_CT_STEEL] = { "steel", 8.0, { { 26, 0.655 }, { 24, 0.17 }, { 28, 0.12 }, { 42, 0.025 },
                                    { 25, 0.02 }, { 14, 0.01 } } },
};

const char *
mm_ct_material_name (MmCtMaterial m)
{
  return m < MM_CT_N_MATERIALS ? materials[m].name : "?";
}

double
mm_ct_material_density (MmCtMaterial m)
{
  return m < MM_CT_N_MATERIALS ? materials[m].density : 0;
}

/* cm2/g of element z; xraylib reports an error only for arguments out of its range, which
 * the callers' fixed elements and 1..150 keV never are. */
static double
cs_total (int z, double e)
{
  xrl_error *err = NULL;
  double cs = CS_Total (z, e, &err);
  if (err)
    {
      xrl_error_free (err);
      return 0;
    }
  return cs;
}

double
mm_ct_material_mu (MmCtMaterial m, double energy_kev)
{
  if (m >= MM_CT_N_MATERIALS)
    return 0;
  const Material *ma = &materials[m];
  double s = 0;
  for (int i = 0; i < 10 && ma->parts[i].z; i++)
    s += ma->parts[i].w * cs_total (ma->parts[i].z, energy_kev);
  return s * ma->density * 0.1; /* 1/cm -> 1/mm */
}

double
mm_ct_filter_mu (int z, double energy_kev)
{
  double rho = z == 13 ? 2.699 : z == 29 ? 8.96 : 0;
  return cs_total (z, energy_kev) * rho * 0.1;
}
