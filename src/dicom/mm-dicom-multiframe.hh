/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Multi-frame images: Enhanced CT and Legacy Converted Enhanced CT (functional groups), and
 * classic multi-frame files without them (a multi-frame MR, an XA cine, an RT Dose grid).
 * The header pass reads every frame's geometry and finds where its pixels lie; the reader
 * then turns the file into one slice header per frame, so that grouping, ordering along the
 * normal, consistency checks and decoding treat a frame exactly like a single-frame slice. */
#pragma once

#include "mm-dicom-private.hh"

#include <gdcmDataSet.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mm
{

/* Element values (mm-dicom-header.cc): a trimmed string; n numbers of a DS/IS. */
bool get_string (const gdcm::DataSet &ds, uint16_t g, uint16_t e, std::string &out);
bool get_numbers (const gdcm::DataSet &ds, uint16_t g, uint16_t e, double *v, int n);

/* What the functional groups (or the classic attributes) say about one frame. */
struct FrameInfo
{
  bool has_ipp = false, has_iop = false, has_spacing = false;
  double ipp[3] = { 0, 0, 0 };
  double iop[6] = { 1, 0, 0, 0, 1, 0 };
  double pixel_spacing[2] = { 1, 1 };
  double slope = 1.0, intercept = 0.0;
  std::string rescale_type;
  std::string stack_id;   /* Stack ID (0020,9056); empty when none */
  long temporal = -1;     /* Temporal Position Index (0020,9128); -1 when none */
  /* Encapsulated pixel data: the byte ranges (offset, length) of this frame's fragments. */
  std::vector<std::pair<uint64_t, uint64_t>> fragments;
};

struct MultiFrame
{
  bool functional_groups = false; /* Enhanced / Legacy Converted: geometry per frame */
  bool grid_offsets = false;      /* classic, positioned by Grid Frame Offset Vector */
  std::vector<FrameInfo> frames;
};

/* Read the frames of a multi-frame file (h.frames > 1) whose top-level header is already in
 * h: functional groups, frame positions, and where each frame's pixels lie, checked against
 * the Pixel Data present. False with h.reason set when the file cannot be read as frames. */
bool read_multiframe (const gdcm::DataSet &ds, SliceHeader &h);

/* Replace every usable multi-frame header by one header per frame (those of the stack that
 * is read). warnings receives one line per file about what was assumed or left out. */
void expand_frames (std::vector<SliceHeader> &headers, std::vector<std::string> &warnings);

/* How a slice is named in messages: its file, with "(frame N)" for a frame. */
std::string slice_name (const SliceHeader &h);

/* The stored values of frame h.frame, as Bits Allocated wide little-endian integers in buf
 * (Rows x Columns of them): read at its offset, or its fragments decoded by GDCM alone.
 * Never throws. */
bool frame_pixels (const SliceHeader &h, std::vector<char> &buf, std::string &why);

} // namespace mm
