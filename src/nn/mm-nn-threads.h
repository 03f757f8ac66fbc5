/* SPDX-License-Identifier: GPL-3.0-or-later */
/* How many threads the next training step should use, chosen by measuring the steps.
 *
 * With two OpenMP threads on a two-core machine, one other busy process makes every one of a
 * step's ~100 parallel regions wait for whichever thread the kernel descheduled: training ran
 * 5-15x slower (bench/nn/load-run). One thread then runs at full speed on the free core, but
 * on an idle machine it is ~1.7x slower than two. So the trainer keeps two execution plans (one
 * built for one thread, one for all of them; oneDNN fixes a primitive's thread count when it
 * is created) and this chooser picks per step: it keeps the recent time per step of each
 * count, tries the other count for a step every `interval` steps (sooner when the
 * current count's steps slow down by half), and moves when the other is faster. The probes
 * back off while they keep confirming the choice, so their cost stays a few per cent.
 *
 * The arithmetic depends on the thread count (oneDNN's reductions), so a run that moved
 * between counts differs in the last digits from a run that did not: callers wanting
 * bit-identical runs fix the count instead. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef struct
{
  int max;            /* threads of the wide plan; 1: no choice */
  int cur;            /* 0: one thread, 1: max */
  int last;           /* the choice handed out by _next */
  int probing;        /* steps left of a probe of the other count */
  int since;          /* steps since the last probe */
  int interval;       /* steps between probes */
  int switches;       /* moves so far, for reports */
  bool warm[2];       /* a count's first step (cold memory) is not timed */
  double avg[2];      /* recent seconds per step, 0: not measured yet */
  double base[2];     /* a step's time when last confirmed; slower by half -> probe */
} MmNnThreads;

#define MM_NN_THREADS_MIN_INTERVAL 16
#define MM_NN_THREADS_MAX_INTERVAL 512

/* Starts on max threads (the faster count on an idle machine). */
void mm_nn_threads_init (MmNnThreads *t, int max);
/* The thread count for the next step: 1 or max. */
int mm_nn_threads_next (MmNnThreads *t);
/* That step took seconds. */
void mm_nn_threads_done (MmNnThreads *t, double seconds);

G_END_DECLS
