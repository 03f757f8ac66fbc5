/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmViewer: what every view of one window shows: the volume, its figures, the mask, the
 * window/level and the crosshair (one slice per plane). Views listen to "changed". */
#pragma once

#include "mm-dicom.h"
#include "mm-render.h"
#include "mm-stats.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  MM_VIEWER_CHANGED_VOLUME = 1 << 0,
  MM_VIEWER_CHANGED_WINDOW = 1 << 1,
  MM_VIEWER_CHANGED_CURSOR = 1 << 2,
  MM_VIEWER_CHANGED_MASK = 1 << 3,
  MM_VIEWER_CHANGED_OVERLAY = 1 << 4,
  MM_VIEWER_CHANGED_VOXELS = 1 << 5,  /* more slices of a progressive load are in */
  MM_VIEWER_CHANGED_FIGURES = 1 << 6, /* the statistics and report came */
} MmViewerChange;

#define MM_TYPE_VIEWER (mm_viewer_get_type ())
G_DECLARE_FINAL_TYPE (MmViewer, mm_viewer, MM, VIEWER, GObject)

MmViewer *mm_viewer_new (void);

/* Takes ownership of vol, stats and report (report may be NULL). */
void mm_viewer_set_volume (MmViewer *self, MmVolume *vol, MmStats *stats, MmDicomReport *report,
                           const char *source);
/* The same for a volume still being filled (progressive load, mm-loader.h): release
 * (release_data) is called instead of freeing vol when the viewer lets it go; stats and
 * report may be NULL until mm_viewer_set_figures. */
void mm_viewer_set_volume_full (MmViewer *self, MmVolume *vol, MmStats *stats,
                                MmDicomReport *report, const char *source,
                                GDestroyNotify release, gpointer release_data);
/* The whole series is in: its figures (owned from here). */
void mm_viewer_set_figures (MmViewer *self, MmStats *stats, MmDicomReport *report);
/* More slices came in: views repaint. */
void mm_viewer_voxels_arrived (MmViewer *self);
/* Show other values on the same grid (the metal artifact reduced series, mm-window-mar.c):
 * the volume's voxel buffer and *voxels (of the same type and size) change places, so the
 * crosshair, window and mask stay and every reader of the volume (views, HU readout, tools)
 * reads what is shown. label names what is shown now, drawn over every view (NULL: the
 * series as read). Main thread only; views repaint (MM_VIEWER_CHANGED_VOXELS). */
void mm_viewer_swap_voxels (MmViewer *self, void **voxels, const char *label);
/* NULL while the series as read is shown. */
const char *mm_viewer_get_derived_label (MmViewer *self);
const MmVolume *mm_viewer_get_volume (MmViewer *self);
const MmStats *mm_viewer_get_stats (MmViewer *self);
const MmDicomReport *mm_viewer_get_report (MmViewer *self);
const char *mm_viewer_get_source (MmViewer *self);

/* The mask to show (borrowed: the mask session owns it and sets NULL before freeing it). */
void mm_viewer_set_mask (MmViewer *self, const MmMask *mask);
const MmMask *mm_viewer_get_mask (MmViewer *self);

void mm_viewer_set_window (MmViewer *self, double window, double level);
void mm_viewer_get_window (MmViewer *self, double *window, double *level);
void mm_viewer_set_invert (MmViewer *self, bool invert);
bool mm_viewer_get_invert (MmViewer *self);

/* The crosshair, a voxel index; each plane shows the slice through it. */
void mm_viewer_set_cursor (MmViewer *self, const int ijk[3]);
void mm_viewer_get_cursor (MmViewer *self, int ijk[3]);
int mm_viewer_get_depth (MmViewer *self, MmPlane plane);
void mm_viewer_set_depth (MmViewer *self, MmPlane plane, int depth);

void mm_viewer_set_overlay (MmViewer *self, const GdkRGBA *color, double opacity, bool outline);
/* Threshold tool preview: the overlay shows lower <= HU <= upper instead of the mask. */
void mm_viewer_set_preview (MmViewer *self, bool on, double lower, double upper);
/* A mask shown instead of the real one until cleared (NULL), e.g. an interpolation not yet
 * applied. Takes ownership. */
void mm_viewer_set_preview_mask (MmViewer *self, MmMask *preview);
bool mm_viewer_has_preview_mask (MmViewer *self);

/* The mask was edited in place (slices first..last): views redraw. */
void mm_viewer_mask_edited (MmViewer *self);

/* The reading state (slab, oblique planes) the views share, borrowed. */
typedef struct _MmReading MmReading;
MmReading *mm_viewer_get_reading (MmViewer *self);

/* The render style for the current state (borrowed mask pointer inside). */
void mm_viewer_get_style (MmViewer *self, MmRenderStyle *style);

G_END_DECLS
