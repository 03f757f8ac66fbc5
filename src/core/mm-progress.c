/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-progress.h"

#include <math.h>

typedef struct
{
  gpointer target;
  MmMainCallFunc func;
  gpointer data;
  GDestroyNotify data_free;
} Call;

static gboolean
call_cb (gpointer p)
{
  Call *c = p;
  c->func (c->target, c->data);
  return G_SOURCE_REMOVE;
}

static void
call_free (gpointer p)
{
  Call *c = p;
  if (c->data_free && c->data)
    c->data_free (c->data);
  if (c->target)
    g_object_unref (c->target);
  g_free (c);
}

void
mm_main_call (GMainContext *context, gpointer target, MmMainCallFunc func, gpointer data,
              GDestroyNotify data_free)
{
  g_return_if_fail (func != NULL);
  Call *c = g_new (Call, 1);
  c->target = target ? g_object_ref (target) : NULL;
  c->func = func;
  c->data = data;
  c->data_free = data_free;
  g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, call_cb, c, call_free);
}

static gboolean
unref_cb (gpointer object)
{
  g_object_unref (object);
  return G_SOURCE_REMOVE;
}

void
mm_main_unref (GMainContext *context, gpointer object)
{
  if (object != NULL)
    g_main_context_invoke (context, unref_cb, object);
}

typedef struct
{
  MmMainSlicesFunc func;
  int done, total;
} SlicesCall;

static void
slices_call_cb (gpointer target, gpointer data)
{
  SlicesCall *c = data;
  c->func (target, c->done, c->total);
}

void
mm_main_call_slices (GMainContext *context, gpointer target, MmMainSlicesFunc func, int done,
                     int total)
{
  g_return_if_fail (func != NULL);
  SlicesCall *c = g_new (SlicesCall, 1);
  *c = (SlicesCall){ func, done, total };
  mm_main_call (context, target, slices_call_cb, c, g_free);
}

guint
mm_test_slow_ms (const char *name)
{
  const char *v = g_getenv (name);
  return v ? (guint) CLAMP (g_ascii_strtoll (v, NULL, 10), 0, 600000) : 0;
}

void
mm_test_slow_slice (guint slow_ms, int done, int total, GCancellable *cancel)
{
  gint64 end = g_get_monotonic_time () + (gint64) slow_ms * 1000;
  while (slow_ms > 0 && done < total && g_get_monotonic_time () < end
         && !g_cancellable_is_cancelled (cancel))
    g_usleep (10000);
}

static gboolean
release_idle (gpointer app)
{
  g_application_release (app);
  return G_SOURCE_REMOVE;
}

static void
release_application (gpointer app)
{
  g_idle_add_full (G_PRIORITY_DEFAULT, release_idle, app, g_object_unref);
}

void
mm_task_run_held (GTask *task, GTaskThreadFunc thread)
{
  GApplication *app = g_application_get_default ();
  if (app)
    {
      g_application_hold (app);
      g_object_set_data_full (G_OBJECT (task), "mm-held-application", g_object_ref (app),
                              release_application);
    }
  g_task_run_in_thread (task, thread);
}

void
mm_format_duration (char *buf, size_t size, double s, const char *unknown)
{
  if (!isfinite (s) || s < 0)
    g_snprintf (buf, size, "%s", unknown);
  else if (s >= 3600)
    g_snprintf (buf, size, "%d:%02d:%02d", (int) s / 3600, (int) s / 60 % 60, (int) s % 60);
  else
    g_snprintf (buf, size, "%d:%02d", (int) s / 60, (int) s % 60);
}
