/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Measurements and ROIs drawn on a series' planes (distance, angle, HU profile, rectangle,
 * ellipse, freehand): the list the app edits, its figures, and its JSON and CSV files. */
#pragma once

#include "mm-render.h"
#include "mm-reslice.h"
#include "mm-roi.h"

#include <stdbool.h>

G_BEGIN_DECLS

typedef enum
{
  MM_ANNOT_DISTANCE,
  MM_ANNOT_ANGLE,     /* points: a, the vertex b, c */
  MM_ANNOT_PROFILE,
  MM_ANNOT_RECTANGLE, /* points: two opposite corners */
  MM_ANNOT_ELLIPSE,   /* points: two opposite corners of its box */
  MM_ANNOT_FREEHAND,  /* points: the polygon, closed implicitly */
  MM_ANNOT_N_KINDS
} MmAnnotKind;

/* Items of one file, and points of one freehand ROI: far above what a person draws (a
 * freehand stroke keeps one point per pointer event, a few hundred), and bounding what a
 * hostile file can make the reader allocate (10000 x 4096 x 16 bytes at most, in practice
 * the 64 MiB JSON limit comes first). */
#define MM_ANNOTATION_MAX_ITEMS 10000
#define MM_ANNOTATION_MAX_POINTS 4096
/* Ids a file may give (kept when distinct, else renumbered): far beyond any session's. */
#define MM_ANNOTATION_MAX_ID 1000000000u

/* An oblique plane's pixel grid: continuous pixel (u, v) lies at
 *   origin_lps + u * pixel_w * right + v * pixel_h * down
 * (origin_lps: the corner of pixel (0, 0), as mm_reslice_pixel_to_lps counts; right and
 * down unit and orthogonal). */
typedef struct
{
  double origin_lps[3];
  double right[3], down[3];
  double pixel_w, pixel_h;
} MmAnnotFrame;

/* Tolerances of a frame read from a file (unit length, orthogonality) and of two frames
 * being the same plane (directions; origin in mm; pixel relative). */
#define MM_ANNOT_FRAME_UNIT_TOL 1e-3
#define MM_ANNOT_FRAME_SAME_DIR 1e-4
#define MM_ANNOT_FRAME_SAME_MM 0.01

/* The frame of a resliced plane (mm-reslice.h). */
void mm_annot_frame_from_reslice (MmAnnotFrame *f, const MmReslicePlane *p);
/* LPS (mm) of continuous pixel (u, v). */
void mm_annot_frame_to_lps (const MmAnnotFrame *f, double u, double v, double lps[3]);
/* Whether a and b are the same pixel grid within the tolerances above. */
bool mm_annot_frame_equal (const MmAnnotFrame *a, const MmAnnotFrame *b);
/* Whether f is a frame a file may give: finite, right and down unit and orthogonal within
 * MM_ANNOT_FRAME_UNIT_TOL, pixels in (0, 1000] mm, origin within 1e6 mm; *why the reason. */
bool mm_annot_frame_valid (const MmAnnotFrame *f, const char **why);

/* One measurement: points in continuous plane pixels (mm_viewport_to_plane) of plane at
 * depth (a standard plane; the slice it was drawn on), or, when oblique, of frame (drawn in
 * view plane on an oblique plane; depth is then the view's slice at the time, not used). */
typedef struct
{
  guint id; /* unique within its list, > 0 */
  MmAnnotKind kind;
  MmPlane plane;
  int depth;
  bool oblique;
  MmAnnotFrame frame; /* when oblique */
  int n_points;
  double *points; /* n_points (u, v) pairs; owned */
} MmAnnotation;

/* What an annotation measures on its volume. */
typedef struct
{
  double length_mm;   /* distance and profile: the line's length */
  double angle_deg;   /* angle: 0..180, NaN when an arm has zero length */
  bool has_stats;     /* the ROIs */
  MmRoiStats stats;   /* pixel centre inside the shape (mm-roi.h) */
} MmAnnotationFigures;

typedef struct
{
  GPtrArray *items; /* MmAnnotation, owned, in drawing order */
  guint next_id;
} MmAnnotationList;

const char *mm_annotation_kind_name (MmAnnotKind kind); /* "distance", ... */
bool mm_annotation_kind_parse (const char *name, MmAnnotKind *kind);
/* Points a kind needs: exact for all but freehand (3..MM_ANNOTATION_MAX_POINTS). */
int mm_annotation_kind_points (MmAnnotKind kind);

MmAnnotationList *mm_annotation_list_new (void);
void mm_annotation_list_free (MmAnnotationList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmAnnotationList, mm_annotation_list_free)
void mm_annotation_list_clear (MmAnnotationList *list);

/* A new item (points copied, n_points pairs), appended; borrowed from the list. NULL when
 * n_points does not fit the kind or the list is full. */
MmAnnotation *mm_annotation_list_add (MmAnnotationList *list, MmAnnotKind kind, MmPlane plane,
                                      int depth, const double *points, int n_points);
/* The same on an oblique plane (frame copied). */
MmAnnotation *mm_annotation_list_add_oblique (MmAnnotationList *list, MmAnnotKind kind,
                                              MmPlane plane, const MmAnnotFrame *frame,
                                              const double *points, int n_points);
/* Freehand: one more point (false when full). */
bool mm_annotation_append_point (MmAnnotation *a, double u, double v);
MmAnnotation *mm_annotation_list_find (MmAnnotationList *list, guint id);
bool mm_annotation_list_remove (MmAnnotationList *list, guint id);

/* Whether a is drawn in a view of vol showing plane at depth (frame NULL) or the oblique
 * plane frame: an item on its own plane, and also where the two grids are the same within
 * mm_annot_frame_equal (a standard slice and an oblique view of exactly that slice's
 * pixels, either way round). */
bool mm_annotation_on_view (const MmAnnotation *a, const MmVolume *vol, MmPlane plane, int depth,
                            const MmAnnotFrame *frame);

/* Figures of a on vol (whose planes and depths it must fit: see mm_annotation_fits). */
void mm_annotation_measure (const MmAnnotation *a, const MmVolume *vol, MmAnnotationFigures *f);
bool mm_annotation_fits (const MmAnnotation *a, const MmVolume *vol);
/* The profile's samples (trilinear from the volume, NaN outside): *n values, g_free both. */
void mm_annotation_profile (const MmAnnotation *a, const MmVolume *vol, int *n, double **hu,
                            double **pos_mm);

/* JSON: {"format": "metalmark-annotations", "version": 1, "series_uid": ..., "items":
 * [{"id", "kind", "plane", "depth", "points": [u0, v0, u1, v1, ...], "figures": {...}}]};
 * an item on an oblique plane has "oblique": {"origin_lps": [x, y, z], "right": [..],
 * "down": [..], "pixel_mm": [w, h]} (optional: files without it are standard planes).
 * Figures are written for readers (vol may be NULL: none) and ignored when read. */
char *mm_annotation_list_to_json (const MmAnnotationList *list, const MmVolume *vol, gsize *len);
/* One row per item: id,kind,plane,slice,points,length_mm,angle_deg,count,area_mm2,mean,sd,
 * median,min,max (slice 1-based as shown; empty cells where a figure does not apply). */
char *mm_annotation_list_to_csv (const MmAnnotationList *list, const MmVolume *vol, gsize *len);

/* Replace list's items by those of text (outside input): every member checked (types,
 * kinds, point counts, finite coordinates, item and point limits, planes and depths that fit
 * vol when vol is not NULL). On error list is unchanged and the error is one line naming
 * name and the first bad item. */
bool mm_annotation_list_load_data (MmAnnotationList *list, const char *text, gssize len,
                                   const char *name, const MmVolume *vol, GError **error);
/* The same from a file; a missing file is G_IO_ERROR_NOT_FOUND. */
bool mm_annotation_list_load (MmAnnotationList *list, const char *path, const MmVolume *vol,
                              GError **error);
/* Written atomically (mm_atomic_write); with an empty list the file is removed. */
bool mm_annotation_list_save (const MmAnnotationList *list, const MmVolume *vol,
                              const char *path, GError **error);

G_END_DECLS
