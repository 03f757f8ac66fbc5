/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The window while a progressive load fills the series (docs/progressive-load.md): the
 * views show slices as they come, but whatever needs the whole volume waits — the mask
 * tools and Segment, detection and training, export and mask import, and the figures of
 * the panel — and the first-frame benchmark's report (MM_BENCH_FIRST_FRAME). */
#include "mm-window-private.h"
#include "mm-timing.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <sys/resource.h>

/* Actions that read or write the whole volume or its mask. */
static const char *const whole_series_actions[] = {
  "win.tool",      "win.segment",      "win.next-metal",   "win.export",
  "win.import-nifti", "win.open-mask", "win.detect-metal", "win.train-model",
  "win.copy-info",
};

void
mm_window_progressive_set_loading (MmWindow *self, bool loading)
{
  for (size_t i = 0; i < G_N_ELEMENTS (whole_series_actions); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), whole_series_actions[i], !loading);
  gtk_widget_set_sensitive (GTK_WIDGET (self->tools_panel), !loading);
  gtk_widget_set_sensitive (GTK_WIDGET (self->model_panel), !loading);
  if (!loading)
    return;
  /* The panel's figures are those of the whole series: none until it is in. */
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->metadata_grid))))
    gtk_grid_remove (self->metadata_grid, child);
  GtkWidget *label = gtk_label_new (_("Reading the series: its figures, the tools and export "
                                      "follow once every slice is in"));
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_grid_attach (self->metadata_grid, label, 0, 0, 2, 1);
  gtk_widget_set_visible (GTK_WIDGET (self->warnings_expander), FALSE);
}

static void
shown_after_paint_cb (GdkFrameClock *clock, gpointer shared)
{
  mm_timing_mark ("first slice painted: the other slices may decode");
  mm_load_shared_first_shown (shared);
  /* Last: this drops the handler's reference to shared (shared_notify). */
  g_signal_handlers_disconnect_by_func (clock, shown_after_paint_cb, shared);
}

static void
shared_notify (gpointer shared, GClosure *closure)
{
  mm_load_shared_unref (shared);
}

void
mm_window_progressive_first_paint (MmWindow *self, MmLoadShared *shared)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));
  if (clock == NULL) /* not realized: nothing to wait for */
    {
      mm_load_shared_first_shown (shared);
      return;
    }
  /* The reference goes with the handler, also when the window (and its clock) goes first. */
  g_signal_connect_data (clock, "after-paint", G_CALLBACK (shown_after_paint_cb),
                         mm_load_shared_ref (shared), shared_notify, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The benchmark's state, on the window: the first frame printed, the load done. */
#define FIRST_PRINTED "mm-bench-first-printed"
#define DONE_LINE "mm-bench-done-line"

static void
bench_finish (MmWindow *self)
{
  const char *line = g_object_get_data (G_OBJECT (self), DONE_LINE);
  if (line == NULL || g_object_get_data (G_OBJECT (self), FIRST_PRINTED) == NULL)
    return;
  fputs (line, stdout);
  fflush (stdout);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
first_paint_cb (GdkFrameClock *clock, MmWindow *self)
{
  g_signal_handlers_disconnect_by_func (clock, first_paint_cb, self);
  mm_timing_mark ("first frame painted");
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  printf ("first-frame first_frame_ms=%.0f slices=%d\n", mm_window_process_age_ms (),
          vol ? vol->dims[2] : 0);
  fflush (stdout);
  g_object_set_data (G_OBJECT (self), FIRST_PRINTED, GINT_TO_POINTER (1));
  bench_finish (self);
}

void
mm_window_progressive_bench_first (MmWindow *self)
{
  if (g_getenv ("MM_BENCH_FIRST_FRAME") == NULL)
    return;
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));
  if (clock == NULL)
    return;
  g_signal_connect (clock, "after-paint", G_CALLBACK (first_paint_cb), self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
mm_window_progressive_bench_done (MmWindow *self)
{
  if (g_getenv ("MM_BENCH_FIRST_FRAME") == NULL)
    return;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec
               + ru.ru_stime.tv_usec / 1e6;
  size_t voxel_bytes = mm_volume_n_voxels (vol) * (vol->type == MM_VOXEL_INT16 ? 2 : 4);
  g_object_set_data_full (G_OBJECT (self), DONE_LINE,
                          g_strdup_printf ("loaded loaded_ms=%.0f cpu_s=%.3f maxrss_kb=%ld "
                                           "voxel_bytes=%zu\n",
                                           mm_window_process_age_ms (), cpu, ru.ru_maxrss,
                                           voxel_bytes),
                          g_free);
  bench_finish (self);
}
