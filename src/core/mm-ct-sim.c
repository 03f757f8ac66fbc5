/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The simulator's pipeline; the model and its simplifications are listed in
 * docs/ct-simulation.md. In short: per channel the expected photon counts per energy bin
 * (Beer-Lambert over the material line integrals), an energy-integrating detector (signal =
 * sum of photon energies), crosstalk between neighbouring channels on the expected signal,
 * compound-Poisson quantum noise (Gaussian with its exact mean and variance above 20 photons,
 * Poisson photons of the mean energy below), Gaussian electronic noise, a floor of one photon,
 * the log against the air scan, then only the water correction a scanner applies: every line
 * integral mapped to the water thickness that gives it, times water's attenuation at the
 * effective energy. Bone and metal keep their beam hardening. */
#include "mm-ct-sim.h"
#include "mm-random.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define BHC_STEP_MM 2.0
#define BHC_N 1001 /* water up to 2 m */
/* Adaptive filtering of starved channels (view_measure). */
#define ADAPTIVE_PHOTONS 50.0
#define ADAPTIVE_MAX_HALF 8

struct _MmCtSim
{
  MmCtSimParams p;
  double mu[MM_CT_MAX_BINS][MM_CT_N_MATERIALS]; /* 1/mm */
  double w_energy[MM_CT_MAX_BINS];              /* keV x photon fraction */
  double i0;                                    /* air scan signal, keV */
  double e_mean;                                /* keV per photon of the air scan */
  double bhc[BHC_N];                            /* polychromatic water line integral */
  double mu_ref, e_eff, hu[MM_CT_N_MATERIALS];
};

void
mm_ct_sim_params_init (MmCtSimParams *p)
{
  memset (p, 0, sizeof *p);
  mm_ct_geometry_fan_default (&p->geometry, 1152);
  mm_ct_spectrum_default (&p->spectrum);
  p->window = MM_CT_WINDOW_SHEPP_LOGAN;
  p->photons = 2e5;
  p->electronic_sd = 4;
  p->crosstalk = 0.05;
  p->n = 512;
  p->pixel_mm = 0.976;
  p->seed = 1;
}

static double
water_poly (const MmCtSim *s, double l_mm)
{
  double f = 0;
  for (int b = 0; b < s->p.spectrum.n_bins; b++)
    f += s->w_energy[b] * exp (-s->mu[b][MM_CT_WATER] * l_mm);
  return -log (f / s->i0);
}

MmCtSim *
mm_ct_sim_new (const MmCtSimParams *p, GError **error)
{
  if (!mm_ct_geometry_check (&p->geometry, error))
    return NULL;
  const char *why = NULL;
  if (p->spectrum.n_bins < 1 || p->spectrum.n_bins > MM_CT_MAX_BINS)
    why = "the spectrum has no energy bins";
  else if (!(p->photons >= 0 && p->photons <= 1e9))
    why = "the photons per channel must be 0 (no noise) to 1e9";
  else if (!(p->electronic_sd >= 0 && p->electronic_sd <= 1e4))
    why = "the electronic noise must be 0 to 1e4 photons";
  else if (!(p->crosstalk >= 0 && p->crosstalk <= 0.25))
    why = "the crosstalk must be 0 to 0.25";
  else if (p->n < 8 || p->n > MM_CT_MAX_IMAGE || !(p->pixel_mm > 0.01 && p->pixel_mm < 100))
    why = "the image must be 8..4096 pixels of 0.01..100 mm";
  if (why)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "CT simulation: %s", why);
      return NULL;
    }
  MmCtSim *s = g_new0 (MmCtSim, 1);
  s->p = *p;
  const MmCtSpectrum *sp = &p->spectrum;
  double n_sum = 0;
  for (int b = 0; b < sp->n_bins; b++)
    {
      for (int m = 0; m < MM_CT_N_MATERIALS; m++)
        s->mu[b][m] = mm_ct_material_mu (m, sp->energy[b]);
      s->w_energy[b] = sp->energy[b] * sp->photons[b];
      s->i0 += s->w_energy[b];
      n_sum += sp->photons[b];
    }
  s->e_mean = s->i0 / n_sum;
  for (int k = 0; k < BHC_N; k++)
    s->bhc[k] = water_poly (s, k * BHC_STEP_MM);
  s->mu_ref = s->bhc[100] / (100 * BHC_STEP_MM); /* 200 mm of water, a body's */
  double lo = 10, hi = sp->kvp;
  for (int i = 0; i < 60; i++)
    {
      double mid = 0.5 * (lo + hi);
      if (mm_ct_material_mu (MM_CT_WATER, mid) > s->mu_ref)
        lo = mid;
      else
        hi = mid;
    }
  s->e_eff = 0.5 * (lo + hi);
  for (int m = 0; m < MM_CT_N_MATERIALS; m++)
    s->hu[m] = 1000 * (mm_ct_material_mu (m, s->e_eff) / s->mu_ref - 1);
  return s;
}

void
mm_ct_sim_free (MmCtSim *sim)
{
  g_free (sim);
}

double
mm_ct_sim_effective_kev (const MmCtSim *sim)
{
  return sim->e_eff;
}

double
mm_ct_sim_material_hu (const MmCtSim *sim, MmCtMaterial m)
{
  return m < MM_CT_N_MATERIALS ? sim->hu[m] : 0;
}

void
mm_ct_sim_tissue (const MmCtSim *sim, double hu, double scale, float out[4])
{
  double a = sim->hu[MM_CT_AIR], f = sim->hu[MM_CT_FAT], b = sim->hu[MM_CT_BONE];
  double x[4] = { 0, 0, 0, 0 };
  /* Pure air is left out: the air scan the scanner calibrates with holds it (and the
   * projector then only walks the body's box). */
  if (hu <= a)
    ;
  else if (hu <= f)
    x[1] = (hu - a) / (f - a), x[0] = 1 - x[1];
  else if (hu <= 0)
    x[2] = (hu - f) / (0 - f), x[1] = 1 - x[2];
  else if (hu <= b)
    x[3] = hu / b, x[2] = 1 - x[3];
  else
    x[3] = (hu + 1000) / (b + 1000);
  for (int c = 0; c < 4; c++)
    out[c] = (float) (x[c] * scale);
}

/* The water thickness whose polychromatic line integral is p, times mu_ref. */
static double
water_correct (const MmCtSim *s, double p)
{
  if (p <= 0)
    return p / s->bhc[1] * BHC_STEP_MM * s->mu_ref;
  int lo = 0, hi = BHC_N - 1;
  if (p >= s->bhc[hi])
    {
      double slope = (s->bhc[hi] - s->bhc[hi - 1]) / BHC_STEP_MM;
      return ((hi * BHC_STEP_MM) + (p - s->bhc[hi]) / slope) * s->mu_ref;
    }
  while (hi - lo > 1)
    {
      int mid = (lo + hi) / 2;
      if (s->bhc[mid] <= p)
        lo = mid;
      else
        hi = mid;
    }
  double f = (p - s->bhc[lo]) / (s->bhc[hi] - s->bhc[lo]);
  return (lo + f) * BHC_STEP_MM * s->mu_ref;
}

static inline double
gauss (guint64 *r)
{
  double u = mm_uniform01 (r), v = mm_uniform01 (r);
  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

static double
poisson (guint64 *r, double lambda)
{
  double l = exp (-lambda), prod = mm_uniform01 (r);
  int k = 0;
  while (prod > l && k < 1000)
    prod *= mm_uniform01 (r), k++;
  return k;
}

/* Expected signal of one view (E1 keV, E2 keV^2 variance, N photons per channel) -> log,
 * water-corrected line integrals. */
static void
view_measure (const MmCtSim *s, const float *lt, const float *lm, int nd, guint64 rng,
              double *e1, double *e2, double *nn, float *out)
{
  const MmCtSpectrum *sp = &s->p.spectrum;
  double n0 = s->p.photons > 0 ? s->p.photons : 1;
  for (int c = 0; c < nd; c++)
    {
      const float *t = lt + (size_t) c * 4, *m = lm ? lm + (size_t) c * 4 : NULL;
      double a = 0, b2 = 0, nsum = 0;
      for (int b = 0; b < sp->n_bins; b++)
        {
          const double *mu = s->mu[b];
          double x = mu[MM_CT_AIR] * t[0] + mu[MM_CT_FAT] * t[1] + mu[MM_CT_WATER] * t[2]
                     + mu[MM_CT_BONE] * t[3];
          if (m)
            x += mu[MM_CT_TITANIUM] * m[0] + mu[MM_CT_COCR] * m[1] + mu[MM_CT_STEEL] * m[2];
          double lam = n0 * sp->photons[b] * exp (-x);
          a += lam * sp->energy[b];
          b2 += lam * sp->energy[b] * sp->energy[b];
          nsum += lam;
        }
      e1[c] = a, e2[c] = b2, nn[c] = nsum;
    }
  /* Crosstalk on the expected signal: each channel keeps 1 - 2 k and gives k to each
   * neighbour (the edge channels keep what would leave the detector). */
  double k = s->p.crosstalk;
  if (k > 0)
    {
      double pa = e1[0], pb = e2[0], pn = nn[0];
      for (int c = 0; c < nd; c++)
        {
          double ca = e1[c], cb = e2[c], cn = nn[c];
          double na = c + 1 < nd ? e1[c + 1] : ca, nb = c + 1 < nd ? e2[c + 1] : cb,
                 nx = c + 1 < nd ? nn[c + 1] : cn;
          e1[c] = (1 - 2 * k) * ca + k * (pa + na);
          e2[c] = (1 - 2 * k) * cb + k * (pb + nb);
          nn[c] = (1 - 2 * k) * cn + k * (pn + nx);
          pa = ca, pb = cb, pn = cn;
        }
    }
  double i0 = n0 * s->i0;
  for (int c = 0; c < nd; c++)
    {
      double sig = e1[c];
      if (s->p.photons > 0)
        {
          if (nn[c] >= 20)
            sig += sqrt (e2[c]) * gauss (&rng);
          else
            sig = nn[c] > 0 ? poisson (&rng, nn[c]) * (e1[c] / nn[c]) : 0;
          sig += s->p.electronic_sd * s->e_mean * gauss (&rng);
          sig = MAX (sig, s->e_mean); /* one photon: the log stays finite */
        }
      else
        sig = MAX (sig, i0 * 1e-12);
      e2[c] = sig;
    }
  /* The scanner's adaptive filtering of starved channels (J. Hsieh, Med. Phys. 25 (1998)
   * 2139; M. Kachelriess et al., Med. Phys. 28 (2001) 475): a channel that counted fewer than
   * MM_CT_SIM_ADAPTIVE_PHOTONS is averaged (before the log) with its neighbours in the view,
   * the window widened until it holds that many photons (at most ADAPTIVE_MAX_HALF channels
   * each side). Without it the log of one to a few photons behind metal puts an error of
   * several units on each such ray, and FBP draws every one as a streak across the whole
   * field: the salt-and-pepper of streaks (bright dots even in the air) that clinical scans
   * do not show. Rays with counts above the threshold are untouched. */
  const double thr = ADAPTIVE_PHOTONS * s->e_mean;
  for (int c = 0; c < nd; c++)
    {
      double sig = e2[c];
      if (s->p.photons > 0 && sig < thr)
        {
          double sum = sig;
          int cnt = 1;
          for (int h = 1; h <= ADAPTIVE_MAX_HALF && sum < thr; h++)
            {
              if (c - h >= 0)
                sum += e2[c - h], cnt++;
              if (c + h < nd)
                sum += e2[c + h], cnt++;
            }
          sig = sum / cnt;
        }
      out[c] = (float) water_correct (s, -log (sig / i0));
    }
}

bool
mm_ct_sim_slice (const MmCtSim *s, const float *tissue, const float *metal, guint64 slice_seed,
                 float *hu, GError **error)
{
  const MmCtGeometry *g = &s->p.geometry;
  int n = s->p.n, nv = g->n_views, nd = g->n_det;
  size_t ns = (size_t) nv * nd;
  float *st = g_try_new (float, ns * 4), *sm = NULL, *p = g_try_new (float, ns);
  if (st == NULL || p == NULL)
    {
      g_free (st);
      g_free (p);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "CT simulation: not enough memory for a %d x %d sinogram", nv, nd);
      return false;
    }
  double c = 0.5 * (n - 1);
  MmCtImage img = { n, s->p.pixel_mm, c, c, tissue, { 0 } };
  bool projected = true;
  if (mm_ct_image_box (tissue, n, img.box))
    projected = mm_ct_project (g, &img, st);
  else
    memset (st, 0, sizeof (float) * ns * 4);
  MmCtImage mimg = { n, s->p.pixel_mm, c, c, metal, { 0 } };
  if (metal && mm_ct_image_box (metal, n, mimg.box))
    {
      sm = g_try_new (float, ns * 4);
      if (sm == NULL)
        {
          g_free (st);
          g_free (p);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                       "CT simulation: not enough memory for a %d x %d sinogram", nv, nd);
          return false;
        }
      projected = projected && mm_ct_project (g, &mimg, sm);
    }
  if (!projected)
    {
      g_free (st);
      g_free (sm);
      g_free (p);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "CT simulation: not enough memory to project a %d x %d image", n, n);
      return false;
    }
#pragma omp parallel
  {
    double *e1 = g_new (double, nd), *e2 = g_new (double, nd), *nn = g_new (double, nd);
#pragma omp for schedule (dynamic, 8)
    for (int v = 0; v < nv; v++)
      {
        guint64 rng = (slice_seed * 0x9E3779B97F4A7C15ULL) ^ ((guint64) (v + 1) * 0xD1B54A32D192ED03ULL);
        mm_splitmix64 (&rng);
        view_measure (s, st + (size_t) v * nd * 4, sm ? sm + (size_t) v * nd * 4 : NULL, nd,
                      rng, e1, e2, nn, p + (size_t) v * nd);
      }
    g_free (e1);
    g_free (e2);
    g_free (nn);
  }
  g_free (st);
  g_free (sm);
  bool ok = mm_ct_fbp (g, p, s->p.window, n, s->p.pixel_mm, c, c, 0, hu, error);
  g_free (p);
  if (!ok)
    return false;
  double r = mm_ct_geometry_fov_radius (g);
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++)
      {
        size_t x = (size_t) j * n + i;
        double dx = (i - c) * s->p.pixel_mm, dy = (j - c) * s->p.pixel_mm;
        double h = dx * dx + dy * dy > r * r ? -1024 : 1000 * (hu[x] / s->mu_ref - 1);
        if (s->p.clip_12bit)
          h = CLAMP (h, -1024, 3071);
        hu[x] = (float) h;
      }
  return true;
}
