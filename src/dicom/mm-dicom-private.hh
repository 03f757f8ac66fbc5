/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared between the reader's passes: what one file's header says. */
#pragma once

#include <gdcmDataElement.h>
#include <gdcmSequenceOfItems.h>

#include <climits>
#include <istream>
#include <memory>
#include <streambuf>
#include <cstdint>
#include <string>
#include <vector>

namespace mm
{

struct MultiFrame; /* mm-dicom-multiframe.hh */

struct SliceHeader
{
  std::string path;
  bool usable = false;
  std::string reason; /* why not usable */

  std::string series_uid, study_uid, modality, description, sop_uid, sop_class, frame_uid;
  std::string transfer_syntax;
  /* For the series browser: patient (0010,0010/0020), study (0008,1030/0020), series number
   * (0020,0011) and Image Type (0008,0008), as stored. */
  std::string patient_name, patient_id, study_description, study_date, series_number;
  std::string image_type;
  int rows = 0, cols = 0, frames = 1, samples = 1;
  int bits_allocated = 0, bits_stored = 0, high_bit = -1, pixel_representation = 0;
  std::string photometric; /* (0028,0004); empty when missing */
  bool has_ipp = false, has_iop = false, has_spacing = false;
  double ipp[3] = { 0, 0, 0 };
  double iop[6] = { 1, 0, 0, 0, 1, 0 };
  double pixel_spacing[2] = { 1, 1 }; /* (0028,0030): row spacing, column spacing */
  int instance = INT_MIN;
  double slope = 1.0, intercept = 0.0;
  bool has_window = false;
  double window_center = 0, window_width = 0;
  bool has_padding = false;
  double padding_stored = 0;
  bool has_padding_limit = false; /* Pixel Padding Range Limit (0028,0121) */
  double padding_limit_stored = 0;
  /* Set when Image Orientation (Patient) or the pixel spacing is present but unusable (not
   * numbers, degenerate, absurd) or the spacing is missing: one sentence naming the field and
   * the value; identity orientation / 1 mm is then what iop / pixel_spacing hold. */
  std::string iop_problem, spacing_problem;
  std::string rescale_type; /* (0028,1054), empty when absent */
  /* Why the pixels may not be an acquisition (Secondary Capture SOP class, Image Type
   * DERIVED\SECONDARY); empty otherwise. */
  std::string not_acquired;
  double z = 0; /* IPP projected on the slice normal */
  /* Where Pixel Data lies, from the structural check; all 0 when not known. */
  /* Offsets in the file (in the inflated data set when it is deflated). */
  uint64_t pixel_start = 0;     /* offset of the Pixel Data element's tag */
  uint64_t pixel_value = 0;     /* offset of its value */
  uint64_t pixel_length = 0;    /* defined length of its value; 0 for encapsulated data */
  uint64_t pixel_end = 0;       /* offset just past it */
  bool native_little_endian = false; /* uncompressed little endian (explicit or implicit) */
  bool native_big_endian = false;    /* Explicit VR Big Endian, not deflated */
  /* A multi-frame file: its frames (set by the header pass); after expansion, each frame's
   * header has frame >= 0 (0-based) and shares this with the file's other frames. */
  std::shared_ptr<const MultiFrame> multiframe;
  int frame = -1;
};

/* Check that every element of the file, up to and including Pixel Data, lies within the
 * file, before GDCM parses it: GDCM's Debian build asserts (aborts) on truncated files.
 * GDCM then parses only the checked bytes, from memory, in the encoding they were checked
 * in: layout.header is that parse image, the data set (inflated here when deflated) behind
 * a meta group of our own stating the transfer syntax checked (and the file's SOP class and
 * instance UIDs). GDCM never reads the file's own meta group. Fills why and returns false
 * when the file is damaged, not a regular file, or in an encoding that is not read. */
struct FileLayout
{
  /* Offsets in the file (in the inflated data set when it is deflated). */
  uint64_t pixel_start = 0, pixel_value = 0, pixel_length = 0, pixel_end = 0;
  /* Uncompressed little endian pixels in the file itself: read straight from it. */
  bool native_little_endian = false;
  /* Uncompressed big endian pixels in the file itself: read straight, bytes swapped. */
  bool native_big_endian = false;
  std::string transfer_syntax;
  /* The parse image up to Pixel Data (or through it, with through_pixels); the whole data
   * set when there is no Pixel Data. */
  std::vector<char> header;
};

bool check_structure (const std::string &path, std::string &why, FileLayout &layout,
                      bool through_pixels = false);

/* The parse image of a file through its Pixel Data, checked again (the file may have changed
 * since its header was read: then false, as for any damage). */
bool load_parse_image (const std::string &path, uint64_t pixel_start, uint64_t pixel_end,
                       std::vector<char> &image, std::string &why);

/* Open a regular file for reading without blocking on FIFOs; -1 with why otherwise. */
int open_regular (const std::string &path, std::string &why, uint64_t *size);

/* A read-only stream over a byte vector, so GDCM can parse from memory. */
struct MemBuf : std::streambuf
{
  void set (std::vector<char> &v) { setg (v.data (), v.data (), v.data () + v.size ()); }
  pos_type seekoff (off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override;
  pos_type seekpos (pos_type pos, std::ios_base::openmode which) override;
};

/* Read the header of one file (everything before Pixel Data). Never throws. */
SliceHeader read_slice_header (const std::string &path);

/* Files referenced by a DICOMDIR, as paths; false with a reason if it cannot be parsed. */
bool read_dicomdir (const std::string &path, std::vector<std::string> &files, std::string &why,
                    std::vector<std::string> &refused);

bool is_ct_sop_class (const std::string &uid);

/* The value of de as a sequence, for GDCM's GetValueAsSQ: when GDCM holds it as bytes, those
 * are walked by the structure check first (GDCM asserts on damaged ones); nullptr when they
 * do not hold a sequence. */
gdcm::SmartPointer<gdcm::SequenceOfItems> checked_sq (const gdcm::DataElement &de);

/* A DICOM string as it may be quoted in a message: printable, at most ~64 characters. */
std::string quote_value (const std::string &s);

/* GDCM's data dictionaries are loaded on first need, not at process start
 * (mm-dicom-dictionary.cc): whatever asks GDCM for a dictionary entry, or writes through
 * GDCM's image helpers, calls this first. Thread-safe; cheap after the first call. */
void ensure_dictionaries ();
bool dictionaries_loaded ();

} // namespace mm
