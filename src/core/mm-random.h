/* SPDX-License-Identifier: GPL-3.0-or-later */
/* splitmix64 (Steele, Lea and Flood 2014; Vigna's reference code): a tiny, well-mixed
 * generator for the phantoms, the CT simulator's noise and the network's initial weights. One
 * stream per slice or view keeps results independent of the thread count. */
#pragma once

#include <glib.h>

static inline guint64
mm_splitmix64 (guint64 *state)
{
  guint64 z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* Uniform in (0, 1): the top 53 bits, centred, so never 0 (log-safe). */
static inline double
mm_uniform01 (guint64 *state)
{
  return ((mm_splitmix64 (state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
