/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Autosave journal: checksummed slice records appended with fdatasync, folded into the stack. */
#include "mm-journal.h"

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

/* File layout, all integers little endian:
 *   header:  "MMJRNL\r\n", u32 version, u32 dims[3], u32 n, n bytes series UID, u32 CRC-32
 *   records: u32 RECORD_MAGIC, u32 body length, body, u32 CRC-32 of length and body
 *   body:    u32 group, u32 flags, u32 slice index, u32 slice bytes, u32 n, n bytes SOP
 *            Instance UID, zlib stream of the slice (one byte per voxel, 0 or 1)
 * The records of one append share a group number (0, 1, 2 ... from the file's creation), the
 * first carries FLAG_START_OF_GROUP and the last FLAG_END_OF_GROUP. Recovery applies a group
 * only once its last record checks out. A record that does not check out is a torn write when
 * nothing valid follows it (cut off), else damage: recovery resumes at the next record that
 * checks out, skips every group that lost a record and counts them (see replay). A group is
 * never half applied. */
#define HEADER_MAGIC "MMJRNL\r\n"
#define JOURNAL_VERSION 1
#define RECORD_MAGIC 0x524a4d4du /* "MMJR" */
#define FLAG_END_OF_GROUP 1u
/* Set on the first record of a group since the damage resync: after damage, a group is
 * applied only from a record known to start it. Journals without it lose, after damage,
 * also the group that follows, never apply part of one. */
#define FLAG_START_OF_GROUP 2u
#define BODY_FIXED 20
#define MAX_UID 1024 /* DICOM UIDs are at most 64 characters; anything longer is garbage */

struct _MmJournal
{
  char *dir, *path;
  const MmVolume *vol; /* borrowed */
  MmMask *mask;        /* borrowed */
  size_t slice_len;
  int lock_fd;         /* the folder, flock()ed while we own it */
  int fd;              /* journal.bin, or -1 when there is none */
  guint64 size;        /* end of the last complete group */
  guint32 group;       /* number of the next group */
  GError *broken;      /* why appends fail until the next fold, or NULL */
  bool *dirty;         /* per slice: appended since the stack was written */
  int n_dirty;
  int n_recovered;
  int n_lost;          /* record groups skipped as damaged by the recovery */
  guint64 bytes_lost;  /* damaged bytes skipped by the recovery */
  GHashTable *by_uid;  /* SOP Instance UID -> slice index + 1 */
  GHashTable *dups;    /* SOP Instance UIDs the series holds more than once */
};

static inline void
put_u32 (uint8_t *p, guint32 v)
{
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

static inline guint32
get_u32 (const uint8_t *p)
{
  return p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static const char *
series_uid (const MmVolume *vol)
{
  return vol->series_uid ? vol->series_uid : "";
}

/* The Series UID as the header stores it: itself, or when longer than MAX_UID (a broken or
 * hostile file) "sha256:" and its hash, so that such a series still recognises its own
 * journal after a crash. g_free the result. */
static char *
header_uid (const MmVolume *vol)
{
  const char *uid = series_uid (vol);
  if (strlen (uid) <= MAX_UID)
    return g_strdup (uid);
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, uid, -1);
  return g_strconcat ("sha256:", sum, NULL);
}

static GByteArray *
header_new (const MmVolume *vol)
{
  g_autofree char *uid = header_uid (vol);
  size_t n = strlen (uid);
  GByteArray *b = g_byte_array_sized_new (8 + 20 + n + 4);
  uint8_t u[4];
  g_byte_array_append (b, (const guint8 *) HEADER_MAGIC, 8);
  put_u32 (u, JOURNAL_VERSION);
  g_byte_array_append (b, u, 4);
  for (int a = 0; a < 3; a++)
    {
      put_u32 (u, (guint32) vol->dims[a]);
      g_byte_array_append (b, u, 4);
    }
  put_u32 (u, (guint32) n);
  g_byte_array_append (b, u, 4);
  g_byte_array_append (b, (const guint8 *) uid, n);
  put_u32 (u, (guint32) crc32 (0, b->data, b->len));
  g_byte_array_append (b, u, 4);
  return b;
}

/* Check the header of a journal against vol; its length goes to *header_len. Another
 * series' journal is refused, never overwritten: it holds someone's unsaved work. */
static bool
check_header (MmJournal *j, const uint8_t *d, size_t len, size_t *header_len, GError **error)
{
  if (len < 32 || memcmp (d, HEADER_MAGIC, 8) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: not a Metalmark edit journal; move it away to open this folder",
                   j->path);
      return false;
    }
  guint32 n = get_u32 (d + 24);
  if (n > MAX_UID || len < 32 + (size_t) n
      || get_u32 (d + 28 + n) != (guint32) crc32 (0, d, 28 + n))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: the journal header is damaged; move the file away to open this folder",
                   j->path);
      return false;
    }
  if (get_u32 (d + 8) != JOURNAL_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: journal version %u, this Metalmark reads version %d; it was left as it "
                   "is", j->path, get_u32 (d + 8), JOURNAL_VERSION);
      return false;
    }
  g_autofree char *uid = g_strndup ((const char *) d + 28, n);
  g_autofree char *ours = header_uid (j->vol);
  int dims[3] = { (int) get_u32 (d + 12), (int) get_u32 (d + 16), (int) get_u32 (d + 20) };
  if (strcmp (uid, ours) != 0 || memcmp (dims, j->vol->dims, sizeof dims) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: holds unsaved edits of another series (UID %s, %d x %d x %d), not of "
                   "this one (UID %s, %d x %d x %d); it was left as it is: open that series, "
                   "or move the file away to open this folder",
                   j->path, *uid ? uid : "(none)", dims[0], dims[1], dims[2],
                   *ours ? ours : "(none)", j->vol->dims[0],
                   j->vol->dims[1], j->vol->dims[2]);
      return false;
    }
  *header_len = 32 + n;
  return true;
}

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

static int
slice_of_uid (MmJournal *j, const char *uid, guint32 k)
{
  if (*uid == '\0')
    return k < (guint32) j->vol->dims[2] ? (int) k : -1;
  return GPOINTER_TO_INT (g_hash_table_lookup (j->by_uid, uid)) - 1;
}

/* The length of a record at d[pos..len) that checks out (magic, length, CRC), or 0. */
static size_t
record_at (const uint8_t *d, size_t len, size_t pos, size_t max_body)
{
  if (len - pos < 12)
    return 0;
  const uint8_t *r = d + pos;
  guint32 body_len = get_u32 (r + 4);
  if (get_u32 (r) != RECORD_MAGIC || body_len < BODY_FIXED || body_len > max_body
      || len - pos - 12 < body_len)
    return 0;
  if (get_u32 (r + 8 + body_len) != (guint32) crc32 (0, r + 4, 4 + body_len))
    return 0;
  return 12 + (size_t) body_len;
}

/* The next record after a damaged one: the first offset past pos where a record checks
 * out. The CRC makes a false start in the middle of other bytes a 1 in 2^32 event. */
static size_t
resync (const uint8_t *d, size_t len, size_t pos, size_t max_body)
{
  static const uint8_t magic[4] = { 0x4d, 0x4d, 0x4a, 0x52 }; /* RECORD_MAGIC, LE */
  for (size_t p = pos + 1; p < len && len - p >= 12;)
    {
      const uint8_t *m = memmem (d + p, len - p, magic, 4);
      if (m == NULL)
        return len;
      p = (size_t) (m - d);
      if (record_at (d, len, p, max_body))
        return p;
      p++;
    }
  return len;
}

/* Apply the complete groups of the journal d[0..len) (header already checked, header_len
 * long) to work; *good_end is where the last complete group ends. A record that checks out
 * but does not fit this series is an error. A record that does not check out is either a
 * torn write at the end (nothing valid follows: cut off, as the append it belonged to never
 * returned) or damage in the middle: then the groups it touches are skipped, what follows
 * is applied, and j->n_lost / j->bytes_lost say what could not be kept. */
static bool
replay (MmJournal *j, const uint8_t *d, size_t len, size_t header_len, MmMask *work,
        size_t *good_end, GError **error)
{
  size_t pos = header_len, max_body = BODY_FIXED + MAX_UID + compressBound (j->slice_len);
  int n = j->vol->dims[2];
  guint32 group = 0;
  /* After damage, the group that was under way may have records on both sides of it: all of
   * them are skipped, or it would be half applied. */
  bool tainted = false;
  /* Records hold whole slices, so only the last complete one of each slice matters: the
   * scan finds those (offsets + 1, 0 for none), then they are decoded in parallel. */
  g_autofree size_t *latest = g_new0 (size_t, n);
  g_autoptr (GArray) pending = g_array_new (FALSE, FALSE, sizeof (size_t) * 2);
  *good_end = pos;
  size_t damage_at = 0; /* first damaged byte not yet accounted, + 1 */

  while (pos < len)
    {
      size_t rec_len = record_at (d, len, pos, max_body);
      const uint8_t *b = d + pos + 8;
      guint32 rec_group = rec_len ? get_u32 (b) : 0;
      /* A group number behind the sequence cannot be ours: damage like a bad checksum. */
      if (rec_len && (rec_group < group || (rec_group > group && !tainted && !damage_at)))
        rec_len = 0;
      if (rec_len == 0)
        {
          size_t next = resync (d, len, pos, max_body);
          if (next >= len)
            break; /* nothing valid follows: a torn tail */
          if (!damage_at)
            damage_at = pos + 1;
          tainted = true;
          g_array_set_size (pending, 0);
          pos = next;
          continue;
        }
      if (damage_at)
        {
          /* Valid records again after damage: what lay between is lost. */
          j->bytes_lost += pos - (damage_at - 1);
          damage_at = 0;
        }
      guint32 flags = get_u32 (b + 4), k = get_u32 (b + 8);
      if (tainted)
        {
          /* A later group: the groups from the damaged one up to it are lost. */
          if (rec_group > group)
            {
              j->n_lost += (int) (rec_group - group);
              group = rec_group;
            }
          /* Only a record that starts its group ends the damage; any other one is the rest
           * of a group whose beginning was lost. */
          if (flags & FLAG_START_OF_GROUP)
            tainted = false;
        }
      guint32 raw = get_u32 (b + 12), uid_len = get_u32 (b + 16);
      guint32 body_len = (guint32) rec_len - 12;
      if (raw != j->slice_len || uid_len > body_len - BODY_FIXED)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: record at byte %zu is for slices of another size; the file was "
                       "left as it is", j->path, pos);
          return false;
        }
      g_autofree char *uid = g_strndup ((const char *) b + BODY_FIXED, uid_len);
      int slice = slice_of_uid (j, uid, k);
      if (slice < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: record at byte %zu is for SOP Instance UID %s, which is not a slice "
                       "of this series; the file was left as it is", j->path, pos,
                       *uid ? uid : "(none)");
          return false;
        }
      size_t rec[2] = { (size_t) slice, pos };
      if (!tainted)
        g_array_append_val (pending, rec);
      pos += rec_len;

      if (flags & FLAG_END_OF_GROUP)
        {
          if (tainted)
            {
              /* The rest of the damaged group: skipped whole. */
              j->n_lost++;
              tainted = false;
            }
          else
            {
              for (guint t = 0; t < pending->len; t++)
                {
                  const size_t *p = &g_array_index (pending, size_t, 2 * t);
                  latest[p[0]] = p[1] + 1;
                }
              j->n_recovered++;
            }
          g_array_set_size (pending, 0);
          group++;
          *good_end = pos;
        }
    }
  j->group = group;

  GError *first_error = NULL;
#pragma omp parallel for schedule (dynamic, 1)
  for (int s = 0; s < n; s++)
    {
      if (latest[s] == 0)
        continue;
      size_t at = latest[s] - 1;
      const uint8_t *b = d + at + 8;
      guint32 body_len = get_u32 (d + at + 4), uid_len = get_u32 (b + 16);
      uint8_t *dst = mm_mask_slice (work, s);
      uLongf out = j->slice_len;
      if (uncompress (dst, &out, b + BODY_FIXED + uid_len, body_len - BODY_FIXED - uid_len)
              != Z_OK
          || out != j->slice_len)
        {
#pragma omp critical (journal_replay_error)
          if (first_error == NULL)
            g_set_error (&first_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "%s: record at byte %zu does not decompress although its checksum "
                         "is right; the file was left as it is", j->path, at);
          continue;
        }
      for (size_t x = 0; x < j->slice_len; x++)
        dst[x] = dst[x] != 0;
    }
  if (first_error)
    {
      g_propagate_error (error, first_error);
      return false;
    }
  for (int s = 0; s < n; s++)
    if (latest[s] && !j->dirty[s])
      {
        j->dirty[s] = true;
        j->n_dirty++;
      }
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
  if (!check_header (j, d, len, &header_len, error))
    return false;

  if (*work == NULL)
    *work = mm_mask_copy (j->mask);
  if (!replay (j, d, len, header_len, *work, &good_end, error))
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
        if (n > 0 && !check_header (j, head, (size_t) n, &header_len, error))
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
  g_autoptr (GByteArray) hdr = header_new (j->vol);
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
