/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A metal mask as a DICOM Segmentation (PS3.3 A.51): one BINARY segment, one frame per source
 * slice, built element by element with GDCM's DataSet API and written atomically. */
#include "mm-dicom.h"
#include "mm-dicom-element.hh"

#include "mm-atomic.h"
#include "mm-dicom-private.hh"

#include <gdcmDataSet.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmItem.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmTrace.h>
#include <gdcmWriter.h>

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef MM_VERSION
#define MM_VERSION "unknown"
#endif

namespace
{

const char *const SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"; /* Segmentation Storage */
const char *const CT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.2";     /* CT Image Storage */

using mm::ds_value;
using mm::ds_values;
using mm::put_str;

/* Binary values, little endian (the transfer syntax written is explicit VR little endian). */
void
put_bytes (gdcm::DataSet &ds, uint16_t g, uint16_t e, const gdcm::VR &vr,
           const std::vector<uint8_t> &bytes)
{
  gdcm::DataElement de (gdcm::Tag (g, e));
  de.SetVR (vr);
  de.SetByteValue ((const char *) bytes.data (), (uint32_t) bytes.size ());
  ds.Replace (de);
}

void
put_us (gdcm::DataSet &ds, uint16_t g, uint16_t e, std::initializer_list<unsigned> values)
{
  std::vector<uint8_t> b;
  for (unsigned v : values)
    b.insert (b.end (), { (uint8_t) (v & 0xff), (uint8_t) (v >> 8) });
  put_bytes (ds, g, e, gdcm::VR::US, b);
}

void
put_ul (gdcm::DataSet &ds, uint16_t g, uint16_t e, std::initializer_list<uint32_t> values)
{
  std::vector<uint8_t> b;
  for (uint32_t v : values)
    b.insert (b.end (),
              { (uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24) });
  put_bytes (ds, g, e, gdcm::VR::UL, b);
}

/* An attribute tag value (AT): group then element. */
void
put_at (gdcm::DataSet &ds, uint16_t g, uint16_t e, uint16_t tg, uint16_t te)
{
  put_bytes (ds, g, e, gdcm::VR::AT,
             { (uint8_t) tg, (uint8_t) (tg >> 8), (uint8_t) te, (uint8_t) (te >> 8) });
}

/* A sequence of the given items, undefined lengths throughout. */
void
put_seq (gdcm::DataSet &ds, uint16_t g, uint16_t e, const std::vector<gdcm::DataSet> &items)
{
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq = new gdcm::SequenceOfItems;
  sq->SetLengthToUndefined ();
  for (const gdcm::DataSet &nested : items)
    {
      gdcm::Item item;
      item.SetVLToUndefined ();
      item.SetNestedDataSet (nested);
      sq->AddItem (item);
    }
  gdcm::DataElement de (gdcm::Tag (g, e));
  de.SetVR (gdcm::VR::SQ);
  de.SetValue (*sq);
  de.SetVLToUndefined ();
  ds.Replace (de);
}

void
put_seq1 (gdcm::DataSet &ds, uint16_t g, uint16_t e, const gdcm::DataSet &item)
{
  put_seq (ds, g, e, std::vector<gdcm::DataSet> { item });
}

/* A Code Sequence Macro item (PS3.3 Table 8.8-1). */
gdcm::DataSet
code (const char *value, const char *scheme, const char *meaning)
{
  gdcm::DataSet ds;
  put_str (ds, 0x0008, 0x0100, gdcm::VR::SH, value);
  put_str (ds, 0x0008, 0x0102, gdcm::VR::SH, scheme);
  put_str (ds, 0x0008, 0x0104, gdcm::VR::LO, meaning);
  return ds;
}

/* 2.25.<the 128 bits of a random UUID as a decimal number> (PS3.5 B.2). */
std::string
new_uid ()
{
  g_autofree char *uuid = g_uuid_string_random ();
  unsigned __int128 x = 0;
  for (const char *p = uuid; *p; p++)
    if (g_ascii_isxdigit (*p))
      x = (x << 4) | (unsigned) g_ascii_xdigit_value (*p);
  char digits[48];
  int n = 0;
  do
    {
      digits[n++] = (char) ('0' + (int) (x % 10));
      x /= 10;
    }
  while (x != 0);
  std::string s = "2.25.";
  while (n > 0)
    s += digits[--n];
  return s;
}

/* What the SEG copies from the first source file: the patient and study attributes, so that
 * it files under the same patient and study, and the SOP class it references. */
struct SourceHeader
{
  std::vector<std::pair<gdcm::Tag, std::string>> copied; /* raw values */
  std::string sop_class = CT_SOP_CLASS;
  std::string study_uid;
  long series_number = -1;
};

struct CopiedTag
{
  uint16_t g, e;
  const char *vr;
};

/* Patient (C.7.1.1) and General Study (C.7.2.1) attributes, with the character set their
 * values are in. */
const CopiedTag copied_tags[] = {
  { 0x0008, 0x0005, "CS" }, /* Specific Character Set */
  { 0x0008, 0x0020, "DA" }, /* Study Date */
  { 0x0008, 0x0030, "TM" }, /* Study Time */
  { 0x0008, 0x0050, "SH" }, /* Accession Number */
  { 0x0008, 0x0090, "PN" }, /* Referring Physician's Name */
  { 0x0008, 0x1030, "LO" }, /* Study Description */
  { 0x0010, 0x0010, "PN" }, /* Patient's Name */
  { 0x0010, 0x0020, "LO" }, /* Patient ID */
  { 0x0010, 0x0030, "DA" }, /* Patient's Birth Date */
  { 0x0010, 0x0040, "CS" }, /* Patient's Sex */
  { 0x0020, 0x0010, "SH" }, /* Study ID */
};

bool
raw_value (const gdcm::DataSet &ds, const gdcm::Tag &tag, std::string &out)
{
  if (!ds.FindDataElement (tag))
    return false;
  const gdcm::ByteValue *bv = ds.GetDataElement (tag).GetByteValue ();
  if (bv == nullptr)
    return false;
  out.assign (bv->GetPointer (), bv->GetLength ());
  return true;
}

std::string
trimmed (const std::string &s)
{
  size_t end = s.find_last_not_of (std::string (" \0", 2));
  if (end == std::string::npos)
    return std::string ();
  size_t begin = s.find_first_not_of (' ');
  return s.substr (begin, end + 1 - begin);
}

/* Reads only what lies before Pixel Data, after the reader's structural check (GDCM's Debian
 * build aborts on some damaged files). A file that cannot be read gives the defaults. */
SourceHeader
read_source_header (const char *path)
{
  SourceHeader h;
  if (path == nullptr)
    return h;
  mm::FileLayout layout;
  std::string why;
  if (!mm::check_structure (path, why, layout))
    return h;
  gdcm::Reader reader;
  mm::MemBuf membuf;
  std::istream stream (&membuf);
  membuf.set (layout.header); /* only the checked bytes */
  reader.SetStream (stream);
  const gdcm::Tag pixel_tag (0x7fe0, 0x0010);
  std::set<gdcm::Tag> skip = { pixel_tag };
  if (!reader.ReadUpToTag (pixel_tag, skip))
    return h;
  const gdcm::DataSet &ds = reader.GetFile ().GetDataSet ();
  for (const CopiedTag &t : copied_tags)
    {
      std::string v;
      if (raw_value (ds, gdcm::Tag (t.g, t.e), v))
        h.copied.emplace_back (gdcm::Tag (t.g, t.e), v);
    }
  std::string v;
  if ((raw_value (ds, gdcm::Tag (0x0008, 0x0016), v)
       || raw_value (reader.GetFile ().GetHeader (), gdcm::Tag (0x0002, 0x0002), v))
      && !trimmed (v).empty ())
    h.sop_class = trimmed (v);
  if (raw_value (ds, gdcm::Tag (0x0020, 0x000d), v))
    h.study_uid = trimmed (v);
  if (raw_value (ds, gdcm::Tag (0x0020, 0x0011), v) && !trimmed (v).empty ())
    h.series_number = std::strtol (trimmed (v).c_str (), nullptr, 10);
  return h;
}

const char *
algorithm_type_name (MmDicomSegAlgorithm a)
{
  switch (a)
    {
    case MM_DICOM_SEG_AUTOMATIC:
      return "AUTOMATIC";
    case MM_DICOM_SEG_SEMIAUTOMATIC:
      return "SEMIAUTOMATIC";
    case MM_DICOM_SEG_MANUAL:
      return "MANUAL";
    }
  return "SEMIAUTOMATIC";
}

/* The whole SEG data set; throws std::runtime_error with a reason. */
void
build_seg (gdcm::DataSet &ds, const MmMask *mask, const MmVolume *vol,
           const MmDicomSegOptions *opts)
{
  const int w = vol->dims[0], h = vol->dims[1], n = vol->dims[2];
  if (vol->series_uid == nullptr || !vol->series_uid[0])
    throw std::runtime_error ("the series has no Series Instance UID (0020,000E) to reference");
  for (int k = 0; k < n; k++)
    if (vol->slices[k].sop_instance_uid == nullptr || !vol->slices[k].sop_instance_uid[0])
      throw std::runtime_error ("slice " + std::to_string (k) + " ("
                                + (vol->slices[k].file ? vol->slices[k].file : "no file")
                                + ") has no SOP Instance UID (0008,0018) to reference");

  SourceHeader src = read_source_header (vol->slices[0].file);
  for (const auto &c : src.copied)
    for (const CopiedTag &t : copied_tags)
      if (gdcm::Tag (t.g, t.e) == c.first)
        put_str (ds, t.g, t.e, gdcm::VR::GetVRType (t.vr), c.second);
  /* Type 2 attributes of the Patient and General Study modules, empty when unknown. */
  const CopiedTag type2[] = { { 0x0008, 0x0020, "DA" }, { 0x0008, 0x0030, "TM" },
                              { 0x0008, 0x0050, "SH" }, { 0x0008, 0x0090, "PN" },
                              { 0x0010, 0x0010, "PN" }, { 0x0010, 0x0020, "LO" },
                              { 0x0010, 0x0030, "DA" }, { 0x0010, 0x0040, "CS" },
                              { 0x0020, 0x0010, "SH" } };
  for (const CopiedTag &t : type2)
    if (!ds.FindDataElement (gdcm::Tag (t.g, t.e)))
      put_str (ds, t.g, t.e, gdcm::VR::GetVRType (t.vr), "");

  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y%m%d");
  g_autofree char *time = g_date_time_format (now, "%H%M%S");
  const std::string sop_uid = new_uid (), series_uid = new_uid ();
  std::string study_uid = vol->study_uid && vol->study_uid[0] ? vol->study_uid : src.study_uid;
  if (study_uid.empty ())
    study_uid = new_uid ();
  const std::string frame_uid = vol->frame_of_reference_uid && vol->frame_of_reference_uid[0]
                                    ? vol->frame_of_reference_uid : new_uid ();
  const std::string dim_org_uid = new_uid ();

  /* SOP Common (C.12.1) */
  put_str (ds, 0x0008, 0x0016, gdcm::VR::UI, SEG_SOP_CLASS);
  put_str (ds, 0x0008, 0x0018, gdcm::VR::UI, sop_uid);
  put_str (ds, 0x0008, 0x0012, gdcm::VR::DA, date);
  put_str (ds, 0x0008, 0x0013, gdcm::VR::TM, time);
  /* General Study (C.7.2.1), General Series (C.7.3.1), Segmentation Series (C.8.20.1) */
  put_str (ds, 0x0020, 0x000d, gdcm::VR::UI, study_uid);
  put_str (ds, 0x0020, 0x000e, gdcm::VR::UI, series_uid);
  put_str (ds, 0x0008, 0x0060, gdcm::VR::CS, "SEG");
  put_str (ds, 0x0008, 0x0021, gdcm::VR::DA, date);
  put_str (ds, 0x0008, 0x0031, gdcm::VR::TM, time);
  put_str (ds, 0x0008, 0x103e, gdcm::VR::LO,
           opts->series_description ? opts->series_description : "Metal (Metalmark)");
  put_str (ds, 0x0020, 0x0011, gdcm::VR::IS,
           std::to_string (src.series_number >= 0 && src.series_number < 100000
                               ? src.series_number + 1000 : 1000));
  /* Frame of Reference (C.7.4.1): the CT's, so the frames lie on its slices. */
  put_str (ds, 0x0020, 0x0052, gdcm::VR::UI, frame_uid);
  put_str (ds, 0x0020, 0x1040, gdcm::VR::LO, "");
  /* General Equipment (C.7.5.1) and Enhanced General Equipment (C.7.5.2) */
  put_str (ds, 0x0008, 0x0070, gdcm::VR::LO, "Metalmark");
  put_str (ds, 0x0008, 0x1090, gdcm::VR::LO, "metalmark");
  put_str (ds, 0x0018, 0x1000, gdcm::VR::LO, "1");
  put_str (ds, 0x0018, 0x1020, gdcm::VR::LO, MM_VERSION);
  /* General Image (C.7.6.1), Multi-frame Functional Groups (C.7.6.16) */
  put_str (ds, 0x0020, 0x0013, gdcm::VR::IS, "1");
  put_str (ds, 0x0008, 0x0023, gdcm::VR::DA, date);
  put_str (ds, 0x0008, 0x0033, gdcm::VR::TM, time);
  put_str (ds, 0x0028, 0x0008, gdcm::VR::IS, std::to_string (n));

  /* Image Pixel (C.7.6.3) and Segmentation Image (C.8.20.2): 1 bit per pixel. */
  put_str (ds, 0x0008, 0x0008, gdcm::VR::CS, "DERIVED\\PRIMARY");
  put_us (ds, 0x0028, 0x0002, { 1 });
  put_str (ds, 0x0028, 0x0004, gdcm::VR::CS, "MONOCHROME2");
  put_us (ds, 0x0028, 0x0010, { (unsigned) h });
  put_us (ds, 0x0028, 0x0011, { (unsigned) w });
  put_us (ds, 0x0028, 0x0100, { 1 });
  put_us (ds, 0x0028, 0x0101, { 1 });
  put_us (ds, 0x0028, 0x0102, { 0 });
  put_us (ds, 0x0028, 0x0103, { 0 });
  put_str (ds, 0x0028, 0x2110, gdcm::VR::CS, "00");
  put_str (ds, 0x0062, 0x0001, gdcm::VR::CS, "BINARY");
  put_str (ds, 0x0070, 0x0080, gdcm::VR::CS, "METAL");
  put_str (ds, 0x0070, 0x0081, gdcm::VR::LO, "Metal mask");
  put_str (ds, 0x0070, 0x0084, gdcm::VR::PN, "");

  /* Segment Sequence (0062,0002): the one segment. Category "Physical object" (SCT 260787004,
   * CID 7150 Segmentation Property Category); type "Implant" (SCT 40388003, in CID 6401
   * Non-lesion Object Type - Physical Object): what a metal object in a patient's CT is, be
   * it a prosthesis, a screw or a fragment. */
  {
    gdcm::DataSet seg;
    put_us (seg, 0x0062, 0x0004, { 1 });
    put_str (seg, 0x0062, 0x0005, gdcm::VR::LO, "Metal");
    put_str (seg, 0x0062, 0x0006, gdcm::VR::ST, "Voxels of metal");
    put_str (seg, 0x0062, 0x0008, gdcm::VR::CS, algorithm_type_name (opts->algorithm));
    if (opts->algorithm != MM_DICOM_SEG_MANUAL)
      put_str (seg, 0x0062, 0x0009, gdcm::VR::LO,
               opts->algorithm_name ? opts->algorithm_name : "Metalmark");
    put_seq1 (seg, 0x0062, 0x0003, code ("260787004", "SCT", "Physical object"));
    put_seq1 (seg, 0x0062, 0x000f, code ("40388003", "SCT", "Implant"));
    /* Recommended Display CIELab Value (0062,000D): sRGB red, L*a*b* (53.24, 80.09, 67.20),
     * L* 0..100 and a*, b* -128..127 scaled to 0..65535 (PS3.3 C.10.7.1.1). */
    put_us (seg, 0x0062, 0x000d, { 34891, 53480, 50167 });
    put_seq1 (ds, 0x0062, 0x0002, seg);
  }

  /* Multi-frame Dimension (C.7.6.17): frames indexed by segment, then position. */
  {
    gdcm::DataSet org;
    put_str (org, 0x0020, 0x9164, gdcm::VR::UI, dim_org_uid);
    put_seq1 (ds, 0x0020, 0x9221, org);
    put_str (ds, 0x0020, 0x9311, gdcm::VR::CS, "3D");
    gdcm::DataSet by_segment, by_position;
    put_str (by_segment, 0x0020, 0x9164, gdcm::VR::UI, dim_org_uid);
    put_at (by_segment, 0x0020, 0x9165, 0x0062, 0x000b); /* Referenced Segment Number */
    put_at (by_segment, 0x0020, 0x9167, 0x0062, 0x000a); /* in Segment Identification Seq. */
    put_str (by_segment, 0x0020, 0x9421, gdcm::VR::LO, "ReferencedSegmentNumber");
    put_str (by_position, 0x0020, 0x9164, gdcm::VR::UI, dim_org_uid);
    put_at (by_position, 0x0020, 0x9165, 0x0020, 0x0032); /* Image Position (Patient) */
    put_at (by_position, 0x0020, 0x9167, 0x0020, 0x9113); /* in Plane Position Sequence */
    put_str (by_position, 0x0020, 0x9421, gdcm::VR::LO, "ImagePositionPatient");
    put_seq (ds, 0x0020, 0x9222, { by_segment, by_position });
  }

  /* Shared Functional Groups (5200,9229): Pixel Measures and Plane Orientation. */
  {
    gdcm::DataSet shared, measures, orientation;
    const double ps[2] = { vol->spacing[1], vol->spacing[0] }; /* row spacing, column spacing */
    put_str (measures, 0x0028, 0x0030, gdcm::VR::DS, ds_values (ps, 2));
    put_str (measures, 0x0018, 0x0050, gdcm::VR::DS, ds_value (vol->spacing[2]));
    put_str (measures, 0x0018, 0x0088, gdcm::VR::DS, ds_value (vol->spacing[2]));
    put_seq1 (shared, 0x0028, 0x9110, measures);
    put_str (orientation, 0x0020, 0x0037, gdcm::VR::DS, ds_values (vol->direction, 6));
    put_seq1 (shared, 0x0020, 0x9116, orientation);
    put_seq1 (ds, 0x5200, 0x9229, shared);
  }

  /* Per-frame Functional Groups (5200,9230): frame k is slice k. */
  {
    std::vector<gdcm::DataSet> frames ((size_t) n);
    const gdcm::DataSet derivation_code = code ("113076", "DCM", "Segmentation");
    const gdcm::DataSet purpose
        = code ("121322", "DCM", "Source image for image processing operation");
    for (int k = 0; k < n; k++)
      {
        gdcm::DataSet &f = frames[(size_t) k];
        gdcm::DataSet derivation, source, content, position, ident;
        put_str (source, 0x0008, 0x1150, gdcm::VR::UI, src.sop_class);
        put_str (source, 0x0008, 0x1155, gdcm::VR::UI, vol->slices[k].sop_instance_uid);
        if (vol->slices[k].frame_number > 0) /* a frame of a multi-frame source */
          put_str (source, 0x0008, 0x1160, gdcm::VR::IS,
                   std::to_string (vol->slices[k].frame_number));
        put_seq1 (source, 0x0040, 0xa170, purpose);
        put_seq1 (derivation, 0x0008, 0x9215, derivation_code);
        put_seq1 (derivation, 0x0008, 0x2112, source);
        put_seq1 (f, 0x0008, 0x9124, derivation);
        put_ul (content, 0x0020, 0x9157, { 1u, (uint32_t) k + 1 });
        put_seq1 (f, 0x0020, 0x9111, content);
        put_str (position, 0x0020, 0x0032, gdcm::VR::DS, ds_values (vol->slices[k].position, 3));
        put_seq1 (f, 0x0020, 0x9113, position);
        put_us (ident, 0x0062, 0x000b, { 1 });
        put_seq1 (f, 0x0062, 0x000a, ident);
      }
    put_seq (ds, 0x5200, 0x9230, frames);
  }

  /* Common Instance Reference (C.12.2): the source series and every slice of it. */
  {
    /* Each instance once: the frames of a multi-frame source are one instance. */
    std::vector<gdcm::DataSet> instances;
    std::set<std::string> listed;
    for (int k = 0; k < n; k++)
      if (listed.insert (vol->slices[k].sop_instance_uid).second)
        {
          instances.emplace_back ();
          put_str (instances.back (), 0x0008, 0x1150, gdcm::VR::UI, src.sop_class);
          put_str (instances.back (), 0x0008, 0x1155, gdcm::VR::UI,
                   vol->slices[k].sop_instance_uid);
        }
    gdcm::DataSet series;
    put_str (series, 0x0020, 0x000e, gdcm::VR::UI, vol->series_uid);
    put_seq (series, 0x0008, 0x114a, instances);
    put_seq1 (ds, 0x0008, 0x1115, series);
  }

  /* Pixel Data (7FE0,0010): frames back to back, 1 bit per pixel, first pixel in the least
   * significant bit (PS3.5 8.1.1); frames are not padded to bytes, only the whole is, to an
   * even length. */
  {
    const size_t total = mm_mask_n_voxels (mask);
    size_t bytes = (total + 7) / 8;
    bytes += bytes % 2;
    std::vector<uint8_t> bits (bytes, 0);
    const uint8_t *m = mask->data;
#pragma omp parallel for schedule (static)
    for (size_t b = 0; b < (total + 7) / 8; b++)
      {
        uint8_t v = 0;
        for (size_t t = 0; t < 8 && 8 * b + t < total; t++)
          v |= (uint8_t) ((m[8 * b + t] != 0) << t);
        bits[b] = v;
      }
    put_bytes (ds, 0x7fe0, 0x0010, gdcm::VR::OB, bits);
  }
}

} // namespace

void
mm_dicom_seg_options_init (MmDicomSegOptions *opts)
{
  g_return_if_fail (opts != NULL);
  std::memset (opts, 0, sizeof *opts);
  opts->algorithm = MM_DICOM_SEG_SEMIAUTOMATIC;
}

bool
mm_dicom_write_seg_full (const char *path, const MmMask *mask, const MmVolume *vol,
                         const MmDicomSegOptions *opts, GError **error)
{
  g_return_val_if_fail (path != NULL && mask != NULL && vol != NULL, false);
  g_return_val_if_fail (std::memcmp (mask->dims, vol->dims, sizeof mask->dims) == 0, false);
  mm::ensure_dictionaries (); /* GDCM's Writer may take VRs from them */
  MmDicomSegOptions defaults;
  if (opts == NULL)
    {
      mm_dicom_seg_options_init (&defaults);
      opts = &defaults;
    }
  gdcm::Trace::SetWarning (false);
  gdcm::Trace::SetDebug (false);

  std::string bytes;
  try
    {
      gdcm::Writer writer;
      gdcm::File &file = writer.GetFile ();
      build_seg (file.GetDataSet (), mask, vol, opts);
      file.GetHeader ().SetDataSetTransferSyntax (gdcm::TransferSyntax::ExplicitVRLittleEndian);
      std::ostringstream out;
      writer.SetStream (out);
      if (!writer.Write ())
        throw std::runtime_error ("GDCM could not encode the data set");
      bytes = out.str ();
    }
  catch (const std::exception &e)
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE, "%s: cannot write: %s", path,
                   e.what ());
      return false;
    }
  catch (...)
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE,
                   "%s: cannot write: GDCM failed while building the segmentation", path);
      return false;
    }

  if (!mm_atomic_write (path, bytes.data (), bytes.size (), true, error))
    return false;
  g_autofree char *dir = g_path_get_dirname (path);
  return mm_fsync_dir (dir, error);
}

bool
mm_dicom_write_seg (const char *path, const MmMask *mask, const MmVolume *vol, GError **error)
{
  return mm_dicom_write_seg_full (path, mask, vol, NULL, error);
}
