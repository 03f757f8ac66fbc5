/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Stored values to HU (see mm-dicom-rescale.hh). The stored bits are kept and sign-extended
 * branch-free: v = ((raw & mask) ^ sign) - sign, with sign the top stored bit for signed data
 * and 0 for unsigned, so one loop body serves every layout and vectorises (omp simd). */
#include "mm-dicom-rescale.hh"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#ifdef __x86_64__
/* GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _undefined values. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

namespace mm
{
namespace
{

/* Integral rescales up to these bounds keep |stored * slope + intercept| below 2^31 for
 * 16-bit samples (65535 * 8192 + 2^29 < 2^31), so the int32 path cannot overflow. */
constexpr double INT_PATH_MAX_SLOPE = 8192;
constexpr double INT_PATH_MAX_INTERCEPT = 536870912; /* 2^29 */

/* The loops are built twice, for AVX2 and for the x86-64 baseline, the CPU picking one at
 * load time: SSE2 has no 32-bit multiply or min/max, which makes these loops several times
 * slower. Elsewhere the attribute is empty. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MM_CLONES __attribute__ ((target_clones ("avx2", "default")))
/* The 16-bit float conversion also with 512-bit vectors (twice the doubles per instruction;
 * after the figures it was the largest cost of `info` on a float-HU series). Each voxel's
 * value is computed alone, so every version gives the same floats: no FMA (avx512f does
 * not enable it), the product and the sum each rounded as in the scalar code. */
#define MM_AVX512 1
#else
#define MM_CLONES
#endif

template <typename T>
inline __attribute__ ((always_inline)) bool
int_path (const T *src, int32_t mask, int32_t sign, int32_t slope, int32_t icpt, int16_t *dst,
          size_t n)
{
  int32_t lo = INT32_MAX, hi = INT32_MIN;
#pragma omp simd reduction (min : lo) reduction (max : hi)
  for (size_t x = 0; x < n; x++)
    {
      int32_t v = ((((int32_t) src[x]) & mask) ^ sign) - sign;
      v = v * slope + icpt;
      lo = std::min (lo, v);
      hi = std::max (hi, v);
      dst[x] = (int16_t) std::min (std::max (v, (int32_t) INT16_MIN), (int32_t) INT16_MAX);
    }
  return lo < INT16_MIN || hi > INT16_MAX;
}

MM_CLONES bool
int_path_u16 (const uint16_t *src, int32_t mask, int32_t sign, int32_t slope, int32_t icpt,
              int16_t *dst, size_t n)
{
  /* Slope 1 (nearly every CT) without the multiply. */
  if (slope == 1)
    return int_path (src, mask, sign, 1, icpt, dst, n);
  return int_path (src, mask, sign, slope, icpt, dst, n);
}

MM_CLONES bool
int_path_u8 (const uint8_t *src, int32_t mask, int32_t sign, int32_t slope, int32_t icpt,
             int16_t *dst, size_t n)
{
  return int_path (src, mask, sign, slope, icpt, dst, n);
}

template <typename T, typename W>
inline __attribute__ ((always_inline)) void
float_path (const T *src, W mask, W sign, double slope, double icpt, float *dst, size_t n)
{
#pragma omp simd
  for (size_t x = 0; x < n; x++)
    {
      W v = ((((W) src[x]) & mask) ^ sign) - sign;
      dst[x] = (float) ((double) v * slope + icpt);
    }
}

MM_CLONES void
float_path_u8 (const uint8_t *src, int32_t mask, int32_t sign, double slope, double icpt,
               float *dst, size_t n)
{
  float_path (src, mask, sign, slope, icpt, dst, n);
}

MM_CLONES void
float_path_u16 (const uint16_t *src, int32_t mask, int32_t sign, double slope, double icpt,
                float *dst, size_t n)
{
  float_path (src, mask, sign, slope, icpt, dst, n);
}

#ifdef MM_AVX512
/* 16 voxels a step with 512-bit vectors (GCC 12 keeps 256-bit ones for the loop above even
 * with the avx512f target): the same operations on each voxel as float_path. */
__attribute__ ((target ("avx512f"))) void
float_path_u16_avx512 (const uint16_t *src, int32_t mask, int32_t sign, double slope,
                       double icpt, float *dst, size_t n)
{
  const __m512i vmask = _mm512_set1_epi32 (mask), vsign = _mm512_set1_epi32 (sign);
  const __m512d vslope = _mm512_set1_pd (slope), vicpt = _mm512_set1_pd (icpt);
  size_t x = 0;
  for (; x + 16 <= n; x += 16)
    {
      __m512i v = _mm512_cvtepu16_epi32 (_mm256_loadu_si256 ((const __m256i *) (src + x)));
      v = _mm512_sub_epi32 (_mm512_xor_si512 (_mm512_and_si512 (v, vmask), vsign), vsign);
      __m512d lo = _mm512_cvtepi32_pd (_mm512_castsi512_si256 (v));
      __m512d hi = _mm512_cvtepi32_pd (_mm512_extracti64x4_epi64 (v, 1));
      /* The _round forms: builtins the compiler cannot fuse into an FMA (one rounding
       * instead of the scalar code's two would change values). */
      lo = _mm512_add_round_pd (_mm512_mul_round_pd (lo, vslope, _MM_FROUND_CUR_DIRECTION),
                                vicpt, _MM_FROUND_CUR_DIRECTION);
      hi = _mm512_add_round_pd (_mm512_mul_round_pd (hi, vslope, _MM_FROUND_CUR_DIRECTION),
                                vicpt, _MM_FROUND_CUR_DIRECTION);
      _mm256_storeu_ps (dst + x, _mm512_cvtpd_ps (lo));
      _mm256_storeu_ps (dst + x + 8, _mm512_cvtpd_ps (hi));
    }
  /* The rest with the other versions (here the compiler would fuse the scalar code). */
  float_path_u16 (src + x, mask, sign, slope, icpt, dst + x, n - x);
}
#endif

MM_CLONES void
float_path_u32 (const uint32_t *src, int64_t mask, int64_t sign, double slope, double icpt,
                float *dst, size_t n)
{
  float_path (src, mask, sign, slope, icpt, dst, n);
}

/* The rare cases (32-bit samples, float samples, huge or fractional rescales into int16):
 * per voxel in double, as exact as the double product. */
double
stored_at (const void *src, const StoredFormat &f, int64_t mask, int64_t sign, size_t x)
{
  const unsigned char *p = (const unsigned char *) src;
  if (f.is_float && f.bytes == 4)
    {
      float v;
      std::memcpy (&v, p + 4 * x, 4);
      return v;
    }
  uint32_t u;
  if (f.bytes == 1)
    u = p[x];
  else if (f.bytes == 2)
    {
      uint16_t v;
      std::memcpy (&v, p + 2 * x, 2);
      u = v;
    }
  else
    std::memcpy (&u, p + 4 * x, 4);
  return (double) ((((int64_t) u & mask) ^ sign) - sign);
}

void
masks (const StoredFormat &f, int64_t &mask, int64_t &sign)
{
  int stored = f.stored <= 0 || f.stored > f.bytes * 8 ? f.bytes * 8 : f.stored;
  mask = stored >= 32 ? (int64_t) 0xffffffff : ((int64_t) 1 << stored) - 1;
  sign = f.is_signed ? (int64_t) 1 << (stored - 1) : 0;
}

bool
is_integral (double v)
{
  return std::isfinite (v) && v == std::nearbyint (v);
}

} // namespace

bool
rescale_to_int16 (const void *src, const StoredFormat &f, double slope, double intercept,
                  int16_t *dst, size_t n)
{
  int64_t mask, sign;
  masks (f, mask, sign);
  if (!f.is_float && f.bytes <= 2 && is_integral (slope) && is_integral (intercept)
      && std::fabs (slope) <= INT_PATH_MAX_SLOPE && std::fabs (intercept) <= INT_PATH_MAX_INTERCEPT)
    {
      if (f.bytes == 1)
        return int_path_u8 ((const uint8_t *) src, (int32_t) mask, (int32_t) sign, (int32_t) slope,
                         (int32_t) intercept, dst, n);
      return int_path_u16 ((const uint16_t *) src, (int32_t) mask, (int32_t) sign, (int32_t) slope,
                       (int32_t) intercept, dst, n);
    }
  bool overflow = false;
  for (size_t x = 0; x < n; x++)
    {
      double v = stored_at (src, f, mask, sign, x) * slope + intercept;
      if (!(v >= INT16_MIN && v <= INT16_MAX))
        {
          overflow = true;
          v = v < 0 ? INT16_MIN : INT16_MAX;
        }
      dst[x] = (int16_t) std::lrint (v);
    }
  return overflow;
}

void
rescale_to_float (const void *src, const StoredFormat &f, double slope, double intercept,
                  float *dst, size_t n)
{
  int64_t mask, sign;
  masks (f, mask, sign);
  if (!f.is_float && f.bytes == 1)
    float_path_u8 ((const uint8_t *) src, (int32_t) mask, (int32_t) sign, slope, intercept, dst, n);
#ifdef MM_AVX512
  else if (!f.is_float && f.bytes == 2 && __builtin_cpu_supports ("avx512f"))
    float_path_u16_avx512 ((const uint16_t *) src, (int32_t) mask, (int32_t) sign, slope,
                           intercept, dst, n);
#endif
  else if (!f.is_float && f.bytes == 2)
    float_path_u16 ((const uint16_t *) src, (int32_t) mask, (int32_t) sign, slope, intercept, dst, n);
  else if (!f.is_float && f.bytes == 4)
    float_path_u32 ((const uint32_t *) src, mask, sign, slope, intercept, dst, n);
  else
    for (size_t x = 0; x < n; x++)
      dst[x] = (float) (stored_at (src, f, mask, sign, x) * slope + intercept);
}

} // namespace mm
