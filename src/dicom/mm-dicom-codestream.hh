/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Compressed frames checked (or decoded) before a codec sees them. GDCM's codecs, built with
 * assertions, abort or write past their buffer when a codestream disagrees with the header
 * (its size, components or precision), and its RLE decoder faults on damaged segments; so a
 * frame reaches GDCM only when its codestream header says exactly what the DICOM header says,
 * and RLE is decoded here, into a buffer of the declared size only. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mm
{

/* The frame's expected shape: one sample per pixel. */
struct FrameShape
{
  int rows = 0, cols = 0;
  int bytes = 2; /* Bits Allocated / 8 */
};

/* Decode one RLE Lossless frame (PS3.5 G) of len bytes into out, which holds exactly
 * rows x cols x bytes bytes (little endian). False with why on any inconsistency. */
bool decode_rle_frame (const uint8_t *data, size_t len, const FrameShape &shape, uint8_t *out,
                       std::string &why);

/* Check a JPEG, JPEG-LS or JPEG 2000 codestream (the frame's fragments joined) against the
 * transfer syntax and the expected shape: its kind matches the syntax, one component, the
 * same columns and rows, a precision that decodes to Bits Allocated. */
bool check_codestream (const std::string &transfer_syntax, const uint8_t *data, size_t len,
                       const FrameShape &shape, std::string &why);

} // namespace mm
