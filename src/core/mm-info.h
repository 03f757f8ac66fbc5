/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The figures a radiologist reads about a series, as JSON and as text: shared by
 * metalmark-cli info and the app's metadata panel, so they can never disagree. */
#pragma once

#include "mm-stats.h"
#include "mm-volume.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Adds the volume's geometry and statistics as members of the object being built. */
void mm_info_build_json (JsonBuilder *b, const MmVolume *vol, const MmStats *stats);

typedef struct
{
  const char *label; /* static, translated */
  char *value;
} MmInfoRow;

/* The figures as (label, value) rows, in display order; free with g_ptr_array_unref. */
GPtrArray *mm_info_rows (const MmVolume *vol, const MmStats *stats);

/* The rows as text, one "label  value" line each. */
char *mm_info_format_text (const MmVolume *vol, const MmStats *stats);

G_END_DECLS
