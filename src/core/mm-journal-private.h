/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the autosave journal's two files share: the file format, the journal's state, and the
 * format's side (mm-journal-format.c: header, records, replay) that the live journal
 * (mm-journal.c: folder lock, open and recover, append, fold) calls. */
#pragma once

#include "mm-journal.h"

#include <stdint.h>

G_BEGIN_DECLS

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

/* The header of a new journal for vol. */
GByteArray *mm_journal_header_new (const MmVolume *vol);

/* Check the header of a journal against vol; its length goes to *header_len. Another
 * series' journal is refused, never overwritten: it holds someone's unsaved work. */
bool mm_journal_check_header (MmJournal *j, const uint8_t *d, size_t len, size_t *header_len,
                              GError **error);

/* Apply the complete groups of the journal d[0..len) (header already checked, header_len
 * long) to work; *good_end is where the last complete group ends (see mm-journal-format.c). */
bool mm_journal_replay (MmJournal *j, const uint8_t *d, size_t len, size_t header_len,
                        MmMask *work, size_t *good_end, GError **error);

G_END_DECLS
