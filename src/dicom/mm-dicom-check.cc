/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A structural check of a DICOM file before GDCM parses it. Debian's GDCM is built with
 * assertions on, and its reader retries a failed parse in a way that asserts (aborts the
 * process) on truncated or damaged files; so every element length is checked against the
 * file here first: meta group, data set, nested sequences and encapsulated fragments, up to
 * and including Pixel Data. Values are not interpreted. */
#include "mm-dicom-private.hh"

#include "mm-limits.h"

#include <cerrno>
#include <memory>
#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <glib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace mm
{
namespace
{

#define MAX_DEPTH 16

struct Walker
{
  int fd = -1;
  const unsigned char *mem = nullptr; /* when set, the bytes walked (size of them) */
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
    if (mem != nullptr)
      {
        std::memcpy (buf, mem + off, n);
        return true;
      }
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
          {
            /* Its length must be 0: GDCM reads a fragment's worth of it (fuzz-dicom-decode:
             * a delimiter of length 0x80808080 made it allocate 2 GB). */
            if (len != 0)
              return fail ("damaged sequence delimiter (non-zero length)", pos - 8);
            return true;
          }
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
            if (u32 (h + 4) != 0)
              return fail ("damaged item delimiter (non-zero length)", pos);
            pos += 8;
            if (!undefined)
              return fail ("damaged item: stray delimiter", pos - 8);
            return true;
          }
        /* Any other item tag where an element belongs, and a meta element after the meta
         * group (GDCM, reading the meta group we put in front, would take it for one of its
         * own): GDCM asserts on both (found by fuzz-dicomdir and fuzz-dicom-header). */
        if (g == 0xfffe)
          return fail ("damaged data set: an item tag where an element belongs", pos);
        if (depth == 0 && g == 0x0002)
          return fail ("a file meta element (group 0002) inside the data set", pos);
        uint32_t len;
        bool is_sq = false, is_un = false, long_form = !explicit_vr;
        size_t header = 8;
        char vr[3] = { 0, 0, 0 };
        if (explicit_vr && g != 0xfffe)
          {
            vr[0] = (char) h[4];
            vr[1] = (char) h[5];
            /* Only the VRs of PS3.5 6.2: GDCM answers another with a retry in a reader that
             * asserts. */
            static const char known_vrs[]
                = "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV "
                  "TM UC UI UL UN UR US UT UV ";
            bool known = false;
            for (const char *k = known_vrs; *k && !known; k += 3)
              known = k[0] == vr[0] && k[1] == vr[1];
            if (!known)
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
        const bool pixel_tag = g == 0x7fe0 && e == 0x0010;
        bool pixel_data = depth == 0 && pixel_tag;
        if (pixel_data)
          {
            pixel_start = element_start;
            pixel_value = pos;
            pixel_length = len == 0xffffffffu ? 0 : len;
          }
        /* What GDCM's explicit VR reader asserts on (found by fuzz-dicom-header and
         * fuzz-dicom-decode): Pixel Data as a sequence, and an undefined length on anything
         * but a sequence, UN, or Pixel Data of VR OB, OW or UN. */
        if (vr[0] != 0)
          {
            const bool ob_ow_un = !std::strcmp (vr, "OB") || !std::strcmp (vr, "OW") || is_un;
            if (pixel_tag && is_sq)
              return fail ("damaged element: Pixel Data with VR SQ", element_start);
            if (len == 0xffffffffu && !(is_sq || is_un || (pixel_tag && ob_ow_un)))
              return fail ("damaged element: an undefined length on a VR that cannot have one",
                           element_start);
          }
        if (len == 0xffffffffu)
          {
            /* Undefined length: a sequence, encapsulated pixel data, or UN, whose items are
             * implicit VR little endian whatever the transfer syntax (PS3.5 6.2.2). */
            bool saved = explicit_vr;
            if (is_un)
              explicit_vr = false;
            bool ok = walk_items (pos, 0, true, depth + 1, pixel_tag);
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

int
open_regular (const std::string &path, std::string &why, uint64_t *size)
{
  /* O_NONBLOCK: opening a FIFO that no one writes to would otherwise wait forever. It does
   * not change how a regular file reads. */
  int fd = open (path.c_str (), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    {
      why = std::string ("cannot open: ") + g_strerror (errno);
      return -1;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      why = "not a regular file (FIFOs, devices and sockets are not read)";
      close (fd);
      return -1;
    }
  if (size != nullptr)
    *size = (uint64_t) st.st_size;
  return fd;
}

namespace
{

bool
pread_all (int fd, void *dst, uint64_t n, uint64_t offset)
{
  uint64_t done = 0;
  while (done < n)
    {
      ssize_t got = pread (fd, (char *) dst + done, n - done, (off_t) (offset + done));
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return false;
      done += (uint64_t) got;
    }
  return true;
}

/* The whole of a deflated data set (PS3.5 A.5: raw deflate, RFC 1951), inflated. False
 * unless the stream ends properly (a truncated file is not zero-filled) within
 * MM_LIMIT_DICOM_INFLATED_BYTES (a deflate bomb stops there). */
bool
inflate_data_set (int fd, uint64_t offset, uint64_t size, std::vector<unsigned char> &out,
                  std::string &why)
{
  if (size <= offset)
    {
      why = "no data set after the file meta information";
      return false;
    }
  if (size - offset > MM_LIMIT_DICOM_INFLATED_BYTES)
    {
      why = "its deflated data set is larger than the limit of "
            + std::to_string (MM_LIMIT_DICOM_INFLATED_BYTES) + " bytes";
      return false;
    }
  std::vector<unsigned char> in (size - offset);
  if (!pread_all (fd, in.data (), in.size (), offset))
    {
      why = std::string ("cannot read: ") + g_strerror (errno);
      return false;
    }
  /* Some writers wrap the stream in a zlib header, against the standard; read those too. */
  bool zlib_header = in.size () >= 2 && (in[0] & 0x0f) == 8 && ((in[0] << 8) | in[1]) % 31 == 0;
  for (int attempt = 0; attempt < (zlib_header ? 2 : 1); attempt++)
    {
      z_stream zs;
      std::memset (&zs, 0, sizeof zs);
      if (inflateInit2 (&zs, attempt == 0 ? -MAX_WBITS : MAX_WBITS) != Z_OK)
        {
          why = "cannot inflate its data set (zlib failed to start)";
          return false;
        }
      zs.next_in = in.data ();
      zs.avail_in = (uInt) in.size ();
      out.clear ();
      int rc = Z_OK;
      while (rc == Z_OK)
        {
          size_t old = out.size ();
          if (old >= MM_LIMIT_DICOM_INFLATED_BYTES)
            break;
          size_t grow = std::min<uint64_t> (std::max<size_t> (old, 1 << 16),
                                            MM_LIMIT_DICOM_INFLATED_BYTES - old);
          out.resize (old + grow);
          zs.next_out = out.data () + old;
          zs.avail_out = (uInt) grow;
          rc = inflate (&zs, Z_NO_FLUSH);
          out.resize (old + grow - zs.avail_out);
        }
      inflateEnd (&zs);
      if (rc == Z_STREAM_END)
        return true;
      if (rc == Z_OK)
        why = "its deflated data set inflates to more than the limit of "
              + std::to_string (MM_LIMIT_DICOM_INFLATED_BYTES) + " bytes";
      else if (rc == Z_BUF_ERROR)
        why = "truncated: its deflated data set ends before the end of the stream";
      else
        why = "its deflated data set is damaged (" + std::string (zs.msg ? zs.msg : "zlib error")
              + ")";
    }
  out.clear ();
  return false;
}

/* One explicit VR little endian element of the file meta group. */
void
put_meta (std::vector<char> &out, uint16_t e, const char *vr, const std::string &value)
{
  std::string v = value;
  if (v.size () % 2)
    v += '\0';
  const unsigned char h[8] = { 0x02, 0x00, (unsigned char) (e & 0xff), (unsigned char) (e >> 8),
                               (unsigned char) vr[0], (unsigned char) vr[1],
                               (unsigned char) (v.size () & 0xff),
                               (unsigned char) (v.size () >> 8) };
  out.insert (out.end (), h, h + 8);
  out.insert (out.end (), v.begin (), v.end ());
}

/* A file meta group that states exactly the encoding the data set was checked in, so GDCM
 * does not guess another (a file without one, or whose data set was inflated here). The
 * SOP class and instance UIDs of the original are kept: the header reader falls back on
 * them. */
std::vector<char>
make_meta (const std::string &ts, const std::string &sop_class, const std::string &sop_uid)
{
  std::vector<char> group;
  if (!sop_class.empty ())
    put_meta (group, 0x0002, "UI", sop_class);
  if (!sop_uid.empty ())
    put_meta (group, 0x0003, "UI", sop_uid);
  put_meta (group, 0x0010, "UI", ts);
  std::vector<char> out;
  out.reserve (132 + 12 + group.size ());
  out.resize (132, '\0');
  std::memcpy (out.data () + 128, "DICM", 4);
  uint32_t len = (uint32_t) group.size ();
  const unsigned char gl[12] = { 0x02, 0x00, 0x00, 0x00, 'U', 'L', 4, 0,
                                 (unsigned char) (len & 0xff), (unsigned char) (len >> 8 & 0xff),
                                 (unsigned char) (len >> 16 & 0xff), (unsigned char) (len >> 24) };
  out.insert (out.end (), gl, gl + 12);
  out.insert (out.end (), group.begin (), group.end ());
  return out;
}

/* A UI value of the meta group, trimmed of padding. */
std::string
meta_uid (Walker &w, uint64_t value, uint32_t len)
{
  if (len == 0 || len > 64)
    return "";
  char uid[65] = { 0 };
  if (!w.read_at (value, uid, len))
    return "";
  std::string s (uid, strnlen (uid, len));
  while (!s.empty () && (s.back () == ' ' || s.back () == '\0'))
    s.pop_back ();
  return s;
}

bool
walk_file (const std::string &path, int fd, uint64_t size, std::string &why,
           FileLayout &layout, bool through_pixels)
{
  Walker w;
  w.fd = fd;
  w.size = size;
  if (size < 16)
    {
      why = "not a DICOM file (too short)";
      return false;
    }
  ssize_t got = pread (fd, w.head, std::min<uint64_t> (sizeof w.head, size), 0);
  w.head_len = got > 0 ? (size_t) got : 0;
  unsigned char pre[132];
  uint64_t pos = 0;
  std::string ts = "1.2.840.10008.1.2.1", sop_class, sop_uid;
  bool ts_stated = false;
  uint64_t meta_end = 0;
  bool have_meta = w.read_at (0, pre, 132) && std::memcmp (pre + 128, "DICM", 4) == 0;
  /* A meta group without the preamble and prefix (GDCM reads those too). */
  const unsigned char *b = w.head; /* at least 16 bytes: size was checked */
  const bool bare_meta = !have_meta && w.head_len >= 16 && b[0] == 0x02 && b[1] == 0
                         && g_ascii_isupper (b[4]) && g_ascii_isupper (b[5]);
  if (bare_meta)
    have_meta = true;
  if (have_meta)
    {
      /* File meta group: always explicit VR little endian (PS3.10 7.1). */
      pos = bare_meta ? 0 : 132;
      int elements = 0;
      unsigned char h[12];
      bool ok = true;
      while (w.read_at (pos, h, 8) && w.u16 (h) == 0x0002)
        {
          uint64_t start = pos;
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
          if (len == 0xffffffffu || pos + header + len > size)
            {
              ok = false;
              break;
            }
          uint16_t e = w.u16 (h + 2);
          if (e == 0x0010 && len < 128)
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
          else if (e == 0x0002)
            sop_class = meta_uid (w, pos + header, len);
          else if (e == 0x0003)
            sop_uid = meta_uid (w, pos + header, len);
          pos = start + header + len;
          elements++;
        }
      meta_end = pos;
      if (!ok || elements == 0)
        {
          why = "truncated or damaged file meta information (group 0002)";
          return false;
        }
    }
  else
    {
      /* No preamble: guess the encoding from the first element, as GDCM does. Group 0008
       * read as 0800 is an ACR-NEMA big endian file. */
      unsigned char h[6];
      w.read_at (0, h, 6);
      w.explicit_vr = g_ascii_isupper (h[4]) && g_ascii_isupper (h[5]);
      w.big_endian = h[0] == 0 && h[1] != 0;
    }

  const bool deflated = ts == "1.2.840.10008.1.2.1.99";
  if (have_meta && !deflated)
    {
      if (ts == "1.2.840.10008.1.2")
        w.explicit_vr = false;
      else if (ts == "1.2.840.10008.1.2.2")
        w.big_endian = true;
      else if (ts.rfind ("1.2.840.10008.1.2.", 0) != 0)
        {
          /* Every other standard syntax is explicit VR little endian; an unknown one would
           * be guessed at by GDCM, so it is not read. */
          why = "unsupported transfer syntax " + ts;
          return false;
        }
    }
  std::vector<unsigned char> inflated;
  uint64_t ds_start = have_meta ? meta_end : 0;
  if (deflated)
    {
      if (!inflate_data_set (fd, meta_end, size, inflated, why))
        return false;
      w.mem = inflated.data ();
      w.size = inflated.size ();
      ds_start = 0;
      pos = 0;
    }

  uint64_t start = pos;
  if (!w.walk_dataset (pos, w.size, false, 0))
    {
      /* Without a stated transfer syntax the encoding is a guess, so the other one is
       * tried too. A data set that contradicts its stated syntax is refused: GDCM misparses
       * those, with absurd allocations. */
      std::string first_why = w.why;
      if (ts_stated)
        {
          why = first_why + " (the data set does not follow its transfer syntax " + ts + ")";
          return false;
        }
      w.explicit_vr = !w.explicit_vr;
      w.pixel_start = w.pixel_value = w.pixel_length = w.pixel_end = 0;
      pos = start;
      if (!w.walk_dataset (pos, w.size, false, 0))
        {
          if (!have_meta)
            why = "not a DICOM file (no DICM prefix, and no readable data set: " + first_why + ")";
          else
            why = first_why;
          return false;
        }
    }
  if (pos == ds_start)
    {
      why = "no data set after the file meta information";
      return false;
    }
  if (!ts_stated || deflated)
    {
      if (w.big_endian && !w.explicit_vr)
        {
          why = "implicit VR big endian (ACR-NEMA) is not read";
          return false;
        }
      ts = w.big_endian ? "1.2.840.10008.1.2.2"
           : w.explicit_vr ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2";
    }

  /* The bytes GDCM will parse: the data set behind a meta group of our own that states the
   * encoding checked here. GDCM never reads a file's own meta group (its reader asserts on
   * damaged ones, and could take a transfer syntax from a second one). */
  std::vector<char> prefix = make_meta (ts, sop_class, sop_uid);
  const bool has_pixels = w.pixel_start > 0;
  if (has_pixels && w.pixel_start == ds_start)
    {
      /* GDCM asserts when the stream ends right after the meta group (found by
       * fuzz-dicom-header); no image can be described without elements anyway. */
      why = "no data set elements before Pixel Data";
      return false;
    }
  uint64_t end = has_pixels ? (through_pixels ? w.pixel_end : w.pixel_start) : pos;
  if ((has_pixels ? w.pixel_start : end) - ds_start > MM_LIMIT_DICOM_HEADER_BYTES)
    {
      why = std::string (has_pixels ? "" : "no Pixel Data (7FE0,0010), and ")
            + "a header larger than the limit of "
            + std::to_string (MM_LIMIT_DICOM_HEADER_BYTES) + " bytes";
      return false;
    }
  if (has_pixels)
    {
      /* Offsets in the file (in the inflated data set for a deflated file). */
      layout.pixel_start = w.pixel_start;
      layout.pixel_value = w.pixel_value;
      layout.pixel_length = w.pixel_length;
      layout.pixel_end = w.pixel_end;
      layout.native_little_endian = !deflated && w.pixel_length > 0 && !w.big_endian
                                    && (ts == "1.2.840.10008.1.2" || ts == "1.2.840.10008.1.2.1");
      layout.native_big_endian = !deflated && w.pixel_length > 0 && w.big_endian
                                 && ts == "1.2.840.10008.1.2.2";
    }
  layout.transfer_syntax = ts;
  const uint64_t from = ds_start;
  layout.header.assign (prefix.begin (), prefix.end ());
  layout.header.resize (prefix.size () + (end - from));
  char *dst = layout.header.data () + prefix.size ();
  bool ok = deflated ? (std::memcpy (dst, inflated.data () + from, end - from), true)
                     : pread_all (fd, dst, end - from, from);
  if (!ok)
    {
      why = std::string ("cannot read the header: ") + g_strerror (errno);
      return false;
    }
  (void) path;
  return true;
}

} // namespace

bool
check_structure (const std::string &path, std::string &why, FileLayout &layout,
                 bool through_pixels)
{
  layout = FileLayout ();
  uint64_t size = 0;
  int fd = open_regular (path, why, &size);
  if (fd < 0)
    return false;
  bool ok = walk_file (path, fd, size, why, layout, through_pixels);
  close (fd);
  if (!ok)
    layout = FileLayout ();
  return ok;
}

bool
load_parse_image (const std::string &path, uint64_t pixel_start, uint64_t pixel_end,
                  std::vector<char> &image, std::string &why)
{
  FileLayout layout;
  if (!check_structure (path, why, layout, true))
    return false;
  if (layout.pixel_start != pixel_start || layout.pixel_end != pixel_end)
    {
      why = "the file changed while it was being read";
      return false;
    }
  image.swap (layout.header);
  return true;
}

/* Bytes GDCM holds as a value but will be asked to parse as a sequence (GetValueAsSQ: a
 * defined-length sequence of an implicit VR file, or a sequence whose VR was damaged). GDCM
 * parses them as implicit VR little endian first and asserts on what it cannot read, so
 * they are walked that way here first (found by fuzz-dicomdir). */
bool
check_sequence_bytes (const char *data, size_t len, std::string &why)
{
  auto w = std::make_unique<Walker> ();
  w->mem = reinterpret_cast<const unsigned char *> (data);
  w->size = len;
  w->explicit_vr = false;
  uint64_t pos = 0;
  if (!w->walk_items (pos, len, false, 1, false))
    {
      why = w->why;
      return false;
    }
  return true;
}

gdcm::SmartPointer<gdcm::SequenceOfItems>
checked_sq (const gdcm::DataElement &de)
{
  if (de.IsEmpty ())
    return nullptr;
  if (dynamic_cast<const gdcm::SequenceOfItems *> (&de.GetValue ()) != nullptr)
    return de.GetValueAsSQ (); /* parsed as a sequence already, from checked bytes */
  const gdcm::ByteValue *bv = de.GetByteValue ();
  std::string why;
  if (bv == nullptr || !check_sequence_bytes (bv->GetPointer (), bv->GetLength (), why))
    return nullptr;
  return de.GetValueAsSQ ();
}

} // namespace mm
