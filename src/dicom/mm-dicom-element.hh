/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Writing data elements with GDCM: shared by the series writer and the SEG writer. */
#pragma once

#include "mm-volume.h"

#include <gdcmDataSet.h>
#include <gdcmImage.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mm
{

/* A string-valued element, padded to even length (UI with NUL, the others with a space). */
void put_str (gdcm::DataSet &ds, uint16_t g, uint16_t e, const gdcm::VR &vr, const std::string &v);

/* A decimal string (DS holds at most 16 characters), and n of them separated by '\'. */
std::string ds_value (double v);
std::string ds_values (const double *v, int n);

/* Slice k of an int16 HU volume as a GDCM image: stored values HU + 1024 (clamped to int16)
 * with intercept -1024, as typical CTs store them, in stored (which the image points into:
 * keep it alive while the image is written); explicit VR little endian. */
gdcm::SmartPointer<gdcm::Image> ct_slice_image (const MmVolume *vol, int k,
                                                std::vector<int16_t> &stored);

} // namespace mm
