/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The PACS servers' secrets in the desktop keyring (src/app/mm-pacs-servers.c), against a
 * real Secret Service: run through tests/gui/run-under-xvfb, which starts gnome-keyring-daemon
 * unlocked in private folders (MM_TEST_KEYRING=unlocked), or a session bus without any
 * Secret Service (MM_TEST_KEYRING=none). What is kept is read back with libsecret under the
 * schema and attributes the app has always used (io.github.metalmark.Metalmark.Pacs, url,
 * user), written out here again, so a change of the stored form fails here. */
#include "mm-pacs-servers.h"

#include <libsecret/secret.h>
#include <stdio.h>
#include <string.h>

static const SecretSchema *
schema (void)
{
  static const SecretSchema s = {
    "io.github.metalmark.Metalmark.Pacs", SECRET_SCHEMA_NONE,
    { { "url", SECRET_SCHEMA_ATTRIBUTE_STRING }, { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 } },
  };
  return &s;
}

/* The secret kept under url and user, or NULL. */
static char *
kept (const char *url, const char *user)
{
  g_autoptr (GError) err = NULL;
  char *s = secret_password_lookup_sync (schema (), NULL, &err, "url", url, "user", user, NULL);
  g_assert_no_error (err);
  return s;
}

static void
put (const char *url, const char *user, const char *secret)
{
  g_autoptr (GError) err = NULL;
  g_assert_true (secret_password_store_sync (schema (), SECRET_COLLECTION_DEFAULT, "test",
                                             secret, NULL, &err, "url", url, "user", user,
                                             NULL));
  g_assert_no_error (err);
}

static MmPacsEntry *
entry (const char *name, const char *url, MmPacsAuth auth, const char *user)
{
  MmPacsEntry *e = mm_pacs_entry_new ();
  g_free (e->name), e->name = g_strdup (name);
  g_free (e->address), e->address = g_strdup (url);
  g_free (e->user), e->user = g_strdup (user);
  e->auth = auth;
  return e;
}

static GPtrArray *
entries (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) mm_pacs_entry_free);
}

#define ASSERT_KEPT(url, user, want)                                                           \
  do                                                                                           \
    {                                                                                          \
      g_autofree char *got_ = kept (url, user);                                                \
      g_assert_cmpstr (got_, ==, want);                                                        \
    }                                                                                          \
  while (0)

/* A new server's typed secret is kept under its URL and user; lookup gives it back. */
static void
test_new (void)
{
  g_autoptr (GPtrArray) list = entries ();
  g_autoptr (MmPacsEntry) e = entry ("A", "http://a.test/dicom-web", MM_PACS_AUTH_BASIC, "u");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_pacs_secret_follow (list, -1, e, "pw-a", &err));
  g_assert_no_error (err);
  ASSERT_KEPT ("http://a.test/dicom-web", "u", "pw-a");
  g_autofree char *back = mm_pacs_secret_lookup (e, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (back, ==, "pw-a");
}

/* Nothing kept: a one-line error naming the server, saying where to type it. */
static void
test_nothing_kept (void)
{
  g_autoptr (MmPacsEntry) e = entry ("Nowhere PACS", "http://none.test/dicom-web",
                                     MM_PACS_AUTH_BEARER, "");
  g_autoptr (GError) err = NULL;
  g_assert_null (mm_pacs_secret_lookup (e, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (err->message, "Nowhere PACS"));
  g_assert_nonnull (strstr (err->message, "holds no password or token"));
  g_assert_null (strchr (err->message, '\n'));
  g_clear_error (&err);
  /* The connection says the same before any network (an address nobody answers). */
  g_assert_null (mm_pacs_entry_connect (e, NULL, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&err);
  /* A typed secret needs no keyring. */
  MmPacsConn *conn = mm_pacs_entry_connect (e, "typed", &err);
  g_assert_no_error (err);
  g_assert_nonnull (conn);
  mm_pacs_conn_free (conn);
}

/* Edits without a secret typed: the kept one follows a new path or user on the same origin,
 * the old item goes. */
static void
test_follow_edit (void)
{
  g_autoptr (GPtrArray) list = entries ();
  put ("http://b.test/dicom-web", "u", "pw-b");
  g_ptr_array_add (list, entry ("B", "http://b.test/dicom-web", MM_PACS_AUTH_BASIC, "u"));
  g_autoptr (GError) err = NULL;

  g_autoptr (MmPacsEntry) url = entry ("B", "http://b.test/dicom-web2", MM_PACS_AUTH_BASIC, "u");
  g_assert_true (mm_pacs_secret_follow (list, 0, url, "", &err));
  g_assert_no_error (err);
  ASSERT_KEPT ("http://b.test/dicom-web2", "u", "pw-b");
  ASSERT_KEPT ("http://b.test/dicom-web", "u", NULL);
  mm_pacs_entry_free (list->pdata[0]);
  list->pdata[0] = mm_pacs_entry_copy (url);

  g_autoptr (MmPacsEntry) user = entry ("B", "http://b.test/dicom-web2", MM_PACS_AUTH_BASIC,
                                        "v");
  g_assert_true (mm_pacs_secret_follow (list, 0, user, NULL, &err));
  ASSERT_KEPT ("http://b.test/dicom-web2", "v", "pw-b");
  ASSERT_KEPT ("http://b.test/dicom-web2", "u", NULL);
  mm_pacs_entry_free (list->pdata[0]);
  list->pdata[0] = mm_pacs_entry_copy (user);

  /* The name alone changed, the secret typed again: replaced in place. */
  g_autoptr (MmPacsEntry) renamed = entry ("B2", "http://b.test/dicom-web2",
                                           MM_PACS_AUTH_BASIC, "v");
  g_assert_true (mm_pacs_secret_follow (list, 0, renamed, "pw-b-new", &err));
  ASSERT_KEPT ("http://b.test/dicom-web2", "v", "pw-b-new");
}

/* A password never follows the URL to another host or port, from https to http, or into
 * another kind of secret (a password sent as a bearer token): the user types it again. */
static void
test_no_follow_elsewhere (void)
{
  const char *from = "https://f.test/dicom-web";
  const struct { const char *url; MmPacsAuth auth; } to[] = {
    { "https://evil.test/dicom-web", MM_PACS_AUTH_BASIC },
    { "http://f.test/dicom-web", MM_PACS_AUTH_BASIC },
    { "https://f.test:8443/dicom-web", MM_PACS_AUTH_BASIC },
    { "https://f.test/dicom-web", MM_PACS_AUTH_BEARER },
  };
  for (guint i = 0; i < G_N_ELEMENTS (to); i++)
    {
      g_autoptr (GPtrArray) list = entries ();
      g_autoptr (GError) err = NULL;
      put (from, "u", "pw-f");
      g_ptr_array_add (list, entry ("F", from, MM_PACS_AUTH_BASIC, "u"));
      g_autoptr (MmPacsEntry) now = entry ("F", to[i].url, to[i].auth, "u");
      g_assert_true (mm_pacs_secret_follow (list, 0, now, NULL, &err));
      g_assert_no_error (err);
      if (g_strcmp0 (to[i].url, from) != 0)
        ASSERT_KEPT (to[i].url, "u", NULL);
      else
        {
          /* Same item, another kind: the password is not kept as a token. */
          g_autofree char *back = mm_pacs_secret_lookup (now, NULL);
          g_assert_null (back);
        }
      ASSERT_KEPT (from, "u", NULL);
    }
}

/* Authentication turned off, or the server made a DIMSE one: its secret goes. */
static void
test_auth_off (void)
{
  g_autoptr (GError) err = NULL;
  for (int dimse = 0; dimse < 2; dimse++)
    {
      g_autoptr (GPtrArray) list = entries ();
      put ("http://c.test/dicom-web", "u", "pw-c");
      g_ptr_array_add (list, entry ("C", "http://c.test/dicom-web", MM_PACS_AUTH_BASIC, "u"));
      g_autoptr (MmPacsEntry) now = entry ("C", "http://c.test/dicom-web",
                                           dimse ? MM_PACS_AUTH_BASIC : MM_PACS_AUTH_NONE, "u");
      if (dimse)
        now->kind = MM_PACS_KIND_DIMSE;
      g_assert_true (mm_pacs_secret_follow (list, 0, now, "", &err));
      g_assert_no_error (err);
      ASSERT_KEPT ("http://c.test/dicom-web", "u", NULL);
    }
}

/* Two servers share a URL and user (one item): editing or removing one keeps the other's. */
static void
test_shared (void)
{
  g_autoptr (GPtrArray) list = entries ();
  g_autoptr (GError) err = NULL;
  put ("http://d.test/dicom-web", "u", "pw-d");
  g_ptr_array_add (list, entry ("D1", "http://d.test/dicom-web", MM_PACS_AUTH_BASIC, "u"));
  g_ptr_array_add (list, entry ("D2", "http://d.test/dicom-web", MM_PACS_AUTH_BASIC, "u"));
  g_autoptr (MmPacsEntry) moved = entry ("D1", "http://d.test/dicom-web1", MM_PACS_AUTH_BASIC,
                                         "u");
  g_assert_true (mm_pacs_secret_follow (list, 0, moved, NULL, &err));
  g_assert_no_error (err);
  ASSERT_KEPT ("http://d.test/dicom-web1", "u", "pw-d");
  ASSERT_KEPT ("http://d.test/dicom-web", "u", "pw-d"); /* D2 still uses it */
  mm_pacs_entry_free (list->pdata[0]);
  list->pdata[0] = mm_pacs_entry_copy (moved);

  /* D1 and D3 now share d1's item: removing D3 keeps it for D1; removing D1 then ends it. */
  g_ptr_array_add (list, entry ("D3", "http://d.test/dicom-web1", MM_PACS_AUTH_BEARER, "u"));
  mm_pacs_secret_forget (list, 2);
  g_ptr_array_remove_index (list, 2);
  ASSERT_KEPT ("http://d.test/dicom-web1", "u", "pw-d");
  mm_pacs_secret_forget (list, 0);
  g_ptr_array_remove_index (list, 0);
  ASSERT_KEPT ("http://d.test/dicom-web1", "u", NULL);
  ASSERT_KEPT ("http://d.test/dicom-web", "u", "pw-d");
  mm_pacs_secret_forget (list, 0);
  ASSERT_KEPT ("http://d.test/dicom-web", "u", NULL);
}

/* No Secret Service on the bus: storing fails with the bus's reason (the caller says so),
 * looking up names the server and says the keyring cannot be reached; nothing crashes. */
static void
test_no_service (void)
{
  g_autoptr (GPtrArray) list = entries ();
  g_autoptr (GError) err = NULL;
  g_autoptr (MmPacsEntry) e = entry ("Lonely PACS", "http://e.test/dicom-web",
                                     MM_PACS_AUTH_BASIC, "u");
  g_assert_false (mm_pacs_secret_follow (list, -1, e, "pw-e", &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, "org.freedesktop.secrets"));
  g_clear_error (&err);
  g_assert_null (mm_pacs_secret_lookup (e, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_assert_nonnull (strstr (err->message, "Lonely PACS"));
  g_assert_nonnull (strstr (err->message, "cannot be reached"));
  g_assert_nonnull (strstr (err->message, "org.freedesktop.secrets"));
  g_assert_null (strchr (err->message, '\n'));
  g_clear_error (&err);
  /* An edit that would move the secret cannot read it: false, and nothing else done. */
  g_ptr_array_add (list, mm_pacs_entry_copy (e));
  g_autoptr (MmPacsEntry) moved = entry ("Lonely PACS", "http://e.test/dicom-web2",
                                         MM_PACS_AUTH_BASIC, "u");
  g_assert_false (mm_pacs_secret_follow (list, 0, moved, NULL, &err));
  g_assert_nonnull (err);
  g_clear_error (&err);
  mm_pacs_secret_forget (list, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  const char *mode = g_getenv ("MM_TEST_KEYRING");
  if (g_strcmp0 (mode, "none") == 0)
    g_test_add_func ("/pacs-secrets/no-service", test_no_service);
  else if (g_strcmp0 (mode, "unlocked") == 0)
    {
      g_test_add_func ("/pacs-secrets/new", test_new);
      g_test_add_func ("/pacs-secrets/nothing-kept", test_nothing_kept);
      g_test_add_func ("/pacs-secrets/follow-edit", test_follow_edit);
      g_test_add_func ("/pacs-secrets/no-follow-elsewhere", test_no_follow_elsewhere);
      g_test_add_func ("/pacs-secrets/auth-off", test_auth_off);
      g_test_add_func ("/pacs-secrets/shared", test_shared);
    }
  else if (g_strcmp0 (mode, "failed") == 0)
    g_error ("run-under-xvfb's gnome-keyring-daemon did not come up");
  else
    {
      /* TAP's plan for a skipped file (meson reads it): no test, and why. */
      printf ("1..0 # SKIP %s\n",
              mode ? "gnome-keyring is not installed (Debian package gnome-keyring)"
                   : "run through tests/gui/run-under-xvfb, which starts a keyring");
      return 0;
    }
  return g_test_run ();
}
