/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Allocation of large voxel buffers (volumes, masks). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* size bytes, 2 MiB aligned and advised for transparent huge pages, so that touching a
 * 100 MB volume costs a few hundred page faults instead of tens of thousands. NULL when out
 * of memory. zero: fill with zeros. Free with mm_free_large(). */
void *mm_alloc_large (size_t size, bool zero);
void mm_free_large (void *p);
