/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Undo/redo of mask edits as compressed per-slice differences, within a memory budget. */
#pragma once

#include "mm-mask.h"

#include <stddef.h>

G_BEGIN_DECLS

/* The history of one mask. A step (a brush stroke, a threshold, an island removal) keeps, for
 * each slice it changed, the voxels that flipped as zlib-compressed runs: a stroke costs tens
 * of bytes, a threshold of a whole volume a few kB per slice, never a copy of the volume.
 * The same difference undoes and redoes a step (a voxel that flipped flips back).
 *
 * Usage, for every edit:
 *   mm_history_begin (h, "Brush");
 *   mm_history_touch (h, k);        before slice k is first changed in this step
 *   ... change slice k of the mask ...
 *   if (mm_history_commit (h))      the step changed something
 *     autosave mm_history_get_changed (h, &n)
 *
 * Voxels are 0 or nonzero: a step records which voxels changed between zero and nonzero, and
 * undo restores them as 0 and 1. Not thread-safe: one thread edits the mask and calls these. */
typedef struct _MmHistory MmHistory;

/* mask is borrowed: it must outlive the history and keep its dims and data pointer. The
 * compressed steps are kept within budget_bytes (SIZE_MAX: unlimited) by dropping the oldest;
 * the newest step is kept whatever its size. */
MmHistory *mm_history_new (MmMask *mask, size_t budget_bytes);
void mm_history_free (MmHistory *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmHistory, mm_history_free)

/* Start a step; label (copied, may be NULL) is what "Undo <label>" shows. No step may be
 * open already. */
void mm_history_begin (MmHistory *h, const char *label);

/* The caller is about to change slice k (or slices first..last) in the open step: copy it as
 * it is now, once per step. Only touched slices are compared at commit, so an untouched slice
 * that was changed anyway is neither undoable nor reported. */
void mm_history_touch (MmHistory *h, int k);
void mm_history_touch_range (MmHistory *h, int first, int last);
/* mm_history_touch in the shape of MmTouchFunc (mm-edit.h): pass the history as data. */
void mm_history_touch_cb (int k, gpointer history);

/* Close the step. True when it changed at least one voxel: it becomes the step to undo, the
 * redo list is cleared and old steps are dropped to fit the budget. False when it changed
 * nothing: it is forgotten and the undo and redo lists are left as they were. */
bool mm_history_commit (MmHistory *h);

/* Close the step by putting the touched slices back as they were at their touch: for a stroke
 * abandoned half way (Escape). Nothing is recorded; mm_history_get_changed lists the slices put
 * back. */
void mm_history_cancel (MmHistory *h);

/* Undo the last step / redo the last undone one, in place in the mask. The first and last
 * slice changed are stored in first_k, last_k (either may be NULL) for redrawing. False when
 * there is nothing to undo / redo (the mask is then untouched). No step may be open. */
bool mm_history_undo (MmHistory *h, int *first_k, int *last_k);
bool mm_history_redo (MmHistory *h, int *first_k, int *last_k);

/* Slices (ascending) that the last commit, cancel, undo or redo changed: the ones to autosave.
 * Borrowed, valid until the next call that changes the history. */
const int *mm_history_get_changed (MmHistory *h, int *n_changed);

/* Label of the step undo / redo would apply; NULL when there is none or it had no label. */
const char *mm_history_get_undo_label (MmHistory *h);
const char *mm_history_get_redo_label (MmHistory *h);
int mm_history_get_n_undo (MmHistory *h);
int mm_history_get_n_redo (MmHistory *h);

/* Memory held by the recorded steps (compressed differences and their bookkeeping); the
 * copies of slices touched by an open step are not counted (they are freed at its end). */
size_t mm_history_get_bytes (MmHistory *h);

/* Forget every step (after loading another mask into the same buffer, say). */
void mm_history_clear (MmHistory *h);

G_END_DECLS
