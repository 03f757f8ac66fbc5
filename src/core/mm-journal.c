/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Autosave journal: checksummed slice records appended with fdatasync, folded into the stack.
 * Here the live journal: the folder's lock, open and recover, append, fold; the file format
 * and the replay are in mm-journal-format.c. */
#include "mm-journal-private.h"

#include "mm-atomic.h"
#include "mm-error.h"
#include "mm-json.h"
#include "mm-label-stack.h"
#include "mm-limits.h"
#include "mm-png.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static bool
read_all (int fd, const char *path, uint8_t **data, size_t *len, GError **error)
{
  struct stat st;
  if (fstat (fd, &st) != 0)
    return mm_error_errno (error, errno, path, "stat");
  /* Checked before anything is allocated: a sparse file can claim any size for free. */
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: not a regular file; move it away to open this folder", path);
      return false;
    }
  if ((guint64) st.st_size > MM_LIMIT_JOURNAL_BYTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: %" G_GUINT64_FORMAT " bytes, more than the %llu MiB an edit journal "
                   "may have (it is folded into the label stack seconds after each edit); it "
                   "was left as it is: move it away to open this folder",
                   path, (guint64) st.st_size, MM_LIMIT_JOURNAL_BYTES >> 20);
      return false;
    }
  size_t n = (size_t) st.st_size, got = 0;
  uint8_t *d = g_try_malloc (MAX (n, 1));
  if (d == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s: not enough memory to read its %zu bytes; it was left as it is", path,
                   n);
      return false;
    }
  while (got < n)
    {
      ssize_t r = pread (fd, d + got, n - got, (off_t) got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int err = errno;
          g_free (d);
          return mm_error_errno (error, err, path, "read");
        }
      if (r == 0)
        break;
      got += (size_t) r;
    }
  *data = d;
  *len = got;
  return true;
}

static void
journal_close_fds (MmJournal *j)
{
  if (j->fd >= 0)
    close (j->fd);
  j->fd = -1;
  if (j->lock_fd >= 0)
    close (j->lock_fd); /* releases the flock */
  j->lock_fd = -1;
}

void
mm_journal_close (MmJournal *j)
{
  if (j == NULL)
    return;
  journal_close_fds (j);
  g_clear_error (&j->broken);
  g_clear_pointer (&j->by_uid, g_hash_table_unref);
  g_clear_pointer (&j->dups, g_hash_table_unref);
  g_free (j->dirty);
  g_free (j->dir);
  g_free (j->path);
  g_free (j);
}

/* Open journal.bin with flags, never through a symbolic link and only when it is a regular
 * file: a link planted there would have its target read, appended to or truncated. -2 when
 * there is none, -1 with error set when it cannot or must not be opened. */
static int
open_journal (MmJournal *j, int flags, GError **error)
{
  int fd = open (j->path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT)
    return -2;
  if (fd < 0 && errno == ELOOP)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s: is a symbolic link, not an edit journal; it was left as it is: remove "
                   "it to open this folder", j->path);
      return -1;
    }
  if (fd < 0)
    return mm_error_errno (error, errno, j->path, "open the edit journal"), -1;
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s: is not a regular file, not an edit journal; it was left as it is: "
                   "remove it to open this folder", j->path);
      return -1;
    }
  /* O_NONBLOCK only kept a FIFO from blocking the open; regular files ignore it, but clear
   * it anyway. */
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

/* Open the journal left in the folder, if any, check it belongs to vol and apply it to work
 * (a copy of the stack or of the caller's mask, made on demand in *work). */
static bool
recover (MmJournal *j, MmMask **work, GError **error)
{
  int fd = open_journal (j, O_RDWR, error);
  if (fd == -2)
    return true;
  if (fd < 0)
    return false;
  j->fd = fd;

  g_autofree uint8_t *d = NULL;
  size_t len = 0, header_len = 0, good_end = 0;
  if (!read_all (fd, j->path, &d, &len, error))
    return false;
  if (len == 0)
    {
      /* Not one of ours (ours are created whole by a rename); nothing in it to keep. */
      close (j->fd);
      j->fd = -1;
      return true;
    }
  if (!mm_journal_check_header (j, d, len, &header_len, error))
    return false;

  if (*work == NULL)
    *work = mm_mask_copy (j->mask);
  if (!mm_journal_replay (j, d, len, header_len, *work, &good_end, error))
    return false;
  j->size = good_end;
  if (good_end < len)
    {
      /* Cut the torn tail, or the next group would be written after bytes recovery stops
       * at. Should that fail, appends fail too until a fold replaces the journal. */
      if (ftruncate (fd, (off_t) good_end) != 0 || fdatasync (fd) != 0)
        mm_error_errno (&j->broken, errno, j->path, "cut off the torn end of the edit journal");
    }
  return true;
}

MmJournal *
mm_journal_open (const char *dir, const MmVolume *vol, MmMask *mask, bool *recovered,
                 GError **error)
{
  g_return_val_if_fail (dir != NULL && vol != NULL && mask != NULL, NULL);
  g_return_val_if_fail (memcmp (mask->dims, vol->dims, sizeof mask->dims) == 0, NULL);
  if (recovered)
    *recovered = false;

  /* A project folder beside a series comes with the series (a CD, an archive): as a link it
   * would send the stack, the journal and the removal of old stack files anywhere. */
  GStatBuf st;
  if (g_lstat (dir, &st) == 0 && S_ISLNK (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s: is a symbolic link, not a folder; labels are saved only in a real "
                   "folder: remove the link", dir);
      return NULL;
    }
  if (!mm_ensure_dir (dir, error))
    return NULL;
  if (access (dir, W_OK) != 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s: cannot save labels here (%s); choose another folder", dir,
                   g_strerror (err));
      return NULL;
    }

  g_autoptr (MmJournal) j = g_new0 (MmJournal, 1);
  j->fd = -1;
  j->dir = g_strdup (dir);
  j->path = g_build_filename (dir, MM_JOURNAL_FILE, NULL);
  j->vol = vol;
  j->mask = mask;
  j->slice_len = (size_t) vol->dims[0] * vol->dims[1];
  j->dirty = g_new0 (bool, vol->dims[2]);
  j->by_uid = g_hash_table_new (g_str_hash, g_str_equal);
  j->dups = g_hash_table_new (g_str_hash, g_str_equal);
  /* Frames of one multi-frame file share its UID: they go by slice index instead. */
  for (int k = 0; k < vol->dims[2]; k++)
    if (vol->slices[k].sop_instance_uid && vol->slices[k].frame_number == 0)
      {
        if (g_hash_table_contains (j->by_uid, vol->slices[k].sop_instance_uid))
          g_hash_table_add (j->dups, vol->slices[k].sop_instance_uid);
        g_hash_table_insert (j->by_uid, vol->slices[k].sop_instance_uid,
                             GINT_TO_POINTER (k + 1));
      }

  /* Two windows appending to one journal would interleave their groups. */
  j->lock_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (j->lock_fd < 0)
    return mm_error_errno (error, errno, dir, "open the folder"), NULL;
  if (flock (j->lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      int err = errno;
      if (err == EWOULDBLOCK)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                     "%s: the labels in this folder are open for editing in another window or "
                     "program", dir);
      else
        mm_error_errno (error, err, dir, "lock the folder");
      return NULL;
    }

  /* The journal's header is checked before the stack is read: a foreign journal is refused
   * before anything else is read. */
  g_autoptr (MmMask) work = NULL;
  g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
  {
    int fd = open_journal (j, O_RDONLY, error);
    if (fd == -1)
      return NULL;
    if (fd >= 0)
      {
        uint8_t head[32 + MAX_UID];
        ssize_t n = pread (fd, head, sizeof head, 0);
        close (fd);
        size_t header_len;
        if (n > 0 && !mm_journal_check_header (j, head, (size_t) n, &header_len, error))
          return NULL;
      }
  }
  if (g_file_test (manifest, G_FILE_TEST_EXISTS))
    {
      work = mm_label_stack_read (dir, vol, error);
      if (work == NULL)
        return NULL;
    }
  if (!recover (j, &work, error))
    return NULL;

  if (work)
    memcpy (mask->data, work->data, mm_mask_n_voxels (mask));
  if (recovered)
    *recovered = j->n_recovered > 0;
  return g_steal_pointer (&j);
}

/* A zlib stream of slice k, from a deflate stream set up by the caller (one per thread). */
static uint8_t *
compress_slice (z_stream *zs, const uint8_t *src, size_t len, size_t *out_len)
{
  size_t cap = deflateBound (zs, len);
  uint8_t *out = g_malloc (cap);
  deflateReset (zs);
  zs->next_in = (Bytef *) src;
  zs->avail_in = (uInt) len;
  zs->next_out = out;
  zs->avail_out = (uInt) cap;
  int rc = deflate (zs, Z_FINISH);
  g_assert (rc == Z_STREAM_END); /* the output buffer is deflateBound long */
  *out_len = cap - zs->avail_out;
  return out;
}

static bool
write_all_at (int fd, const uint8_t *p, size_t len, guint64 offset)
{
  while (len > 0)
    {
      ssize_t n = pwrite (fd, p, len, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = ENOSPC;
          return false;
        }
      p += n;
      len -= (size_t) n;
      offset += (guint64) n;
    }
  return true;
}

static bool
create_journal (MmJournal *j, GError **error)
{
  g_autoptr (GByteArray) hdr = mm_journal_header_new (j->vol);
  /* Created whole by rename, so a journal on disk always has a complete header. */
  if (!mm_atomic_write (j->path, hdr->data, hdr->len, true, error)
      || !mm_fsync_dir (j->dir, error))
    return false;
  j->fd = open_journal (j, O_RDWR, error);
  if (j->fd == -2)
    mm_error_errno (error, ENOENT, j->path, "open the edit journal");
  if (j->fd < 0)
    {
      j->fd = -1;
      return false;
    }
  j->size = hdr->len;
  j->group = 0;
  return true;
}

/* Bytes of slice k's UID in its record: none when it has none, an impossibly long one or one
 * the series holds twice (it would place the slice on its twin), and recovery then goes by
 * the slice index. */
static size_t
record_uid_len (MmJournal *j, int k)
{
  const char *uid = j->vol->slices[k].sop_instance_uid;
  size_t n = uid && j->vol->slices[k].frame_number == 0 ? strlen (uid) : 0;
  return n <= MAX_UID && !(uid && g_hash_table_contains (j->dups, uid)) ? n : 0;
}

bool
mm_journal_append (MmJournal *j, const int *slices, int n, GError **error)
{
  g_return_val_if_fail (j != NULL && (slices != NULL || n == 0), false);
  for (int t = 0; t < n; t++)
    g_return_val_if_fail (slices[t] >= 0 && slices[t] < j->vol->dims[2], false);
  if (n == 0)
    return true;

  /* Whatever happens below, these slices now differ from the stack, and a fold must write
   * them. */
  for (int t = 0; t < n; t++)
    if (!j->dirty[slices[t]])
      {
        j->dirty[slices[t]] = true;
        j->n_dirty++;
      }
  if (j->broken)
    {
      g_set_error (error, G_IO_ERROR, j->broken->code, "%s (edits are kept in memory and "
                   "will be saved by the next fold)", j->broken->message);
      return false;
    }
  if (j->fd < 0 && !create_journal (j, error))
    return false;

  uint8_t **z = g_new0 (uint8_t *, n);
  size_t *zlen = g_new0 (size_t, n);
#pragma omp parallel if (n > 2)
  {
    z_stream zs = { 0 };
    /* Z_RLE: a label slice is long runs of 0 and 1, which is all this strategy looks for,
     * at a fraction of the cost of string matching. */
    int rc = deflateInit2 (&zs, Z_BEST_SPEED, Z_DEFLATED, 15, 8, Z_RLE);
    g_assert (rc == Z_OK);
#pragma omp for schedule (dynamic, 1)
    for (int t = 0; t < n; t++)
      z[t] = compress_slice (&zs, mm_mask_slice (j->mask, slices[t]), j->slice_len, &zlen[t]);
    deflateEnd (&zs);
  }

  size_t total = 0;
  for (int t = 0; t < n; t++)
    total += 12 + BODY_FIXED + record_uid_len (j, slices[t]) + zlen[t];
  g_autofree uint8_t *buf = g_malloc (total);
  uint8_t *p = buf;
  for (int t = 0; t < n; t++)
    {
      const char *uid = j->vol->slices[slices[t]].sop_instance_uid;
      size_t ulen = record_uid_len (j, slices[t]);
      guint32 body_len = (guint32) (BODY_FIXED + ulen + zlen[t]);
      put_u32 (p, RECORD_MAGIC);
      put_u32 (p + 4, body_len);
      uint8_t *b = p + 8;
      put_u32 (b, j->group);
      put_u32 (b + 4, (t == n - 1 ? FLAG_END_OF_GROUP : 0) | (t == 0 ? FLAG_START_OF_GROUP : 0));
      put_u32 (b + 8, (guint32) slices[t]);
      put_u32 (b + 12, (guint32) j->slice_len);
      put_u32 (b + 16, (guint32) ulen);
      if (ulen)
        memcpy (b + BODY_FIXED, uid, ulen);
      memcpy (b + BODY_FIXED + ulen, z[t], zlen[t]);
      put_u32 (b + body_len, (guint32) crc32 (0, p + 4, 4 + body_len));
      p += 12 + body_len;
      g_free (z[t]);
    }
  g_free (z);
  g_free (zlen);

  /* Written at the end of the last good group rather than O_APPEND: after a failed write
   * the tail is cut back to that offset. */
  if (!write_all_at (j->fd, buf, total, j->size))
    {
      int err = errno;
      if (ftruncate (j->fd, (off_t) j->size) != 0)
        mm_error_errno (&j->broken, errno, j->path, "cut back the edit journal after a failed "
                                                "write");
      return mm_error_errno (error, err, j->path, "append to the edit journal");
    }
  if (fdatasync (j->fd) != 0)
    {
      /* After a failed sync nobody knows what reached the disk: only a fold is safe now. */
      int err = errno;
      mm_error_errno (&j->broken, err, j->path, "sync the edit journal");
      return mm_error_errno (error, err, j->path, "sync the edit journal");
    }
  j->size += total;
  j->group++;
  return true;
}

bool
mm_journal_fold (MmJournal *j, GError **error)
{
  g_return_val_if_fail (j != NULL, false);
  if (!mm_journal_needs_fold (j))
    return true;

  /* A new generation of the stack: the dirty slices written, the others linked (see
   * mm-label-stack.c), so a crash during the fold leaves the old stack or the new one. */
  if (!mm_label_stack_update (j->dir, j->mask, j->vol, j->dirty, 0, error))
    return false;

  /* The stack is durable (files synced, renames synced by the folder fsync): only now may
   * the journal go. A crash in between replays it onto the new stack, to the same result,
   * since records hold whole slices. */
  if (j->fd >= 0)
    {
      close (j->fd);
      j->fd = -1;
    }
  if (g_unlink (j->path) != 0 && errno != ENOENT)
    return mm_error_errno (error, errno, j->path, "remove the edit journal");
  if (!mm_fsync_dir (j->dir, error))
    return false;
  memset (j->dirty, 0, sizeof (bool) * j->vol->dims[2]);
  j->n_dirty = 0;
  j->size = 0;
  j->group = 0;
  g_clear_error (&j->broken);
  return true;
}

bool
mm_journal_needs_fold (MmJournal *j)
{
  g_return_val_if_fail (j != NULL, false);
  return j->n_dirty > 0 || j->fd >= 0 || j->broken != NULL;
}

int
mm_journal_get_n_recovered (MmJournal *j)
{
  g_return_val_if_fail (j != NULL, 0);
  return j->n_recovered;
}

int
mm_journal_get_n_lost (MmJournal *j)
{
  g_return_val_if_fail (j != NULL, 0);
  return j->n_lost;
}

guint64
mm_journal_get_bytes_lost (MmJournal *j)
{
  g_return_val_if_fail (j != NULL, 0);
  return j->bytes_lost;
}
