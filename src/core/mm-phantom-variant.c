/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Phantom variants >= 1, training data: a pelvis drawn at random from (seed, variant) with 1..4
 * metal objects (none when variant % 10 == 0) and streak artefacts, built from analytic solids
 * (spheres, round cones, boxes, hemispherical shells, tori) whose signed distance gives both
 * the truth (voxel centre inside a metal solid) and the HU. What a variant holds:
 * - anatomy: a body ellipse above the perineum, two thighs below, subcutaneous fat
 *   (-120..-80 HU), muscle 25..65 HU with darker and brighter groups (0..80), bladder, bowel
 *   and rectal gas, femurs (shaft, neck, head, trochanter), acetabula, ilia, pubic and ischial
 *   rami and a sacrum, each with a cortex (800..1900 HU) around marrow (100..400 HU), arms
 *   beside the body and a curved table under it, each sometimes;
 * - metal, 3200..25000 HU (a fifth of the stems and cups and a third of the rest 3200..4500 HU,
 *   just above the threshold):
 *   a hip stem with neck and ball head along the femur (often oblique), possibly cemented
 *   (bone cement 1200..2600 HU); an acetabular cup (hemispherical shell, polyethylene liner,
 *   screws); cannulated neck screws or screws in any direction; an intramedullary nail with
 *   lag and locking screws; a plate with screws on the femur or anywhere in the pelvis;
 *   fragments, clips and K-wires of a few voxels; cerclage wires (tori) round the femur.
 *   Metal is brightest inside and lower at its edge (never below 3200 HU before noise);
 *   often the top slices are kept free of metal.
 * - artefacts, in the plane of each slice, from each metal object's cross-section in it:
 *   a bright halo just outside the surface (blooming), bright and dark streaks radiating from
 *   it (+-200..800 HU, decaying with distance, scaled by the metal's area and density), a dark
 *   band along its long axis and dark bands between dense objects. Tissue edges (not metal's)
 *   are softened by a 3 x 3 binomial filter; Gaussian noise has a CT's grain (the same filter,
 *   neighbours correlated 0.67; the seed CT's are about 0.7).
 * The rule that keeps the truth exact: after artefacts and noise, every voxel outside metal is
 * softly limited to below 2990 HU and every metal voxel to at least 3000 HU (both smooth, and
 * only touching values within 150 HU of 3000), so the truth is exactly the voxels >= 3000 HU,
 * the reference rule of real data. Partial-volume edges are not modelled for the same reason.
 *
 * A variant is drawn in four files: its geometry (mm-phantom-shape.c), its scene
 * (mm-phantom-scene.c, the metal in mm-phantom-implant.c) and, here, its rendering, slice by
 * slice. */
#include "mm-phantom-scene.h"

#include "mm-components.h"

#include <math.h>
#include <omp.h>
#include <string.h>

/* ---- rendering a variant, slice by slice ---- */

typedef struct
{
  int bones[MAX_SOLIDS], organs[MAX_SOLIDS], inserts[8], pieces[MAX_PIECES];
  int n_bones, n_organs, n_inserts, n_pieces;
  double pa, pb; /* the pelvis ellipse's semi-axes at this height, 0 below it */
  bool thighs;
} Active;

static void
active_at (const Scene *sc, double w, Active *ac)
{
  memset (ac, 0, sizeof *ac);
#define COLLECT(list, n, idx, nidx, lo_, hi_) \
  for (int i = 0; i < (n); i++) \
    if (w >= (list)[i].lo_.z && w <= (list)[i].hi_.z) \
      (idx)[(nidx)++] = i;
  COLLECT (sc->bones, sc->n_bones, ac->bones, ac->n_bones, sh.lo, sh.hi);
  COLLECT (sc->organs, sc->n_organs, ac->organs, ac->n_organs, sh.lo, sh.hi);
  COLLECT (sc->inserts, sc->n_inserts, ac->inserts, ac->n_inserts, sh.lo, sh.hi);
  COLLECT (sc->pieces, sc->n_pieces, ac->pieces, ac->n_pieces, lo, hi);
#undef COLLECT
  double f = 1 - MAX (sc->w_split - w, 0.0) / sc->taper_mm;
  if (f > 0.35)
    ac->pa = sc->a * f, ac->pb = sc->b * (0.5 + 0.5 * f);
  ac->thighs = w < sc->w_split + 25 * sc->s;
}

static inline double
ellipse_q (double du, double dv, double a, double b)
{
  return (du * du) / (a * a) + (dv * dv) / (b * b);
}

/* Metal at p: its HU and piece, or -1 and the blooming of the metal nearby. */
static double
metal_at (const Scene *sc, const Active *ac, V3 p, int *piece, double *halo)
{
  *halo = 0;
  for (int k = 0; k < ac->n_pieces; k++)
    {
      const Piece *pc = &sc->pieces[ac->pieces[k]];
      if (!in_bounds (p, pc->lo, pc->hi, 0))
        continue;
      double d = G_MAXDOUBLE;
      for (int i = pc->s0; i < pc->s0 + pc->ns; i++)
        d = MIN (d, mm_phantom_shape_sdf (&sc->shapes[i], p));
      d = MAX (d, p.z - sc->w_cut);
      if (d <= 0)
        {
          *piece = ac->pieces[k];
          return pc->hu_edge + (pc->hu - pc->hu_edge) * (1 - exp (d / pc->rise_mm));
        }
      if (d < 6 * pc->halo_mm)
        *halo += pc->halo * exp (-d / pc->halo_mm);
    }
  *piece = -1;
  return 0;
}

static double
tissue_at (const Scene *sc, const Active *ac, V3 p)
{
  for (int k = 0; k < ac->n_inserts; k++)
    {
      const Solid *so = &sc->inserts[ac->inserts[k]];
      if (in_bounds (p, so->sh.lo, so->sh.hi, 0) && mm_phantom_shape_sdf (&so->sh, p) <= 0)
        return so->core_hu;
    }
  /* Bone: the solid p is deepest in, so that unions have no inner walls. */
  double best = 0;
  const Solid *bone = NULL;
  for (int k = 0; k < ac->n_bones; k++)
    {
      const Solid *so = &sc->bones[ac->bones[k]];
      if (!in_bounds (p, so->sh.lo, so->sh.hi, 0))
        continue;
      double d = mm_phantom_shape_sdf (&so->sh, p);
      if (d <= best)
        best = d, bone = so;
    }
  if (bone)
    return -best < bone->shell_mm ? bone->shell_hu : bone->core_hu;

  double u = p.x, v = p.y;
  bool body = false, inner = false;
  double f = sc->fat_mm;
  if (ac->pa > 0 && ellipse_q (u - sc->cu, v - sc->cv, ac->pa, ac->pb) <= 1)
    {
      body = true;
      inner = MIN (ac->pa, ac->pb) > f
              && ellipse_q (u - sc->cu, v - sc->cv, ac->pa - f, ac->pb - f) <= 1;
    }
  if (ac->thighs)
    for (int i = 0; i < 2 && !inner; i++)
      {
        double du = u - sc->thigh_u[i], dv = v - sc->thigh_v;
        if (ellipse_q (du, dv, sc->thigh_a, sc->thigh_b) <= 1)
          {
            body = true;
            inner = ellipse_q (du, dv, sc->thigh_a - 0.7 * f, sc->thigh_b - 0.7 * f) <= 1;
          }
      }
  if (body)
    {
      if (!inner)
        return sc->fat_hu;
      for (int k = 0; k < ac->n_organs; k++)
        {
          const Solid *so = &sc->organs[ac->organs[k]];
          if (in_bounds (p, so->sh.lo, so->sh.hi, 0) && mm_phantom_shape_sdf (&so->sh, p) <= 0)
            return so->core_hu;
        }
      return sc->muscle_hu;
    }
  if (sc->arms)
    for (int i = 0; i < 2; i++)
      {
        double du = u - sc->arm_u[i], dv = v - sc->arm_v;
        if (ellipse_q (du, dv, sc->arm_a, sc->arm_b) > 1)
          continue;
        double bu = du - sc->arm_bone_du, bv = dv - sc->arm_bone_dv, br = sc->arm_bone_r;
        double d2 = bu * bu + bv * bv;
        if (d2 <= br * br)
          return d2 <= (br - sc->arm_cortex) * (br - sc->arm_cortex) ? sc->marrow_hu
                                                                     : sc->cortex_hu;
        return ellipse_q (du, dv, sc->arm_a - 4 * sc->s, sc->arm_b - 4 * sc->s) <= 1 ? sc->muscle_hu
                                                                                    : sc->fat_hu;
      }
  if (sc->table && fabs (u - sc->cu) < sc->table_half)
    {
      double du = u - sc->cu, dv = v - (sc->table_v - sc->table_r);
      double d = sqrt (du * du + dv * dv) - sc->table_r;
      if ((d >= 0 && d <= sc->table_t1)
          || (d >= sc->table_gap && d <= sc->table_gap + sc->table_t2))
        return sc->table_hu;
    }
  return -1000;
}

/* Soften tissue edges as a scanner's resolution does: a 3 x 3 binomial filter over tissue
 * (m 0) only, metal (1) and padding (2) neighbours counting as the centre. */
static void
blur_tissue (float *buf, float *tmp, const uint8_t *m, int n)
{
  for (int pass = 0; pass < 2; pass++)
    {
      const float *in = pass ? tmp : buf;
      float *out = pass ? buf : tmp;
      size_t step = pass ? (size_t) n : 1; /* along rows, then along columns */
      for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++)
          {
            size_t x = (size_t) j * n + i;
            int at = pass ? j : i;
            float c = in[x];
            float a = at > 0 && !m[x - step] ? in[x - step] : c;
            float b = at < n - 1 && !m[x + step] ? in[x + step] : c;
            out[x] = m[x] ? c : 0.25f * (a + b) + 0.5f * c;
          }
    }
}

/* Noise of standard deviation sd with the grain of a CT's (neighbours correlated about 0.7, as
 * in the seed CT): white Gaussian noise smoothed by a 3 x 3 binomial filter, then scaled back
 * to sd. */
static void
correlated_noise (float *nz, float *tmp, int n, double sd, guint64 *rng)
{
  size_t slice = (size_t) n * n;
  for (size_t x = 0; x < slice; x += 2)
    {
      /* Box-Muller, both values of the pair */
      double a = mm_uniform01 (rng), b = mm_uniform01 (rng), rad = sqrt (-2.0 * log (a));
      tmp[x] = (float) (rad * cos (2.0 * G_PI * b));
      if (x + 1 < slice)
        tmp[x + 1] = (float) (rad * sin (2.0 * G_PI * b));
    }
  /* The filter's gain on white noise is sqrt (6 / 16) per axis. */
  float k = (float) (sd / 0.375);
  for (int pass = 0; pass < 2; pass++)
    {
      const float *in = pass ? nz : tmp;
      float *out = pass ? tmp : nz;
      size_t step = pass ? (size_t) n : 1;
      for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++)
          {
            size_t x = (size_t) j * n + i;
            int at = pass ? j : i;
            float a = in[at > 0 ? x - step : x + step], b = in[at < n - 1 ? x + step : x - step];
            out[x] = 0.25f * (a + b) + 0.5f * in[x];
          }
    }
  for (size_t x = 0; x < slice; x++)
    nz[x] = k * tmp[x];
}

/* A piece's cross-section in one slice, as a streak source. */
typedef struct
{
  double n, su, sv, suu, suv, svv; /* moments of its voxels */
  double cu, cv, r_major, r_minor, ca, sa, S;
  int turn; /* streaks turn a little from slice to slice, in bins */
} Source;

static void
source_finish (const Scene *sc, const Piece *pc, Source *s, double px, guint64 hash)
{
  s->turn = (int) (mm_splitmix64 (&hash) % 11) - 5;
  double n = s->n;
  s->cu = s->su / n;
  s->cv = s->sv / n;
  double cuu = s->suu / n - s->cu * s->cu + px * px / 12,
         cvv = s->svv / n - s->cv * s->cv + px * px / 12;
  double cuv = s->suv / n - s->cu * s->cv, tr = cuu + cvv, det = cuu * cvv - cuv * cuv;
  double disc = sqrt (MAX (tr * tr / 4 - det, 0.0));
  double l1 = tr / 2 + disc, l2 = MAX (tr / 2 - disc, 0.0);
  s->r_major = 2 * sqrt (l1);
  s->r_minor = MAX (2 * sqrt (l2), px);
  /* Round cross-sections darken along the patient's width, the longest path through it. */
  double ang = s->r_major > 1.3 * s->r_minor ? 0.5 * atan2 (2 * cuv, cuu - cvv) : pc->dark_angle;
  s->ca = cos (ang);
  s->sa = sin (ang);
  s->S = sc->artefacts * CLAMP (n * px * px / 100, 0.08, 1.0)
         * CLAMP ((pc->hu - 2500) / 10000, 0.08, 1.0);
}

static double
streaks_at (const Scene *sc, const Source *src, const int *ids, int n, double u, double v)
{
  double acc = 0;
  for (int k = 0; k < n; k++)
    {
      const Source *s = &src[ids[k]];
      const Piece *pc = &sc->pieces[ids[k]];
      double dx = u - s->cu, dy = v - s->cv, rho = sqrt (dx * dx + dy * dy);
      double ex = MAX (rho - s->r_major, 0.0), lam = pc->streak_mm;
      if (ex > 5 * lam)
        continue;
      double dec = exp (-ex / lam) * (1 + 1.5 * exp (-ex / 6)); /* strongest next to the metal */
      int bin = (int) ((atan2f ((float) dy, (float) dx) + G_PI) * (STREAK_BINS / (2 * G_PI)));
      double val = pc->streak[(bin + s->turn) & (STREAK_BINS - 1)];
      double along = dx * s->ca + dy * s->sa, perp = dy * s->ca - dx * s->sa;
      if (fabs (along) > 0.5 * s->r_major)
        val -= pc->dark * exp (-perp * perp / (2 * s->r_minor * s->r_minor));
      acc += s->S * dec * val;
      /* Dark bands to each other dense piece. */
      for (int q = k + 1; q < n; q++)
        {
          const Source *t = &src[ids[q]];
          double S = MIN (s->S, t->S), ux = t->cu - s->cu, uy = t->cv - s->cv, l = hypot (ux, uy);
          if (S < 0.15 || l < 1)
            continue;
          ux /= l, uy /= l;
          double a = dx * ux + dy * uy, pp = dy * ux - dx * uy;
          double wd = 0.5 * (s->r_minor + t->r_minor) + 1.5;
          double g = a < 0 ? exp (a / lam) : a > l ? exp ((l - a) / lam) : 1;
          acc -= sc->band_hu * S * g * exp (-pp * pp / (2 * wd * wd));
        }
    }
  return acc;
}

/* Outside metal: below 2990 HU (values above 2850 are compressed smoothly) and above the
 * padding. In metal: at least 3000 HU (values below 3150 compressed smoothly). */
static inline double
limit_tissue (double x)
{
  if (x > 2850)
    x = 2990 - 140 * exp (-(x - 2850) / 140);
  return MAX (x, -2047.0);
}

static inline double
limit_metal (double x)
{
  if (x < 3150)
    x = 3000 + 150 * exp ((x - 3150) / 150);
  return MIN (x, 32767.0 - 1024.0);
}

void
mm_phantom_fill_variant (const MmPhantomParams *p, const double half[3], MmVolume *vol,
                         MmMask *truth, MmPhantom *ph)
{
  Scene *sc = mm_phantom_scene_new (p, half);
  int n = p->size, ns = p->slices;
  size_t slice = (size_t) n * n;
  double R = sc->R, px = p->pixel_mm;
  int64_t sum = 0;
  uint64_t n_pad = 0, per_object[MM_PHANTOM_MAX_OBJECTS] = { 0 };
  int lo = G_MAXINT, hi = G_MININT;
#pragma omp parallel
  {
    float *buf = g_new (float, slice), *tmp = g_new (float, slice);
    float *nz = p->noise_sd > 0 ? g_new (float, slice) : NULL;
    Source *src = g_new (Source, MAX_PIECES);
    int ids[MAX_PIECES];
    int64_t l_sum = 0;
    uint64_t l_pad = 0, l_obj[MM_PHANTOM_MAX_OBJECTS] = { 0 };
    int l_lo = G_MAXINT, l_hi = G_MININT;
#pragma omp for schedule (dynamic, 1)
    for (int k = 0; k < ns; k++)
      {
        int16_t *vx = (int16_t *) vol->voxels + (size_t) k * slice;
        uint8_t *m = mm_mask_slice (truth, k);
        double w = k * p->slice_mm - half[2];
        Active ac;
        active_at (sc, w, &ac);
        memset (src, 0, sizeof (Source) * MAX_PIECES);
        for (int j = 0; j < n; j++)
          for (int i = 0; i < n; i++)
            {
              double u = i * px - half[0], v = j * px - half[1];
              size_t x = (size_t) j * n + i;
              if (u * u + v * v > R * R)
                {
                  m[x] = 2; /* padding, for now */
                  buf[x] = MM_PHANTOM_PADDING_HU;
                  continue;
                }
              int pi;
              double halo;
              double hu = metal_at (sc, &ac, v3 (u, v, w), &pi, &halo);
              m[x] = pi >= 0;
              if (pi >= 0)
                {
                  Source *s = &src[pi];
                  s->n++, s->su += u, s->sv += v, s->suu += u * u, s->suv += u * v, s->svv += v * v;
                  l_obj[sc->pieces[pi].object]++;
                }
              else
                hu = tissue_at (sc, &ac, v3 (u, v, w)) + halo;
              buf[x] = (float) hu;
            }
        blur_tissue (buf, tmp, m, n);
        guint64 rng = (p->seed ^ (guint64) p->variant * 0xA24BAED4963EE407ULL)
                        * 0x9E3779B97F4A7C15ULL
                      + (guint64) k * 0xD1B54A32D192ED03ULL;
        int n_src = 0;
        for (int q = 0; q < sc->n_pieces; q++)
          if (src[q].n > 0 && sc->artefacts > 0)
            {
              source_finish (sc, &sc->pieces[q], &src[q], px, rng ^ (guint64) q);
              ids[n_src++] = q;
            }
        if (p->noise_sd > 0) /* after everything else: noise never changes the rest */
          correlated_noise (nz, tmp, n, p->noise_sd, &rng);
        for (int j = 0; j < n; j++)
          for (int i = 0; i < n; i++)
            {
              size_t x = (size_t) j * n + i;
              if (m[x] == 2)
                {
                  m[x] = 0;
                  vx[x] = MM_PHANTOM_PADDING_HU;
                  l_pad++;
                  continue;
                }
              double hu = buf[x];
              if (!m[x] && n_src)
                hu += streaks_at (sc, src, ids, n_src, i * px - half[0], j * px - half[1]);
              int clean = (int) nearbyint (m[x] ? limit_metal (hu) : limit_tissue (hu));
              l_sum += clean;
              l_lo = MIN (l_lo, clean);
              l_hi = MAX (l_hi, clean);
              if (p->noise_sd > 0)
                {
                  hu += nz[x];
                  clean = (int) nearbyint (m[x] ? limit_metal (hu) : limit_tissue (hu));
                }
              vx[x] = (int16_t) clean;
            }
      }
#pragma omp critical
    {
      sum += l_sum;
      n_pad += l_pad;
      lo = MIN (lo, l_lo);
      hi = MAX (hi, l_hi);
      for (int o = 0; o < MM_PHANTOM_MAX_OBJECTS; o++)
        per_object[o] += l_obj[o];
    }
    g_free (buf);
    g_free (tmp);
    g_free (nz);
    g_free (src);
  }

  uint64_t total = (uint64_t) slice * ns;
  ph->n_padding = n_pad;
  ph->min_hu = n_pad ? MIN (lo, MM_PHANTOM_PADDING_HU) : lo;
  ph->max_hu = n_pad == total ? MM_PHANTOM_PADDING_HU : hi;
  ph->mean_hu = ((double) sum + (double) MM_PHANTOM_PADDING_HU * n_pad) / (double) total;
  ph->mean_without_padding_hu = n_pad < total ? (double) sum / (double) (total - n_pad) : 0;
  ph->n_objects = sc->n_objects;
  ph->metal_voxels = 0;
  for (int o = 0; o < sc->n_objects; o++)
    {
      ph->objects[o] = sc->objects[o];
      ph->objects[o].voxels = per_object[o];
      ph->metal_voxels += per_object[o];
    }
  g_autoptr (MmComponents) comps = mm_components_label (truth, 0);
  ph->metal_components = mm_components_count (comps);
  g_free (sc);
}

/* ---- the CT simulator's view of a variant (mm-phantom-physics.c) ---- */

void
mm_phantom_variant_physics_slice (const Scene *sc, const MmPhantomParams *p, const double half[3],
                                  int k, float *tissue_hu, float *metal_frac, int8_t *object)
{
  int n = p->size;
  double px = p->pixel_mm, R = sc->R, w = k * p->slice_mm - half[2];
  Active ac;
  active_at (sc, w, &ac);
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++)
      {
        size_t x = (size_t) j * n + i;
        double u = i * px - half[0], v = j * px - half[1];
        metal_frac[x] = 0, object[x] = -1;
        if (u * u + v * v > R * R)
          {
            tissue_hu[x] = -1000;
            continue;
          }
        /* The tissue the metal displaced, for the metal-free reference. */
        tissue_hu[x] = (float) tissue_at (sc, &ac, v3 (u, v, w));
        bool near = false;
        for (int q = 0; q < ac.n_pieces && !near; q++)
          near = in_bounds (v3 (u, v, w), sc->pieces[ac.pieces[q]].lo,
                            sc->pieces[ac.pieces[q]].hi, px);
        if (!near)
          continue;
        int pi, first = -1, inside = 0;
        double halo;
        metal_at (sc, &ac, v3 (u, v, w), &pi, &halo);
        /* Partial volume: the share of 4 x 4 sub-pixel points inside metal. The truth stays
         * the voxel centre's. */
        for (int s = 0; s < 16; s++)
          {
            double du = ((s & 3) + 0.5) / 4 - 0.5, dv = ((s >> 2) + 0.5) / 4 - 0.5;
            int ps;
            metal_at (sc, &ac, v3 (u + du * px, v + dv * px, w), &ps, &halo);
            if (ps >= 0)
              {
                inside++;
                if (first < 0)
                  first = ps;
              }
          }
        int use = pi >= 0 ? pi : first;
        if (use >= 0)
          {
            metal_frac[x] = inside / 16.0f;
            object[x] = (int8_t) sc->pieces[use].object;
          }
      }
}
