/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Metal detection with a trained U-Net (src/nn): the model row of the panel, Detect Metal (AI)
 * as one undoable replacement of the mask, and Train on This Series (fine-tuning on the open
 * series and its mask) in a window with live curves. Both run in worker threads on copies of
 * the volume (another series may be opened meanwhile) and report through the main loop. */
#include "mm-window-private.h"
#include "mm-scroll-guard.h"

#include "mm-json.h"
#include "mm-path.h"
#include "mm-nn-default.h"
#include "mm-nn-model.h"
#include "mm-nn-predict.h"
#include "mm-nn-train.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include "mm-json.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define STEP_REPORT_US 100000 /* training steps reported at most ten times a second */

typedef struct Job Job;

struct _MmAi
{
  MmWindow *window; /* borrowed: owns us */

  /* widgets: the panel's are owned by the window's tree, the training window by us */
  AdwActionRow *model_row;
  GtkWidget *default_button;
  GtkSpinButton *epochs_spin, *budget_spin;
  GtkWindow *train_window;
  GtkLabel *train_status, *train_figures, *train_file;
  GtkProgressBar *train_bar;
  GtkDrawingArea *plot;
  GtkButton *train_close;

  /* owned */
  char *model_path;           /* the selected model; NULL: the shipped one */
  GCancellable *detecting;    /* of the job under way, NULL when none */
  GCancellable *training;
  Job *detect_job, *train_job; /* borrowed from their tasks while they run */
  GArray *records;            /* MmNnEpochRecord: the curves of the training shown */
  double running_loss;        /* the epoch under way: mean loss so far (NaN before a step) */
  int running_epoch, planned_epochs;
  double planned_s;           /* the time limit, 0: none */
  bool closing;               /* the window is closing: results are dropped */
};

/* One background job: copies of what it works on, so the window may change meanwhile. */
struct Job
{
  MmWindow *window; /* referenced */
  char *model;      /* detection: the model; training: the one to start from (NULL: new) */
  MmVolume *vol;
  MmMask *mask;     /* training: the mask to learn */
  char *name, *mask_name, *out;
  MmNnTrainOptions opts;
  GCancellable *cancel;
  gint64 last_report;
  bool have_model;  /* training: out was written (finished, or cancelled after an epoch) */
  GMutex lock;
  GCond cond;
  bool running;     /* the thread is at work */
};

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

static Job *
job_new (MmWindow *window, const char *model)
{
  Job *job = g_new0 (Job, 1);
  job->window = g_object_ref (window);
  job->model = g_strdup (model);
  job->vol = volume_copy (mm_viewer_get_volume (window->viewer));
  g_mutex_init (&job->lock);
  g_cond_init (&job->cond);
  job->running = true;
  return job;
}

static void
job_free (Job *job)
{
  g_object_unref (job->window);
  g_free (job->model);
  g_clear_pointer (&job->vol, mm_volume_free);
  g_clear_pointer (&job->mask, mm_mask_free);
  g_free (job->name);
  g_free (job->mask_name);
  g_free (job->out);
  g_clear_object (&job->cancel);
  g_mutex_clear (&job->lock);
  g_cond_clear (&job->cond);
  g_free (job);
}

/* The worker is done with everything but its result. */
static void
job_finished (Job *job)
{
  g_mutex_lock (&job->lock);
  job->running = false;
  g_cond_broadcast (&job->cond);
  g_mutex_unlock (&job->lock);
}

/* A cancelled job stops at its next batch or step (the trainer then writes its checkpoint). */
static void
job_wait (Job *job)
{
  gint64 end = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  g_mutex_lock (&job->lock);
  while (job->running && g_cond_wait_until (&job->cond, &job->lock, end))
    ;
  g_mutex_unlock (&job->lock);
}

static void
job_run (Job *job, GCancellable *cancel, GAsyncReadyCallback done, GTaskThreadFunc thread)
{
  GTask *task = g_task_new (NULL, cancel, done, job->window);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, thread);
  g_object_unref (task);
}

/* Progress from a worker to the main loop, where report_idle hands it to the job's kind. */
typedef struct
{
  MmWindow *window;
  int done, total;       /* detection: slices */
  MmNnTrainProgress p;   /* training */
  MmNnEpochRecord record;
} Report;

static void
report_free (gpointer data)
{
  Report *r = data;
  g_object_unref (r->window);
  g_free (r);
}

static void
report_post (Report *r, Job *job, GSourceFunc func)
{
  r->window = g_object_ref (job->window);
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, func, r, report_free);
}

static void
format_duration (char *buf, size_t size, double s)
{
  if (!isfinite (s))
    g_snprintf (buf, size, "–");
  else if (s >= 3600)
    g_snprintf (buf, size, "%d:%02d:%02d", (int) s / 3600, (int) s / 60 % 60, (int) s % 60);
  else
    g_snprintf (buf, size, "%d:%02d", (int) s / 60, (int) s % 60);
}

/* ---- the model ---- */

static char *
selected_model (MmAi *ai)
{
  return ai->model_path ? g_strdup (ai->model_path) : mm_nn_default_model_path ();
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

/* The model row and the Detect button's tooltip. Loading a model (a few MB) takes a
 * millisecond or two, and it says at once whether the file is any good. */
static void
describe_model (MmAi *ai)
{
  g_autofree char *path = selected_model (ai);
  g_autofree char *title = NULL, *subtitle = NULL, *tooltip = NULL;
  if (path == NULL)
    {
      title = g_strdup (_("No model"));
      subtitle = g_strdup (_("The shipped model is not installed: choose a model file"));
    }
  else
    {
      g_autofree char *base = g_path_get_basename (path);
      if (g_str_has_suffix (base, ".safetensors"))
        base[strlen (base) - strlen (".safetensors")] = '\0';
      title = ai->model_path ? g_strdup (base) : g_strdup_printf (_("%s (shipped)"), base);
      summarize_model (path, &subtitle, &tooltip);
    }
  /* Row titles are markup. */
  g_autofree char *t = g_markup_escape_text (title, -1);
  g_autofree char *s = g_markup_escape_text (subtitle, -1);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (ai->model_row), t);
  adw_action_row_set_subtitle (ai->model_row, s);
  gtk_widget_set_tooltip_text (GTK_WIDGET (ai->model_row), tooltip);
  gtk_widget_set_visible (ai->default_button, ai->model_path != NULL);
  g_autofree char *detect = g_strdup_printf (_("Detect metal with the model %s (Ctrl+Shift+M)"),
                                             title);
  gtk_widget_set_tooltip_text (ai->window->detect_button, detect);
}

static void
set_model (MmAi *ai, const char *path)
{
  g_free (ai->model_path);
  ai->model_path = g_strdup (path);
  describe_model (ai);
}

static void
model_chooser_cb (GtkNativeDialog *chooser, int response, MmWindow *self)
{
  g_autoptr (GFile) file = response == GTK_RESPONSE_ACCEPT
                               ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser)) : NULL;
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  g_object_unref (chooser);
  if (path && self->ai)
    set_model (self->ai, path);
}

static void
choose_model_action (GtkWidget *widget, const char *name, GVariant *param)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      _("Choose a Segmentation Model"), GTK_WINDOW (widget), GTK_FILE_CHOOSER_ACTION_OPEN,
      _("_Choose"), _("_Cancel"));
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Metalmark models (safetensors)"));
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (model_chooser_cb), widget);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
default_model_action (GtkWidget *widget, const char *name, GVariant *param)
{
  set_model (MM_WINDOW (widget)->ai, NULL);
}

/* ---- jobs ---- */

static void
set_busy (MmAi *ai)
{
  bool busy = ai->detecting || ai->training;
  gtk_widget_action_set_enabled (GTK_WIDGET (ai->window), "win.detect-metal", !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (ai->window), "win.train-model", !busy);
}

/* A job may start: a series is open and no other job runs (the actions are off then). */
static bool
can_start (MmWindow *self)
{
  if (mm_viewer_get_volume (self->viewer) == NULL)
    {
      mm_window_toast (self, _("Open a series first"));
      return false;
    }
  return !self->ai->detecting && !self->ai->training;
}

static gboolean
detect_progress_idle (gpointer data)
{
  Report *r = data;
  MmAi *ai = r->window->ai;
  /* Not while a series is loading: the bar is the loader's then. */
  if (ai && ai->detecting && !ai->closing && r->window->cancellable == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Detecting metal: %d of %d slices"), r->done,
                                               r->total);
      mm_window_set_progress (r->window, text, (double) r->done / MAX (1, r->total));
    }
  return G_SOURCE_REMOVE;
}

static void
detect_slices_cb (int done, int total, gpointer data)
{
  Report *r = g_new0 (Report, 1);
  r->done = done;
  r->total = total;
  report_post (r, data, detect_progress_idle);
}

static void
detect_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
  Job *job = task_data;
  GError *error = NULL;
  MmUnet *net = mm_nn_model_load (job->model, NULL, &error);
  MmMask *mask = net ? mm_nn_predict_volume (net, job->vol, MM_NN_PREDICT_BATCH_DEFAULT,
                                             detect_slices_cb, job, cancel, &error)
                     : NULL;
  mm_unet_free (net);
  job_finished (job);
  if (mask)
    g_task_return_pointer (task, mask, (GDestroyNotify) mm_mask_free);
  else
    g_task_return_error (task, error);
}

static void
detect_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MmMask) mask = g_task_propagate_pointer (G_TASK (result), &error);
  MmAi *ai = self->ai;
  if (ai == NULL || ai->closing)
    return;
  g_clear_object (&ai->detecting);
  ai->detect_job = NULL;
  set_busy (ai);
  if (self->cancellable == NULL)
    {
      mm_window_set_progress (self, NULL, 0);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-load", FALSE);
    }
  if (mask == NULL)
    {
      /* Cancelled by Escape or by another series coming up: nothing changes. */
      mm_window_toast (self, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                 ? _("Metal detection cancelled") : error->message);
      return;
    }
  if (!mm_mask_session_replace (self->session, mm_mask_copy (mask), MM_MASK_SOURCE_MODEL, NULL, NULL))
    return;
  int slices = 0;
  for (int k = 0; k < mask->dims[2]; k++)
    slices += !mm_mask_slice_is_empty (mask, k);
  uint64_t n = mm_mask_count (mask);
  double ml = n * mm_volume_voxel_mm3 (mm_viewer_get_volume (self->viewer)) / 1000.0;
  g_autofree char *msg
      = n ? g_strdup_printf (g_dngettext (NULL, "Metal detected by the model: %.2f ml in %d slice",
                                          "Metal detected by the model: %.2f ml in %d slices",
                                          slices),
                             ml, slices)
          : g_strdup (_("The model found no metal in this series"));
  mm_window_toast (self, msg);
}

static void
detect_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  MmAi *ai = self->ai;
  if (!can_start (self))
    return;
  g_autofree char *model = selected_model (ai);
  if (model == NULL)
    {
      mm_window_toast (self, _("No model to detect metal with: the shipped model is not "
                               "installed; choose a model file in the panel"));
      return;
    }
  Job *job = job_new (self, model);
  if (job->vol == NULL)
    {
      job_free (job);
      mm_window_toast (self, _("Not enough memory to copy the series for the model"));
      return;
    }
  ai->detecting = g_cancellable_new ();
  ai->detect_job = job;
  set_busy (ai);
  mm_window_set_progress (self, _("Detecting metal"), 0);
  gtk_widget_action_set_enabled (widget, "win.cancel-load", TRUE); /* Escape cancels */
  job_run (job, ai->detecting, detect_done_cb, detect_thread);
}

/* ---- training ---- */

static gboolean
train_progress_idle (gpointer data)
{
  Report *r = data;
  MmAi *ai = r->window->ai;
  const MmNnTrainProgress *p = &r->p;
  if (ai == NULL || ai->closing || ai->train_window == NULL)
    return G_SOURCE_REMOVE;
  /* Done so far, of the epochs or of the time limit, whichever ends training first. */
  double f = ai->planned_s > 0 ? p->elapsed_s / ai->planned_s : 0;
  double in_epoch = p->phase == MM_NN_TRAIN_STEP ? (double) p->step / MAX (1, p->steps) : 1;
  if (p->epochs > 0)
    f = MAX (f, (p->epoch - 1 + in_epoch) / p->epochs);
  f = CLAMP (f, 0, 1);
  char eta[32];
  format_duration (eta, sizeof eta, p->eta_s);
  g_autofree char *bar = g_strdup_printf (_("%.0f %% · %s left"), 100 * f, eta);
  gtk_progress_bar_set_fraction (ai->train_bar, f);
  gtk_progress_bar_set_text (ai->train_bar, bar);
  g_autofree char *epoch = p->epochs > 0 ? g_strdup_printf (_("Epoch %d of %d"), p->epoch, p->epochs)
                                         : g_strdup_printf (_("Epoch %d"), p->epoch);
  g_autofree char *status
      = p->phase == MM_NN_TRAIN_STEP
            ? g_strdup_printf (_("%s: step %d of %d"), epoch, p->step, p->steps)
        : p->phase == MM_NN_TRAIN_VALIDATE
            ? g_strdup_printf (_("%s: validating, %d of %d slices"), epoch, p->step, p->steps)
            : g_strdup_printf (_("%s done"), epoch);
  gtk_label_set_text (ai->train_status, status);
  g_autofree char *dice = isfinite (p->val_dice) ? g_strdup_printf ("%.4f", p->val_dice)
                                                 : g_strdup ("–");
  g_autofree char *best = isfinite (p->best_dice)
                              ? g_strdup_printf (_("%.4f (epoch %d)"), p->best_dice, p->best_epoch)
                              : g_strdup ("–");
  g_autofree char *figures = g_strdup_printf (
      _("Loss %.4f   Validation Dice %s   Best %s   %.1f patches/s"), p->loss, dice, best,
      p->images_per_s);
  gtk_label_set_text (ai->train_figures, figures);
  if (p->phase == MM_NN_TRAIN_EPOCH)
    g_array_append_val (ai->records, r->record);
  ai->running_loss = p->phase == MM_NN_TRAIN_STEP ? p->loss : NAN;
  ai->running_epoch = p->epoch;
  gtk_widget_queue_draw (GTK_WIDGET (ai->plot));
  return G_SOURCE_REMOVE;
}

static void
train_progress_cb (const MmNnTrainProgress *p, gpointer data)
{
  Job *job = data;
  gint64 now = g_get_monotonic_time ();
  if (p->phase != MM_NN_TRAIN_EPOCH && p->step < p->steps
      && now - job->last_report < STEP_REPORT_US)
    return;
  job->last_report = now;
  Report *r = g_new0 (Report, 1);
  r->p = *p;
  r->p.record = NULL;
  if (p->record)
    r->record = *p->record;
  report_post (r, job, train_progress_idle);
}

static void
train_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancel)
{
  Job *job = task_data;
  GError *error = NULL;
  MmNnTrainData data = { job->vol, job->mask, job->name, job->mask_name };
  MmNnTrainer *trainer = mm_nn_trainer_new (&job->opts, &data, 1, job->out, job->model, &error);
  bool ok = trainer && mm_nn_trainer_run (trainer, train_progress_cb, job, job->cancel, &error);
  mm_nn_trainer_free (trainer);
  /* Cancelled after an epoch: the model file holds the best one so far. */
  job->have_model = g_file_test (job->out, G_FILE_TEST_IS_REGULAR);
  job_finished (job);
  if (ok || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_error (&error);
      g_task_return_boolean (task, ok);
    }
  else
    g_task_return_error (task, error);
}

static void
train_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MmWindow *self = user_data;
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  bool finished = g_task_propagate_boolean (G_TASK (result), &error);
  MmAi *ai = self->ai;
  if (ai == NULL || ai->closing)
    return;
  g_clear_object (&ai->training);
  ai->train_job = NULL;
  set_busy (ai);
  gtk_button_set_label (ai->train_close, _("_Close"));
  gtk_widget_remove_css_class (GTK_WIDGET (ai->train_close), "destructive-action");
  g_autofree char *msg = NULL;
  if (error)
    msg = g_strdup (error->message);
  else if (!job->have_model)
    msg = g_strdup (_("Training cancelled before the first epoch ended: no model was saved"));
  else
    {
      g_autofree char *dir = g_path_get_dirname (job->out);
      g_autofree char *base = g_path_get_basename (job->out);
      msg = g_strdup_printf (finished ? _("Model saved in %s as %s; it is now the selected model")
                                      : _("Training cancelled; the best epoch so far is saved in "
                                          "%s as %s and is now the selected model"),
                             dir, base);
      set_model (ai, job->out);
    }
  gtk_label_set_text (ai->train_status, error      ? msg
                                        : finished ? _("Training finished")
                                                   : _("Training cancelled"));
  mm_window_toast (self, msg);
}

static void
train_close_cb (GtkButton *button, MmAi *ai)
{
  if (ai->training)
    g_cancellable_cancel (ai->training); /* the trainer saves its checkpoint and best model */
  else
    gtk_widget_set_visible (GTK_WIDGET (ai->train_window), FALSE);
}

/* ---- the curves ---- */

static const double LOSS_RGB[3] = { 0.21, 0.52, 0.89 }; /* the PNG plot's colours, lighter */
static const double VAL_RGB[3] = { 0.90, 0.38, 0.0 };

/* The plot's frame: left, top, right, bottom in pixels, and the last epoch on the axis, which
 * runs from half an epoch before the first to half after the last. */
typedef struct
{
  double x0, y0, x1, y1, last;
} Frame;

static double
frame_x (const Frame *f, double epoch)
{
  return f->x0 + (f->x1 - f->x0) * (epoch - 0.5) / f->last;
}

static double
frame_y (const Frame *f, double v, double max)
{
  return f->y1 - (f->y1 - f->y0) * CLAMP (v, 0, max) / max;
}

static void
text_at (GtkWidget *widget, cairo_t *cr, double x, double y, double ax, double ay,
         const char *text)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  int tw, th;
  pango_layout_get_pixel_size (layout, &tw, &th);
  cairo_move_to (cr, x - ax * tw, y - ay * th);
  pango_cairo_show_layout (cr, layout);
  g_object_unref (layout);
}

/* One curve with its points marked (a single epoch shows); NaN breaks the line. */
static void
plot_curve (cairo_t *cr, const Frame *f, const MmNnEpochRecord *r, int n, size_t offset,
            double max, const double rgb[3])
{
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, 2);
  for (int pass = 0; pass < 2; pass++)
    {
      bool pen = false;
      for (int i = 0; i < n; i++)
        {
          double v = *(const double *) ((const char *) &r[i] + offset);
          double x = frame_x (f, r[i].epoch), y = frame_y (f, v, max);
          if (isfinite (v) && pass == 0)
            (pen ? cairo_line_to : cairo_move_to) (cr, x, y);
          else if (isfinite (v))
            {
              cairo_new_sub_path (cr);
              cairo_arc (cr, x, y, 3.5, 0, 2 * G_PI);
            }
          pen = isfinite (v);
        }
      pass == 0 ? cairo_stroke (cr) : cairo_fill (cr);
    }
}

/* Training loss per epoch on the left axis, validation Dice (0 to 1) on the right, and the
 * epoch under way as an open circle at its running loss. */
static void
plot_draw_cb (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  MmAi *ai = data;
  GtkWidget *widget = GTK_WIDGET (area);
  const MmNnEpochRecord *r = (const MmNnEpochRecord *) ai->records->data;
  int n = ai->records->len;
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &fg);
  double loss_max = isfinite (ai->running_loss) ? ai->running_loss : 0;
  for (int i = 0; i < n; i++)
    if (isfinite (r[i].train_loss))
      loss_max = MAX (loss_max, r[i].train_loss);
  /* Up to 1, 1.5, 2.5, 5 or 10 times a power of ten: round ticks at the five grid lines. */
  static const double tops[] = { 1, 1.5, 2.5, 5, 10 };
  double unit = loss_max > 0 ? pow (10, floor (log10 (loss_max))) : 1;
  int top = 0;
  while (top < 4 && unit * tops[top] < loss_max)
    top++;
  loss_max = unit * tops[top];
  int last = MAX (MAX (ai->planned_epochs, ai->running_epoch), n > 0 ? r[n - 1].epoch : 1);
  Frame f = { 50, 30, w - 36, h - 42, last };

  cairo_set_line_width (cr, 1);
  for (int t = 0; t <= 5; t++)
    {
      double y = round (frame_y (&f, t, 5)) + 0.5;
      char label[32];
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, t == 0 ? 0.6 : 0.15);
      cairo_move_to (cr, f.x0, y);
      cairo_line_to (cr, f.x1, y);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, LOSS_RGB[0], LOSS_RGB[1], LOSS_RGB[2]);
      g_snprintf (label, sizeof label, "%.2f", loss_max * t / 5);
      text_at (widget, cr, f.x0 - 6, y, 1, 0.5, label);
      cairo_set_source_rgb (cr, VAL_RGB[0], VAL_RGB[1], VAL_RGB[2]);
      g_snprintf (label, sizeof label, "%.1f", t / 5.0);
      text_at (widget, cr, f.x1 + 6, y, 0, 0.5, label);
    }
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.8);
  for (int e = 1, step = MAX (1, (int) ceil (f.last / 10.0)); e <= f.last; e += step)
    {
      char label[16];
      g_snprintf (label, sizeof label, "%d", e);
      text_at (widget, cr, frame_x (&f, e), f.y1 + 4, 0.5, 0, label);
    }
  text_at (widget, cr, (f.x0 + f.x1) / 2, h, 0.5, 1, _("epoch"));
  cairo_set_source_rgb (cr, LOSS_RGB[0], LOSS_RGB[1], LOSS_RGB[2]);
  text_at (widget, cr, f.x0, 0, 0, 0, _("● training loss"));
  cairo_set_source_rgb (cr, VAL_RGB[0], VAL_RGB[1], VAL_RGB[2]);
  text_at (widget, cr, f.x1, 0, 1, 0, _("validation Dice ●"));

  plot_curve (cr, &f, r, n, G_STRUCT_OFFSET (MmNnEpochRecord, train_loss), loss_max, LOSS_RGB);
  plot_curve (cr, &f, r, n, G_STRUCT_OFFSET (MmNnEpochRecord, val_dice), 1, VAL_RGB);
  if (ai->training && isfinite (ai->running_loss) && ai->running_epoch > 0)
    {
      cairo_set_source_rgb (cr, LOSS_RGB[0], LOSS_RGB[1], LOSS_RGB[2]);
      cairo_set_line_width (cr, 1.5);
      cairo_arc (cr, frame_x (&f, ai->running_epoch), frame_y (&f, ai->running_loss, loss_max),
                 4, 0, 2 * G_PI);
      cairo_stroke (cr);
    }
}

/* ---- the training window ---- */

static GtkLabel *
label_new (const char *css)
{
  GtkLabel *l = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (l, 0);
  gtk_label_set_wrap (l, TRUE);
  gtk_label_set_wrap_mode (l, PANGO_WRAP_WORD_CHAR);
  gtk_widget_add_css_class (GTK_WIDGET (l), css);
  return l;
}

static gboolean
quit_cb (GtkWidget *widget, GVariant *args, gpointer data)
{
  MmAi *ai = data;
  return gtk_widget_activate_action (GTK_WIDGET (ai->window), "app.quit", NULL);
}

/* Status, progress, figures, curves; Cancel while training, then Close. Not modal: the series
 * can be viewed and edited meanwhile (training works on a copy). */
static void
ensure_train_window (MmAi *ai)
{
  if (ai->train_window)
    return;
  ai->train_window = GTK_WINDOW (g_object_ref_sink (adw_window_new ()));
  gtk_window_set_title (ai->train_window, _("Training"));
  gtk_window_set_transient_for (ai->train_window, GTK_WINDOW (ai->window));
  gtk_window_set_hide_on_close (ai->train_window, TRUE);
  gtk_window_set_default_size (ai->train_window, 600, 480);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header),
                                   adw_window_title_new (_("Training on This Series"), ""));
  gtk_box_append (GTK_BOX (box), header);
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  g_object_set (content, "margin-start", 18, "margin-end", 18, "margin-top", 12,
                "margin-bottom", 18, NULL);
  gtk_box_append (GTK_BOX (box), content);
  ai->train_status = label_new ("heading");
  ai->train_bar = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_progress_bar_set_show_text (ai->train_bar, TRUE);
  ai->train_figures = label_new ("numeric");
  ai->plot = GTK_DRAWING_AREA (gtk_drawing_area_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (ai->plot), TRUE);
  gtk_drawing_area_set_content_height (ai->plot, 220);
  gtk_drawing_area_set_draw_func (ai->plot, plot_draw_cb, ai, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (ai->plot), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Training loss and validation Dice per epoch"), -1);
  ai->train_file = label_new ("caption");
  gtk_widget_add_css_class (GTK_WIDGET (ai->train_file), "dim-label");
  ai->train_close = GTK_BUTTON (gtk_button_new_with_mnemonic (""));
  gtk_widget_set_halign (GTK_WIDGET (ai->train_close), GTK_ALIGN_END);
  g_signal_connect (ai->train_close, "clicked", G_CALLBACK (train_close_cb), ai);
  GtkWidget *widgets[] = { GTK_WIDGET (ai->train_status), GTK_WIDGET (ai->train_bar),
                           GTK_WIDGET (ai->train_figures), GTK_WIDGET (ai->plot),
                           GTK_WIDGET (ai->train_file), GTK_WIDGET (ai->train_close) };
  for (guint i = 0; i < G_N_ELEMENTS (widgets); i++)
    gtk_box_append (GTK_BOX (content), widgets[i]);
  adw_window_set_content (ADW_WINDOW (ai->train_window), box);
  /* Not one of the application's windows (quitting closes those, and this one goes with the
   * main window), so the application's Ctrl+Q is passed on by hand. */
  GtkEventController *keys = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (
      GTK_SHORTCUT_CONTROLLER (keys),
      gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_q, GDK_CONTROL_MASK),
                        gtk_callback_action_new (quit_cb, ai, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (ai->train_window), keys);
}

static void
show_train_window (MmAi *ai, const Job *job)
{
  ensure_train_window (ai);
  g_array_set_size (ai->records, 0);
  ai->running_loss = NAN;
  ai->running_epoch = 0;
  ai->planned_epochs = job->opts.epochs;
  ai->planned_s = job->opts.time_budget_s;
  gtk_label_set_text (ai->train_status, _("Preparing the training data"));
  gtk_progress_bar_set_fraction (ai->train_bar, 0);
  gtk_progress_bar_set_text (ai->train_bar, "");
  gtk_label_set_text (ai->train_figures, "");
  g_autofree char *from = job->model ? g_path_get_basename (job->model) : NULL;
  g_autofree char *file
      = from ? g_strdup_printf (_("Fine-tuning %s; the model is written to %s"), from, job->out)
             : g_strdup_printf (_("Training a new network; the model is written to %s"), job->out);
  gtk_label_set_text (ai->train_file, file);
  gtk_button_set_label (ai->train_close, _("_Cancel Training"));
  gtk_widget_add_css_class (GTK_WIDGET (ai->train_close), "destructive-action");
  gtk_widget_queue_draw (GTK_WIDGET (ai->plot));
  gtk_window_present (ai->train_window);
}

static void
train_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmWindow *self = MM_WINDOW (widget);
  MmAi *ai = self->ai;
  if (!can_start (self))
    return;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  const MmMask *mask = mm_viewer_get_mask (self->viewer);
  if (mask == NULL || mm_mask_count (mask) == 0)
    {
      mm_window_toast (self, _("Training needs this series' metal mask: segment, detect or "
                               "paint the metal first"));
      return;
    }
  int epochs = gtk_spin_button_get_value_as_int (ai->epochs_spin);
  double budget_min = gtk_spin_button_get_value (ai->budget_spin);
  if (epochs == 0 && budget_min <= 0)
    {
      mm_window_toast (self, _("Give a number of epochs or a time limit"));
      return;
    }
  /* The mask on disk first, so the model's description names a folder holding it. */
  mm_mask_session_save_now (self->session);
  g_autofree char *dir
      = mm_project_dir_for (mm_viewer_get_source (self->viewer), vol->series_uid);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot create %s: %s"), dir, g_strerror (errno));
      mm_window_toast (self, msg);
      return;
    }
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "model-%Y%m%d-%H%M%S.safetensors");
  g_autofree char *model = selected_model (ai);
  Job *job = job_new (self, model); /* no model: a new network with the trainer's defaults */
  job->mask = mm_mask_copy (mask);
  job->name = g_strdup (mm_viewer_get_source (self->viewer));
  job->mask_name = g_strdup (dir);
  job->out = g_build_filename (dir, stamp, NULL);
  mm_nn_train_options_init (&job->opts);
  job->opts.epochs = epochs;
  job->opts.time_budget_s = budget_min * 60;
  if (job->vol == NULL || job->mask == NULL)
    {
      job_free (job);
      mm_window_toast (self, _("Not enough memory to copy the series for training"));
      return;
    }
  show_train_window (ai, job);
  ai->training = g_cancellable_new ();
  job->cancel = g_object_ref (ai->training);
  ai->train_job = job;
  set_busy (ai);
  job_run (job, NULL, train_done_cb, train_thread);
}

/* ---- window hooks ---- */

void
mm_ai_cancel (MmAi *ai)
{
  if (ai && ai->detecting)
    g_cancellable_cancel (ai->detecting);
}

/* Stop the jobs and wait for them: the trainer writes its checkpoint and best model, and the
 * process (which ends with the window's close) never exits under a worker. A job holds the
 * window, so closing is the last moment before the end, not dispose. */
static void
stop_jobs (MmAi *ai)
{
  mm_ai_cancel (ai);
  if (ai->training)
    g_cancellable_cancel (ai->training);
  if (ai->detect_job)
    job_wait (ai->detect_job);
  if (ai->train_job)
    job_wait (ai->train_job);
}

static gboolean
close_request_cb (GtkWindow *window, MmAi *ai)
{
  ai->closing = true;
  stop_jobs (ai);
  if (ai->train_window)
    gtk_widget_set_visible (GTK_WIDGET (ai->train_window), FALSE);
  return FALSE;
}

static void
volume_changed_cb (MmViewer *viewer, guint what, MmAi *ai)
{
  /* A detection belongs to the series it was started on. */
  if (what & MM_VIEWER_CHANGED_VOLUME)
    mm_ai_cancel (ai);
}

void
mm_ai_class_init (GtkWidgetClass *klass)
{
  gtk_widget_class_install_action (klass, "win.detect-metal", NULL, detect_action);
  gtk_widget_class_install_action (klass, "win.train-model", NULL, train_action);
  gtk_widget_class_install_action (klass, "win.choose-model", NULL, choose_model_action);
  gtk_widget_class_install_action (klass, "win.default-model", NULL, default_model_action);
  GtkShortcut *s = gtk_shortcut_new (
      gtk_keyval_trigger_new (GDK_KEY_M, GDK_CONTROL_MASK | GDK_SHIFT_MASK),
      gtk_named_action_new ("win.detect-metal"));
  gtk_widget_class_add_shortcut (klass, s);
  g_object_unref (s);
}

static GtkWidget *
icon_button (const char *icon, const char *tooltip, const char *action)
{
  GtkWidget *b = gtk_button_new_from_icon_name (icon);
  gtk_widget_set_tooltip_text (b, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
  gtk_widget_set_valign (b, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (b, "flat");
  return b;
}

/* A label and a spin button named by name, kept together in a wrapping row. */
static GtkWidget *
labelled_spin (const char *label, const char *name, double hi, double step, double value,
               int digits, GtkSpinButton **spin)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *s = gtk_spin_button_new_with_range (0, hi, step);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (s), digits);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (s), value);
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (s), TRUE);
  mm_scroll_guard_attach (s);   /* in the scrolled panel: see mm-scroll-guard.h */
  gtk_accessible_update_property (GTK_ACCESSIBLE (s), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_widget_set_tooltip_text (s, name);
  gtk_box_append (GTK_BOX (box), gtk_label_new (label));
  gtk_box_append (GTK_BOX (box), s);
  *spin = GTK_SPIN_BUTTON (s);
  return box;
}

/* The panel section under "Model": the model row, and training with its options. */
MmAi *
mm_ai_new (MmWindow *window)
{
  MmAi *ai = g_new0 (MmAi, 1);
  ai->window = window;
  ai->records = g_array_new (FALSE, FALSE, sizeof (MmNnEpochRecord));
  ai->running_loss = NAN;

  GtkWidget *list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  ai->model_row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_action_row_set_subtitle_lines (ai->model_row, 3);
  ai->default_button = icon_button ("edit-undo-symbolic", _("Use the shipped model"),
                                    "win.default-model");
  adw_action_row_add_suffix (ai->model_row, ai->default_button);
  adw_action_row_add_suffix (ai->model_row, icon_button ("document-open-symbolic",
                                                         _("Choose a model file"),
                                                         "win.choose-model"));
  gtk_list_box_append (GTK_LIST_BOX (list), GTK_WIDGET (ai->model_row));
  gtk_box_append (window->ai_box, list);

  GtkWidget *train = gtk_button_new_with_mnemonic (_("_Train on This Series"));
  gtk_widget_set_tooltip_text (train, _("Fine-tune the selected model on this series and its "
                                        "mask; the result is saved beside the mask"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (train), "win.train-model");
  GtkWidget *widgets[] = {
    labelled_spin (_("Epochs"), _("Epochs (0: until the time limit)"), 1000, 1, 5, 0,
                   &ai->epochs_spin),
    labelled_spin (_("Time limit (min)"), _("Time limit in minutes (0: none)"), 6000, 0.5, 0, 1,
                   &ai->budget_spin),
    train,
  };
  /* Wraps like the tools' rows: the panel is narrow. */
  GtkWidget *row = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (row), GTK_SELECTION_NONE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (row), 6);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (row), 6);
  for (guint i = 0; i < G_N_ELEMENTS (widgets); i++)
    {
      gtk_flow_box_append (GTK_FLOW_BOX (row), widgets[i]);
      gtk_widget_set_focusable (gtk_widget_get_parent (widgets[i]), FALSE);
    }
  gtk_box_append (window->ai_box, row);

  g_signal_connect (window->viewer, "changed", G_CALLBACK (volume_changed_cb), ai);
  g_signal_connect (window, "close-request", G_CALLBACK (close_request_cb), ai);
  describe_model (ai);
  return ai;
}

void
mm_ai_free (MmAi *ai)
{
  if (ai == NULL)
    return;
  /* Any job is over (see close_request_cb); its callback finds no MmAi and does nothing. */
  stop_jobs (ai);
  g_signal_handlers_disconnect_by_data (ai->window->viewer, ai);
  g_signal_handlers_disconnect_by_data (ai->window, ai);
  g_clear_object (&ai->detecting);
  g_clear_object (&ai->training);
  if (ai->train_window)
    gtk_window_destroy (ai->train_window);
  g_clear_object (&ai->train_window);
  g_array_unref (ai->records);
  g_free (ai->model_path);
  g_free (ai);
}
