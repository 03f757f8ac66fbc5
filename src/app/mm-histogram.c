/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmHistogram: a series' HU histogram with the threshold range over it (see mm-histogram.h).
 * Signal "dragged": the user dragged an end of the range. */
#include "mm-histogram.h"

#include <math.h>

#define HEIGHT 60

struct _MmHistogram
{
  GtkWidget parent_instance;
  const MmStats *stats; /* borrowed */
  double lower, upper;
};

enum
{
  PROP_0,
  PROP_LOWER,
  PROP_UPPER,
  N_PROPS
};

static GParamSpec *props[N_PROPS];
static guint dragged_signal;

G_DEFINE_FINAL_TYPE (MmHistogram, mm_histogram, GTK_TYPE_WIDGET)

static void
mm_histogram_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  MmHistogram *self = MM_HISTOGRAM (widget);
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);
  if (w <= 0 || h <= 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
  cairo_set_source_rgb (cr, 0.12, 0.12, 0.12);
  cairo_paint (cr);
  const MmStats *st = self->stats;
  if (st != NULL && st->n_bins > 0)
    {
      /* Log counts in bins across [min, max] HU: the metal peak stays visible beside air. */
      double lo = st->hist_min, hi = st->hist_min + st->n_bins;
      g_autofree double *bins = g_new0 (double, w);
      for (int b = 0; b < st->n_bins; b++)
        bins[MIN (w - 1, (int) ((double) b / st->n_bins * w))] += st->hist[b];
      double top = 1;
      for (int x = 0; x < w; x++)
        top = MAX (top, log10 (1 + bins[x]));
      cairo_set_source_rgb (cr, 0.7, 0.7, 0.7);
      for (int x = 0; x < w; x++)
        {
          double bh = log10 (1 + bins[x]) / top * (h - 2);
          cairo_rectangle (cr, x, h - bh, 1, bh);
        }
      cairo_fill (cr);
      double xl = (self->lower - lo) / (hi - lo) * w;
      double xu = (MIN (self->upper, hi) - lo) / (hi - lo) * w;
      cairo_set_source_rgba (cr, 1, 0.23, 0.19, 0.35);
      cairo_rectangle (cr, xl, 0, MAX (1, xu - xl), h);
      cairo_fill (cr);
    }
  cairo_destroy (cr);
}

static void
mm_histogram_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                      int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = *natural = orientation == GTK_ORIENTATION_VERTICAL ? HEIGHT : 0;
}

/* Dragging moves the nearer end of the range to the pointer. */
static void
drag_to (MmHistogram *self, double x)
{
  const MmStats *st = self->stats;
  int w = gtk_widget_get_width (GTK_WIDGET (self));
  if (st == NULL || st->n_bins <= 0 || w <= 0)
    return;
  double hu = round (st->hist_min + CLAMP (x / w, 0.0, 1.0) * st->n_bins);
  double hi_shown = MIN (self->upper, st->hist_min + st->n_bins);
  g_signal_emit (self, dragged_signal, 0);
  if (fabs (hu - self->lower) <= fabs (hu - hi_shown))
    g_object_set (self, "lower", MIN (hu, self->upper), NULL);
  else
    g_object_set (self, "upper", MAX (hu, self->lower), NULL);
}

static void
drag_begin_cb (GtkGestureDrag *g, double x, double y, MmHistogram *self)
{
  drag_to (self, x);
}

static void
drag_update_cb (GtkGestureDrag *g, double dx, double dy, MmHistogram *self)
{
  double x0, y0;
  gtk_gesture_drag_get_start_point (g, &x0, &y0);
  drag_to (self, x0 + dx);
}

void
mm_histogram_set_stats (MmHistogram *self, const MmStats *stats)
{
  g_return_if_fail (MM_IS_HISTOGRAM (self));
  self->stats = stats;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
mm_histogram_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  MmHistogram *self = MM_HISTOGRAM (object);
  double v = g_value_get_double (value);
  double *field = id == PROP_LOWER ? &self->lower : &self->upper;
  if (*field == v)
    return;
  *field = v;
  g_object_notify_by_pspec (object, pspec);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
mm_histogram_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  MmHistogram *self = MM_HISTOGRAM (object);
  g_value_set_double (value, id == PROP_LOWER ? self->lower : self->upper);
}

static void
mm_histogram_class_init (MmHistogramClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->set_property = mm_histogram_set_property;
  oc->get_property = mm_histogram_get_property;
  wc->snapshot = mm_histogram_snapshot;
  wc->measure = mm_histogram_measure;
  GParamFlags f = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_LOWER] = g_param_spec_double ("lower", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 3000, f);
  props[PROP_UPPER] = g_param_spec_double ("upper", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 32767, f);
  g_object_class_install_properties (oc, N_PROPS, props);
  dragged_signal = g_signal_new ("dragged", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_accessible_role (wc, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
mm_histogram_init (MmHistogram *self)
{
  self->lower = 3000;
  self->upper = 32767;
  GtkGesture *drag = gtk_gesture_drag_new ();
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
}
