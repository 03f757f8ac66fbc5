/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmMaskSession: the mask being annotated on one series, with its undo history, its autosave
 * journal and project folder, and what it is (source, figures, saved state). No widgets:
 * the tools panel, the model panel, export and the mask label observe it. */
#pragma once

#include "mm-edit.h"
#include "mm-mask.h"
#include "mm-volume.h"

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  MM_MASK_SOURCE_NONE,      /* no mask */
  MM_MASK_SOURCE_THRESHOLD, /* the last step was a threshold (detail: its HU range) */
  MM_MASK_SOURCE_EDITS,     /* brush, eraser, islands, fill, interpolation, clear */
  MM_MASK_SOURCE_MODEL,     /* detected by a segmentation model (detail: its name) */
  MM_MASK_SOURCE_FILE,      /* imported from a file (detail: its path) */
  MM_MASK_SOURCE_RECOVERED, /* the saved stack with a leftover journal replayed over it */
  MM_MASK_SOURCE_SAVED,     /* the label stack saved in the project folder */
} MmMaskSource;

typedef enum
{
  MM_MASK_SAVE_NONE,      /* nothing to save yet */
  MM_MASK_SAVE_IN_MEMORY, /* test and benchmark runs: never written */
  MM_MASK_SAVE_UNSAVED,   /* edits journalled, not yet folded into the label stack */
  MM_MASK_SAVE_SAVED,     /* the label stack in the project folder is the mask */
  MM_MASK_SAVE_FAILED,    /* the journal or the fold failed (save-error says why) */
} MmMaskSaveState;

GType mm_mask_source_get_type (void);
GType mm_mask_save_state_get_type (void);
#define MM_TYPE_MASK_SOURCE (mm_mask_source_get_type ())
#define MM_TYPE_MASK_SAVE_STATE (mm_mask_save_state_get_type ())

#define MM_TYPE_MASK_SESSION (mm_mask_session_get_type ())
G_DECLARE_FINAL_TYPE (MmMaskSession, mm_mask_session, MM, MASK_SESSION, GObject)

/* Signals: "changed" (the mask's voxels changed: redraw), "message" (const char *: a
 * sentence for the user, e.g. a recovery or a failed save). Properties (read-only, notify):
 * source, source-detail, has-mask, voxels, volume-ml, slices, components, save-state,
 * save-error, project-dir, can-undo, can-redo, undo-label, redo-label. */
MmMaskSession *mm_mask_session_new (void);

/* Annotate vol (borrowed: it must outlive the session's use of it, i.e. until the next
 * set_series) read from source. The previous series' edits are folded first. The saved mask
 * comes back (a leftover journal replayed) when the project folder exists. in_memory: never
 * read or write a project folder (tests, benchmarks). vol NULL: let go of the series. */
void mm_mask_session_set_series (MmMaskSession *self, const MmVolume *vol, const char *source,
                                 bool in_memory);

/* The mask; NULL when there is none yet. Borrowed; valid until the next set_series. */
const MmMask *mm_mask_session_get_mask (MmMaskSession *self);

/* An edit step: begin (creating an empty mask on the first edit; NULL when no series is
 * loaded), touch every slice before changing it, end. end records the step (undo, journal,
 * fold soon) when it changed something; source and detail (copied, may be NULL) say what the
 * mask now is. True when it changed the mask. */
MmMask *mm_mask_session_begin (MmMaskSession *self, const char *undo_label);
void mm_mask_session_touch (MmMaskSession *self, int k);
/* mm_mask_session_touch as an MmTouchFunc (data: the session). */
void mm_mask_session_touch_cb (int k, gpointer session);
bool mm_mask_session_end (MmMaskSession *self, MmMaskSource source, const char *detail);
/* The same for a step that set the whole mask (a threshold of every slice, an import): even
 * when no voxel changed, the mask now is what source and detail say. */
bool mm_mask_session_end_whole (MmMaskSession *self, MmMaskSource source, const char *detail);
bool mm_mask_session_in_step (MmMaskSession *self);

/* Replace the whole mask by mask (transfer full; it must have the series' dims) as one
 * undoable step. label: what the mask is (a file's path, a model's name), shown beside its
 * source; may be NULL. */
bool mm_mask_session_replace (MmMaskSession *self, MmMask *mask, MmMaskSource source,
                              const char *label, GError **error);

bool mm_mask_session_undo (MmMaskSession *self);
bool mm_mask_session_redo (MmMaskSession *self);

/* Fold the journal into the label stack now (after a quiet spell it happens by itself). */
void mm_mask_session_save_now (MmMaskSession *self);

const char *mm_mask_session_get_project_dir (MmMaskSession *self);
MmMaskSource mm_mask_session_get_source (MmMaskSession *self);
const char *mm_mask_session_get_source_detail (MmMaskSession *self);
MmMaskSaveState mm_mask_session_get_save_state (MmMaskSession *self);
const char *mm_mask_session_get_save_error (MmMaskSession *self);
guint64 mm_mask_session_get_voxels (MmMaskSession *self);
double mm_mask_session_get_volume_ml (MmMaskSession *self);
int mm_mask_session_get_slices (MmMaskSession *self);
/* -1 while not yet counted (the count follows each change in an idle). */
int mm_mask_session_get_components (MmMaskSession *self);
bool mm_mask_session_get_can_undo (MmMaskSession *self);
bool mm_mask_session_get_can_redo (MmMaskSession *self);
const char *mm_mask_session_get_undo_label (MmMaskSession *self);
const char *mm_mask_session_get_redo_label (MmMaskSession *self);
/* Recompute the figures now instead of in the idle (tests). */
void mm_mask_session_update_figures (MmMaskSession *self);

G_END_DECLS
