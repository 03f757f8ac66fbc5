/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mm_nn_plot_draw, the one drawing of the training curves (the PNG beside a model and the
 * app's training window): any size, the background painted or not, and the epoch under way
 * marked where its running loss puts it. */
#include "mm-nn-plot.h"

#include <math.h>

enum
{
  W = 600,
  H = 300,
};

/* ARGB32 of pixel (x, y). */
static guint32
pixel (cairo_surface_t *s, int x, int y)
{
  cairo_surface_flush (s);
  const unsigned char *data = cairo_image_surface_get_data (s);
  return *(const guint32 *) (data + y * cairo_image_surface_get_stride (s) + 4 * x);
}

static cairo_surface_t *
draw (const MmNnPlotStyle *style, const MmNnEpochRecord *r, int n)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (s);
  mm_nn_plot_draw (cr, W, H, r, n, style);
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  return s;
}

static void
test_background (void)
{
  MmNnEpochRecord r = { 1, 0.5, 0.3, 0.4, NAN, 1, 10 };
  MmNnPlotStyle style;
  mm_nn_plot_style_init (&style);
  cairo_surface_t *s = draw (&style, &r, 1);
  g_assert_cmphex (pixel (s, 2, 2), ==, 0xffffffff); /* the PNG's white */
  cairo_surface_destroy (s);
  style.background[3] = 0;
  s = draw (&style, &r, 1);
  g_assert_cmphex (pixel (s, 2, 2) >> 24, ==, 0); /* the window's own background shows */
  cairo_surface_destroy (s);
}

static void
test_running_epoch (void)
{
  /* One finished epoch at loss 0.5 (the loss axis runs to 0.5), the second under way at 0.25:
   * its open circle (radius 4) is centred on the right edge of the frame (epoch 2 of 2) at
   * half its height, where nothing else is drawn (Dice grid lines at 0.4 and 0.6). */
  MmNnEpochRecord r = { 1, 0.5, 0.3, 0.4, NAN, 1, 10 };
  MmNnPlotStyle style;
  mm_nn_plot_style_init (&style);
  style.background[3] = 0;
  style.title = false;
  double top = 3.5 * style.font_size, bottom = H - 60, right = W - 80;
  int x = (int) right - 4, y = (int) round ((top + bottom) / 2);
  cairo_surface_t *without = draw (&style, &r, 1);
  g_assert_cmphex (pixel (without, x, y) >> 24, ==, 0);
  cairo_surface_destroy (without);
  style.running_epoch = 2;
  style.running_loss = 0.25;
  cairo_surface_t *with = draw (&style, &r, 1);
  guint32 p = pixel (with, x, y);
  g_assert_cmphex (p >> 24, >, 0x80);
  /* The loss colour: blue over red. */
  g_assert_cmpuint (p & 0xff, >, (p >> 16) & 0xff);
  cairo_surface_destroy (with);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn-plot/background", test_background);
  g_test_add_func ("/nn-plot/running-epoch", test_running_epoch);
  return g_test_run ();
}
