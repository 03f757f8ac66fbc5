/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-nn-threads.h"

void
mm_nn_threads_init (MmNnThreads *t, int max)
{
  *t = (MmNnThreads) { .max = MAX (1, max), .cur = max > 1,
                       .interval = MM_NN_THREADS_MIN_INTERVAL };
}

int
mm_nn_threads_next (MmNnThreads *t)
{
  if (t->max <= 1)
    return 1;
  t->last = t->probing > 0 ? !t->cur : t->cur;
  return t->last ? t->max : 1;
}

void
mm_nn_threads_done (MmNnThreads *t, double seconds)
{
  if (t->max <= 1 || !(seconds > 0))
    return;
  int i = t->last;
  if (!t->warm[i])
    {
      t->warm[i] = true;
      if (t->probing == 0)
        return;
    }
  if (t->probing > 0)
    {
      /* A probe's last step is timed (a first one warmed the other plan's memory). */
      if (--t->probing > 0)
        return;
      t->avg[i] = seconds;
      t->since = 0;
      if (seconds < 0.9 * t->avg[t->cur])
        {
          t->cur = i;
          t->switches++;
          t->interval = MM_NN_THREADS_MIN_INTERVAL;
          t->base[i] = seconds;
        }
      else
        {
          /* Confirmed: probe less often, and take today's pace as the new normal. */
          t->interval = MIN (2 * t->interval, MM_NN_THREADS_MAX_INTERVAL);
          t->base[t->cur] = t->avg[t->cur];
        }
      return;
    }
  t->avg[i] = t->avg[i] > 0 ? 0.75 * t->avg[i] + 0.25 * seconds : seconds;
  if (t->base[i] == 0 || t->avg[i] < t->base[i])
    t->base[i] = t->avg[i];
  t->since++;
  /* Slower by half than the pace last confirmed: the machine got busier, look again soon. */
  bool slowed = t->avg[i] > 1.5 * t->base[i] && t->since >= 4;
  /* A probe is one step, two the first time (the other plan's memory is cold then): under
   * load a probe of all threads costs several normal steps. */
  if (t->since >= t->interval || slowed || (t->avg[!i] == 0 && t->since >= 4))
    t->probing = t->warm[!i] ? 1 : 2;
}
