/* SPDX-License-Identifier: GPL-3.0-or-later */
/* First pass of the reader: the header of each file, up to Pixel Data, with the fallbacks
 * that real exports need (meta header UIDs, missing Photometric Interpretation). */
#include "mm-dicom-private.hh"
#include "mm-dicom-multiframe.hh"

#include "mm-text.h"
#include "mm-volume.h"
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
#include <vector>
#include <glib.h>
#include <dirent.h>
#include <set>
#include <strings.h>
#include <sys/stat.h>

namespace mm
{

/* The value of a string-valued element (CS, DS, IS, LO, UI...), trimmed of padding. */
bool
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

/* A decimal string with n backslash-separated values (DS/IS); false unless all parse as
 * finite numbers, and then v is left as it was (a half-parsed "1\\nan" must not leave a NaN
 * behind for a caller's default to miss). */
bool
get_numbers (const gdcm::DataSet &ds, uint16_t g, uint16_t e, double *v, int n)
{
  std::string s;
  if (!get_string (ds, g, e, s))
    return false;
  const char *p = s.c_str ();
  if (n <= 0)
    return false;
  /* n is 1 to 6 for most fields, the number of frames for a Grid Frame Offset Vector. */
  std::vector<double> tmp ((size_t) n);
  for (int a = 0; a < n; a++)
    {
      char *end = nullptr;
      tmp[a] = std::strtod (p, &end);
      if (end == p || !std::isfinite (tmp[a]))
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
  std::memcpy (v, tmp.data (), sizeof (double) * n);
  return true;
}

std::string
quote_value (const std::string &s)
{
  g_autofree char *safe = mm_text_printable (s.c_str ());
  std::string out (safe);
  if (g_utf8_strlen (safe, -1) > 64)
    {
      g_autofree char *cut = g_utf8_substring (safe, 0, 60);
      out = std::string (cut) + "...";
    }
  return "'" + out + "'";
}

static bool
is_secondary_capture (const std::string &uid)
{
  /* 1.2.840.10008.5.1.4.1.1.7 and its multi-frame variants .7.1 to .7.4. */
  const std::string sc = "1.2.840.10008.5.1.4.1.1.7";
  return uid == sc || (uid.compare (0, sc.size () + 1, sc + ".") == 0);
}

/* Image Orientation (Patient): two unit vectors at right angles, else identity and a reason.
 * Cosines are normalised (files round them); lengths far from 1 or vectors far from
 * perpendicular are not an orientation at all. */
static void
read_orientation (const gdcm::DataSet &ds, SliceHeader &h)
{
  static const double identity[6] = { 1, 0, 0, 0, 1, 0 };
  std::string raw;
  if (!get_string (ds, 0x0020, 0x0037, raw))
    return; /* absent: has_iop stays false, identity, the loader says so */
  double v[6];
  const char *why = nullptr;
  if (!get_numbers (ds, 0x0020, 0x0037, v, 6))
    why = "is not six numbers";
  else
    {
      for (int a = 0; a < 2 && !why; a++)
        {
          double *c = v + 3 * a;
          double len = std::sqrt (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
          if (!(len > 0.5 && len < 1.5))
            why = "has a direction that is not a unit vector";
          else
            for (int b = 0; b < 3; b++)
              c[b] /= len;
        }
      if (!why && std::fabs (v[0] * v[3] + v[1] * v[4] + v[2] * v[5]) > 0.01)
        why = "has row and column directions that are not perpendicular";
    }
  if (why)
    {
      h.iop_problem = std::string ("Image Orientation (Patient) (0020,0037) ") + quote_value (raw)
                      + " " + why;
      std::memcpy (h.iop, identity, sizeof identity);
      return;
    }
  std::memcpy (h.iop, v, sizeof v);
  h.has_iop = true;
}

/* Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164) for projection images, else
 * 1 mm with a reason; a value that is not two spacings within MM_SPACING_MIN/MAX_MM is a
 * reason too (0 or 1e-170 would reach the distance transform as a zero squared distance). */
static void
read_spacing (const gdcm::DataSet &ds, SliceHeader &h)
{
  std::string raw;
  uint16_t g = 0x0028, e = 0x0030;
  const char *name = "Pixel Spacing (0028,0030)";
  if (!get_string (ds, g, e, raw))
    {
      g = 0x0018, e = 0x1164;
      name = "Imager Pixel Spacing (0018,1164)";
      if (!get_string (ds, g, e, raw))
        {
          h.spacing_problem = "no Pixel Spacing (0028,0030)";
          return;
        }
    }
  double v[2];
  if (get_numbers (ds, g, e, v, 2) && mm_spacing_is_sane (v[0]) && mm_spacing_is_sane (v[1]))
    {
      h.pixel_spacing[0] = v[0];
      h.pixel_spacing[1] = v[1];
      h.has_spacing = true;
      return;
    }
  g_autofree char *range = g_strdup_printf ("between %g and %g mm", MM_SPACING_MIN_MM,
                                            MM_SPACING_MAX_MM);
  h.spacing_problem = std::string (name) + " " + quote_value (raw) + " is not two spacings "
                      + range;
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

/* A CT Image whose Image Type (0008,0008) is DERIVED\SECONDARY\AXIAL: a derived axial CT
 * image (a metal artifact reduced series as Metalmark's `mar` writes it, a scanner's
 * reformat or reconstruction), HU on the series' grid, not a screenshot. PS3.3 C.8.2.1.1.1
 * allows only AXIAL or LOCALIZER as a CT Image's third value; a rendering or a screen save
 * says so there (e.g. SCREEN SAVE, VRT) or comes as Secondary Capture. */
static bool
is_derived_axial_ct (const std::string &sop_class, const std::string &image_type)
{
  if (!is_ct_sop_class (sop_class))
    return false;
  std::vector<std::string> values;
  size_t start = 0;
  for (;;)
    {
      size_t end = image_type.find ('\\', start);
      std::string v = image_type.substr (start, end == std::string::npos ? end : end - start);
      while (!v.empty () && (v.back () == ' ' || v.back () == '\0'))
        v.pop_back ();
      values.push_back (v);
      if (end == std::string::npos)
        break;
      start = end + 1;
    }
  if (values.size () < 3 || values[0] != "DERIVED" || values[1] != "SECONDARY"
      || values[2] != "AXIAL")
    return false;
  // Later values may say the slices are a rendering (a vendor's MIP or volume rendering
  // slab), not measurements.
  static const char *const rendered[]
      = { "MIP", "MINIP", "MNIP", "VR", "VRT", "VOLUME", "PROJECTION", "SSD", "3D", "CPR",
          "CURVED", "AVERAGE", "SLAB" };
  for (size_t i = 3; i < values.size (); i++)
    for (const char *r : rendered)
      if (values[i].find (r) != std::string::npos)
        return false;
  return true;
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
  h.native_big_endian = layout.native_big_endian;
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
      get_string (ds, 0x0010, 0x0010, h.patient_name);
      get_string (ds, 0x0010, 0x0020, h.patient_id);
      get_string (ds, 0x0008, 0x1030, h.study_description);
      get_string (ds, 0x0008, 0x0020, h.study_date);
      get_string (ds, 0x0020, 0x0011, h.series_number);

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
          /* Checked before it is cast or sizes anything (mm-dicom-multiframe.cc). */
          if (!(frames >= 0 && frames <= 1e6) || frames != std::floor (frames))
            {
              h.reason = "invalid Number of Frames (0028,0008)";
              return h;
            }
          h.frames = frames < 1 ? 1 : (int) frames;
        }
      if (h.samples != 1)
        {
          h.reason = "a colour image (" + std::to_string (h.samples)
                     + " samples per pixel), not a CT slice";
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
      read_orientation (ds, h);
      read_spacing (ds, h);
      get_string (ds, 0x0028, 0x1054, h.rescale_type);
      std::string &image_type = h.image_type;
      get_string (ds, 0x0008, 0x0008, image_type);
      if (is_secondary_capture (h.sop_class))
        h.not_acquired = "a Secondary Capture image (SOP Class UID " + h.sop_class + ")";
      else if (g_str_has_prefix (image_type.c_str (), "DERIVED\\SECONDARY")
               && (image_type.size () == 17 || image_type[17] == '\\')
               && !is_derived_axial_ct (h.sop_class, image_type))
        h.not_acquired = "a derived secondary image (Image Type (0008,0008) "
                         + quote_value (image_type) + ")";
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
          /* Pixel Padding Range Limit (0028,0121): with the value, a range of padding. */
          int limit;
          if (get_us (ds, 0x0028, 0x0121, limit, h.pixel_representation == 1))
            {
              h.has_padding_limit = true;
              h.padding_limit_stored = limit;
            }
        }
      const double *r = h.iop, *c = h.iop + 3;
      double n[3] = { r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2],
                      r[0] * c[1] - r[1] * c[0] };
      h.z = h.ipp[0] * n[0] + h.ipp[1] * n[1] + h.ipp[2] * n[2];
      /* Several frames, or one whose geometry is in functional groups (an Enhanced CT series
       * exported one frame per file). */
      if ((h.frames > 1 || ds.FindDataElement (gdcm::Tag (0x5200, 0x9230)))
          && !read_multiframe (ds, h))
        return h;
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
read_dicomdir (const std::string &path, std::vector<std::string> &files, std::string &why,
               std::vector<std::string> &refused)
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
          = checked_sq (ds.GetDataElement (seq_tag));
      if (!sq)
        {
          why = "a DICOMDIR whose Directory Record Sequence cannot be parsed";
          return false;
        }
      std::string base = path;
      size_t slash = base.find_last_of ('/');
      base = slash == std::string::npos ? "." : base.substr (0, slash);
      /* Entries must stay inside the DICOMDIR's folder, links resolved: a file ID is a value
       * of the file, and the file may come from anyone. */
      char *real_base_c = realpath (base.c_str (), nullptr);
      std::string real_base = real_base_c ? real_base_c : "";
      free (real_base_c);
      if (real_base.empty ())
        {
          why = "cannot resolve the DICOMDIR's folder";
          return false;
        }
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
              /* Components are separated by backslashes only: a '/' inside one is an
               * attempt at a path of our own ("X/../../outside", "/etc/passwd"). */
              if (comp.empty () || comp == "." || comp == ".."
                  || comp.find ('/') != std::string::npos)
                {
                  bad = true;
                  break;
                }
              dir = find_ignoring_case (dir, comp);
              if (bs == std::string::npos)
                break;
              start = bs + 1;
            }
          if (bad)
            {
              refused.push_back ("Referenced File ID \"" + id
                                 + "\": not a plain path inside the DICOMDIR's folder");
              continue;
            }
          char *real = realpath (dir.c_str (), nullptr);
          std::string resolved = real ? real : "";
          free (real);
          if (resolved.empty ())
            refused.push_back ("Referenced File ID \"" + id + "\": no such file");
          else if (resolved.compare (0, real_base.size (), real_base) != 0
                   || (resolved.size () > real_base.size () && real_base != "/"
                       && resolved[real_base.size ()] != '/'))
            refused.push_back ("Referenced File ID \"" + id
                               + "\": leads outside the DICOMDIR's folder");
          else
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
