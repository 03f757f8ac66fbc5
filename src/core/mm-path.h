/* SPDX-License-Identifier: GPL-3.0-or-later */
/* File names from values we do not control (DICOM UIDs, descriptions): reduced to one safe
 * path component before they come near a path. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Longest name mm_safe_name returns, well under NAME_MAX (255) on every file system. */
#define MM_SAFE_NAME_MAX 100

/* One path component made from value[0..len) (len -1: up to its NUL), which may hold
 * anything, NULs included. Letters, digits, '-', '_' and '.' are kept, every other byte
 * becomes '_', a leading '.' too (no "..", no hidden files). A value that was not kept as it
 * was, or is longer than MM_SAFE_NAME_MAX, becomes a readable prefix plus '-' and 16 hex
 * digits of its SHA-256, so different values stay different names. Empty or NULL: "unknown".
 * A UID (digits and dots, at most 64) comes back unchanged. g_free the result. */
char *mm_safe_name (const char *value, gssize len);

/* The project folder of a series read from source (a folder or a file in it):
 * "<series folder>.metalmark" beside the series, or, when the series' parent is not writable
 * (no write permission or no write bits: a CD copy, shared data),
 * $XDG_DATA_HOME/metalmark/projects/<mm_safe_name (series_uid)>. g_free the result. */
char *mm_project_dir_for (const char *source, const char *series_uid);

G_END_DECLS
