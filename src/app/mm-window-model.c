/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The window's side of the model panel (mm-model-panel.h): the host it calls for the mask,
 * toasts and the progress bar, and the win.* actions of the menu, the header bar's Detect
 * button and Ctrl+Shift+M. The host functions below are the only place the model reaches
 * the mask being annotated (through the window's mask session). */
#include "mm-window-private.h"

#include "mm-path.h"

#include <glib/gi18n.h>

static gboolean
host_replace_mask (gpointer host, const MmMask *mask, const char *label, GError **error)
{
  MmWindow *self = host;
  return mm_mask_session_replace (self->session, mm_mask_copy (mask), MM_MASK_SOURCE_MODEL, label,
                                  error);
}

static void
host_save_now (gpointer host)
{
  mm_mask_session_save_now (MM_WINDOW (host)->session);
}

static char *
host_project_dir (gpointer host)
{
  MmWindow *self = host;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  return mm_project_dir_for (mm_viewer_get_source (self->viewer), vol ? vol->series_uid : NULL);
}

static void
host_toast (gpointer host, const char *text)
{
  mm_window_toast (MM_WINDOW (host), text);
}

static gboolean
host_set_progress (gpointer host, const char *text, double fraction)
{
  MmWindow *self = host;
  if (self->cancellable != NULL)
    return FALSE; /* a series is loading: the bar is the loader's */
  mm_window_set_progress (self, text, fraction);
  return TRUE;
}

static void
host_busy_changed (gpointer host, gboolean detecting, gboolean busy)
{
  GtkWidget *w = GTK_WIDGET (host);
  gtk_widget_action_set_enabled (w, "win.detect-metal", !busy);
  gtk_widget_action_set_enabled (w, "win.train-model", !busy);
  /* Escape cancels a detection, as it cancels a load. */
  gtk_widget_action_set_enabled (w, "win.cancel-load",
                                 detecting || MM_WINDOW (host)->cancellable != NULL
                                     || mm_window_mar_is_running (MM_WINDOW (host)));
}

static void
host_describe_detect (gpointer host, const char *tooltip)
{
  gtk_widget_set_tooltip_text (MM_WINDOW (host)->detect_button, tooltip);
}

static const MmModelHost window_host = {
  host_replace_mask, host_save_now,      host_project_dir,    host_toast,
  host_set_progress, host_busy_changed, host_describe_detect,
};

static void
detect_action (GtkWidget *widget, const char *name, GVariant *param)
{
  mm_model_panel_detect (MM_WINDOW (widget)->model_panel);
}

static void
train_action (GtkWidget *widget, const char *name, GVariant *param)
{
  mm_model_panel_train (MM_WINDOW (widget)->model_panel);
}

static void
choose_model_action (GtkWidget *widget, const char *name, GVariant *param)
{
  mm_model_panel_choose_model (MM_WINDOW (widget)->model_panel);
}

static void
default_model_action (GtkWidget *widget, const char *name, GVariant *param)
{
  mm_model_panel_set_model_path (MM_WINDOW (widget)->model_panel, NULL);
}

static gboolean
close_request_cb (MmWindow *self)
{
  /* Returns at once: the workers stop at their next slice or step on their own. */
  mm_model_panel_cancel_all (self->model_panel);
  return FALSE;
}

void
mm_window_model_class_init (GtkWidgetClass *klass)
{
  gtk_widget_class_install_action (klass, "win.detect-metal", NULL, detect_action);
  gtk_widget_class_install_action (klass, "win.train-model", NULL, train_action);
  gtk_widget_class_install_action (klass, "win.choose-model", NULL, choose_model_action);
  gtk_widget_class_install_action (klass, "win.default-model", NULL, default_model_action);
  gtk_widget_class_add_binding_action (klass, GDK_KEY_M, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.detect-metal", NULL);
}

void
mm_window_model_init (MmWindow *self)
{
  mm_model_panel_set_host (self->model_panel, self->viewer, &window_host, self);
  g_signal_connect (self, "close-request", G_CALLBACK (close_request_cb), NULL);
}

void
mm_window_model_dispose (MmWindow *self)
{
  /* Before the session goes: the panel must not reach it any more. */
  if (self->model_panel)
    {
      mm_model_panel_cancel_all (self->model_panel);
      mm_model_panel_set_host (self->model_panel, NULL, NULL, NULL);
    }
}
