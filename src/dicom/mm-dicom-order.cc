/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The reader's ordering: the chosen series checked, sorted along the normal, de-duplicated,
 * and its geometry (see mm-dicom-reader.hh). */
#include "mm-dicom-reader.hh"
#include "mm-dicom-multiframe.hh"
#include "mm-dicom-util.hh"
#include "mm-limits.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

#define DEFAULT_ORIENTATION_TOLERANCE 1e-3
/* Two slices closer than this along the normal are at the same place. */
#define DUPLICATE_TOLERANCE_MM 0.01

namespace mm
{

bool
check_consistency (Loader &L, const Series &s, GError **error)
{
  const SliceHeader *a = s.slices.front ();
  double tol = L.opts->orientation_tolerance > 0 ? L.opts->orientation_tolerance
                                                  : DEFAULT_ORIENTATION_TOLERANCE;
  for (const SliceHeader *b : s.slices)
    {
      if (b->rows != a->rows || b->cols != a->cols)
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_INCONSISTENT,
                       "series %s: slices differ in size: %s is %d x %d, %s is %d x %d "
                       "(columns x rows)",
                       s.uid.c_str (), slice_name (*a).c_str (), a->cols, a->rows,
                       slice_name (*b).c_str (),
                       b->cols, b->rows);
          return false;
        }
      for (int c = 0; c < 6; c++)
        if (std::fabs (b->iop[c] - a->iop[c]) > tol)
          {
            g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_INCONSISTENT,
                         "series %s: slices differ in orientation by more than %g: %s and %s "
                         "(Image Orientation (Patient) (0020,0037))",
                         s.uid.c_str (), tol, slice_name (*a).c_str (),
                         slice_name (*b).c_str ());
            return false;
          }
      for (int c = 0; c < 2; c++)
        if (std::fabs (b->pixel_spacing[c] - a->pixel_spacing[c])
            > 1e-3 * a->pixel_spacing[c])
          {
            g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_INCONSISTENT,
                         "series %s: slices differ in Pixel Spacing (0028,0030): %s has "
                         "%g\\%g mm, %s has %g\\%g mm",
                         s.uid.c_str (), slice_name (*a).c_str (), a->pixel_spacing[0],
                         a->pixel_spacing[1], slice_name (*b).c_str (), b->pixel_spacing[0],
                         b->pixel_spacing[1]);
            return false;
          }
    }
  if (s.slices.size () > 1)
    for (const SliceHeader *b : s.slices)
      if (!b->has_ipp)
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_INCONSISTENT,
                       "series %s: %s has no Image Position (Patient) (0020,0032), so its "
                       "slices cannot be put in order",
                       s.uid.c_str (), b->path.c_str ());
          return false;
        }
  return true;
}

void
order_slices (Loader &L, Series &s)
{
  /* Order along the normal: never by Slice Location, Instance Number or file name. */
  std::vector<SliceHeader *> &sl = s.slices;
  std::stable_sort (sl.begin (), sl.end (), [] (const SliceHeader *a, const SliceHeader *b) {
    if (a->z != b->z)
      return a->z < b->z;
    if (a->instance != b->instance)
      return a->instance < b->instance;
    return a->path < b->path;
  });
  {
    std::vector<SliceHeader *> kept;
    for (SliceHeader *h : sl)
      {
        if (!kept.empty () && std::fabs (h->z - kept.back ()->z) < DUPLICATE_TOLERANCE_MM)
          {
            L.report->files_skipped++;
            L.warn (fmt ("%s: skipped: same position as %s (%.3f mm along the normal)%s",
                         slice_name (*h).c_str (), slice_name (*kept.back ()).c_str (), h->z,
                         h->sop_uid == kept.back ()->sop_uid ? ", same SOP Instance UID" : ""));
            continue;
          }
        kept.push_back (h);
      }
    sl.swap (kept);
  }
  /* Geometry assumed rather than read is said loudly, once, naming the first file (the
   * slices agree on it, checked above); what is said is what the volume then holds. */
  if (!sl.front ()->has_iop)
    L.warn (sl.front ()->path + ": "
            + (sl.front ()->iop_problem.empty ()
                   ? std::string ("no Image Orientation (Patient) (0020,0037)")
                   : sl.front ()->iop_problem)
            + "; axial orientation assumed (row 1\\0\\0, column 0\\1\\0)");
  if (!sl.front ()->has_spacing)
    L.warn (sl.front ()->path + ": " + sl.front ()->spacing_problem
            + "; 1 x 1 mm pixels assumed: distances, areas and volumes are not in mm");
  if (!sl.front ()->not_acquired.empty ())
    L.warn (sl.front ()->path + ": " + sl.front ()->not_acquired
            + ", not a CT acquisition: its values may be a picture (a screenshot, a "
              "rendering), not measurements");
}

bool
set_geometry (Loader &L, const Series &s, const std::vector<SliceHeader *> &good, MmVolume *vol,
              GError **error)
{
  /* The slices agree on orientation and pixel spacing (check_consistency). */
  const SliceHeader *first = good.front ();
  const double *r = first->iop, *c = first->iop + 3;
  double nrm[3] = { r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2],
                    r[0] * c[1] - r[1] * c[0] };
  double nlen = std::sqrt (nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
  for (int a = 0; a < 3; a++)
    {
      vol->direction[a] = r[a];
      vol->direction[3 + a] = c[a];
      vol->direction[6 + a] = nlen > 0 ? nrm[a] / nlen : (a == 2);
    }
  vol->spacing[0] = first->pixel_spacing[1]; /* between columns */
  vol->spacing[1] = first->pixel_spacing[0]; /* between rows */
  for (size_t k = 0; k < good.size (); k++)
    {
      MmSliceInfo *info = &vol->slices[k];
      std::memcpy (info->position, good[k]->ipp, sizeof info->position);
      info->file = g_strdup (good[k]->path.c_str ());
      info->sop_instance_uid = good[k]->sop_uid.empty () ? nullptr
                                                      : g_strdup (good[k]->sop_uid.c_str ());
      info->instance_number = good[k]->instance == INT_MIN ? G_MININT : good[k]->instance;
      info->frame_number = good[k]->frame >= 0 ? good[k]->frame + 1 : 0;
    }
  size_t n = good.size ();
  if (n > 1)
    {
      std::vector<double> gaps;
      for (size_t k = 1; k < n; k++)
        gaps.push_back (good[k]->z - good[k - 1]->z);
      vol->spacing[2] = (good[n - 1]->z - good[0]->z) / (double) (n - 1);
      if (!mm_spacing_is_sane (vol->spacing[2]))
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_INCONSISTENT,
                       "series %s: %s and %s: Image Position (Patient) (0020,0032) puts "
                       "slices %g mm apart on average, not between %g and %g mm",
                       s.uid.c_str (), good[0]->path.c_str (),
                       good[n - 1]->path.c_str (), vol->spacing[2], MM_SPACING_MIN_MM,
                       MM_SPACING_MAX_MM);
          return false;
        }
      auto mm = std::minmax_element (gaps.begin (), gaps.end ());
      vol->slice_gap_min = *mm.first;
      vol->slice_gap_max = *mm.second;
      std::vector<double> sorted = gaps;
      std::nth_element (sorted.begin (), sorted.begin () + sorted.size () / 2, sorted.end ());
      double median = sorted[sorted.size () / 2];
      double tol = std::max (0.05, 0.05 * median);
      if (vol->slice_gap_max - median > tol || median - vol->slice_gap_min > tol)
        {
          size_t worst = 0;
          for (size_t g = 1; g < gaps.size (); g++)
            if (std::fabs (gaps[g] - median) > std::fabs (gaps[worst] - median))
              worst = g;
          L.warn (fmt ("series %s: irregular slice spacing: median %.3f mm, smallest %.3f mm, "
                       "largest %.3f mm; the largest departure is %.3f mm between %s and %s",
                       s.uid.c_str (), median, vol->slice_gap_min, vol->slice_gap_max,
                       gaps[worst], slice_name (*good[worst]).c_str (),
                       slice_name (*good[worst + 1]).c_str ()));
        }
    }
  else
    {
      vol->spacing[2] = 1.0;
      vol->slice_gap_min = vol->slice_gap_max = 0.0;
    }

  return true;
}

} // namespace mm
