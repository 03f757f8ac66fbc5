/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the fuzz targets share: a private scratch folder for the files the readers open by
 * path, the phantom the readers check their input against, and the checksum repairs that let
 * mutated inputs get past a CRC to the code behind it. Built into libFuzzer targets
 * (-Dfuzzing=true) and, in every build, into replay tools that run the committed regression
 * inputs (fuzz/regressions) through the same code. */
#pragma once

#include "mm-phantom.h"

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* The libFuzzer entry point every fuzz-*.c defines. */
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Once per process: quiet libraries, one thread, criticals fatal (as G_DEBUG=fatal-criticals
 * makes them in the tests: a critical on hostile input is a precondition the code forgot). */
void mm_fuzz_init (void);

/* The per-process scratch folder (in /dev/shm when it exists, so that the many small writes
 * cost no disk I/O), removed at exit. */
const char *mm_fuzz_dir (void);

/* Write data to name inside mm_fuzz_dir () (or inside dir when not NULL); the path, g_free.
 * Aborts when the write fails: that is the harness failing, not the code under test. When
 * MM_FUZZ_SAVE names a file, the bytes are also written there: the bytes the reader saw,
 * after any checksum repair, which is what fuzz/regressions keeps. */
char *mm_fuzz_write (const char *dir, const char *name, const uint8_t *data, size_t size);

/* The phantom of `metalmark-cli phantom --size 32 --slices 3` (seed 1, no noise), made once:
 * the seeds of the NIfTI, label stack and journal targets are written for it. */
const MmPhantom *mm_fuzz_phantom (void);

/* Fix the CRC-32 of every complete PNG chunk in place (a mutated PNG otherwise stops at the
 * first chunk check). A no-op on bytes that are not a PNG. */
void mm_fuzz_fix_png_crcs (uint8_t *data, size_t size);

G_END_DECLS
