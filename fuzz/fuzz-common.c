/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "fuzz-common.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char *scratch;

/* path and, when it is a folder (not a symlink to one), everything in it. */
static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) || !g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_unlink (path);
      return;
    }
  GDir *d = g_dir_open (path, 0, NULL);
  if (d)
    {
      const char *name;
      while ((name = g_dir_read_name (d)))
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
      g_dir_close (d);
    }
  g_rmdir (path);
}

static void
remove_scratch (void)
{
  if (scratch)
    remove_tree (scratch);
}

/* A fatal GLib message ends in G_BREAKPOINT (SIGTRAP), which libFuzzer does not treat as a
 * crash: turned into an abort, it does (and the input is saved). */
static void
trap_to_abort (int sig)
{
  abort ();
}

void
mm_fuzz_init (void)
{
  static bool done;
  if (done)
    return;
  done = true;
  /* One thread: libFuzzer's coverage and its timeouts are per process, and the machine's
   * cores are better spent on parallel fuzzer processes (-jobs) than inside one input. */
  omp_set_num_threads (1);
  g_setenv ("OMP_NUM_THREADS", "1", TRUE);
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_FATAL_MASK);
  signal (SIGTRAP, trap_to_abort);
}

/* The pid in name after prefix and up to the next '_' or the end, if that process is gone. */
static bool
names_dead_process (const char *name, const char *prefix)
{
  if (!g_str_has_prefix (name, prefix))
    return false;
  const char *p = name + strlen (prefix);
  char *end = NULL;
  guint64 pid = g_ascii_strtoull (p, &end, 10);
  if (end == p || (*end != '\0' && *end != '_') || pid == 0 || pid > G_MAXINT)
    return false;
  return kill ((pid_t) pid, 0) != 0 && errno == ESRCH;
}

/* What processes that crashed left in base (atexit does not run then), removed by the next
 * one, since a crashing fuzzer is restarted thousands of times: our scratch folders, and
 * the files LLVM's OpenMP runtime registers itself with in /dev/shm (it removes them at a
 * normal exit and treats those of dead processes as stale, as we do). */
static void
remove_stale (const char *base)
{
  GDir *d = g_dir_open (base, 0, NULL);
  if (d == NULL)
    return;
  const char *name;
  while ((name = g_dir_read_name (d)))
    if (names_dead_process (name, "metalmark-fuzz-")
        || names_dead_process (name, "__KMP_REGISTERED_LIB_"))
      {
        g_autofree char *path = g_build_filename (base, name, NULL);
        remove_tree (path);
      }
  g_dir_close (d);
}

const char *
mm_fuzz_dir (void)
{
  if (scratch)
    return scratch;
  const char *base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) && access ("/dev/shm", W_OK) == 0
                         ? "/dev/shm" : g_get_tmp_dir ();
  remove_stale (base);
  g_autofree char *name = g_strdup_printf ("metalmark-fuzz-%d", (int) getpid ());
  scratch = g_build_filename (base, name, NULL);
  remove_tree (scratch); /* a leftover of an earlier process with this pid */
  if (g_mkdir (scratch, 0700) != 0)
    {
      fprintf (stderr, "fuzz: cannot create %s: %s\n", scratch, g_strerror (errno));
      abort ();
    }
  atexit (remove_scratch);
  return scratch;
}

char *
mm_fuzz_write (const char *dir, const char *name, const uint8_t *data, size_t size)
{
  char *path = g_build_filename (dir ? dir : mm_fuzz_dir (), name, NULL);
  /* Replace, never write through: a target may have left a symlink or a read-only file. */
  g_unlink (path);
  g_autoptr (GError) err = NULL;
  if (!g_file_set_contents (path, (const char *) data, (gssize) size, &err))
    {
      fprintf (stderr, "fuzz: %s\n", err->message);
      abort ();
    }
  const char *save = g_getenv ("MM_FUZZ_SAVE");
  if (save && *save && !g_file_set_contents (save, (const char *) data, (gssize) size, &err))
    {
      fprintf (stderr, "fuzz: MM_FUZZ_SAVE: %s\n", err->message);
      abort ();
    }
  return path;
}

const MmPhantom *
mm_fuzz_phantom (void)
{
  static MmPhantom *ph;
  if (ph == NULL)
    {
      MmPhantomParams p;
      mm_phantom_params_init (&p);
      p.size = 32;
      p.slices = 3;
      g_autoptr (GError) err = NULL;
      ph = mm_phantom_new (&p, &err);
      if (ph == NULL)
        {
          fprintf (stderr, "fuzz: phantom: %s\n", err->message);
          abort ();
        }
    }
  return ph;
}

static uint32_t
be32 (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

void
mm_fuzz_fix_png_crcs (uint8_t *data, size_t size)
{
  static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  if (size < 8 || memcmp (data, sig, 8) != 0)
    return;
  size_t pos = 8;
  while (size - pos >= 12)
    {
      uint32_t len = be32 (data + pos);
      if (len > size - pos - 12)
        break;
      uint32_t crc = (uint32_t) crc32 (0, data + pos + 4, 4 + len);
      uint8_t *c = data + pos + 8 + len;
      c[0] = crc >> 24;
      c[1] = crc >> 16;
      c[2] = crc >> 8;
      c[3] = crc;
      pos += 12 + (size_t) len;
    }
}
