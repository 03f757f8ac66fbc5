/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli: the command-line front end; each subcommand lives in its own file. */
#include "mm-cli.h"

#include <locale.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *help;
} commands[] = {
  { "info", mm_cli_info, "print a series' dimensions, geometry and intensity figures" },
  { "segment", mm_cli_segment, "segment metal and write a PNG label stack" },
  { "phantom", mm_cli_phantom, "write a synthetic CT series with known metal" },
  { "export", mm_cli_export, "write a metal mask as NIfTI or DICOM SEG, the CT as NIfTI" },
  { "mesh", mm_cli_mesh, "write the metal (or bone) surface as STL, PLY or OBJ mesh" },
  { "eval", mm_cli_eval, "compare a predicted metal mask with a reference (Dice, HD95, ...)" },
  { "train", mm_cli_train, "train a U-Net on series and their metal masks" },
  { "predict", mm_cli_predict, "segment metal with a trained U-Net, write a PNG label stack" },
  { "slab", mm_cli_slab, "a MIP, MinIP or mean slab of a plane, as a NumPy array" },
  { "reslice", mm_cli_reslice, "a standard or oblique plane, trilinear, as a NumPy array" },
  { "measure", mm_cli_measure, "distance, angle, HU profile and ROI statistics on a plane" },
  { "pacs", mm_cli_pacs, "find, retrieve and send series on a DICOMweb server (PACS)" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: metalmark-cli COMMAND [OPTIONS...]\n\nCommands:\n");
  for (size_t c = 0; c < G_N_ELEMENTS (commands); c++)
    fprintf (out, "  %-10s %s\n", commands[c].name, commands[c].help);
  fprintf (out, "\n'metalmark-cli COMMAND --help' describes a command.\n"
                "Exit codes: 0 success, 1 bad input, 2 usage error, 3 output not written.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* Numbers in output and in DICOM are always written with a dot. */
  setlocale (LC_NUMERIC, "C");
  g_set_prgname ("metalmark-cli");
  /* OMP_NUM_THREADS is outside input too: held to the limit of --threads. */
  if (omp_get_max_threads () > MM_LIMIT_THREADS)
    omp_set_num_threads (MM_LIMIT_THREADS);

  if (argc < 2)
    {
      usage (stderr);
      return MM_EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      usage (stdout);
      return MM_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("metalmark-cli %s\n", MM_VERSION);
      return MM_EXIT_OK;
    }
  for (size_t c = 0; c < G_N_ELEMENTS (commands); c++)
    if (strcmp (argv[1], commands[c].name) == 0)
      return commands[c].run (argc - 1, argv + 1);
  mm_cli_error ("unknown command '%s'; try 'metalmark-cli --help'", argv[1]);
  return MM_EXIT_USAGE;
}
