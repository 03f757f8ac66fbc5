/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Small helpers shared by the GDCM adapter's files: printf into a std::string, and
 * big / little endian integers read from bytes whose length the caller has checked. */
#pragma once

#include <glib.h>

#include <cstdarg>
#include <cstdint>
#include <string>

namespace mm
{

inline std::string fmt (const char *format, ...) G_GNUC_PRINTF (1, 2);

inline std::string
fmt (const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *s = g_strdup_vprintf (format, ap);
  va_end (ap);
  return s;
}

inline uint16_t
be16 (const unsigned char *p)
{
  return (uint16_t) (p[0] << 8 | p[1]);
}

inline uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

inline uint32_t
le32 (const unsigned char *p)
{
  return (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8 | p[0];
}

} // namespace mm
