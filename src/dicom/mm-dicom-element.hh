/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Writing data elements with GDCM: shared by the series writer and the SEG writer. */
#pragma once

#include <gdcmDataSet.h>

#include <cstdint>
#include <string>

namespace mm
{

/* A string-valued element, padded to even length (UI with NUL, the others with a space). */
void put_str (gdcm::DataSet &ds, uint16_t g, uint16_t e, const gdcm::VR &vr, const std::string &v);

/* A decimal string (DS holds at most 16 characters), and n of them separated by '\'. */
std::string ds_value (double v);
std::string ds_values (const double *v, int n);

} // namespace mm
