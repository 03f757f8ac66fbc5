/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The panel's "Model" section: the selected model (remembered in the settings' "model" key),
 * Detect Metal (AI) as one undoable replacement of the mask, and Train on This Series after
 * the user confirmed what it will learn from. The work runs as mm-model-tasks.h's GTasks;
 * nothing here waits for a worker. The panel knows no window: what it needs of the mask being
 * annotated and of the window's toast and progress bar comes through an MmModelHost. */
#pragma once

#include "mm-mask.h"
#include "mm-viewer.h"

#include <adwaita.h>

G_BEGIN_DECLS

typedef struct
{
  /* Replace the mask being annotated by mask as one undoable step, with label saying what it
   * is (the model's detection). */
  gboolean (*replace_mask) (gpointer host, const MmMask *mask, const char *label,
                            GError **error);
  /* Write the mask to its project folder now (before training names that folder). */
  void (*save_now) (gpointer host);
  /* The open series' project folder (newly allocated), where trained models go. */
  char *(*project_dir) (gpointer host);
  void (*toast) (gpointer host, const char *text);
  /* The window's progress bar: text NULL hides it. FALSE when the bar is taken (a series is
   * loading), so that the panel does not write over it. */
  gboolean (*set_progress) (gpointer host, const char *text, double fraction);
  /* What the actions can do now: detecting (Escape cancels), any job under way. */
  void (*busy_changed) (gpointer host, gboolean detecting, gboolean busy);
  /* The selected model changed: a tooltip for the Detect button naming it. */
  void (*describe_detect) (gpointer host, const char *tooltip);
} MmModelHost;

#define MM_TYPE_MODEL_PANEL (mm_model_panel_get_type ())
G_DECLARE_FINAL_TYPE (MmModelPanel, mm_model_panel, MM, MODEL_PANEL, GtkBox)

/* host (static storage) and host_data are borrowed until set again (NULL: none). */
void mm_model_panel_set_host (MmModelPanel *self, MmViewer *viewer, const MmModelHost *host,
                              gpointer host_data);

/* The "model-path" property: the model file, NULL or "": the shipped one. */
const char *mm_model_panel_get_model_path (MmModelPanel *self);
void mm_model_panel_set_model_path (MmModelPanel *self, const char *path);

void mm_model_panel_detect (MmModelPanel *self);
/* Asks first (a message dialog saying what the model will learn from and where it goes). */
void mm_model_panel_train (MmModelPanel *self);
void mm_model_panel_choose_model (MmModelPanel *self);
/* Escape, another series, the window closing: returns at once; the worker stops on its own. */
void mm_model_panel_cancel_detection (MmModelPanel *self);
/* True while a detection runs (Escape cancels it). */
bool mm_model_panel_is_detecting (MmModelPanel *self);
void mm_model_panel_cancel_all (MmModelPanel *self);

G_END_DECLS
