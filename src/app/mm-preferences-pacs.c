/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Preferences → PACS: the server list (GSettings pacs-servers, secrets in the keyring), an
 * editor window per server with Test Connection, and the cache's size limit. */
#include "mm-preferences-pacs.h"

#include "mm-pacs-servers.h"
#include "mm-pacs-wado.h"
#include "mm-text.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>

typedef struct
{
  AdwPreferencesWindow *window; /* weak: the page lives inside it */
  GSettings *settings;          /* may be NULL */
  AdwPreferencesGroup *group;
  GPtrArray *rows; /* the server rows shown, to remove on a rebuild */
  GPtrArray *entries;
} Page;

typedef struct
{
  Page *page;
  AdwWindow *win;
  int index; /* in page->entries; -1: a new server */
  AdwEntryRow *name, *address, *our_aet, *user;
  AdwComboRow *kind, *auth;
  AdwPasswordEntryRow *secret;
  GtkLabel *status;
  GtkButton *test, *save;
  GCancellable *cancellable;
} Editor;

static void rebuild (Page *page);

static void
page_free (gpointer data)
{
  Page *page = data;
  g_clear_object (&page->settings);
  g_ptr_array_unref (page->rows);
  g_ptr_array_unref (page->entries);
  g_free (page);
}

static const char *
text (AdwEntryRow *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

static void
editor_status (Editor *ed, const char *msg)
{
  g_autofree char *printable = mm_text_printable (msg);
  gtk_label_set_text (ed->status, printable);
}

/* The entry as the fields say (not yet stored). */
static MmPacsEntry *
editor_entry (Editor *ed)
{
  MmPacsEntry *e = mm_pacs_entry_new ();
  g_free (e->name), e->name = g_strstrip (g_strdup (text (ed->name)));
  g_free (e->address), e->address = g_strstrip (g_strdup (text (ed->address)));
  g_free (e->our_aet), e->our_aet = g_strstrip (g_strdup (text (ed->our_aet)));
  g_free (e->user), e->user = g_strstrip (g_strdup (text (ed->user)));
  e->kind = adw_combo_row_get_selected (ed->kind) == 1 ? MM_PACS_KIND_DIMSE
                                                         : MM_PACS_KIND_DICOMWEB;
  e->auth = (MmPacsAuth) MIN (adw_combo_row_get_selected (ed->auth), 2u);
  if (e->kind == MM_PACS_KIND_DIMSE)
    e->auth = MM_PACS_AUTH_NONE;
  return e;
}

static void
kind_changed (Editor *ed)
{
  bool dimse = adw_combo_row_get_selected (ed->kind) == 1;
  gtk_widget_set_visible (GTK_WIDGET (ed->our_aet), dimse);
  gtk_widget_set_visible (GTK_WIDGET (ed->auth), !dimse);
  gtk_widget_set_visible (GTK_WIDGET (ed->user), !dimse);
  gtk_widget_set_visible (GTK_WIDGET (ed->secret), !dimse);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (ed->address),
                                 dimse ? _("Called AE title, host and port (AET@host:port)")
                                       : _("Base URL (e.g. https://pacs:8042/dicom-web)"));
}

static void
echo_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *err = NULL;
  if (mm_pacs_conn_echo (data, cancellable, &err))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, err);
}

static void
echo_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Editor *ed = data;
  MmPacsConn *conn = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) err = NULL;
  bool ok = g_task_propagate_boolean (G_TASK (result), &err);
  bool cancelled = g_cancellable_is_cancelled (ed->cancellable);
  g_clear_object (&ed->cancellable);
  if (!cancelled)
    {
      g_autofree char *name = mm_pacs_conn_name (conn);
      g_autofree char *msg
          = ok ? g_strdup_printf (conn->kind == MM_PACS_KIND_DIMSE
                                      ? _("Connected: %s answered C-ECHO.")
                                      : _("Connected: %s answers DICOMweb queries."),
                                  name)
               : g_strdup (err->message);
      editor_status (ed, msg);
      gtk_widget_set_sensitive (GTK_WIDGET (ed->test), TRUE);
    }
  g_object_unref (ed->win);
}

static void
test_clicked (Editor *ed)
{
  if (ed->cancellable)
    return;
  g_autoptr (MmPacsEntry) e = editor_entry (ed);
  g_autoptr (GError) err = NULL;
  MmPacsConn *conn = mm_pacs_entry_connect (e, text (ADW_ENTRY_ROW (ed->secret)), &err);
  if (conn == NULL)
    {
      editor_status (ed, err->message);
      return;
    }
  ed->cancellable = g_cancellable_new ();
  gtk_widget_set_sensitive (GTK_WIDGET (ed->test), FALSE);
  editor_status (ed, _("Testing the connection…"));
  g_autoptr (GTask) task = g_task_new (NULL, ed->cancellable, echo_done, ed);
  g_object_ref (ed->win); /* ed lives as long as its window */
  g_task_set_task_data (task, conn, (GDestroyNotify) mm_pacs_conn_free);
  g_task_run_in_thread (task, echo_thread);
}

static void
save_clicked (Editor *ed)
{
  Page *page = ed->page;
  g_autoptr (MmPacsEntry) e = editor_entry (ed);
  g_autoptr (GError) err = NULL;
  if (*e->name == '\0')
    {
      editor_status (ed, _("Give the server a name."));
      return;
    }
  for (guint i = 0; i < page->entries->len; i++)
    if ((int) i != ed->index
        && g_str_equal (((MmPacsEntry *) page->entries->pdata[i])->name, e->name))
      {
        editor_status (ed, _("Another server has this name."));
        return;
      }
  /* The address must make a connection (checked here, without the network). */
  g_autoptr (MmPacsConn) conn = mm_pacs_entry_connect (e, "-", &err);
  if (conn == NULL)
    {
      editor_status (ed, err->message);
      return;
    }
  const char *secret = text (ADW_ENTRY_ROW (ed->secret));
  if (!mm_pacs_secret_follow (page->entries, ed->index, e, secret, &err))
    {
      g_autofree char *msg = g_strdup_printf (_("Saved without the password: the desktop "
                                                "keyring could not keep it (%s). Start a "
                                                "keyring (Secret Service), then type the "
                                                "password again."),
                                              err->message);
      g_autofree char *line = mm_text_printable (msg);
      /* An alert, not a toast: the secret was not kept, which must not pass unseen, and a
       * toast would cut the reason off at its width. The body is plain text. */
      GtkWidget *alert = adw_message_dialog_new (GTK_WINDOW (page->window),
                                                 _("Password Not Kept"), line);
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (alert), "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (alert));
    }
  if (ed->index >= 0 && (guint) ed->index < page->entries->len)
    {
      mm_pacs_entry_free (page->entries->pdata[ed->index]);
      page->entries->pdata[ed->index] = g_steal_pointer (&e);
    }
  else
    g_ptr_array_add (page->entries, g_steal_pointer (&e));
  mm_pacs_servers_save (page->settings, page->entries);
  rebuild (page);
  gtk_window_destroy (GTK_WINDOW (ed->win));
}

/* However the editor goes (Save, its parent destroyed), a running test must not show its
 * answer in destroyed widgets: echo_done skips them once cancelled. */
static void
editor_destroyed (GtkWidget *win, Editor *ed)
{
  if (ed->cancellable)
    g_cancellable_cancel (ed->cancellable);
}

static gboolean
editor_close (GtkWindow *win, Editor *ed)
{
  if (ed->cancellable)
    g_cancellable_cancel (ed->cancellable);
  return FALSE;
}

static AdwEntryRow *
editor_row (AdwPreferencesGroup *group, const char *title, const char *value)
{
  GtkWidget *row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_editable_set_text (GTK_EDITABLE (row), value ? value : "");
  adw_preferences_group_add (group, row);
  return ADW_ENTRY_ROW (row);
}

static AdwComboRow *
editor_combo (AdwPreferencesGroup *group, const char *title, const char *const *items,
              guint selected)
{
  AdwComboRow *row = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  GtkStringList *model = gtk_string_list_new (items);
  adw_combo_row_set_model (row, G_LIST_MODEL (model));
  g_object_unref (model);
  adw_combo_row_set_selected (row, selected);
  adw_preferences_group_add (group, GTK_WIDGET (row));
  return row;
}

/* The editor of entry index (-1: a new server). */
static void
edit (Page *page, int index)
{
  const MmPacsEntry *e = index >= 0 ? page->entries->pdata[index] : NULL;
  Editor *ed = g_new0 (Editor, 1);
  ed->page = page;
  ed->index = index;
  ed->win = ADW_WINDOW (adw_window_new ());
  gtk_window_set_title (GTK_WINDOW (ed->win), e ? _("Edit PACS Server") : _("Add PACS Server"));
  gtk_window_set_transient_for (GTK_WINDOW (ed->win), GTK_WINDOW (page->window));
  gtk_window_set_modal (GTK_WINDOW (ed->win), TRUE);
  /* ed->page is the Preferences window's: the editor must not outlive it. */
  gtk_window_set_destroy_with_parent (GTK_WINDOW (ed->win), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (ed->win), 560, -1);
  g_object_set_data_full (G_OBJECT (ed->win), "mm-editor", ed, g_free);

  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  gtk_box_append (GTK_BOX (outer), header);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (outer), box);
  AdwPreferencesGroup *group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (group));
  ed->name = editor_row (group, _("Name"), e ? e->name : "");
  const char *kinds[] = { _("DICOMweb (QIDO-RS, WADO-RS, STOW-RS)"),
                          _("DIMSE (C-FIND, C-GET, C-STORE)"), NULL };
  ed->kind = editor_combo (group, _("Kind"), kinds,
                           e && e->kind == MM_PACS_KIND_DIMSE ? 1 : 0);
  ed->address = editor_row (group, "", e ? e->address : "");
  ed->our_aet = editor_row (group, _("Our AE title (calling; empty: METALMARK)"),
                            e ? e->our_aet : "");
  const char *auths[] = { _("None"), _("Basic (user and password)"), _("Bearer token"), NULL };
  ed->auth = editor_combo (group, _("Authentication"), auths, e ? (guint) e->auth : 0);
  ed->user = editor_row (group, _("User"), e ? e->user : "");
  ed->secret = ADW_PASSWORD_ENTRY_ROW (adw_password_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (ed->secret),
                                 _("Password or token (kept in the desktop keyring)"));
  adw_preferences_group_add (group, GTK_WIDGET (ed->secret));
  kind_changed (ed);

  ed->status = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (ed->status, 0);
  gtk_label_set_wrap (ed->status, TRUE);
  gtk_label_set_selectable (ed->status, TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (ed->status));
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_halign (bar, GTK_ALIGN_END);
  ed->test = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Test Connection")));
  ed->save = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Save")));
  gtk_widget_add_css_class (GTK_WIDGET (ed->save), "suggested-action");
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (ed->test));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (ed->save));
  gtk_box_append (GTK_BOX (box), bar);
  adw_window_set_content (ed->win, outer);

  g_signal_connect_swapped (ed->kind, "notify::selected", G_CALLBACK (kind_changed), ed);
  g_signal_connect_swapped (ed->test, "clicked", G_CALLBACK (test_clicked), ed);
  g_signal_connect_swapped (ed->save, "clicked", G_CALLBACK (save_clicked), ed);
  g_signal_connect (ed->win, "close-request", G_CALLBACK (editor_close), ed);
  g_signal_connect (ed->win, "destroy", G_CALLBACK (editor_destroyed), ed);
  gtk_window_present (GTK_WINDOW (ed->win));
}

static void
edit_clicked (GtkButton *button, Page *page)
{
  edit (page, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "mm-index")));
}

static void
remove_clicked (GtkButton *button, Page *page)
{
  guint i = (guint) GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "mm-index"));
  if (i >= page->entries->len)
    return;
  mm_pacs_secret_forget (page->entries, i); /* its password goes with it */
  g_ptr_array_remove_index (page->entries, i);
  mm_pacs_servers_save (page->settings, page->entries);
  rebuild (page);
}

static void
add_clicked (Page *page)
{
  edit (page, -1);
}

static GtkWidget *
row_button (const char *icon, const char *tooltip, guint index, GCallback cb, Page *page)
{
  GtkWidget *b = gtk_button_new_from_icon_name (icon);
  gtk_widget_set_valign (b, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (b, "flat");
  gtk_widget_set_tooltip_text (b, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip,
                                  -1);
  g_object_set_data (G_OBJECT (b), "mm-index", GINT_TO_POINTER (index));
  g_signal_connect (b, "clicked", cb, page);
  return b;
}

static void
rebuild (Page *page)
{
  for (guint i = 0; i < page->rows->len; i++)
    adw_preferences_group_remove (page->group, page->rows->pdata[i]);
  g_ptr_array_set_size (page->rows, 0);
  g_ptr_array_unref (page->entries);
  page->entries = mm_pacs_servers_load (page->settings);
  /* $MM_PACS_URL's entry is not the user's to edit: it is shown by Open from PACS only. */
  for (guint i = 0; i < page->entries->len;)
    if (((MmPacsEntry *) page->entries->pdata[i])->from_env)
      g_ptr_array_remove_index (page->entries, i);
    else
      i++;
  for (guint i = 0; i < page->entries->len; i++)
    {
      const MmPacsEntry *e = page->entries->pdata[i];
      GtkWidget *row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      g_autofree char *name = mm_text_printable (e->name);
      g_autofree char *sub = g_strdup_printf ("%s · %s", e->kind == MM_PACS_KIND_DIMSE
                                                             ? "DIMSE" : "DICOMweb",
                                              e->address);
      g_autofree char *psub = mm_text_printable (sub);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), psub);
      g_autofree char *tip_e = g_strdup_printf (_("Edit %s"), name);
      g_autofree char *tip_r = g_strdup_printf (_("Remove %s"), name);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 row_button ("document-edit-symbolic", tip_e, i,
                                             G_CALLBACK (edit_clicked), page));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                                 row_button ("user-trash-symbolic", tip_r, i,
                                             G_CALLBACK (remove_clicked), page));
      adw_preferences_group_add (page->group, row);
      g_ptr_array_add (page->rows, row);
    }
}

void
mm_preferences_pacs_add_page (AdwPreferencesWindow *window, GSettings *settings)
{
  Page *page = g_new0 (Page, 1);
  page->window = window;
  page->settings = settings ? g_object_ref (settings) : NULL;
  page->rows = g_ptr_array_new ();
  page->entries = g_ptr_array_new ();
  AdwPreferencesPage *p = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  adw_preferences_page_set_title (p, _("PACS"));
  adw_preferences_page_set_icon_name (p, "network-server-symbolic");
  g_object_set_data_full (G_OBJECT (p), "mm-page", page, page_free);

  page->group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (page->group, _("PACS Servers"));
  adw_preferences_group_set_description (
      page->group, _("Servers for Open from PACS and Send to PACS. Passwords and tokens are "
                     "kept in the desktop keyring."));
  GtkWidget *add = gtk_button_new_with_mnemonic (_("_Add Server…"));
  gtk_widget_set_valign (add, GTK_ALIGN_CENTER);
  adw_preferences_group_set_header_suffix (page->group, add);
  g_signal_connect_swapped (add, "clicked", G_CALLBACK (add_clicked), page);
  adw_preferences_page_add (p, page->group);
  rebuild (page);

  AdwPreferencesGroup *cache = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (cache, _("Cache"));
  g_autofree char *root = mm_pacs_cache_default_root ();
  g_autofree char *root_markup = g_markup_escape_text (root, -1);
  g_autofree char *desc = g_strdup_printf (_("Retrieved series are kept in %s; the least "
                                             "recently used are removed beyond the limit."),
                                           root_markup);
  adw_preferences_group_set_description (cache, desc);
  GtkWidget *row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Cache size limit (MB)"));
  guint64 held = mm_pacs_cache_evict (root, G_MAXUINT64, NULL);
  g_autofree char *sub = g_strdup_printf (_("Holds %.1f MB now"), (double) held / 1e6);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), sub);
  GtkWidget *spin = gtk_spin_button_new_with_range (64, 1048576, 64);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Cache size limit (MB)"), -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  if (settings)
    g_settings_bind (settings, "pacs-cache-max-mb", spin, "value", G_SETTINGS_BIND_DEFAULT);
  else
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 4096);
  adw_preferences_group_add (cache, row);
  adw_preferences_page_add (p, cache);
  adw_preferences_window_add (window, p);
}
