/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Data-parallel training across processes (MPI ranks): who we are and the sums ranks share.
 * Built on MPI when meson found it (option `mpi`); otherwise, and whenever the program was
 * not started by mpirun/srun, there is one rank and the sums are the identity, so the
 * trainer is the single-process one. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* Starts MPI when this process is one of an MPI job (Open MPI's or PMI's environment says
 * so); without that no MPI call is made at all (no singleton start-up). Call once from
 * main before threads exist; mm_nn_dist_finish at exit. */
void mm_nn_dist_init (int *argc, char ***argv);
void mm_nn_dist_finish (void);
/* Ends every rank of the job with a failure (after an error on one rank only). */
void mm_nn_dist_abort (int code);

int mm_nn_dist_rank (void);  /* 0 without MPI */
int mm_nn_dist_size (void);  /* 1 without MPI */
bool mm_nn_dist_compiled (void);

/* In-place sums over all ranks. */
void mm_nn_dist_sum_double (double *v, size_t n);
void mm_nn_dist_sum_float (float *v, size_t n);
/* The smallest of every rank's value (agreement on a stop). */
int mm_nn_dist_min_int (int v);

G_END_DECLS
