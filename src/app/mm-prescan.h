/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The scan of the folder named on the command line, started in main() before GTK starts
 * (issue 12: first frame <= 0.35 s after process start). GTK, libadwaita and the window take
 * most of that time on the main thread; the headers are read meanwhile on a worker, and the
 * window's first scan of the same path takes the result instead of scanning again. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Main thread, before g_application_run: scan the first argument that names an existing
 * file or folder (options and their values skipped). Does nothing for --help, --version or
 * when MM_NO_PRESCAN is set (the comparison in bench/first-frame-run). */
void mm_prescan_start (int argc, char **argv);

/* Main thread: when the prescan's path is path (canonical) and it was not taken yet, take
 * it: callback gets a GTask whose result mm_load_finish returns, as from mm_load_async with
 * scan_only, once the scan is done (at once if it is), and TRUE is returned. Else FALSE:
 * scan as usual. */
gboolean mm_prescan_take (const char *path, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data);

/* Main thread, after g_application_run: a scan still running (this process only handed its
 * path to a running instance) is cancelled and waited for. */
void mm_prescan_end (void);

G_END_DECLS
