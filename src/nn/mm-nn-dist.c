/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-nn-dist.h"

#include <limits.h>
#include <stdlib.h>

#ifdef MM_HAVE_MPI
#include <mpi.h>

static bool started;
static int rank, size = 1;

void
mm_nn_dist_init (int *argc, char ***argv)
{
  /* Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, PMIx launchers (srun) PMIX_RANK, older
   * PMI ones PMI_SIZE. */
  if (!g_getenv ("OMPI_COMM_WORLD_SIZE") && !g_getenv ("PMIX_RANK") && !g_getenv ("PMI_SIZE"))
    return;
  int provided = 0;
  /* Only the main thread calls MPI (OpenMP threads never do). */
  if (MPI_Init_thread (argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    return;
  started = true;
  MPI_Comm_rank (MPI_COMM_WORLD, &rank);
  MPI_Comm_size (MPI_COMM_WORLD, &size);
}

void
mm_nn_dist_finish (void)
{
  if (started)
    MPI_Finalize ();
  started = false;
}

void
mm_nn_dist_abort (int code)
{
  if (started && size > 1)
    MPI_Abort (MPI_COMM_WORLD, code);
}

int
mm_nn_dist_rank (void)
{
  return rank;
}

int
mm_nn_dist_size (void)
{
  return size;
}

bool
mm_nn_dist_compiled (void)
{
  return true;
}

/* MPI counts are ints: large buffers go in pieces. */
#define PIECE (1 << 28)

void
mm_nn_dist_sum_double (double *v, size_t n)
{
  for (size_t i = 0; size > 1 && i < n; i += PIECE)
    MPI_Allreduce (MPI_IN_PLACE, v + i, (int) MIN (n - i, PIECE), MPI_DOUBLE, MPI_SUM,
                   MPI_COMM_WORLD);
}

void
mm_nn_dist_sum_float (float *v, size_t n)
{
  for (size_t i = 0; size > 1 && i < n; i += PIECE)
    MPI_Allreduce (MPI_IN_PLACE, v + i, (int) MIN (n - i, PIECE), MPI_FLOAT, MPI_SUM,
                   MPI_COMM_WORLD);
}

int
mm_nn_dist_min_int (int v)
{
  if (size > 1)
    MPI_Allreduce (MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return v;
}

#else /* one process */

void
mm_nn_dist_init (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
}

void
mm_nn_dist_finish (void)
{
}

void
mm_nn_dist_abort (int code)
{
  (void) code;
}

int
mm_nn_dist_rank (void)
{
  return 0;
}

int
mm_nn_dist_size (void)
{
  return 1;
}

bool
mm_nn_dist_compiled (void)
{
  return false;
}

void
mm_nn_dist_sum_double (double *v, size_t n)
{
  (void) v;
  (void) n;
}

void
mm_nn_dist_sum_float (float *v, size_t n)
{
  (void) v;
  (void) n;
}

int
mm_nn_dist_min_int (int v)
{
  return v;
}
#endif
