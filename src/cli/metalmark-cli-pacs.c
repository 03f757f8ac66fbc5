/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli-pacs: the pacs command of metalmark-cli, in a program of its own so that
 * metalmark-cli does not load libsoup and its HTTP, TLS and Kerberos libraries for every
 * info or segment (metalmark-cli execs this one with the user's arguments: argv[1] is the
 * command). Not meant to be run by hand, but it behaves the same when it is. */
#include "mm-cli.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  g_set_prgname ("metalmark-cli");
  if (argc >= 2 && strcmp (argv[1], "pacs") == 0)
    return mm_cli_pacs (argc - 1, argv + 1);
  fprintf (stderr, "Usage: metalmark-cli-pacs pacs [OPTIONS...]\n"
                   "(the pacs command of metalmark-cli; run 'metalmark-cli pacs --help')\n");
  return MM_EXIT_USAGE;
}
