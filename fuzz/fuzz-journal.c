/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Opening a project folder whose edit journal (journal.bin) was left behind: header check and
 * recovery of its records into the phantom's mask. The header's and every record's CRC-32
 * are repaired first, so that mutations reach the parsing behind the checksums (a damaged
 * checksum only ends recovery early, a path the seeds' truncations cover). */
#include "fuzz-common.h"
#include "mm-journal.h"

#include <string.h>
#include <zlib.h>

static uint32_t
le32 (const uint8_t *p)
{
  return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void
put_le32 (uint8_t *p, uint32_t v)
{
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

/* The layout of mm-journal-private.h: header "MMJRNL\r\n", version, dims[3], n, UID, CRC; records
 * magic, length, body, CRC of length and body. */
static void
fix_crcs (uint8_t *d, size_t len)
{
  if (len < 32 || memcmp (d, "MMJRNL\r\n", 8) != 0)
    return;
  uint32_t n = le32 (d + 24);
  if (n > len - 32)
    return;
  put_le32 (d + 28 + n, (uint32_t) crc32 (0, d, 28 + n));
  size_t pos = 32 + (size_t) n;
  while (len - pos >= 12 && le32 (d + pos) == 0x524a4d4du)
    {
      uint32_t body = le32 (d + pos + 4);
      if (body > len - pos - 12)
        break;
      put_le32 (d + pos + 8 + body, (uint32_t) crc32 (0, d + pos + 4, 4 + body));
      pos += 12 + (size_t) body;
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  const MmPhantom *ph = mm_fuzz_phantom ();
  static char *dir;
  if (dir == NULL)
    dir = g_build_filename (mm_fuzz_dir (), "project", NULL);
  g_mkdir_with_parents (dir, 0700);
  g_autofree uint8_t *copy = g_memdup2 (data, size);
  fix_crcs (copy, size);
  g_autofree char *path = mm_fuzz_write (dir, MM_JOURNAL_FILE, copy, size);
  g_autoptr (MmMask) mask = mm_mask_new (ph->volume->dims);
  bool recovered = false;
  g_autoptr (GError) err = NULL;
  MmJournal *j = mm_journal_open (dir, ph->volume, mask, &recovered, &err);
  if ((j == NULL) == (err == NULL))
    __builtin_trap ();
  if (j && (mm_journal_get_n_recovered (j) > 0) != recovered)
    __builtin_trap ();
  mm_journal_close (j);
  return 0;
}
