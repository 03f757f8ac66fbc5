/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Pixel decoding for the series reader: one slice (a file, or one frame of a multi-frame
 * file) into its place in the volume, in HU. */
#pragma once

#include "mm-dicom-private.hh"
#include "mm-volume.h"

#include <string>
#include <vector>

namespace mm
{

/* Decode h's pixels into slice dst of the volume (type), in HU: stored values times Rescale
 * Slope plus Rescale Intercept, clamped to int16 with overflow set when they do not fit.
 * file_buf and buf are scratch buffers reused across one thread's slices. False with why
 * (a sentence without the file name) on any failure. Never throws. */
bool decode_slice (const SliceHeader &h, MmVoxelType type, void *dst,
                   std::vector<char> &file_buf, std::vector<char> &buf, bool &overflow,
                   std::string &why);

} // namespace mm
