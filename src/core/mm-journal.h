/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Autosave of mask edits: an append-only journal beside a PNG label stack, folded into it. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

G_BEGIN_DECLS

#define MM_JOURNAL_FILE "journal.bin"

/* A project folder is a label stack (the PNGs and manifest.json of mm-label-stack.h) plus
 * journal.bin, which holds the slices edited since the stack was last written. Every record
 * is one whole slice (its SOP Instance UID, zlib-compressed voxels, a CRC-32) and the
 * records of one mm_journal_append are applied on recovery all or none, so a kill -9 or a
 * power cut loses at most the append under way, and a reordered series still maps right.
 *
 * The app: open; after every committed edit, undo or redo append the slices it changed; fold
 * when idle and on close (between edits, not during a stroke). Every change of the mask must
 * go through an append: fold writes only the slices appended since the last fold when the
 * stack on disk is in this series' order. One MmJournal per folder (the folder is locked);
 * not thread-safe. */
typedef struct _MmJournal MmJournal;

/* Open the project folder dir (created if missing) for the mask of vol, which is borrowed
 * (it must outlive the journal) and has vol's dims. The mask is replaced by the stack when
 * dir holds one (read with vol: slices matched by SOP Instance UID), else left as given; then
 * the complete records of a journal left by a session that did not fold are applied to it
 * and *recovered (may be NULL) is set. On error the mask is untouched and the error is a
 * G_IO_ERROR:
 *   PERMISSION_DENIED  dir cannot be created or written: use another folder;
 *   BUSY               dir is open in another MmJournal (this process or another);
 *   NOT_REGULAR_FILE   dir or its journal.bin is a symbolic link (or journal.bin is not a
 *                      regular file): left as it is;
 *   INVALID_DATA       the journal belongs to another series or image size (it is left as
 *                      it is on disk), or is not a Metalmark journal, or the stack is bad. */
MmJournal *mm_journal_open (const char *dir, const MmVolume *vol, MmMask *mask,
                            bool *recovered, GError **error);

/* Close without folding: what was appended stays in the journal for the next open. NULL is
 * accepted. */
void mm_journal_close (MmJournal *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmJournal, mm_journal_close)

/* Append slices[0..n) as they are now in the mask, as one all-or-nothing record group, and
 * wait until it is on disk (fdatasync). n == 0 does nothing. After a failure the journal is
 * cut back to its last good group; when even that fails, appends keep failing until a fold
 * succeeds. */
bool mm_journal_append (MmJournal *j, const int *slices, int n, GError **error);

/* Write the slices appended since the last fold (or all of them, when the stack is missing
 * or in another slice order) into the stack, each PNG and then the manifest atomically, make
 * that durable, and only then remove the journal. True at once when there is nothing to
 * fold. */
bool mm_journal_fold (MmJournal *j, GError **error);

/* True while appended slices are not yet folded into the stack. */
bool mm_journal_needs_fold (MmJournal *j);

/* Record groups applied by mm_journal_open from a leftover journal (0: nothing recovered). */
int mm_journal_get_n_recovered (MmJournal *j);

/* What the recovery of mm_journal_open could not keep: the record groups (edits) of which a
 * record was damaged in the middle of the journal, skipped whole while the valid edits after
 * them were applied, and the damaged bytes (0 and 0: nothing lost). A torn end (the append a
 * crash interrupted, which never returned) is not counted. The caller should say so: the
 * mask is then missing those edits. */
int mm_journal_get_n_lost (MmJournal *j);
guint64 mm_journal_get_bytes_lost (MmJournal *j);

G_END_DECLS
