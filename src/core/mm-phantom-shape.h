/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The phantom variants' geometry: 3-vectors and solids known by their signed distance. Private
 * to the phantom's files (mm-phantom*.c), hence the short names. */
#pragma once

#include <glib.h>
#include <math.h>
#include <stdbool.h>

G_BEGIN_DECLS

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

/* Sets s->lo, s->hi from the rest of s. */
void mm_phantom_shape_bounds (Shape *s);
/* Signed distance (exact for all but the shell's rim and the ellipsoid, which only need the
 * right sign). */
double mm_phantom_shape_sdf (const Shape *s, V3 p);

static inline Shape
sh_sphere (V3 c, double r)
{
  Shape s = { .kind = SH_SPHERE, .a = c, .r1 = r };
  mm_phantom_shape_bounds (&s);
  return s;
}

/* A round cone: spheres of radius ra at a and rb at b and the cone tangent to both. */
static inline Shape
sh_cone (V3 a, double ra, V3 b, double rb)
{
  g_assert (fabs (ra - rb) < v_len (v_sub (b, a)));
  Shape s = { .kind = SH_CONE, .a = a, .b = b, .r1 = ra, .r2 = rb };
  mm_phantom_shape_bounds (&s);
  return s;
}

/* A box along the unit axes e0 and e1 (perpendicular) and e0 x e1, its edges rounded by a
 * third of its thinnest half size. */
static inline Shape
sh_box (V3 c, V3 e0, V3 e1, double h0, double h1, double h2)
{
  Shape s = { .kind = SH_BOX, .a = c, .e = { e0, e1, v_cross (e0, e1) }, .h = { h0, h1, h2 },
              .r1 = MIN (MIN (h0, h1), h2) / 3 };
  mm_phantom_shape_bounds (&s);
  return s;
}

/* The half of a spherical shell (radii rin..rout about c) facing away from the opening. */
static inline Shape
sh_shell (V3 c, V3 opening, double rin, double rout)
{
  Shape s = { .kind = SH_SHELL, .a = c, .e = { opening }, .r1 = rin, .r2 = rout };
  mm_phantom_shape_bounds (&s);
  return s;
}

static inline Shape
sh_torus (V3 c, V3 axis, double ring, double wire)
{
  Shape s = { .kind = SH_TORUS, .a = c, .e = { axis }, .r1 = ring, .r2 = wire };
  mm_phantom_shape_bounds (&s);
  return s;
}

static inline Shape
sh_ellipsoid (V3 c, double ru, double rv, double rw)
{
  Shape s = { .kind = SH_ELLIPSOID, .a = c, .h = { ru, rv, rw } };
  mm_phantom_shape_bounds (&s);
  return s;
}

static inline bool
in_bounds (V3 p, V3 lo, V3 hi, double margin)
{
  return p.x >= lo.x - margin && p.x <= hi.x + margin && p.y >= lo.y - margin
         && p.y <= hi.y + margin && p.z >= lo.z - margin && p.z <= hi.z + margin;
}

G_END_DECLS
