/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-servers.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>
#include <string.h>

static const SecretSchema *
secret_schema (void)
{
  /* The attributes the dialog used before the server list: secrets kept then still match. */
  static const SecretSchema schema = {
    "io.github.metalmark.Metalmark.Pacs", SECRET_SCHEMA_NONE,
    { { "url", SECRET_SCHEMA_ATTRIBUTE_STRING }, { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 } },
  };
  return &schema;
}

MmPacsEntry *
mm_pacs_entry_new (void)
{
  MmPacsEntry *e = g_new0 (MmPacsEntry, 1);
  e->name = g_strdup ("");
  e->address = g_strdup ("");
  e->our_aet = g_strdup ("");
  e->user = g_strdup ("");
  return e;
}

MmPacsEntry *
mm_pacs_entry_copy (const MmPacsEntry *e)
{
  MmPacsEntry *c = g_new0 (MmPacsEntry, 1);
  *c = *e;
  c->name = g_strdup (e->name);
  c->address = g_strdup (e->address);
  c->our_aet = g_strdup (e->our_aet);
  c->user = g_strdup (e->user);
  return c;
}

void
mm_pacs_entry_free (MmPacsEntry *e)
{
  if (e == NULL)
    return;
  g_free (e->name);
  g_free (e->address);
  g_free (e->our_aet);
  g_free (e->user);
  g_free (e);
}

char *
mm_pacs_entry_label (const MmPacsEntry *e)
{
  return g_strdup_printf ("%s · %s", e->name, e->address);
}

static const char *const auth_names[] = { "none", "basic", "bearer" };

GPtrArray *
mm_pacs_servers_load (GSettings *settings)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) mm_pacs_entry_free);
  const char *env = g_getenv ("MM_PACS_URL");
  if (env && *env)
    {
      MmPacsEntry *e = mm_pacs_entry_new ();
      g_free (e->name), e->name = g_strdup ("MM_PACS_URL");
      g_free (e->address), e->address = g_strdup (env);
      e->from_env = true;
      g_ptr_array_add (out, e);
    }
  if (settings == NULL)
    return out;
  g_autoptr (GVariant) list = g_settings_get_value (settings, "pacs-servers");
  GVariantIter it;
  GVariant *dict;
  g_variant_iter_init (&it, list);
  while ((dict = g_variant_iter_next_value (&it)) != NULL)
    {
      MmPacsEntry *e = mm_pacs_entry_new ();
      const char *s;
      if (g_variant_lookup (dict, "name", "&s", &s))
        g_free (e->name), e->name = g_strdup (s);
      if (g_variant_lookup (dict, "address", "&s", &s))
        g_free (e->address), e->address = g_strdup (s);
      if (g_variant_lookup (dict, "our-aet", "&s", &s))
        g_free (e->our_aet), e->our_aet = g_strdup (s);
      if (g_variant_lookup (dict, "user", "&s", &s))
        g_free (e->user), e->user = g_strdup (s);
      if (g_variant_lookup (dict, "kind", "&s", &s) && g_str_equal (s, "dimse"))
        e->kind = MM_PACS_KIND_DIMSE;
      if (g_variant_lookup (dict, "auth", "&s", &s))
        for (guint i = 0; i < G_N_ELEMENTS (auth_names); i++)
          if (g_str_equal (s, auth_names[i]))
            e->auth = (MmPacsAuth) i;
      g_variant_unref (dict);
      if (*e->name && *e->address)
        g_ptr_array_add (out, e);
      else
        mm_pacs_entry_free (e);
    }
  return out;
}

void
mm_pacs_servers_save (GSettings *settings, GPtrArray *entries)
{
  if (settings == NULL)
    return;
  GVariantBuilder b;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{ss}"));
  for (guint i = 0; i < entries->len; i++)
    {
      const MmPacsEntry *e = entries->pdata[i];
      if (e->from_env)
        continue;
      g_variant_builder_open (&b, G_VARIANT_TYPE ("a{ss}"));
      g_variant_builder_add (&b, "{ss}", "name", e->name);
      g_variant_builder_add (&b, "{ss}", "kind",
                             e->kind == MM_PACS_KIND_DIMSE ? "dimse" : "dicomweb");
      g_variant_builder_add (&b, "{ss}", "address", e->address);
      g_variant_builder_add (&b, "{ss}", "our-aet", e->our_aet);
      g_variant_builder_add (&b, "{ss}", "auth", auth_names[MIN ((guint) e->auth, 2u)]);
      g_variant_builder_add (&b, "{ss}", "user", e->user);
      g_variant_builder_close (&b);
    }
  g_settings_set_value (settings, "pacs-servers", g_variant_builder_end (&b));
}

guint
mm_pacs_servers_find (GPtrArray *entries, const char *name)
{
  for (guint i = 0; name && i < entries->len; i++)
    if (g_str_equal (((MmPacsEntry *) entries->pdata[i])->name, name))
      return i;
  return 0;
}

guint64
mm_pacs_cache_max_bytes (GSettings *settings)
{
  guint mb = settings ? g_settings_get_uint (settings, "pacs-cache-max-mb") : 4096;
  return (guint64) mb << 20;
}

MmPacsConn *
mm_pacs_entry_connect (const MmPacsEntry *e, const char *secret, GError **error)
{
  guint timeout = 0;
  const char *t = g_getenv ("MM_PACS_TIMEOUT");
  guint64 v;
  if (t && g_ascii_string_to_unsigned (t, 10, 1, 3600, &v, NULL))
    timeout = (guint) v;
  if (e->kind == MM_PACS_KIND_DIMSE)
    return mm_pacs_conn_new_dimse (e->address, e->our_aet, timeout, error);
  g_autofree char *kept = NULL;
  if (e->auth != MM_PACS_AUTH_NONE && (secret == NULL || *secret == '\0'))
    {
      secret = kept = mm_pacs_secret_lookup (e, error);
      if (kept == NULL)
        return NULL;
    }
  MmPacsConn *conn = mm_pacs_conn_new_dicomweb (e->address, e->auth,
                                                *e->user ? e->user : NULL,
                                                secret && *secret ? secret : NULL, timeout,
                                                error);
  if (kept)
    secret_password_free (g_steal_pointer (&kept)); /* wiped, then freed */
  return conn;
}

/* Whether e's connection takes a secret from the keyring. */
static bool
takes_secret (const MmPacsEntry *e)
{
  return e->kind == MM_PACS_KIND_DICOMWEB && e->auth != MM_PACS_AUTH_NONE;
}

/* Whether a and b share a keyring item (the item is keyed by address and user). */
static bool
same_item (const MmPacsEntry *a, const MmPacsEntry *b)
{
  return g_str_equal (a->address, b->address) && g_str_equal (a->user, b->user);
}

/* Whether a kept secret may follow an edit from a to b without being typed again: the same
 * kind of secret to the same origin (scheme, host, port). A password must never follow a
 * URL to another host, or from https to http. */
static bool
may_follow (const MmPacsEntry *a, const MmPacsEntry *b)
{
  if (a->auth != b->auth)
    return false;
  g_autoptr (GUri) ua = g_uri_parse (a->address, G_URI_FLAGS_NONE, NULL);
  g_autoptr (GUri) ub = g_uri_parse (b->address, G_URI_FLAGS_NONE, NULL);
  return ua && ub && g_ascii_strcasecmp (g_uri_get_scheme (ua), g_uri_get_scheme (ub)) == 0
         && g_uri_get_host (ua) && g_uri_get_host (ub)
         && g_ascii_strcasecmp (g_uri_get_host (ua), g_uri_get_host (ub)) == 0
         && g_uri_get_port (ua) == g_uri_get_port (ub);
}

/* Whether an entry of entries other than number skip takes the secret of e's item. */
static bool
item_shared (GPtrArray *entries, int skip, const MmPacsEntry *e)
{
  for (guint i = 0; entries && i < entries->len; i++)
    {
      const MmPacsEntry *o = entries->pdata[i];
      if ((int) i != skip && !o->from_env && takes_secret (o) && same_item (o, e))
        return true;
    }
  return false;
}

bool
mm_pacs_secret_store (const MmPacsEntry *e, const char *secret, GError **error)
{
  if (secret == NULL || *secret == '\0')
    {
      /* Nothing kept is not an error (no keyring, or never stored). */
      secret_password_clear_sync (secret_schema (), NULL, NULL, "url", e->address, "user",
                                  e->user, NULL);
      return true;
    }
  g_autofree char *label = g_strdup_printf ("Metalmark PACS %s", e->address);
  return secret_password_store_sync (secret_schema (), SECRET_COLLECTION_DEFAULT, label, secret,
                                     NULL, error, "url", e->address, "user", e->user, NULL);
}

char *
mm_pacs_secret_lookup (const MmPacsEntry *e, GError **error)
{
  g_autoptr (GError) err = NULL;
  char *secret = secret_password_lookup_sync (secret_schema (), NULL, &err, "url", e->address,
                                              "user", e->user, NULL);
  if (secret != NULL)
    return secret;
  if (err != NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                 _("PACS server %s: no password or token: the desktop keyring cannot be "
                   "reached (%s). Start a keyring (Secret Service), then type the password "
                   "again in Preferences, PACS page."),
                 e->name, err->message);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("PACS server %s: the desktop keyring holds no password or token for it. "
                   "Type it in Preferences, PACS page (Edit)."),
                 e->name);
  return NULL;
}

bool
mm_pacs_secret_follow (GPtrArray *entries, int index, const MmPacsEntry *now,
                       const char *typed, GError **error)
{
  const MmPacsEntry *old = index >= 0 && entries && (guint) index < entries->len
                               ? entries->pdata[index]
                               : NULL;
  bool old_item = old != NULL && takes_secret (old);
  bool keep = old_item && takes_secret (now) && same_item (old, now) && old->auth == now->auth;
  g_autofree char *moved = NULL;
  if (takes_secret (now) && (typed == NULL || *typed == '\0') && old_item && !keep
      && may_follow (old, now))
    {
      /* Path or user edited, no secret typed: the kept one follows the server. */
      g_autoptr (GError) err = NULL;
      moved = secret_password_lookup_sync (secret_schema (), NULL, &err, "url", old->address,
                                           "user", old->user, NULL);
      if (err != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&err));
          return false;
        }
      typed = moved;
    }
  if (takes_secret (now) && typed != NULL && *typed != '\0')
    {
      bool ok = mm_pacs_secret_store (now, typed, error);
      if (moved)
        secret_password_free (g_steal_pointer (&moved)); /* wiped, then freed */
      if (!ok)
        return false;
    }
  /* The old item goes unless the server still uses it or another server shares it. */
  if (old_item && !keep && !item_shared (entries, index, old))
    mm_pacs_secret_store (old, NULL, NULL);
  return true;
}

void
mm_pacs_secret_forget (GPtrArray *entries, guint index)
{
  const MmPacsEntry *e = entries->pdata[index];
  if (takes_secret (e) && !item_shared (entries, (int) index, e))
    mm_pacs_secret_store (e, NULL, NULL);
}
