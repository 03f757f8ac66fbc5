/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The window's metal artifact reduction (issue 17, part 3; docs/mar-app.md), as the "mar.*"
 * action group: Reduce Metal Artifacts (Ctrl+R) runs NMAR or LI-MAR (mar.method) in the
 * background on the series shown and the mask being annotated (else the 3000 HU threshold,
 * as `metalmark-cli mar` does); the result replaces the values the views show
 * (mm_viewer_swap_voxels), labelled as derived over every view and in the title, and X or the
 * header bar's MAR button switches between it and the series as read without moving the
 * crosshair; Export Corrected Series writes it as a new derived DICOM series. */
#include "mm-window-private.h"

#include "mm-alloc.h"
#include "mm-mar-task.h"

#include <glib/gi18n.h>
#include <string.h>

struct _MmWindowMar
{
  GSimpleActionGroup *group;   /* owned: inserted into the window as "mar" */
  GCancellable *cancel;        /* owned: the correction under way, NULL when none */
  MmMarMethod next_method;     /* what the next run uses (mar.method) */
  GSettings *settings;         /* mar-method; NULL when the schema is not installed */
  MmMarMethod running_method;

  /* The result, for the series shown: other holds the buffer the views do not show (the
   * corrected values while the original is shown, else the original's). */
  void *other;                 /* owned (mm_alloc_large), NULL: no result */
  bool corrected_shown;
  MmMarMethod method;
  bool from_threshold;
  int n_views;
  char *label;                 /* "MAR (NMAR) — derived, not for diagnosis" */
  char *title, *subtitle;      /* the window's title and subtitle for the series as read */
  bool exporting;
};

static const char *
short_name (MmMarMethod method)
{
  return method == MM_MAR_LI ? "LI" : "NMAR";
}

static GAction *
action (MmWindow *self, const char *name)
{
  return g_action_map_lookup_action (G_ACTION_MAP (self->mar->group), name);
}

static void
update_actions (MmWindow *self)
{
  MmWindowMar *m = self->mar;
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action (self, "show-corrected")), m->other != NULL);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action (self, "export")),
                               m->other != NULL && !m->exporting);
  g_simple_action_set_state (G_SIMPLE_ACTION (action (self, "show-corrected")),
                             g_variant_new_boolean (m->corrected_shown));
  gtk_widget_set_visible (self->mar_button, m->other != NULL);
}

/* The title names what the views show: the derived label while the corrected values are. */
static void
update_title (MmWindow *self)
{
  MmWindowMar *m = self->mar;
  if (m->title == NULL)
    return;
  if (m->corrected_shown)
    {
      g_autofree char *sub = g_strdup_printf ("%s · %s", m->subtitle, m->label);
      g_autofree char *title = g_strdup_printf ("%s – %s", m->title, m->label);
      adw_window_title_set_subtitle (self->window_title, sub);
      gtk_window_set_title (GTK_WINDOW (self), title);
    }
  else
    {
      adw_window_title_set_subtitle (self->window_title, m->subtitle);
      gtk_window_set_title (GTK_WINDOW (self), m->title);
    }
}

/* Show the corrected values (true) or the series as read (false). */
static void
show_corrected (MmWindow *self, bool corrected)
{
  MmWindowMar *m = self->mar;
  if (m->other == NULL || corrected == m->corrected_shown
      || mm_viewer_get_volume (self->viewer) == NULL)
    return;
  mm_viewer_swap_voxels (self->viewer, &m->other, corrected ? m->label : NULL);
  m->corrected_shown = corrected;
  update_title (self);
  update_actions (self);
}

/* The result goes (a new series, a new result, the window closing): the series as read is
 * shown again first, so that the volume keeps its own buffer. */
static void
drop_result (MmWindow *self)
{
  MmWindowMar *m = self->mar;
  show_corrected (self, false);
  g_clear_pointer (&m->other, mm_free_large);
  m->corrected_shown = false;
  g_clear_pointer (&m->label, g_free);
  g_clear_pointer (&m->title, g_free);
  g_clear_pointer (&m->subtitle, g_free);
}

const void *
mm_window_mar_original_voxels (MmWindow *self)
{
  MmWindowMar *m = self->mar;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (m == NULL || vol == NULL || (m->other == NULL && m->cancel == NULL))
    return NULL;
  return m->corrected_shown ? m->other : vol->voxels;
}

bool
mm_window_mar_is_running (MmWindow *self)
{
  return self->mar && self->mar->cancel != NULL;
}

/* Escape cancels what runs: a load, a detection, or (not any more here) a correction. */
static void
update_escape (MmWindow *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-load",
                                 self->cancellable != NULL
                                     || (self->model_panel && mm_model_panel_is_detecting (self->model_panel))
                                     || mm_window_mar_is_running (self));
}

static void
stop_running (MmWindow *self)
{
  MmWindowMar *m = self->mar;
  if (m->cancel == NULL)
    return;
  g_cancellable_cancel (m->cancel);
  g_clear_object (&m->cancel); /* its callback finds another (or none) and drops the result */
  if (self->cancellable == NULL) /* else the bar is a load's */
    mm_window_set_progress (self, NULL, 0);
  update_escape (self);
}

void
mm_window_mar_cancel (MmWindow *self)
{
  if (mm_window_mar_is_running (self))
    {
      stop_running (self);
      mm_window_toast (self, _("Metal artifact reduction cancelled"));
    }
}

void
mm_window_mar_series_changed (MmWindow *self)
{
  if (self->mar == NULL)
    return;
  stop_running (self);
  drop_result (self);
  update_actions (self);
}

/* ---- the correction ---- */

static void
progress_cb (gpointer target, int done, int total)
{
  MmWindow *self = target;
  if (self->mar == NULL || self->mar->cancel == NULL || self->cancellable != NULL)
    return; /* finished, cancelled, or a series is loading: the bar is the loader's */
  g_autofree char *text = g_strdup_printf (_("Reducing metal artifacts (%s): %d of %d slices"),
                                           mm_mar_method_label (self->mar->running_method), done,
                                           total);
  mm_window_set_progress (self, text, total > 0 ? (double) done / total : 0);
}

static void
mar_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = user_data;
  MmWindowMar *m = self->mar;
  g_autoptr (GError) error = NULL;
  g_autoptr (MmMarTaskResult) r = mm_mar_task_finish (result, &error);
  /* The window closed, the series changed or the run was cancelled: nothing to show. */
  if (m == NULL || m->cancel == NULL || g_task_get_cancellable (G_TASK (result)) != m->cancel)
    {
      g_object_unref (self);
      return;
    }
  g_clear_object (&m->cancel);
  if (self->cancellable == NULL)
    mm_window_set_progress (self, NULL, 0);
  update_escape (self);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (r == NULL || vol == NULL)
    {
      if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        mm_window_toast (self, error->message);
      g_object_unref (self);
      return;
    }
  /* A new result replaces the old one (e.g. LI after NMAR). */
  drop_result (self);
  m->other = g_steal_pointer (&r->voxels);
  m->method = r->method;
  m->from_threshold = r->from_threshold;
  m->n_views = r->n_views;
  m->label = g_strdup_printf (_("MAR (%s) — derived, not for diagnosis"), short_name (r->method));
  m->title = g_strdup (gtk_window_get_title (GTK_WINDOW (self)));
  m->subtitle = g_strdup (adw_window_title_get_subtitle (self->window_title));
  show_corrected (self, true);
  update_actions (self);
  g_autofree char *msg = g_strdup_printf (
      r->from_threshold ? _("Metal artifacts reduced with %s in %.1f s (metal: the 3000 HU "
                            "threshold, as there is no mask). X shows the original.")
                        : _("Metal artifacts reduced with %s in %.1f s (metal: the mask). X "
                            "shows the original."),
      mm_mar_method_label (r->method), r->seconds);
  mm_window_toast (self, msg);
  g_object_unref (self);
}

static void
reduce_activate (GSimpleAction *a, GVariant *param, gpointer data)
{
  MmWindow *self = data;
  MmWindowMar *m = self->mar;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (vol == NULL)
    {
      mm_window_toast (self, _("Open a series first"));
      return;
    }
  bool complete = self->cancellable == NULL;
  for (int k = 0; complete && k < vol->dims[2]; k++)
    complete = mm_volume_slice_is_ready (vol, k);
  if (!complete)
    {
      mm_window_toast (self, _("Wait until the whole series is in"));
      return;
    }
  if (m->cancel != NULL)
    {
      mm_window_toast (self, _("Metal artifact reduction is already running"));
      return;
    }
  /* The mask's export reads this volume's buffer in its thread: the result's swap must
   * not change it under the export (mm-window-export.c copies instead while MAR runs). */
  if (mm_volume_is_shared (vol))
    {
      mm_window_toast (self, _("An export is still writing this series: reduce the metal "
                               "artifacts when it has ended"));
      return;
    }
  /* As `metalmark-cli mar` without --force: metal is found in HU of a CT acquisition. */
  g_autofree char *why = NULL;
  if (!mm_volume_is_hu (vol))
    why = g_strdup_printf (_("These values are %s, not HU: metal artifact reduction needs a CT "
                             "in Hounsfield units"), mm_volume_unit (vol));
  else if (vol->not_acquired)
    why = g_strdup_printf (_("This is %s, not a CT volume: metal artifact reduction needs a CT "
                             "acquisition"), vol->not_acquired);
  if (why)
    {
      mm_window_toast (self, why);
      return;
    }
  /* The worker's own copies: the series as read (also while the corrected one is shown)
   * and the mask as it is now (editing goes on meanwhile). */
  MmVolume *copy = mm_volume_copy_voxels (vol);
  if (copy == NULL)
    {
      mm_window_toast (self, _("Not enough memory to copy the series"));
      return;
    }
  if (m->corrected_shown)
    memcpy (copy->voxels, m->other,
            mm_volume_n_voxels (vol) * (vol->type == MM_VOXEL_INT16 ? sizeof (gint16) : sizeof (float)));
  const MmMask *mask = mm_mask_session_get_mask (self->session);
  MmMask *mask_copy = mask && mm_mask_count (mask) > 0 ? mm_mask_copy (mask) : NULL;
  m->cancel = g_cancellable_new ();
  m->running_method = m->next_method;
  g_autofree char *text = g_strdup_printf (_("Reducing metal artifacts (%s)"),
                                           mm_mar_method_label (m->running_method));
  if (self->cancellable == NULL)
    mm_window_set_progress (self, text, 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-load", TRUE);
  mm_mar_task_async (copy, mask_copy, m->running_method, m->cancel, progress_cb, self, mar_done_cb,
                     g_object_ref (self));
}

static void
method_change_state (GSimpleAction *a, GVariant *state, gpointer data)
{
  MmWindow *self = data;
  MmMarMethod method;
  if (!mm_mar_method_from_name (g_variant_get_string (state, NULL), &method))
    return;
  self->mar->next_method = method;
  g_simple_action_set_state (a, state);
  if (self->mar->settings)
    g_settings_set_string (self->mar->settings, "mar-method", g_variant_get_string (state, NULL));
}

static void
show_change_state (GSimpleAction *a, GVariant *state, gpointer data)
{
  MmWindow *self = data;
  show_corrected (self, g_variant_get_boolean (state));
  g_simple_action_set_state (a, g_variant_new_boolean (self->mar->corrected_shown));
}

static void
show_activate (GSimpleAction *a, GVariant *param, gpointer data)
{
  g_autoptr (GVariant) state = g_action_get_state (G_ACTION (a));
  g_action_change_state (G_ACTION (a), g_variant_new_boolean (!g_variant_get_boolean (state)));
}

/* ---- export ---- */

typedef struct
{
  MmWindow *window; /* referenced */
  char *dir;
} ExportCall;

static void
export_call_free (ExportCall *c)
{
  g_object_unref (c->window);
  g_free (c->dir);
  g_free (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExportCall, export_call_free)

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ExportCall) call = user_data;
  MmWindow *self = call->window;
  const char *dir = call->dir;
  g_autoptr (GError) error = NULL;
  gboolean ok = mm_mar_export_finish (result, &error);
  if (self->mar == NULL) /* the window went meanwhile */
    return;
  self->mar->exporting = false;
  if (self->cancellable == NULL && self->mar->cancel == NULL)
    mm_window_set_progress (self, NULL, 0);
  update_actions (self);
  if (!ok)
    mm_window_toast (self, error->message);
  else
    {
      g_autofree char *msg = g_strdup_printf (_("Exported the corrected series to %s"), dir);
      g_autofree char *escaped = g_markup_escape_text (msg, -1);
      AdwToast *t = adw_toast_new (escaped);
      adw_toast_set_timeout (t, 10);
      adw_toast_set_button_label (t, _("Open Folder"));
      adw_toast_set_action_name (t, "win.open-folder");
      adw_toast_set_action_target_value (t, g_variant_new_string (dir));
      adw_toast_overlay_add_toast (self->toast_overlay, t);
    }
}

static void
export_chooser_cb (GtkNativeDialog *chooser, int response, MmWindow *self)
{
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT
                               ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser)) : NULL;
  g_autofree char *chosen = file ? g_file_get_path (file) : NULL;
  g_object_unref (chooser);
  /* Referenced when the chooser opened: the window may have been closed meanwhile. */
  g_autoptr (MmWindow) held = self;
  if (gtk_widget_in_destruction (GTK_WIDGET (self)))
    return;
  MmWindowMar *m = self->mar;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  if (chosen == NULL || m == NULL || m->other == NULL || vol == NULL || m->exporting)
    return;
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_strdup_printf ("MAR-%s", short_name (m->method));
  g_autofree char *dir = mm_mar_task_output_dir (chosen, base, &error);
  if (dir == NULL)
    {
      mm_window_toast (self, error->message);
      return;
    }
  /* The source's header (its files give the patient and study) with the corrected values. */
  const void *corrected = m->corrected_shown ? vol->voxels : m->other;
  g_autoptr (MmVolume) out = mm_volume_copy_header (vol);
  gint16 *hu = out ? mm_mar_task_to_int16 (vol, corrected) : NULL;
  if (hu == NULL)
    {
      mm_window_toast (self, _("Not enough memory to export the corrected series"));
      return;
    }
  out->voxels = hu;
  out->type = MM_VOXEL_INT16;
  g_autofree char *description = g_strdup_printf ("%s (Metalmark)", mm_mar_method_label (m->method));
  g_autofree char *derivation = g_strdup_printf (
      "Metal artifact reduction %s in a virtual fan beam of %d views; metal from %s",
      mm_mar_method_label (m->method), m->n_views,
      m->from_threshold ? "a threshold" : "a mask annotated in Metalmark");
  m->exporting = true;
  update_actions (self);
  g_autofree char *text = g_strdup_printf (_("Writing the corrected series to %s"), dir);
  if (self->cancellable == NULL && m->cancel == NULL)
    mm_window_set_progress (self, text, 0);
  ExportCall *call = g_new0 (ExportCall, 1);
  call->window = g_object_ref (self);
  call->dir = g_strdup (dir);
  mm_mar_export_async (g_steal_pointer (&out), dir, description, derivation, export_done_cb, call);
}

static void
export_activate (GSimpleAction *a, GVariant *param, gpointer data)
{
  MmWindow *self = data;
  if (self->mar->other == NULL)
    {
      mm_window_toast (self, _("Reduce the metal artifacts first (Ctrl+R)"));
      return;
    }
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      _("Export the Corrected Series into a Folder"), GTK_WINDOW (self),
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (export_chooser_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* The GSettings schema (mm-application.c) holding mar-method. */
#define MAR_APP_ID "io.github.metalmark.Metalmark"

static const GActionEntry mar_actions[] = {
  { "reduce", reduce_activate },
  { "method", NULL, "s", "'nmar'", method_change_state },
  { "show-corrected", show_activate, NULL, "false", show_change_state },
  { "export", export_activate },
};

void
mm_window_mar_class_init (GtkWidgetClass *klass)
{
  GtkShortcut *s = gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_r, GDK_CONTROL_MASK),
                                     gtk_named_action_new ("mar.reduce"));
  gtk_widget_class_add_shortcut (klass, s);
  g_object_unref (s);
  /* X (show the original or the corrected image) is a viewer key (mm-viewer-keys.c). */
}

void
mm_window_mar_init (MmWindow *self)
{
  MmWindowMar *m = g_new0 (MmWindowMar, 1);
  self->mar = m;
  m->next_method = MM_MAR_NMAR; /* better than LI on the phantoms (docs/mar.md) */
  m->group = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (m->group), mar_actions,
                                   G_N_ELEMENTS (mar_actions), self);
  /* The method last chosen, kept in GSettings (when the schema is installed: not in every
   * test run). */
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema
      = source ? g_settings_schema_source_lookup (source, MAR_APP_ID, TRUE) : NULL;
  if (schema && g_settings_schema_has_key (schema, "mar-method"))
    {
      m->settings = g_settings_new (MAR_APP_ID);
      g_autofree char *name = g_settings_get_string (m->settings, "mar-method");
      MmMarMethod method;
      if (mm_mar_method_from_name (name, &method))
        {
          m->next_method = method;
          /* The state alone: through change-state it would write the key back at once. */
          GAction *a = g_action_map_lookup_action (G_ACTION_MAP (m->group), "method");
          g_simple_action_set_state (G_SIMPLE_ACTION (a), g_variant_new_string (name));
        }
    }
  gtk_widget_insert_action_group (GTK_WIDGET (self), "mar", G_ACTION_GROUP (m->group));
  update_actions (self);
}

void
mm_window_mar_dispose (MmWindow *self)
{
  MmWindowMar *m = self->mar;
  if (m == NULL)
    return;
  if (m->cancel)
    g_cancellable_cancel (m->cancel); /* the worker stops after its slice and frees its copies */
  g_clear_object (&m->cancel);
  /* The volume keeps its own buffer; the viewer frees it with the volume. */
  if (m->corrected_shown && self->viewer && mm_viewer_get_volume (self->viewer))
    mm_viewer_swap_voxels (self->viewer, &m->other, NULL);
  g_clear_pointer (&m->other, mm_free_large);
  g_free (m->label);
  g_free (m->title);
  g_free (m->subtitle);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "mar", NULL);
  g_clear_object (&m->group);
  g_clear_object (&m->settings);
  g_free (m);
  self->mar = NULL;
}
