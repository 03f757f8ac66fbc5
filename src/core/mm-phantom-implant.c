/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A phantom variant's metal objects: hip stems, cups, screws, nails, plates, fragments and
 * wires, each a few pieces made of solids, with the halo and streaks each piece gives. */
#include "mm-phantom-implant.h"

static const char *const kind_names[N_KINDS] = { "stem", "cup", "screws", "nail", "plate",
                                                 "fragments", "wires" };

/* Core HU of an object: a third close to the threshold (titanium-like), the others spread
 * up to 25000; arthroplasty parts, mostly cobalt-chrome or steel, more often dense. */
static double
draw_metal_hu (guint64 *r, int kind)
{
  bool joint = kind == K_STEM || kind == K_CUP;
  if (chance (r, joint ? 0.2 : 0.35))
    return rnd (r, 3200, 4500);
  return exp (rnd (r, log (joint ? 6000 : 4500), log (25000)));
}

/* Start a piece of object o; shapes added next belong to it. */
static Piece *
piece_new (Build *bd, int o)
{
  Scene *sc = bd->sc;
  guint64 *r = bd->r;
  if (sc->n_pieces == MAX_PIECES)
    return NULL;
  Piece *pc = &sc->pieces[sc->n_pieces++];
  double hu = sc->objects[o].hu;
  pc->s0 = sc->n_shapes;
  pc->ns = 0;
  pc->object = o;
  pc->hu = hu;
  pc->hu_edge = hu < 4500 ? rnd (r, 3200, hu) : MAX (3200, hu * rnd (r, 0.45, 0.9));
  pc->rise_mm = rnd (r, 0.5, 3);
  double dense = CLAMP ((hu - 3000) / 8000, 0.1, 1.0);
  pc->halo = rnd (r, 200, 1500) * dense;
  pc->halo_mm = rnd (r, 0.5, 1.5);
  pc->streak_mm = rnd (r, 25, 70);
  pc->dark = rnd (r, 300, 1000);
  pc->dark_angle = rnd (r, -0.35, 0.35);
  /* Streak lines through the centroid, alternating bright and dark, each a narrow Gaussian
   * over the angle, both ways from the metal. */
  int lines = rnd_int (r, 4, 14);
  double sign = chance (r, 0.5) ? 1 : -1;
  for (int l = 0; l < lines; l++, sign = -sign)
    {
      double th = rnd (r, 0, G_PI), amp = sign * rnd (r, 200, 800), sd = rnd_deg (r, 0.4, 3);
      for (int bin = 0; bin < STREAK_BINS; bin++)
        {
          double a = (bin + 0.5) * 2 * G_PI / STREAK_BINS - G_PI;
          double da = fmod (fabs (a - th), G_PI); /* both ways: period pi */
          da = MIN (da, G_PI - da);
          pc->streak[bin] += (float) (amp * exp (-da * da / (2 * sd * sd)));
        }
    }
  return pc;
}

static void
piece_add (Build *bd, Piece *pc, Shape sh)
{
  Scene *sc = bd->sc;
  if (pc == NULL || sc->n_shapes == MAX_SHAPES)
    return;
  g_assert (pc->s0 + pc->ns == sc->n_shapes);
  sc->shapes[sc->n_shapes++] = sh;
  double m = 6 * pc->halo_mm;
  V3 lo = v_sub (sh.lo, v3 (m, m, m)), hi = v_add (sh.hi, v3 (m, m, m));
  if (pc->ns++ == 0)
    pc->lo = lo, pc->hi = hi;
  pc->lo = v3 (MIN (pc->lo.x, lo.x), MIN (pc->lo.y, lo.y), MIN (pc->lo.z, lo.z));
  pc->hi = v3 (MAX (pc->hi.x, hi.x), MAX (pc->hi.y, hi.y), MAX (pc->hi.z, hi.z));
}

/* A screw: a shaft from a to b with a head at a, sometimes. */
static void
add_screw (Build *bd, Piece *pc, V3 a, V3 b, double r, double head)
{
  piece_add (bd, pc, sh_cone (a, r, b, r * 0.8));
  if (head > 0)
    piece_add (bd, pc, sh_sphere (a, r * head));
}

/* A height for an object's centre: in the volume, below the metal-free top. */
static double
pick_w (Build *bd)
{
  Scene *sc = bd->sc;
  return rnd (bd->r, -sc->L, MIN (sc->L, sc->w_cut - 5 * sc->s));
}

/* A point of soft tissue at height w, well inside the body. */
static V3
body_point (Build *bd, double w)
{
  Scene *sc = bd->sc;
  double rho = 0.8 * sqrt (mm_uniform01 (bd->r)), a = rnd (bd->r, 0, 2 * G_PI);
  if (w >= sc->w_split)
    return v3 (sc->cu + rho * sc->a * cos (a), sc->cv + rho * sc->b * sin (a), w);
  int t = chance (bd->r, 0.5);
  return v3 (sc->thigh_u[t] + rho * sc->thigh_a * cos (a),
             sc->thigh_v + rho * sc->thigh_b * sin (a), w);
}

static void
build_stem (Build *bd, int o, Femur *f)
{
  guint64 *r = bd->r;
  double s = bd->sc->s;
  Piece *pc = piece_new (bd, o);
  double len = rnd (r, 110, 160) * s, rp = rnd (r, 6, 9) * s, rt = rnd (r, 3.5, 5) * s;
  double off = rnd (r, 1.5, 4) * s; /* two cones side by side: a flat, tapering stem */
  V3 top = v_axpy (v_add (f->junction, v3 (0, 0, rnd (r, 4, 12) * s)), -rnd (r, 0, 4) * s, f->lat);
  V3 tip = v_axpy (top, len, f->dir);
  piece_add (bd, pc, sh_cone (v_axpy (top, off, f->lat), rp, v_axpy (tip, 0.3 * off, f->lat), rt));
  piece_add (bd, pc,
             sh_cone (v_axpy (top, -off, f->lat), rp, v_axpy (tip, -0.3 * off, f->lat), rt));
  f->ball = v_add (f->head, v3 (rnd (r, -2, 2) * s, rnd (r, -2, 2) * s, rnd (r, -2, 2) * s));
  f->ball_r = chance (r, 0.25) ? rnd (r, 20, 26) * s : rnd (r, 11, 16) * s;
  piece_add (bd, pc, sh_cone (top, rnd (r, 6, 8) * s, f->ball, rnd (r, 5, 6) * s));
  piece_add (bd, pc, sh_sphere (f->ball, f->ball_r));
  if (chance (r, 0.4)) /* a cement mantle round the stem */
    add_solid (bd->sc->inserts, &bd->sc->n_inserts, G_N_ELEMENTS (bd->sc->inserts),
               sh_cone (top, rp + off + rnd (r, 2, 4) * s, v_axpy (tip, 6 * s, f->dir),
                        rt + rnd (r, 2, 3) * s),
               0, rnd (r, 1200, 2600), 0);
  f->stem = true;
}

static void
build_cup (Build *bd, int o, Femur *f)
{
  guint64 *r = bd->r;
  Scene *sc = bd->sc;
  double s = sc->s;
  Piece *pc = piece_new (bd, o);
  V3 c = f->stem ? f->ball : f->head;
  double rin = f->stem ? f->ball_r + rnd (r, 3, 8) * s : f->head_r + rnd (r, 0.5, 1.5) * s;
  double th = rnd (r, 3, 6) * s, al = rnd_deg (r, 35, 55), be = rnd_deg (r, 5, 25);
  V3 n = v3 (f->side * sin (al) * cos (be), -sin (be), -cos (al) * cos (be));
  piece_add (bd, pc, sh_shell (c, n, rin, rin + th));
  if (f->stem) /* the polyethylene liner between ball and cup */
    add_solid (sc->inserts, &sc->n_inserts, G_N_ELEMENTS (sc->inserts),
               sh_shell (c, n, f->ball_r, rin), 0, rnd (r, -100, -40), 0);
  int screws = chance (r, 0.5) ? rnd_int (r, 1, 3) : 0;
  for (int i = 0; i < screws; i++)
    {
      V3 d = v_unit (v_add (v_add (v_mul (n, -1), v_mul (rnd_unit (r), 0.35)), v3 (0, 0, 0.4)));
      add_screw (bd, pc, v_axpy (c, rin + 0.5 * th, d),
                 v_axpy (c, rin + th + rnd (r, 20, 40) * s, d), rnd (r, 2.5, 3.25) * s, 0);
    }
  f->cup = true;
  f->socket_r = rin + th + 1.5 * s;
}

static void
build_screws (Build *bd, int o, int side)
{
  guint64 *r = bd->r;
  double s = bd->sc->s;
  int n = rnd_int (r, 1, 3);
  Femur *f = side >= 0 ? &bd->f[side] : NULL;
  if (f && !f->stem && !f->nail)
    {
      /* Cannulated screws along the femoral neck, parallel. */
      V3 base
          = v_axpy (v_axpy (f->junction, rnd (r, 10, 25) * s, f->dir), f->shaft_r + 3 * s, f->lat);
      V3 ax = v_unit (v_sub (f->head, base));
      double len = v_len (v_sub (f->head, base)) + rnd (r, -5, 10) * s, rs = rnd (r, 3, 3.5) * s;
      for (int i = 0; i < n; i++)
        {
          V3 st = v_axpy (base, rnd (r, 0, 9) * s, rnd_perp (r, ax));
          add_screw (bd, piece_new (bd, o), st, v_axpy (st, len, ax), rs,
                     chance (r, 0.6) ? 1.4 : 0);
        }
      return;
    }
  double w = pick_w (bd);
  V3 c = body_point (bd, w);
  if (f && chance (r, 0.5)) /* about the acetabulum and ilium */
    {
      c = v_add (f->head, v3 (f->side * rnd (r, -10, 25) * s, rnd (r, -25, 25) * s, 0));
      c.z = w;
    }
  for (int i = 0; i < n; i++)
    {
      V3 st = v_axpy (c, rnd (r, 0, 15) * s, rnd_unit (r)), d = rnd_unit (r);
      add_screw (bd, piece_new (bd, o), st, v_axpy (st, rnd (r, 25, 90) * s, d),
                 rnd (r, 1.75, 3.5) * s, chance (r, 0.7) ? 1.7 : 0);
    }
}

static void
build_nail (Build *bd, int o, Femur *f)
{
  guint64 *r = bd->r;
  double s = bd->sc->s;
  Piece *pc = piece_new (bd, o);
  V3 top = v_axpy (v_add (f->junction, v3 (0, 0, rnd (r, 15, 30) * s)), rnd (r, 0, 5) * s, f->lat);
  double rn = rnd (r, 4.5, 6.5) * s;
  piece_add (bd, pc, sh_cone (top, rn, v_axpy (top, rnd (r, 180, 380) * s, f->dir), rn * 0.85));
  if (chance (r, 0.7)) /* lag screw up the neck into the head */
    {
      V3 base = v_axpy (f->junction, rnd (r, 8, 20) * s, f->dir);
      V3 ax = v_unit (v_sub (f->head, base));
      add_screw (bd, pc, v_axpy (base, -rnd (r, 25, 35) * s, ax),
                 v_axpy (f->head, -rnd (r, 5, 10) * s, ax), rnd (r, 4.5, 5.5) * s, 0);
    }
  if (chance (r, 0.6)) /* distal locking screw across the shaft */
    {
      V3 q = shaft_at (f, pick_w (bd));
      double g = rnd_deg (r, -30, 30), h = f->shaft_r + 8 * s;
      V3 m = v_axpy (v_mul (f->lat, cos (g)), sin (g), v3 (0, 1, 0));
      piece_add (bd, pc, sh_cone (v_axpy (q, -h, m), 2.5 * s, v_axpy (q, h, m), 2.5 * s));
    }
  f->nail = true;
}

static void
build_plate (Build *bd, int o, Femur *f)
{
  guint64 *r = bd->r;
  double s = bd->sc->s;
  Piece *pc = piece_new (bd, o);
  double th = rnd (r, 1.5, 2.5) * s, len = rnd (r, 35, 90) * s;
  V3 c, e0, e1;
  if (chance (r, 0.65)) /* on the lateral side of the femur */
    {
      e0 = f->dir;
      e1 = f->lat;
      c = v_axpy (shaft_at (f, pick_w (bd)), f->shaft_r + th + 0.3 * s, e1);
    }
  else /* somewhere on the pelvis, any direction */
    {
      e0 = rnd_unit (r);
      e1 = rnd_perp (r, e0);
      c = v_add (f->head, v3 (f->side * rnd (r, 0, 25) * s, rnd (r, -30, 30) * s, 0));
      c.z = pick_w (bd);
      len = rnd (r, 25, 60) * s;
    }
  piece_add (bd, pc, sh_box (c, e0, e1, len, th, rnd (r, 5.5, 8) * s));
  int n = rnd_int (r, 2, 5);
  for (int i = 0; i < n; i++)
    {
      V3 p = v_axpy (c, len * (-0.8 + 1.6 * (i + 0.5) / n), e0);
      add_screw (bd, pc, v_axpy (p, th + 0.5 * s, e1),
                 v_axpy (p, -(2 * f->shaft_r + rnd (r, 0, 10) * s), e1), rnd (r, 1.75, 2.5) * s,
                 chance (r, 0.8) ? 1.8 : 0);
    }
}

static void
build_fragments (Build *bd, int o)
{
  guint64 *r = bd->r;
  double s = bd->sc->s;
  int n = rnd_int (r, 1, 6);
  bool cluster = chance (r, 0.5);
  V3 c = body_point (bd, pick_w (bd));
  for (int i = 0; i < n; i++)
    {
      Piece *pc = piece_new (bd, o);
      V3 p = cluster ? v_axpy (c, rnd (r, 0, 20) * s, rnd_unit (r)) : body_point (bd, pick_w (bd));
      double k = mm_uniform01 (r);
      if (k < 0.4)
        piece_add (bd, pc, sh_sphere (p, rnd (r, 0.6, 2.5) * s));
      else if (k < 0.75)
        {
          double rr = rnd (r, 0.4, 1.3) * s;
          piece_add (bd, pc, sh_cone (p, rr, v_axpy (p, rnd (r, 2, 10) * s, rnd_unit (r)), rr));
        }
      else /* a clip */
        {
          V3 e0 = rnd_unit (r);
          piece_add (bd, pc, sh_box (p, e0, rnd_perp (r, e0), rnd (r, 1, 3) * s,
                                     rnd (r, 0.3, 0.6) * s, rnd (r, 0.8, 2) * s));
        }
    }
}

static void
build_wires (Build *bd, int o, Femur *f)
{
  guint64 *r = bd->r;
  double s = bd->sc->s;
  int n = rnd_int (r, 1, 3);
  bool cerclage = chance (r, 0.6);
  for (int i = 0; i < n; i++)
    {
      Piece *pc = piece_new (bd, o);
      if (cerclage) /* a wire round the femur */
        {
          V3 ax = v_unit (v_axpy (f->dir, rnd (r, 0, 0.35), rnd_unit (r)));
          piece_add (bd, pc, sh_torus (shaft_at (f, pick_w (bd)), ax,
                                       f->shaft_r + rnd (r, 0.3, 1.5) * s, rnd (r, 0.6, 1.1) * s));
        }
      else /* a K-wire */
        {
          V3 p = body_point (bd, pick_w (bd));
          double rr = rnd (r, 0.8, 1.25) * s;
          piece_add (bd, pc, sh_cone (p, rr, v_axpy (p, rnd (r, 50, 150) * s, rnd_unit (r)), rr));
        }
    }
}

int
mm_phantom_implants_choose (Build *bd, int variant, int kinds[], int sides[])
{
  guint64 *r = bd->r;
  if (variant % 10 == 0)
    return 0; /* a negative: no metal at all */
  double u = mm_uniform01 (r);
  int n = u < 0.35 ? 1 : u < 0.7 ? 2 : u < 0.9 ? 3 : 4;
  bool stem[2] = { false, false }, cup[2] = { false, false }, nail[2] = { false, false };
  static const double weight[N_KINDS] = { 0.6, 2, 2, 1, 1.2, 2, 1 }; /* sum 9.8 */
  bool stem_first = chance (r, 0.65);
  for (int o = 0; o < n; o++)
    {
      int k = K_FRAGMENTS, side = 0;
      for (int tries = 0; tries < 10; tries++)
        {
          double x = mm_uniform01 (r) * 9.8;
          for (k = 0; k < N_KINDS - 1 && x >= weight[k]; k++)
            x -= weight[k];
          if (o == 0 && stem_first)
            k = K_STEM;
          side = rnd_int (r, 0, 1);
          /* A cup goes on a stem's side; a stem or a nail on a free femur. */
          if (k == K_CUP && stem[1 - side] && !cup[1 - side] && !(stem[side] && !cup[side]))
            side = 1 - side;
          if ((k == K_STEM || k == K_NAIL) && (stem[side] || nail[side]))
            side = 1 - side;
          bool busy = stem[side] || nail[side];
          if (!((k == K_STEM || k == K_NAIL) && busy) && !(k == K_CUP && (cup[side] || nail[side])))
            break;
          k = K_FRAGMENTS;
        }
      stem[side] |= k == K_STEM;
      nail[side] |= k == K_NAIL;
      cup[side] |= k == K_CUP;
      kinds[o] = k;
      sides[o] = side;
    }
  /* Build stems first: a cup sits on the ball of a stem on its side. */
  for (int o = 1; o < n; o++)
    for (int q = o; q > 0 && kinds[q] == K_STEM && kinds[q - 1] != K_STEM; q--)
      {
        int tk = kinds[q], ts = sides[q];
        kinds[q] = kinds[q - 1], sides[q] = sides[q - 1];
        kinds[q - 1] = tk, sides[q - 1] = ts;
      }
  return n;
}

void
mm_phantom_implant_build (Build *bd, int o, int kind, int side)
{
  guint64 *r = bd->r;
  Scene *sc = bd->sc;
  sc->objects[o] = (MmPhantomObject) { kind_names[kind], draw_metal_hu (r, kind), 0 };
  Femur *f = &bd->f[side];
  switch (kind)
    {
    case K_STEM: build_stem (bd, o, f); break;
    case K_CUP: build_cup (bd, o, f); break;
    case K_SCREWS: build_screws (bd, o, chance (r, 0.6) ? side : -1); break;
    case K_NAIL: build_nail (bd, o, f); break;
    case K_PLATE: build_plate (bd, o, f); break;
    case K_FRAGMENTS: build_fragments (bd, o); break;
    default: build_wires (bd, o, f); break;
    }
}
