/* SPDX-License-Identifier: GPL-3.0-or-later */
/* First pass of the reader: the header of each file, up to Pixel Data, with the fallbacks
 * that real exports need (meta header UIDs, missing Photometric Interpretation). */
#include "mm-dicom-private.hh"
#include "mm-limits.h"

#include <gdcmDataSet.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmMediaStorage.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmTag.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <cerrno>
#include <glib.h>
#include <dirent.h>
#include <set>
#include <strings.h>
#include <sys/stat.h>

namespace mm
{

/* The value of a string-valued element (CS, DS, IS, LO, UI...), trimmed of padding. */
static bool
get_string (const gdcm::DataSet &ds, uint16_t g, uint16_t e, std::string &out)
{
  const gdcm::Tag tag (g, e);
  if (!ds.FindDataElement (tag))
    return false;
  const gdcm::DataElement &de = ds.GetDataElement (tag);
  const gdcm::ByteValue *bv = de.GetByteValue ();
  if (bv == nullptr || bv->GetLength () == 0)
    return false;
  std::string s (bv->GetPointer (), bv->GetLength ());
  size_t end = s.find_last_not_of (std::string (" \0", 2));
  size_t begin = s.find_first_not_of (' ');
  if (end == std::string::npos || begin == std::string::npos || begin > end)
    return false;
  out = s.substr (begin, end - begin + 1);
  /* Embedded NULs would end the string early in C. */
  out.erase (std::remove (out.begin (), out.end (), '\0'), out.end ());
  return !out.empty ();
}

/* A decimal string with n backslash-separated values (DS/IS); false unless all parse. */
static bool
get_numbers (const gdcm::DataSet &ds, uint16_t g, uint16_t e, double *v, int n)
{
  std::string s;
  if (!get_string (ds, g, e, s))
    return false;
  const char *p = s.c_str ();
  for (int a = 0; a < n; a++)
    {
      char *end = nullptr;
      v[a] = std::strtod (p, &end);
      if (end == p || !std::isfinite (v[a]))
        return false;
      while (*end == ' ')
        end++;
      if (a < n - 1)
        {
          if (*end != '\\')
            return false;
          end++;
        }
      p = end;
    }
  return true;
}

/* An unsigned short (US) value. GDCM holds binary values in native order after reading, big
 * endian files included. */
static bool
get_us (const gdcm::DataSet &ds, uint16_t g, uint16_t e, int &out, bool as_signed = false)
{
  const gdcm::Tag tag (g, e);
  if (!ds.FindDataElement (tag))
    return false;
  const gdcm::ByteValue *bv = ds.GetDataElement (tag).GetByteValue ();
  if (bv == nullptr || bv->GetLength () < 2)
    return false;
  uint16_t u;
  std::memcpy (&u, bv->GetPointer (), 2);
  out = as_signed ? (int) (int16_t) u : (int) u;
  return true;
}

/* Sizes from the header, checked before anything is allocated from them: against the limits
 * and, for uncompressed data, against the Pixel Data actually in the file. */
static bool
check_pixel_sizes (SliceHeader &h, const std::string &ts)
{
  if (h.rows > MM_LIMIT_DICOM_SIDE || h.cols > MM_LIMIT_DICOM_SIDE)
    {
      h.reason = "Rows x Columns (0028,0010/0011) " + std::to_string (h.rows) + " x "
                 + std::to_string (h.cols) + " exceed the limit of "
                 + std::to_string (MM_LIMIT_DICOM_SIDE);
      return false;
    }
  if (h.pixel_start == 0)
    {
      h.reason = "no Pixel Data (7FE0,0010)";
      return false;
    }
  const bool native = ts == "1.2.840.10008.1.2" || ts == "1.2.840.10008.1.2.1"
                      || ts == "1.2.840.10008.1.2.2";
  const uint64_t need = (uint64_t) h.rows * (uint64_t) h.cols * (uint64_t) h.frames
                        * (uint64_t) (h.bits_allocated / 8);
  if (native && h.pixel_length < need)
    {
      h.reason = "its Pixel Data holds " + std::to_string (h.pixel_length) + " bytes, "
                 + std::to_string (need) + " expected for " + std::to_string (h.cols) + " x "
                 + std::to_string (h.rows)
                 + (h.frames > 1 ? " x " + std::to_string (h.frames) + " frames" : "")
                 + " x " + std::to_string (h.bits_allocated) + " bits";
      return false;
    }
  return true;
}

bool
is_ct_sop_class (const std::string &uid)
{
  return uid == "1.2.840.10008.5.1.4.1.1.2"       /* CT Image Storage */
         || uid == "1.2.840.10008.5.1.4.1.1.2.1"  /* Enhanced CT */
         || uid == "1.2.840.10008.5.1.4.1.1.2.2"; /* Legacy Converted Enhanced CT */
}

SliceHeader
read_slice_header (const std::string &path)
{
  SliceHeader h;
  h.path = path;
  FileLayout layout;
  try
    {
      if (!check_structure (path, h.reason, layout))
        return h;
    }
  catch (const std::exception &e)
    {
      h.reason = std::string ("cannot check its structure: ") + e.what ();
      return h;
    }
  h.pixel_start = layout.pixel_start;
  h.pixel_value = layout.pixel_value;
  h.pixel_length = layout.pixel_length;
  h.pixel_end = layout.pixel_end;
  h.native_little_endian = layout.native_little_endian;
  try
    {
      /* GDCM parses the header from the bytes before Pixel Data, already read by the check
       * (all of them when there is no Pixel Data); the end of those bytes is the end of the
       * data set as far as it is concerned. GDCM never reads the file itself. */
      gdcm::Reader reader;
      MemBuf membuf;
      std::istream stream (&membuf);
      membuf.set (layout.header);
      reader.SetStream (stream);
      /* GDCM reads the stop tag's value too unless it is also skipped. */
      const gdcm::Tag pixel_tag (0x7fe0, 0x0010);
      std::set<gdcm::Tag> skip = { pixel_tag };
      if (!reader.ReadUpToTag (pixel_tag, skip))
        {
          h.reason = "not a DICOM file, or its header is damaged";
          return h;
        }
      const gdcm::File &file = reader.GetFile ();
      const gdcm::DataSet &ds = file.GetDataSet ();
      const gdcm::FileMetaInformation &meta = file.GetHeader ();

      h.transfer_syntax = meta.GetDataSetTransferSyntax ().GetString ()
                              ? meta.GetDataSetTransferSyntax ().GetString () : "";
      /* SOP Class / Instance UID (0008,0016/0018); de-identified exports often keep them only
       * as Media Storage SOP Class / Instance UID (0002,0002/0003) in the meta header. */
      if (!get_string (ds, 0x0008, 0x0016, h.sop_class))
        get_string (meta, 0x0002, 0x0002, h.sop_class);
      if (!get_string (ds, 0x0008, 0x0018, h.sop_uid))
        get_string (meta, 0x0002, 0x0003, h.sop_uid);
      if (h.sop_class == "1.2.840.10008.1.3.10")
        {
          h.reason = "a DICOMDIR, not an image";
          return h;
        }
      get_string (ds, 0x0020, 0x000e, h.series_uid);
      get_string (ds, 0x0020, 0x000d, h.study_uid);
      get_string (ds, 0x0008, 0x0060, h.modality);
      get_string (ds, 0x0008, 0x103e, h.description);
      get_string (ds, 0x0020, 0x0052, h.frame_uid);

      if (!get_us (ds, 0x0028, 0x0010, h.rows) || !get_us (ds, 0x0028, 0x0011, h.cols)
          || h.rows <= 0 || h.cols <= 0)
        {
          h.reason = "not an image: no Rows/Columns (0028,0010/0011)";
          if (!h.sop_class.empty ())
            h.reason += " (SOP class " + h.sop_class + ")";
          return h;
        }
      get_us (ds, 0x0028, 0x0002, h.samples);
      get_us (ds, 0x0028, 0x0100, h.bits_allocated);
      get_us (ds, 0x0028, 0x0101, h.bits_stored);
      get_us (ds, 0x0028, 0x0102, h.high_bit);
      get_string (ds, 0x0028, 0x0004, h.photometric);
      get_us (ds, 0x0028, 0x0103, h.pixel_representation);
      double frames = 1;
      if (get_numbers (ds, 0x0028, 0x0008, &frames, 1))
        {
          if (!(frames >= 1 && frames <= INT_MAX))
            {
              h.reason = "invalid Number of Frames (0028,0008)";
              return h;
            }
          h.frames = (int) frames;
        }
      if (h.samples != 1)
        {
          h.reason = "a colour image (" + std::to_string (h.samples)
                     + " samples per pixel), not a CT slice";
          return h;
        }
      if (h.frames > 1)
        {
          h.reason = "a multi-frame image (" + std::to_string (h.frames)
                     + " frames); only single-frame series are read";
          return h;
        }
      if (h.bits_allocated != 8 && h.bits_allocated != 16 && h.bits_allocated != 32)
        {
          h.reason = "unsupported Bits Allocated (0028,0100) "
                     + std::to_string (h.bits_allocated);
          return h;
        }

      if (!check_pixel_sizes (h, layout.transfer_syntax))
        return h;

      /* Bits Stored / High Bit (0028,0101/0102) within Bits Allocated; GDCM asserts on
       * inconsistent ones, so they are made sane here or the file is refused. */
      if (h.bits_stored <= 0)
        h.bits_stored = h.bits_allocated;
      if (h.bits_stored > h.bits_allocated)
        {
          h.reason = "Bits Stored (0028,0101) " + std::to_string (h.bits_stored)
                     + " exceeds Bits Allocated " + std::to_string (h.bits_allocated);
          return h;
        }
      if (h.high_bit < h.bits_stored - 1 || h.high_bit >= h.bits_allocated)
        h.high_bit = h.bits_stored - 1;
      if (h.pixel_representation != 0 && h.pixel_representation != 1)
        h.pixel_representation = 0;

      h.has_ipp = get_numbers (ds, 0x0020, 0x0032, h.ipp, 3);
      h.has_iop = get_numbers (ds, 0x0020, 0x0037, h.iop, 6);
      if (h.has_iop)
        {
          /* Normalise, and refuse degenerate cosines rather than dividing by zero later. */
          for (int v = 0; v < 2; v++)
            {
              double *c = h.iop + 3 * v;
              double len = std::sqrt (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
              if (!(len > 0.5 && len < 1.5))
                {
                  h.has_iop = false;
                  break;
                }
              for (int a = 0; a < 3; a++)
                c[a] /= len;
            }
          if (!h.has_iop)
            {
              const double id[6] = { 1, 0, 0, 0, 1, 0 };
              std::memcpy (h.iop, id, sizeof id);
            }
        }
      h.has_spacing = get_numbers (ds, 0x0028, 0x0030, h.pixel_spacing, 2)
                      && h.pixel_spacing[0] > 0 && h.pixel_spacing[1] > 0;
      if (!h.has_spacing)
        {
          /* Imager Pixel Spacing (0018,1164) for projection images; else 1 mm. */
          h.has_spacing = get_numbers (ds, 0x0018, 0x1164, h.pixel_spacing, 2)
                          && h.pixel_spacing[0] > 0 && h.pixel_spacing[1] > 0;
          if (!h.has_spacing)
            h.pixel_spacing[0] = h.pixel_spacing[1] = 1.0;
        }
      double inst;
      if (get_numbers (ds, 0x0020, 0x0013, &inst, 1) && std::fabs (inst) < 1e9)
        h.instance = (int) inst;
      if (!get_numbers (ds, 0x0028, 0x1053, &h.slope, 1) || h.slope == 0)
        h.slope = 1.0;
      if (!get_numbers (ds, 0x0028, 0x1052, &h.intercept, 1))
        h.intercept = 0.0;
      /* Window Center/Width may hold several values; the first is the default view. */
      h.has_window = get_numbers (ds, 0x0028, 0x1050, &h.window_center, 1)
                     && get_numbers (ds, 0x0028, 0x1051, &h.window_width, 1)
                     && h.window_width > 0;
      int pad;
      if (get_us (ds, 0x0028, 0x0120, pad, h.pixel_representation == 1))
        {
          h.has_padding = true;
          h.padding_stored = pad;
        }
      const double *r = h.iop, *c = h.iop + 3;
      double n[3] = { r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2],
                      r[0] * c[1] - r[1] * c[0] };
      h.z = h.ipp[0] * n[0] + h.ipp[1] * n[1] + h.ipp[2] * n[2];
      h.usable = true;
    }
  catch (const std::exception &e)
    {
      h.usable = false;
      h.reason = std::string ("cannot parse the header: ") + e.what ();
    }
  catch (...)
    {
      h.usable = false;
      h.reason = "cannot parse the header";
    }
  return h;
}

/* Find name in dir ignoring case: DICOMDIR file IDs are upper case, disks may not be. */
static std::string
find_ignoring_case (const std::string &dir, const std::string &name)
{
  std::string exact = dir + "/" + name;
  struct stat st;
  if (stat (exact.c_str (), &st) == 0)
    return exact;
  DIR *d = opendir (dir.c_str ());
  if (d == nullptr)
    return exact;
  std::string found = exact;
  while (struct dirent *ent = readdir (d))
    if (strcasecmp (ent->d_name, name.c_str ()) == 0)
      {
        found = dir + "/" + ent->d_name;
        break;
      }
  closedir (d);
  return found;
}

bool
read_dicomdir (const std::string &path, std::vector<std::string> &files, std::string &why)
{
  try
    {
      /* Like any file, checked before GDCM parses it, and parsed from the checked bytes. */
      FileLayout layout;
      std::string check_why;
      if (!check_structure (path, check_why, layout))
        {
          why = "not a readable DICOMDIR: " + check_why;
          return false;
        }
      gdcm::Reader reader;
      MemBuf membuf;
      std::istream stream (&membuf);
      membuf.set (layout.header);
      reader.SetStream (stream);
      if (!reader.Read ())
        {
          why = "not a readable DICOMDIR";
          return false;
        }
      const gdcm::DataSet &ds = reader.GetFile ().GetDataSet ();
      const gdcm::Tag seq_tag (0x0004, 0x1220); /* Directory Record Sequence */
      if (!ds.FindDataElement (seq_tag))
        {
          why = "a DICOMDIR without a Directory Record Sequence (0004,1220)";
          return false;
        }
      gdcm::SmartPointer<gdcm::SequenceOfItems> sq
          = ds.GetDataElement (seq_tag).GetValueAsSQ ();
      if (!sq)
        {
          why = "a DICOMDIR whose Directory Record Sequence cannot be parsed";
          return false;
        }
      std::string base = path;
      size_t slash = base.find_last_of ('/');
      base = slash == std::string::npos ? "." : base.substr (0, slash);
      for (size_t i = 1; i <= sq->GetNumberOfItems (); i++)
        {
          const gdcm::DataSet &item = sq->GetItem (i).GetNestedDataSet ();
          std::string id;
          /* Referenced File ID (0004,1500): path components separated by backslashes. */
          if (!get_string (item, 0x0004, 0x1500, id))
            continue;
          std::string dir = base, comp;
          size_t start = 0;
          bool bad = false;
          while (true)
            {
              size_t bs = id.find ('\\', start);
              comp = id.substr (start, bs == std::string::npos ? std::string::npos : bs - start);
              if (comp.empty () || comp == "." || comp == "..")
                {
                  bad = true;
                  break;
                }
              dir = find_ignoring_case (dir, comp);
              if (bs == std::string::npos)
                break;
              start = bs + 1;
            }
          if (!bad)
            files.push_back (dir);
        }
      return true;
    }
  catch (const std::exception &e)
    {
      why = std::string ("cannot parse the DICOMDIR: ") + e.what ();
      return false;
    }
  catch (...)
    {
      why = "cannot parse the DICOMDIR";
      return false;
    }
}

} // namespace mm
