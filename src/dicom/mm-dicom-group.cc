/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The reader's grouping: headers into series with one "same series?" predicate, which says
 * why when it splits (see mm-dicom-reader.hh). A Series Instance UID names a series, but a
 * UID copied into files of another study, frame of reference or modality (anonymisers and
 * hand-assembled folders do this) does not make them one volume. */
#include "mm-dicom-reader.hh"
#include "mm-dicom-multiframe.hh"
#include "mm-dicom-util.hh"

#include <algorithm>
#include <map>

namespace mm
{
namespace
{

/* Two non-empty values that differ; a value missing from one file does not split. */
bool
differ (const std::string &a, const std::string &b)
{
  return !a.empty () && !b.empty () && a != b;
}

std::string
field_differs (const char *field, const std::string &a, const std::string &b)
{
  return fmt ("%s differs (%s and %s)", field, quote_value (a).c_str (),
              quote_value (b).c_str ());
}

} // namespace

bool
same_series (const SliceHeader &a, const SliceHeader &b, std::string &why)
{
  if (a.series_uid != b.series_uid)
    why = field_differs ("Series Instance UID (0020,000E)", a.series_uid, b.series_uid);
  else if (differ (a.study_uid, b.study_uid))
    why = field_differs ("Study Instance UID (0020,000D)", a.study_uid, b.study_uid);
  else if (differ (a.frame_uid, b.frame_uid))
    why = field_differs ("Frame of Reference UID (0020,0052)", a.frame_uid, b.frame_uid)
          + ": positions in one frame cannot be ordered with those in another";
  else if (differ (a.modality, b.modality))
    why = field_differs ("Modality (0008,0060)", a.modality, b.modality);
  else
    return true;
  return false;
}

void
group_series (Loader &L, std::vector<SliceHeader> &headers, std::deque<Series> &series)
{
  /* The series holding each UID, so a header is compared only with those. */
  std::map<std::string, std::vector<size_t>> by_uid;
  for (SliceHeader &h : headers)
    {
      if (!h.usable)
        {
          L.report->files_skipped++;
          L.warn (h.path + ": skipped: " + h.reason);
          continue;
        }
      std::vector<size_t> &candidates = by_uid[h.series_uid];
      Series *home = nullptr;
      std::string why;
      for (size_t i : candidates)
        if (same_series (*series[i].slices.front (), h, why))
          {
            home = &series[i];
            break;
          }
      if (home == nullptr)
        {
          series.emplace_back ();
          home = &series.back ();
          home->uid = h.series_uid;
          candidates.push_back (series.size () - 1);
        }
      home->slices.push_back (&h);
      if (h.modality == "CT" || is_ct_sop_class (h.sop_class))
        home->is_ct = true;
      if (home->modality.empty ())
        home->modality = h.modality;
      if (home->description.empty ())
        home->description = h.description;
    }
  /* Name the parts of a split UID: the part the default choice prefers (CT, most slices)
   * keeps the UID, the others are UID#2, UID#3... with what differs from it. */
  for (auto &kv : by_uid)
    {
      std::vector<Series *> parts;
      for (size_t i : kv.second)
        parts.push_back (&series[i]);
      std::stable_sort (parts.begin (), parts.end (), [] (const Series *a, const Series *b) {
        if (a->is_ct != b->is_ct)
          return a->is_ct;
        return a->slices.size () > b->slices.size ();
      });
      parts[0]->id = kv.first;
      for (size_t p = 1; p < parts.size (); p++)
        {
          std::string why;
          same_series (*parts[0]->slices.front (), *parts[p]->slices.front (), why);
          parts[p]->id = kv.first + "#" + std::to_string (p + 1);
          parts[p]->split_reason = fmt ("same Series Instance UID as %s, but %s",
                                        quote_value (parts[0]->id).c_str (), why.c_str ());
        }
    }
  for (Series &s : series)
    {
      if (!s.split_reason.empty ())
        L.warn (fmt ("%s and %zu other file%s are read as series %s: %s",
                     slice_name (*s.slices.front ()).c_str (), s.slices.size () - 1,
                     s.slices.size () == 2 ? "" : "s", quote_value (s.id).c_str (),
                     s.split_reason.c_str ()));
      else if (series.size () > 1)
        s.split_reason = s.uid.empty () ? "no Series Instance UID (0020,000E)"
                                        : "its own Series Instance UID (0020,000E)";
    }
}

} // namespace mm
