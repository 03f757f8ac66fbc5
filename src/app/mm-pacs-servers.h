/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The PACS servers the user configured in Preferences: kept in GSettings (pacs-servers; no
 * secret there), their passwords and tokens in the desktop keyring through libsecret, and
 * turned into connections (mm-pacs-conn.h) for the dialogs. $MM_PACS_URL adds a DICOMweb
 * server without authentication in front of the list (tests, scripts). */
#pragma once

#include "mm-pacs-conn.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  char *name;
  MmPacsKind kind;
  char *address; /* DICOMweb base URL, or AET@HOST:PORT */
  char *our_aet; /* DIMSE: our calling AE title ("" : the default) */
  MmPacsAuth auth;
  char *user;
  bool from_env; /* $MM_PACS_URL: not stored, not editable */
} MmPacsEntry;

MmPacsEntry *mm_pacs_entry_new (void);
MmPacsEntry *mm_pacs_entry_copy (const MmPacsEntry *e);
void mm_pacs_entry_free (MmPacsEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmPacsEntry, mm_pacs_entry_free)

/* "Name · URL" or "Name · AET@HOST:PORT" (newly allocated). */
char *mm_pacs_entry_label (const MmPacsEntry *e);

/* The servers (MmPacsEntry, owned by the array): $MM_PACS_URL's first, then the stored ones.
 * settings may be NULL (no schema installed): only $MM_PACS_URL's. */
GPtrArray *mm_pacs_servers_load (GSettings *settings);

/* Store the entries (those not from_env) in pacs-servers. */
void mm_pacs_servers_save (GSettings *settings, GPtrArray *entries);

/* The index of the entry named name, else 0. */
guint mm_pacs_servers_find (GPtrArray *entries, const char *name);

/* The cache bound from pacs-cache-max-mb (4 GiB without settings). */
guint64 mm_pacs_cache_max_bytes (GSettings *settings);

/* A connection for e; secret NULL: looked up in the keyring when the server needs one.
 * The timeout is $MM_PACS_TIMEOUT seconds when set (tests), else the default. Call on the
 * main thread (DIMSE's set-up). */
MmPacsConn *mm_pacs_entry_connect (const MmPacsEntry *e, const char *secret, GError **error);

/* The keyring: store (a NULL or empty secret removes it), look up (free with
 * secret_password_free; NULL with a one-line error naming the server when the keyring
 * cannot be reached or holds nothing for it). Keyed by the server's address and user, as the
 * dialog always did. */
bool mm_pacs_secret_store (const MmPacsEntry *e, const char *secret, GError **error);
char *mm_pacs_secret_lookup (const MmPacsEntry *e, GError **error);

/* Preferences saves now as entry number index of entries (-1: a new server; entries holds
 * the old one there): typed (NULL or "": none typed) is stored for it; without one typed, a
 * secret kept under the old address and user follows to the new ones; the old item is
 * removed when no server uses it any more. False with the keyring's error when it could not
 * keep the secret (then the old item is left as it was). */
bool mm_pacs_secret_follow (GPtrArray *entries, int index, const MmPacsEntry *now,
                            const char *typed, GError **error);

/* Entry number index is being removed: its secret too, unless another entry shares it. */
void mm_pacs_secret_forget (GPtrArray *entries, guint index);

G_END_DECLS
