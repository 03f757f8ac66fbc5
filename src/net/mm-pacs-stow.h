/* SPDX-License-Identifier: GPL-3.0-or-later */
/* STOW-RS: DICOM files (a Segmentation of the current mask) sent to the server, and the
 * server's answer read: which instances it accepted, which it refused and why. */
#pragma once

#include "mm-pacs-server.h"

G_BEGIN_DECLS

/* The files of one request may be at most this large together (a SEG of a large series is
 * a few MB; the request is built in memory). */
#define MM_PACS_STOW_FILE_MAX (1ull << 30)

typedef struct
{
  guint n_sent, n_accepted, n_failed, n_warnings;
  char *message; /* one line: what the server said about the failures and warnings, or NULL */
} MmPacsStowResult;

void mm_pacs_stow_result_clear (MmPacsStowResult *r);

/* Send files (DICOM Part 10, each checked for the DICM preamble before sending) to
 * base_url/studies in one multipart/related request. True when the server answered with a
 * STOW-RS response (r filled, even when it refused some instances); false with a one-line
 * error when it could not be asked or answered something else. */
bool mm_pacs_stow (MmPacsServer *srv, const char *const *files, MmPacsStowResult *r,
                   GCancellable *cancellable, GError **error);

G_END_DECLS
