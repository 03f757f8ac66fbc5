/* SPDX-License-Identifier: GPL-3.0-or-later */
/* OMP_WAIT_POLICY in the environment before libgomp starts (see the header). Only GLib and
 * libc here: metalmark-cli, which does not link oneDNN, compiles this file too. */
#include "mm-nn-wait-policy.h"

#include <unistd.h>

bool
mm_nn_wait_policy_setenv (void)
{
  if (g_getenv ("OMP_WAIT_POLICY") != NULL || g_getenv ("GOMP_SPINCOUNT") != NULL)
    return true;
  g_setenv ("OMP_WAIT_POLICY", "passive", TRUE);
  return false;
}

void
mm_nn_wait_policy_reexec (char **argv)
{
  if (mm_nn_wait_policy_setenv ())
    return;
  /* The variable is set now, so the new image returns at once from this call: one exec at
   * most. Nothing has run yet that an exec would lose (call this first thing in main). */
  execv ("/proc/self/exe", argv);
  g_unsetenv ("OMP_WAIT_POLICY");
}
