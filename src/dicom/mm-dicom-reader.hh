/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The series reader's stages, shared between its files: walk (mm-dicom-walk.cc) finds the
 * files, group (mm-dicom-group.cc) puts their headers into series with one "same series?"
 * predicate, order (mm-dicom-order.cc) checks and sorts the chosen series and gives its
 * geometry, and mm-dicom-reader.cc runs the passes and decodes. */
#pragma once

#include "mm-dicom.h"
#include "mm-dicom-private.hh"

#include <deque>
#include <string>
#include <vector>

namespace mm
{

/* One load: its options, its report, its thread count. */
struct Loader
{
  const MmDicomLoadOptions *opts;
  MmDicomReport *report;
  int n_threads;

  void warn (const std::string &line) { g_ptr_array_add (report->warnings, g_strdup (line.c_str ())); }
  void
  progress (double f)
  {
    if (opts->progress)
      opts->progress (f, opts->progress_data);
  }
  bool cancelled () { return g_cancellable_is_cancelled (opts->cancellable); }
};

/* Every file the paths name: folders walked (hidden entries, our own project folders and
 * symlinked folders skipped; FIFOs, devices and sockets warned about, never opened),
 * DICOMDIRs read, each file once. False with error when a path does not exist or a DICOMDIR
 * cannot be read. */
bool collect_files (Loader &L, const char *const *paths, guint n_paths,
                    std::vector<std::string> &files, GError **error);

struct Series
{
  std::string id;  /* how --series names it: the UID, "UID#2" for a second part of one UID */
  std::string uid; /* Series Instance UID */
  std::vector<SliceHeader *> slices;
  bool is_ct = false;
  std::string modality, description;
  /* Why it is a series of its own, beside the others found: empty when it is the only one. */
  std::string split_reason;
};

/* The "same series?" predicate: whether slice b belongs with slice a. When not, why is one
 * sentence naming the DICOM field that differs and both values. */
bool same_series (const SliceHeader &a, const SliceHeader &b, std::string &why);

/* The usable headers grouped into series by same_series, every series' split_reason set
 * when there are several. Unusable headers are counted and warned about. */
void group_series (Loader &L, std::vector<SliceHeader> &headers, std::deque<Series> &series);

/* Refuse a series whose slices disagree in size, orientation or pixel spacing, or (with
 * several slices) lack a position. */
bool check_consistency (Loader &L, const Series &s, GError **error);

/* Sort the slices along the normal (never by Slice Location, Instance Number or file name),
 * drop those at the same position with a warning, and warn about assumed geometry. */
void order_slices (Loader &L, Series &s);

/* Orientation, spacing (the slice spacing from the positions) and per-slice attributes of
 * the slices that went into vol; false with error when the spacing is absurd. */
bool set_geometry (Loader &L, const Series &s, const std::vector<SliceHeader *> &good,
                   MmVolume *vol, GError **error);

} // namespace mm
