/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli: the plane options shared by slab, reslice and measure, number lists, and
 * plane images written as NumPy .npy files (what the Python checks and scripts read). */
#pragma once

#include "mm-cli.h"
#include "mm-reslice.h"

G_BEGIN_DECLS

/* Output images of reslice: 4096 x 4096 floats are 64 MiB, four times a 1024-pixel screen
 * in each direction. */
#define MM_CLI_PLANE_MAX_SIDE 4096
/* Vertices of a freehand polygon: a stroke sampled every screen pixel around a 4096-pixel
 * image is well under this. */
#define MM_CLI_MAX_POLYGON 65536
/* Coordinates in mm or voxels: a metre is the largest scanner; a million is a typing slip. */
#define MM_CLI_MAX_COORD 1e6

typedef struct
{
  char *plane;        /* axial (default), coronal, sagittal */
  int index;          /* depth of the standard plane; -1: the middle */
  char *centre_lps;   /* "x,y,z" */
  char *centre_voxel; /* "i,j,k" */
  char *right, *down; /* "x,y,z" LPS */
  char **rotate;      /* "x,y,z,deg" each */
  int width, height;  /* 0: 512 */
  double pixel;       /* mm; 0: the smallest in-plane spacing of the volume */
} MmCliPlane;

void mm_cli_plane_init (MmCliPlane *o);
void mm_cli_plane_clear (MmCliPlane *o);
/* An oblique option was given (anything beyond --plane and --index). */
bool mm_cli_plane_is_oblique (const MmCliPlane *o);

#define MM_CLI_PLANE_ENTRIES(o)                                                               \
  { "plane", 0, 0, G_OPTION_ARG_STRING, &(o).plane,                                           \
    "Standard plane, or the start of an oblique one: axial (default), coronal, sagittal",     \
    "NAME" },                                                                                 \
  { "index", 0, 0, G_OPTION_ARG_INT, &(o).index,                                              \
    "Plane number along the normal as the viewer counts it (default: the middle)", "N" },     \
  { "centre-lps", 0, 0, G_OPTION_ARG_STRING, &(o).centre_lps,                                 \
    "Oblique: centre of the image, LPS mm", "X,Y,Z" },                                        \
  { "centre-voxel", 0, 0, G_OPTION_ARG_STRING, &(o).centre_voxel,                             \
    "Oblique: centre of the image, voxel indices (fractions allowed)", "I,J,K" },             \
  { "right", 0, 0, G_OPTION_ARG_STRING, &(o).right,                                           \
    "Oblique: LPS direction of screen right (default: the plane's)", "X,Y,Z" },               \
  { "down", 0, 0, G_OPTION_ARG_STRING, &(o).down,                                             \
    "Oblique: LPS direction of screen down (made orthogonal to right)", "X,Y,Z" },            \
  { "rotate", 0, 0, G_OPTION_ARG_STRING_ARRAY, &(o).rotate,                                   \
    "Oblique: turn the plane about an LPS axis by degrees (repeatable, in order)",            \
    "X,Y,Z,DEG" },                                                                            \
  { "width", 0, 0, G_OPTION_ARG_INT, &(o).width, "Oblique: image width (default 512)", "PX" }, \
  { "height", 0, 0, G_OPTION_ARG_INT, &(o).height, "Oblique: image height (default 512)",     \
    "PX" },                                                                                   \
  { "pixel", 0, 0, G_OPTION_ARG_DOUBLE, &(o).pixel,                                           \
    "Oblique: pixel size in mm (default: the volume's smallest in-plane spacing)", "MM" }

#define MM_CLI_PLANE_RANGES                                                                   \
  { "index", -1, MM_LIMIT_SLICES }, { "width", 0, MM_CLI_PLANE_MAX_SIDE },                    \
    { "height", 0, MM_CLI_PLANE_MAX_SIDE }, { "pixel", 0, MM_SPACING_MAX_MM }

/* --plane's value; false (after printing why) for an unknown name. */
bool mm_cli_plane_kind (const char *command, const MmCliPlane *o, MmPlane *plane);

/* The plane the options describe on vol: the standard plane at --index, or the oblique one.
 * false after printing a one-line error naming the option. */
bool mm_cli_plane_resolve (const char *command, const MmCliPlane *o, const MmVolume *vol,
                           MmReslicePlane *p, MmPlane *kind, int *depth);

/* text as n numbers separated by commas, each finite and within [lo, hi]; n_min..n_max of
 * them (n_max values fit out). false after printing an error naming option and range. */
bool mm_cli_parse_numbers (const char *command, const char *option, const char *text,
                           int n_min, int n_max, double lo, double hi, double *out, int *n);

/* A C-order NumPy array file (format 1.0) of height x width values: descr "<f4" (float)
 * or "|u1" (uint8); written atomically. */
bool mm_cli_write_npy (const char *path, const char *descr, const void *data, int height,
                       int width, GError **error);

/* The plane's description (size, pixel, centre, axes, letters, corner pixels in LPS and
 * voxels) as members of the open object in b. */
void mm_cli_plane_json (JsonBuilder *b, const MmReslicePlane *p, const MmVolume *vol);

G_END_DECLS

G_BEGIN_DECLS
/* The mask of --mask-nifti FILE or --segment (threshold, default 3000 HU when NaN); NULL
 * after printing why (or when neither was asked for: check want first). */
MmMask *mm_cli_plane_mask (const char *command, const MmVolume *vol, const char *mask_nifti,
                           bool segment, double threshold, bool force, int threads);
G_END_DECLS
