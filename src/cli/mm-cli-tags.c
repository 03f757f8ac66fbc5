/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli tags: one file's data set, as the app's tags browser shows it. */
#include "mm-cli.h"

#include "mm-dicom-dump.h"
#include "mm-text.h"

#include <stdio.h>

int
mm_cli_tags (int argc, char **argv)
{
  gboolean json = FALSE;
  int max_depth = 0, max_nodes = 0, max_value = 0;
  char **paths = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "max-depth", 0, 0, G_OPTION_ARG_INT, &max_depth,
      "Sequence nesting shown (default 16)", "N" },
    { "max-nodes", 0, 0, G_OPTION_ARG_INT, &max_nodes,
      "Elements and items shown in all (default 20000)", "N" },
    { "max-value", 0, 0, G_OPTION_ARG_INT, &max_value,
      "Characters of one value (default 1024)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "FILE" },
    { NULL },
  };
  const MmCliRange ranges[] = {
    { "max-depth", 0, 16 },
    { "max-nodes", 0, 1000000 },
    { "max-value", 0, 1 << 20 },
    { NULL },
  };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("tags", "FILE",
                     "Print the data elements of one DICOM file: sequences nested, private "
                     "tags named where the dictionary knows them, binary values summarised.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (paths == NULL || paths[0] == NULL || paths[1] != NULL)
    {
      mm_cli_error ("tags: give exactly one FILE; try 'metalmark-cli tags --help'");
      goto out;
    }
  {
    MmDicomDumpLimits lim = { .max_depth = (guint) max_depth, .max_nodes = (guint) max_nodes,
                              .max_value_chars = (guint) max_value };
    g_autoptr (GError) err = NULL;
    g_autoptr (MmDicomDump) dump = mm_dicom_dump_file (paths[0], &lim, &err);
    if (dump == NULL)
      {
        g_autofree char *msg = mm_text_printable (err->message);
        mm_cli_error ("%s", msg);
        rc = MM_EXIT_INPUT;
        goto out;
      }
    if (json)
      {
        g_autoptr (JsonNode) root = mm_dicom_dump_to_json (dump);
        mm_cli_print_json (root);
      }
    else
      {
        g_autofree char *text = mm_dicom_dump_to_text (dump);
        fputs (text, stdout);
      }
    if (dump->truncated)
      fprintf (stderr, "metalmark-cli: tags: the dump was cut (%u elements shown; values, "
               "nesting or element count over the limits)\n", dump->n_nodes);
    rc = MM_EXIT_OK;
  }
out:
  g_strfreev (paths);
  return rc;
}
