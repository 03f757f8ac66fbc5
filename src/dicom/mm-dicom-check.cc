/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A structural check of a DICOM file before GDCM parses it. Debian's GDCM is built with
 * assertions on, and its reader retries a failed parse in a way that asserts (aborts the
 * process) on truncated or damaged files; so every element length is checked against the
 * file here first: meta group, data set, nested sequences and encapsulated fragments, up to
 * and including Pixel Data. Values are not interpreted. */
#include "mm-dicom-private.hh"

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mm
{
namespace
{

#define MAX_DEPTH 16

struct Walker
{
  int fd = -1;
  uint64_t size = 0;
  bool big_endian = false;
  bool explicit_vr = true;
  std::string why;
  uint64_t pixel_start = 0, pixel_value = 0, pixel_length = 0, pixel_end = 0;

  /* The first bytes of the file, where nearly every element header lies: one read instead
   * of one per element. */
  unsigned char head[16384];
  size_t head_len = 0;

  bool
  read_at (uint64_t off, void *buf, size_t n)
  {
    if (off + n > size)
      return false;
    if (off + n <= head_len)
      {
        std::memcpy (buf, head + off, n);
        return true;
      }
    ssize_t got = pread (fd, buf, n, (off_t) off);
    return got == (ssize_t) n;
  }

  uint16_t
  u16 (const unsigned char *p) const
  {
    return big_endian ? (uint16_t) (p[0] << 8 | p[1]) : (uint16_t) (p[0] | p[1] << 8);
  }

  uint32_t
  u32 (const unsigned char *p) const
  {
    return big_endian ? ((uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3])
                      : ((uint32_t) p[3] << 24 | p[2] << 16 | p[1] << 8 | p[0]);
  }

  bool
  fail (const char *what, uint64_t off)
  {
    why = std::string (what) + " at byte " + std::to_string (off);
    return false;
  }

  /* Items of a sequence (or fragments of encapsulated pixel data) from pos until the
   * sequence delimiter (undefined length) or end (defined length). */
  bool
  walk_items (uint64_t &pos, uint64_t end, bool undefined, int depth, bool fragments)
  {
    if (depth > MAX_DEPTH)
      return fail ("sequences nested too deeply", pos);
    while (undefined || pos < end)
      {
        unsigned char h[8];
        if (!read_at (pos, h, 8))
          return fail ("truncated inside a sequence", pos);
        uint16_t g = u16 (h), e = u16 (h + 2);
        uint32_t len = u32 (h + 4);
        pos += 8;
        if (g != 0xfffe)
          return fail ("damaged sequence: an item tag was expected", pos - 8);
        if (e == 0xe0dd) /* sequence delimitation */
          return true;
        if (e != 0xe000)
          return fail ("damaged sequence: unexpected delimiter", pos - 8);
        if (len == 0xffffffffu)
          {
            if (fragments)
              return fail ("damaged pixel data fragment length", pos - 8);
            if (!walk_dataset (pos, 0, true, depth + 1))
              return false;
          }
        else
          {
            if (pos + len > size)
              return fail ("truncated: an item runs past the end of the file", pos - 8);
            if (!fragments)
              {
                uint64_t p = pos;
                if (!walk_dataset (p, pos + len, false, depth + 1))
                  return false;
              }
            pos += len;
          }
      }
    if (pos != end)
      return fail ("damaged sequence: items overrun its length", pos);
    return true;
  }

  /* Elements from pos until end (defined) or an item delimiter (undefined). Returns after
   * Pixel Data at the top level. */
  bool
  walk_dataset (uint64_t &pos, uint64_t end, bool undefined, int depth)
  {
    while (undefined || pos < end)
      {
        unsigned char h[12];
        if (depth == 0 && pos == size)
          return true; /* end of file between elements: fine, if unusual */
        if (!read_at (pos, h, 8))
          return fail ("truncated in an element header", pos);
        uint16_t g = u16 (h), e = u16 (h + 2);
        if (g == 0xfffe && e == 0xe00d) /* item delimitation */
          {
            pos += 8;
            if (!undefined)
              return fail ("damaged item: stray delimiter", pos - 8);
            return true;
          }
        uint32_t len;
        bool is_sq = false, is_un = false, long_form = !explicit_vr;
        size_t header = 8;
        if (explicit_vr && g != 0xfffe)
          {
            char vr[3] = { (char) h[4], (char) h[5], 0 };
            if (!g_ascii_isupper (vr[0]) || !g_ascii_isupper (vr[1]))
              return fail ("damaged element: invalid VR", pos);
            static const char *const long_vrs[]
                = { "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV" };
            for (const char *v : long_vrs)
              if (!std::strcmp (vr, v))
                long_form = true;
            is_sq = !std::strcmp (vr, "SQ");
            is_un = !std::strcmp (vr, "UN");
          }
        if (long_form)
          {
            if (explicit_vr && g != 0xfffe)
              {
                if (!read_at (pos, h, 12))
                  return fail ("truncated in an element header", pos);
                /* PS3.5 7.1.2: the two bytes after these VRs are reserved, 0000H. GDCM
                 * reads non-zero ones as a 16-bit-length quirk and can misparse badly. */
                if (h[6] != 0 || h[7] != 0)
                  return fail ("damaged element header (reserved bytes not zero)", pos);
                len = u32 (h + 8);
                header = 12;
              }
            else
              len = u32 (h + 4);
          }
        else
          len = u16 (h + 6);
        uint64_t element_start = pos;
        pos += header;
        bool pixel_data = depth == 0 && g == 0x7fe0 && e == 0x0010;
        if (pixel_data)
          {
            pixel_start = element_start;
            pixel_value = pos;
            pixel_length = len == 0xffffffffu ? 0 : len;
          }
        if (len == 0xffffffffu)
          {
            /* Undefined length: a sequence, encapsulated pixel data, or UN, whose items are
             * implicit VR little endian whatever the transfer syntax (PS3.5 6.2.2). */
            bool saved = explicit_vr;
            if (is_un)
              explicit_vr = false;
            bool ok = walk_items (pos, 0, true, depth + 1, pixel_data);
            explicit_vr = saved;
            if (!ok)
              return false;
          }
        else
          {
            if (pos + len > size)
              return fail ("truncated: an element runs past the end of the file", pos - header);
            if (is_sq && len > 0)
              {
                uint64_t p = pos;
                if (!walk_items (p, pos + len, false, depth + 1, false))
                  return false;
              }
            pos += len;
          }
        if (pixel_data)
          {
            pixel_end = pos;
            return true;
          }
      }
    if (!undefined && pos != end)
      return fail ("damaged item: elements overrun its length", pos);
    return true;
  }
};

} // namespace

MemBuf::pos_type
MemBuf::seekoff (off_type off, std::ios_base::seekdir dir, std::ios_base::openmode)
{
  char *target = dir == std::ios_base::beg ? eback () + off
                 : dir == std::ios_base::cur ? gptr () + off
                                             : egptr () + off;
  if (target < eback () || target > egptr ())
    return pos_type (off_type (-1));
  setg (eback (), target, egptr ());
  return pos_type (target - eback ());
}

MemBuf::pos_type
MemBuf::seekpos (pos_type pos, std::ios_base::openmode which)
{
  return seekoff (off_type (pos), std::ios_base::beg, which);
}

bool
check_structure (const std::string &path, std::string &why, FileLayout &layout)
{
  layout = FileLayout ();
  Walker w;
  w.fd = open (path.c_str (), O_RDONLY | O_CLOEXEC);
  if (w.fd < 0)
    {
      why = std::string ("cannot open: ") + g_strerror (errno);
      return false;
    }
  struct stat st;
  bool ok = false;
  if (fstat (w.fd, &st) != 0 || !S_ISREG (st.st_mode))
    why = "not a regular file";
  else if ((w.size = st.st_size) < 16)
    why = "not a DICOM file (too short)";
  else
    {
      ssize_t got = pread (w.fd, w.head, std::min<uint64_t> (sizeof w.head, w.size), 0);
      w.head_len = got > 0 ? (size_t) got : 0;
      unsigned char pre[132];
      uint64_t pos = 0;
      std::string ts = "1.2.840.10008.1.2.1";
      bool ts_stated = false;
      uint64_t meta_end = 0;
      bool have_meta = w.read_at (0, pre, 132) && std::memcmp (pre + 128, "DICM", 4) == 0;
      ok = true;
      if (have_meta)
        {
          /* File meta group: always explicit VR little endian (PS3.10 7.1). */
          pos = 132;
          int elements = 0;
          unsigned char h[12];
          while (w.read_at (pos, h, 8) && w.u16 (h) == 0x0002)
            {
              uint64_t start = pos;
              /* One element at a time, remembering the transfer syntax. */
              char vr[3] = { (char) h[4], (char) h[5], 0 };
              uint32_t len;
              size_t header = 8;
              if (!std::strcmp (vr, "OB") || !std::strcmp (vr, "OW") || !std::strcmp (vr, "UN")
                  || !std::strcmp (vr, "SQ") || !std::strcmp (vr, "UT"))
                {
                  if (!w.read_at (pos, h, 12))
                    {
                      ok = false;
                      break;
                    }
                  len = w.u32 (h + 8);
                  header = 12;
                }
              else
                len = w.u16 (h + 6);
              if (len == 0xffffffffu || pos + header + len > w.size)
                {
                  ok = false;
                  break;
                }
              if (w.u16 (h + 2) == 0x0010 && len < 128)
                {
                  char uid[129] = { 0 };
                  w.read_at (pos + header, uid, len);
                  ts = std::string (uid, strnlen (uid, len));
                  while (!ts.empty () && (ts.back () == ' ' || ts.back () == '\0'))
                    ts.pop_back ();
                  ts_stated = !ts.empty ();
                  if (!ts_stated)
                    ts = "1.2.840.10008.1.2.1";
                }
              pos = start + header + len;
              elements++;
            }
          meta_end = pos;
          if (!ok || elements == 0)
            {
              ok = false;
              why = "truncated or damaged file meta information (group 0002)";
            }
        }
      else
        {
          /* No preamble: guess the encoding from the first element, as GDCM does. */
          unsigned char h[6];
          w.read_at (0, h, 6);
          w.explicit_vr = g_ascii_isupper (h[4]) && g_ascii_isupper (h[5]);
          ts = w.explicit_vr ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2";
          if (h[0] == 0 && h[1] == 0x08) /* ACR-NEMA big endian: left to GDCM */
            ts = "";
        }
      if (ok)
        {
          if (ts == "1.2.840.10008.1.2")
            w.explicit_vr = false;
          else if (ts == "1.2.840.10008.1.2.2")
            w.big_endian = true;
          /* Deflated data sets and unknown encodings cannot be walked without inflating;
           * they are left to GDCM. */
          bool walkable = ts.rfind ("1.2.840.10008.1.2", 0) == 0 && ts != "1.2.840.10008.1.2.1.99";
          uint64_t start = pos;
          if (walkable && !w.walk_dataset (pos, w.size, false, 0))
            {
              /* Without a stated transfer syntax the encoding is a guess, so the other one is
               * tried too. A data set that contradicts its stated syntax is refused: GDCM
               * misparses those, with absurd allocations. */
              std::string first_why = w.why;
              w.explicit_vr = !w.explicit_vr;
              pos = start;
              if (ts_stated || !w.walk_dataset (pos, w.size, false, 0))
                {
                  ok = false;
                  if (ts_stated)
                    why = first_why + " (the data set does not follow its transfer syntax "
                          + ts + ")";
                  else if (!have_meta)
                    why = "not a DICOM file (no DICM prefix, and no readable data set: "
                          + first_why + ")";
                  else
                    why = first_why;
                }
            }
          else if (walkable && have_meta && pos == meta_end)
            {
              ok = false;
              why = "no data set after the file meta information";
            }
          if (ok && w.pixel_start > 0)
            {
              layout.pixel_start = w.pixel_start;
              layout.pixel_value = w.pixel_value;
              layout.pixel_length = w.pixel_length;
              layout.pixel_end = w.pixel_end;
              layout.native_little_endian
                  = w.pixel_length > 0 && !w.big_endian
                    && (ts == "1.2.840.10008.1.2" || ts == "1.2.840.10008.1.2.1");
              layout.header.resize (w.pixel_start);
              if (!w.read_at (0, layout.header.data (), w.pixel_start))
                {
                  ok = false;
                  why = "cannot read the header";
                }
            }
        }
    }
  close (w.fd);
  return ok;
}

} // namespace mm
