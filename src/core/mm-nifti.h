/* SPDX-License-Identifier: GPL-3.0-or-later */
/* NIfTI-1 export of a metal mask and of the CT (and reading a mask back), placed in RAS so
 * that the mask lies on the CT in 3D Slicer, ITK-SNAP and nibabel. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define MM_NIFTI_ERROR (mm_nifti_error_quark ())
GQuark mm_nifti_error_quark (void);

typedef enum
{
  MM_NIFTI_ERROR_NAME,     /* the file name does not end in .nii or .nii.gz */
  MM_NIFTI_ERROR_GEOMETRY, /* the volume's slices cannot be described by one affine */
  MM_NIFTI_ERROR_FORMAT,   /* not a NIfTI-1 file, or one that cannot hold a mask */
  MM_NIFTI_ERROR_MISMATCH, /* a mask whose grid is not the volume's */
} MmNiftiError;

/* How far (mm) the affine of a mask being read may place a corner voxel from where the
 * volume has it. */
#define MM_NIFTI_AFFINE_TOLERANCE_MM 1e-3

/* The voxel-to-RAS affine of vol, row-major 4x4: voxel (i, j, k) of the NIfTI file (the
 * volume's i, j, k as stored, no flips) goes to mm_volume_index_to_lps with x and y negated.
 * The k column is the step from the first to the last slice position over n - 1. False when
 * the slices are so unevenly spaced that some slice would be placed more than a tenth of a
 * slice away from its Image Position (Patient). */
bool mm_nifti_affine (const MmVolume *vol, double affine[16], GError **error);

/* Write mask (uint8, 0/1, intent "label") on vol's grid. path must end in .nii.gz
 * (compressed) or .nii; qform and sform are both set. The file is replaced atomically: a
 * temporary file beside it, fsync, rename, fsync of the folder; on failure the previous
 * file, if any, is left as it was and no temporary file remains. */
bool mm_nifti_write_mask (const char *path, const MmMask *mask, const MmVolume *vol,
                          GError **error);

/* Write vol's voxels in HU (int16, or float32 for float volumes), the same way. */
bool mm_nifti_write_volume (const char *path, const MmVolume *vol, GError **error);

/* Read a mask written for vol (any integer or float voxel type; nonzero is metal). Its
 * dimensions must be vol's and its affine (sform, else qform) must place the corner voxels
 * within MM_NIFTI_AFFINE_TOLERANCE_MM of vol's; otherwise an error says what differs. */
MmMask *mm_nifti_read_mask (const char *path, const MmVolume *vol, GError **error);

G_END_DECLS
