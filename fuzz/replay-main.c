/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The main of the replay tools (fuzz-replay-*), built in every build without libFuzzer: runs
 * the target's LLVMFuzzerTestOneInput on each file named (a folder: on each file in it), as
 * a libFuzzer binary does with file arguments. A crash is the process dying; exit 0 else. */
#include "fuzz-common.h"

#include <stdio.h>
#include <stdlib.h>

/* As libFuzzer's -malloc_limit_mb (2048 in build-aux/fuzz): one allocation above 2 GB is a
 * crash, so that a file making a reader believe a huge size fails here too, not only in
 * the fuzzing build (allocations that are never touched cost no memory, so a memory limit
 * alone would let them pass). Sanitized builds get the same from ASan's
 * max_allocation_size_mb, which fuzz/test_regressions.py sets; glibc only. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MM_REPLAY_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define MM_REPLAY_ASAN 1
#endif
#if defined(__GLIBC__) && !defined(MM_REPLAY_ASAN)
#include <malloc.h>

#define MALLOC_LIMIT ((size_t) 2048 << 20)
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *p, size_t size);
extern void *__libc_memalign (size_t alignment, size_t size);

static void *
too_large (size_t size)
{
  char msg[128];
  int n = snprintf (msg, sizeof msg, "fuzz-replay: malloc(%zu) exceeds the %zu MB limit\n",
                    size, MALLOC_LIMIT >> 20);
  fwrite (msg, 1, (size_t) n, stderr);
  abort ();
}

void *
malloc (size_t size)
{
  return size > MALLOC_LIMIT ? too_large (size) : __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  if (size && n > MALLOC_LIMIT / size)
    return too_large (n * size);
  return __libc_calloc (n, size);
}

void *
realloc (void *p, size_t size)
{
  return size > MALLOC_LIMIT ? too_large (size) : __libc_realloc (p, size);
}

void *
memalign (size_t alignment, size_t size)
{
  return size > MALLOC_LIMIT ? too_large (size) : __libc_memalign (alignment, size);
}

void *
aligned_alloc (size_t alignment, size_t size)
{
  return memalign (alignment, size);
}

int
posix_memalign (void **out, size_t alignment, size_t size)
{
  void *p = memalign (alignment, size);
  if (p == NULL)
    return 12; /* ENOMEM */
  *out = p;
  return 0;
}
#endif

static int
run_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) err = NULL;
  if (!g_file_get_contents (path, &data, &len, &err))
    {
      fprintf (stderr, "%s\n", err->message);
      return 2;
    }
  fprintf (stderr, "Running: %s\n", path);
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  fprintf (stderr, "Executed %s\n", path);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE|DIR...\n", argv[0]);
      return 2;
    }
  int rc = 0;
  for (int i = 1; i < argc; i++)
    {
      if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          rc |= run_file (argv[i]);
          continue;
        }
      g_autoptr (GDir) d = g_dir_open (argv[i], 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)))
        {
          g_autofree char *path = g_build_filename (argv[i], name, NULL);
          if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
            rc |= run_file (path);
        }
    }
  return rc;
}
