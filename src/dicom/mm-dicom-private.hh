/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared between the reader's passes: what one file's header says. */
#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

namespace mm
{

struct SliceHeader
{
  std::string path;
  bool usable = false;
  std::string reason; /* why not usable */

  std::string series_uid, study_uid, modality, description, sop_uid, sop_class, frame_uid;
  std::string transfer_syntax;
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
  double z = 0; /* IPP projected on the slice normal */
  uint64_t pixel_end = 0; /* file offset just past Pixel Data; 0 when not known */
};

/* Check that every element of the file, up to and including Pixel Data, lies within the
 * file, before GDCM parses it: GDCM's Debian build asserts (aborts) on truncated files.
 * Fills why and returns false when the file is damaged. */
bool check_structure (const std::string &path, std::string &why, uint64_t *pixel_end);

/* Read the header of one file (everything before Pixel Data). Never throws. */
SliceHeader read_slice_header (const std::string &path);

/* Files referenced by a DICOMDIR, as paths; false with a reason if it cannot be parsed. */
bool read_dicomdir (const std::string &path, std::vector<std::string> &files, std::string &why);

bool is_ct_sop_class (const std::string &uid);

} // namespace mm
