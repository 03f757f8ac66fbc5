/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Errors of the file system as GErrors a user can act on: the file, what could not be done and
 * why. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* Sets error to "PATH: cannot WHAT: STRERROR (ERR)" in G_IO_ERROR with the code matching err
 * (g_io_error_from_errno), e.g. "/data/out.nii: cannot create a temporary file: Permission
 * denied". Returns false, so that a failing function can end with return mm_error_errno (...). */
bool mm_error_errno (GError **error, int err, const char *path, const char *what);

G_END_DECLS
