/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Atomic file replacement: temp file in the same directory, write, fsync, rename. */
#include "mm-atomic.h"

#include "mm-error.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool
mm_atomic_check_target (const char *path, GError **error)
{
  struct stat st;
  if (lstat (path, &st) != 0)
    {
      if (errno == ENOENT)
        return true;
      return mm_error_errno (error, errno, path, "check the output file");
    }
  const char *what = S_ISLNK (st.st_mode)    ? "a symbolic link"
                     : S_ISDIR (st.st_mode)  ? "a folder"
                     : S_ISREG (st.st_mode)  ? NULL
                     : S_ISFIFO (st.st_mode) ? "a named pipe"
                     : S_ISSOCK (st.st_mode) ? "a socket"
                                             : "a device";
  if (what == NULL)
    return true;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
               "%s: is %s, not a regular file; it was left as it is: remove it or choose "
               "another output", path, what);
  return false;
}

/* MM_TEST_KILL_AT_RENAME=N: the process _exits (status 137, as after SIGKILL) just before
 * the Nth commit step (rename, link or removal) of this process, to test what a crash at
 * each step leaves behind. Unset or 0: never. */
void
mm_atomic_test_step (void)
{
  static gint count = 0;
  const char *env = g_getenv ("MM_TEST_KILL_AT_RENAME");
  if (env == NULL)
    return;
  gint64 kill_at = g_ascii_strtoll (env, NULL, 10);
  if (kill_at > 0 && g_atomic_int_add (&count, 1) + 1 == kill_at)
    _exit (137);
}

/* How write_temp leaves the data: in the page cache only, synced (fsync), or on its way to
 * the disk (writeback started, not waited for: mm_atomic_sync_file waits later). */
typedef enum
{
  SYNC_NONE,
  SYNC_WAIT,
  SYNC_START,
} SyncMode;

static bool
write_temp (const char *path, const void *data, size_t len, SyncMode sync, char **tmp_out,
            GError **error)
{
  /* Checked before writing (a clear error without the work) and again before the rename. */
  if (!mm_atomic_check_target (path, error))
    return false;
  g_autofree char *tmp = g_strdup_printf ("%s.tmp-XXXXXX", path);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    return mm_error_errno (error, errno, path, "create a temporary file");

  const char *p = data;
  size_t left = len;
  while (left > 0)
    {
      ssize_t n = write (fd, p, left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int err = errno;
          close (fd);
          g_unlink (tmp);
          return mm_error_errno (error, err, path, "write");
        }
      p += n;
      left -= n;
    }
  /* Writeback of this file starts now, beside the writes of the others; errors of it are
   * reported by the fsync that waits for it (mm_atomic_sync_file), so none is lost here. */
  if (sync == SYNC_START)
    sync_file_range (fd, 0, 0, SYNC_FILE_RANGE_WRITE);
  if (sync == SYNC_WAIT && fsync (fd) != 0)
    {
      int err = errno;
      close (fd);
      g_unlink (tmp);
      return mm_error_errno (error, err, path, "sync to disk");
    }
  if (close (fd) != 0)
    {
      int err = errno;
      g_unlink (tmp);
      return mm_error_errno (error, err, path, "close");
    }
  *tmp_out = g_steal_pointer (&tmp);
  return true;
}

bool
mm_atomic_prepare (const char *path, const void *data, size_t len, char **tmp_out,
                   GError **error)
{
  return write_temp (path, data, len, SYNC_WAIT, tmp_out, error);
}

bool
mm_atomic_prepare_unsynced (const char *path, const void *data, size_t len, char **tmp_out,
                            GError **error)
{
  return write_temp (path, data, len, SYNC_START, tmp_out, error);
}

bool
mm_atomic_sync_file (const char *tmp, const char *path, GError **error)
{
  int fd = open (tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return mm_error_errno (error, errno, path, "reopen the temporary file to sync");
  if (fsync (fd) != 0)
    {
      int err = errno;
      close (fd);
      return mm_error_errno (error, err, path, "sync to disk");
    }
  close (fd);
  return true;
}

bool
mm_atomic_commit (const char *tmp, const char *path, GError **error)
{
  /* rename() would replace a symbolic link or a device node by our file, and a name that is
   * not a regular file is not one we wrote: never replace it. */
  if (!mm_atomic_check_target (path, error))
    {
      g_unlink (tmp);
      return false;
    }
  mm_atomic_test_step ();
  if (rename (tmp, path) != 0)
    {
      int err = errno;
      g_unlink (tmp);
      return mm_error_errno (error, err, path, "rename the temporary file over");
    }
  return true;
}

void
mm_atomic_remove_stale (const char *dir, const char *prefix, const char *suffix)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return;
  size_t np = strlen (prefix), ns = strlen (suffix);
  const char *name;
  while ((name = g_dir_read_name (d)))
    {
      /* prefix, 6 characters of g_mkstemp, suffix: nothing else is taken for ours. */
      size_t n = strlen (name);
      if (n != np + 6 + ns || strncmp (name, prefix, np) != 0
          || strcmp (name + np + 6, suffix) != 0)
        continue;
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf st;
      if (g_lstat (path, &st) == 0 && S_ISREG (st.st_mode))
        g_unlink (path);
    }
  g_dir_close (d);
}

bool
mm_atomic_write (const char *path, const void *data, size_t len, bool durable, GError **error)
{
  g_autofree char *tmp = NULL;
  /* Temporaries of this file left by a killed writer (batches clean their own). */
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *prefix = g_strconcat (base, ".tmp-", NULL);
  mm_atomic_remove_stale (dir, prefix, "");
  return write_temp (path, data, len, durable ? SYNC_WAIT : SYNC_NONE, &tmp, error)
         && mm_atomic_commit (tmp, path, error);
}

bool
mm_fsync_dir (const char *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return mm_error_errno (error, errno, dir, "open directory");
  if (fsync (fd) != 0)
    {
      int err = errno;
      close (fd);
      return mm_error_errno (error, err, dir, "sync directory");
    }
  close (fd);
  return true;
}

bool
mm_ensure_dir (const char *dir, GError **error)
{
  if (g_mkdir_with_parents (dir, 0755) != 0)
    return mm_error_errno (error, errno, dir, "create directory");
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return mm_error_errno (error, ENOTDIR, dir, "use as a directory");
  return true;
}
