/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Compressed frames checked before GDCM decodes them, and RLE decoded here (see the header). */
#include "mm-dicom-codestream.hh"
#include "mm-dicom-util.hh"

#include <glib.h>

#include <cstring>
#include <vector>

namespace mm
{
namespace
{

/* What a codestream header says. */
struct Declared
{
  int cols = 0, rows = 0, components = 0, precision = 0;
};

bool
agrees (const char *kind, const Declared &d, const FrameShape &shape, std::string &why)
{
  if (d.components != 1)
    why = fmt ("its %s codestream has %d components, 1 expected", kind, d.components);
  else if (d.cols != shape.cols || d.rows != shape.rows)
    why = fmt ("its %s codestream is %d x %d, the header says %d x %d (columns x rows)", kind,
               d.cols, d.rows, shape.cols, shape.rows);
  else if (d.precision < 2 || d.precision > 16 || (d.precision <= 8) != (shape.bytes == 1))
    why = fmt ("its %s codestream has %d-bit samples, which do not decode to Bits Allocated %d",
               kind, d.precision, shape.bytes * 8);
  else
    return true;
  return false;
}

/* JPEG and JPEG-LS: the first frame header (SOFn, or SOF55 for JPEG-LS) before the scan. */
bool
read_jpeg (const uint8_t *d, size_t len, bool ls, Declared &out, std::string &why)
{
  if (len < 4 || d[0] != 0xff || d[1] != 0xd8)
    {
      why = "its codestream does not start with a JPEG start-of-image marker";
      return false;
    }
  size_t pos = 2;
  while (pos + 4 <= len)
    {
      if (d[pos] != 0xff)
        break;
      uint8_t m = d[pos + 1];
      if (m == 0xff)
        {
          pos++; /* fill byte */
          continue;
        }
      if (m == 0x01 || (m >= 0xd0 && m <= 0xd8))
        {
          pos += 2; /* markers without a length */
          continue;
        }
      size_t seg = be16 (d + pos + 2);
      if (seg < 2 || pos + 2 + seg > len)
        break;
      const uint8_t *p = d + pos + 4;
      bool sof = (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc);
      bool sof_ls = m == 0xf7;
      if (sof || sof_ls)
        {
          if (sof_ls != ls)
            {
              why = ls ? "its codestream is JPEG, not the JPEG-LS its transfer syntax says"
                       : "its codestream is JPEG-LS, not the JPEG its transfer syntax says";
              return false;
            }
          if (seg < 8)
            break;
          out.precision = p[0];
          out.rows = be16 (p + 1);
          out.cols = be16 (p + 3);
          out.components = p[5];
          return true;
        }
      if (m == 0xda || m == 0xd9)
        break; /* a scan or the end before any frame header */
      pos += 2 + seg;
    }
  why = "its JPEG codestream has no readable frame header";
  return false;
}

/* JPEG 2000: the SIZ marker of a raw codestream, or of the one in a JP2 file's jp2c box. */
bool
read_j2k (const uint8_t *d, size_t len, Declared &out, std::string &why)
{
  if (len >= 12 && be32 (d) == 12 && std::memcmp (d + 4, "jP  ", 4) == 0)
    {
      /* JP2 boxes: find the contiguous codestream box. */
      size_t pos = 0;
      while (pos + 8 <= len)
        {
          uint64_t box = be32 (d + pos);
          size_t head = 8;
          if (box == 1 && pos + 16 <= len)
            {
              box = (uint64_t) be32 (d + pos + 8) << 32 | be32 (d + pos + 12);
              head = 16;
            }
          else if (box == 0)
            box = len - pos;
          if (box < head || box > len - pos)
            break;
          if (std::memcmp (d + pos + 4, "jp2c", 4) == 0)
            return read_j2k (d + pos + head, box - head, out, why);
          pos += box;
        }
      why = "its JP2 file has no readable codestream box";
      return false;
    }
  if (len < 4 + 38 + 3 || be16 (d) != 0xff4f || be16 (d + 2) != 0xff51)
    {
      why = "its codestream does not start with JPEG 2000 SOC and SIZ markers";
      return false;
    }
  const uint8_t *s = d + 4; /* Lsiz */
  size_t lsiz = be16 (s);
  uint32_t xsiz = be32 (s + 4), ysiz = be32 (s + 8), xo = be32 (s + 12), yo = be32 (s + 16);
  int csiz = be16 (s + 36);
  if (lsiz < 38 + 3 * (size_t) csiz || 4 + 2 + lsiz > len || xo >= xsiz || yo >= ysiz
      || csiz < 1)
    {
      why = "its JPEG 2000 SIZ marker is damaged";
      return false;
    }
  out.cols = (int) std::min<uint32_t> (xsiz - xo, INT32_MAX);
  out.rows = (int) std::min<uint32_t> (ysiz - yo, INT32_MAX);
  out.components = csiz;
  out.precision = (s[38] & 0x7f) + 1;
  if (s[39] != 1 || s[40] != 1)
    {
      why = "its JPEG 2000 codestream is subsampled";
      return false;
    }
  return true;
}

} // namespace

bool
decode_rle_frame (const uint8_t *d, size_t len, const FrameShape &shape, uint8_t *out,
                  std::string &why)
{
  const size_t n = (size_t) shape.rows * (size_t) shape.cols;
  if (len < 64)
    {
      why = "its RLE frame is shorter than the 64-byte RLE header";
      return false;
    }
  uint32_t segments = le32 (d);
  if (segments != (uint32_t) shape.bytes)
    {
      why = fmt ("its RLE frame has %u segments, %d expected for Bits Allocated %d", segments,
                 shape.bytes, shape.bytes * 8);
      return false;
    }
  for (uint32_t s = 0; s < segments; s++)
    {
      uint64_t start = le32 (d + 4 + 4 * s);
      uint64_t end = s + 1 < segments ? le32 (d + 8 + 4 * s) : len;
      if (start < 64 || start > end || end > len)
        {
          why = fmt ("its RLE segment %u lies outside the frame", s + 1);
          return false;
        }
      /* Segment 1 holds the most significant bytes; the output is little endian. */
      const size_t b = (size_t) shape.bytes - 1 - s;
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
                out[x++ * shape.bytes + b] = d[p + i];
              p += count;
            }
          else if (c != -128)
            {
              size_t count = (size_t) (1 - c);
              if (p >= end)
                break;
              uint8_t v = d[p++];
              for (size_t i = 0; i < count && x < n; i++)
                out[x++ * shape.bytes + b] = v;
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
check_codestream (const std::string &ts, const uint8_t *data, size_t len,
                  const FrameShape &shape, std::string &why)
{
  static const char *const jpeg[] = { "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
                                       "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70" };
  static const char *const jpeg_ls[] = { "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81" };
  static const char *const j2k[] = { "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91" };
  auto in = [&] (const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
      if (ts == list[i])
        return true;
    return false;
  };
  Declared d;
  const char *kind;
  if (in (jpeg, G_N_ELEMENTS (jpeg)))
    {
      kind = "JPEG";
      if (!read_jpeg (data, len, false, d, why))
        return false;
    }
  else if (in (jpeg_ls, G_N_ELEMENTS (jpeg_ls)))
    {
      kind = "JPEG-LS";
      if (!read_jpeg (data, len, true, d, why))
        return false;
    }
  else if (in (j2k, G_N_ELEMENTS (j2k)))
    {
      kind = "JPEG 2000";
      if (!read_j2k (data, len, d, why))
        return false;
    }
  else
    {
      why = "transfer syntax " + ts + " is not read for multi-frame images";
      return false;
    }
  return agrees (kind, d, shape, why);
}

} // namespace mm
