/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-pacs-dialog.h"

#include "mm-pacs-qido.h"
#include "mm-pacs-servers.h"
#include "mm-text.h"

#include <glib/gi18n.h>

struct _MmPacsDialog
{
  AdwWindow parent_instance;

  AdwEntryRow *patient, *patient_id, *accession, *date, *modality;
  AdwComboRow *server; /* the servers of Preferences (and $MM_PACS_URL's) */
  GtkListBox *studies, *series;
  GtkLabel *status;
  GtkProgressBar *progress;
  GtkButton *search, *open, *cancel, *test;

  GPtrArray *study_rows;  /* MmPacsStudy of the study rows */
  GPtrArray *series_rows; /* MmPacsSeries of the series rows */
  GPtrArray *entries;     /* MmPacsEntry of the server row */
  GSettings *settings;    /* may be NULL */
  MmPacsConn *srv;        /* of the running operation */
  GCancellable *cancellable;
  GCancellable *thumbs; /* of the series thumbnails being fetched, one after another */
  gint64 expected; /* instances of the series being retrieved, -1 unknown */
  bool disposed;   /* the widgets are gone: an operation ending now touches nothing */
};

G_DEFINE_FINAL_TYPE (MmPacsDialog, mm_pacs_dialog, ADW_TYPE_WINDOW)

enum
{
  SERIES_RETRIEVED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
set_status (MmPacsDialog *self, const char *text)
{
  g_autofree char *printable = mm_text_printable (text ? text : "");
  gtk_label_set_text (self->status, printable);
}

static void
set_busy (MmPacsDialog *self, bool busy)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->search), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->test), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->open), !busy && self->series_rows->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->cancel), busy);
}

static const char *
entry (AdwEntryRow *row)
{
  const char *t = gtk_editable_get_text (GTK_EDITABLE (row));
  return t && *t ? t : NULL;
}

/* A connection to the chosen server (its secret from the keyring); remembered as the last
 * used. */
static MmPacsConn *
make_server (MmPacsDialog *self, GError **error)
{
  guint i = adw_combo_row_get_selected (self->server);
  if (i == GTK_INVALID_LIST_POSITION || i >= self->entries->len)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("No PACS server: add one in Preferences (Ctrl+comma), PACS page."));
      return NULL;
    }
  const MmPacsEntry *e = self->entries->pdata[i];
  if (self->settings && !e->from_env)
    g_settings_set_string (self->settings, "pacs-server", e->name);
  return mm_pacs_entry_connect (e, NULL, error);
}

/* The server list again (Preferences may have changed it), keeping the chosen one. */
static void
reload_servers (MmPacsDialog *self)
{
  g_autofree char *chosen = NULL;
  guint i = adw_combo_row_get_selected (self->server);
  if (self->entries && i < self->entries->len)
    chosen = g_strdup (((MmPacsEntry *) self->entries->pdata[i])->name);
  else if (self->settings)
    chosen = g_settings_get_string (self->settings, "pacs-server");
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  self->entries = mm_pacs_servers_load (self->settings);
  GtkStringList *model = gtk_string_list_new (NULL);
  for (guint k = 0; k < self->entries->len; k++)
    {
      g_autofree char *label = mm_pacs_entry_label (self->entries->pdata[k]);
      g_autofree char *printable = mm_text_printable (label);
      gtk_string_list_append (model, printable);
    }
  adw_combo_row_set_model (self->server, G_LIST_MODEL (model));
  g_object_unref (model);
  if (self->entries->len > 0)
    adw_combo_row_set_selected (self->server, mm_pacs_servers_find (self->entries, chosen));
}

/* ---- the operations, each in a thread ---- */

typedef struct
{
  MmPacsQuery q;
  char *strings[7];
  bool series;
} Find;

static void
find_free (gpointer data)
{
  Find *f = data;
  for (int i = 0; i < 7; i++)
    g_free (f->strings[i]);
  g_free (f);
}

static void
find_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  MmPacsDialog *self = source;
  Find *f = data;
  GError *err = NULL;
  GPtrArray *res = f->series ? mm_pacs_conn_find_series (self->srv, &f->q, cancellable, &err)
                             : mm_pacs_conn_find_studies (self->srv, &f->q, cancellable, &err);
  if (res)
    g_task_return_pointer (task, res, (GDestroyNotify) g_ptr_array_unref);
  else
    g_task_return_error (task, err);
}

static void
clear_list (GtkListBox *list)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static GtkWidget *
row_new (const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  g_autofree char *t = mm_text_printable (title);
  g_autofree char *s = mm_text_printable (subtitle);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), t);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), s);
  return row;
}

/* The operation ended; false when the dialog was destroyed meanwhile (the window closed
 * with the app): its widgets must not be touched. */
static bool
operation_end (MmPacsDialog *self)
{
  g_clear_pointer (&self->srv, mm_pacs_conn_free);
  g_clear_object (&self->cancellable);
  if (self->disposed)
    return false;
  set_busy (self, false);
  return true;
}

/* ---- series thumbnails: the server's rendered PNG of each series' middle instance,
 * fetched one after another in a thread (one connection of their own, never shared with
 * the operation above), decoded there and shown in the row's prefix. A series the server
 * renders nothing for keeps an empty row start; a refused answer (not a PNG, too large) is
 * the row's tooltip in one line. DIMSE servers offer no rendered resource: no thumbnails. */

typedef struct
{
  MmPacsDialog *self;   /* a reference; self->disposed says whether widgets still exist */
  MmPacsConn *conn;
  GPtrArray *series;   /* MmPacsSeries, a reference to the listing's array */
  GPtrArray *pictures; /* GtkPicture of each row, references */
  GCancellable *cancellable;
  guint next;
} Thumbs;

static void
thumbs_free (Thumbs *t)
{
  g_object_unref (t->self);
  mm_pacs_conn_free (t->conn);
  g_ptr_array_unref (t->series);
  g_ptr_array_unref (t->pictures);
  g_object_unref (t->cancellable);
  g_free (t);
}

static void
thumb_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Thumbs *t = data;
  const MmPacsSeries *s = t->series->pdata[t->next];
  GError *err = NULL;
  g_autoptr (GBytes) png = mm_pacs_conn_thumbnail (t->conn, s->study_uid, s->series_uid,
                                                   cancellable, &err);
  /* The bytes were checked (a PNG of at most 1024 pixels a side, at most 2 MB) before GDK
   * decodes them; GDK textures are immutable and may be made in a thread. */
  GdkTexture *tex = png ? gdk_texture_new_from_bytes (png, &err) : NULL;
  if (tex)
    g_task_return_pointer (task, tex, g_object_unref);
  else
    g_task_return_error (task, err);
}

static void thumb_next (Thumbs *t);

static void
thumb_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Thumbs *t = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GdkTexture) tex = g_task_propagate_pointer (G_TASK (result), &err);
  if (t->self->disposed || g_cancellable_is_cancelled (t->cancellable))
    {
      thumbs_free (t);
      return;
    }
  GtkWidget *picture = t->pictures->pdata[t->next];
  if (tex)
    {
      gtk_picture_set_paintable (GTK_PICTURE (picture), GDK_PAINTABLE (tex));
      gtk_widget_set_visible (picture, TRUE);
    }
  else if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
    {
      g_autofree char *printable = mm_text_printable (err->message);
      g_autofree char *tip = g_strdup_printf (_("No thumbnail: %s"), printable);
      GtkWidget *row = gtk_widget_get_ancestor (picture, GTK_TYPE_LIST_BOX_ROW);
      if (row)
        gtk_widget_set_tooltip_text (row, tip);
    }
  t->next++;
  thumb_next (t);
}

static void
thumb_next (Thumbs *t)
{
  if (t->next >= t->series->len || g_cancellable_is_cancelled (t->cancellable))
    {
      thumbs_free (t);
      return;
    }
  g_autoptr (GTask) task = g_task_new (NULL, t->cancellable, thumb_done, t);
  g_task_set_task_data (task, t, NULL);
  g_task_run_in_thread (task, thumb_thread);
}

static void
stop_thumbs (MmPacsDialog *self)
{
  if (self->thumbs)
    g_cancellable_cancel (self->thumbs);
  g_clear_object (&self->thumbs);
}

/* Thumbnails for the series rows just listed (pictures: a GtkPicture per row). */
static void
start_thumbs (MmPacsDialog *self, GPtrArray *series, GPtrArray *pictures)
{
  stop_thumbs (self);
  if (series->len == 0)
    return;
  MmPacsConn *conn = make_server (self, NULL);
  if (conn == NULL)
    return;
  if (conn->kind == MM_PACS_KIND_DIMSE)
    {
      /* No rendered resource in DIMSE (see mm_pacs_conn_thumbnail). */
      mm_pacs_conn_free (conn);
      return;
    }
  self->thumbs = g_cancellable_new ();
  Thumbs *t = g_new0 (Thumbs, 1);
  t->self = g_object_ref (self);
  t->conn = conn;
  t->series = g_ptr_array_ref (series);
  t->pictures = g_ptr_array_ref (pictures);
  t->cancellable = g_object_ref (self->thumbs);
  thumb_next (t);
}

static GtkWidget *
thumb_picture (const char *title)
{
  GtkWidget *picture = gtk_picture_new ();
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_widget_set_size_request (picture, 48, 48);
  gtk_widget_set_valign (picture, GTK_ALIGN_CENTER);
  g_autofree char *label = g_strdup_printf (_("Thumbnail of %s"), title);
  g_autofree char *printable = mm_text_printable (label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (picture), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  printable, -1);
  gtk_widget_set_visible (picture, FALSE); /* until the server's picture arrived */
  return picture;
}

static void
find_done (GObject *source, GAsyncResult *result, gpointer data)
{
  MmPacsDialog *self = MM_PACS_DIALOG (source);
  Find *f = g_task_get_task_data (G_TASK (result));
  bool series = f->series;
  g_autoptr (GError) err = NULL;
  GPtrArray *res = g_task_propagate_pointer (G_TASK (result), &err);
  if (!operation_end (self))
    {
      if (res)
        g_ptr_array_unref (res);
      return;
    }
  if (res == NULL)
    {
      set_status (self, err->message);
      return;
    }
  if (!series)
    {
      g_ptr_array_unref (self->study_rows);
      self->study_rows = res;
      stop_thumbs (self);
      clear_list (self->studies);
      clear_list (self->series);
      g_ptr_array_set_size (self->series_rows, 0);
      for (guint i = 0; i < res->len; i++)
        {
          MmPacsStudy *s = res->pdata[i];
          g_autofree char *title = g_strdup_printf ("%s · %s", s->patient_name ? s->patient_name : "?",
                                                    s->date ? s->date : "?");
          GString *sub_s = g_string_new (NULL);
          const char *parts[] = { s->patient_id, s->modalities, s->description };
          for (guint k = 0; k < G_N_ELEMENTS (parts); k++)
            if (parts[k] && *parts[k])
              g_string_append_printf (sub_s, "%s%s", sub_s->len ? " · " : "", parts[k]);
          g_autofree char *sub = g_string_free (sub_s, FALSE);
          gtk_list_box_append (self->studies, row_new (title, sub));
        }
      g_autofree char *msg = g_strdup_printf (g_dngettext (NULL, "%u study found.",
                                                           "%u studies found.", res->len),
                                              res->len);
      set_status (self, msg);
    }
  else
    {
      g_ptr_array_unref (self->series_rows);
      self->series_rows = res;
      clear_list (self->series);
      g_autoptr (GPtrArray) pictures = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < res->len; i++)
        {
          MmPacsSeries *s = res->pdata[i];
          long n = (long) MAX (0, s->n_instances);
          g_autofree char *sub = g_strdup_printf (g_dngettext (NULL, "%s · %ld instance",
                                                               "%s · %ld instances",
                                                               (gulong) n),
                                                  s->modality ? s->modality : "?", n);
          const char *title = s->description ? s->description : _("(no description)");
          GtkWidget *row = row_new (title, sub);
          GtkWidget *picture = thumb_picture (title);
          adw_action_row_add_prefix (ADW_ACTION_ROW (row), picture);
          g_ptr_array_add (pictures, g_object_ref (picture));
          gtk_list_box_append (self->series, row);
        }
      start_thumbs (self, res, pictures);
      if (res->len > 0)
        gtk_list_box_select_row (self->series, gtk_list_box_get_row_at_index (self->series, 0));
      set_status (self, "");
      set_busy (self, false);
    }
}

static void
start_find (MmPacsDialog *self, const char *study_uid)
{
  g_autoptr (GError) err = NULL;
  if (self->srv != NULL)
    return;
  self->srv = make_server (self, &err);
  if (self->srv == NULL)
    {
      set_status (self, err->message);
      return;
    }
  Find *f = g_new0 (Find, 1);
  f->series = study_uid != NULL;
  f->q.study_uid = f->strings[0] = g_strdup (study_uid);
  if (!f->series)
    {
      f->q.patient_name = f->strings[1] = g_strdup (entry (self->patient));
      f->q.patient_id = f->strings[2] = g_strdup (entry (self->patient_id));
      f->q.accession = f->strings[3] = g_strdup (entry (self->accession));
      f->q.modality = f->strings[4] = g_strdup (entry (self->modality));
      const char *date = entry (self->date);
      if (date)
        {
          g_auto (GStrv) parts = g_strsplit (date, "-", 2);
          f->q.date_from = f->strings[5] = g_strdup (parts[0]);
          f->q.date_to = f->strings[6] = g_strdup (parts[1] ? parts[1] : parts[0]);
          if ((*f->q.date_from && !mm_pacs_date_ok (f->q.date_from))
              || (*f->q.date_to && !mm_pacs_date_ok (f->q.date_to)))
            {
              find_free (f);
              g_clear_pointer (&self->srv, mm_pacs_conn_free);
              set_status (self, _("The study date must be YYYYMMDD or a range "
                                  "YYYYMMDD-YYYYMMDD."));
              return;
            }
        }
      f->q.limit = 500;
    }
  self->cancellable = g_cancellable_new ();
  set_busy (self, true);
  set_status (self, _("Searching…"));
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, find_done, NULL);
  g_task_set_task_data (task, f, find_free);
  g_task_run_in_thread (task, find_thread);
}

static void
search_clicked (MmPacsDialog *self)
{
  start_find (self, NULL);
}

static void
study_selected (MmPacsDialog *self, GtkListBoxRow *row)
{
  if (row == NULL)
    return;
  int i = gtk_list_box_row_get_index (row);
  if (i < 0 || (guint) i >= self->study_rows->len)
    return;
  MmPacsStudy *s = self->study_rows->pdata[i];
  start_find (self, s->study_uid);
}

static void
echo_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  MmPacsDialog *self = source;
  GError *err = NULL;
  if (mm_pacs_conn_echo (self->srv, cancellable, &err))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, err);
}

static void
echo_done (GObject *source, GAsyncResult *result, gpointer data)
{
  MmPacsDialog *self = MM_PACS_DIALOG (source);
  g_autoptr (GError) err = NULL;
  bool ok = g_task_propagate_boolean (G_TASK (result), &err);
  bool dimse = self->srv && self->srv->kind == MM_PACS_KIND_DIMSE;
  if (!operation_end (self))
    return;
  set_status (self, !ok ? err->message
                        : dimse ? _("The server answered C-ECHO.")
                                : _("The server answers DICOMweb queries."));
}

static void
test_clicked (MmPacsDialog *self)
{
  g_autoptr (GError) err = NULL;
  if (self->srv != NULL)
    return;
  self->srv = make_server (self, &err);
  if (self->srv == NULL)
    {
      set_status (self, err->message);
      return;
    }
  self->cancellable = g_cancellable_new ();
  set_busy (self, true);
  set_status (self, _("Testing the connection…"));
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, echo_done, NULL);
  g_task_run_in_thread (task, echo_thread);
}

static void
get_progress (guint64 bytes, guint instances, gpointer user)
{
  MmPacsDialog *self = user;
  if (self->disposed)
    return; /* a report queued before the dialog went */
  if (self->expected > 0)
    gtk_progress_bar_set_fraction (self->progress,
                                   MIN (1.0, (double) instances / (double) self->expected));
  else
    gtk_progress_bar_pulse (self->progress);
  g_autofree char *text = g_strdup_printf (_("%u instances, %.1f MB"), instances,
                                           (double) bytes / 1e6);
  gtk_progress_bar_set_text (self->progress, text);
}

static void
get_done (GObject *source, GAsyncResult *result, gpointer data)
{
  MmPacsDialog *self = data; /* held by a reference until here */
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = mm_pacs_get_finish (result, &err);
  if (!operation_end (self))
    {
      g_object_unref (self);
      return;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->progress), FALSE);
  if (dir == NULL)
    set_status (self, g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                        ? _("Cancelled; nothing of the series was kept.")
                        : err->message);
  else
    {
      /* Hidden, not destroyed: the window reuses it with its server and results. */
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      g_signal_emit (self, signals[SERIES_RETRIEVED], 0, dir);
    }
  g_object_unref (self);
}

static void
open_clicked (MmPacsDialog *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->series);
  int i = row ? gtk_list_box_row_get_index (row) : -1;
  if (self->srv != NULL || i < 0 || (guint) i >= self->series_rows->len)
    return;
  MmPacsSeries *s = self->series_rows->pdata[i];
  g_autoptr (GError) err = NULL;
  self->srv = make_server (self, &err);
  if (self->srv == NULL)
    {
      set_status (self, err->message);
      return;
    }
  self->expected = s->n_instances;
  self->cancellable = g_cancellable_new ();
  set_busy (self, true);
  set_status (self, _("Retrieving the series…"));
  gtk_progress_bar_set_fraction (self->progress, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), TRUE);
  MmPacsGet req = { s->study_uid, s->series_uid, NULL, NULL,
                    mm_pacs_cache_max_bytes (self->settings) };
  mm_pacs_conn_get_async (self->srv, &req, get_progress, self, self->cancellable, get_done,
                     g_object_ref (self));
}

static void
cancel_clicked (MmPacsDialog *self)
{
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
}

static gboolean
close_request (GtkWindow *window)
{
  MmPacsDialog *self = MM_PACS_DIALOG (window);
  /* A running operation stops and cleans up its files; the dialog hides (hide-on-close). */
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  stop_thumbs (self);
  return GTK_WINDOW_CLASS (mm_pacs_dialog_parent_class)->close_request (window);
}

static void
mm_pacs_dialog_dispose (GObject *object)
{
  MmPacsDialog *self = MM_PACS_DIALOG (object);
  self->disposed = true;
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  stop_thumbs (self);
  G_OBJECT_CLASS (mm_pacs_dialog_parent_class)->dispose (object);
}

static void
mm_pacs_dialog_finalize (GObject *object)
{
  MmPacsDialog *self = MM_PACS_DIALOG (object);
  g_clear_pointer (&self->study_rows, g_ptr_array_unref);
  g_clear_pointer (&self->series_rows, g_ptr_array_unref);
  g_clear_pointer (&self->srv, mm_pacs_conn_free);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->thumbs);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (mm_pacs_dialog_parent_class)->finalize (object);
}

static void
mm_pacs_dialog_class_init (MmPacsDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mm_pacs_dialog_dispose;
  G_OBJECT_CLASS (klass)->finalize = mm_pacs_dialog_finalize;
  GTK_WINDOW_CLASS (klass)->close_request = close_request;
  /* series-retrieved (path): the folder of the retrieved series, to open */
  signals[SERIES_RETRIEVED] = g_signal_new ("series-retrieved", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 1, G_TYPE_STRING);
}

static AdwEntryRow *
add_entry (AdwPreferencesGroup *group, const char *title)
{
  GtkWidget *row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_group_add (group, row);
  return ADW_ENTRY_ROW (row);
}

static GtkListBox *
add_list (GtkBox *box, const char *title, const char *accessible)
{
  GtkWidget *label = gtk_label_new (title);
  gtk_widget_add_css_class (label, "heading");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_box_append (box, label);
  GtkWidget *list = gtk_list_box_new ();
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  accessible, -1);
  gtk_box_append (box, list);
  return GTK_LIST_BOX (list);
}

static void
mm_pacs_dialog_init (MmPacsDialog *self)
{
  self->study_rows = g_ptr_array_new ();
  self->series_rows = g_ptr_array_new ();
  gtk_window_set_title (GTK_WINDOW (self), _("Open from PACS"));
  gtk_window_set_hide_on_close (GTK_WINDOW (self), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (self), 1000, 680);

  /* Two columns, so that the results are seen without scrolling: the server and the search
   * on the left, the studies and series on the right. */
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  gtk_box_append (GTK_BOX (outer), header);
  GtkWidget *columns = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_set_vexpand (columns, TRUE);
  gtk_box_append (GTK_BOX (outer), columns);
  GtkWidget *scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_size_request (scroll, 400, -1);
  gtk_box_append (GTK_BOX (columns), scroll);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), box);
  GtkWidget *rscroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (rscroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_hexpand (rscroll, TRUE);
  gtk_box_append (GTK_BOX (columns), rscroll);
  GtkWidget *rbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (rbox, 12);
  gtk_widget_set_margin_bottom (rbox, 12);
  gtk_widget_set_margin_start (rbox, 12);
  gtk_widget_set_margin_end (rbox, 12);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (rscroll), rbox);

  AdwPreferencesGroup *server = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (server, _("PACS Server"));
  adw_preferences_group_set_description (server, _("Add and edit servers in Preferences."));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (server));
  self->server = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->server), _("Server"));
  adw_preferences_group_add (server, GTK_WIDGET (self->server));
  self->test = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Test Connection")));
  gtk_widget_set_halign (GTK_WIDGET (self->test), GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->test));

  AdwPreferencesGroup *search = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (search, _("Search Studies"));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (search));
  self->patient = add_entry (search, _("Patient name (* and ? match anything)"));
  self->patient_id = add_entry (search, _("Patient ID"));
  self->accession = add_entry (search, _("Accession number"));
  self->date = add_entry (search, _("Study date (YYYYMMDD or YYYYMMDD-YYYYMMDD)"));
  self->modality = add_entry (search, _("Modality"));
  self->search = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Search")));
  gtk_widget_add_css_class (GTK_WIDGET (self->search), "suggested-action");
  /* In the header bar: always in sight, however far the fields are scrolled. */
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), GTK_WIDGET (self->search));

  self->status = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (self->status, TRUE);
  gtk_label_set_xalign (self->status, 0);
  gtk_label_set_selectable (self->status, TRUE);
  /* Above the results, where the eye is after Search. */
  gtk_box_append (GTK_BOX (rbox), GTK_WIDGET (self->status));

  self->studies = add_list (GTK_BOX (rbox), _("Studies"), _("Studies"));
  self->series = add_list (GTK_BOX (rbox), _("Series"), _("Series"));

  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_margin_start (bar, 12);
  gtk_widget_set_margin_end (bar, 12);
  gtk_widget_set_margin_bottom (bar, 12);
  gtk_widget_set_margin_top (bar, 6);
  self->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_progress_bar_set_show_text (self->progress, TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->progress), TRUE);
  gtk_widget_set_valign (GTK_WIDGET (self->progress), GTK_ALIGN_CENTER);
  gtk_widget_set_visible (GTK_WIDGET (self->progress), FALSE);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->progress));
  GtkWidget *spacer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_set_hexpand (spacer, TRUE);
  gtk_box_append (GTK_BOX (bar), spacer);
  self->cancel = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Cancel")));
  gtk_widget_set_visible (GTK_WIDGET (self->cancel), FALSE);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->cancel));
  self->open = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Open Series")));
  gtk_widget_add_css_class (GTK_WIDGET (self->open), "suggested-action");
  gtk_widget_set_sensitive (GTK_WIDGET (self->open), FALSE);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->open));
  gtk_box_append (GTK_BOX (outer), bar);
  adw_window_set_content (ADW_WINDOW (self), outer);

  g_signal_connect_swapped (self->search, "clicked", G_CALLBACK (search_clicked), self);
  g_signal_connect_swapped (self->test, "clicked", G_CALLBACK (test_clicked), self);
  g_signal_connect_swapped (self->open, "clicked", G_CALLBACK (open_clicked), self);
  g_signal_connect_swapped (self->cancel, "clicked", G_CALLBACK (cancel_clicked), self);
  g_signal_connect_swapped (self->studies, "row-selected", G_CALLBACK (study_selected), self);
  g_signal_connect_swapped (self->series, "row-activated", G_CALLBACK (open_clicked), self);
  g_signal_connect_swapped (self->patient, "entry-activated", G_CALLBACK (search_clicked), self);
}

MmPacsDialog *
mm_pacs_dialog_new (GtkWindow *parent, GSettings *settings)
{
  MmPacsDialog *self = g_object_new (MM_TYPE_PACS_DIALOG, "transient-for", parent, "modal",
                                     TRUE, NULL);
  self->settings = settings ? g_object_ref (settings) : NULL;
  reload_servers (self);
  if (settings)
    g_signal_connect_object (settings, "changed::pacs-servers", G_CALLBACK (reload_servers),
                             self, G_CONNECT_SWAPPED);
  return self;
}
