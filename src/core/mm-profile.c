/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Stage timing (see mm-profile.h): atomic microsecond sums, enabled once from the environment. */
#include "mm-profile.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static const char *const stage_names[MM_PROFILE_N_STAGES] = {
  "headers", "decode", "threshold", "components", "png-encode", "fsync",
};

static _Atomic gint64 totals[MM_PROFILE_N_STAGES];
static bool cpu_clock; /* MM_PROFILE=cpu */

bool
mm_profile_enabled (void)
{
  static gsize once = 0;
  static bool on = false;
  if (g_once_init_enter (&once))
    {
      const char *v = g_getenv ("MM_PROFILE");
      on = v != NULL && *v != '\0' && g_strcmp0 (v, "0") != 0;
      cpu_clock = on && g_strcmp0 (v, "cpu") == 0;
      g_once_init_leave (&once, 1);
    }
  return on;
}

gint64
mm_profile_now (void)
{
  if (!mm_profile_enabled () || !cpu_clock)
    return g_get_monotonic_time ();
  /* The calling thread's CPU time: on a loaded machine the wall time of a stage counts
   * the time other processes held the core. Only this thread's: a stage that runs OpenMP
   * or oneDNN threads of its own is counted low (predict's workers run one thread each, so
   * their steps are whole). +1: never 0, which means "off". */
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000 + 1;
}

gint64
mm_profile_begin (void)
{
  return mm_profile_enabled () ? mm_profile_now () : 0;
}

void
mm_profile_end (MmProfileStage stage, gint64 start)
{
  if (start == 0 || stage < 0 || stage >= MM_PROFILE_N_STAGES)
    return;
  atomic_fetch_add (&totals[stage], mm_profile_now () - start);
}

char *
mm_profile_format (void)
{
  if (!mm_profile_enabled ())
    return NULL;
  GString *s = g_string_new (NULL);
  for (int i = 0; i < MM_PROFILE_N_STAGES; i++)
    g_string_append_printf (s, "profile %-11s %.4f s\n", stage_names[i],
                            atomic_load (&totals[i]) / 1e6);
  return g_string_free (s, FALSE);
}
