/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Compressed pixel data checked against the header before and after decoding (see
 * mm-dicom-codec.hh). The codecs are called directly rather than through
 * gdcm::Bitmap::GetBuffer, which copies a length computed from the header out of whatever
 * the codec produced (asserting, i.e. aborting, when it is shorter) and falls back on
 * running an external JPEG program. */
#include "mm-dicom-codec.hh"
#include "mm-dicom-private.hh"
#include "mm-dicom-util.hh"

#include <gdcmJPEG2000Codec.h>
#include <gdcmJPEGCodec.h>
#include <gdcmJPEGLSCodec.h>
#include <gdcmRLECodec.h>
#include <gdcmSequenceOfFragments.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace mm
{
namespace
{

/* Bytes per sample a decoder writes for a precision in bits. */
int
sample_bytes (int precision)
{
  return precision <= 8 ? 1 : precision <= 16 ? 2 : 4;
}

std::string
size_text (unsigned long cols, unsigned long rows)
{
  return std::to_string (cols) + " x " + std::to_string (rows);
}

/* What a codestream says, against the header: one component, the header's size, and a
 * precision from 2 to 16 bits (what the JPEG family codes, and what is read) decoding to
 * samples of Bits Allocated. */
bool
compare (const char *kind, unsigned long cols, unsigned long rows, unsigned components,
         int precision, const FrameSpec &spec, std::string &why)
{
  if (components != 1)
    why = fmt ("its %s codestream has %u components, 1 expected (Samples per Pixel)", kind,
               components);
  else if (cols != (unsigned long) spec.cols || rows != (unsigned long) spec.rows)
    why = fmt ("its %s codestream is %lu x %lu, the header says %d x %d (Columns x Rows)",
               kind, cols, rows, spec.cols, spec.rows);
  else if (precision < 2 || precision > 16
           || sample_bytes (precision) * 8 != spec.bits_allocated)
    why = fmt ("its %s codestream has %d-bit samples, which do not fit Bits Allocated %d", kind,
               precision, spec.bits_allocated);
  else
    return true;
  return false;
}

/* JPEG 2000: the SIZ marker right after SOC (ISO 15444-1 A.5.1), in a raw codestream or in
 * the contiguous codestream box of a JP2 file (which GDCM also accepts). */
bool
check_j2k (const unsigned char *p, size_t n, const FrameSpec &spec, std::string &why)
{
  static const unsigned char jp2_signature[12]
      = { 0, 0, 0, 0x0c, 'j', 'P', ' ', ' ', 0x0d, 0x0a, 0x87, 0x0a };
  if (n >= 12 && std::memcmp (p, jp2_signature, 12) == 0)
    {
      size_t off = 0;
      while (true)
        {
          if (n - off < 8)
            {
              why = "its JPEG 2000 (JP2) data has no codestream box";
              return false;
            }
          uint64_t len = be32 (p + off);
          size_t header = 8;
          if (len == 1)
            {
              if (n - off < 16)
                {
                  why = "its JPEG 2000 (JP2) data is truncated";
                  return false;
                }
              len = (uint64_t) be32 (p + off + 8) << 32 | be32 (p + off + 12);
              header = 16;
            }
          else if (len == 0)
            len = n - off;
          if (len < header || len > n - off)
            {
              why = "its JPEG 2000 (JP2) data has a damaged box";
              return false;
            }
          if (std::memcmp (p + off + 4, "jp2c", 4) == 0)
            {
              p += off + header;
              n = len - header;
              break;
            }
          off += len;
        }
    }
  if (n < 6 || be16 (p) != 0xff4f || be16 (p + 2) != 0xff51)
    {
      why = "its pixel data is not a JPEG 2000 codestream (no SOC and SIZ markers)";
      return false;
    }
  const unsigned lsiz = be16 (p + 4);
  /* At least one marker (COD) follows SIZ. */
  if (lsiz < 41 || n < 6 + (size_t) lsiz)
    {
      why = "its JPEG 2000 codestream is truncated in the SIZ marker";
      return false;
    }
  const uint32_t xsiz = be32 (p + 8), ysiz = be32 (p + 12), x0 = be32 (p + 16),
                 y0 = be32 (p + 20);
  const unsigned csiz = be16 (p + 40);
  if (csiz == 0 || lsiz != 38 + 3 * csiz || x0 >= xsiz || y0 >= ysiz)
    {
      why = "its JPEG 2000 codestream has a damaged SIZ marker";
      return false;
    }
  const unsigned char *c = p + 42;
  const int precision = (c[0] & 0x7f) + 1;
  for (unsigned k = 0; k < csiz; k++)
    if (c[3 * k + 1] != 1 || c[3 * k + 2] != 1)
      {
        why = "its JPEG 2000 codestream has subsampled components";
        return false;
      }
  return compare ("JPEG 2000", xsiz - x0, ysiz - y0, csiz, precision, spec, why);
}

/* RLE (PS3.5 G.5): the 64-byte header's segment count, one segment per byte of a sample. */
bool
rle_segment_count (const unsigned char *p, size_t n, const FrameSpec &spec, std::string &why)
{
  if (n < 64)
    {
      why = "its RLE frame is shorter than the 64-byte RLE header";
      return false;
    }
  const uint32_t segments = le32 (p);
  const uint32_t expected = (uint32_t) spec.bits_allocated / 8;
  if (segments == expected)
    return true;
  why = fmt ("its RLE frame has %u %s, %u expected for Bits Allocated %d", segments,
             segments == 1 ? "segment" : "segments", expected, spec.bits_allocated);
  return false;
}

/* RLE (PS3.5 G.5): a 64-byte header of the segment count and offsets; one segment per byte
 * of a sample. */
bool
check_rle (const unsigned char *p, size_t n, const FrameSpec &spec, std::string &why)
{
  if (!rle_segment_count (p, n, spec, why))
    return false;
  const uint32_t segments = le32 (p);
  uint32_t previous = 0;
  for (uint32_t s = 0; s < segments; s++)
    {
      const uint32_t off = le32 (p + 4 + 4 * s);
      if ((s == 0 && off != 64) || (s > 0 && off <= previous) || off >= n)
        {
          why = "its RLE header has an invalid offset for segment " + std::to_string (s + 1);
          return false;
        }
      previous = off;
    }
  return true;
}

/* JPEG (ISO 10918-1 B.2.2) and JPEG-LS (ISO 14495-1 C.2.2): the marker segments from SOI
 * to the first scan header, strictly. GDCM's IJG decoders assert (abort) on any warning
 * libjpeg gives while reading the header (bytes between segments, a JFIF version other than
 * 1, the data ending before the scan), so such streams are refused here; and the frame
 * header is compared with the DICOM header. */
bool
check_jpeg (const unsigned char *p, size_t n, bool jpeg_ls, const FrameSpec &spec,
            std::string &why)
{
  const char *kind = jpeg_ls ? "JPEG-LS" : "JPEG";
  const std::string stream = jpeg_ls ? "JPEG-LS stream" : "JPEG stream";
  if (n < 4 || be16 (p) != 0xffd8)
    {
      why = "its pixel data is not a " + stream + " (no SOI marker)";
      return false;
    }
  size_t off = 2;
  bool have_frame = false, frame_ok = false;
  std::string frame_why;
  while (true)
    {
      if (n - off < 2)
        break;
      if (p[off] != 0xff)
        {
          why = "its " + stream + " has stray bytes between marker segments";
          return false;
        }
      while (n - off >= 2 && p[off + 1] == 0xff)
        off++; /* fill bytes */
      if (n - off < 2)
        break;
      const unsigned m = p[off + 1];
      if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
        {
          off += 2; /* markers without a segment */
          continue;
        }
      if (m == 0x00 || m == 0xd8 || m == 0xd9)
        {
          why = "its " + stream + " has a misplaced marker before its scan";
          return false;
        }
      if (n - off < 4)
        break;
      const size_t len = be16 (p + off + 2);
      if (len < 2 || n - off - 2 < len)
        break;
      const unsigned char *seg = p + off + 4;
      const bool sof_jpeg = m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
      const bool sof = jpeg_ls ? m == 0xf7 : sof_jpeg;
      if (!have_frame && (jpeg_ls ? sof_jpeg : m == 0xf7))
        {
          why = jpeg_ls ? "its codestream is JPEG, not the JPEG-LS its transfer syntax says"
                        : "its codestream is JPEG-LS, not the JPEG its transfer syntax says";
          return false;
        }
      if (sof && !have_frame)
        {
          if (len < 8)
            break;
          have_frame = true;
          const int precision = seg[0];
          const unsigned rows = be16 (seg + 1), cols = be16 (seg + 3), components = seg[5];
          if (rows == 0)
            frame_why = fmt ("its %s frame header leaves the number of lines to a DNL "
                             "marker, which is not read", kind);
          else
            frame_ok = compare (kind, cols, rows, components, precision, spec, frame_why);
        }
      if (m == 0xe0 && len >= 8 && std::memcmp (seg, "JFIF", 5) == 0 && seg[5] != 1)
        {
          why = "its " + stream + " has a JFIF marker of an unknown version";
          return false;
        }
      if (m == 0xda)
        {
          if (!have_frame)
            {
              why = "its " + stream + " has a scan before any frame header";
              return false;
            }
          if (!frame_ok)
            {
              why = frame_why;
              return false;
            }
          if (n - off - 2 - len < 2)
            break; /* no scan data */
          return true;
        }
      off += 2 + len;
    }
  why = "its " + stream + " is truncated or damaged before its scan";
  return false;
}

enum class Codec
{
  NONE,
  JPEG,
  JPEG_LS,
  J2K,
  RLE
};

Codec
codec_of (const gdcm::TransferSyntax &ts)
{
  if (gdcm::RLECodec ().CanDecode (ts))
    return Codec::RLE;
  if (gdcm::JPEGLSCodec ().CanDecode (ts))
    return Codec::JPEG_LS;
  if (gdcm::JPEG2000Codec ().CanDecode (ts))
    return Codec::J2K;
  if (gdcm::JPEGCodec ().CanDecode (ts))
    return Codec::JPEG;
  return Codec::NONE;
}

std::string
ts_name (const gdcm::TransferSyntax &ts)
{
  const char *s = gdcm::TransferSyntax::GetTSString (ts);
  return s ? s : "unknown";
}

/* The codec set up as gdcm::Bitmap sets it up, for img. */
void
setup (gdcm::ImageCodec &codec, const gdcm::Image &img)
{
  codec.SetNumberOfDimensions (2);
  const unsigned int dims[3] = { img.GetDimension (0), img.GetDimension (1), 1 };
  codec.SetDimensions (dims);
  codec.SetPlanarConfiguration (img.GetPlanarConfiguration ());
  codec.SetPhotometricInterpretation (img.GetPhotometricInterpretation ());
  codec.SetPixelFormat (img.GetPixelFormat ());
  codec.SetNeedOverlayCleanup (img.AreOverlaysInPixelData () || img.UnusedBitsPresentInPixelData ());
}

} // namespace

void
setup_image (gdcm::Image &img, const SliceHeader &h, const gdcm::TransferSyntax &ts,
             const gdcm::DataElement &pixels)
{
  img.SetNumberOfDimensions (2);
  img.SetDimension (0, h.cols);
  img.SetDimension (1, h.rows);
  img.SetPixelFormat (gdcm::PixelFormat (1, h.bits_allocated, h.bits_stored, h.high_bit,
                                         h.pixel_representation));
  /* A missing Photometric Interpretation is MONOCHROME2 for one sample per pixel. */
  gdcm::PhotometricInterpretation pi
      = gdcm::PhotometricInterpretation::GetPIType (h.photometric.c_str ());
  if (pi != gdcm::PhotometricInterpretation::MONOCHROME1)
    pi = gdcm::PhotometricInterpretation::MONOCHROME2;
  img.SetPhotometricInterpretation (pi);
  img.SetTransferSyntax (ts);
  img.SetDataElement (pixels);
}

bool
check_codec_header (const gdcm::TransferSyntax &ts, const unsigned char *frame, size_t len,
                    const FrameSpec &spec, std::string &why)
{
  switch (codec_of (ts))
    {
    case Codec::J2K:
      return check_j2k (frame, len, spec, why);
    case Codec::RLE:
      return check_rle (frame, len, spec, why);
    case Codec::JPEG:
      return check_jpeg (frame, len, false, spec, why);
    case Codec::JPEG_LS:
      return check_jpeg (frame, len, true, spec, why);
    case Codec::NONE:
      break;
    }
  why = "cannot decode its pixel data (transfer syntax " + ts_name (ts) + ")";
  return false;
}

bool
decode_rle_frame (const unsigned char *d, size_t len, const FrameSpec &spec, unsigned char *out,
                  std::string &why)
{
  const size_t n = (size_t) spec.rows * (size_t) spec.cols;
  const size_t bytes = (size_t) spec.bits_allocated / 8;
  if (!rle_segment_count (d, len, spec, why))
    return false;
  const uint32_t segments = le32 (d);
  for (uint32_t s = 0; s < segments; s++)
    {
      /* The segments in order, the first right after the header, none empty. */
      uint64_t start = le32 (d + 4 + 4 * s);
      uint64_t end = s + 1 < segments ? le32 (d + 8 + 4 * s) : len;
      if ((s == 0 && start != 64) || start < 64 || start >= end || end > len)
        {
          why = fmt ("its RLE segment %u lies outside the frame", s + 1);
          return false;
        }
      /* Segment 1 holds the most significant bytes; the output is little endian. */
      const size_t b = bytes - 1 - s;
      size_t x = 0, p = start;
      while (x < n && p < end)
        {
          int c = (int8_t) d[p++];
          if (c >= 0)
            {
              size_t count = (size_t) c + 1;
              if (p + count > end)
                break;
              for (size_t i = 0; i < count && x < n; i++)
                out[x++ * bytes + b] = d[p + i];
              p += count;
            }
          else if (c != -128)
            {
              size_t count = (size_t) (1 - c);
              if (p >= end)
                break;
              uint8_t v = d[p++];
              for (size_t i = 0; i < count && x < n; i++)
                out[x++ * bytes + b] = v;
            }
        }
      if (x < n)
        {
          why = fmt ("its RLE segment %u ends after %zu of %zu pixels", s + 1, x, n);
          return false;
        }
    }
  return true;
}

bool
decode_encapsulated (const gdcm::Image &img, const gdcm::DataElement &pixels,
                     const FrameSpec &spec, std::vector<char> &out, std::string &why)
{
  const gdcm::TransferSyntax &ts = img.GetTransferSyntax ();
  const gdcm::SequenceOfFragments *sf = pixels.GetSequenceOfFragments ();
  if (sf == nullptr || sf->GetNumberOfFragments () == 0)
    {
      why = "its encapsulated Pixel Data has no fragments";
      return false;
    }
  /* The frame as the decoders see it: the fragments end to end. */
  std::vector<unsigned char> frame (sf->ComputeByteLength ());
  if (frame.empty () || !sf->GetBuffer ((char *) frame.data (), frame.size ()))
    {
      why = "its encapsulated Pixel Data is empty";
      return false;
    }
  /* GDCM's JPEG codec reads each fragment as a stream of its own: the headers must all be in
   * the first one (the end of the data while reading them is a warning, which it asserts
   * on). */
  size_t header_len = frame.size ();
  if (codec_of (ts) == Codec::JPEG)
    header_len = std::min<size_t> (header_len, sf->GetFragment (0).GetVL ());
  if (!check_codec_header (ts, frame.data (), header_len, spec, why))
    return false;
  frame = std::vector<unsigned char> (); /* the decoders make their own copies */

  const size_t need = (size_t) spec.rows * spec.cols * (spec.bits_allocated / 8);
  gdcm::DataElement decoded;
  bool ok = false;
  int bits_after = spec.bits_allocated;
  switch (codec_of (ts))
    {
    case Codec::J2K:
      {
        gdcm::JPEG2000Codec codec;
        setup (codec, img);
        ok = codec.Decode (pixels, decoded);
        bits_after = codec.GetPixelFormat ().GetBitsAllocated ();
        break;
      }
    case Codec::RLE:
      {
        gdcm::RLECodec codec;
        setup (codec, img);
        codec.SetBufferLength (need);
        ok = codec.Decode (pixels, decoded);
        bits_after = codec.GetPixelFormat ().GetBitsAllocated ();
        break;
      }
    case Codec::JPEG:
      {
        gdcm::JPEGCodec codec;
        setup (codec, img);
        ok = codec.Decode (pixels, decoded);
        bits_after = codec.GetPixelFormat ().GetBitsAllocated ();
        break;
      }
    case Codec::JPEG_LS:
      {
        gdcm::JPEGLSCodec codec;
        setup (codec, img);
        codec.SetBufferLength (need);
        ok = codec.Decode (pixels, decoded);
        bits_after = codec.GetPixelFormat ().GetBitsAllocated ();
        break;
      }
    case Codec::NONE:
      break;
    }
  if (!ok)
    {
      why = "cannot decode its pixel data (transfer syntax " + ts_name (ts) + ")";
      return false;
    }
  /* After: exactly the bytes the header declares (one more only as even-length padding),
   * in the sample size it declares. */
  const gdcm::ByteValue *bv = decoded.GetByteValue ();
  const size_t got = bv ? (size_t) bv->GetLength () : 0;
  if (bits_after != spec.bits_allocated || got < need || got > need + (need & 1))
    {
      why = "its decoded pixel data holds " + std::to_string (got) + " bytes of "
            + std::to_string (bits_after) + "-bit samples, "
            + std::to_string (need) + " bytes of " + std::to_string (spec.bits_allocated)
            + "-bit samples expected for " + size_text (spec.cols, spec.rows);
      return false;
    }
  out.assign (bv->GetPointer (), bv->GetPointer () + need);
  return true;
}

} // namespace mm
