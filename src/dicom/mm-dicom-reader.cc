/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The series reader: find files, read headers in parallel, group by series, pick one, order
 * its slices along the normal, check they agree, decode pixels in parallel into HU
 * (each slice by mm-dicom-decode.cc). */
#include "mm-dicom.h"
#include "mm-dicom-private.hh"
#include "mm-text.h"
#include "mm-dicom-multiframe.hh"
#include "mm-dicom-decode.hh"
#include "mm-dicom-util.hh"
#include "mm-limits.h"
#include "mm-profile.h"

#include <gdcmTrace.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstring>
#include <map>
#include <omp.h>
#include <set>
#include <string>
#include <vector>

using mm::SliceHeader;
using mm::fmt;

G_DEFINE_QUARK (mm-dicom-error-quark, mm_dicom_error)

#define DEFAULT_ORIENTATION_TOLERANCE 1e-3
/* Two slices closer than this along the normal are at the same place. */
#define DUPLICATE_TOLERANCE_MM 0.01

MmDicomReport *
mm_dicom_report_new (void)
{
  MmDicomReport *r = g_new0 (MmDicomReport, 1);
  r->warnings = g_ptr_array_new_with_free_func (g_free);
  r->series = g_ptr_array_new ();
  return r;
}

void
mm_dicom_report_free (MmDicomReport *r)
{
  if (r == nullptr)
    return;
  g_ptr_array_unref (r->warnings);
  for (guint i = 0; i < r->series->len; i++)
    {
      auto *s = (MmDicomSeriesInfo *) r->series->pdata[i];
      g_free (s->uid);
      g_free (s->modality);
      g_free (s->description);
      g_free (s);
    }
  g_ptr_array_unref (r->series);
  g_free (r->chosen_uid);
  g_free (r->chosen_reason);
  g_free (r);
}

void
mm_dicom_load_options_init (MmDicomLoadOptions *opts)
{
  std::memset (opts, 0, sizeof *opts);
  opts->orientation_tolerance = DEFAULT_ORIENTATION_TOLERANCE;
}

namespace
{

struct Loader
{
  const MmDicomLoadOptions *opts;
  MmDicomReport *report;
  int n_threads;

  void
  warn (const std::string &line)
  {
    g_ptr_array_add (report->warnings, g_strdup (line.c_str ()));
  }

  void
  progress (double f)
  {
    if (opts->progress)
      opts->progress (f, opts->progress_data);
  }

  bool
  cancelled ()
  {
    return g_cancellable_is_cancelled (opts->cancellable);
  }
};

bool
is_dicomdir_name (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  return g_ascii_strcasecmp (base, "DICOMDIR") == 0;
}

/* Every regular file below dir, skipping hidden entries and our own project folders;
 * FIFOs, devices and sockets go to special (never opened: a FIFO would block). */
void
walk (const std::string &dir, std::vector<std::string> &out, std::vector<std::string> &special,
      int depth)
{
  if (depth > 32)
    return;
  GDir *d = g_dir_open (dir.c_str (), 0, nullptr);
  if (d == nullptr)
    return;
  std::vector<std::string> names;
  while (const char *name = g_dir_read_name (d))
    names.emplace_back (name);
  g_dir_close (d);
  std::sort (names.begin (), names.end ());
  for (const std::string &name : names)
    {
      if (name[0] == '.' || g_str_has_suffix (name.c_str (), ".metalmark"))
        continue;
      std::string path = dir + "/" + name;
      if (g_file_test (path.c_str (), G_FILE_TEST_IS_SYMLINK)
          && g_file_test (path.c_str (), G_FILE_TEST_IS_DIR))
        continue; /* no symlink loops */
      if (g_file_test (path.c_str (), G_FILE_TEST_IS_DIR))
        walk (path, out, special, depth + 1);
      else if (g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
        {
          /* A DICOMDIR inside a scanned folder only repeats what the walk finds. */
          if (!is_dicomdir_name (path.c_str ()))
            out.push_back (path);
        }
      else if (g_file_test (path.c_str (), G_FILE_TEST_EXISTS))
        special.push_back (path);
    }
}

bool
collect_files (Loader &L, const char *const *paths, guint n_paths,
               std::vector<std::string> &files, GError **error)
{
  for (guint p = 0; p < n_paths; p++)
    {
      const char *path = paths[p];
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NOT_FOUND,
                       "%s: no such file or folder", path);
          return false;
        }
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          std::string dir (path);
          while (dir.size () > 1 && dir.back () == '/')
            dir.pop_back ();
          std::vector<std::string> special;
          walk (dir, files, special, 0);
          for (const std::string &f : special)
            L.warn (f + ": skipped: not a regular file (FIFOs, devices and sockets are not read)");
        }
      else if (is_dicomdir_name (path))
        {
          std::string why;
          std::vector<std::string> refused;
          bool ok = mm::read_dicomdir (path, files, why, refused);
          for (const std::string &r : refused)
            L.warn (std::string (path) + ": skipped " + r);
          if (!ok)
            {
              g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NO_SERIES, "%s: %s", path,
                           why.c_str ());
              return false;
            }
        }
      else
        files.emplace_back (path);
    }
  /* The same file named twice (a folder and a file in it) counts once. */
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (const std::string &f : files)
    {
      g_autofree char *canon = g_canonicalize_filename (f.c_str (), nullptr);
      if (seen.insert (canon).second)
        unique.push_back (f);
    }
  files.swap (unique);
  return true;
}

struct Series
{
  std::string uid;
  std::vector<SliceHeader *> slices;
  bool is_ct = false;
  std::string modality, description;
};

/* Refuse a series whose slices disagree in what a volume needs to be the same. */
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
                       s.uid.c_str (), mm::slice_name (*a).c_str (), a->cols, a->rows,
                       mm::slice_name (*b).c_str (),
                       b->cols, b->rows);
          return false;
        }
      for (int c = 0; c < 6; c++)
        if (std::fabs (b->iop[c] - a->iop[c]) > tol)
          {
            g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_INCONSISTENT,
                         "series %s: slices differ in orientation by more than %g: %s and %s "
                         "(Image Orientation (Patient) (0020,0037))",
                         s.uid.c_str (), tol, mm::slice_name (*a).c_str (),
                         mm::slice_name (*b).c_str ());
            return false;
          }
      for (int c = 0; c < 2; c++)
        if (std::fabs (b->pixel_spacing[c] - a->pixel_spacing[c])
            > 1e-3 * a->pixel_spacing[c])
          {
            g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_INCONSISTENT,
                         "series %s: slices differ in Pixel Spacing (0028,0030): %s has "
                         "%g\\%g mm, %s has %g\\%g mm",
                         s.uid.c_str (), mm::slice_name (*a).c_str (), a->pixel_spacing[0],
                         a->pixel_spacing[1], mm::slice_name (*b).c_str (), b->pixel_spacing[0],
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

bool
is_integral (double v)
{
  return std::fabs (v - std::nearbyint (v)) < 1e-9;
}

} // namespace

static MmVolume *load_or_scan (const char *const *paths, guint n_paths,
                               const MmDicomLoadOptions *opts_in, MmDicomReport *report_in,
                               bool scan_only, GError **error);

MmVolume *
mm_dicom_load (const char *const *paths, guint n_paths, const MmDicomLoadOptions *opts,
               MmDicomReport *report, GError **error)
{
  return load_or_scan (paths, n_paths, opts, report, false, error);
}

bool
mm_dicom_scan (const char *const *paths, guint n_paths, const MmDicomLoadOptions *opts,
               MmDicomReport *report, GError **error)
{
  GError *err = nullptr;
  load_or_scan (paths, n_paths, opts, report, true, &err);
  if (err)
    {
      g_propagate_error (error, err);
      return false;
    }
  return true;
}

static MmVolume *load_or_scan_unguarded (const char *const *paths, guint n_paths,
                                          const MmDicomLoadOptions *opts_in,
                                          MmDicomReport *report_in, bool scan_only,
                                          GError **error);

/* No C++ exception leaves the C API: whatever escapes the reader (an allocation that fails)
 * becomes an error. */
static MmVolume *
load_or_scan (const char *const *paths, guint n_paths, const MmDicomLoadOptions *opts_in,
              MmDicomReport *report_in, bool scan_only, GError **error)
{
  GError *err = nullptr;
  MmVolume *vol = nullptr;
  try
    {
      vol = load_or_scan_unguarded (paths, n_paths, opts_in, report_in, scan_only, &err);
    }
  catch (const std::bad_alloc &)
    {
      g_clear_error (&err);
      g_set_error (&err, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE, "%s: out of memory",
                   paths && n_paths ? paths[0] : "");
    }
  catch (const std::exception &e)
    {
      g_clear_error (&err);
      g_set_error (&err, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE, "%s: %s",
                   paths && n_paths ? paths[0] : "", e.what ());
    }
  catch (...)
    {
      g_clear_error (&err);
      g_set_error (&err, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE, "%s: the reader failed",
                   paths && n_paths ? paths[0] : "");
    }
  if (err)
    {
      g_clear_pointer (&vol, mm_volume_free);
      g_propagate_error (error, err);
    }
  return vol;
}

static MmVolume *
load_or_scan_unguarded (const char *const *paths, guint n_paths,
                        const MmDicomLoadOptions *opts_in, MmDicomReport *report_in,
                        bool scan_only, GError **error)
{
  g_return_val_if_fail (paths != nullptr && n_paths > 0, nullptr);

  MmDicomLoadOptions defaults;
  mm_dicom_load_options_init (&defaults);
  const MmDicomLoadOptions *opts = opts_in ? opts_in : &defaults;
  g_autoptr (MmDicomReport) own_report = report_in ? nullptr : mm_dicom_report_new ();
  Loader L{ opts, report_in ? report_in : own_report, 0 };
  L.n_threads = opts->n_threads > 0 ? opts->n_threads : omp_get_max_threads ();

  /* GDCM reports problems on stderr; ours go into the report, one line per file. */
  gdcm::Trace::SetDebug (false);
  gdcm::Trace::SetWarning (false);
  gdcm::Trace::SetError (false);

  std::vector<std::string> files;
  if (!collect_files (L, paths, n_paths, files, error))
    return nullptr;
  L.report->files_found = files.size ();
  if (files.empty ())
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NO_SERIES, "%s: no files to read",
                   paths[0]);
      return nullptr;
    }

  /* Pass 1: headers, in parallel. */
  std::vector<SliceHeader> headers (files.size ());
  std::atomic<size_t> done{ 0 };
  std::atomic<bool> stop{ false };
#pragma omp parallel for num_threads (L.n_threads) schedule (dynamic, 8)
  for (size_t f = 0; f < files.size (); f++)
    {
      if (stop.load (std::memory_order_relaxed))
        continue;
      gint64 t0 = mm_profile_begin ();
      headers[f] = mm::read_slice_header (files[f]);
      mm_profile_end (MM_PROFILE_HEADERS, t0);
      size_t d = ++done;
      if (omp_get_thread_num () == 0)
        {
          L.progress (0.1 * d / files.size ());
          if (L.cancelled ())
            stop = true;
        }
    }
  if (L.cancelled ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "loading was cancelled");
      return nullptr;
    }

  {
    /* A multi-frame file becomes one header per frame (mm-dicom-multiframe.cc). */
    std::vector<std::string> lines;
    mm::expand_frames (headers, lines);
    for (const std::string &line : lines)
      L.warn (line);
  }

  std::map<std::string, Series> by_uid;
  for (SliceHeader &h : headers)
    {
      if (!h.usable)
        {
          L.report->files_skipped++;
          L.warn (h.path + ": skipped: " + h.reason);
          continue;
        }
      Series &s = by_uid[h.series_uid];
      s.uid = h.series_uid;
      s.slices.push_back (&h);
      if (h.modality == "CT" || mm::is_ct_sop_class (h.sop_class))
        s.is_ct = true;
      if (s.modality.empty ())
        s.modality = h.modality;
      if (s.description.empty ())
        s.description = h.description;
    }
  if (by_uid.empty ())
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NO_SERIES,
                   "%s: no readable DICOM image among %zu file%s%s%s", paths[0], files.size (),
                   files.size () == 1 ? "" : "s",
                   files.size () == 1 ? ": " : "",
                   files.size () == 1 ? headers[0].reason.c_str () : "");
      return nullptr;
    }

  /* Every series, largest CT first: the report's list, and the default choice. */
  std::vector<Series *> order;
  for (auto &kv : by_uid)
    order.push_back (&kv.second);
  std::stable_sort (order.begin (), order.end (), [] (const Series *a, const Series *b) {
    if (a->is_ct != b->is_ct)
      return a->is_ct;
    return a->slices.size () > b->slices.size ();
  });
  for (Series *s : order)
    {
      auto *info = g_new0 (MmDicomSeriesInfo, 1);
      info->uid = g_strdup (s->uid.c_str ());
      info->modality = s->modality.empty () ? nullptr : g_strdup (s->modality.c_str ());
      info->is_ct = s->is_ct;
      info->description = s->description.empty () ? nullptr : g_strdup (s->description.c_str ());
      info->n_files = s->slices.size ();
      g_ptr_array_add (L.report->series, info);
    }

  if (scan_only)
    return nullptr;

  Series *chosen = nullptr;
  if (opts->series_uid)
    {
      auto it = by_uid.find (opts->series_uid);
      if (it == by_uid.end ())
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NOT_FOUND,
                       "%s: no series with UID %s (%zu series found)", paths[0],
                       opts->series_uid, by_uid.size ());
          return nullptr;
        }
      chosen = &it->second;
    }
  else
    {
      chosen = order.front ();
      if (order.size () > 1)
        L.report->chosen_reason = g_strdup_printf (
            "%zu series found; loading the %s series with the most slices, %s (%zu slices)",
            order.size (), chosen->is_ct ? "CT" : "image",
            chosen->uid.empty () ? "(no Series Instance UID)" : chosen->uid.c_str (),
            chosen->slices.size ());
    }
  L.report->chosen_uid = g_strdup (chosen->uid.c_str ());

  if (!check_consistency (L, *chosen, error))
    return nullptr;

  /* Order along the normal: never by Slice Location, Instance Number or file name. */
  std::vector<SliceHeader *> &sl = chosen->slices;
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
                         mm::slice_name (*h).c_str (), mm::slice_name (*kept.back ()).c_str (), h->z,
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

  /* Pass 2: pixels, in parallel, straight into the volume. Integral rescales give int16;
   * others float. A value beyond int16 sends us round again as float. */
  bool want_float = false;
  for (const SliceHeader *h : sl)
    if (!is_integral (h->slope) || !is_integral (h->intercept))
      want_float = true;

  const SliceHeader *first = sl.front ();
  int dims[3] = { first->cols, first->rows, (int) sl.size () };
  g_autoptr (MmVolume) vol = nullptr;
  std::vector<std::string> failures;
  const bool streaming = opts->slice_func != nullptr;
  if (streaming && want_float)
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_STREAM,
                   "%s: cannot stream: its rescale is not integral", paths[0]);
      return nullptr;
    }
  if ((uint64_t) dims[0] * (uint64_t) dims[1] * (uint64_t) dims[2] > MM_LIMIT_VOLUME_VOXELS)
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE,
                   "%s: series %s: %d x %d x %d voxels exceed the limit of %llu", paths[0],
                   chosen->uid.c_str (), dims[0], dims[1], dims[2],
                   (unsigned long long) MM_LIMIT_VOLUME_VOXELS);
      return nullptr;
    }
  for (int attempt = 0; attempt < 2; attempt++)
    {
      MmVoxelType type = want_float ? MM_VOXEL_FLOAT32 : MM_VOXEL_INT16;
      g_clear_pointer (&vol, mm_volume_free);
      vol = streaming ? mm_volume_new_empty (dims, type) : mm_volume_new (dims, type);
      if (vol == nullptr)
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE,
                       "%s: not enough memory for %d x %d x %d voxels", paths[0], dims[0],
                       dims[1], dims[2]);
          return nullptr;
        }
      size_t slice_bytes = mm_volume_slice_voxels (vol) * (type == MM_VOXEL_INT16 ? 2 : 4);
      failures.assign (sl.size (), std::string ());
      std::atomic<bool> overflow{ false };
      done = 0;
#pragma omp parallel num_threads (L.n_threads)
      {
        std::vector<char> file_buf, buf; /* reused across this thread's slices */
        std::vector<char> stream_buf;
        bool have_buf = true;
        try
          {
            stream_buf.resize (streaming ? slice_bytes : 0);
          }
        catch (...)
          {
            have_buf = false; /* an exception must not leave a parallel region */
          }
#pragma omp for schedule (dynamic, 2)
        for (size_t k = 0; k < sl.size (); k++)
          {
            if (stop.load (std::memory_order_relaxed))
              continue;
            if (!have_buf)
              {
                failures[k] = "out of memory";
                continue;
              }
            bool of = false;
            std::string why;
            char *dst = streaming ? stream_buf.data () : (char *) vol->voxels + k * slice_bytes;
            gint64 t0 = mm_profile_begin ();
            bool decoded = mm::decode_slice (*sl[k], type, dst, file_buf, buf, of, why);
            mm_profile_end (MM_PROFILE_DECODE, t0);
            if (!decoded)
              failures[k] = why.empty () ? "cannot decode its pixel data" : why;
            else if (streaming && !of)
              {
                t0 = mm_profile_begin ();
                opts->slice_func ((int) k, (const int16_t *) dst, dims, opts->slice_data);
                mm_profile_end (MM_PROFILE_THRESHOLD, t0);
              }
            if (of)
              overflow = true;
            size_t d = ++done;
            if (omp_get_thread_num () == 0)
              {
                L.progress (0.1 + 0.9 * d / sl.size ());
                if (L.cancelled ())
                  stop = true;
              }
          }
      }
      if (L.cancelled ())
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "loading was cancelled");
          return nullptr;
        }
      if (streaming)
        {
          size_t bad = 0;
          while (bad < failures.size () && failures[bad].empty ())
            bad++;
          if (overflow || bad < failures.size ())
            {
              g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_STREAM, "%s: cannot stream: %s",
                           paths[0], overflow ? "values beyond int16"
                                              : (sl[bad]->path + ": " + failures[bad]).c_str ());
              return nullptr;
            }
          break;
        }
      if (!overflow || want_float)
        break;
      want_float = true;
    }

  /* Drop slices that failed to decode, keeping the rest in order. */
  size_t slice_bytes = mm_volume_slice_voxels (vol) * (vol->type == MM_VOXEL_INT16 ? 2 : 4);
  std::vector<SliceHeader *> good;
  for (size_t k = 0; k < sl.size (); k++)
    {
      if (!failures[k].empty ())
        {
          L.report->files_skipped++;
          L.warn (sl[k]->path + ": skipped: " + failures[k]);
          continue;
        }
      if (good.size () != k)
        std::memmove ((char *) vol->voxels + good.size () * slice_bytes,
                      (char *) vol->voxels + k * slice_bytes, slice_bytes);
      good.push_back (sl[k]);
    }
  if (good.empty ())
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE,
                   "%s: none of the %zu slices of series %s could be decoded; first: %s: %s",
                   paths[0], sl.size (), chosen->uid.c_str (), sl[0]->path.c_str (),
                   failures[0].c_str ());
      return nullptr;
    }
  if (good.size () != sl.size ())
    {
      /* Shrink the volume to the slices we have. */
      int nd[3] = { dims[0], dims[1], (int) good.size () };
      MmVolume *small = mm_volume_new (nd, vol->type);
      if (small == nullptr)
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE, "%s: out of memory",
                       paths[0]);
          return nullptr;
        }
      std::memcpy (small->voxels, vol->voxels, good.size () * slice_bytes);
      mm_volume_free (vol);
      vol = small;
    }
  L.report->files_read = good.size ();

  /* Geometry and series attributes. */
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
      MmSliceInfo *s = &vol->slices[k];
      std::memcpy (s->position, good[k]->ipp, sizeof s->position);
      s->file = g_strdup (good[k]->path.c_str ());
      s->sop_instance_uid = good[k]->sop_uid.empty () ? nullptr
                                                      : g_strdup (good[k]->sop_uid.c_str ());
      s->instance_number = good[k]->instance == INT_MIN ? G_MININT : good[k]->instance;
      s->frame_number = good[k]->frame >= 0 ? good[k]->frame + 1 : 0;
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
                       chosen->uid.c_str (), good[0]->path.c_str (),
                       good[n - 1]->path.c_str (), vol->spacing[2], MM_SPACING_MIN_MM,
                       MM_SPACING_MAX_MM);
          return nullptr;
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
                       chosen->uid.c_str (), median, vol->slice_gap_min, vol->slice_gap_max,
                       gaps[worst], mm::slice_name (*good[worst]).c_str (),
                       mm::slice_name (*good[worst + 1]).c_str ()));
        }
    }
  else
    {
      vol->spacing[2] = 1.0;
      vol->slice_gap_min = vol->slice_gap_max = 0.0;
    }

  auto dup = [] (const std::string &s) { return s.empty () ? nullptr : g_strdup (s.c_str ()); };
  vol->series_uid = dup (chosen->uid);
  vol->study_uid = dup (first->study_uid);
  vol->series_description = dup (chosen->description);
  vol->modality = dup (chosen->modality);
  vol->frame_of_reference_uid = dup (first->frame_uid);
  vol->rescale_slope = first->slope;
  vol->rescale_intercept = first->intercept;
  vol->has_window = first->has_window;
  vol->window_center = first->window_center;
  vol->window_width = first->window_width;
  if (first->has_padding)
    {
      vol->has_padding_value = true;
      vol->padding_value_hu = first->padding_stored * first->slope + first->intercept;
      if (first->has_padding_limit)
        {
          vol->has_padding_range = true;
          vol->padding_limit_hu = first->padding_limit_stored * first->slope + first->intercept;
        }
    }
  /* HU only for CT whose Rescale Type says HU or nothing; an MR is not in HU. */
  bool ct = first->modality == "CT"
            || (first->modality.empty () && mm::is_ct_sop_class (first->sop_class));
  g_free (vol->unit);
  vol->unit = !first->rescale_type.empty () ? mm_text_printable (first->rescale_type.c_str ())
              : ct                          ? g_strdup ("HU")
                                            : g_strdup ("stored values");
  vol->not_acquired = dup (first->not_acquired);
  L.progress (1.0);
  return g_steal_pointer (&vol);
}
