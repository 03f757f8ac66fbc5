/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Errors of the file system as GErrors: one wording for every writer and reader of the core. */
#include "mm-error.h"

#include <gio/gio.h>

bool
mm_error_errno (GError **error, int err, const char *path, const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: cannot %s: %s", path, what,
               g_strerror (err));
  return false;
}
