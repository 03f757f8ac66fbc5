/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli: the command-line front end; each subcommand lives in its own file.
 *
 * train and predict run in a helper program, metalmark-cli-nn, that this one execs: only it
 * links oneDNN and cairo (and, through them, OpenCL, X11, fontconfig, ...), so every other
 * command starts without loading and relocating some 30 libraries it never uses (issue 12:
 * start-up was most of `info`'s cost over `cat` on a 200-slice series). The exec keeps the
 * interface identical (same process, arguments, streams, signals and exit codes) and lets
 * the helper start with OMP_WAIT_POLICY=passive (mm-nn-wait-policy.h). */
#include "mm-cli.h"
#include "mm-nn-wait-policy.h"

#include <errno.h>
#include <locale.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* run == NULL: the command lives in a helper program (helper_for). */
static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *help;
} commands[] = {
  { "info", mm_cli_info, "print a series' dimensions, geometry and intensity figures" },
  { "segment", mm_cli_segment, "segment metal and write a PNG label stack" },
  { "mar", mm_cli_mar, "reduce metal artifacts (LI-MAR, NMAR), write a derived DICOM series" },
  { "phantom", mm_cli_phantom, "write a synthetic CT series with known metal" },
  { "export", mm_cli_export, "write a metal mask as NIfTI or DICOM SEG, the CT as NIfTI" },
  { "mesh", mm_cli_mesh, "write the metal (or bone) surface as STL, PLY or OBJ mesh" },
  { "eval", mm_cli_eval, "compare a predicted metal mask with a reference (Dice, HD95, ...)" },
  { "train", NULL, "train a U-Net on series and their metal masks" },
  { "predict", NULL, "segment metal with a trained U-Net, write a PNG label stack" },
  { "slab", mm_cli_slab, "a MIP, MinIP or mean slab of a plane, as a NumPy array" },
  { "reslice", mm_cli_reslice, "a standard or oblique plane, trilinear, as a NumPy array" },
  { "measure", mm_cli_measure, "distance, angle, HU profile and ROI statistics on a plane" },
  { "batch", mm_cli_batch, "run info, segment or export on every series of an archive (Slurm)" },
  { "report", mm_cli_report, "one table (CSV, JSON) of a batch's per-series status" },
  { "tags", mm_cli_tags, "the data elements of one DICOM file, as text or JSON" },
  { "pacs", NULL, "find, retrieve and send series on a DICOMweb server (PACS)" },
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

/* The program a command runs in: the network's commands need oneDNN and cairo, pacs needs
 * libsoup and its TLS and HTTP/2 libraries; none of them is loaded for info or segment. */
static const char *
helper_for (const char *command)
{
  return strcmp (command, "pacs") == 0 ? "metalmark-cli-pacs" : "metalmark-cli-nn";
}

/* The helper beside this executable (an uninstalled build, or both in one folder), else the
 * installed one in libexecdir. Never a path from the environment or the arguments. */
static char *
helper_path (const char *name)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  if (self)
    {
      g_autofree char *dir = g_path_get_dirname (self);
      g_autofree char *beside = g_build_filename (dir, name, NULL);
      if (g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&beside);
    }
  return g_build_filename (MM_LIBEXECDIR, name, NULL);
}

int
mm_cli_run_helper (char **argv)
{
  g_autofree char *helper = helper_path (helper_for (argv[1]));
  mm_nn_wait_policy_setenv ();
  execv (helper, argv);
  mm_cli_error ("cannot run %s, which does '%s': %s (is metalmark installed completely?)",
                helper, argv[1], g_strerror (errno));
  return MM_EXIT_INPUT;
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
      return commands[c].run ? commands[c].run (argc - 1, argv + 1) : mm_cli_run_helper (argv);
  mm_cli_error ("unknown command '%s'; try 'metalmark-cli --help'", argv[1]);
  return MM_EXIT_USAGE;
}
