/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One slice's pixels decoded into the volume, in HU (see mm-dicom-decode.hh): straight from
 * the file when uncompressed little endian, through mm-dicom-multiframe.cc for a frame of a
 * multi-frame file, through GDCM (compressed pixels through mm-dicom-codec.cc) otherwise. */
#include "mm-dicom-decode.hh"
#include "mm-dicom-codec.hh"
#include "mm-dicom-multiframe.hh"
#include "mm-dicom-util.hh"
#include "mm-dicom-rescale.hh"

#include <gdcmImage.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfFragments.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <istream>
#include <set>
#include <unistd.h>

namespace mm
{
namespace
{

/* Bytes [offset, offset + n) of a file, into dst when given, else into buf. */
bool
read_range (const std::string &path, uint64_t offset, uint64_t n, char *dst,
            std::vector<char> &buf, std::string &why)
{
  int fd = open_regular (path, why, nullptr);
  if (fd < 0)
    return false;
  if (dst == nullptr)
    {
      buf.resize (n);
      dst = buf.data ();
    }
  uint64_t done = 0;
  while (done < n)
    {
      ssize_t got = pread (fd, dst + done, n - done, (off_t) (offset + done));
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        {
          why = got < 0 ? std::string ("cannot read: ") + g_strerror (errno)
                        : "the file shrank while it was being read";
          close (fd);
          return false;
        }
      done += got;
    }
  close (fd);
  return true;
}

/* The file's stored pixel values, as GDCM decodes them, into buf. */
bool
gdcm_pixels (const SliceHeader &h, std::vector<char> &file_buf, std::vector<char> &buf,
             gdcm::PixelFormat &pf, std::string &why)
{
  /* GDCM parses only the bytes up to the end of Pixel Data, from memory, checked again
   * (the file may have changed since pass 1): anything behind it (trailing padding, or
   * garbage in a damaged file) could make it allocate absurd lengths. The image is
   * assembled from the header fields checked in pass 1 rather than by gdcm::ImageReader,
   * whose helpers assert (abort) on some malformed files. */
  gdcm::Reader reader;
  MemBuf membuf;
  std::istream stream (&membuf);
  if (!load_parse_image (h.path, h.pixel_start, h.pixel_end, file_buf, why))
    return false;
  membuf.set (file_buf);
  reader.SetStream (stream);
  std::set<gdcm::Tag> skip;
  if (!reader.ReadUpToTag (gdcm::Tag (0x7fe0, 0x0011), skip))
    {
      why = "cannot read its data set";
      return false;
    }
  const gdcm::File &file = reader.GetFile ();
  const gdcm::DataSet &ds = file.GetDataSet ();
  const gdcm::Tag pixel_tag (0x7fe0, 0x0010);
  if (!ds.FindDataElement (pixel_tag) || ds.GetDataElement (pixel_tag).IsEmpty ())
    {
      why = "no Pixel Data (7FE0,0010)";
      return false;
    }
  const gdcm::DataElement &pixels = ds.GetDataElement (pixel_tag);
  const gdcm::TransferSyntax &ts = file.GetHeader ().GetDataSetTransferSyntax ();
  size_t need = (size_t) h.cols * h.rows * (h.bits_allocated / 8);
  if (!ts.IsEncapsulated ())
    {
      const gdcm::ByteValue *bv = pixels.GetByteValue ();
      if (bv == nullptr || bv->GetLength () < need)
        {
          why = fmt ("its Pixel Data holds %u bytes, %zu expected for %d x %d x %d bits",
                     bv ? (unsigned) bv->GetLength () : 0u, need, h.cols, h.rows,
                     h.bits_allocated);
          return false;
        }
    }
  gdcm::Image img;
  setup_image (img, h, ts, pixels);
  pf = img.GetPixelFormat ();
  if (ts.IsEncapsulated ())
    {
      /* Compressed: the codestream checked against the header before and after decoding,
       * into a buffer of the declared size only (mm-dicom-codec.cc). */
      FrameSpec spec;
      spec.rows = h.rows;
      spec.cols = h.cols;
      spec.bits_allocated = h.bits_allocated;
      return decode_encapsulated (img, pixels, spec, buf, why);
    }
  size_t len = img.GetBufferLength ();
  if (len != need)
    {
      why = "its pixel data does not match Rows x Columns";
      return false;
    }
  buf.resize (len);
  /* The decoder must not have changed the sample size the buffer was sized for. */
  if (!img.GetBuffer (buf.data ())
      || img.GetPixelFormat ().GetBitsAllocated () != pf.GetBitsAllocated ())
    {
      const char *ts_name = gdcm::TransferSyntax::GetTSString (ts);
      why = fmt ("cannot decode its pixel data (transfer syntax %s)",
                 ts_name ? ts_name : "unknown");
      return false;
    }
  return true;
}

} // namespace

bool
decode_slice (const SliceHeader &h, MmVoxelType type, void *dst, std::vector<char> &file_buf,
              std::vector<char> &buf, bool &overflow, std::string &why)
{
  try
    {
      size_t n = (size_t) h.cols * h.rows;
      int bytes = h.bits_allocated / 8;
      bool is_signed = h.pixel_representation == 1;
      bool is_float = false;
      int stored = h.bits_stored;
      const double slope = h.slope, icpt = h.intercept;
      const char *src;

      if (h.frame >= 0)
        {
          /* One frame of a multi-frame file (mm-dicom-multiframe.cc). */
          if (!frame_pixels (h, buf, why))
            return false;
          src = buf.data ();
        }
      else if (h.native_little_endian && h.pixel_length >= n * bytes
               && (bytes == 1 || bytes == 2))
        {
          /* Uncompressed little endian: the stored values are the file's bytes at a known
           * offset (checked in pass 1). */
          if (type == MM_VOXEL_INT16 && bytes == 2)
            {
              /* Into place, then rescaled there: one pass over a slice still in cache. */
              if (!read_range (h.path, h.pixel_value, n * 2, (char *) dst, buf, why))
                return false;
              src = (const char *) dst;
            }
          else
            {
              if (!read_range (h.path, h.pixel_value, n * bytes, nullptr, buf, why))
                return false;
              src = buf.data ();
            }
        }
      else if (h.native_big_endian && bytes == 2 && h.pixel_length >= n * 2)
        {
          /* Explicit VR Big Endian (retired, still found in archives): 16-bit words at a
           * known offset, swapped here, as GDCM would after copying the whole file. Eight-bit
           * data goes through GDCM (OW swaps byte pairs there). */
          char *out = type == MM_VOXEL_INT16 ? (char *) dst : nullptr;
          if (!read_range (h.path, h.pixel_value, n * 2, out, buf, why))
            return false;
          char *b = out ? out : buf.data ();
          for (size_t x = 0; x < 2 * n; x += 2)
            {
              char t = b[x];
              b[x] = b[x + 1];
              b[x + 1] = t;
            }
          src = b;
        }
      else
        {
          gdcm::PixelFormat pf;
          if (!gdcm_pixels (h, file_buf, buf, pf, why))
            return false;
          bytes = pf.GetBitsAllocated () / 8;
          if (bytes != 1 && bytes != 2 && bytes != 4)
            {
              why = fmt ("unsupported Bits Allocated %d", (int) pf.GetBitsAllocated ());
              return false;
            }
          is_signed = pf.GetPixelRepresentation () == 1;
          is_float = pf.GetScalarType () == gdcm::PixelFormat::FLOAT32;
          stored = pf.GetBitsStored ();
          src = buf.data ();
        }
      StoredFormat f;
      f.bytes = bytes;
      f.stored = stored;
      f.is_signed = is_signed;
      f.is_float = is_float;
      if (type == MM_VOXEL_INT16)
        {
          /* Signed 16-bit values with the identity rescale are HU already. */
          if (bytes == 2 && is_signed && (stored <= 0 || stored == 16) && !is_float
              && slope == 1.0 && icpt == 0.0)
            {
              if (src != (const char *) dst)
                std::memcpy (dst, src, n * 2);
            }
          else if (rescale_to_int16 (src, f, slope, icpt, (int16_t *) dst, n))
            overflow = true;
        }
      else
        rescale_to_float (src, f, slope, icpt, (float *) dst, n);
      return true;
    }
  catch (const std::exception &e)
    {
      why = std::string ("cannot decode its pixel data: ") + e.what ();
      return false;
    }
  catch (...)
    {
      why = "cannot decode its pixel data";
      return false;
    }
}

} // namespace mm
