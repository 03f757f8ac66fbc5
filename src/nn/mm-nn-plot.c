/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Training curves as CSV and as a cairo-drawn PNG, both written atomically. */
#include "mm-nn-plot.h"

#include "mm-atomic.h"

#include <cairo.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

static void
csv_number (GString *s, const char *format, double v)
{
  g_string_append_c (s, ',');
  if (isfinite (v))
    g_string_append_printf (s, format, v);
}

char *
mm_nn_curves_csv (const MmNnEpochRecord *r, int n)
{
  GString *s = g_string_new (MM_NN_CURVES_CSV_HEADER "\n");
  for (int i = 0; i < n; i++)
    {
      g_string_append_printf (s, "%d", r[i].epoch);
      csv_number (s, "%.6f", r[i].train_loss);
      csv_number (s, "%.6f", r[i].train_dice);
      csv_number (s, "%.6f", r[i].val_dice);
      csv_number (s, "%.4f", r[i].val_hd95_mm);
      csv_number (s, "%.3f", r[i].seconds);
      csv_number (s, "%.2f", r[i].images_per_s);
      g_string_append_c (s, '\n');
    }
  return g_string_free (s, FALSE);
}

bool
mm_nn_curves_write_csv (const char *path, const MmNnEpochRecord *records, int n,
                        GError **error)
{
  g_autofree char *text = mm_nn_curves_csv (records, n);
  return mm_atomic_write (path, text, strlen (text), true, error);
}

/* The plot. */

enum
{
  WIDTH = 800, /* the PNG's size */
  HEIGHT = 480,
};

static const double LOSS_RGB[3] = { 0.12, 0.40, 0.75 };
static const double VAL_RGB[3] = { 0.85, 0.33, 0.10 };
static const double TRAIN_DICE_RGB[3] = { 0.95, 0.65, 0.20 };

void
mm_nn_plot_style_init (MmNnPlotStyle *style)
{
  *style = (MmNnPlotStyle){
    .fg = { 0.1, 0.1, 0.1, 1 },
    .background = { 1, 1, 1, 1 },
    .title = true,
    .font_size = 13,
    .running_loss = NAN,
  };
}

/* 1, 2 or 5 times a power of ten, at least raw. */
static double
nice_step (double raw)
{
  if (!(raw > 0))
    return 1;
  double p = pow (10, floor (log10 (raw)));
  double f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/* The frame of the curves in pixels, and the axes' ranges. */
typedef struct
{
  double left, right, top, bottom;
  double x0, x1, loss_max;
} Scales;

static double
sx (const Scales *s, double epoch)
{
  return s->left + (s->right - s->left) * (epoch - s->x0) / (s->x1 - s->x0);
}

static double
sy (const Scales *s, double v, double max)
{
  return s->bottom - (s->bottom - s->top) * v / max;
}

static void
text_at (cairo_t *cr, double x, double y, double align_x, double align_y, const char *text)
{
  cairo_text_extents_t e;
  cairo_text_extents (cr, text, &e);
  cairo_move_to (cr, x - e.x_bearing - align_x * e.width, y - e.y_bearing - align_y * e.height);
  cairo_show_text (cr, text);
}

static void
set_rgba (cairo_t *cr, const double rgba[4], double alpha)
{
  cairo_set_source_rgba (cr, rgba[0], rgba[1], rgba[2], rgba[3] * alpha);
}

/* One curve; NaN values break the line. Points are marked so that a single epoch shows. */
static void
draw_series (cairo_t *cr, const Scales *s, const MmNnEpochRecord *r, int n, size_t offset,
             double max, const double rgb[3], double width, bool dashed)
{
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, width);
  double dash[] = { 6, 4 };
  cairo_set_dash (cr, dash, dashed ? 2 : 0, 0);
  bool pen = false;
  for (int i = 0; i < n; i++)
    {
      double v = *(const double *) ((const char *) &r[i] + offset);
      if (!isfinite (v))
        {
          pen = false;
          continue;
        }
      double x = sx (s, r[i].epoch), y = sy (s, CLAMP (v, 0, max), max);
      if (pen)
        cairo_line_to (cr, x, y);
      else
        cairo_move_to (cr, x, y);
      pen = true;
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  for (int i = 0; i < n; i++)
    {
      double v = *(const double *) ((const char *) &r[i] + offset);
      if (isfinite (v))
        {
          cairo_new_sub_path (cr);
          cairo_arc (cr, sx (s, r[i].epoch), sy (s, CLAMP (v, 0, max), max), width + 1.5, 0,
                     2 * G_PI);
        }
    }
  cairo_fill (cr);
}

static double
legend_entry (cairo_t *cr, const MmNnPlotStyle *style, double x, double y, const double rgb[3],
              bool dashed, const char *label)
{
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, 2.5);
  double dash[] = { 6, 4 };
  cairo_set_dash (cr, dash, dashed ? 2 : 0, 0);
  cairo_move_to (cr, x, y);
  cairo_line_to (cr, x + 28, y);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  set_rgba (cr, style->fg, 1);
  text_at (cr, x + 34, y, 0, 0.5, label);
  cairo_text_extents_t e;
  cairo_text_extents (cr, label, &e);
  return x + 34 + e.x_advance + 24;
}

void
mm_nn_plot_draw (cairo_t *cr, int width, int height, const MmNnEpochRecord *r, int n,
                 const MmNnPlotStyle *style)
{
  double f = style->font_size;
  /* Margins for the tick labels and the rotated axis titles; the legend (and the title) on
   * top. The PNG's 800 x 480 gives a frame of 80..720 x 70..420. */
  Scales s = { 80, width - 80, style->title ? 70 : 3.5 * f, height - 60, 1, 2, 0 };
  s.x1 = MAX (s.x1, MAX (style->last_epoch, style->running_epoch));
  if (n > 0)
    s.x1 = MAX (s.x1, r[n - 1].epoch);
  bool have_val = false;
  int best = -1;
  for (int i = 0; i < n; i++)
    {
      if (isfinite (r[i].train_loss))
        s.loss_max = MAX (s.loss_max, r[i].train_loss);
      if (isfinite (r[i].val_dice))
        {
          have_val = true;
          if (best < 0 || r[i].val_dice > r[best].val_dice)
            best = i;
        }
    }
  bool running = style->running_epoch > 0 && isfinite (style->running_loss);
  if (running)
    s.loss_max = MAX (s.loss_max, style->running_loss);
  double loss_step = nice_step ((s.loss_max > 0 ? s.loss_max : 1) / 5);
  s.loss_max = loss_step * ceil ((s.loss_max > 0 ? s.loss_max : 1) / loss_step - 1e-9);

  cairo_save (cr);
  if (style->background[3] > 0)
    {
      set_rgba (cr, style->background, 1);
      cairo_paint (cr);
    }
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

  /* Grid lines at the Dice ticks, 0 to 1 by 0.2; the loss axis has its own ticks. */
  cairo_set_font_size (cr, f);
  cairo_set_line_width (cr, 1);
  for (int t = 0; t <= 5; t++)
    {
      double y = sy (&s, t * 0.2, 1);
      set_rgba (cr, style->fg, 0.14);
      cairo_move_to (cr, s.left, round (y) + 0.5);
      cairo_line_to (cr, s.right, round (y) + 0.5);
      cairo_stroke (cr);
      char label[32];
      g_snprintf (label, sizeof label, "%.1f", t * 0.2);
      cairo_set_source_rgb (cr, VAL_RGB[0], VAL_RGB[1], VAL_RGB[2]);
      text_at (cr, s.right + 8, y, 0, 0.5, label);
    }
  cairo_set_source_rgb (cr, LOSS_RGB[0], LOSS_RGB[1], LOSS_RGB[2]);
  for (double v = 0; v <= s.loss_max * (1 + 1e-9); v += loss_step)
    {
      char label[32];
      g_snprintf (label, sizeof label, "%g", v);
      double y = sy (&s, v, s.loss_max);
      text_at (cr, s.left - 8, y, 1, 0.5, label);
      cairo_move_to (cr, s.left - 5, round (y) + 0.5);
      cairo_line_to (cr, s.left, round (y) + 0.5);
      cairo_stroke (cr);
    }
  set_rgba (cr, style->fg, 1);
  double epoch_step = MAX (1, nice_step ((s.x1 - s.x0) / 10));
  for (double e = s.x0; e <= s.x1 + 1e-9; e += epoch_step)
    {
      char label[32];
      g_snprintf (label, sizeof label, "%g", e);
      double x = sx (&s, e);
      cairo_move_to (cr, round (x) + 0.5, s.bottom);
      cairo_line_to (cr, round (x) + 0.5, s.bottom + 5);
      cairo_stroke (cr);
      text_at (cr, x, s.bottom + 9, 0.5, 0, label);
    }
  cairo_rectangle (cr, s.left + 0.5, s.top + 0.5, s.right - s.left, s.bottom - s.top);
  cairo_stroke (cr);

  cairo_set_font_size (cr, f + 1);
  text_at (cr, (s.left + s.right) / 2.0, height - 14, 0.5, 1, "epoch");
  cairo_save (cr);
  cairo_set_source_rgb (cr, LOSS_RGB[0], LOSS_RGB[1], LOSS_RGB[2]);
  cairo_translate (cr, 22, (s.top + s.bottom) / 2.0);
  cairo_rotate (cr, -G_PI / 2);
  text_at (cr, 0, 0, 0.5, 0.5, "training loss (Dice + BCE)");
  cairo_restore (cr);
  cairo_save (cr);
  cairo_set_source_rgb (cr, VAL_RGB[0], VAL_RGB[1], VAL_RGB[2]);
  cairo_translate (cr, width - 22, (s.top + s.bottom) / 2.0);
  cairo_rotate (cr, G_PI / 2);
  text_at (cr, 0, 0, 0.5, 0.5, "Dice");
  cairo_restore (cr);

  if (style->title)
    {
      set_rgba (cr, style->fg, 1);
      cairo_set_font_size (cr, f + 3);
      g_autofree char *title
          = best >= 0 ? g_strdup_printf ("Training curves: best validation Dice %.4f (epoch %d)",
                                         r[best].val_dice, r[best].epoch)
                      : g_strdup ("Training curves (no validation)");
      text_at (cr, s.left, 12, 0, 0, title);
    }

  cairo_set_font_size (cr, f);
  double ly = s.top - (style->title ? 22 : 1.7 * f);
  double x = legend_entry (cr, style, s.left, ly, LOSS_RGB, false, "training loss");
  x = legend_entry (cr, style, x, ly, TRAIN_DICE_RGB, true, "training Dice");
  if (have_val)
    legend_entry (cr, style, x, ly, VAL_RGB, false, "validation Dice");

  cairo_save (cr);
  cairo_rectangle (cr, s.left, s.top - 6, s.right - s.left, s.bottom - s.top + 12);
  cairo_clip (cr);
  draw_series (cr, &s, r, n, G_STRUCT_OFFSET (MmNnEpochRecord, train_dice), 1, TRAIN_DICE_RGB,
               1.5, true);
  draw_series (cr, &s, r, n, G_STRUCT_OFFSET (MmNnEpochRecord, train_loss), s.loss_max,
               LOSS_RGB, 2, false);
  draw_series (cr, &s, r, n, G_STRUCT_OFFSET (MmNnEpochRecord, val_dice), 1, VAL_RGB, 2,
               false);
  if (running)
    {
      /* The epoch under way: an open circle at its loss so far. */
      cairo_set_source_rgb (cr, LOSS_RGB[0], LOSS_RGB[1], LOSS_RGB[2]);
      cairo_set_line_width (cr, 1.5);
      cairo_new_sub_path (cr);
      cairo_arc (cr, sx (&s, style->running_epoch), sy (&s, style->running_loss, s.loss_max), 4,
                 0, 2 * G_PI);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
  cairo_restore (cr);
}

static cairo_status_t
append_cb (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

bool
mm_nn_plot_write_png (const char *path, const MmNnEpochRecord *records, int n, GError **error)
{
  g_return_val_if_fail (path && (n == 0 || records), false);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, WIDTH, HEIGHT);
  cairo_t *cr = cairo_create (surface);
  MmNnPlotStyle style;
  mm_nn_plot_style_init (&style);
  mm_nn_plot_draw (cr, WIDTH, HEIGHT, records, n, &style);
  cairo_status_t status = cairo_status (cr);
  cairo_destroy (cr);
  g_autoptr (GByteArray) png = g_byte_array_new ();
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png_stream (surface, append_cb, png);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: drawing the plot failed: %s",
                   path, cairo_status_to_string (status));
      return false;
    }
  return mm_atomic_write (path, png->data, png->len, true, error);
}
