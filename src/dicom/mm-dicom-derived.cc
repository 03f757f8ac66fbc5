/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A derived CT series (metal artifact reduction, docs/mar.md): the corrected voxels with the
 * source series' geometry, patient and study, new series and SOP Instance UIDs, Image Type
 * DERIVED\SECONDARY and a description naming the method. */
#include "mm-dicom.h"
#include "mm-dicom-element.hh"
#include "mm-dicom-private.hh"
#include <gdcmImage.h>
#include <gdcmImageWriter.h>
#include <gdcmReader.h>
#include <gdcmTrace.h>
#include <cerrno>
#include <cmath>
#include <glib/gstdio.h>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace
{

/* 2.25.<a random UUID as a decimal number> (PS3.5 B.2). */
std::string
uuid_uid ()
{
  g_autofree char *uuid = g_uuid_string_random ();
  unsigned __int128 x = 0;
  for (const char *p = uuid; *p; p++)
    if (g_ascii_isxdigit (*p))
      x = (x << 4) | (unsigned) g_ascii_xdigit_value (*p);
  std::string digits;
  do
    {
      digits.insert (digits.begin (), (char) ('0' + (int) (x % 10)));
      x /= 10;
    }
  while (x);
  return "2.25." + digits;
}

struct Copied
{
  uint16_t g, e;
  const char *vr;
};

/* Patient, General Study and General Equipment attributes kept from the source. */
const Copied copied_tags[] = {
  { 0x0008, 0x0005, "CS" }, { 0x0008, 0x0020, "DA" }, { 0x0008, 0x0030, "TM" },
  { 0x0008, 0x0050, "SH" }, { 0x0008, 0x0070, "LO" }, { 0x0008, 0x0090, "PN" },
  { 0x0008, 0x1030, "LO" }, { 0x0010, 0x0010, "PN" }, { 0x0010, 0x0020, "LO" },
  { 0x0010, 0x0030, "DA" }, { 0x0010, 0x0040, "CS" }, { 0x0018, 0x0050, "DS" },
  { 0x0018, 0x0060, "DS" }, { 0x0020, 0x0010, "SH" },
};

/* The copied attributes of one source file, read only up to its Pixel Data after the
 * structural check; empty when the file cannot be read (the series then has empty patient
 * and study attributes, as allowed for Type 2). */
std::vector<std::pair<const Copied *, std::string>>
read_copied (const char *path)
{
  std::vector<std::pair<const Copied *, std::string>> out;
  if (path == nullptr)
    return out;
  mm::FileLayout layout;
  std::string why;
  if (!mm::check_structure (path, why, layout))
    return out;
  gdcm::Reader reader;
  mm::MemBuf membuf;
  std::istream stream (&membuf);
  membuf.set (layout.header);
  reader.SetStream (stream);
  const gdcm::Tag pixel_tag (0x7fe0, 0x0010);
  std::set<gdcm::Tag> skip = { pixel_tag };
  if (!reader.ReadUpToTag (pixel_tag, skip))
    return out;
  const gdcm::DataSet &ds = reader.GetFile ().GetDataSet ();
  for (const Copied &t : copied_tags)
    {
      gdcm::Tag tag (t.g, t.e);
      if (!ds.FindDataElement (tag))
        continue;
      const gdcm::ByteValue *bv = ds.GetDataElement (tag).GetByteValue ();
      if (bv && bv->GetLength () <= 1024)
        out.emplace_back (&t, std::string (bv->GetPointer (), bv->GetLength ()));
    }
  return out;
}

} // namespace

bool
mm_dicom_write_derived (const char *dir, const MmVolume *vol, const char *description,
                        const char *derivation, GError **error)
{
  g_return_val_if_fail (dir && vol && description, false);
  gdcm::Trace::SetWarning (false);
  gdcm::Trace::SetDebug (false);
  if (vol->type != MM_VOXEL_INT16)
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE,
                   "%s: only series of 16-bit values can be written as a derived series", dir);
      return false;
    }
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE, "%s: cannot create folder: %s",
                   dir, g_strerror (errno));
      return false;
    }
  /* GDCM's ImageWriter takes VRs from the dictionaries (the copied elements of an implicit-VR
   * source have none of their own); they are not loaded at start-up (mm-dicom-dictionary.cc). */
  mm::ensure_dictionaries ();
  const int n = vol->dims[2];
  const auto copied = read_copied (n > 0 ? vol->slices[0].file : nullptr);
  const std::string series_uid = uuid_uid ();
  const std::string study_uid = vol->study_uid && vol->study_uid[0] ? vol->study_uid : uuid_uid ();
  const std::string frame_uid = vol->frame_of_reference_uid && vol->frame_of_reference_uid[0]
                                    ? vol->frame_of_reference_uid : uuid_uid ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date_c = g_date_time_format (now, "%Y%m%d");
  g_autofree char *time_c = g_date_time_format (now, "%H%M%S");

  GError *first_error = nullptr;
#pragma omp parallel for schedule (dynamic, 1)
  for (int k = 0; k < n; k++)
    {
      std::string why;
      try
        {
          const MmSliceInfo *s = &vol->slices[k];
          std::vector<int16_t> stored;
          gdcm::SmartPointer<gdcm::Image> im = mm::ct_slice_image (vol, k, stored);

          gdcm::ImageWriter writer;
          writer.SetImage (*im);
          gdcm::DataSet &ds = writer.GetFile ().GetDataSet ();
          for (const auto &c : copied)
            mm::put_str (ds, c.first->g, c.first->e, gdcm::VR::GetVRType (c.first->vr), c.second);
          mm::put_str (ds, 0x0008, 0x0008, gdcm::VR::CS, "DERIVED\\SECONDARY\\AXIAL");
          mm::put_str (ds, 0x0008, 0x0016, gdcm::VR::UI, "1.2.840.10008.5.1.4.1.1.2");
          mm::put_str (ds, 0x0008, 0x0018, gdcm::VR::UI, uuid_uid ());
          mm::put_str (ds, 0x0008, 0x0021, gdcm::VR::DA, date_c);
          mm::put_str (ds, 0x0008, 0x0031, gdcm::VR::TM, time_c);
          mm::put_str (ds, 0x0008, 0x0060, gdcm::VR::CS, "CT");
          mm::put_str (ds, 0x0008, 0x103e, gdcm::VR::LO, description);
          if (derivation)
            mm::put_str (ds, 0x0008, 0x2111, gdcm::VR::ST, derivation);
          mm::put_str (ds, 0x0020, 0x000d, gdcm::VR::UI, study_uid);
          mm::put_str (ds, 0x0020, 0x000e, gdcm::VR::UI, series_uid);
          mm::put_str (ds, 0x0020, 0x0011, gdcm::VR::IS, "9001");
          int number = s->instance_number != G_MININT ? s->instance_number : k + 1;
          mm::put_str (ds, 0x0020, 0x0013, gdcm::VR::IS, std::to_string (number));
          mm::put_str (ds, 0x0020, 0x0032, gdcm::VR::DS, mm::ds_values (s->position, 3));
          mm::put_str (ds, 0x0020, 0x0037, gdcm::VR::DS, mm::ds_values (vol->direction, 6));
          mm::put_str (ds, 0x0020, 0x0052, gdcm::VR::UI, frame_uid);
          mm::put_str (ds, 0x0028, 0x1054, gdcm::VR::LO, "HU");
          double psp[2] = { vol->spacing[1], vol->spacing[0] };
          mm::put_str (ds, 0x0028, 0x0030, gdcm::VR::DS, mm::ds_values (psp, 2));
          if (vol->has_window)
            {
              mm::put_str (ds, 0x0028, 0x1050, gdcm::VR::DS, mm::ds_value (vol->window_center));
              mm::put_str (ds, 0x0028, 0x1051, gdcm::VR::DS, mm::ds_value (vol->window_width));
            }
          /* File names from the slice index, never from a DICOM value. */
          g_autofree char *name = g_strdup_printf ("MAR%06d.dcm", k + 1);
          g_autofree char *path = g_build_filename (dir, name, nullptr);
          g_autofree char *tmp = g_strdup_printf ("%s.tmp", path);
          writer.SetFileName (tmp);
          if (!writer.Write () || rename (tmp, path) != 0)
            {
              g_unlink (tmp);
              why = std::string (path) + ": cannot write";
              throw std::runtime_error (why);
            }
        }
      catch (const std::exception &e)
        {
#pragma omp critical (mm_dicom_derived_error)
          if (first_error == nullptr)
            g_set_error (&first_error, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE, "%s: slice %d: %s",
                         dir, k, why.empty () ? e.what () : why.c_str ());
        }
      catch (...)
        {
#pragma omp critical (mm_dicom_derived_error)
          if (first_error == nullptr)
            g_set_error (&first_error, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE,
                         "%s: slice %d: GDCM failed while writing it", dir, k);
        }
    }
  if (first_error)
    {
      g_propagate_error (error, first_error);
      return false;
    }
  return true;
}
