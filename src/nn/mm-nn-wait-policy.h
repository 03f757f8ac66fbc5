/* SPDX-License-Identifier: GPL-3.0-or-later */
/* How OpenMP threads wait at barriers, set before libgomp starts.
 *
 * libgomp (and oneDNN, which runs on it) spins up to GOMP_SPINCOUNT (300 000) iterations at
 * every barrier before sleeping. With another busy process on a two-core machine, each of a
 * training step's ~100 parallel regions then burns CPU spinning for a descheduled thread
 * (docs/nn-threads.md). Passive waiting (sleep at once) measured best under load and costs
 * little quiet, but libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT only in its load-time
 * constructor, which runs before main and before any constructor of the executable
 * (dependencies are initialised first; checked with omp_display_env). So the variable has to
 * be in the environment when the process starts: the CLI sets it for the nn helper it execs,
 * and a program started without it execs itself once with it set. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* True when the user chose how OpenMP waits (OMP_WAIT_POLICY or GOMP_SPINCOUNT is set):
 * their choice is kept. Otherwise sets OMP_WAIT_POLICY=passive and returns false. */
bool mm_nn_wait_policy_setenv (void);

/* For main(): when the user did not choose, set OMP_WAIT_POLICY=passive and exec this program
 * again (/proc/self/exe, the same argv) so that libgomp reads it; returns only when nothing
 * needs doing or the exec failed (then the run goes on with libgomp's default). */
void mm_nn_wait_policy_reexec (char **argv);

G_END_DECLS
