/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-timing.h"

#include <stdio.h>
#include <sys/resource.h>

double mm_window_process_age_ms (void);

void
mm_timing_mark (const char *label)
{
  static gsize init;
  static gboolean on;
  if (g_once_init_enter (&init))
    {
      on = g_getenv ("MM_DEBUG_TIMING") != NULL;
      g_once_init_leave (&init, 1);
    }
  if (!on)
    return;
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  double cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
               + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  /* One write per line: marks from several threads do not interleave. */
  char line[200];
  snprintf (line, sizeof line, "timing: %s age_ms=%.1f cpu_ms=%.1f\n", label,
            mm_window_process_age_ms (), cpu);
  fputs (line, stderr);
}
