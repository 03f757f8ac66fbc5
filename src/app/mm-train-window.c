/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-train-window.h"

#include "mm-nn-plot.h"
#include "mm-progress.h"

#include <glib/gi18n.h>
#include <math.h>

struct _MmTrainWindow
{
  AdwWindow parent_instance;

  GtkLabel *status_label, *figures_label, *file_label;
  GtkProgressBar *progress_bar;
  GtkDrawingArea *plot;
  GtkButton *close_button;

  GCancellable *cancel; /* of the run under way, NULL when none */
  GArray *records;      /* MmNnEpochRecord: the curves so far */
  double running_loss;  /* the epoch under way: mean loss so far (NaN before a step) */
  int running_epoch, planned_epochs;
  double planned_s;
};

G_DEFINE_FINAL_TYPE (MmTrainWindow, mm_train_window, ADW_TYPE_WINDOW)

/* The curves as the PNG draws them, in the theme's text colour on the window's background. */
static void
plot_draw_cb (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  MmTrainWindow *self = data;
  GdkRGBA fg;
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  MmNnPlotStyle style;
  mm_nn_plot_style_init (&style);
  style.fg[0] = fg.red, style.fg[1] = fg.green, style.fg[2] = fg.blue, style.fg[3] = fg.alpha;
  style.background[3] = 0;
  style.title = false;
  style.font_size = 12;
  style.last_epoch = self->planned_epochs;
  style.running_epoch = self->cancel ? self->running_epoch : 0;
  style.running_loss = self->running_loss;
  mm_nn_plot_draw (cr, w, h, (const MmNnEpochRecord *) self->records->data, self->records->len,
                   &style);
}

static void
close_clicked_cb (MmTrainWindow *self)
{
  if (self->cancel)
    g_cancellable_cancel (self->cancel);
  else
    gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

static gboolean
quit_cb (GtkWidget *widget, GVariant *args, gpointer data)
{
  /* Not one of the application's windows (quitting closes those, and this one goes with its
   * parent), so the application's Ctrl+Q is passed on by hand. */
  GApplication *app = g_application_get_default ();
  if (app == NULL)
    return FALSE;
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  return TRUE;
}

void
mm_train_window_start (MmTrainWindow *self, int planned_epochs, double planned_s,
                       const char *file_text, GCancellable *cancel)
{
  g_return_if_fail (MM_IS_TRAIN_WINDOW (self));
  g_set_object (&self->cancel, cancel);
  g_array_set_size (self->records, 0);
  self->running_loss = NAN;
  self->running_epoch = 0;
  self->planned_epochs = planned_epochs;
  self->planned_s = planned_s;
  gtk_label_set_text (self->status_label, _("Preparing the training data"));
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_progress_bar_set_text (self->progress_bar, "");
  gtk_label_set_text (self->figures_label, "");
  gtk_label_set_text (self->file_label, file_text);
  gtk_button_set_label (self->close_button, _("_Cancel Training"));
  gtk_widget_add_css_class (GTK_WIDGET (self->close_button), "destructive-action");
  gtk_widget_queue_draw (GTK_WIDGET (self->plot));
  gtk_window_present (GTK_WINDOW (self));
}

void
mm_train_window_progress (MmTrainWindow *self, const MmNnTrainProgress *p)
{
  g_return_if_fail (MM_IS_TRAIN_WINDOW (self));
  if (self->cancel == NULL)
    return;
  /* Done so far, of the epochs or of the time limit, whichever ends training first. */
  double f = self->planned_s > 0 ? p->elapsed_s / self->planned_s : 0;
  double in_epoch = p->phase == MM_NN_TRAIN_STEP ? (double) p->step / MAX (1, p->steps) : 1;
  if (p->epochs > 0)
    f = MAX (f, (p->epoch - 1 + in_epoch) / p->epochs);
  f = CLAMP (f, 0, 1);
  char eta[32];
  mm_format_duration (eta, sizeof eta, p->eta_s, "–");
  g_autofree char *bar = g_strdup_printf (_("%.0f %% · %s left"), 100 * f, eta);
  gtk_progress_bar_set_fraction (self->progress_bar, f);
  gtk_progress_bar_set_text (self->progress_bar, bar);
  g_autofree char *epoch = p->epochs > 0
                               ? g_strdup_printf (_("Epoch %d of %d"), p->epoch, p->epochs)
                               : g_strdup_printf (_("Epoch %d"), p->epoch);
  g_autofree char *status
      = p->phase == MM_NN_TRAIN_STEP
            ? g_strdup_printf (_("%s: step %d of %d"), epoch, p->step, p->steps)
        : p->phase == MM_NN_TRAIN_VALIDATE
            ? g_strdup_printf (_("%s: validating, %d of %d slices"), epoch, p->step, p->steps)
            : g_strdup_printf (_("%s done"), epoch);
  gtk_label_set_text (self->status_label, status);
  g_autofree char *dice = isfinite (p->val_dice) ? g_strdup_printf ("%.4f", p->val_dice)
                                                 : g_strdup ("–");
  g_autofree char *best
      = isfinite (p->best_dice) ? g_strdup_printf (_("%.4f (epoch %d)"), p->best_dice, p->best_epoch)
                                : g_strdup ("–");
  g_autofree char *figures = g_strdup_printf (
      _("Loss %.4f   Validation Dice %s   Best %s   %.1f patches/s"), p->loss, dice, best,
      p->images_per_s);
  gtk_label_set_text (self->figures_label, figures);
  if (p->phase == MM_NN_TRAIN_EPOCH && p->record)
    g_array_append_val (self->records, *p->record);
  self->running_loss = p->phase == MM_NN_TRAIN_STEP ? p->loss : NAN;
  self->running_epoch = p->epoch;
  gtk_widget_queue_draw (GTK_WIDGET (self->plot));
}

void
mm_train_window_finish (MmTrainWindow *self, const char *status)
{
  g_return_if_fail (MM_IS_TRAIN_WINDOW (self));
  g_clear_object (&self->cancel);
  gtk_label_set_text (self->status_label, status);
  gtk_button_set_label (self->close_button, _("_Close"));
  gtk_widget_remove_css_class (GTK_WIDGET (self->close_button), "destructive-action");
  gtk_widget_queue_draw (GTK_WIDGET (self->plot));
}

static void
mm_train_window_dispose (GObject *object)
{
  MmTrainWindow *self = MM_TRAIN_WINDOW (object);
  /* The window goes with its parent: a run still going stops (its worker cleans up). */
  if (self->cancel)
    g_cancellable_cancel (self->cancel);
  g_clear_object (&self->cancel);
  gtk_widget_dispose_template (GTK_WIDGET (self), MM_TYPE_TRAIN_WINDOW);
  G_OBJECT_CLASS (mm_train_window_parent_class)->dispose (object);
}

static void
mm_train_window_finalize (GObject *object)
{
  g_array_unref (MM_TRAIN_WINDOW (object)->records);
  G_OBJECT_CLASS (mm_train_window_parent_class)->finalize (object);
}

static void
mm_train_window_class_init (MmTrainWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = mm_train_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = mm_train_window_finalize;
  gtk_widget_class_set_template_from_resource (
      widget_class, "/io/github/metalmark/Metalmark/ui/mm-train-window.ui");
  gtk_widget_class_bind_template_child (widget_class, MmTrainWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, MmTrainWindow, figures_label);
  gtk_widget_class_bind_template_child (widget_class, MmTrainWindow, file_label);
  gtk_widget_class_bind_template_child (widget_class, MmTrainWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, MmTrainWindow, plot);
  gtk_widget_class_bind_template_child (widget_class, MmTrainWindow, close_button);
  gtk_widget_class_bind_template_callback (widget_class, close_clicked_cb);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_q, GDK_CONTROL_MASK, quit_cb, NULL);
}

static void
mm_train_window_init (MmTrainWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->records = g_array_new (FALSE, FALSE, sizeof (MmNnEpochRecord));
  self->running_loss = NAN;
  gtk_drawing_area_set_draw_func (self->plot, plot_draw_cb, self, NULL);
}

MmTrainWindow *
mm_train_window_new (GtkWindow *parent)
{
  return g_object_new (MM_TYPE_TRAIN_WINDOW, "transient-for", parent, NULL);
}
