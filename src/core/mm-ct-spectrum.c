/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-ct-spectrum.h"

#include "mm-ct-material.h"

#include <math.h>
#include <string.h>

#define E_MIN 10.0

gboolean
mm_ct_spectrum_kramers (MmCtSpectrum *s, double kvp, double al_mm, double cu_mm, double bin_kev)
{
  if (!(kvp >= 20 && kvp <= 150) || !(bin_kev >= 1 && bin_kev <= 20) || !(al_mm >= 0)
      || !(cu_mm >= 0) || al_mm > 100 || cu_mm > 10)
    return FALSE;
  int n = (int) ceil ((kvp - E_MIN) / bin_kev);
  if (n < 1 || n > MM_CT_MAX_BINS)
    return FALSE;
  memset (s, 0, sizeof *s);
  s->kvp = kvp, s->al_mm = al_mm, s->cu_mm = cu_mm, s->bin_kev = bin_kev, s->n_bins = n;
  double total = 0;
  for (int b = 0; b < n; b++)
    {
      /* Integrate over 0.25 keV steps inside the bin: the filter's steep low-energy cut
       * makes the bin's mean energy differ from its centre. */
      double lo = E_MIN + b * bin_kev, hi = MIN (lo + bin_kev, kvp), sum = 0, esum = 0;
      for (double e = lo + 0.125; e < hi; e += 0.25)
        {
          double f = (kvp - e) / e * exp (-mm_ct_filter_mu (13, e) * al_mm
                                          - mm_ct_filter_mu (29, e) * cu_mm) * 0.25;
          sum += f, esum += f * e;
        }
      s->photons[b] = sum;
      s->energy[b] = sum > 0 ? esum / sum : 0.5 * (lo + hi);
      total += sum;
    }
  for (int b = 0; b < n; b++)
    s->photons[b] /= total;
  return TRUE;
}

void
mm_ct_spectrum_default (MmCtSpectrum *s)
{
  mm_ct_spectrum_kramers (s, 120, 7.0, 0.1, 4.0);
}

double
mm_ct_spectrum_mean_kev (const MmCtSpectrum *s)
{
  double m = 0;
  for (int b = 0; b < s->n_bins; b++)
    m += s->photons[b] * s->energy[b];
  return m;
}

static double
fluence_through_al (const MmCtSpectrum *s, double t)
{
  double f = 0;
  for (int b = 0; b < s->n_bins; b++)
    f += s->photons[b] * s->energy[b] * exp (-mm_ct_filter_mu (13, s->energy[b]) * t);
  return f;
}

double
mm_ct_spectrum_hvl_al_mm (const MmCtSpectrum *s)
{
  double half = 0.5 * fluence_through_al (s, 0), lo = 0, hi = 100;
  for (int i = 0; i < 50; i++)
    {
      double mid = 0.5 * (lo + hi);
      if (fluence_through_al (s, mid) > half)
        lo = mid;
      else
        hi = mid;
    }
  return 0.5 * (lo + hi);
}
