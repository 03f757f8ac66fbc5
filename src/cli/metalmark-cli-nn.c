/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli-nn: the commands that need the network (train, predict), in a program of
 * their own so that metalmark-cli links neither oneDNN nor cairo (see metalmark-cli.c, which
 * execs this one with the user's arguments: argv[1] is the command). Not meant to be run by
 * hand, but it behaves the same when it is. */
#include "mm-cli.h"
#include "mm-nn-dist.h"
#include "mm-nn-wait-policy.h"

#include <locale.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
  /* Started by hand (or by anything but metalmark-cli) without a wait policy: once more with
   * OMP_WAIT_POLICY=passive, before libgomp's settings matter. */
  mm_nn_wait_policy_reexec (argv);
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  g_set_prgname ("metalmark-cli");
  if (omp_get_max_threads () > MM_LIMIT_THREADS)
    omp_set_num_threads (MM_LIMIT_THREADS);
  if (argc >= 2 && strcmp (argv[1], "train") == 0)
    {
      /* Under mpirun/srun: data-parallel training (mm-nn-dist.h); otherwise no MPI call. */
      mm_nn_dist_init (&argc, &argv);
      /* Only rank 0 reports (the others' errors still reach stderr). */
      if (mm_nn_dist_rank () != 0 && freopen ("/dev/null", "w", stdout) == NULL)
        return MM_EXIT_USAGE;
      int status = mm_cli_train (argc - 1, argv + 1);
      /* 130: Ctrl+C, which every rank agreed on; other failures may be one rank's. */
      if (status != 0 && status != 130)
        mm_nn_dist_abort (status); /* the other ranks would wait for this one forever */
      mm_nn_dist_finish ();
      return status;
    }
  if (argc >= 2 && strcmp (argv[1], "predict") == 0)
    return mm_cli_predict (argc - 1, argv + 1);
  /* metalmark-cli hands 'batch predict' over: the model is loaded once, here. */
  if (argc >= 2 && strcmp (argv[1], "batch") == 0)
    return mm_cli_batch (argc - 1, argv + 1);
  fprintf (stderr, "Usage: metalmark-cli-nn train|predict|batch predict [OPTIONS...]\n"
                   "(the network's commands of metalmark-cli; run 'metalmark-cli --help')\n");
  return MM_EXIT_USAGE;
}
