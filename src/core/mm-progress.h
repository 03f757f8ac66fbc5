/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What background work shows while it runs: a worker's report handed to the main loop, and a
 * duration as a progress text writes it. Shared by the app's loader, export, detection and
 * training, and the command line's training display. */
#pragma once

#include <gio/gio.h>
#include <stddef.h>

G_BEGIN_DECLS

/* Runs on the main context with the target and the data the worker posted. */
typedef void (*MmMainCallFunc) (gpointer target, gpointer data);

/* From any thread: func (target, data) soon on context (NULL: the global default context),
 * in the order posted. target (a GObject, nullable) is referenced until then, so it outlives
 * the call even when its owner is gone; data (nullable) is freed with data_free afterwards,
 * also when the call never runs because the context is dropped. */
void mm_main_call (GMainContext *context, gpointer target, MmMainCallFunc func, gpointer data,
                   GDestroyNotify data_free);

/* From any thread: drops a reference to object (nullable) on context (NULL: the global
 * default context): a widget held by a worker's task is let go on its own thread. */
void mm_main_unref (GMainContext *context, gpointer object);

/* g_task_run_in_thread, holding the default GApplication (if any) until the task is
 * finalised, so that the process lives until its worker is done (a closed window cancels
 * the work; it stops at its next check). The task's last reference may go in the worker:
 * the release runs on the default main context. */
void mm_task_run_held (GTask *task, GTaskThreadFunc thread);

/* What a worker reports after each slice: done of total. */
typedef void (*MmMainSlicesFunc) (gpointer target, int done, int total);

/* From any thread: func (target, done, total) soon on context, as mm_main_call. */
void mm_main_call_slices (GMainContext *context, gpointer target, MmMainSlicesFunc func,
                          int done, int total);

/* Tests only: the milliseconds named by the environment variable name (0 when unset; at most
 * ten minutes), by which a worker's slice is made slower to show its progress and cancel. */
guint mm_test_slow_ms (const char *name);

/* Tests only: waits slow_ms after slice done of total (not after the last), returning early
 * when cancel is cancelled: a slowed worker is never slower to cancel. */
void mm_test_slow_slice (guint slow_ms, int done, int total, GCancellable *cancel);

/* "m:ss", or "h:mm:ss" from an hour on; unknown (not finite or negative) as the given text. */
void mm_format_duration (char *buf, size_t size, double seconds, const char *unknown);

G_END_DECLS
