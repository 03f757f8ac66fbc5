/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Stage timing (see mm-profile.h): atomic microsecond sums, enabled once from the environment. */
#include "mm-profile.h"

#include <stdatomic.h>
#include <stdlib.h>

static const char *const stage_names[MM_PROFILE_N_STAGES] = {
  "headers", "decode", "threshold", "components", "png-encode", "fsync",
};

static _Atomic gint64 totals[MM_PROFILE_N_STAGES];

bool
mm_profile_enabled (void)
{
  static gsize once = 0;
  static bool on = false;
  if (g_once_init_enter (&once))
    {
      const char *v = g_getenv ("MM_PROFILE");
      on = v != NULL && *v != '\0' && g_strcmp0 (v, "0") != 0;
      g_once_init_leave (&once, 1);
    }
  return on;
}

gint64
mm_profile_begin (void)
{
  return mm_profile_enabled () ? g_get_monotonic_time () : 0;
}

void
mm_profile_end (MmProfileStage stage, gint64 start)
{
  if (start == 0 || stage < 0 || stage >= MM_PROFILE_N_STAGES)
    return;
  atomic_fetch_add (&totals[stage], g_get_monotonic_time () - start);
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
