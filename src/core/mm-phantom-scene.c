/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A phantom variant's scene, drawn at random: the body, its bones and organs, arms and table
 * (see mm-phantom-variant.c for what a variant holds), and the metal objects placed in it
 * (mm-phantom-implant.c). The draws' order is part of the phantom: changing it changes every
 * variant. */
#include "mm-phantom-implant.h"

static void
build_anatomy_frame (Build *bd)
{
  Scene *sc = bd->sc;
  guint64 *r = bd->r;
  double s = sc->s;
  sc->cu = rnd (r, -10, 10) * s;
  sc->cv = rnd (r, -5, 15) * s;
  sc->a = rnd (r, 150, 195) * s;
  sc->b = sc->a * rnd (r, 0.62, 0.8);
  sc->fat_mm = rnd (r, 6, 30) * s;
  sc->muscle_hu = rnd (r, 25, 65);
  sc->fat_hu = rnd (r, -120, -80);
  sc->cortex_hu = rnd (r, 800, 1900);
  sc->marrow_hu = rnd (r, 100, 400);
  bd->w_hip = rnd (r, -sc->L + 5 * s, sc->L + 40 * s);
  sc->w_split = bd->w_hip - rnd (r, 45, 85) * s;
  sc->taper_mm = rnd (r, 40, 90) * s;
  double tilt = rnd_deg (r, -4, 8); /* the femurs may lean: oblique stems and nails */
  for (int i = 0; i < 2; i++)
    {
      Femur *f = &bd->f[i];
      int sd = f->side = 2 * i - 1;
      f->head = v3 (sc->cu + sd * sc->a * rnd (r, 0.42, 0.5), sc->cv + sc->b * rnd (r, -0.2, -0.02),
                    bd->w_hip + rnd (r, -3, 3) * s);
      f->head_r = rnd (r, 21, 26) * s;
      double neck = rnd_deg (r, 35, 50);
      V3 nd = v_unit (v3 (sd * cos (neck), rnd (r, 0.05, 0.35), -sin (neck)));
      f->junction = v_axpy (f->head, rnd (r, 45, 58) * s, nd);
      double phi = rnd_deg (r, 4, 10) + tilt;
      f->dir = v_unit (v3 (-sd * tan (phi), rnd (r, -0.08, 0.08), -1));
      f->lat = v_mul (v_unit (v_cross (f->dir, v3 (0, 1, 0))), sd);
      f->shaft_r = rnd (r, 12, 15) * s;
      f->cortex = rnd (r, 4, 7) * s;
      f->socket_r = f->head_r + 1.5 * s;
      V3 knee = shaft_at (f, sc->w_split - 50 * s);
      sc->thigh_u[i] = knee.x + sd * rnd (r, 0, 12) * s;
    }
  sc->thigh_v = sc->cv + rnd (r, -5, 10) * s;
  sc->thigh_a = sc->a * rnd (r, 0.4, 0.48);
  sc->thigh_b = sc->thigh_a * rnd (r, 0.85, 1.05);
}

static void
build_anatomy_solids (Build *bd)
{
  Scene *sc = bd->sc;
  guint64 *r = bd->r;
  double s = sc->s, cx = sc->cortex_hu, mw = sc->marrow_hu;
#define BONE(shape, mm) \
  add_solid (sc->bones, &sc->n_bones, MAX_SOLIDS, shape, \
             CLAMP (cx + rnd (r, -150, 150), 800, 1900), mw, mm)
  for (int i = 0; i < 2; i++)
    {
      Femur *f = &bd->f[i];
      int sd = f->side;
      BONE (sh_cone (v_add (f->junction, v3 (0, 0, 8 * s)), f->shaft_r + 3 * s,
                     v_axpy (f->junction, 450 * s, f->dir), f->shaft_r * 0.9),
            f->cortex);
      BONE (sh_sphere (v_add (v_axpy (f->junction, rnd (r, 8, 14) * s, f->lat),
                              v3 (0, rnd (r, 0, 8) * s, rnd (r, 6, 14) * s)),
                       rnd (r, 14, 19) * s),
            rnd (r, 1.5, 2.5) * s);
      if (!f->stem)
        {
          BONE (sh_cone (f->head, 0.6 * f->head_r, f->junction, f->shaft_r + 2 * s), 2 * s);
          BONE (sh_sphere (f->head, f->head_r), rnd (r, 1.5, 2.5) * s);
        }
      else
        f->socket_r = MAX (f->socket_r, f->ball_r + 1.5 * s);
      double al = rnd_deg (r, 40, 55), be = rnd_deg (r, 5, 20);
      V3 n = v3 (sd * sin (al) * cos (be), -sin (be), -cos (al) * cos (be));
      V3 c = f->stem ? f->ball : f->head;
      BONE (sh_shell (c, n, f->socket_r, f->socket_r + rnd (r, 5, 9) * s), 2 * s);
      /* Ilium: a thin plate rising from the acetabulum, leaning out. */
      double psi = rnd_deg (r, 35, 60);
      V3 e0 = v3 (sd * cos (psi), -sin (psi), 0), up = v3 (sd * rnd (r, 0.1, 0.35), 0, 1);
      V3 e1 = v_unit (v_axpy (up, -v_dot (up, e0), e0));
      BONE (sh_box (v_add (f->head,
                           v3 (sd * rnd (r, 5, 20) * s, rnd (r, 5, 25) * s, rnd (r, 55, 80) * s)),
                    e0, e1, rnd (r, 40, 60) * s, rnd (r, 45, 65) * s, rnd (r, 4, 8) * s),
            2 * s);
      /* Pubic ramus to the symphysis, ischium down and back. */
      BONE (sh_cone (v_add (f->head, v3 (-sd * 12 * s, -18 * s, -12 * s)), 10 * s,
                     v3 (sc->cu + sd * rnd (r, 6, 12) * s, f->head.y - rnd (r, 35, 55) * s,
                         bd->w_hip - rnd (r, 12, 25) * s),
                     8 * s),
            2 * s);
      BONE (sh_cone (v_add (f->head, v3 (-sd * 6 * s, 16 * s, -12 * s)), 12 * s,
                     v_add (f->head, v3 (-sd * rnd (r, 8, 20) * s, rnd (r, 22, 40) * s,
                                         -rnd (r, 45, 65) * s)),
                     rnd (r, 9, 13) * s),
            2 * s);
    }
  /* Sacrum, tilting forward as it rises. */
  BONE (sh_box (v3 (sc->cu, sc->cv + 0.5 * sc->b, bd->w_hip + rnd (r, 55, 85) * s), v3 (1, 0, 0),
                v_unit (v3 (0, -rnd (r, 0.3, 0.7), 1)), rnd (r, 35, 50) * s, rnd (r, 45, 60) * s,
                rnd (r, 12, 20) * s),
        2 * s);
#undef BONE

  /* Inside the body: gas, bladder, darker and brighter muscle groups, fat. */
#define ORGAN(shape, hu) add_solid (sc->organs, &sc->n_organs, MAX_SOLIDS, shape, hu, hu, 0)
  int gas = rnd_int (r, 0, 8);
  for (int i = 0; i < gas; i++)
    ORGAN (
        sh_ellipsoid (v3 (sc->cu + sc->a * rnd (r, -0.5, 0.5), sc->cv + sc->b * rnd (r, -0.6, 0.25),
                          bd->w_hip + rnd (r, 10, 160) * s),
                      rnd (r, 6, 22) * s, rnd (r, 6, 18) * s, rnd (r, 8, 30) * s),
        rnd (r, -1000, -900));
  if (chance (r, 0.4))
    ORGAN (sh_ellipsoid (v3 (sc->cu, sc->cv + 0.3 * sc->b, bd->w_hip - rnd (r, 0, 30) * s),
                         rnd (r, 8, 15) * s, rnd (r, 6, 12) * s, rnd (r, 15, 30) * s),
           rnd (r, -1000, -900));
  if (chance (r, 0.7))
    ORGAN (sh_ellipsoid (v3 (sc->cu + rnd (r, -10, 10) * s, sc->cv - sc->b * rnd (r, 0.3, 0.45),
                             bd->w_hip + rnd (r, -15, 10) * s),
                         rnd (r, 30, 55) * s, rnd (r, 22, 38) * s, rnd (r, 25, 45) * s),
           rnd (r, 0, 20));
  int groups = rnd_int (r, 3, 9);
  for (int i = 0; i < groups; i++)
    {
      bool fat = i % 3 == 2;
      double k = fat ? 0.5 : 1;
      ORGAN (sh_ellipsoid (v3 (sc->cu + sc->a * rnd (r, -0.7, 0.7),
                               sc->cv + sc->b * rnd (r, -0.7, 0.7),
                               bd->w_hip + rnd (r, -120, 120) * s),
                           k * rnd (r, 15, 50) * s, k * rnd (r, 15, 40) * s, rnd (r, 40, 120) * s),
             fat ? sc->fat_hu : CLAMP (sc->muscle_hu + rnd (r, -25, 20), 0, 80));
    }
#undef ORGAN

  double R = sc->R;
  sc->arm_a = rnd (r, 24, 36) * s;
  sc->arm_b = sc->arm_a * rnd (r, 0.85, 1.1);
  double au = sc->a + rnd (r, 10, 35) * s + sc->arm_a;
  sc->arm_u[0] = sc->cu - au;
  sc->arm_u[1] = sc->cu + au;
  sc->arm_v = sc->cv + sc->b * rnd (r, -0.3, 0.35);
  sc->arm_bone_du = rnd (r, -5, 5) * s;
  sc->arm_bone_dv = rnd (r, -5, 5) * s;
  sc->arm_bone_r = rnd (r, 7, 11) * s;
  sc->arm_cortex = rnd (r, 2.5, 4) * s;
  sc->arms = chance (r, 0.5) && fabs (au) + fabs (sc->cu) + 0.3 * sc->arm_a < R;

  sc->table = chance (r, 0.85);
  sc->table_v = MAX (sc->cv + sc->b, sc->thigh_v + sc->thigh_b) + rnd (r, 1, 10) * s;
  sc->table_r = rnd (r, 350, 700) * s;
  sc->table_t1 = rnd (r, 1.5, 3) * s;
  sc->table_gap = rnd (r, 20, 45) * s;
  sc->table_t2 = rnd (r, 2, 4) * s;
  sc->table_half = R * rnd (r, 0.5, 0.8);
  sc->table_hu = rnd (r, 100, 400);
}

Scene *
mm_phantom_scene_new (const MmPhantomParams *p, const double half[3])
{
  Scene *sc = g_new0 (Scene, 1);
  guint64 rng = p->seed * 0x9E3779B97F4A7C15ULL ^ (guint64) p->variant * 0xC2B2AE3D27D4EB4FULL;
  mm_splitmix64 (&rng);
  Build bd = { .sc = sc, .r = &rng };
  guint64 *r = &rng;
  sc->R = 0.5 * p->size * p->pixel_mm;
  sc->L = half[2];
  sc->s = MIN (1.0, sc->R / 235.0); /* a smaller field of view holds a smaller patient */
  sc->artefacts = chance (r, 0.1) ? 0 : rnd (r, 0.3, 1);
  sc->band_hu = rnd (r, 200, 600);
  build_anatomy_frame (&bd);

  int kinds[4], sides[4];
  int n = mm_phantom_implants_choose (&bd, p->variant, kinds, sides);
  sc->w_cut = G_MAXDOUBLE;
  if (n > 0 && chance (r, 0.6)) /* metal-free slices at the top, above any hip */
    {
      sc->w_cut = sc->L - rnd (r, 0.1, 0.3) * 2 * sc->L;
      for (int o = 0; o < n; o++)
        if (kinds[o] == K_STEM || kinds[o] == K_CUP)
          sc->w_cut = MAX (sc->w_cut, bd.w_hip + 35 * sc->s);
    }
  for (int o = 0; o < n; o++)
    mm_phantom_implant_build (&bd, o, kinds[o], sides[o]);
  sc->n_objects = n;
  for (int i = 0; i < sc->n_pieces; i++)
    sc->pieces[i].hi.z = MIN (sc->pieces[i].hi.z, sc->w_cut);
  build_anatomy_solids (&bd);
  return sc;
}
