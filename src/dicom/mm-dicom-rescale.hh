/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Stored pixel values to HU (Rescale Slope and Intercept) for one slice, in one pass the
 * compiler vectorises: the per-voxel step of every load, so it must cost about a copy. */
#pragma once

#include <cstddef>
#include <cstdint>

namespace mm
{

/* How the stored values lie in memory: little endian samples of bytes (1, 2 or 4) bytes,
 * of which the low `stored` bits count, signed (two's complement in those bits) or not;
 * is_float for 32-bit IEEE samples (a GDCM-decoded float image). */
struct StoredFormat
{
  int bytes = 2;
  int stored = 16;
  bool is_signed = false;
  bool is_float = false;
};

/* dst[x] = src[x] * slope + intercept rounded to the nearest integer, clamped to int16;
 * returns true when a value did not fit (then the caller loads as float). src may be dst
 * itself (2-byte samples converted in place). Integral slope and intercept of moderate size
 * take an exact int32 path; anything else is computed in double. */
bool rescale_to_int16 (const void *src, const StoredFormat &f, double slope, double intercept,
                       int16_t *dst, size_t n);

/* dst[x] = (float) (src[x] * slope + intercept), computed in double (so a float HU is the
 * float nearest to the exact value, as numpy's float64 rescale cast to float32 gives). */
void rescale_to_float (const void *src, const StoredFormat &f, double slope, double intercept,
                       float *dst, size_t n);

} // namespace mm
