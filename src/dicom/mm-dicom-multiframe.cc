/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Multi-frame images, read frame by frame (see mm-dicom-multiframe.hh). Every count that
 * comes from the file (Number of Frames, items of the Per-frame Functional Groups, fragments,
 * offset tables) is checked against what the file holds before anything is sized by it. */
#include "mm-dicom-multiframe.hh"
#include "mm-dicom-codec.hh"
#include "mm-dicom-util.hh"

#include <gdcmFragment.h>
#include <gdcmImage.h>
#include <gdcmSequenceOfFragments.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmTransferSyntax.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <glib.h>
#include <map>
#include <set>
#include <unistd.h>

namespace mm
{
namespace
{

/* The compressed syntaxes whose multi-frame codestreams are checked and handed to GDCM:
 * JPEG (baseline, extended, lossless), JPEG-LS, JPEG 2000 (RLE is decoded here). */
bool
is_multiframe_codestream (const std::string &ts)
{
  static const char *const read[]
      = { "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
          "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
          "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91" };
  for (const char *uid : read)
    if (ts == uid)
      return true;
  return false;
}

/* Bytes [off, off + n) of a file into dst. */
bool
pread_all (int fd, uint64_t off, void *dst, uint64_t n)
{
  uint64_t done = 0;
  while (done < n)
    {
      ssize_t got = pread (fd, (char *) dst + done, n - done, (off_t) (off + done));
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return false;
      done += got;
    }
  return true;
}

struct Fd
{
  int fd;
  explicit Fd (const std::string &path) : fd (open (path.c_str (), O_RDONLY | O_CLOEXEC)) {}
  ~Fd ()
  {
    if (fd >= 0)
      close (fd);
  }
};

/* Sequences parsed on demand (implicit VR, UN) are new objects: they are kept alive here for
 * as long as pointers into their items are used. */
struct Items
{
  std::vector<gdcm::SmartPointer<gdcm::SequenceOfItems>> keep;

  gdcm::SequenceOfItems *
  sequence (const gdcm::DataSet &ds, uint16_t g, uint16_t e)
  {
    const gdcm::Tag tag (g, e);
    if (!ds.FindDataElement (tag))
      return nullptr;
    gdcm::SmartPointer<gdcm::SequenceOfItems> sq = checked_sq (ds.GetDataElement (tag));
    if (!sq)
      return nullptr;
    keep.push_back (sq);
    return sq.GetPointer ();
  }

  /* The first item of sequence (g,e) in ds; nullptr when absent or empty. */
  const gdcm::DataSet *
  first (const gdcm::DataSet *ds, uint16_t g, uint16_t e)
  {
    if (ds == nullptr)
      return nullptr;
    gdcm::SequenceOfItems *sq = sequence (*ds, g, e);
    if (sq == nullptr || sq->GetNumberOfItems () < 1)
      return nullptr;
    return &sq->GetItem (1).GetNestedDataSet ();
  }
};

/* An unsigned long (UL) value. */
bool
get_ul (const gdcm::DataSet &ds, uint16_t g, uint16_t e, long &out)
{
  const gdcm::Tag tag (g, e);
  if (!ds.FindDataElement (tag))
    return false;
  const gdcm::ByteValue *bv = ds.GetDataElement (tag).GetByteValue ();
  if (bv == nullptr || bv->GetLength () < 4)
    return false;
  uint32_t u;
  std::memcpy (&u, bv->GetPointer (), 4);
  out = (long) u;
  return true;
}

/* Direction cosines normalised; false when degenerate (as the single-frame header does). */
bool
normalise_iop (double *iop)
{
  for (int v = 0; v < 2; v++)
    {
      double *c = iop + 3 * v;
      double len = std::sqrt (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]);
      if (!(len > 0.5 && len < 1.5))
        return false;
      for (int a = 0; a < 3; a++)
        c[a] /= len;
    }
  return true;
}

void
normal_of (const double *iop, double n[3])
{
  const double *r = iop, *c = iop + 3;
  n[0] = r[1] * c[2] - r[2] * c[1];
  n[1] = r[2] * c[0] - r[0] * c[2];
  n[2] = r[0] * c[1] - r[1] * c[0];
}

/* Frames from the Shared (5200,9229) and Per-frame (5200,9230) Functional Groups. */
bool
read_functional_groups (const gdcm::DataSet &ds, SliceHeader &h, MultiFrame &mf, Items &items)
{
  gdcm::SequenceOfItems *per_frame = items.sequence (ds, 0x5200, 0x9230);
  const gdcm::DataSet *shared = items.first (&ds, 0x5200, 0x9229);
  size_t n_items = per_frame ? per_frame->GetNumberOfItems () : 0;
  if (n_items != (size_t) h.frames)
    {
      h.reason = fmt ("its Per-frame Functional Groups Sequence (5200,9230) has %zu items for "
                      "%d frames (Number of Frames (0028,0008))", n_items, h.frames);
      return false;
    }
  mf.functional_groups = true;
  for (int f = 0; f < h.frames; f++)
    {
      FrameInfo &fi = mf.frames[(size_t) f];
      const gdcm::DataSet *own = &per_frame->GetItem ((size_t) f + 1).GetNestedDataSet ();
      /* A functional group is in the frame's own item, or else shared by all frames. */
      auto group = [&] (uint16_t g, uint16_t e) -> const gdcm::DataSet * {
        const gdcm::DataSet *d = items.first (own, g, e);
        return d ? d : items.first (shared, g, e);
      };
      if (const gdcm::DataSet *d = group (0x0020, 0x9113)) /* Plane Position (Patient) */
        fi.has_ipp = get_numbers (*d, 0x0020, 0x0032, fi.ipp, 3);
      if (const gdcm::DataSet *d = group (0x0020, 0x9116)) /* Plane Orientation (Patient) */
        fi.has_iop = get_numbers (*d, 0x0020, 0x0037, fi.iop, 6) && normalise_iop (fi.iop);
      if (!fi.has_iop)
        {
          const double id[6] = { 1, 0, 0, 0, 1, 0 };
          std::memcpy (fi.iop, id, sizeof id);
        }
      if (const gdcm::DataSet *d = group (0x0028, 0x9110)) /* Pixel Measures */
        fi.has_spacing = get_numbers (*d, 0x0028, 0x0030, fi.pixel_spacing, 2)
                         && fi.pixel_spacing[0] > 0 && fi.pixel_spacing[1] > 0;
      if (!fi.has_spacing)
        {
          fi.pixel_spacing[0] = h.pixel_spacing[0];
          fi.pixel_spacing[1] = h.pixel_spacing[1];
          fi.has_spacing = h.has_spacing;
        }
      fi.slope = h.slope;
      fi.intercept = h.intercept;
      if (const gdcm::DataSet *d = group (0x0028, 0x9145)) /* Pixel Value Transformation */
        {
          if (!get_numbers (*d, 0x0028, 0x1053, &fi.slope, 1) || fi.slope == 0)
            fi.slope = 1.0;
          if (!get_numbers (*d, 0x0028, 0x1052, &fi.intercept, 1))
            fi.intercept = 0.0;
          get_string (*d, 0x0028, 0x1054, fi.rescale_type);
        }
      if (const gdcm::DataSet *d = items.first (own, 0x0020, 0x9111)) /* Frame Content */
        {
          get_string (*d, 0x0020, 0x9056, fi.stack_id);
          get_ul (*d, 0x0020, 0x9128, fi.temporal);
        }
      if (!fi.has_ipp)
        {
          h.reason = fmt ("frame %d has no Plane Position (Patient) (0020,9113) with an Image "
                          "Position (Patient), so its frames cannot be put in order", f + 1);
          return false;
        }
      if (f == 0)
        {
          /* The first frame's VOI window is the default view, as for a series. */
          if (const gdcm::DataSet *d = group (0x0028, 0x9132))
            h.has_window = get_numbers (*d, 0x0028, 0x1050, &h.window_center, 1)
                           && get_numbers (*d, 0x0028, 0x1051, &h.window_width, 1)
                           && h.window_width > 0;
        }
    }
  return true;
}

/* Frames of a classic multi-frame file: the file's one plane, stepped along its normal by the
 * Grid Frame Offset Vector (3004,000C) when there is one (RT Dose), else by 1 mm. */
void
read_classic (const gdcm::DataSet &ds, SliceHeader &h, MultiFrame &mf)
{
  std::vector<double> offsets ((size_t) h.frames);
  std::string gfov;
  if (h.has_ipp && get_string (ds, 0x3004, 0x000c, gfov)
      && get_numbers (ds, 0x3004, 0x000c, offsets.data (), h.frames))
    mf.grid_offsets = true;
  double n[3];
  normal_of (h.iop, n);
  for (int f = 0; f < h.frames; f++)
    {
      FrameInfo &fi = mf.frames[(size_t) f];
      /* Relative offsets start at 0; absolute ones (axial only) at the first frame's z. */
      double step = mf.grid_offsets ? offsets[(size_t) f] - offsets[0] : (double) f;
      for (int a = 0; a < 3; a++)
        fi.ipp[a] = h.ipp[a] + step * n[a];
      fi.has_ipp = true;
      std::memcpy (fi.iop, h.iop, sizeof fi.iop);
      fi.has_iop = h.has_iop;
      std::memcpy (fi.pixel_spacing, h.pixel_spacing, sizeof fi.pixel_spacing);
      fi.has_spacing = h.has_spacing;
      fi.slope = h.slope;
      fi.intercept = h.intercept;
    }
}

/* Assign the fragments of encapsulated Pixel Data to frames: one per frame, or by the Basic
 * (or Extended) Offset Table, or where a JPEG / JPEG 2000 codestream starts. */
bool
read_fragments (const gdcm::DataSet &ds, SliceHeader &h, MultiFrame &mf)
{
  Fd file (h.path);
  if (file.fd < 0)
    {
      h.reason = std::string ("cannot open: ") + g_strerror (errno);
      return false;
    }
  /* The structure check walked these items already, so they lie within the file. */
  struct Frag
  {
    uint64_t item, value, length; /* item tag offset, value offset, value length */
  };
  std::vector<Frag> frags;
  std::vector<uint32_t> bot;
  uint64_t pos = h.pixel_value;
  bool first = true;
  while (pos + 8 <= h.pixel_end)
    {
      unsigned char b[8];
      if (!pread_all (file.fd, pos, b, 8))
        {
          h.reason = "cannot read its pixel data fragments";
          return false;
        }
      uint16_t g = (uint16_t) (b[0] | b[1] << 8), e = (uint16_t) (b[2] | b[3] << 8);
      uint32_t len = (uint32_t) b[4] | (uint32_t) b[5] << 8 | (uint32_t) b[6] << 16
                     | (uint32_t) b[7] << 24;
      if (g != 0xfffe || e != 0xe000 || pos + 8 + len > h.pixel_end)
        break; /* the sequence delimiter */
      if (first)
        {
          if (len % 4 == 0 && len / 4 == (uint64_t) h.frames)
            {
              bot.resize (len / 4);
              if (!pread_all (file.fd, pos + 8, bot.data (), len))
                bot.clear ();
              for (uint32_t &v : bot)
                v = GUINT32_FROM_LE (v);
            }
          first = false;
        }
      else
        frags.push_back ({ pos, pos + 8, len });
      pos += 8 + (uint64_t) len;
    }
  if (frags.empty ())
    {
      h.reason = "its encapsulated Pixel Data has no fragments";
      return false;
    }
  /* Extended Offset Table (7FE0,0001), 64-bit offsets, when the basic one is empty. */
  if (bot.empty ())
    {
      const gdcm::Tag eot_tag (0x7fe0, 0x0001);
      const gdcm::ByteValue *bv = ds.FindDataElement (eot_tag)
                                      ? ds.GetDataElement (eot_tag).GetByteValue () : nullptr;
      if (bv && bv->GetLength () == 8ull * (uint64_t) h.frames)
        {
          std::vector<uint64_t> eot ((size_t) h.frames);
          std::memcpy (eot.data (), bv->GetPointer (), bv->GetLength ());
          bool fits = true;
          for (uint64_t v : eot)
            fits = fits && v <= UINT32_MAX;
          if (fits)
            for (uint64_t v : eot)
              bot.push_back ((uint32_t) v);
        }
    }

  const size_t n_frames = (size_t) h.frames;
  std::vector<size_t> start; /* index of each frame's first fragment */
  if (frags.size () == n_frames)
    for (size_t f = 0; f < n_frames; f++)
      start.push_back (f);
  else if (!bot.empty ())
    {
      /* Offsets are from the first fragment's item tag, one per frame, increasing. */
      std::map<uint64_t, size_t> at;
      for (size_t i = 0; i < frags.size (); i++)
        at[frags[i].item - frags[0].item] = i;
      for (size_t f = 0; f < n_frames; f++)
        {
          auto it = at.find (bot[f]);
          if (it == at.end () || (f > 0 && it->second <= start.back ()) || (f == 0 && bot[0] != 0))
            {
              h.reason = fmt ("its offset table does not match its fragments (frame %zu)",
                              f + 1);
              return false;
            }
          start.push_back (it->second);
        }
    }
  else if (frags.size () > n_frames)
    {
      /* No offset table: each JPEG (SOI FFD8) or JPEG 2000 (SOC FF4F, or a JP2 box) frame
       * starts a new fragment (PS3.5 A.4). */
      for (size_t i = 0; i < frags.size (); i++)
        {
          unsigned char b[6] = { 0 };
          if (frags[i].length >= 2 && !pread_all (file.fd, frags[i].value, b, std::min<uint64_t> (6, frags[i].length)))
            break;
          bool soi = b[0] == 0xff && (b[1] == 0xd8 || b[1] == 0x4f);
          bool jp2 = b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0x0c && b[4] == 0x6a;
          if (soi || jp2)
            start.push_back (i);
        }
      if (start.size () != n_frames || start[0] != 0)
        {
          h.reason = fmt ("its Pixel Data has %zu fragments for %zu frames and no offset "
                          "table that says which fragments make each frame",
                          frags.size (), n_frames);
          return false;
        }
    }
  else
    {
      h.reason = fmt ("its Pixel Data has %zu fragments for %zu frames (Number of Frames "
                      "(0028,0008)): frames are missing", frags.size (), n_frames);
      return false;
    }
  for (size_t f = 0; f < n_frames; f++)
    {
      size_t end = f + 1 < n_frames ? start[f + 1] : frags.size ();
      for (size_t i = start[f]; i < end; i++)
        mf.frames[f].fragments.push_back ({ frags[i].value, frags[i].length });
    }
  return true;
}

} // namespace

bool
read_multiframe (const gdcm::DataSet &ds, SliceHeader &h)
{
  const uint64_t frame_bytes = (uint64_t) h.rows * (uint64_t) h.cols * (h.bits_allocated / 8);
  const gdcm::TransferSyntax ts = gdcm::TransferSyntax::GetTSType (h.transfer_syntax.c_str ());
  const bool encapsulated = ts.IsEncapsulated ();
  if (h.pixel_start == 0 || h.pixel_value == 0)
    {
      h.reason = fmt ("a multi-frame image (%d frames) whose Pixel Data could not be located "
                      "before decoding (transfer syntax %s); only uncompressed and "
                      "encapsulated multi-frame files are read", h.frames,
                      h.transfer_syntax.empty () ? "unknown" : h.transfer_syntax.c_str ());
      return false;
    }
  /* Sizes first: the frames must be in the file before anything is sized by their count. */
  if (!encapsulated)
    {
      uint64_t need = frame_bytes * (uint64_t) h.frames;
      if (h.pixel_length < need)
        {
          h.reason = fmt ("its Pixel Data holds %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
                          " expected for %d frames of %d x %d x %d bits",
                          h.pixel_length, need, h.frames, h.cols, h.rows, h.bits_allocated);
          return false;
        }
    }
  else if ((uint64_t) h.frames * 16 > h.pixel_end - h.pixel_value)
    {
      /* Each frame needs at least an item tag and some bytes. */
      h.reason = fmt ("its encapsulated Pixel Data (%" G_GUINT64_FORMAT " bytes) is too short "
                      "for %d frames", h.pixel_end - h.pixel_value, h.frames);
      return false;
    }

  auto mf = std::make_shared<MultiFrame> ();
  mf->frames.resize ((size_t) h.frames);
  Items items;
  if (ds.FindDataElement (gdcm::Tag (0x5200, 0x9230)))
    {
      if (!read_functional_groups (ds, h, *mf, items))
        return false;
    }
  else
    read_classic (ds, h, *mf);
  if (encapsulated && !read_fragments (ds, h, *mf))
    return false;
  h.multiframe = mf;
  return true;
}

void
expand_frames (std::vector<SliceHeader> &headers, std::vector<std::string> &warnings)
{
  bool any = false;
  for (const SliceHeader &h : headers)
    any = any || (h.usable && h.multiframe);
  if (!any)
    return;
  std::vector<SliceHeader> out;
  for (SliceHeader &h : headers)
    {
      if (!h.usable || !h.multiframe)
        {
          out.push_back (std::move (h));
          continue;
        }
      const MultiFrame &mf = *h.multiframe;
      const size_t n = mf.frames.size ();

      /* Several stacks (Stack ID): the largest is read, the others named. */
      std::map<std::string, size_t> stacks;
      for (const FrameInfo &fi : mf.frames)
        stacks[fi.stack_id]++;
      std::string stack = mf.frames[0].stack_id;
      for (const auto &kv : stacks)
        if (kv.second > stacks[stack])
          stack = kv.first;
      if (stacks.size () > 1)
        {
          std::string others;
          for (const auto &kv : stacks)
            if (kv.first != stack)
              others += fmt ("%s\"%s\" (%zu frames)", others.empty () ? "" : ", ",
                             kv.first.c_str (), kv.second);
          warnings.push_back (fmt ("%s: %zu stacks (Stack ID (0020,9056)); reading stack \"%s\" "
                                   "(%zu frames), leaving out %s", h.path.c_str (),
                                   stacks.size (), stack.c_str (), stacks[stack],
                                   others.c_str ()));
        }
      /* Several times (Temporal Position Index): the first is read. */
      std::set<long> times;
      for (const FrameInfo &fi : mf.frames)
        if (fi.stack_id == stack)
          times.insert (fi.temporal);
      long time = *times.begin ();
      if (times.size () > 1)
        warnings.push_back (fmt ("%s: %zu temporal positions (Temporal Position Index "
                                 "(0020,9128)); reading the first, %ld", h.path.c_str (),
                                 times.size (), time));
      if (!mf.functional_groups)
        warnings.push_back (
            mf.grid_offsets
                ? fmt ("%s: %zu frames placed by Grid Frame Offset Vector (3004,000C)",
                       h.path.c_str (), n)
                : fmt ("%s: a multi-frame image without functional groups: %zu frames read as "
                       "a stack with no 3D geometry (1 mm assumed between frames)",
                       h.path.c_str (), n));
      std::set<std::string> types;
      for (size_t f = 0; f < n; f++)
        {
          const FrameInfo &fi = mf.frames[f];
          if (fi.stack_id != stack || fi.temporal != time)
            continue;
          types.insert (fi.rescale_type);
          SliceHeader fh = h;
          fh.frame = (int) f;
          std::memcpy (fh.ipp, fi.ipp, sizeof fh.ipp);
          std::memcpy (fh.iop, fi.iop, sizeof fh.iop);
          std::memcpy (fh.pixel_spacing, fi.pixel_spacing, sizeof fh.pixel_spacing);
          fh.has_ipp = fi.has_ipp;
          fh.has_iop = fi.has_iop;
          fh.has_spacing = fi.has_spacing;
          fh.slope = fi.slope;
          fh.intercept = fi.intercept;
          double nrm[3];
          normal_of (fh.iop, nrm);
          fh.z = fh.ipp[0] * nrm[0] + fh.ipp[1] * nrm[1] + fh.ipp[2] * nrm[2];
          out.push_back (std::move (fh));
        }
      if (types.size () > 1)
        warnings.push_back (fmt ("%s: its frames differ in Rescale Type (0028,1054)",
                                 h.path.c_str ()));
    }
  headers.swap (out);
}

std::string
slice_name (const SliceHeader &h)
{
  return h.frame >= 0 ? fmt ("%s (frame %d)", h.path.c_str (), h.frame + 1) : h.path;
}

bool
frame_pixels (const SliceHeader &h, std::vector<char> &buf, std::string &why)
{
  try
    {
      const int bytes = h.bits_allocated / 8;
      const size_t n = (size_t) h.rows * (size_t) h.cols;
      const size_t frame_bytes = n * (size_t) bytes;
      if (!h.multiframe || h.frame < 0 || (size_t) h.frame >= h.multiframe->frames.size ()
          || (bytes != 1 && bytes != 2 && bytes != 4))
        {
          why = "not a frame of a multi-frame image";
          return false;
        }
      const FrameInfo &fi = h.multiframe->frames[(size_t) h.frame];
      const gdcm::TransferSyntax ts
          = gdcm::TransferSyntax::GetTSType (h.transfer_syntax.c_str ());
      Fd file (h.path);
      if (file.fd < 0)
        {
          why = std::string ("cannot open: ") + g_strerror (errno);
          return false;
        }
      if (!ts.IsEncapsulated ())
        {
          /* Native: frame f lies at f x Rows x Columns x bytes (size checked in pass 1). */
          buf.resize (frame_bytes);
          if (!pread_all (file.fd, h.pixel_value + (uint64_t) h.frame * frame_bytes, buf.data (),
                          frame_bytes))
            {
              why = fmt ("cannot read frame %d", h.frame + 1);
              return false;
            }
          if (ts.GetSwapCode () == gdcm::SwapCode::BigEndian && bytes > 1)
            for (size_t x = 0; x < n; x++)
              std::reverse (buf.data () + x * bytes, buf.data () + (x + 1) * bytes);
          return true;
        }

      /* Encapsulated: this frame's fragments alone, joined (a JPEG codestream may span
       * several), checked against the header, then decoded as a single-frame image. */
      std::vector<uint8_t> stream;
      for (const auto &fr : fi.fragments)
        {
          size_t at = stream.size ();
          stream.resize (at + fr.second);
          if (!pread_all (file.fd, fr.first, stream.data () + at, fr.second))
            {
              why = fmt ("cannot read frame %d", h.frame + 1);
              return false;
            }
        }
      FrameSpec spec;
      spec.rows = h.rows;
      spec.cols = h.cols;
      spec.bits_allocated = bytes * 8;
      if (h.transfer_syntax == "1.2.840.10008.1.2.5")
        {
          /* RLE: decoded here (PS3.5 G), one fragment per frame. */
          if (fi.fragments.size () != 1)
            {
              why = fmt ("frame %d: RLE frames are one fragment each, this one has %zu",
                         h.frame + 1, fi.fragments.size ());
              return false;
            }
          buf.assign (frame_bytes, 0);
          if (!decode_rle_frame (stream.data (), stream.size (), spec,
                                 (unsigned char *) buf.data (), why))
            {
              why = fmt ("frame %d: %s", h.frame + 1, why.c_str ());
              return false;
            }
          return true;
        }
      if (!is_multiframe_codestream (h.transfer_syntax))
        {
          why = fmt ("frame %d: transfer syntax %s is not read for multi-frame images",
                     h.frame + 1, h.transfer_syntax.c_str ());
          return false;
        }
      if (!check_codec_header (ts, stream.data (), stream.size (), spec, why))
        {
          why = fmt ("frame %d: %s", h.frame + 1, why.c_str ());
          return false;
        }
      gdcm::SmartPointer<gdcm::SequenceOfFragments> sq = new gdcm::SequenceOfFragments;
      gdcm::Fragment frag;
      frag.SetByteValue ((const char *) stream.data (), (uint32_t) stream.size ());
      sq->AddFragment (frag);
      gdcm::DataElement pixels (gdcm::Tag (0x7fe0, 0x0010));
      pixels.SetValue (*sq);
      pixels.SetVLToUndefined (); /* GDCM asserts unless this comes before the VR */
      pixels.SetVR (gdcm::VR::OB);

      gdcm::Image img;
      setup_image (img, h, ts, pixels);
      if (img.GetBufferLength () != frame_bytes)
        {
          why = fmt ("frame %d: the decoder would give %zu bytes, %zu expected for %d x %d x %d "
                     "bits", h.frame + 1, (size_t) img.GetBufferLength (), frame_bytes, h.cols,
                     h.rows, h.bits_allocated);
          return false;
        }
      buf.assign (frame_bytes, 0);
      if (!img.GetBuffer (buf.data ()))
        {
          const char *name = gdcm::TransferSyntax::GetTSString (ts);
          why = fmt ("cannot decode frame %d (transfer syntax %s)", h.frame + 1,
                     name ? name : "unknown");
          return false;
        }
      return true;
    }
  catch (const std::exception &e)
    {
      why = fmt ("cannot decode frame %d: %s", h.frame + 1, e.what ());
      return false;
    }
  catch (...)
    {
      why = fmt ("cannot decode frame %d", h.frame + 1);
      return false;
    }
}

} // namespace mm
