/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A phantom variant's scene: the anatomy and the metal pieces the renderer (mm-phantom-variant.c)
 * draws, and what building them at random shares (mm-phantom-scene.c: anatomy and assembly;
 * mm-phantom-implant.c: the metal). Private to the phantom's files. */
#pragma once

#include "mm-phantom-private.h"
#include "mm-phantom-shape.h"

G_BEGIN_DECLS

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

/* Random draws from the scene's generator. */
static inline double
rnd (guint64 *r, double lo, double hi)
{
  return lo + (hi - lo) * mm_uniform01 (r);
}
static inline bool chance (guint64 *r, double p) { return mm_uniform01 (r) < p; }
static inline int
rnd_int (guint64 *r, int lo, int hi) /* lo..hi inclusive */
{
  return lo + (int) (mm_uniform01 (r) * (hi - lo + 1));
}
static inline double
rnd_deg (guint64 *r, double lo, double hi)
{
  return rnd (r, lo, hi) * G_PI / 180;
}

static inline V3
rnd_unit (guint64 *r)
{
  double z = rnd (r, -1, 1), a = rnd (r, 0, 2 * G_PI), s = sqrt (1 - z * z);
  return v3 (s * cos (a), s * sin (a), z);
}

/* A unit vector perpendicular to the unit vector a, at a random angle about it. */
static inline V3
rnd_perp (guint64 *r, V3 a)
{
  V3 t = fabs (a.x) < 0.9 ? v3 (1, 0, 0) : v3 (0, 1, 0);
  V3 e1 = v_unit (v_cross (a, t)), e2 = v_cross (a, e1);
  double g = rnd (r, 0, 2 * G_PI);
  return v_axpy (v_mul (e1, cos (g)), sin (g), e2);
}

static inline void
add_solid (Solid *list, int *n, int max, Shape sh, double shell_hu, double core_hu, double mm)
{
  if (*n < max)
    list[(*n)++] = (Solid) { sh, shell_hu, core_hu, mm };
}

/* A point of the femur's shaft axis at height w (on its neck junction above it). */
static inline V3
shaft_at (const Femur *f, double w)
{
  double t = MAX ((f->junction.z - w) / -f->dir.z, 0.0);
  return v_axpy (f->junction, t, f->dir);
}

/* The scene of variant p->variant >= 1 for a volume whose centre is half mm from voxel 0: all
 * of it drawn from (p->seed, p->variant) in one fixed order. g_free the result. */
Scene *mm_phantom_scene_new (const MmPhantomParams *p, const double half[3]);

/* Slice k of the scene as the CT simulator needs it, without artefacts, blur or noise: the
 * tissue HU at each voxel centre (under metal, the tissue it displaced; outside the field of
 * view -1000), the share of the pixel's area in metal (4 x 4 sub-samples) and the metal
 * object there (-1: none). n x n each. */
void mm_phantom_variant_physics_slice (const Scene *sc, const MmPhantomParams *p,
                                       const double half[3], int k, float *tissue_hu,
                                       float *metal_frac, int8_t *object);

G_END_DECLS
