/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmMask: allocation and counting. */
#include "mm-mask.h"

#include "mm-alloc.h"

#include <string.h>

static MmMask *
mask_alloc (const int dims[3], bool zero)
{
  g_return_val_if_fail (dims[0] > 0 && dims[1] > 0 && dims[2] > 0, NULL);
  MmMask *m = g_new0 (MmMask, 1);
  memcpy (m->dims, dims, sizeof m->dims);
  m->data = mm_alloc_large (mm_mask_n_voxels (m), zero);
  if (m->data == NULL)
    {
      g_free (m);
      return NULL;
    }
  return m;
}

MmMask *
mm_mask_new (const int dims[3])
{
  return mask_alloc (dims, true);
}

MmMask *
mm_mask_new_uninitialized (const int dims[3])
{
  return mask_alloc (dims, false);
}

MmMask *
mm_mask_copy (const MmMask *mask)
{
  MmMask *m = mm_mask_new_uninitialized (mask->dims);
  if (m)
    memcpy (m->data, mask->data, mm_mask_n_voxels (m));
  return m;
}

void
mm_mask_free (MmMask *mask)
{
  if (mask == NULL)
    return;
  mm_free_large (mask->data);
  g_free (mask);
}

bool
mm_mask_slice_is_empty (const MmMask *mask, int k)
{
  const uint8_t *p = mm_mask_slice (mask, k);
  size_t n = (size_t) mask->dims[0] * mask->dims[1], x = 0;
  uint64_t any = 0;
  for (; x + 8 <= n; x += 8)
    {
      uint64_t word;
      memcpy (&word, p + x, 8);
      any |= word;
    }
  for (; x < n; x++)
    any |= p[x];
  return any == 0;
}

uint64_t
mm_mask_count_slice (const MmMask *mask, int k)
{
  const uint8_t *p = mm_mask_slice (mask, k);
  size_t n = (size_t) mask->dims[0] * mask->dims[1];
  uint64_t c = 0;
  for (size_t x = 0; x < n; x++)
    c += p[x] != 0;
  return c;
}

uint64_t
mm_mask_count (const MmMask *mask)
{
  uint64_t c = 0;
#pragma omp parallel for reduction (+ : c) schedule (static)
  for (int k = 0; k < mask->dims[2]; k++)
    c += mm_mask_count_slice (mask, k);
  return c;
}

bool
mm_mask_equal (const MmMask *a, const MmMask *b)
{
  return memcmp (a->dims, b->dims, sizeof a->dims) == 0
         && memcmp (a->data, b->data, mm_mask_n_voxels (a)) == 0;
}
