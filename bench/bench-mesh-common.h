/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What bench-mesh and bench-view3d share: clocks, the load average, the series and its metal
 * mask, percentiles, and a cache of a mesh between runs (the bone's decimation takes 5-15 s
 * on this machine, which a profiling loop need not repeat). */
#pragma once

#include "mm-mask.h"
#include "mm-mesh.h"
#include "mm-volume.h"

#include <glib.h>

G_BEGIN_DECLS

/* Wall time (monotonic) and the process's CPU time, all threads, in ms. */
double bench_now_ms (void);
double bench_cpu_ms (void);

/* The 1, 5 and 15 minute load averages (-1 when /proc/loadavg cannot be read). */
void bench_load_average (double load[3]);

/* The series in dir and its metal mask (the default segmentation); NULL after printing a
 * one-line error prefixed with program. */
MmVolume *bench_load_series (const char *program, const char *dir, int n_threads,
                             MmMask **metal);

/* Sort t[0..n) and give its median. */
double bench_median (double *t, int n);

/* A mesh saved by bench_mesh_cache_save under key in dir, or NULL when there is none (or it
 * is damaged: sizes and indices are checked, as for any file). */
MmMesh *bench_mesh_cache_load (const char *dir, const char *key);
void bench_mesh_cache_save (const char *dir, const char *key, const MmMesh *mesh);

G_END_DECLS
