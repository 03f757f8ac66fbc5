/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Training curves: one record per epoch, written as CSV and drawn as a PNG plot. */
#pragma once

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

G_END_DECLS
