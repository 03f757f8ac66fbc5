/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-model-panel.h"

#include "mm-json.h"
#include "mm-model-tasks.h"
#include "mm-nn-default.h"
#include "mm-nn-model.h"
#include "mm-scroll-guard.h"
#include "mm-train-window.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#define APP_ID "io.github.metalmark.Metalmark"

struct _MmModelPanel
{
  GtkBox parent_instance;

  /* template widgets */
  AdwActionRow *model_row;
  GtkWidget *default_button;
  GtkSpinButton *epochs_spin, *budget_spin;
  GtkFlowBox *train_row;

  /* borrowed (see mm_model_panel_set_host) */
  const MmModelHost *host;
  gpointer host_data;

  /* owned */
  MmViewer *viewer;
  GSettings *settings;        /* NULL when the schema is not installed */
  char *model_path;           /* the selected model; NULL: the shipped one */
  GCancellable *detecting;    /* of the job under way, NULL when none */
  GCancellable *training;
  char *detected_sum;         /* checksum of the mask the last detection made */
  MmTrainWindow *train_window;
  AdwMessageDialog *confirm;  /* the training question while it is asked */
};

G_DEFINE_FINAL_TYPE (MmModelPanel, mm_model_panel, GTK_TYPE_BOX)

enum
{
  PROP_0,
  PROP_MODEL_PATH,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

/* ---- the host ---- */

static void
toast (MmModelPanel *self, const char *text)
{
  if (self->host)
    self->host->toast (self->host_data, text);
}

static void
busy_changed (MmModelPanel *self)
{
  if (self->host)
    self->host->busy_changed (self->host_data, self->detecting != NULL,
                              self->detecting || self->training || self->confirm);
}

/* ---- the model ---- */

static char *
selected_model (MmModelPanel *self)
{
  return self->model_path ? g_strdup (self->model_path) : mm_nn_default_model_path ();
}

/* The row's subtitle (architecture, validation Dice, how many series) and tooltip (what the
 * file's metadata says it was trained on and how well it did), or the load error. */
static void
summarize_model (const char *path, char **subtitle, char **tooltip)
{
  MmNnModelInfo info = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (MmUnet) net = mm_nn_model_load (path, &info, &error);
  if (net == NULL)
    {
      *subtitle = g_strdup (error->message);
      *tooltip = g_strdup (path);
      return;
    }
  g_autoptr (JsonParser) p1 = json_parser_new ();
  g_autoptr (JsonParser) p2 = json_parser_new ();
  JsonObject *data = mm_json_parse_object (p1, info.training_data);
  JsonObject *metrics = mm_json_parse_object (p2, info.metrics_json);
  JsonArray *vols = data && json_object_has_member (data, "volumes")
                        ? json_object_get_array_member (data, "volumes") : NULL;
  const MmUnetArch *arch = mm_unet_get_arch (net);
  GString *sub = g_string_new (NULL), *tip = g_string_new (path);
  g_string_append_printf (sub, _("U-Net, depth %d, width %d"), arch->depth, arch->width);
  if (metrics && json_object_has_member (metrics, "val_dice"))
    g_string_append_printf (sub, _(" · validation Dice %.3f"),
                            json_object_get_double_member (metrics, "val_dice"));
  if (vols)
    {
      guint n = json_array_get_length (vols);
      g_string_append_printf (sub, g_dngettext (NULL, " · trained on %u series",
                                                " · trained on %u series", n), n);
      g_string_append_printf (tip, "\n%s", _("Trained on:"));
      for (guint i = 0; i < MIN (n, 8); i++)
        {
          JsonObject *v = json_array_get_object_element (vols, i);
          g_string_append_printf (tip, "\n  %s (%" G_GINT64_FORMAT " %s)",
                                  json_object_get_string_member_with_default (v, "series", "?"),
                                  json_object_get_int_member_with_default (v, "metal_voxels", 0),
                                  _("metal voxels"));
        }
      if (n > 8)
        g_string_append (tip, "\n  …");
    }
  else if (info.training_data)
    g_string_append_printf (tip, "\n%s %s", _("Trained on:"), info.training_data);
  if (metrics)
    g_string_append_printf (
        tip, _("\nValidation Dice %.4f, HD95 %.2f mm (epoch %d of %d)"),
        json_object_get_double_member_with_default (metrics, "val_dice", NAN),
        json_object_get_double_member_with_default (metrics, "val_hd95_mm", NAN),
        (int) json_object_get_int_member_with_default (metrics, "epoch", 0),
        (int) json_object_get_int_member_with_default (metrics, "epochs", 0));
  if (info.created)
    g_string_append_printf (tip, _("\nCreated %s"), info.created);
  if (info.notes)
    g_string_append_printf (tip, "\n%s", info.notes);
  mm_nn_model_info_clear (&info);
  *subtitle = g_string_free (sub, FALSE);
  *tooltip = g_string_free (tip, FALSE);
}

/* The model's name as the row shows it. */
static char *
model_title (MmModelPanel *self, const char *path)
{
  if (path == NULL)
    return g_strdup (_("No model"));
  g_autofree char *base = g_path_get_basename (path);
  if (g_str_has_suffix (base, ".safetensors"))
    base[strlen (base) - strlen (".safetensors")] = '\0';
  return self->model_path ? g_strdup (base) : g_strdup_printf (_("%s (shipped)"), base);
}

/* The model row and the Detect button's tooltip. Loading a model (a few MB) takes a
 * millisecond or two, and it says at once whether the file is any good. */
static void
describe_model (MmModelPanel *self)
{
  g_autofree char *path = selected_model (self);
  g_autofree char *title = model_title (self, path);
  g_autofree char *subtitle = NULL, *tooltip = NULL;
  if (path == NULL)
    subtitle = g_strdup (_("The shipped model is not installed: choose a model file"));
  else
    summarize_model (path, &subtitle, &tooltip);
  /* Row titles are markup. */
  g_autofree char *t = g_markup_escape_text (title, -1);
  g_autofree char *s = g_markup_escape_text (subtitle, -1);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->model_row), t);
  adw_action_row_set_subtitle (self->model_row, s);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->model_row), tooltip);
  gtk_widget_set_visible (self->default_button, self->model_path != NULL);
  g_autofree char *detect = g_strdup_printf (_("Detect metal with the model %s (Ctrl+Shift+M)"),
                                             title);
  if (self->host)
    self->host->describe_detect (self->host_data, detect);
}

const char *
mm_model_panel_get_model_path (MmModelPanel *self)
{
  g_return_val_if_fail (MM_IS_MODEL_PANEL (self), NULL);
  return self->model_path;
}

void
mm_model_panel_set_model_path (MmModelPanel *self, const char *path)
{
  g_return_if_fail (MM_IS_MODEL_PANEL (self));
  if (path && *path == '\0')
    path = NULL; /* the settings' "": the shipped model */
  if (g_strcmp0 (path, self->model_path) == 0)
    return;
  g_free (self->model_path);
  self->model_path = g_strdup (path);
  describe_model (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_MODEL_PATH]);
}

static void
model_chooser_cb (GtkNativeDialog *chooser, int response, MmModelPanel *self)
{
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT
                               ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser)) : NULL;
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  g_object_unref (chooser);
  if (path)
    mm_model_panel_set_model_path (self, path);
  g_object_unref (self);
}

void
mm_model_panel_choose_model (MmModelPanel *self)
{
  g_return_if_fail (MM_IS_MODEL_PANEL (self));
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      _("Choose a Segmentation Model"), GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
      GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"), _("_Cancel"));
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Metalmark models (safetensors)"));
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (model_chooser_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- detection ---- */

static MmVolume *
volume_copy (const MmVolume *vol)
{
  /* What the network and the trainer read: voxels, geometry, the series UID. */
  MmVolume *c = mm_volume_new (vol->dims, vol->type);
  if (c == NULL)
    return NULL;
  size_t size = vol->type == MM_VOXEL_INT16 ? sizeof (int16_t) : sizeof (float);
  memcpy (c->voxels, vol->voxels, mm_volume_n_voxels (vol) * size);
  memcpy (c->spacing, vol->spacing, sizeof c->spacing);
  memcpy (c->direction, vol->direction, sizeof c->direction);
  c->series_uid = g_strdup (vol->series_uid);
  return c;
}

/* Tells the model's own unedited output from any other mask (see the training question). */
static char *
mask_checksum (const MmMask *mask)
{
  size_t n = (size_t) mask->dims[0] * mask->dims[1] * mask->dims[2];
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *) mask->dims, sizeof mask->dims);
  for (size_t off = 0; off < n; off += 1 << 30)
    g_checksum_update (sum, mm_mask_slice (mask, 0) + off, MIN (n - off, (size_t) 1 << 30));
  char *s = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  return s;
}

static int
mask_slices (const MmMask *mask)
{
  int slices = 0;
  for (int k = 0; k < mask->dims[2]; k++)
    slices += !mm_mask_slice_is_empty (mask, k);
  return slices;
}

/* A job may start: a series is open and no other job runs (the actions are off then). */
static gboolean
can_start (MmModelPanel *self)
{
  if (self->viewer == NULL || mm_viewer_get_volume (self->viewer) == NULL)
    {
      toast (self, _("Open a series first"));
      return FALSE;
    }
  /* A model detects on, and learns from, the scan: never a derived image (the metal
   * artifact reduced one is shown in the same volume, mm-window-mar.c). */
  if (mm_viewer_get_derived_label (self->viewer) != NULL)
    {
      toast (self, _("The views show a derived image: press X to show the series as read, "
                     "then start again"));
      return FALSE;
    }
  return self->detecting == NULL && self->training == NULL && self->confirm == NULL;
}

static void
detect_progress_cb (gpointer target, int done, int total)
{
  MmModelPanel *self = target;
  if (self->detecting == NULL || self->host == NULL)
    return;
  g_autofree char *text = g_strdup_printf (_("Detecting metal: %d of %d slices"), done, total);
  self->host->set_progress (self->host_data, text, (double) done / MAX (1, total));
}

static void
detect_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (MmModelPanel) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MmMask) mask = mm_detect_finish (result, &error);
  if (g_task_get_cancellable (G_TASK (result)) != self->detecting)
    return; /* dropped by dispose */
  g_clear_object (&self->detecting);
  busy_changed (self);
  if (self->host == NULL)
    return;
  self->host->set_progress (self->host_data, NULL, 0);
  if (mask == NULL)
    {
      /* Cancelled by Escape or by another series coming up: nothing changes. */
      toast (self, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                       ? _("Metal detection cancelled") : error->message);
      return;
    }
  uint64_t n = mm_mask_count (mask);
  /* What the mask label shows beside "Detected by the model". */
  g_autofree char *path = selected_model (self);
  g_autofree char *label = model_title (self, path);
  g_autoptr (GError) replace_error = NULL;
  if (!self->host->replace_mask (self->host_data, mask, label, &replace_error))
    {
      toast (self, replace_error->message);
      return;
    }
  g_free (self->detected_sum);
  self->detected_sum = mask_checksum (mask);
  int slices = mask_slices (mask);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  double ml = vol ? n * mm_volume_voxel_mm3 (vol) / 1000.0 : 0;
  g_autofree char *msg
      = n ? g_strdup_printf (g_dngettext (NULL, "Metal detected by the model: %.2f ml in %d slice",
                                          "Metal detected by the model: %.2f ml in %d slices",
                                          slices),
                             ml, slices)
          : g_strdup (_("The model found no metal in this series"));
  toast (self, msg);
}

void
mm_model_panel_detect (MmModelPanel *self)
{
  g_return_if_fail (MM_IS_MODEL_PANEL (self));
  if (self->host == NULL || !can_start (self))
    return;
  g_autofree char *model = selected_model (self);
  if (model == NULL)
    {
      toast (self, _("No model to detect metal with: the shipped model is not installed; "
                     "choose a model file in the panel"));
      return;
    }
  MmVolume *vol = volume_copy (mm_viewer_get_volume (self->viewer));
  if (vol == NULL)
    {
      toast (self, _("Not enough memory to copy the series for the model"));
      return;
    }
  self->detecting = g_cancellable_new ();
  busy_changed (self);
  self->host->set_progress (self->host_data, _("Detecting metal"), 0);
  mm_detect_async (model, vol, self->detecting, detect_progress_cb, self, detect_done_cb,
                   g_object_ref (self));
}

void
mm_model_panel_cancel_detection (MmModelPanel *self)
{
  g_return_if_fail (MM_IS_MODEL_PANEL (self));
  if (self->detecting)
    g_cancellable_cancel (self->detecting);
}

bool
mm_model_panel_is_detecting (MmModelPanel *self)
{
  g_return_val_if_fail (MM_IS_MODEL_PANEL (self), false);
  return self->detecting != NULL;
}

void
mm_model_panel_cancel_all (MmModelPanel *self)
{
  g_return_if_fail (MM_IS_MODEL_PANEL (self));
  mm_model_panel_cancel_detection (self);
  if (self->training)
    g_cancellable_cancel (self->training);
  if (self->confirm)
    adw_message_dialog_response (self->confirm, "cancel");
}

static void
viewer_changed_cb (MmViewer *viewer, guint what, MmModelPanel *self)
{
  /* A detection belongs to the series it was started on. */
  if (what & MM_VIEWER_CHANGED_VOLUME)
    mm_model_panel_cancel_detection (self);
}

/* ---- training ---- */

typedef struct
{
  MmModelPanel *self; /* referenced */
  char *out;
} TrainCall;

static void
train_call_free (TrainCall *call)
{
  g_object_unref (call->self);
  g_free (call->out);
  g_free (call);
}

static void
train_progress_cb (gpointer target, const MmNnTrainProgress *p)
{
  MmModelPanel *self = target;
  if (self->training && self->train_window)
    mm_train_window_progress (self->train_window, p);
}

static void
train_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TrainCall *call = user_data;
  MmModelPanel *self = call->self;
  gboolean have_model = FALSE;
  g_autoptr (GError) error = NULL;
  gboolean finished = mm_train_finish (result, &have_model, &error);
  gboolean cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (g_task_get_cancellable (G_TASK (result)) != self->training)
    {
      train_call_free (call); /* dropped by dispose */
      return;
    }
  g_clear_object (&self->training);
  busy_changed (self);
  g_autofree char *dir = g_path_get_dirname (call->out);
  g_autofree char *base = g_path_get_basename (call->out);
  g_autofree char *msg = NULL;
  if (finished)
    msg = g_strdup_printf (_("Model saved in %s as %s; it is now the selected model"), dir, base);
  else if (cancelled && have_model)
    msg = g_strdup_printf (_("Training cancelled; the best epoch so far is saved in %s as %s "
                             "and is now the selected model"),
                           dir, base);
  else if (cancelled)
    msg = g_strdup (_("Training cancelled before the first epoch ended: nothing was saved"));
  else
    msg = g_strdup (error->message);
  if (have_model)
    mm_model_panel_set_model_path (self, call->out);
  if (self->train_window)
    mm_train_window_finish (self->train_window, finished    ? _("Training finished")
                                                : cancelled ? _("Training cancelled")
                                                            : msg);
  toast (self, msg);
  train_call_free (call);
}

typedef struct
{
  char *out, *init_model;
  int epochs;
  double budget_min;
} TrainPlan;

static void
train_plan_free (TrainPlan *plan)
{
  g_free (plan->out);
  g_free (plan->init_model);
  g_free (plan);
}

static void
start_training (MmModelPanel *self, const TrainPlan *plan)
{
  const MmVolume *vol = self->viewer ? mm_viewer_get_volume (self->viewer) : NULL;
  const MmMask *mask = self->viewer ? mm_viewer_get_mask (self->viewer) : NULL;
  if (self->host == NULL || vol == NULL || mask == NULL)
    return;
  /* The mask on disk first, so the model's description names a folder holding it. */
  self->host->save_now (self->host_data);
  g_autofree char *dir = g_path_get_dirname (plan->out);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot create %s: %s"), dir, g_strerror (errno));
      toast (self, msg);
      return;
    }
  g_autoptr (MmTrainJob) job = g_new0 (MmTrainJob, 1);
  job->init_model = g_strdup (plan->init_model); /* NULL: a new network, the defaults */
  job->volume = volume_copy (vol);
  job->mask = mm_mask_copy (mask);
  job->name = g_strdup (mm_viewer_get_source (self->viewer));
  job->mask_name = g_strdup (dir);
  job->out = g_strdup (plan->out);
  mm_nn_train_options_init (&job->opts);
  job->opts.epochs = plan->epochs;
  job->opts.time_budget_s = plan->budget_min * 60;
  if (job->volume == NULL || job->mask == NULL)
    {
      toast (self, _("Not enough memory to copy the series for training"));
      return;
    }
  if (self->train_window == NULL)
    self->train_window = g_object_ref_sink (
        mm_train_window_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self)))));
  g_autofree char *from = plan->init_model ? g_path_get_basename (plan->init_model) : NULL;
  g_autofree char *file
      = from ? g_strdup_printf (_("Fine-tuning %s; the model is written to %s"), from, plan->out)
             : g_strdup_printf (_("Training a new network; the model is written to %s"),
                                plan->out);
  self->training = g_cancellable_new ();
  mm_train_window_start (self->train_window, plan->epochs, plan->budget_min * 60, file,
                         self->training);
  busy_changed (self);
  TrainCall *call = g_new0 (TrainCall, 1);
  call->self = g_object_ref (self);
  call->out = g_strdup (plan->out);
  mm_train_async (g_steal_pointer (&job), self->training, train_progress_cb, self,
                  train_done_cb, call);
}

typedef struct
{
  MmModelPanel *self;       /* referenced */
  AdwMessageDialog *dialog; /* referenced */
  bool train;
} ConfirmEnd;

/* After the response: the question goes, then the training starts. Not inside the response:
 * a screen reader (or the GUI test) presses the button through AT-SPI, and GTK 4.8's bridge
 * then still refers to the button it is answering for; destroying the dialog inside that
 * call gave its accessible a NULL object path (GLib criticals, and the app died). */
static gboolean
confirm_end_idle (gpointer data)
{
  ConfirmEnd *c = data;
  TrainPlan *plan = g_object_steal_data (G_OBJECT (c->dialog), "mm-plan");
  gtk_window_destroy (GTK_WINDOW (c->dialog));
  if (c->train && c->self->host && plan)
    start_training (c->self, plan);
  if (plan)
    train_plan_free (plan);
  g_object_unref (c->dialog);
  g_object_unref (c->self);
  g_free (c);
  return G_SOURCE_REMOVE;
}

static void
confirm_response_cb (AdwMessageDialog *dialog, const char *response, MmModelPanel *self)
{
  if (self->confirm == dialog)
    self->confirm = NULL;
  busy_changed (self);
  ConfirmEnd *c = g_new0 (ConfirmEnd, 1);
  c->self = g_object_ref (self);
  c->dialog = g_object_ref (dialog);
  c->train = g_strcmp0 (response, "train") == 0;
  g_idle_add (confirm_end_idle, c);
}

/* What the question says the model will learn from: the mask's origin when the panel knows
 * it (its own detection, unedited), its voxels and slices. */
static char *
describe_training (MmModelPanel *self, const TrainPlan *plan, const MmMask *mask,
                   gboolean *own)
{
  g_autofree char *sum = mask_checksum (mask);
  *own = self->detected_sum && strcmp (sum, self->detected_sum) == 0;
  uint64_t n = mm_mask_count (mask);
  g_autofree char *from = plan->init_model ? model_title (self, plan->init_model) : NULL;
  g_autofree char *dir = g_path_get_dirname (plan->out);
  g_autofree char *base = g_path_get_basename (plan->out);
  GString *text = g_string_new (NULL);
  g_string_append_printf (
      text, _("The model will learn from %s: %llu metal voxels in %d of %d slices."),
      *own ? _("the model's own detection, not edited since")
           : _("the mask as it is now in the panel"),
      (unsigned long long) n, mask_slices (mask), mask->dims[2]);
  if (*own)
    g_string_append_printf (text, "\n\n%s",
                            _("Warning: this mask is the model's own output, unedited. Training "
                              "on it teaches the model its own mistakes: correct the mask "
                              "first."));
  g_string_append (text, "\n\n");
  if (from)
    g_string_append_printf (text, _("It fine-tunes %s"), from);
  else
    g_string_append (text, _("It trains a new network"));
  if (plan->epochs > 0)
    g_string_append_printf (text, g_dngettext (NULL, " for %d epoch", " for %d epochs",
                                               plan->epochs), plan->epochs);
  if (plan->budget_min > 0)
    g_string_append_printf (text, _(" within %g minutes"), plan->budget_min);
  g_string_append_printf (text, _(". The new model is saved in %s as %s and becomes the "
                                  "selected model when training ends."),
                          dir, base);
  return g_string_free (text, FALSE);
}

void
mm_model_panel_train (MmModelPanel *self)
{
  g_return_if_fail (MM_IS_MODEL_PANEL (self));
  if (!can_start (self) || self->host == NULL)
    return;
  const MmMask *mask = mm_viewer_get_mask (self->viewer);
  if (mask == NULL || mm_mask_count (mask) == 0)
    {
      toast (self, _("Training needs this series' metal mask: segment, detect or paint the "
                     "metal first"));
      return;
    }
  TrainPlan *plan = g_new0 (TrainPlan, 1);
  plan->epochs = gtk_spin_button_get_value_as_int (self->epochs_spin);
  plan->budget_min = gtk_spin_button_get_value (self->budget_spin);
  if (plan->epochs == 0 && plan->budget_min <= 0)
    {
      train_plan_free (plan);
      toast (self, _("Give a number of epochs or a time limit"));
      return;
    }
  g_autofree char *dir = self->host->project_dir (self->host_data);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "model-%Y%m%d-%H%M%S.safetensors");
  plan->out = g_build_filename (dir, stamp, NULL);
  plan->init_model = selected_model (self);
  gboolean own = FALSE;
  g_autofree char *body = describe_training (self, plan, mask, &own);
  GtkWidget *dialog = adw_message_dialog_new (
      GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), _("Train on This Series?"), body);
  AdwMessageDialog *d = ADW_MESSAGE_DIALOG (dialog);
  adw_message_dialog_add_responses (d, "cancel", _("_Cancel"), "train", _("_Train"), NULL);
  adw_message_dialog_set_response_appearance (
      d, "train", own ? ADW_RESPONSE_DESTRUCTIVE : ADW_RESPONSE_SUGGESTED);
  /* Enter trains only when the mask is worth learning from. */
  adw_message_dialog_set_default_response (d, own ? "cancel" : "train");
  adw_message_dialog_set_close_response (d, "cancel");
  /* The response closes it: hidden then, destroyed after the response (confirm_end_idle). */
  gtk_window_set_hide_on_close (GTK_WINDOW (dialog), TRUE);
  g_object_set_data_full (G_OBJECT (dialog), "mm-plan", plan, (GDestroyNotify) train_plan_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (confirm_response_cb), self, 0);
  self->confirm = d;
  busy_changed (self);
  gtk_window_present (GTK_WINDOW (dialog));
}

void
mm_model_panel_set_host (MmModelPanel *self, MmViewer *viewer, const MmModelHost *host,
                         gpointer host_data)
{
  g_return_if_fail (MM_IS_MODEL_PANEL (self));
  if (self->viewer)
    g_signal_handlers_disconnect_by_data (self->viewer, self);
  g_set_object (&self->viewer, viewer);
  if (viewer)
    g_signal_connect (viewer, "changed", G_CALLBACK (viewer_changed_cb), self);
  self->host = host;
  self->host_data = host_data;
  if (host)
    {
      describe_model (self);
      busy_changed (self);
    }
}

/* ---- GObject ---- */

static void
mm_model_panel_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  MmModelPanel *self = MM_MODEL_PANEL (object);
  if (id == PROP_MODEL_PATH)
    g_value_set_string (value, self->model_path ? self->model_path : "");
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
mm_model_panel_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  MmModelPanel *self = MM_MODEL_PANEL (object);
  if (id == PROP_MODEL_PATH)
    mm_model_panel_set_model_path (self, g_value_get_string (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
mm_model_panel_dispose (GObject *object)
{
  MmModelPanel *self = MM_MODEL_PANEL (object);
  /* Nothing waits: the workers stop at their next slice or step and clean up; their
   * callbacks find the job dropped (see detect_done_cb) and do nothing. */
  self->host = NULL;
  mm_model_panel_cancel_all (self);
  g_clear_object (&self->detecting);
  g_clear_object (&self->training);
  if (self->viewer)
    g_signal_handlers_disconnect_by_data (self->viewer, self);
  g_clear_object (&self->viewer);
  if (self->train_window)
    gtk_window_destroy (GTK_WINDOW (self->train_window));
  g_clear_object (&self->train_window);
  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), MM_TYPE_MODEL_PANEL);
  G_OBJECT_CLASS (mm_model_panel_parent_class)->dispose (object);
}

static void
mm_model_panel_finalize (GObject *object)
{
  MmModelPanel *self = MM_MODEL_PANEL (object);
  g_free (self->model_path);
  g_free (self->detected_sum);
  G_OBJECT_CLASS (mm_model_panel_parent_class)->finalize (object);
}

static void
mm_model_panel_class_init (MmModelPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  object_class->get_property = mm_model_panel_get_property;
  object_class->set_property = mm_model_panel_set_property;
  object_class->dispose = mm_model_panel_dispose;
  object_class->finalize = mm_model_panel_finalize;
  props[PROP_MODEL_PATH] = g_param_spec_string (
      "model-path", NULL, NULL, "", G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY
                                        | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/metalmark/Metalmark/ui/mm-model-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, MmModelPanel, model_row);
  gtk_widget_class_bind_template_child (widget_class, MmModelPanel, default_button);
  gtk_widget_class_bind_template_child (widget_class, MmModelPanel, epochs_spin);
  gtk_widget_class_bind_template_child (widget_class, MmModelPanel, budget_spin);
  gtk_widget_class_bind_template_child (widget_class, MmModelPanel, train_row);
}

static void
mm_model_panel_init (MmModelPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  mm_scroll_guard_attach (GTK_WIDGET (self->epochs_spin)); /* see mm-scroll-guard.h */
  mm_scroll_guard_attach (GTK_WIDGET (self->budget_spin));
  /* The flow box's children hold the fields; they need no focus of their own. */
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->train_row)); c;
       c = gtk_widget_get_next_sibling (c))
    gtk_widget_set_focusable (c, FALSE);
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema
      = source ? g_settings_schema_source_lookup (source, APP_ID, TRUE) : NULL;
  if (schema && g_settings_schema_has_key (schema, "model"))
    {
      self->settings = g_settings_new (APP_ID);
      g_settings_bind (self->settings, "model", self, "model-path", G_SETTINGS_BIND_DEFAULT);
    }
  describe_model (self);
}
