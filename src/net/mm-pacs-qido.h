/* SPDX-License-Identifier: GPL-3.0-or-later */
/* QIDO-RS: study and series searches, answered as plain structs. */
#pragma once

#include "mm-pacs-server.h"

G_BEGIN_DECLS

/* What to search for; NULL or "" members are not constrained. */
typedef struct
{
  const char *patient_name; /* DICOM wildcards * and ? allowed */
  const char *patient_id;
  const char *accession;
  const char *date_from, *date_to; /* YYYYMMDD; either may be NULL for an open range */
  const char *modality;            /* e.g. "CT" */
  const char *study_uid;           /* series search: the study (required) */
  guint limit;                     /* 0: the server's own limit */
} MmPacsQuery;

typedef struct
{
  char *study_uid, *patient_name, *patient_id, *accession, *date, *time, *description,
    *modalities; /* modalities: "CT\\SEG" as the server lists them */
  gint64 n_series, n_instances; /* -1 when the server does not say */
} MmPacsStudy;

typedef struct
{
  char *study_uid, *series_uid, *modality, *description;
  gint64 number, n_instances; /* -1 when the server does not say */
} MmPacsSeries;

void mm_pacs_study_free (MmPacsStudy *s);
void mm_pacs_series_free (MmPacsSeries *s);

/* A syntactically valid UID (1..64 characters of digits and dots): anything the server or
 * the user gives is checked before it is put into a URL. */
bool mm_pacs_uid_ok (const char *uid);

/* A date as YYYYMMDD (8 digits). */
bool mm_pacs_date_ok (const char *date);

/* Studies matching q, as MmPacsStudy (free with g_ptr_array_unref). A data set without a
 * valid Study Instance UID is an error naming the server. */
GPtrArray *mm_pacs_find_studies (MmPacsServer *srv, const MmPacsQuery *q,
                                 GCancellable *cancellable, GError **error);

/* Series of study q->study_uid (q->modality filters), as MmPacsSeries. */
GPtrArray *mm_pacs_find_series (MmPacsServer *srv, const MmPacsQuery *q,
                                GCancellable *cancellable, GError **error);

/* The QIDO-RS query string for q ("?a=b&..." escaped, or ""), for studies or series. */
char *mm_pacs_query_string (const MmPacsQuery *q, bool series);

/* The JSON of find results for the CLI (--json): an array of objects. */
JsonNode *mm_pacs_studies_to_json (GPtrArray *studies);
JsonNode *mm_pacs_series_to_json (GPtrArray *series);

G_END_DECLS
