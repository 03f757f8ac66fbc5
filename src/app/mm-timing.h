/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Start-up timing marks (MM_DEBUG_TIMING=1): where the time goes from exec to the first
 * painted frame (issue 12). Each mark prints one line on stderr,
 * "timing: LABEL age_ms=... cpu_ms=...", with the process age (from /proc, so it
 * counts the dynamic loader and everything before main) and the process's CPU time so far.
 * Without the variable a mark costs one cached check. Callable from any thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void mm_timing_mark (const char *label);

G_END_DECLS
