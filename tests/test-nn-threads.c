/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The training thread chooser (mm-nn-threads.h) against simulated machines: step times of
 * one and two threads given by a model of the machine at each step, the chooser's moves
 * checked against the best count known from the model. */
#include "mm-nn-threads.h"

typedef double (*StepTime) (int step, int threads);

typedef struct
{
  int steps_on_1, steps_on_max;
  double seconds, best_seconds; /* spent, and what always the faster count would spend */
  int first_on_1_after, first_on_max_after; /* first step >= mark on that count, -1: none */
} Sim;

static Sim
simulate (int max, int steps, StepTime f, int mark)
{
  MmNnThreads t;
  mm_nn_threads_init (&t, max);
  Sim s = { .first_on_1_after = -1, .first_on_max_after = -1 };
  for (int i = 0; i < steps; i++)
    {
      int n = mm_nn_threads_next (&t);
      g_assert_true (n == 1 || n == max);
      double dt = f (i, n);
      mm_nn_threads_done (&t, dt);
      s.seconds += dt;
      s.best_seconds += MIN (f (i, 1), f (i, max));
      if (n == 1)
        s.steps_on_1++;
      else
        s.steps_on_max++;
      if (i >= mark && n == 1 && s.first_on_1_after < 0)
        s.first_on_1_after = i;
      if (i >= mark && n == max && s.first_on_max_after < 0)
        s.first_on_max_after = i;
    }
  return s;
}

/* Idle two-core machine: two threads 1.7x faster than one (bench/nn/load-run). */
static double
idle (int step, int threads)
{
  return threads == 1 ? 0.085 : 0.050;
}

/* Another busy process from step 300 on: two threads wait at barriers, 10x slower. */
static double
busy_from_300 (int step, int threads)
{
  if (step < 300)
    return idle (step, threads);
  return threads == 1 ? 0.090 : 0.500;
}

/* Busy until step 300, idle after. */
static double
idle_from_300 (int step, int threads)
{
  return busy_from_300 (step < 300 ? 300 : 0, threads);
}

static void
test_idle_stays_wide (void)
{
  Sim s = simulate (2, 2000, idle, 0);
  /* Probes cost: at most 3 % more time than always two threads. */
  g_assert_cmpfloat (s.seconds, <=, 1.03 * s.best_seconds);
  g_assert_cmpint (s.steps_on_max, >=, 1940);
}

static void
test_busy_moves_to_one (void)
{
  Sim s = simulate (2, 2000, busy_from_300, 300);
  /* Noticed within a few steps: the two-thread steps slowed by far more than half. */
  g_assert_cmpint (s.first_on_1_after, >=, 300);
  g_assert_cmpint (s.first_on_1_after, <=, 310);
  /* Over the whole run within 25 % of always the faster count, against 7x slower had it
   * stayed on two threads (1700 steps at 0.5 s instead of 0.09 s). */
  g_assert_cmpfloat (s.seconds, <=, 1.25 * s.best_seconds);
}

static void
test_idle_again_moves_back (void)
{
  Sim s = simulate (2, 3000, idle_from_300, 300);
  /* Busy at the start: on one thread by step 300... */
  g_assert_cmpint (s.steps_on_1, >=, 250);
  /* ...and back on two within the longest probe interval once the machine is idle. */
  g_assert_cmpint (s.first_on_max_after, >=, 300);
  g_assert_cmpint (s.first_on_max_after, <=, 300 + MM_NN_THREADS_MAX_INTERVAL + 2);
  g_assert_cmpfloat (s.seconds, <=, 1.25 * s.best_seconds);
}

static void
test_one_thread_only (void)
{
  Sim s = simulate (1, 100, idle, 0);
  g_assert_cmpint (s.steps_on_1, ==, 100);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn-threads/idle-stays-wide", test_idle_stays_wide);
  g_test_add_func ("/nn-threads/busy-moves-to-one", test_busy_moves_to_one);
  g_test_add_func ("/nn-threads/idle-again-moves-back", test_idle_again_moves_back);
  g_test_add_func ("/nn-threads/one-thread-only", test_one_thread_only);
  return g_test_run ();
}
