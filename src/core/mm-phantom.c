/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The synthetic CT: its public API, geometry and UIDs, and variant 0: a body ellipse with two
 * femurs, a metal stem with a ball head in the left femur and a small metal fragment in soft
 * tissue, a circular field of view with padding outside. Every voxel takes the value of the
 * region holding its centre, so the metal mask and all the figures are known exactly; noise is
 * added after the truth is set. Variants >= 1 (random pelvises with implants, for training) are
 * drawn in mm-phantom-variant.c. */
#include "mm-phantom-private.h"

#include <gio/gio.h>
#include <math.h>
#include <omp.h>

enum
{
  R_PADDING,
  R_AIR,
  R_TISSUE,
  R_CORTEX,
  R_MARROW,
  R_STEM,
  R_FRAGMENT,
  N_REGIONS
};

static const double region_hu[N_REGIONS] = {
  [R_PADDING] = MM_PHANTOM_PADDING_HU,
  [R_AIR] = -1000,
  [R_TISSUE] = 40,
  [R_CORTEX] = 1200,
  [R_MARROW] = 300,
  [R_STEM] = 14000,   /* cobalt-chrome stem: far above bone */
  [R_FRAGMENT] = 4000, /* a thin fragment: just above the default threshold */
};

/* Centre of the volume in the scanner's frame (LPS mm), chosen off the origin and with
 * digits that survive the DS encoding of positions. */
static const double phantom_centre[3] = { 12.5, -30.25, 820.4 };

void
mm_phantom_params_init (MmPhantomParams *p)
{
  p->size = 512;
  p->slices = 120;
  p->seed = 1;
  p->noise_sd = 0.0;
  p->tilt_deg = 0.0;
  p->pixel_mm = 0.976;
  p->slice_mm = 1.6;
  p->variant = 0;
}

typedef struct
{
  double R, L; /* field-of-view radius, half length along the normal */
} Geometry;

/* Region of the point (u, v, w) in the phantom's own frame (mm from the volume centre along
 * row, column and normal). */
static int
region_at (const Geometry *g, double u, double v, double w)
{
  double R = g->R, L = g->L;
  if (u * u + v * v > R * R)
    return R_PADDING;

  /* Metal first: it sits inside bone and tissue. Stem: a cylinder along the normal in the
   * left femur (+u is the patient's left), from 30 % below the centre to 20 % above, capped
   * by a ball head overlapping its top. */
  double su = u - 0.38 * R, sv = v - 0.05 * R;
  if (su * su + sv * sv <= (0.035 * R) * (0.035 * R) && w >= -0.6 * L && w <= 0.4 * L)
    return R_STEM;
  double hw = w - (0.4 * L + 0.05 * R);
  if (su * su + sv * sv + hw * hw <= (0.08 * R) * (0.08 * R))
    return R_STEM;
  double fu = u + 0.2 * R, fv = v + 0.25 * R, fw = w + 0.2 * L;
  double fr = MAX (0.03 * R, 2.5);
  if (fu * fu + fv * fv + fw * fw <= fr * fr)
    return R_FRAGMENT;

  for (int side = -1; side <= 1; side += 2)
    {
      double bu = u - side * 0.38 * R, bv = v - 0.05 * R;
      double d2 = bu * bu + bv * bv;
      if (d2 <= (0.07 * R) * (0.07 * R))
        return R_MARROW;
      if (d2 <= (0.12 * R) * (0.12 * R))
        return R_CORTEX;
    }
  double eu = u / (0.80 * R), ev = v / (0.55 * R);
  if (eu * eu + ev * ev <= 1.0)
    return R_TISSUE;
  return R_AIR;
}


static char *
uid_from_seed (guint64 seed, const char *what)
{
  /* 2.25.<decimal> is the UUID-derived UID root (PS3.5 B.2); the number is a hash of the seed
   * and the kind of UID, so the same seed gives the same UIDs. */
  guint64 s = seed ^ g_str_hash (what) * 0x100000001B3ULL;
  guint64 a = mm_splitmix64 (&s), b = mm_splitmix64 (&s);
  return g_strdup_printf ("2.25.%" G_GUINT64_FORMAT "%010" G_GUINT64_FORMAT, a,
                          (guint64) (b % 10000000000ULL));
}

/* Variant 0: region by region, as it always was (the tests' figures depend on every bit). */
static void
fill_fixed (const MmPhantomParams *p, const double half[3], MmVolume *vol, MmMask *truth,
            MmPhantom *ph)
{
  int n = p->size, ns = p->slices;
  Geometry g = { 0.5 * n * p->pixel_mm, 0.5 * (ns - 1) * p->slice_mm };
  uint64_t counts[N_REGIONS] = { 0 };
  size_t slice = (size_t) n * n;
#pragma omp parallel
  {
    uint64_t local[N_REGIONS] = { 0 };
#pragma omp for schedule (static)
    for (int k = 0; k < ns; k++)
      {
        int16_t *vx = (int16_t *) vol->voxels + (size_t) k * slice;
        uint8_t *m = mm_mask_slice (truth, k);
        guint64 rng = p->seed * 0x9E3779B97F4A7C15ULL + (guint64) k * 0xD1B54A32D192ED03ULL;
        double w = k * p->slice_mm - half[2];
        for (int j = 0; j < n; j++)
          for (int i = 0; i < n; i++)
            {
              double u = i * p->pixel_mm - half[0], v = j * p->pixel_mm - half[1];
              int r = region_at (&g, u, v, w);
              local[r]++;
              double hu = region_hu[r];
              if (p->noise_sd > 0 && r != R_PADDING)
                {
                  /* Box-Muller */
                  double a = mm_uniform01 (&rng), b = mm_uniform01 (&rng);
                  hu += p->noise_sd * sqrt (-2.0 * log (a)) * cos (2.0 * G_PI * b);
                  /* Keep noise from pushing tissue below the padding value or out of range. */
                  hu = CLAMP (nearbyint (hu), -2047.0, 32767.0 - 1024.0);
                }
              size_t x = (size_t) j * n + i;
              vx[x] = (int16_t) hu;
              m[x] = r == R_STEM || r == R_FRAGMENT;
            }
      }
#pragma omp critical
    for (int r = 0; r < N_REGIONS; r++)
      counts[r] += local[r];
  }

  double sum = 0;
  uint64_t total = 0;
  ph->min_hu = G_MAXDOUBLE;
  ph->max_hu = -G_MAXDOUBLE;
  for (int r = 0; r < N_REGIONS; r++)
    {
      sum += region_hu[r] * (double) counts[r];
      total += counts[r];
      if (counts[r])
        {
          ph->min_hu = MIN (ph->min_hu, region_hu[r]);
          ph->max_hu = MAX (ph->max_hu, region_hu[r]);
        }
    }
  ph->mean_hu = sum / (double) total;
  ph->n_padding = counts[R_PADDING];
  ph->mean_without_padding_hu = (sum - region_hu[R_PADDING] * (double) counts[R_PADDING])
                                / (double) (total - counts[R_PADDING]);
  ph->object_voxels[0] = counts[R_STEM];
  ph->object_voxels[1] = counts[R_FRAGMENT];
  ph->object_hu[0] = region_hu[R_STEM];
  ph->object_hu[1] = region_hu[R_FRAGMENT];
  ph->metal_voxels = counts[R_STEM] + counts[R_FRAGMENT];
  ph->metal_components = (counts[R_STEM] > 0) + (counts[R_FRAGMENT] > 0);
  ph->n_objects = 2;
  ph->objects[0] = (MmPhantomObject) { "stem", region_hu[R_STEM], counts[R_STEM] };
  ph->objects[1] = (MmPhantomObject) { "fragment", region_hu[R_FRAGMENT], counts[R_FRAGMENT] };
}

MmPhantom *
mm_phantom_new (const MmPhantomParams *p, GError **error)
{
  if (p->size < 16 || p->size > 4096 || p->slices < 1 || p->slices > 4096)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "phantom size %d x %d x %d is out of range (16..4096 pixels, 1..4096 slices)",
                   p->size, p->size, p->slices);
      return NULL;
    }
  if (p->noise_sd < 0 || p->pixel_mm <= 0 || p->slice_mm <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "phantom noise and spacings must be positive");
      return NULL;
    }
  if (p->variant < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "phantom variant %d is negative (0 is the fixed phantom, 1.. random ones)",
                   p->variant);
      return NULL;
    }
  int dims[3] = { p->size, p->size, p->slices };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_INT16);
  g_autoptr (MmMask) truth = mm_mask_new (dims);
  if (vol == NULL || truth == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "not enough memory for the phantom");
      return NULL;
    }

  /* Variants get their own UIDs; variant 0 keeps the ones it always had. */
  guint64 uid_seed = p->seed ^ ((guint64) p->variant * 0xA24BAED4963EE407ULL);
  double t = p->tilt_deg * G_PI / 180.0;
  const double dir[9] = { 1, 0, 0, 0, cos (t), sin (t), 0, -sin (t), cos (t) };
  for (int a = 0; a < 9; a++)
    vol->direction[a] = dir[a];
  vol->spacing[0] = vol->spacing[1] = p->pixel_mm;
  vol->spacing[2] = p->slice_mm;
  vol->slice_gap_min = vol->slice_gap_max = p->slice_mm;
  vol->series_uid = uid_from_seed (uid_seed, "series");
  vol->study_uid = uid_from_seed (uid_seed, "study");
  vol->frame_of_reference_uid = uid_from_seed (uid_seed, "frame");
  vol->series_description
    = p->variant ? g_strdup_printf ("Metalmark phantom: pelvis variant %d", p->variant)
                 : g_strdup ("Metalmark phantom: pelvis with hip stem");
  vol->modality = g_strdup ("CT");
  vol->rescale_slope = 1.0;
  vol->rescale_intercept = -1024.0;
  vol->has_window = true;
  vol->window_center = 40;
  vol->window_width = 400;

  int n = p->size, ns = p->slices;
  double half[3] = { 0.5 * (n - 1) * p->pixel_mm, 0.5 * (n - 1) * p->pixel_mm,
                     0.5 * (ns - 1) * p->slice_mm };
  for (int k = 0; k < ns; k++)
    {
      MmSliceInfo *s = &vol->slices[k];
      double w = k * p->slice_mm - half[2];
      for (int a = 0; a < 3; a++)
        s->position[a] = phantom_centre[a] - half[0] * dir[a] - half[1] * dir[3 + a]
                         + w * dir[6 + a];
      /* Instance numbers run against position, as in the seed CT: 1 is the top slice. */
      s->instance_number = ns - k;
      s->sop_instance_uid = g_strdup_printf ("%s.%d", vol->series_uid, ns - k);
    }

  MmPhantom *ph = g_new0 (MmPhantom, 1);
  for (int a = 0; a < 3; a++)
    ph->centre_lps[a] = phantom_centre[a];
  ph->variant = p->variant;
  if (p->variant == 0)
    fill_fixed (p, half, vol, truth, ph);
  else
    mm_phantom_fill_variant (p, half, vol, truth, ph);
  ph->volume = g_steal_pointer (&vol);
  ph->truth = g_steal_pointer (&truth);
  return ph;
}

void
mm_phantom_free (MmPhantom *ph)
{
  if (ph == NULL)
    return;
  mm_volume_free (ph->volume);
  mm_mask_free (ph->truth);
  g_free (ph);
}
