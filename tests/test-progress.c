/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mm-progress: durations as progress texts write them, and reports from worker threads
 * reaching the main context in order, with their target alive and their data freed. */
#include "mm-progress.h"

#include <math.h>

static void
test_duration (void)
{
  static const struct
  {
    double s;
    const char *want;
  } cases[] = {
    { 0, "0:00" },       { 59.9, "0:59" },     { 61, "1:01" },        { 599, "9:59" },
    { 3599, "59:59" },   { 3600, "1:00:00" },  { 3725, "1:02:05" },   { 36000, "10:00:00" },
    { NAN, "–" },        { INFINITY, "–" },    { -1, "–" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char buf[32];
      mm_format_duration (buf, sizeof buf, cases[i].s, "–");
      g_assert_cmpstr (buf, ==, cases[i].want);
    }
  char small[4];
  mm_format_duration (small, sizeof small, 3725, "?");
  g_assert_cmpstr (small, ==, "1:0"); /* truncated, never past the buffer */
}

#define N_CALLS 200

typedef struct
{
  int next;         /* the call expected next */
  int freed;        /* data freed */
  gboolean target_gone;
  gboolean in_order;
} Seen;

static Seen seen;

static void
call_cb (gpointer target, gpointer data)
{
  g_assert_false (seen.target_gone); /* the target outlives every call */
  g_assert_true (G_IS_OBJECT (target));
  int i = *(int *) data;
  seen.in_order &= i == seen.next;
  seen.next = i + 1;
  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
}

static void
data_free (gpointer data)
{
  seen.freed++;
  g_free (data);
}

static gpointer
worker (gpointer target)
{
  for (int i = 0; i < N_CALLS; i++)
    mm_main_call (NULL, target, call_cb, g_memdup2 (&i, sizeof i), data_free);
  g_object_unref (target); /* the worker's own; the calls hold theirs */
  return NULL;
}

static void
gone_cb (gpointer data, GObject *where)
{
  seen.target_gone = TRUE;
}

static void
test_main_call (void)
{
  seen = (Seen){ 0, 0, FALSE, TRUE };
  GObject *target = g_object_new (G_TYPE_OBJECT, NULL);
  g_object_weak_ref (target, gone_cb, NULL);
  /* The main context is this thread's: nothing runs until it is iterated. */
  g_main_context_acquire (g_main_context_default ());
  GThread *t = g_thread_new ("worker", worker, target);
  g_thread_join (t);
  g_assert_cmpint (seen.next, ==, 0);
  g_assert_false (seen.target_gone);
  while (seen.next < N_CALLS)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_pending (NULL))
    g_main_context_iteration (NULL, FALSE);
  g_main_context_release (g_main_context_default ());
  g_assert_true (seen.in_order);
  g_assert_cmpint (seen.freed, ==, N_CALLS);
  g_assert_true (seen.target_gone); /* the last call's reference was the last one */
}

static int slices_seen[3];

static void
slices_cb (gpointer target, int done, int total)
{
  g_assert_true (G_IS_OBJECT (target));
  slices_seen[0]++;
  slices_seen[1] = done;
  slices_seen[2] = total;
}

static gpointer
slices_worker (gpointer target)
{
  for (int i = 1; i <= 5; i++)
    mm_main_call_slices (NULL, target, slices_cb, i, 5);
  return NULL;
}

/* A worker's slice counts reach the main context; a test's slowed slice waits its time, not
 * after the last slice, and not once cancelled. */
static void
test_slices (void)
{
  GObject *target = g_object_new (G_TYPE_OBJECT, NULL);
  g_main_context_acquire (g_main_context_default ());
  g_thread_join (g_thread_new ("slices", slices_worker, target));
  while (slices_seen[0] < 5)
    g_main_context_iteration (NULL, TRUE);
  g_main_context_release (g_main_context_default ());
  g_assert_cmpint (slices_seen[1], ==, 5);
  g_assert_cmpint (slices_seen[2], ==, 5);
  g_object_unref (target);

  g_setenv ("MM_TEST_SLOW_X_MS", "250", TRUE);
  g_assert_cmpuint (mm_test_slow_ms ("MM_TEST_SLOW_X_MS"), ==, 250);
  g_setenv ("MM_TEST_SLOW_X_MS", "-5", TRUE);
  g_assert_cmpuint (mm_test_slow_ms ("MM_TEST_SLOW_X_MS"), ==, 0);
  g_setenv ("MM_TEST_SLOW_X_MS", "99999999999", TRUE);
  g_assert_cmpuint (mm_test_slow_ms ("MM_TEST_SLOW_X_MS"), ==, 600000);
  g_unsetenv ("MM_TEST_SLOW_X_MS");
  g_assert_cmpuint (mm_test_slow_ms ("MM_TEST_SLOW_X_MS"), ==, 0);

  gint64 t0 = g_get_monotonic_time ();
  mm_test_slow_slice (200, 1, 3, NULL);
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 200000);
  t0 = g_get_monotonic_time ();
  mm_test_slow_slice (60000, 3, 3, NULL); /* the last slice: no wait */
  GCancellable *cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  mm_test_slow_slice (60000, 1, 3, cancel); /* cancelled: no wait */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 30 * G_USEC_PER_SEC);
  g_object_unref (cancel);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/progress/duration", test_duration);
  g_test_add_func ("/progress/main-call", test_main_call);
  g_test_add_func ("/progress/slices", test_slices);
  return g_test_run ();
}
