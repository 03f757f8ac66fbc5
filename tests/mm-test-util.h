/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the GLib tests share: a small phantom, a scratch folder and its removal, journal and
 * label-stack checks. */
#pragma once

#include "mm-mesh.h"
#include "mm-phantom.h"

#include <glib.h>

/* A phantom of size x size x slices with this seed, noise (HU) and tilt (degrees). */
MmPhantom *mm_test_phantom (int size, int slices, guint64 seed, double noise, double tilt);
/* Phantom variant (0: the fixed phantom) of size x size x slices with this seed and noise. */
MmPhantom *mm_test_phantom_variant (int size, int slices, int variant, guint64 seed,
                                    double noise);

/* A new folder under the temporary folder, named after prefix; free with g_free. */
char *mm_test_tmp_dir (const char *prefix);

/* Remove path and everything under it; symbolic links are removed, never followed (the
 * hostile-path tests plant them). */
void mm_test_rm_rf (const char *path);

#include "mm-journal.h"

/* mm_journal_open / mm_journal_append that must succeed. */
MmJournal *mm_test_journal_open (const char *dir, const MmVolume *vol, MmMask *mask,
                                 bool *recovered);
void mm_test_journal_append (MmJournal *j, const int *ks, int n);

/* The size of an existing file, in bytes. */
goffset mm_test_file_size (const char *path);

/* A filled disc of value v (0 erases) centred at (ci, cj) with radius r on slice k of m. */
void mm_test_draw_disc (MmMask *m, int k, int ci, int cj, int r, uint8_t v);

/* mm_label_stack_read of dir must fail with a one-line error that mentions needle. */
void mm_test_expect_stack_error (const char *dir, const MmVolume *vol, const char *needle);

/* The mesh's triangles as position triples (9 floats each), each turned to start at its
 * byte-wise smallest corner (keeping the cyclic order: the orientation), sorted: equal arrays
 * mean the same oriented surface, whatever the vertex numbering. Free with g_free. */
float *mm_test_triangle_soup (const MmMesh *m);
