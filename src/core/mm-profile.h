/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where a command's time goes, by stage, when MM_PROFILE is set in the environment: each
 * stage sums the time its calls took on every thread (thread-seconds), so stages that run
 * in parallel add up to more than the wall time. Off (one branch per call) otherwise.
 * MM_PROFILE=cpu counts each thread's CPU time instead of wall time (a begin and its end
 * must then run on the same thread, as every stage does). */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef enum
{
  MM_PROFILE_HEADERS,    /* reading and checking every file's header */
  MM_PROFILE_DECODE,     /* pixel bytes read and rescaled to HU */
  MM_PROFILE_THRESHOLD,  /* metal runs extracted from each decoded slice */
  MM_PROFILE_COMPONENTS, /* runs joined into 3D components */
  MM_PROFILE_PNG_ENCODE, /* label slices painted and PNG-encoded */
  MM_PROFILE_FSYNC,      /* files written and synced, folder syncs */
  MM_PROFILE_N_STAGES
} MmProfileStage;

bool mm_profile_enabled (void);
/* The profile's clock in microseconds: monotonic, or the thread's CPU time (MM_PROFILE=cpu). */
gint64 mm_profile_now (void);
/* A start time for mm_profile_end; 0 when profiling is off. */
gint64 mm_profile_begin (void);
void mm_profile_end (MmProfileStage stage, gint64 start);
/* "stage seconds" lines for every stage, or NULL when profiling is off. */
char *mm_profile_format (void);

G_END_DECLS
