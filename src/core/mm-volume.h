/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmVolume: a volume of values (Hounsfield units for CT, see unit) with its DICOM patient
 * geometry. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum
{
  MM_VOXEL_INT16,   /* the usual case: integral rescale, values fit in int16 */
  MM_VOXEL_FLOAT32, /* a rescale that is not integral, or values beyond int16 */
} MmVoxelType;

/* What we keep of each source slice, in volume (sorted) order. */
typedef struct
{
  double position[3];     /* Image Position (Patient) (0020,0032), LPS mm */
  char *file;             /* source file path */
  char *sop_instance_uid; /* (0008,0018), or (0002,0003) of the meta header */
  int instance_number;    /* (0020,0013); G_MININT when absent */
  int frame_number;       /* 1-based frame of a multi-frame file; 0 for a single-frame file */
} MmSliceInfo;

typedef struct
{
  int dims[3];          /* columns (i), rows (j), slices (k) */
  double spacing[3];    /* mm along i, j, k: Pixel Spacing (0028,0030) is [row, column],
                           so spacing[0] = PS[1], spacing[1] = PS[0]; spacing[2] is the mean
                           distance between slice positions along the normal */
  double direction[9];  /* row cosine (i), column cosine (j), normal (k = row x column) */
  MmVoxelType type;
  void *voxels;         /* dims[0]*dims[1]*dims[2] int16_t or float, i fastest */
  MmSliceInfo *slices;  /* dims[2] entries */

  /* Series-level attributes, any of them may be NULL. */
  char *series_uid;
  char *study_uid;
  char *series_description;
  char *modality;
  char *frame_of_reference_uid;

  double rescale_slope, rescale_intercept;
  bool has_window;
  double window_center, window_width; /* (0028,1050/1051) of the first slice */
  bool has_padding_value;
  double padding_value_hu; /* Pixel Padding Value (0028,0120) mapped through the rescale */
  /* With Pixel Padding Range Limit (0028,0121) too, every value between the two (both
   * included, mapped through the rescale) is padding. */
  bool has_padding_range;
  double padding_limit_hu;

  /* What the voxel values are, for display: "HU" for CT (Modality CT, or no Modality and a
   * CT SOP class) whose Rescale Type (0028,1054) is HU or absent; else the Rescale Type as
   * the file gives it (e.g. "US", unspecified), else "stored values". mm_volume_new sets
   * "HU" (the generated phantoms are CT); readers set what the file says. Owned. */
  char *unit;
  /* NULL for an acquired image. Else why the pixels may not be measurements at all, e.g.
   * "a Secondary Capture image (SOP Class UID 1.2.840.10008.5.1.4.1.1.7)": a screenshot or
   * a rendering with burned-in text, not a CT volume. Owned. */
  char *not_acquired;

  /* Spacing along the normal between consecutive slices: min and max, so that
   * irregular series (gaps, duplicates) can be reported with figures. */
  double slice_gap_min, slice_gap_max;

  /* NULL once every slice's voxels are in (the usual case). During a progressive load
   * (mm_dicom_load with volume_func, docs/progressive-load.md) dims[2] flags, read with
   * g_atomic_int_get: slice k's voxels may be read once its flag is nonzero; before that
   * another thread may be writing them. Owned; freed with the volume. */
  gint *slice_ready;

  /* References (mm_volume_ref / mm_volume_free): work in another thread that reads the
   * shown series (an export) keeps it alive when the user opens another meanwhile. */
  gatomicrefcount ref_count;
} MmVolume;

MmVolume *mm_volume_new (const int dims[3], MmVoxelType type);
/* Geometry and slice records only, voxels NULL: for a series streamed slice by slice. */
MmVolume *mm_volume_new_empty (const int dims[3], MmVoxelType type);
/* Drops a reference; the last one frees the volume. */
void mm_volume_free (MmVolume *vol);
/* Another reference to vol (returned), dropped with mm_volume_free. */
MmVolume *mm_volume_ref (MmVolume *vol);
/* True while someone else holds a reference too (e.g. an export writing it). */
bool mm_volume_is_shared (const MmVolume *vol);
/* A copy of what a model or a trainer reads in another thread while the user goes on: the
 * voxels, dims, spacing, direction and series UID (no slice records, no other attributes).
 * NULL when the memory cannot be had. */
MmVolume *mm_volume_copy_voxels (const MmVolume *vol);
/* Everything but the voxels (NULL): geometry, slice records and series attributes, for work
 * in another thread that outlives the shown series (a DICOM SEG needs no voxels). */
MmVolume *mm_volume_copy_header (const MmVolume *vol);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmVolume, mm_volume_free)

static inline size_t
mm_volume_n_voxels (const MmVolume *vol)
{
  return (size_t) vol->dims[0] * (size_t) vol->dims[1] * (size_t) vol->dims[2];
}

static inline size_t
mm_volume_slice_voxels (const MmVolume *vol)
{
  return (size_t) vol->dims[0] * (size_t) vol->dims[1];
}

/* Whether slice k's voxels are in: always true outside a progressive load. */
static inline bool
mm_volume_slice_is_ready (const MmVolume *vol, int k)
{
  return vol->slice_ready == NULL || g_atomic_int_get (&vol->slice_ready[k]) != 0;
}

/* HU at voxel (i, j, k), either voxel type. No bounds check. */
static inline double
mm_volume_get (const MmVolume *vol, int i, int j, int k)
{
  size_t idx = ((size_t) k * vol->dims[1] + j) * vol->dims[0] + i;
  return vol->type == MM_VOXEL_INT16 ? ((const int16_t *) vol->voxels)[idx]
                                     : ((const float *) vol->voxels)[idx];
}

/* Position of the centre of voxel (i, j, k) in DICOM patient coordinates (LPS, mm).
 * Uses the slice's own Image Position (Patient), so irregular spacing is exact; i, j, k may be
 * fractional (k is interpolated linearly between slice positions). */
void mm_volume_index_to_lps (const MmVolume *vol, double i, double j, double k, double lps[3]);

/* Inverse of the above for a regular grid; returns continuous indices. */
void mm_volume_lps_to_index (const MmVolume *vol, const double lps[3], double ijk[3]);

/* Midpoint between the centre of the first voxel of the first slice and of the last voxel of
 * the last slice, in LPS mm. */
void mm_volume_centre_lps (const MmVolume *vol, double lps[3]);

/* RAS from LPS: x and y negated. */
void mm_lps_to_ras (const double lps[3], double ras[3]);

/* Position of slice k along the normal (the projection of its IPP on the normal), mm. */
double mm_volume_slice_z (const MmVolume *vol, int k);

/* A short label such as "axial", "coronal", "sagittal" or "oblique" for the slice normal. */
const char *mm_volume_orientation_name (const MmVolume *vol);

/* The unit of the voxel values ("HU", a Rescale Type, or "stored values"); never NULL. */
const char *mm_volume_unit (const MmVolume *vol);

/* True when the values are Hounsfield units (unit "HU"): what the metal rule expects. */
bool mm_volume_is_hu (const MmVolume *vol);

/* Spacings (mm) outside these bounds are not a scan: a micro-CT voxel is ~0.01 mm, and a
 * metre per pixel images nothing. Within them a squared distance over 65535 voxels stays far
 * from 0 and from overflow, which the distance transform needs. */
#define MM_SPACING_MIN_MM 1e-3
#define MM_SPACING_MAX_MM 1e3
bool mm_spacing_is_sane (double mm);
/* What identifies a source slice: its SOP Instance UID, with "#<frame>" for a frame of a
 * multi-frame file (whose frames share one UID); NULL without a UID. Free with g_free. */
char *mm_slice_key (const char *sop_instance_uid, int frame_number);

/* Voxel volume in mm^3 (spacing product). */
double mm_volume_voxel_mm3 (const MmVolume *vol);

G_END_DECLS
