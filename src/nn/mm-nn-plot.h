/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Training curves: one record per epoch, written as CSV and drawn as a PNG plot. */
#pragma once

#include <cairo.h>
#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef struct
{
  int epoch;           /* 1-based */
  double train_loss;   /* mean Dice + BCE loss over the epoch's steps */
  double train_dice;   /* hard Dice pooled over the epoch's training patches */
  double val_dice;     /* pooled 3D Dice of the validation slices; NaN without validation */
  double val_hd95_mm;  /* mean over the validation volumes; NaN when undefined */
  double seconds;      /* training time (steps and validation) since the start, all sessions */
  double images_per_s; /* training patches per second of this epoch's steps */
} MmNnEpochRecord;

#define MM_NN_CURVES_CSV_HEADER \
  "epoch,train_loss,train_dice,val_dice,val_hd95_mm,seconds,images_per_s"

/* The CSV text (header line first; NaN as an empty field). */
char *mm_nn_curves_csv (const MmNnEpochRecord *records, int n);

/* Both written atomically. The plot: training loss per epoch on the left axis, validation
 * (and, dashed, training) Dice on the right axis from 0 to 1. */
bool mm_nn_curves_write_csv (const char *path, const MmNnEpochRecord *records, int n,
                             GError **error);
bool mm_nn_plot_write_png (const char *path, const MmNnEpochRecord *records, int n,
                           GError **error);

/* How mm_nn_plot_draw draws: the PNG's look by default, the app's training window sets its
 * theme's colours and the epoch under way. */
typedef struct
{
  double fg[4];         /* text, frame and grid (the grid faint) */
  double background[4]; /* alpha 0: not painted */
  bool title;           /* a heading with the best validation Dice */
  double font_size;     /* pixels */
  int last_epoch;       /* the epoch axis runs at least to this one (the planned ones) */
  int running_epoch;    /* the epoch under way, 0: none; marked at running_loss (NaN: none) */
  double running_loss;
} MmNnPlotStyle;

void mm_nn_plot_style_init (MmNnPlotStyle *style);

/* The plot into a width x height area of cr at its origin, as mm_nn_plot_write_png draws it
 * (which uses 800 x 480 and the default style). */
void mm_nn_plot_draw (cairo_t *cr, int width, int height, const MmNnEpochRecord *records, int n,
                      const MmNnPlotStyle *style);

G_END_DECLS
