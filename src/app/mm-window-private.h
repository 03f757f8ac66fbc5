/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmWindow's instance struct, shared by mm-window.c and its mm-window-*.c parts. */
#pragma once

#include "mm-cine.h"
#include "mm-annotation-layer.h"
#include "mm-measure-panel.h"
#include "mm-loader.h"
#include "mm-model-panel.h"
#include "mm-mask-session.h"
#include "mm-slice-view.h"
#include "mm-surface-view.h"
#include "mm-tools-panel.h"
#include "mm-viewer.h"
#include "mm-window.h"

G_BEGIN_DECLS

typedef struct _MmWindowMar MmWindowMar;

struct _MmWindow
{
  AdwApplicationWindow parent_instance;

  /* template widgets */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
  GtkMenuButton *recent_button;
  GtkToggleButton *layout_button;
  GtkRevealer *progress_revealer;
  GtkProgressBar *progress_bar;
  GtkStack *main_stack;
  GtkGrid *views_grid;
  GtkGrid *metadata_grid;
  GtkExpander *warnings_expander;
  GtkLabel *warnings_label;
  GtkColorButton *overlay_color_button;
  GtkAdjustment *overlay_opacity;
  GtkScale *overlay_opacity_scale;
  GtkCheckButton *overlay_outline_check;
  MmToolsPanel *tools_panel;
  MmModelPanel *model_panel;
  MmMeasurePanel *measure_panel;
  GtkWidget *detect_button;
  GtkScale *slice_scale;
  GtkAdjustment *slice_adjustment;
  GtkLabel *slice_from_label, *slice_to_label;
  GtkWidget *mar_button; /* original / corrected, shown once there is a corrected series */

  /* owned */
  MmViewer *viewer;
  MmMaskSession *session; /* the mask being annotated; the tools panel observes it */
  MmAnnotationLayer *annotations; /* the measurements on the views (mm-window-measure.c) */
  GSettings *settings; /* NULL when the schema is not installed */
  GCancellable *cancellable;
  MmLoadShared *loading_shared; /* the volume a progressive load is filling, while it does */
  char *loading_path;
  char *screenshot_path;
  GArray *frame_times;  /* bench: microseconds per frame */
  GArray *render_times; /* bench: microseconds of the axial view's render per frame */

  /* borrowed: children of views_grid */
  MmSliceView *views[3];
  MmSliceView *active;
  MmSurfaceView *surface_view; /* the 3D view (mm-window-view3d.c) */

  gboolean three_views;
  int layout_3d; /* 0: no 3D view, 1: three planes + 3D, 2: 3D only */
  gboolean startup_segment;
  int startup_preset;
  double startup_zoom; /* percent, <= 0: fit */
  gboolean startup_invert;
  int bench_frames;
  gint64 paint_start;
  double first_frame_ms; /* process start to the first painted frame of a series */
  guint tick_id;
  MmCine *cine; /* owned: mm-window-reading.c */
  MmWindowMar *mar; /* owned: mm-window-mar.c */

  /* mm-window-tags.c: the tags browser (weak: it closes on its own) and the file it shows */
  GtkWidget *tags_window;
  char *tags_file;
  /* the series browser: the last scan with several series, kept to switch between them
   * without scanning again; the folder it scanned; when the folder was opened */
  MmDicomReport *scan_report;
  MmDicomScan *scan; /* the headers scan_report came from, for the load that follows */
  char *scan_path;
  gint64 open_time;
};


/* mm-window-tools.c: the mask session wired to the viewer and the toasts; the tool actions. */
void mm_window_tools_init (MmWindow *self);
void mm_window_tools_class_init (GtkWidgetClass *widget_class);
/* A series is about to go (loaded false: before the viewer frees it) or was loaded (true). */
void mm_window_tools_series_changed (MmWindow *self, bool loaded);

void mm_window_toast (MmWindow *self, const char *message);
/* Tick marks on the slice slider for the slices holding mask voxels (after each edit step). */
void mm_window_update_slice_marks (MmWindow *self);
/* The progress bar under the header bar: text NULL hides it. */
void mm_window_set_progress (MmWindow *self, const char *text, double fraction);

/* mm-window-measure.c: measurements (annotation layer, measure panel) and win.measure-*. */
void mm_window_measure_class_init (GtkWidgetClass *klass);
void mm_window_measure_init (MmWindow *self);
void mm_window_measure_dispose (MmWindow *self);
void mm_window_measure_series_changed (MmWindow *self, bool loaded);
void mm_window_measure_mask_tool (MmWindow *self);

/* mm-window-model.c: the model panel's host (mask, toasts, progress) and its win.* actions. */
void mm_window_model_class_init (GtkWidgetClass *klass);
void mm_window_model_init (MmWindow *self);
void mm_window_model_dispose (MmWindow *self);

/* mm-window-metadata.c: the metadata panel (filled when a series is shown), Copy as Text. */
void mm_window_metadata_fill (MmWindow *self);

/* mm-window-progressive.c: what waits for the whole series while a progressive load runs
 * (tools, export, figures disabled), and the first-frame benchmark (MM_BENCH_FIRST_FRAME). */
void mm_window_progressive_set_loading (MmWindow *self, bool loading);
void mm_window_progressive_bench_first (MmWindow *self);
/* After the first paint of a progressive load's first slice, let its other slices decode. */
void mm_window_progressive_first_paint (MmWindow *self, MmLoadShared *shared);
void mm_window_progressive_bench_done (MmWindow *self);
/* Milliseconds since this process started (mm-window-testmode.c). */
double mm_window_process_age_ms (void);
void mm_window_metadata_class_init (GtkWidgetClass *klass);

/* mm-window-testmode.c: --screenshot and --bench-render, started once the series is shown. */
void mm_window_test_mode_start (MmWindow *self);

/* mm-window-export.c: export of the mask (PNG, NIfTI, DICOM SEG), import of a NIfTI mask. */
void mm_window_export_class_init (GtkWidgetClass *klass);
void mm_window_pacs_class_init (GtkWidgetClass *klass); /* mm-window-pacs.c: Send to PACS */

/* mm-window-reading.c: the reading tools' row, cine, view export ("reading.*" actions). */
void mm_window_reading_init (MmWindow *self);
void mm_window_reading_dispose (MmWindow *self);
/* mm-window-view3d.c: the 3D view in the layouts "three-3d" and "3d", win.layout, win.cycle-3d. */
void mm_window_view3d_class_init (GtkWidgetClass *klass);
void mm_window_view3d_init (MmWindow *self);
void mm_window_view3d_layout (MmWindow *self);
void mm_window_view3d_read_layout (MmWindow *self, const char *name);
/* mm-window-tags.c: the DICOM tags browser (win.show-tags), following the axial slice. */
void mm_window_tags_class_init (GtkWidgetClass *klass);
void mm_window_tags_update (MmWindow *self);
void mm_window_tags_dispose (MmWindow *self);

/* mm-window-mar.c: metal artifact reduction ("mar.*" actions, Ctrl+R, X), its label over the
 * views and its export as a derived DICOM series. */
void mm_window_mar_class_init (GtkWidgetClass *klass);
void mm_window_mar_init (MmWindow *self);
void mm_window_mar_dispose (MmWindow *self);
/* Before the viewer lets the series go: a run is cancelled, a result dropped. */
void mm_window_mar_series_changed (MmWindow *self);
/* Cancel a run under way (the progress bar's Cancel, Escape). */
void mm_window_mar_cancel (MmWindow *self);
bool mm_window_mar_is_running (MmWindow *self);
/* The voxels of the series as read while a correction runs or its result is kept (the
 * views may show the corrected buffer, and the other one is freed with the result), else
 * NULL: the volume's own buffer is the series as read and stays. */
const void *mm_window_mar_original_voxels (MmWindow *self);

G_END_DECLS
