/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli: shared pieces of the subcommands. */
#pragma once

#include "mm-dicom.h"
#include "mm-limits.h"
#include "mm-volume.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit codes, listed in README. */
typedef enum
{
  MM_EXIT_OK = 0,
  MM_EXIT_INPUT = 1,  /* bad or unreadable input, or the operation failed */
  MM_EXIT_USAGE = 2,  /* wrong command line */
  MM_EXIT_OUTPUT = 3, /* the output could not be written */
} MmExit;

int mm_cli_info (int argc, char **argv);
int mm_cli_segment (int argc, char **argv);
int mm_cli_phantom (int argc, char **argv);
int mm_cli_export (int argc, char **argv);
int mm_cli_mesh (int argc, char **argv);
int mm_cli_eval (int argc, char **argv);
int mm_cli_train (int argc, char **argv);
int mm_cli_predict (int argc, char **argv);
int mm_cli_slab (int argc, char **argv);
int mm_cli_reslice (int argc, char **argv);
int mm_cli_measure (int argc, char **argv);
int mm_cli_batch (int argc, char **argv);
/* metalmark-cli only: exec the helper program of argv[1] (metalmark-cli-nn, -pacs); returns
 * only on failure, with the error printed. */
int mm_cli_run_helper (char **argv);
int mm_cli_report (int argc, char **argv);
int mm_cli_tags (int argc, char **argv);
int mm_cli_pacs (int argc, char **argv);
int mm_cli_mar (int argc, char **argv);

/* The allowed values of a numeric option (inclusive). */
typedef struct
{
  const char *option; /* its long name, without the dashes */
  double min, max;
} MmCliRange;

/* Every command's --threads: 0 (all cores) to MM_LIMIT_THREADS. */
#define MM_CLI_THREADS_RANGE { "threads", 0, MM_LIMIT_THREADS }

/* Parse argv with entries, "--help" included; returns false (and prints why) on a usage
 * error. Every numeric entry (G_OPTION_ARG_INT, _INT64, _DOUBLE) must have its range in
 * ranges (ended by { NULL }): a value that is not a finite number, or is outside its range,
 * is a usage error naming the option and the range, and the variable keeps its default. */
bool mm_cli_parse (const char *command, const char *params, const char *summary,
                   GOptionEntry *entries, const MmCliRange *ranges, int *argc, char ***argv);

/* Load the series named by paths, print the warnings and the series choice on stderr. */
MmVolume *mm_cli_load (char **paths, const char *series_uid, int n_threads,
                       MmDicomReport **report);

/* The same with full options; with cannot_stream, a streaming load that cannot stream is
 * reported there (nothing printed) for the caller to load again. */
MmVolume *mm_cli_load_with (char **paths, const MmDicomLoadOptions *opts,
                            MmDicomReport **report, bool *cannot_stream);

void mm_cli_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* The metal rule (HU >= threshold) and the network, trained on HU, mean something only for
 * a CT acquisition in HU (segment, export --segment, predict). For any
 * other volume (an MR, values in "US", a Secondary Capture or derived secondary image):
 * without force, print why on stderr and return false (the caller exits with
 * MM_EXIT_INPUT); with force, print a warning and return true. */
bool mm_cli_metal_rule_applies (const char *command, const MmVolume *vol, bool force);

/* Pretty-print node on stdout. */
void mm_cli_print_json (JsonNode *node);

G_END_DECLS
