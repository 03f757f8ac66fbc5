/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The autosave journal's file format: its header, its checksummed records, and the replay of
 * a journal's bytes after a crash, which applies whole groups only and resumes after damage.
 * The layout is described in mm-journal-private.h. */
#include "mm-journal-private.h"

#include <gio/gio.h>
#include <string.h>
#include <zlib.h>

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

GByteArray *
mm_journal_header_new (const MmVolume *vol)
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

bool
mm_journal_check_header (MmJournal *j, const uint8_t *d, size_t len, size_t *header_len,
                         GError **error)
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
bool
mm_journal_replay (MmJournal *j, const uint8_t *d, size_t len, size_t header_len, MmMask *work,
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
