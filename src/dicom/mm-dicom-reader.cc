/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The series reader: find files (mm-dicom-walk.cc), read headers in parallel, group them
 * into series (mm-dicom-group.cc), pick one, check and order its slices along the normal
 * (mm-dicom-order.cc), decode pixels in parallel into HU (each slice by mm-dicom-decode.cc). */
#include "mm-dicom.h"
#include "mm-dicom-private.hh"
#include "mm-dicom-reader.hh"
#include "mm-text.h"
#include "mm-dicom-multiframe.hh"
#include "mm-dicom-decode.hh"
#include "mm-dicom-util.hh"
#include "mm-limits.h"
#include "mm-profile.h"

#include <gdcmTrace.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstring>
#include <deque>
#include <memory>
#include <omp.h>
#include <set>
#include <string>
#include <vector>

using mm::Loader;
using mm::Series;
using mm::SliceHeader;
using mm::fmt;

static bool
is_integral (double v)
{
  return std::fabs (v - std::nearbyint (v)) < 1e-9;
}

/* The series' attributes, from its first slice. */
static void
set_attributes (MmVolume *vol, const Series &chosen)
{
  const SliceHeader &first = *chosen.slices.front ();
  auto dup = [] (const std::string &s) { return s.empty () ? nullptr : g_strdup (s.c_str ()); };
  vol->series_uid = dup (chosen.uid);
  vol->study_uid = dup (first.study_uid);
  vol->series_description = dup (chosen.description);
  vol->modality = dup (chosen.modality);
  vol->frame_of_reference_uid = dup (first.frame_uid);
  vol->rescale_slope = first.slope;
  vol->rescale_intercept = first.intercept;
  vol->has_window = first.has_window;
  vol->window_center = first.window_center;
  vol->window_width = first.window_width;
  if (first.has_padding)
    {
      vol->has_padding_value = true;
      vol->padding_value_hu = first.padding_stored * first.slope + first.intercept;
      if (first.has_padding_limit)
        {
          vol->has_padding_range = true;
          vol->padding_limit_hu = first.padding_limit_stored * first.slope + first.intercept;
        }
    }
  /* HU only for CT whose Rescale Type says HU or nothing; an MR is not in HU. */
  bool ct = first.modality == "CT"
            || (first.modality.empty () && mm::is_ct_sop_class (first.sop_class));
  g_free (vol->unit);
  vol->unit = !first.rescale_type.empty () ? mm_text_printable (first.rescale_type.c_str ())
              : ct                          ? g_strdup ("HU")
                                            : g_strdup ("stored values");
  vol->not_acquired = dup (first.not_acquired);
}

G_DEFINE_QUARK (mm-dicom-error-quark, mm_dicom_error)

/* What the scan read, up to the grouping into series: a load given it starts there. */
struct _MmDicomScan
{
  gint refs = 1;
  guint files_found = 0;
  size_t n_files = 0;                 /* files read (for the "no readable image" message) */
  std::vector<std::string> warnings;  /* from the walk and the header pass, in order */
  std::vector<SliceHeader> headers;   /* one per frame, multi-frame files expanded */
  /* Each usable file's size, modification time and inode when the scan was kept: a load
   * takes the headers only while every such file still has them (a folder filled again
   * since, e.g. a PACS cache or a new export, must not be decoded at the old offsets). */
  std::vector<std::pair<std::string, std::array<gint64, 3>>> stamps;
};

/* Size, modification time (ns) and inode of path; false when it cannot be stat'ed. */
static bool
file_stamp (const std::string &path, std::array<gint64, 3> &stamp)
{
  GStatBuf st;
  if (g_stat (path.c_str (), &st) != 0)
    return false;
  stamp = { (gint64) st.st_size, (gint64) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
            (gint64) st.st_ino };
  return true;
}

static void
scan_stamp (MmDicomScan *scan)
{
  std::set<std::string> seen;
  for (const SliceHeader &h : scan->headers)
    if (h.usable && seen.insert (h.path).second)
      {
        std::array<gint64, 3> stamp = { -1, -1, -1 };
        file_stamp (h.path, stamp);
        scan->stamps.emplace_back (h.path, stamp);
      }
}

/* Whether every file of scan is as it was when the scan was kept. */
static bool
scan_current (const MmDicomScan *scan)
{
  for (const auto &f : scan->stamps)
    {
      std::array<gint64, 3> now;
      if (!file_stamp (f.first, now) || now != f.second)
        return false;
    }
  return true;
}

MmDicomScan *
mm_dicom_scan_ref (MmDicomScan *scan)
{
  g_atomic_int_inc (&scan->refs);
  return scan;
}

void
mm_dicom_scan_unref (MmDicomScan *scan)
{
  if (scan && g_atomic_int_dec_and_test (&scan->refs))
    delete scan;
}

#define DEFAULT_ORIENTATION_TOLERANCE 1e-3

static char *
dup_or_null (const std::string &s)
{
  return s.empty () ? nullptr : g_strdup (s.c_str ());
}

/* The series browser's fields: from the middle slice along the normal (headers are not yet
 * sorted at scan time; the thumbnail should show the middle of the anatomy, not of the file
 * names). */
static void
browser_fields (const Series &s, MmDicomSeriesInfo *info)
{
  info->middle_frame = -1;
  if (s.slices.empty ())
    return;
  std::vector<std::pair<double, const SliceHeader *>> order;
  for (const SliceHeader *h : s.slices)
    {
      const double *r = h->iop, *c = h->iop + 3;
      double n[3] = { r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2],
                      r[0] * c[1] - r[1] * c[0] };
      double z = h->ipp[0] * n[0] + h->ipp[1] * n[1] + h->ipp[2] * n[2];
      order.emplace_back (h->has_ipp ? z : 0.0, h);
    }
  std::stable_sort (order.begin (), order.end (),
                    [] (const auto &a, const auto &b) { return a.first < b.first; });
  const SliceHeader &m = *order[order.size () / 2].second;
  info->patient_name = dup_or_null (m.patient_name);
  info->patient_id = dup_or_null (m.patient_id);
  info->study_uid = dup_or_null (m.study_uid);
  info->study_description = dup_or_null (m.study_description);
  info->study_date = dup_or_null (m.study_date);
  info->series_number = dup_or_null (m.series_number);
  info->image_type = dup_or_null (m.image_type);
  info->middle_file = g_strdup (m.path.c_str ());
  info->middle_frame = m.frame;
}

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
      g_free (s->split_reason);
      g_strfreev (s->files);
      g_free (s->patient_name);
      g_free (s->patient_id);
      g_free (s->study_uid);
      g_free (s->study_description);
      g_free (s->study_date);
      g_free (s->series_number);
      g_free (s->image_type);
      g_free (s->middle_file);
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

static MmVolume *load_or_scan (const char *const *paths, guint n_paths,
                               const MmDicomLoadOptions *opts_in, MmDicomReport *report_in,
                               bool scan_only, MmDicomScan **keep, GError **error);

MmVolume *
mm_dicom_load (const char *const *paths, guint n_paths, const MmDicomLoadOptions *opts,
               MmDicomReport *report, GError **error)
{
  return load_or_scan (paths, n_paths, opts, report, false, nullptr, error);
}

bool
mm_dicom_scan (const char *const *paths, guint n_paths, const MmDicomLoadOptions *opts,
               MmDicomReport *report, GError **error)
{
  GError *err = nullptr;
  load_or_scan (paths, n_paths, opts, report, true, nullptr, &err);
  if (err)
    {
      g_propagate_error (error, err);
      return false;
    }
  return true;
}

MmDicomScan *
mm_dicom_scan_keep (const char *const *paths, guint n_paths, const MmDicomLoadOptions *opts,
                    MmDicomReport *report, GError **error)
{
  MmDicomScan *scan = nullptr;
  GError *err = nullptr;
  load_or_scan (paths, n_paths, opts, report, true, &scan, &err);
  if (err)
    {
      mm_dicom_scan_unref (scan);
      g_propagate_error (error, err);
      return nullptr;
    }
  return scan;
}

static MmVolume *load_or_scan_unguarded (const char *const *paths, guint n_paths,
                                          const MmDicomLoadOptions *opts_in,
                                          MmDicomReport *report_in, bool scan_only,
                                          MmDicomScan **keep, GError **error);

/* No C++ exception leaves the C API: whatever escapes the reader (an allocation that fails)
 * becomes an error. */
static MmVolume *
load_or_scan (const char *const *paths, guint n_paths, const MmDicomLoadOptions *opts_in,
              MmDicomReport *report_in, bool scan_only, MmDicomScan **keep, GError **error)
{
  GError *err = nullptr;
  MmVolume *vol = nullptr;
  try
    {
      vol = load_or_scan_unguarded (paths, n_paths, opts_in, report_in, scan_only, keep, &err);
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

/* The walk and the header pass (in parallel), multi-frame files expanded to one header per
 * frame; n_files: the files read. False with error when nothing can be read or on cancel. */
static bool
read_headers (Loader &L, const char *const *paths, guint n_paths,
              std::vector<SliceHeader> &headers, size_t &n_files, GError **error)
{
  std::vector<std::string> files;
  if (!mm::collect_files (L, paths, n_paths, files, error))
    return false;
  L.report->files_found = files.size ();
  if (files.empty ())
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NO_SERIES, "%s: no files to read",
                   paths[0]);
      return false;
    }

  /* Pass 1: headers, in parallel. */
  headers.resize (files.size ());
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
      return false;
    }

  {
    /* A multi-frame file becomes one header per frame (mm-dicom-multiframe.cc). */
    std::vector<std::string> lines;
    mm::expand_frames (headers, lines);
    for (const std::string &line : lines)
      L.warn (line);
  }
  n_files = files.size ();
  return true;
}

static MmVolume *
load_or_scan_unguarded (const char *const *paths, guint n_paths,
                        const MmDicomLoadOptions *opts_in, MmDicomReport *report_in,
                        bool scan_only, MmDicomScan **keep, GError **error)
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

  std::vector<SliceHeader> headers;
  size_t n_files = 0;
  const guint warnings_at = L.report->warnings->len;
  if (opts->scan && scan_current (opts->scan))
    {
      /* Where the scan stopped: its files, headers and warnings, as if read now. */
      const MmDicomScan *scan = opts->scan;
      L.report->files_found = scan->files_found;
      for (const std::string &line : scan->warnings)
        L.warn (line);
      headers = scan->headers;
      n_files = scan->n_files;
      L.progress (0.1);
    }
  else if (!read_headers (L, paths, n_paths, headers, n_files, error))
    return nullptr;
  if (keep)
    {
      /* Everything said so far is the scan's to say again; the headers are moved in below,
       * once the series (which point into them) are no longer needed. */
      *keep = new MmDicomScan;
      (*keep)->files_found = L.report->files_found;
      (*keep)->n_files = n_files;
      for (guint w = warnings_at; w < L.report->warnings->len; w++)
        (*keep)->warnings.emplace_back ((const char *) L.report->warnings->pdata[w]);
    }

  std::deque<Series> all;
  mm::group_series (L, headers, all);
  if (all.empty ())
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NO_SERIES,
                   "%s: no readable DICOM image among %zu file%s%s%s", paths[0], n_files,
                   n_files == 1 ? "" : "s", n_files == 1 ? ": " : "",
                   n_files == 1 ? headers[0].reason.c_str () : "");
      return nullptr;
    }

  /* Every series, largest CT first: the report's list, and the default choice. */
  std::vector<Series *> order;
  for (Series &s : all)
    order.push_back (&s);
  std::stable_sort (order.begin (), order.end (), [] (const Series *a, const Series *b) {
    if (a->is_ct != b->is_ct)
      return a->is_ct;
    if (a->slices.size () != b->slices.size ())
      return a->slices.size () > b->slices.size ();
    return a->id < b->id;
  });
  for (Series *s : order)
    {
      auto *info = g_new0 (MmDicomSeriesInfo, 1);
      info->uid = g_strdup (s->id.c_str ());
      info->split_reason = s->split_reason.empty () ? nullptr
                                                    : g_strdup (s->split_reason.c_str ());
      info->modality = s->modality.empty () ? nullptr : g_strdup (s->modality.c_str ());
      info->is_ct = s->is_ct;
      info->description = s->description.empty () ? nullptr : g_strdup (s->description.c_str ());
      info->n_files = s->slices.size ();
      /* A multi-frame file holds many slices: each path once, in slice order. */
      g_autoptr (GStrvBuilder) series_files = g_strv_builder_new ();
      std::set<std::string> seen;
      for (const SliceHeader *h : s->slices)
        if (seen.insert (h->path).second)
          g_strv_builder_add (series_files, h->path.c_str ());
      info->files = g_strv_builder_end (series_files);
      browser_fields (*s, info);
      g_ptr_array_add (L.report->series, info);
    }

  if (scan_only)
    {
      if (keep)
        {
          (*keep)->headers = std::move (headers);
          scan_stamp (*keep);
        }
      return nullptr;
    }

  Series *chosen = nullptr;
  if (opts->series_uid)
    {
      /* By the name the report gives ("UID#2" for a split-off part), else the largest part
       * with that UID. */
      for (Series *s : order)
        if (s->id == opts->series_uid)
          chosen = s;
      for (Series *s : order)
        if (chosen == nullptr && s->uid == opts->series_uid)
          chosen = s;
      if (chosen == nullptr)
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NOT_FOUND,
                       "%s: no series with UID %s (%zu series found)", paths[0],
                       opts->series_uid, all.size ());
          return nullptr;
        }
    }
  else
    {
      chosen = order.front ();
      if (order.size () > 1)
        L.report->chosen_reason = g_strdup_printf (
            "%zu series found; loading the %s series with the most slices, %s (%zu slices)",
            order.size (), chosen->is_ct ? "CT" : "image",
            chosen->id.empty () ? "(no Series Instance UID)" : chosen->id.c_str (),
            chosen->slices.size ());
    }
  L.report->chosen_uid = g_strdup (chosen->id.c_str ());

  if (!mm::check_consistency (L, *chosen, error))
    return nullptr;
  mm::order_slices (L, *chosen);
  std::vector<SliceHeader *> &sl = chosen->slices;

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
  if (streaming && want_float && opts->slice_float_func == nullptr)
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
  /* Progressive: the volume is announced (and from then on the caller's) once its first
   * slice is in; the rest is decoded into it. A failed slice or a value beyond int16 makes
   * the normal path below read a new volume, never touching the announced one again. */
  const bool progressive = opts->volume_func != nullptr;
  std::atomic<size_t> done{ 0 };
  std::atomic<bool> stop{ false };
  g_return_val_if_fail (!(progressive && streaming), nullptr);
  MmVolume *announced = nullptr;
  guint geometry_warnings_at = 0, n_geometry_warnings = 0;
  auto drop = [&announced] (MmVolume *&v) {
    if (v != announced)
      mm_volume_free (v);
    v = nullptr;
  };
  for (int attempt = 0; attempt < 2; attempt++)
    {
      MmVoxelType type = want_float ? MM_VOXEL_FLOAT32 : MM_VOXEL_INT16;
      drop (vol);
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

      /* Which slices to decode, in which order: with a progressive load the first slice
       * shown, then outwards from it (what scrolling and the other planes reach first). */
      const size_t n = sl.size ();
      std::vector<size_t> todo (n);
      std::unique_ptr<std::atomic<bool>[]> claimed (new std::atomic<bool>[n]);
      for (size_t k = 0; k < n; k++)
        {
          todo[k] = k;
          claimed[k] = false;
        }
      bool prog_now = progressive && announced == nullptr && attempt == 0;
      if (prog_now)
        {
          int want = opts->wanted_slice ? g_atomic_int_get (opts->wanted_slice) : -1;
          size_t k0 = want >= 0 && (size_t) want < n ? (size_t) want : n / 2;
          todo.clear ();
          todo.push_back (k0);
          for (size_t d = 1; todo.size () < n; d++)
            {
              if (k0 + d < n)
                todo.push_back (k0 + d);
              if (d <= k0)
                todo.push_back (k0 - d);
            }
          /* The first slice alone, then the announcement: the caller can paint it while
           * the others decode. Geometry and attributes as if every slice decodes. */
          std::vector<char> file_buf, buf;
          bool of = false;
          std::string why;
          claimed[k0] = true;
          bool decoded = mm::decode_slice (*sl[k0], type,
                                           (char *) vol->voxels + k0 * slice_bytes,
                                           file_buf, buf, of, why);
          GError *geometry_error = nullptr;
          if (decoded && !of)
            {
              /* Geometry warnings would come twice if the normal path had to run after. */
              guint n_warnings = L.report->warnings->len;
              if (!mm::set_geometry (L, *chosen, sl, vol, &geometry_error))
                {
                  drop (vol);
                  g_propagate_error (error, geometry_error);
                  return nullptr;
                }
              set_attributes (vol, *chosen);
              vol->slice_ready = g_new0 (gint, n);
              g_atomic_int_set (&vol->slice_ready[k0], 1);
              announced = vol;
              geometry_warnings_at = n_warnings;
              n_geometry_warnings = L.report->warnings->len - n_warnings;
              opts->volume_func (vol, (int) k0, opts->progressive_data);
              if (opts->ready_func)
                opts->ready_func ((int) k0, opts->progressive_data);
              done = 1;
            }
          else
            {
              claimed[k0] = false; /* the normal path reads it again, and reports it */
              prog_now = false;
            }
        }
      std::atomic<size_t> next{ 0 };
      /* The next slice to decode: one someone waits for, else the next in order; SIZE_MAX
       * when none is left. */
      auto take = [&] () -> size_t {
        if (prog_now && opts->wanted_slice)
          {
            int w = g_atomic_int_get (opts->wanted_slice);
            if (w >= 0 && (size_t) w < n && !claimed[w].exchange (true))
              return (size_t) w;
          }
        for (size_t i; (i = next.fetch_add (1)) < n;)
          if (!claimed[todo[i]].exchange (true))
            return todo[i];
        return SIZE_MAX;
      };
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
        for (size_t k; (k = take ()) != SIZE_MAX;)
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
                if (type == MM_VOXEL_INT16)
                  opts->slice_func ((int) k, (const int16_t *) dst, dims, opts->slice_data);
                else
                  opts->slice_float_func ((int) k, (const float *) dst, dims, opts->slice_data);
                mm_profile_end (MM_PROFILE_THRESHOLD, t0);
              }
            else if (prog_now && !of)
              {
                g_atomic_int_set (&vol->slice_ready[k], 1);
                if (opts->ready_func)
                  opts->ready_func ((int) k, opts->progressive_data);
              }
            if (of)
              overflow = true;
            /* Every thread may notice a cancellation: one thread may be asleep in a slow
             * ready_func (the tests') while the others go on. */
            size_t d = ++done;
            if (omp_get_thread_num () == 0)
              L.progress (0.1 + 0.9 * d / sl.size ());
            if (L.cancelled ())
              stop = true;
          }
      }
      if (L.cancelled ())
        {
          drop (vol);
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
      if (good.size () != k && vol != announced)
        std::memmove ((char *) vol->voxels + good.size () * slice_bytes,
                      (char *) vol->voxels + k * slice_bytes, slice_bytes);
      good.push_back (sl[k]);
    }
  if (good.empty ())
    {
      drop (vol);
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE,
                   "%s: none of the %zu slices of series %s could be decoded; first: %s: %s",
                   paths[0], sl.size (), chosen->uid.c_str (), sl[0]->path.c_str (),
                   failures[0].c_str ());
      return nullptr;
    }
  if (good.size () != sl.size ())
    {
      /* Shrink the volume to the slices we have; from the announced one by copying, so that
       * it stays as it is for whoever shows it. */
      int nd[3] = { dims[0], dims[1], (int) good.size () };
      MmVolume *small = mm_volume_new (nd, vol->type);
      if (small == nullptr)
        {
          drop (vol);
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE, "%s: out of memory",
                       paths[0]);
          return nullptr;
        }
      if (vol == announced)
        {
          size_t g = 0;
          for (size_t k = 0; k < sl.size (); k++)
            if (failures[k].empty ())
              std::memcpy ((char *) small->voxels + g++ * slice_bytes,
                           (char *) vol->voxels + k * slice_bytes, slice_bytes);
        }
      else
        std::memcpy (small->voxels, vol->voxels, good.size () * slice_bytes);
      drop (vol);
      vol = small;
    }
  L.report->files_read = good.size ();

  if (vol != announced)
    {
      /* The announced volume's geometry warnings stand for the same slices only when all
       * decoded; else they are redone for the slices kept. */
      if (n_geometry_warnings > 0)
        g_ptr_array_remove_range (L.report->warnings, geometry_warnings_at, n_geometry_warnings);
      if (!mm::set_geometry (L, *chosen, good, vol, error))
        {
          drop (vol);
          return nullptr;
        }
      set_attributes (vol, *chosen);
    }

  L.progress (1.0);
  return g_steal_pointer (&vol);
}
