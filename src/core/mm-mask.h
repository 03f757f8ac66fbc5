/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmMask: a binary label volume (0 or 1 per voxel) on the grid of an MmVolume. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct
{
  int dims[3];   /* columns, rows, slices: those of the volume it belongs to */
  uint8_t *data; /* 0 or 1, i fastest */
} MmMask;

MmMask *mm_mask_new (const int dims[3]);
/* A mask whose voxels are left undefined, for a caller that writes every one of them. */
MmMask *mm_mask_new_uninitialized (const int dims[3]);
MmMask *mm_mask_copy (const MmMask *mask);
void mm_mask_free (MmMask *mask);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmMask, mm_mask_free)

static inline size_t
mm_mask_n_voxels (const MmMask *m)
{
  return (size_t) m->dims[0] * (size_t) m->dims[1] * (size_t) m->dims[2];
}

static inline uint8_t *
mm_mask_slice (const MmMask *m, int k)
{
  return m->data + (size_t) k * m->dims[0] * m->dims[1];
}

/* True when slice k holds no nonzero voxel (a word-wide scan, fast on empty slices). */
bool mm_mask_slice_is_empty (const MmMask *mask, int k);
uint64_t mm_mask_count (const MmMask *mask);
uint64_t mm_mask_count_slice (const MmMask *mask, int k);
bool mm_mask_equal (const MmMask *a, const MmMask *b);

G_END_DECLS
