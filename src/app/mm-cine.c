/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Cine: a GLib timeout at 1000 / fps ms calling the step function. */
#include "mm-cine.h"

#include <math.h>

struct _MmCine
{
  MmCineStep step;
  gpointer data;
  double fps;
  guint timer;
};

MmCine *
mm_cine_new (MmCineStep step, gpointer data)
{
  MmCine *c = g_new0 (MmCine, 1);
  c->step = step;
  c->data = data;
  c->fps = 10;
  return c;
}

void
mm_cine_free (MmCine *cine)
{
  if (cine == NULL)
    return;
  g_clear_handle_id (&cine->timer, g_source_remove);
  g_free (cine);
}

static gboolean
tick_cb (gpointer data)
{
  MmCine *c = data;
  c->step (c->data);
  return G_SOURCE_CONTINUE;
}

static void
start (MmCine *c)
{
  g_clear_handle_id (&c->timer, g_source_remove);
  /* A frame that takes longer than the interval delays the next one: the timeout is
   * rescheduled from when it ran, so a slow machine plays slower, never piles up. */
  c->timer = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) lround (1000.0 / c->fps),
                                 tick_cb, c, NULL);
}

void
mm_cine_set_fps (MmCine *cine, double fps)
{
  g_return_if_fail (cine != NULL);
  cine->fps = isfinite (fps) ? CLAMP (fps, 1.0, 60.0) : 10;
  if (cine->timer)
    start (cine);
}

double
mm_cine_get_fps (MmCine *cine)
{
  return cine->fps;
}

void
mm_cine_set_playing (MmCine *cine, bool playing)
{
  g_return_if_fail (cine != NULL);
  if (playing && !cine->timer)
    start (cine);
  else if (!playing)
    g_clear_handle_id (&cine->timer, g_source_remove);
}

bool
mm_cine_is_playing (MmCine *cine)
{
  return cine->timer != 0;
}
