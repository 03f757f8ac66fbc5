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
 * the reference rule of real data. Partial-volume edges are not modelled for the same reason. */
#include "mm-phantom-private.h"

#include "mm-components.h"

#include <math.h>
#include <omp.h>
#include <string.h>

typedef struct
{
  double x, y, z; /* u, v, w: mm along row, column and normal; +u left, +v posterior, +w up */
} V3;

static inline V3 v3 (double x, double y, double z) { return (V3) { x, y, z }; }
static inline V3 v_add (V3 a, V3 b) { return v3 (a.x + b.x, a.y + b.y, a.z + b.z); }
static inline V3 v_sub (V3 a, V3 b) { return v3 (a.x - b.x, a.y - b.y, a.z - b.z); }
static inline V3 v_mul (V3 a, double k) { return v3 (a.x * k, a.y * k, a.z * k); }
static inline V3
v_axpy (V3 a, double k, V3 b) /* a + k b */
{
  return v3 (a.x + k * b.x, a.y + k * b.y, a.z + k * b.z);
}
static inline double v_dot (V3 a, V3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static inline double v_len (V3 a) { return sqrt (v_dot (a, a)); }
static inline V3 v_unit (V3 a) { return v_mul (a, 1.0 / v_len (a)); }
static inline V3
v_cross (V3 a, V3 b)
{
  return v3 (a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}

static double rnd (guint64 *r, double lo, double hi) { return lo + (hi - lo) * uniform01 (r); }
static bool chance (guint64 *r, double p) { return uniform01 (r) < p; }
static int
rnd_int (guint64 *r, int lo, int hi) /* lo..hi inclusive */
{
  return lo + (int) (uniform01 (r) * (hi - lo + 1));
}
static double rnd_deg (guint64 *r, double lo, double hi) { return rnd (r, lo, hi) * G_PI / 180; }

static V3
rnd_unit (guint64 *r)
{
  double z = rnd (r, -1, 1), a = rnd (r, 0, 2 * G_PI), s = sqrt (1 - z * z);
  return v3 (s * cos (a), s * sin (a), z);
}

/* A unit vector perpendicular to the unit vector a, at a random angle about it. */
static V3
rnd_perp (guint64 *r, V3 a)
{
  V3 t = fabs (a.x) < 0.9 ? v3 (1, 0, 0) : v3 (0, 1, 0);
  V3 e1 = v_unit (v_cross (a, t)), e2 = v_cross (a, e1);
  double g = rnd (r, 0, 2 * G_PI);
  return v_axpy (v_mul (e1, cos (g)), sin (g), e2);
}

typedef enum { SH_SPHERE, SH_CONE, SH_BOX, SH_SHELL, SH_TORUS, SH_ELLIPSOID } ShapeKind;

/* A solid known by its signed distance (mm, negative inside). */
typedef struct
{
  ShapeKind kind;
  V3 a, b;       /* cone: the two ends; the others: a is the centre */
  V3 e[3];       /* box: its axes; shell: e[0] the opening; torus: e[0] its axis */
  double r1, r2; /* sphere: r1; cone: radii at a, b; shell: inner, outer; torus: ring, wire;
                  * box: r1 rounds its edges */
  double h[3];   /* box half sizes along e[], ellipsoid radii along u, v, w */
  V3 lo, hi;     /* bounds */
} Shape;

static void
shape_bounds (Shape *s)
{
  V3 ext;
  switch (s->kind)
    {
    case SH_CONE:
      s->lo = v3 (MIN (s->a.x - s->r1, s->b.x - s->r2), MIN (s->a.y - s->r1, s->b.y - s->r2),
                  MIN (s->a.z - s->r1, s->b.z - s->r2));
      s->hi = v3 (MAX (s->a.x + s->r1, s->b.x + s->r2), MAX (s->a.y + s->r1, s->b.y + s->r2),
                  MAX (s->a.z + s->r1, s->b.z + s->r2));
      return;
    case SH_BOX:
      ext = v3 (0, 0, 0);
      for (int i = 0; i < 3; i++)
        ext = v_add (ext, v3 (fabs (s->e[i].x) * s->h[i], fabs (s->e[i].y) * s->h[i],
                              fabs (s->e[i].z) * s->h[i]));
      break;
    case SH_ELLIPSOID:
      ext = v3 (s->h[0], s->h[1], s->h[2]);
      break;
    case SH_TORUS:
      ext = v3 (s->r1 + s->r2, s->r1 + s->r2, s->r1 + s->r2);
      break;
    case SH_SHELL:
      ext = v3 (s->r2, s->r2, s->r2);
      break;
    default:
      ext = v3 (s->r1, s->r1, s->r1);
      break;
    }
  s->lo = v_sub (s->a, ext);
  s->hi = v_add (s->a, ext);
}

static Shape
sh_sphere (V3 c, double r)
{
  Shape s = { .kind = SH_SPHERE, .a = c, .r1 = r };
  shape_bounds (&s);
  return s;
}

/* A round cone: spheres of radius ra at a and rb at b and the cone tangent to both. */
static Shape
sh_cone (V3 a, double ra, V3 b, double rb)
{
  g_assert (fabs (ra - rb) < v_len (v_sub (b, a)));
  Shape s = { .kind = SH_CONE, .a = a, .b = b, .r1 = ra, .r2 = rb };
  shape_bounds (&s);
  return s;
}

/* A box along the unit axes e0 and e1 (perpendicular) and e0 x e1, its edges rounded by a
 * third of its thinnest half size. */
static Shape
sh_box (V3 c, V3 e0, V3 e1, double h0, double h1, double h2)
{
  Shape s = { .kind = SH_BOX, .a = c, .e = { e0, e1, v_cross (e0, e1) }, .h = { h0, h1, h2 },
              .r1 = MIN (MIN (h0, h1), h2) / 3 };
  shape_bounds (&s);
  return s;
}

/* The half of a spherical shell (radii rin..rout about c) facing away from the opening. */
static Shape
sh_shell (V3 c, V3 opening, double rin, double rout)
{
  Shape s = { .kind = SH_SHELL, .a = c, .e = { opening }, .r1 = rin, .r2 = rout };
  shape_bounds (&s);
  return s;
}

static Shape
sh_torus (V3 c, V3 axis, double ring, double wire)
{
  Shape s = { .kind = SH_TORUS, .a = c, .e = { axis }, .r1 = ring, .r2 = wire };
  shape_bounds (&s);
  return s;
}

static Shape
sh_ellipsoid (V3 c, double ru, double rv, double rw)
{
  Shape s = { .kind = SH_ELLIPSOID, .a = c, .h = { ru, rv, rw } };
  shape_bounds (&s);
  return s;
}

/* Signed distance (exact for all but the shell's rim and the ellipsoid, which only need the
 * right sign). */
static double
shape_sdf (const Shape *s, V3 p)
{
  V3 d = v_sub (p, s->a);
  switch (s->kind)
    {
    case SH_SPHERE:
      return v_len (d) - s->r1;
    case SH_CONE:
      {
        /* Inigo Quilez's round cone. */
        V3 ba = v_sub (s->b, s->a);
        double l2 = v_dot (ba, ba), rr = s->r1 - s->r2, a2 = l2 - rr * rr, il2 = 1.0 / l2;
        double y = v_dot (d, ba), z = y - l2;
        V3 q = v_sub (v_mul (d, l2), v_mul (ba, y));
        double x2 = v_dot (q, q), y2 = y * y * l2, z2 = z * z * l2;
        double k = (rr > 0 ? 1 : rr < 0 ? -1 : 0) * rr * rr * x2;
        if ((z > 0 ? 1 : z < 0 ? -1 : 0) * a2 * z2 > k)
          return sqrt (x2 + z2) * il2 - s->r2;
        if ((y > 0 ? 1 : y < 0 ? -1 : 0) * a2 * y2 < k)
          return sqrt (x2 + y2) * il2 - s->r1;
        return (sqrt (x2 * a2 * il2) + y * rr) * il2 - s->r1;
      }
    case SH_BOX:
      {
        double out = 0, in = -G_MAXDOUBLE;
        for (int i = 0; i < 3; i++)
          {
            double q = fabs (v_dot (d, s->e[i])) - (s->h[i] - s->r1);
            out += q > 0 ? q * q : 0;
            in = MAX (in, q);
          }
        return sqrt (out) + MIN (in, 0.0) - s->r1;
      }
    case SH_SHELL:
      return MAX (fabs (v_len (d) - 0.5 * (s->r1 + s->r2)) - 0.5 * (s->r2 - s->r1),
                  v_dot (d, s->e[0]));
    case SH_TORUS:
      {
        double ax = v_dot (d, s->e[0]);
        return hypot (sqrt (MAX (v_dot (d, d) - ax * ax, 0.0)) - s->r1, ax) - s->r2;
      }
    case SH_ELLIPSOID:
      {
        double qx = d.x / s->h[0], qy = d.y / s->h[1], qz = d.z / s->h[2];
        return (sqrt (qx * qx + qy * qy + qz * qz) - 1) * MIN (MIN (s->h[0], s->h[1]), s->h[2]);
      }
    }
  g_assert_not_reached ();
}

static inline bool
in_bounds (V3 p, V3 lo, V3 hi, double margin)
{
  return p.x >= lo.x - margin && p.x <= hi.x + margin && p.y >= lo.y - margin
         && p.y <= hi.y + margin && p.z >= lo.z - margin && p.z <= hi.z + margin;
}

/* Tissue in one solid: shell_hu within shell_mm of its surface, core_hu deeper (bone: cortex
 * around marrow). */
typedef struct
{
  Shape sh;
  double shell_hu, core_hu, shell_mm;
} Solid;

#define STREAK_BINS 1024
#define MAX_SHAPES 96
#define MAX_PIECES 24
#define MAX_SOLIDS 40

/* A connected piece of metal, union of shapes: its streaks come from its cross-section. */
typedef struct
{
  int s0, ns;              /* its shapes in Scene.shapes */
  V3 lo, hi;               /* bounds, halo included */
  int object;              /* the reported object it belongs to */
  double hu, hu_edge, rise_mm; /* HU at depth d: edge + (hu - edge) (1 - exp (-d / rise)) */
  double halo, halo_mm;    /* blooming outside: halo * exp (-distance / halo_mm) */
  double streak_mm, dark, dark_angle; /* decay of its streaks; dark band along its long axis */
  float streak[STREAK_BINS]; /* streaks over the angle about its centroid, HU at strength 1 */
} Piece;

typedef struct
{
  double R, L, s;           /* field of view radius, half length, scale of the anatomy */
  double w_cut;             /* no metal above */
  double cu, cv, a, b, fat_mm, w_split, taper_mm; /* pelvis ellipse, narrowing below w_split */
  double thigh_u[2], thigh_v, thigh_a, thigh_b; /* thighs (below w_split + 25 mm) */
  bool arms;
  double arm_u[2], arm_v, arm_a, arm_b, arm_bone_du, arm_bone_dv, arm_bone_r, arm_cortex;
  bool table;
  double table_v, table_r, table_t1, table_gap, table_t2, table_half, table_hu;
  double muscle_hu, fat_hu, cortex_hu, marrow_hu;
  double artefacts, band_hu;
  Solid inserts[8], bones[MAX_SOLIDS], organs[MAX_SOLIDS];
  int n_inserts, n_bones, n_organs;
  Shape shapes[MAX_SHAPES];
  int n_shapes;
  Piece pieces[MAX_PIECES];
  int n_pieces;
  MmPhantomObject objects[MM_PHANTOM_MAX_OBJECTS];
  int n_objects;
} Scene;

typedef struct
{
  int side;            /* -1: the patient's right (-u), +1: left */
  V3 head, junction;   /* femoral head centre; where neck meets shaft */
  V3 dir, lat;         /* shaft direction (down); lateral unit, perpendicular to it */
  double head_r, shaft_r, cortex;
  bool stem, cup, nail;
  V3 ball;             /* the prosthesis's head, when there is a stem */
  double ball_r, socket_r; /* ball radius; inner radius of the bony acetabulum */
} Femur;

typedef struct
{
  Scene *sc;
  guint64 *r;
  Femur f[2];
  double w_hip;
} Build;

enum { K_STEM, K_CUP, K_SCREWS, K_NAIL, K_PLATE, K_FRAGMENTS, K_WIRES, N_KINDS };
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

static void
add_solid (Solid *list, int *n, int max, Shape sh, double shell_hu, double core_hu, double mm)
{
  if (*n < max)
    list[(*n)++] = (Solid) { sh, shell_hu, core_hu, mm };
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

/* A point of the femur's shaft axis at height w (on its neck junction above it). */
static V3
shaft_at (const Femur *f, double w)
{
  double t = MAX ((f->junction.z - w) / -f->dir.z, 0.0);
  return v_axpy (f->junction, t, f->dir);
}

/* A point of soft tissue at height w, well inside the body. */
static V3
body_point (Build *bd, double w)
{
  Scene *sc = bd->sc;
  double rho = 0.8 * sqrt (uniform01 (bd->r)), a = rnd (bd->r, 0, 2 * G_PI);
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
      double k = uniform01 (r);
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

/* The metal: which objects, on which side, in which order (the stem first, as its ball sets
 * the cup). Returns the number of objects. */
static int
choose_metal (Build *bd, int variant, int kinds[], int sides[])
{
  guint64 *r = bd->r;
  if (variant % 10 == 0)
    return 0; /* a negative: no metal at all */
  double u = uniform01 (r);
  int n = u < 0.35 ? 1 : u < 0.7 ? 2 : u < 0.9 ? 3 : 4;
  bool stem[2] = { false, false }, cup[2] = { false, false }, nail[2] = { false, false };
  static const double weight[N_KINDS] = { 0.6, 2, 2, 1, 1.2, 2, 1 }; /* sum 9.8 */
  bool stem_first = chance (r, 0.65);
  for (int o = 0; o < n; o++)
    {
      int k = K_FRAGMENTS, side = 0;
      for (int tries = 0; tries < 10; tries++)
        {
          double x = uniform01 (r) * 9.8;
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

static Scene *
scene_new (const MmPhantomParams *p, const double half[3])
{
  Scene *sc = g_new0 (Scene, 1);
  guint64 rng = p->seed * 0x9E3779B97F4A7C15ULL ^ (guint64) p->variant * 0xC2B2AE3D27D4EB4FULL;
  splitmix64 (&rng);
  Build bd = { .sc = sc, .r = &rng };
  guint64 *r = &rng;
  sc->R = 0.5 * p->size * p->pixel_mm;
  sc->L = half[2];
  sc->s = MIN (1.0, sc->R / 235.0); /* a smaller field of view holds a smaller patient */
  sc->artefacts = chance (r, 0.1) ? 0 : rnd (r, 0.3, 1);
  sc->band_hu = rnd (r, 200, 600);
  build_anatomy_frame (&bd);

  int kinds[4], sides[4];
  int n = choose_metal (&bd, p->variant, kinds, sides);
  sc->w_cut = G_MAXDOUBLE;
  if (n > 0 && chance (r, 0.6)) /* metal-free slices at the top, above any hip */
    {
      sc->w_cut = sc->L - rnd (r, 0.1, 0.3) * 2 * sc->L;
      for (int o = 0; o < n; o++)
        if (kinds[o] == K_STEM || kinds[o] == K_CUP)
          sc->w_cut = MAX (sc->w_cut, bd.w_hip + 35 * sc->s);
    }
  for (int o = 0; o < n; o++)
    {
      sc->objects[o] = (MmPhantomObject) { kind_names[kinds[o]], draw_metal_hu (r, kinds[o]), 0 };
      Femur *f = &bd.f[sides[o]];
      switch (kinds[o])
        {
        case K_STEM: build_stem (&bd, o, f); break;
        case K_CUP: build_cup (&bd, o, f); break;
        case K_SCREWS: build_screws (&bd, o, chance (r, 0.6) ? sides[o] : -1); break;
        case K_NAIL: build_nail (&bd, o, f); break;
        case K_PLATE: build_plate (&bd, o, f); break;
        case K_FRAGMENTS: build_fragments (&bd, o); break;
        default: build_wires (&bd, o, f); break;
        }
    }
  sc->n_objects = n;
  for (int i = 0; i < sc->n_pieces; i++)
    sc->pieces[i].hi.z = MIN (sc->pieces[i].hi.z, sc->w_cut);
  build_anatomy_solids (&bd);
  return sc;
}

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
        d = MIN (d, shape_sdf (&sc->shapes[i], p));
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
      if (in_bounds (p, so->sh.lo, so->sh.hi, 0) && shape_sdf (&so->sh, p) <= 0)
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
      double d = shape_sdf (&so->sh, p);
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
          if (in_bounds (p, so->sh.lo, so->sh.hi, 0) && shape_sdf (&so->sh, p) <= 0)
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
      double a = uniform01 (rng), b = uniform01 (rng), rad = sqrt (-2.0 * log (a));
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
  s->turn = (int) (splitmix64 (&hash) % 11) - 5;
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
  Scene *sc = scene_new (p, half);
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
