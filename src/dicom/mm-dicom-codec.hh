/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Compressed pixel data, checked against the header before and after GDCM decodes it, for
 * single-frame and multi-frame images alike. GDCM's decoders size their output from the
 * codestream, or write the codestream's image into a buffer sized from Rows/Columns (JPEG
 * 2000: past its end), assert (abort) on libjpeg warnings, and divide by an RLE segment count
 * of 0 (its RLE decoder also faults on damaged segments); so the codestream's own header is
 * parsed here first, and multi-frame RLE is decoded here, into a buffer of the declared size
 * only. */
#pragma once

#include <gdcmDataElement.h>
#include <gdcmImage.h>
#include <gdcmTransferSyntax.h>

#include <cstddef>
#include <string>
#include <vector>

namespace mm
{

/* What the DICOM header says one frame is. */
struct FrameSpec
{
  int rows = 0, cols = 0, bits_allocated = 0;
};

struct SliceHeader; /* mm-dicom-private.hh */

/* img set up as one frame of h (one sample per pixel; its size, pixel format and
 * MONOCHROME1 or 2 from the header) holding pixels in syntax ts. */
void setup_image (gdcm::Image &img, const SliceHeader &h, const gdcm::TransferSyntax &ts,
                  const gdcm::DataElement &pixels);

/* Check the header of a compressed frame (the JPEG 2000 SIZ marker, the RLE header, the
 * JPEG or JPEG-LS marker segments up to the scan, strictly) against spec: the codestream
 * kind the syntax names, image size, one component, a precision of 2 to 16 bits that
 * decodes to Bits Allocated. False with a reason otherwise, or for a syntax not decoded. */
bool check_codec_header (const gdcm::TransferSyntax &ts, const unsigned char *frame, size_t len,
                         const FrameSpec &spec, std::string &why);

/* Decode one RLE Lossless frame (PS3.5 G) of len bytes into out, which holds exactly
 * rows x cols x Bits Allocated / 8 bytes (little endian). False with why on any
 * inconsistency. */
bool decode_rle_frame (const unsigned char *data, size_t len, const FrameSpec &spec,
                       unsigned char *out, std::string &why);

/* Decode the encapsulated pixels of img (one frame; dimensions and pixel format already
 * set from the header) into out, exactly rows x columns x Bits Allocated / 8 bytes: the
 * codestream is checked first, the decoder's output after. */
bool decode_encapsulated (const gdcm::Image &img, const gdcm::DataElement &pixels,
                          const FrameSpec &spec, std::vector<char> &out, std::string &why);

} // namespace mm
