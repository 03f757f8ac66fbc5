/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Slabs (MIP, MinIP, mean) of a standard plane. Every plane of a slab is a set of rows that
 * are contiguous in memory: axial and coronal output rows are the element-wise reduction of
 * whole source rows (i fastest), a sagittal output pixel the reduction of one contiguous run
 * of a source row. So every variant streams memory forwards and vectorises. */
#include "mm-slab.h"

#include <math.h>
#include <omp.h>
#include <string.h>

const char *
mm_slab_mode_name (MmSlabMode mode)
{
  switch (mode)
    {
    case MM_SLAB_MIP:
      return "mip";
    case MM_SLAB_MINIP:
      return "minip";
    case MM_SLAB_MEAN:
      return "mean";
    }
  return NULL;
}

bool
mm_slab_mode_parse (const char *name, MmSlabMode *mode)
{
  for (MmSlabMode m = MM_SLAB_MIP; m <= MM_SLAB_MEAN; m++)
    if (name && g_ascii_strcasecmp (name, mm_slab_mode_name (m)) == 0)
      {
        *mode = m;
        return true;
      }
  return false;
}

static double
normal_spacing (const MmVolume *vol, MmPlane plane)
{
  switch (plane)
    {
    case MM_PLANE_CORONAL:
      return vol->spacing[1];
    case MM_PLANE_SAGITTAL:
      return vol->spacing[0];
    case MM_PLANE_AXIAL:
    default:
      return vol->spacing[2];
    }
}

void
mm_slab_range (const MmVolume *vol, MmPlane plane, int depth, double thickness_mm, int *first,
               int *last)
{
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  depth = CLAMP (depth, 0, g.depth - 1);
  double s = normal_spacing (vol, plane);
  int half = 0;
  /* NaN and negative thicknesses give the plane alone; a huge one the whole volume. */
  if (thickness_mm > 0 && s > 0)
    {
      double h = floor (thickness_mm / (2 * s) + 1e-6);
      half = h >= g.depth ? g.depth : (int) h;
    }
  *first = MAX (0, depth - half);
  *last = MIN (g.depth - 1, depth + half);
}

/* acc = first row, then folded with more rows. MIP and MinIP keep int16 (SSE2 has 16-bit max
 * and min, not 32-bit ones); the mean sums in int32 (65535 planes of 32767 fit). */
static inline void
fold_i16 (int16_t *m, int32_t *sum, const int16_t *src, int n, MmSlabMode mode, bool init)
{
  if (mode == MM_SLAB_MEAN)
    {
      if (init)
        for (int x = 0; x < n; x++)
          sum[x] = src[x];
      else
        for (int x = 0; x < n; x++)
          sum[x] += src[x];
    }
  else if (init)
    memcpy (m, src, n * sizeof *m);
  else if (mode == MM_SLAB_MIP)
    for (int x = 0; x < n; x++)
      m[x] = src[x] > m[x] ? src[x] : m[x];
  else
    for (int x = 0; x < n; x++)
      m[x] = src[x] < m[x] ? src[x] : m[x];
}

static inline void
fold_f32 (double *acc, const float *src, int n, MmSlabMode mode, bool init)
{
  if (init)
    for (int x = 0; x < n; x++)
      acc[x] = src[x];
  else if (mode == MM_SLAB_MIP)
    for (int x = 0; x < n; x++)
      acc[x] = MAX (acc[x], (double) src[x]);
  else if (mode == MM_SLAB_MINIP)
    for (int x = 0; x < n; x++)
      acc[x] = MIN (acc[x], (double) src[x]);
  else
    for (int x = 0; x < n; x++)
      acc[x] += src[x];
}

/* Sagittal: the reduction of the run src[0..n-1]. */
static inline double
run_i16 (const int16_t *src, int n, MmSlabMode mode)
{
  if (mode == MM_SLAB_MIP)
    {
      int16_t m = src[0];
      for (int x = 1; x < n; x++)
        m = src[x] > m ? src[x] : m;
      return m;
    }
  if (mode == MM_SLAB_MINIP)
    {
      int16_t m = src[0];
      for (int x = 1; x < n; x++)
        m = src[x] < m ? src[x] : m;
      return m;
    }
  int32_t a = 0;
  for (int x = 0; x < n; x++)
    a += src[x];
  return (double) a / n;
}

static inline double
run_f32 (const float *src, int n, MmSlabMode mode)
{
  double a = src[0];
  for (int x = 1; x < n; x++)
    a = mode == MM_SLAB_MIP ? MAX (a, (double) src[x])
        : mode == MM_SLAB_MINIP ? MIN (a, (double) src[x])
                                : a + src[x];
  return mode == MM_SLAB_MEAN ? a / n : a;
}

static double
plane_pixels (const MmVolume *vol, MmPlane plane)
{
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  return (double) g.width * g.height;
}

void
mm_slab_compute (const MmVolume *vol, MmPlane plane, int depth, double thickness_mm,
                 MmSlabMode mode, float *out, int n_threads)
{
  g_return_if_fail (vol != NULL && vol->voxels != NULL && out != NULL);
  int first, last;
  mm_slab_range (vol, plane, depth, thickness_mm, &first, &last);
  int n = last - first + 1;
  int ni = vol->dims[0], nj = vol->dims[1], nk = vol->dims[2];
  size_t slice = mm_volume_slice_voxels (vol);
  bool i16 = vol->type == MM_VOXEL_INT16;
  const int16_t *v16 = vol->voxels;
  const float *v32 = vol->voxels;
  /* The mean is sum / n in double, then float: an int16 sum is exact, so the value rounds
   * as numpy's mean does. */
  double dn = n;
  /* Automatic: a thread streams about 10 voxels a nanosecond through these loops (on the
   * seed CT a 30 mm axial MIP, 5 M voxels, takes 0.5 ms on one core), so a team pays only
   * for big slabs; on a loaded machine a team of two waits for whichever thread got no core,
   * which cost 10-30 ms a frame in bench-reading. */
  if (n_threads <= 0)
    n_threads = (double) n * plane_pixels (vol, plane) < 16e6 ? 1 : omp_get_max_threads ();

  if (plane == MM_PLANE_SAGITTAL)
    {
      /* Output (u = j, v = nk - 1 - k): the run i = first..last of source row (k, j). */
#pragma omp parallel for num_threads (n_threads) schedule (dynamic, 8)
      for (int v = 0; v < nk; v++)
        {
          size_t row0 = (size_t) (nk - 1 - v) * slice;
          float *o = out + (size_t) v * nj;
          for (int j = 0; j < nj; j++)
            {
              size_t at = row0 + (size_t) j * ni + first;
              /* One short run per row, a row apart: the hardware prefetcher stops at each
               * 4 KiB page, so ask for the run eight rows ahead ourselves. */
              if (j + 8 < nj)
                {
                  size_t ahead = at + 8 * (size_t) ni;
                  __builtin_prefetch (i16 ? (const void *) (v16 + ahead)
                                          : (const void *) (v32 + ahead));
                  __builtin_prefetch (i16 ? (const void *) (v16 + ahead + n - 1)
                                          : (const void *) (v32 + ahead + n - 1));
                }
              o[j] = (float) (i16 ? run_i16 (v16 + at, n, mode) : run_f32 (v32 + at, n, mode));
            }
        }
      return;
    }

  /* Axial: output row j folds source rows (k, j) for k in the slab. Coronal: output row
   * v = nk - 1 - k folds source rows (k, j) for j in the slab. */
  int rows = plane == MM_PLANE_AXIAL ? nj : nk;
#pragma omp parallel num_threads (n_threads)
  {
    int16_t *m16 = i16 ? g_new (int16_t, ni) : NULL;
    int32_t *a16 = i16 ? g_new (int32_t, ni) : NULL;
    double *a32 = i16 ? NULL : g_new (double, ni);
#pragma omp for schedule (dynamic, 8)
    for (int r = 0; r < rows; r++)
      {
        for (int d = first; d <= last; d++)
          {
            size_t at = plane == MM_PLANE_AXIAL
                          ? (size_t) d * slice + (size_t) r * ni
                          : (size_t) (nk - 1 - r) * slice + (size_t) d * ni;
            if (i16)
              fold_i16 (m16, a16, v16 + at, ni, mode, d == first);
            else
              fold_f32 (a32, v32 + at, ni, mode, d == first);
          }
        float *o = out + (size_t) r * ni;
        if (i16 && mode == MM_SLAB_MEAN)
          for (int x = 0; x < ni; x++)
            o[x] = (float) (a16[x] / dn);
        else if (i16)
          for (int x = 0; x < ni; x++)
            o[x] = (float) m16[x];
        else
          for (int x = 0; x < ni; x++)
            o[x] = (float) (mode == MM_SLAB_MEAN ? a32[x] / dn : a32[x]);
      }
    g_free (m16);
    g_free (a16);
    g_free (a32);
  }
}
