/* SPDX-License-Identifier: GPL-3.0-or-later */
/* DIMSE with DCMTK's DcmSCU: C-ECHO, C-FIND (studies, series), C-GET of a series into a
 * folder and C-STORE of files, against a PACS's DICOM port. C-GET (not C-MOVE) so that
 * Metalmark needs no listening port: the server sends the instances back on our own
 * association. GDCM 3.0's network functions have no C-GET, hence DCMTK. A C API over the
 * C++ adapter (mm-dimse.cc), answering the same structs as the DICOMweb calls so that the
 * CLI and the app print and show both alike. */
#pragma once

#include "mm-pacs-qido.h"
#include "mm-pacs-stow.h"
#include "mm-pacs-wado.h"

G_BEGIN_DECLS

/* Our AE title when the user gives none. */
#define MM_DIMSE_OUR_AET_DEFAULT "METALMARK"

/* Sets up DCMTK once (its logger quiet, Nagle's algorithm off through $TCP_NODELAY unless
 * set): it changes the environment, so call it from the main thread before other threads
 * run; every call below calls it too. */
void mm_dimse_init (void);

typedef struct _MmDimsePeer
{
  char *called_aet; /* the PACS's AE title */
  char *host;
  guint port;
  char *our_aet;   /* the calling AE title: the PACS must know it (C-GET, C-FIND) */
  guint timeout_s; /* connecting, association and each DIMSE message */
} MmDimsePeer;

/* "AET@HOST:PORT" (an AE title of 1..16 characters without backslash or control characters,
 * a port 1..65535) and our AE title (NULL: MM_DIMSE_OUR_AET_DEFAULT) into peer. False with a
 * one-line error naming what is wrong. */
bool mm_dimse_peer_parse (const char *spec, const char *our_aet, guint timeout_s,
                          MmDimsePeer *peer, GError **error);
void mm_dimse_peer_clear (MmDimsePeer *peer);
/* "AET@HOST:PORT" for messages (newly allocated). */
char *mm_dimse_peer_name (const MmDimsePeer *peer);

/* C-ECHO: false with the one-line reason (cannot connect, association refused, timeout). */
bool mm_dimse_echo (const MmDimsePeer *peer, GError **error);

/* C-FIND at STUDY level (Study Root): MmPacsStudy (free with g_ptr_array_unref). */
GPtrArray *mm_dimse_find_studies (const MmDimsePeer *peer, const MmPacsQuery *q,
                                  GError **error);
/* C-FIND at SERIES level of study q->study_uid: MmPacsSeries. */
GPtrArray *mm_dimse_find_series (const MmDimsePeer *peer, const MmPacsQuery *q,
                                 GError **error);

/* C-GET of a series into dest (absent or an empty folder; its parent must exist) as
 * 000001.dcm... in the order received; written into a temporary folder beside dest that is
 * renamed into place only when the server reported the whole series sent without failure.
 * Every storage SOP class of CT, MR, PET, secondary capture, SEG and RT is proposed with the
 * uncompressed, JPEG, JPEG-LS, JPEG 2000 and RLE transfer syntaxes, each its own
 * presentation context, so the server sends what it holds without transcoding. On any
 * failure or cancel nothing is left at dest nor beside it. The number of instances, 0 on
 * failure. progress (may be NULL) runs in the calling thread after each instance. */
guint mm_dimse_get_series (const MmDimsePeer *peer, const char *study_uid,
                           const char *series_uid, const char *dest, const MmPacsLimits *lim,
                           MmPacsProgress progress, gpointer user, GCancellable *cancellable,
                           GError **error);

/* C-STORE of files (DICOM Part 10) on one association, each in its own transfer syntax. True
 * when the association worked (r filled with what the server accepted or refused, the
 * status of the first refusal in r->message); false with a one-line error otherwise. */
bool mm_dimse_store_files (const MmDimsePeer *peer, const char *const *files,
                           MmPacsStowResult *r, GError **error);

G_END_DECLS
