/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where inference's time goes, when MM_PROFILE is set (see src/core/mm-profile.h; with
 * MM_PROFILE=cpu each thread's CPU time): named stages summed over every thread and call,
 * kept in the order they were first seen, so the network's layers print in execution order. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* Adds `us` microseconds and one call to the stage `name` (copied on first use). */
void mm_nn_profile_add (const char *name, gint64 us);
/* "profile NAME seconds calls" lines in first-seen order, or NULL when nothing was added. */
char *mm_nn_profile_format (void);

G_END_DECLS
