/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmVolume: allocation and the index <-> patient (LPS) transforms. */
#include "mm-volume.h"

#include "mm-alloc.h"

#include <math.h>
#include <string.h>

MmVolume *
mm_volume_new_empty (const int dims[3], MmVoxelType type)
{
  g_return_val_if_fail (dims[0] > 0 && dims[1] > 0 && dims[2] > 0, NULL);
  MmVolume *vol = g_new0 (MmVolume, 1);
  memcpy (vol->dims, dims, sizeof vol->dims);
  vol->type = type;
  vol->slices = g_new0 (MmSliceInfo, dims[2]);
  for (int k = 0; k < dims[2]; k++)
    vol->slices[k].instance_number = G_MININT;
  vol->spacing[0] = vol->spacing[1] = vol->spacing[2] = 1.0;
  const double identity[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
  memcpy (vol->direction, identity, sizeof identity);
  vol->rescale_slope = 1.0;
  vol->unit = g_strdup ("HU");
  g_atomic_ref_count_init (&vol->ref_count);
  return vol;
}

MmVolume *
mm_volume_ref (MmVolume *vol)
{
  g_return_val_if_fail (vol != NULL, NULL);
  g_atomic_ref_count_inc (&vol->ref_count);
  return vol;
}

MmVolume *
mm_volume_new (const int dims[3], MmVoxelType type)
{
  MmVolume *vol = mm_volume_new_empty (dims, type);
  if (vol == NULL)
    return NULL;
  size_t bytes = mm_volume_n_voxels (vol) * (type == MM_VOXEL_INT16 ? sizeof (int16_t)
                                                                     : sizeof (float));
  /* Not zeroed: every voxel is written by the reader or the generator, and zeroing 100 MB
   * would touch every page twice. */
  vol->voxels = mm_alloc_large (bytes, false);
  if (vol->voxels == NULL)
    {
      mm_volume_free (vol);
      return NULL;
    }
  return vol;
}

bool
mm_volume_is_shared (const MmVolume *vol)
{
  return !g_atomic_ref_count_compare ((gatomicrefcount *) &vol->ref_count, 1);
}

void
mm_volume_free (MmVolume *vol)
{
  if (vol == NULL || !g_atomic_ref_count_dec (&vol->ref_count))
    return;
  for (int k = 0; k < vol->dims[2]; k++)
    {
      g_free (vol->slices[k].file);
      g_free (vol->slices[k].sop_instance_uid);
    }
  g_free (vol->slices);
  g_free (vol->slice_ready);
  mm_free_large (vol->voxels);
  g_free (vol->series_uid);
  g_free (vol->study_uid);
  g_free (vol->series_description);
  g_free (vol->unit);
  g_free (vol->not_acquired);
  g_free (vol->modality);
  g_free (vol->frame_of_reference_uid);
  g_free (vol);
}

MmVolume *
mm_volume_copy_voxels (const MmVolume *vol)
{
  g_return_val_if_fail (vol != NULL && vol->voxels != NULL, NULL);
  MmVolume *c = mm_volume_new (vol->dims, vol->type);
  if (c == NULL)
    return NULL;
  size_t size = vol->type == MM_VOXEL_INT16 ? sizeof (int16_t) : sizeof (float);
  memcpy (c->voxels, vol->voxels, mm_volume_n_voxels (vol) * size);
  memcpy (c->spacing, vol->spacing, sizeof c->spacing);
  memcpy (c->direction, vol->direction, sizeof c->direction);
  c->series_uid = g_strdup (vol->series_uid);
  return c;
}

MmVolume *
mm_volume_copy_header (const MmVolume *vol)
{
  g_return_val_if_fail (vol != NULL, NULL);
  MmVolume *c = mm_volume_new_empty (vol->dims, vol->type);
  if (c == NULL)
    return NULL;
  MmSliceInfo *slices = c->slices;
  char *unit = c->unit;
  *c = *vol;
  c->voxels = NULL;
  c->slice_ready = NULL;
  c->slices = slices;
  g_atomic_ref_count_init (&c->ref_count);
  g_free (unit);
  for (int k = 0; k < vol->dims[2]; k++)
    {
      slices[k] = vol->slices[k];
      slices[k].file = g_strdup (vol->slices[k].file);
      slices[k].sop_instance_uid = g_strdup (vol->slices[k].sop_instance_uid);
    }
  c->series_uid = g_strdup (vol->series_uid);
  c->study_uid = g_strdup (vol->study_uid);
  c->series_description = g_strdup (vol->series_description);
  c->modality = g_strdup (vol->modality);
  c->frame_of_reference_uid = g_strdup (vol->frame_of_reference_uid);
  c->unit = g_strdup (vol->unit);
  c->not_acquired = g_strdup (vol->not_acquired);
  return c;
}

void
mm_volume_index_to_lps (const MmVolume *vol, double i, double j, double k, double lps[3])
{
  const double *row = vol->direction, *col = vol->direction + 3;
  int n = vol->dims[2];
  double base[3];

  if (n == 1)
    {
      for (int a = 0; a < 3; a++)
        base[a] = vol->slices[0].position[a] + k * vol->spacing[2] * vol->direction[6 + a];
    }
  else
    {
      /* Interpolate between the two nearest slice positions; extrapolate at the ends. */
      int k0 = (int) floor (k);
      if (k0 < 0)
        k0 = 0;
      if (k0 > n - 2)
        k0 = n - 2;
      double t = k - k0;
      for (int a = 0; a < 3; a++)
        base[a] = (1.0 - t) * vol->slices[k0].position[a] + t * vol->slices[k0 + 1].position[a];
    }
  for (int a = 0; a < 3; a++)
    lps[a] = base[a] + i * vol->spacing[0] * row[a] + j * vol->spacing[1] * col[a];
}

void
mm_volume_lps_to_index (const MmVolume *vol, const double lps[3], double ijk[3])
{
  const double *p0 = vol->slices[0].position;
  double d[3] = { lps[0] - p0[0], lps[1] - p0[1], lps[2] - p0[2] };
  /* The direction matrix is orthonormal, so its inverse is its transpose. */
  for (int a = 0; a < 3; a++)
    {
      const double *axis = vol->direction + 3 * a;
      ijk[a] = (d[0] * axis[0] + d[1] * axis[1] + d[2] * axis[2]) / vol->spacing[a];
    }
}

void
mm_volume_centre_lps (const MmVolume *vol, double lps[3])
{
  double first[3], last[3];
  mm_volume_index_to_lps (vol, 0, 0, 0, first);
  mm_volume_index_to_lps (vol, vol->dims[0] - 1, vol->dims[1] - 1, vol->dims[2] - 1, last);
  for (int a = 0; a < 3; a++)
    lps[a] = 0.5 * (first[a] + last[a]);
}

void
mm_lps_to_ras (const double lps[3], double ras[3])
{
  ras[0] = -lps[0];
  ras[1] = -lps[1];
  ras[2] = lps[2];
}

double
mm_volume_slice_z (const MmVolume *vol, int k)
{
  const double *n = vol->direction + 6, *p = vol->slices[k].position;
  return p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
}

const char *
mm_volume_orientation_name (const MmVolume *vol)
{
  const double *n = vol->direction + 6;
  double ax = fabs (n[0]), ay = fabs (n[1]), az = fabs (n[2]);
  /* Within about 1 degree of a main axis counts as that plane. */
  const double cos_tol = 0.9998;
  if (az >= cos_tol)
    return "axial";
  if (ay >= cos_tol)
    return "coronal";
  if (ax >= cos_tol)
    return "sagittal";
  return "oblique";
}

double
mm_volume_voxel_mm3 (const MmVolume *vol)
{
  return vol->spacing[0] * vol->spacing[1] * vol->spacing[2];
}

const char *
mm_volume_unit (const MmVolume *vol)
{
  return vol->unit ? vol->unit : "stored values";
}

bool
mm_volume_is_hu (const MmVolume *vol)
{
  return g_strcmp0 (vol->unit, "HU") == 0;
}

bool
mm_spacing_is_sane (double mm)
{
  /* Written so that NaN is not sane. */
  return mm >= MM_SPACING_MIN_MM && mm <= MM_SPACING_MAX_MM;
}

char *
mm_slice_key (const char *sop_instance_uid, int frame_number)
{
  if (sop_instance_uid == NULL)
    return NULL;
  return frame_number > 0 ? g_strdup_printf ("%s#%d", sop_instance_uid, frame_number)
                          : g_strdup (sop_instance_uid);
}
