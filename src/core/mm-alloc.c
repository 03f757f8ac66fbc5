/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Large buffers on huge pages where the kernel allows it (THP in "madvise" mode). */
#include "mm-alloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE (2u << 20)

void *
mm_alloc_large (size_t size, bool zero)
{
  void *p = NULL;
  if (size == 0)
    size = 1;
  if (size >= HUGE_PAGE)
    {
      size_t rounded = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
      if (posix_memalign (&p, HUGE_PAGE, rounded) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
      madvise (p, rounded, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
    }
  else if ((p = malloc (size)) == NULL)
    return NULL;
  if (zero)
    memset (p, 0, size);
  return p;
}

void
mm_free_large (void *p)
{
  free (p);
}
