/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PNG label stacks: one 0/255 PNG per slice plus manifest.json, the exchange format of
 * metalmark-cli segment, the app and the trainer. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MM_LABEL_STACK_MANIFEST "manifest.json"
#define MM_LABEL_STACK_FORMAT "metalmark-label-stack"
#define MM_LABEL_STACK_VERSION 2

/* File name of slice index (0-based, sorted order) of n slices, e.g. "mask-0007-i306.png";
 * the instance number part is left out when the slice has none. */
char *mm_label_stack_file_name (int index, int n_slices, int instance_number);

/* The same in generation (>= 1) of a stack, e.g. "mask-0007-i306-g3.png": a manifest names
 * only files of its own generation, and a write makes a new one, so a stack on disk is all
 * old or all new whenever a writer is killed (see mm-label-stack.c). 0: the name above. */
char *mm_label_stack_file_name_gen (int index, int n_slices, int instance_number,
                                    gint64 generation);

/* Write mask (on vol's grid) into dir, creating it: every PNG and then the manifest, each
 * atomically; parameters (may be NULL) is copied into the manifest as "parameters". */
bool mm_label_stack_write (const char *dir, const MmMask *mask, const MmVolume *vol,
                           JsonObject *parameters, int n_threads, GError **error);

/* Fill out (columns x rows) with slice k as 0/255 and return its count of 255s. Called from
 * several threads at once. */
typedef uint64_t (*MmLabelSliceFunc) (int k, uint8_t *out, gpointer user_data);

/* The same, taking the slices from func: masks that are not stored as an MmMask. */
bool mm_label_stack_write_func (const char *dir, const MmVolume *vol, MmLabelSliceFunc func,
                                gpointer user_data, JsonObject *parameters, int n_threads,
                                GError **error);

/* Write mask as the next generation of the stack in dir, keeping its manifest's
 * "parameters": slices with changed[k] false are hard links to the current files when the
 * current manifest lists vol's slices in order (else, or where links fail, written anew).
 * Every slice not changed must equal the stack's. What the autosave fold uses. */
bool mm_label_stack_update (const char *dir, const MmMask *mask, const MmVolume *vol,
                            const bool *changed, int n_threads, GError **error);

/* Read a stack back. With vol, slices are matched to the volume by SOP Instance UID (never by
 * file order) and the sizes must agree; without it, the manifest's order and size are used.
 * Any missing, misnamed, mis-sized or non-binary PNG is an error naming the file. */
MmMask *mm_label_stack_read (const char *dir, const MmVolume *vol, GError **error);

/* The manifest's "spacing_mm" and, when uids is not NULL, a new array of its slices' SOP
 * Instance UIDs by index (NULL entries where a slice has none): what comparing two stacks
 * needs besides the masks. Call after mm_label_stack_read has accepted the stack. */
bool mm_label_stack_read_geometry (const char *dir, double spacing_mm[3], GPtrArray **uids,
                                   GError **error);

G_END_DECLS
