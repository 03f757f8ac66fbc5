/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-prescan.h"

#include "mm-loader.h"
#include "mm-timing.h"

#include <string.h>

/* Main thread only. */
static struct
{
  char *path;          /* canonical; NULL: no prescan */
  gboolean done, taken;
  MmLoadResult *result;
  GError *error;
  GTask *waiter;       /* the window's, once taken before done */
  GCancellable *cancellable;
} pre;

static void
hand_over (void)
{
  GTask *t = g_steal_pointer (&pre.waiter);
  if (g_task_return_error_if_cancelled (t))
    g_clear_pointer (&pre.result, mm_load_result_free);
  else if (pre.result)
    g_task_return_pointer (t, g_steal_pointer (&pre.result), (GDestroyNotify) mm_load_result_free);
  else
    g_task_return_error (t, g_steal_pointer (&pre.error));
  g_clear_error (&pre.error);
  g_object_unref (t);
}

static void
prescan_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  mm_timing_mark ("prescan handed to the main loop");
  pre.done = TRUE;
  pre.result = mm_load_finish (result, &pre.error);
  if (pre.waiter)
    hand_over ();
  else if (pre.taken || pre.path == NULL)
    {
      g_clear_pointer (&pre.result, mm_load_result_free);
      g_clear_error (&pre.error);
    }
}

/* The options of metalmark (mm-application.c) and GApplication/GTK that take a value in the
 * next argument: that value is not a path to scan. */
static gboolean
takes_value (const char *arg)
{
  static const char *const with_value[] = {
    "--screenshot", "--bench-render", "--layout", "--preset", "--zoom", "--window-size",
    "--display", "--gapplication-app-id",
  };
  if (strchr (arg, '=') != NULL)
    return FALSE;
  for (size_t i = 0; i < G_N_ELEMENTS (with_value); i++)
    if (strcmp (arg, with_value[i]) == 0)
      return TRUE;
  return FALSE;
}

void
mm_prescan_start (int argc, char **argv)
{
  if (g_getenv ("MM_NO_PRESCAN") != NULL || pre.path != NULL)
    return;
  const char *path = NULL;
  gboolean only_paths = FALSE;
  for (int i = 1; i < argc && path == NULL; i++)
    {
      const char *a = argv[i];
      if (!only_paths && strcmp (a, "--") == 0)
        only_paths = TRUE;
      else if (!only_paths && a[0] == '-')
        {
          if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0 || strcmp (a, "--version") == 0
              || g_str_has_prefix (a, "--help-"))
            return;
          if (takes_value (a))
            i++;
        }
      else
        path = a;
    }
  if (path == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  pre.path = g_canonicalize_filename (path, NULL);
  mm_timing_mark ("prescan start");
  pre.cancellable = g_cancellable_new ();
  mm_load_async (pre.path, NULL, TRUE, pre.cancellable, NULL, NULL, prescan_done_cb, NULL);
}

void
mm_prescan_end (void)
{
  if (pre.path == NULL)
    return;
  /* Not taken (another instance was running and got the path, or the window never asked):
   * stop the scan and wait for its worker, which must not be inside GDCM while the process
   * exits and C++ destructors run. */
  if (!pre.done)
    g_cancellable_cancel (pre.cancellable);
  while (!pre.done)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&pre.cancellable);
  g_clear_pointer (&pre.path, g_free);
  g_clear_pointer (&pre.result, mm_load_result_free);
  g_clear_error (&pre.error);
}

gboolean
mm_prescan_take (const char *path, GCancellable *cancellable, GAsyncReadyCallback callback,
                 gpointer user_data)
{
  if (pre.path == NULL || pre.taken || g_strcmp0 (path, pre.path) != 0)
    return FALSE;
  pre.taken = TRUE;
  pre.waiter = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (pre.waiter, mm_load_async);
  if (pre.done)
    hand_over (); /* the callback runs from the main loop, not from here */
  return TRUE;
}
