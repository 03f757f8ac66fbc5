/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What we print is JSON and text a terminal cannot be steered by; the padding range in the
 * statistics of float volumes (the int16 path is checked end to end by hostile/test_values.py);
 * the figures without a histogram (mm-figures.c) equal the histogram's. */
#include "mm-figures.h"
#include "mm-json.h"
#include "mm-phantom.h"
#include "mm-stats.h"
#include "mm-text.h"
#include "mm-volume.h"

#include <math.h>
#include <string.h>

/* Numbers json-glib 1.6's generator wrote as "1e+20.0", "nan.0", "inf.0". */
static void
test_json_numbers (void)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  const double v[] = { 1e20, NAN, INFINITY, -INFINITY, 0.1, 3.0, -0.0, 1e-300, 123456789.0 };
  for (guint i = 0; i < G_N_ELEMENTS (v); i++)
    json_builder_add_double_value (b, v[i]);
  json_builder_add_int_value (b, -7);
  json_builder_end_array (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  guint n_nonfinite = 99;
  gsize len = 0;
  g_autofree char *text = mm_json_to_data (root, FALSE, &len, &n_nonfinite);
  g_assert_cmpstr (text, ==, "[1e+20,null,null,null,0.1,3.0,-0.0,1e-300,123456789.0,-7]");
  g_assert_cmpuint (len, ==, strlen (text));
  g_assert_cmpuint (n_nonfinite, ==, 3);

  /* Every finite double reads back as itself. */
  g_autoptr (JsonParser) p = json_parser_new ();
  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  JsonArray *a = json_node_get_array (json_parser_get_root (p));
  for (guint i = 0; i < G_N_ELEMENTS (v); i++)
    if (isfinite (v[i]))
      g_assert_true (json_array_get_double_element (a, i) == v[i]);
}

static void
test_json_strings (void)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  /* ESC, BEL, DEL, C1 CSI (U+009B), a line separator, quote, backslash; then a byte that is
   * not UTF-8 (Latin-1 e-acute). */
  mm_json_set_string (b, "a", "x\x1b[2J\x07\x7f\xc2\x9b\xe2\x80\xa8\"\\\t\n");
  mm_json_set_string (b, "b", "caf\xe9");
  mm_json_set_string (b, "c", NULL);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = mm_json_to_data (root, FALSE, NULL, NULL);
  g_assert_cmpstr (text, ==,
                   "{\"a\":\"x\\u001b[2J\\u0007\\u007f\\u009b\\u2028\\\"\\\\\\t\\n\","
                   "\"b\":\"caf\xef\xbf\xbd\",\"c\":null}");
  g_assert_true (g_utf8_validate (text, -1, NULL));

  /* Pretty: members in insertion order, two-space indents. */
  g_autofree char *pretty = mm_json_to_data (root, TRUE, NULL, NULL);
  g_assert_true (g_str_has_prefix (pretty, "{\n  \"a\" : "));
  g_assert_true (strstr (pretty, "\n  \"c\" : null\n}") != NULL);
}

static void
test_text_printable (void)
{
  g_autofree char *a = mm_text_printable ("ok \xc3\xa9 text");
  g_assert_cmpstr (a, ==, "ok \xc3\xa9 text");
  /* ESC ] 0 ; title BEL, CSI via ESC [, C1 CSI, RLO, DEL, tab, newline, a stray byte. */
  g_autofree char *b
      = mm_text_printable ("\x1b]0;t\x07\x1b[2J\xc2\x9b\xe2\x80\xae\x7f\t\n\xff.");
  g_assert_cmpstr (b, ==,
                   "\xef\xbf\xbd]0;t\xef\xbf\xbd\xef\xbf\xbd[2J\xef\xbf\xbd\xef\xbf\xbd"
                   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.");
  g_assert_true (mm_text_is_printable (b));
  g_assert_false (mm_text_is_printable ("\x1b"));
  g_assert_null (mm_text_printable (NULL));
}

/* Float voxels: padding is [min, max] of Pixel Padding Value and Range Limit, within half a
 * unit; the mean without padding is that of the rest; all padding gives NaN. */
static void
test_stats_padding_range_float (void)
{
  const int dims[3] = { 4, 4, 2 };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_FLOAT32);
  float *p = vol->voxels;
  size_t n = mm_volume_n_voxels (vol);
  double sum = 0;
  int rest = 0;
  for (size_t x = 0; x < n; x++)
    {
      p[x] = (x % 4 == 0) ? -2000.0f - (float) (x % 3) * 10.0f : (float) x * 1.25f;
      if (!(p[x] > -2020.5 && p[x] < -1999.5))
        sum += p[x], rest++;
    }
  vol->has_padding_value = true;
  vol->padding_value_hu = -2000;
  vol->has_padding_range = true;
  vol->padding_limit_hu = -2020; /* below the value: the order is free */
  g_autoptr (MmStats) st = mm_stats_compute (vol, 1);
  g_assert_cmpuint (st->n_padding, ==, n - rest);
  g_assert_cmpfloat (st->padding_lo, ==, -2020);
  g_assert_cmpfloat (st->padding_hi, ==, -2000);
  g_assert_cmpfloat_with_epsilon (st->mean_without_padding, sum / rest, 1e-9);

  for (size_t x = 0; x < n; x++)
    p[x] = -2010.0f;
  g_autoptr (MmStats) all = mm_stats_compute (vol, 1);
  g_assert_cmpuint (all->n_padding, ==, n);
  g_assert_true (isnan (all->mean_without_padding));
}

static void
assert_same_figures (const MmStats *a, const MmStats *b, double tol)
{
  g_assert_cmpint (a->padding_source, ==, b->padding_source);
  g_assert_cmpfloat (a->padding_value, ==, b->padding_value);
  g_assert_cmpuint (a->n_padding, ==, b->n_padding);
  g_assert_cmpuint (a->n_voxels, ==, b->n_voxels);
  g_assert_cmpfloat (a->min, ==, b->min);
  g_assert_cmpfloat (a->max, ==, b->max);
  g_assert_cmpfloat_with_epsilon (a->mean, b->mean, tol * fabs (b->mean) + 1e-12);
  g_assert_cmpfloat_with_epsilon (a->mean_without_padding, b->mean_without_padding,
                                  tol * fabs (b->mean_without_padding) + 1e-12);
}

/* The streamed figures of every slice of vol, as `info` takes them. */
static MmStats *
figures_streamed (const MmVolume *vol)
{
  g_autoptr (MmFiguresBuilder) fb = mm_figures_builder_new ();
  size_t slice = mm_volume_slice_voxels (vol);
  for (int k = vol->dims[2] - 1; k >= 0; k--) /* any order, as threads deliver them */
    mm_figures_builder_add_slice (fb, k, (const int16_t *) vol->voxels + k * slice, vol->dims);
  return mm_figures_builder_finish (fb, vol);
}

static void
test_figures_equal_stats (void)
{
  MmPhantomParams p;
  mm_phantom_params_init (&p);
  p.size = 64;
  p.slices = 10;
  p.noise_sd = 30;
  g_autoptr (GError) err = NULL;
  g_autoptr (MmPhantom) ph = mm_phantom_new (&p, &err);
  g_assert_no_error (err);
  MmVolume *vol = ph->volume;

  /* int16 with detected padding (the phantom's -2048 outside the circle): exact. */
  g_autoptr (MmStats) want = mm_stats_compute (vol, 1);
  g_assert_cmpint (want->padding_source, ==, MM_PADDING_DETECTED);
  g_autoptr (MmStats) fig = mm_figures_compute (vol, 2);
  assert_same_figures (fig, want, 0);
  g_assert_null (fig->hist);
  g_autoptr (MmStats) streamed = figures_streamed (vol);
  g_assert_nonnull (streamed);
  assert_same_figures (streamed, want, 0);

  /* A voxel below the padding, as real CTs have (artefacts): the padding is no longer the
   * volume's minimum, and is counted from the voxels by value below -1024. */
  size_t slice = mm_volume_slice_voxels (vol);
  int16_t *v = vol->voxels;
  v[5 * slice + 32 * 64 + 32] = -3000;
  g_autoptr (MmStats) want2 = mm_stats_compute (vol, 1);
  g_autoptr (MmStats) streamed2 = figures_streamed (vol);
  g_assert_nonnull (streamed2);
  assert_same_figures (streamed2, want2, 0);
  g_autoptr (MmStats) fig2 = mm_figures_compute (vol, 2);
  assert_same_figures (fig2, want2, 0);

  /* A padding tag with a range: the full pass, exact. */
  vol->has_padding_value = true;
  vol->padding_value_hu = -2048;
  vol->has_padding_range = true;
  vol->padding_limit_hu = -1000;
  g_autoptr (MmStats) want3 = mm_stats_compute (vol, 1);
  g_autoptr (MmStats) fig3 = mm_figures_compute (vol, 1);
  assert_same_figures (fig3, want3, 0);
  /* which slices' figures cannot give: the streamed figures say so. */
  g_autoptr (MmStats) streamed3 = figures_streamed (vol);
  g_assert_null (streamed3);

  /* Float voxels (a non-integral rescale): the same up to the order of the sums. */
  vol->has_padding_value = vol->has_padding_range = false;
  g_autoptr (MmVolume) fv = mm_volume_new (vol->dims, MM_VOXEL_FLOAT32);
  for (size_t x = 0; x < mm_volume_n_voxels (vol); x++)
    ((float *) fv->voxels)[x] = v[x] * 0.5f + 0.25f;
  g_autoptr (MmStats) want4 = mm_stats_compute (fv, 1);
  g_autoptr (MmStats) fig4 = mm_figures_compute (fv, 2);
  assert_same_figures (fig4, want4, 1e-12);

  /* Float slices streamed, with detected padding (-2048.25 HU, within half a unit of -2048)
   * and voxels below it: the same as the histogram's figures. */
  float *f = fv->voxels;
  for (size_t x = 0; x < mm_volume_n_voxels (vol); x++)
    f[x] = v[x] == -2048 ? -2048.25f : v[x] * 0.5f + 0.25f;
  f[7 * slice + 31 * 64 + 31] = -2500.4f;
  g_autoptr (MmStats) want5 = mm_stats_compute (fv, 1);
  g_assert_cmpint (want5->padding_source, ==, MM_PADDING_DETECTED);
  g_autoptr (MmFiguresBuilder) fb = mm_figures_builder_new ();
  for (int k = 0; k < fv->dims[2]; k++)
    mm_figures_builder_add_float_slice (fb, k, f + k * slice, fv->dims);
  g_autoptr (MmStats) streamed5 = mm_figures_builder_finish (fb, fv);
  g_assert_nonnull (streamed5);
  assert_same_figures (streamed5, want5, 1e-12);
}

/* The streamed figures read a slice once when its minimum is the previous slice's (a hint):
 * slices whose minimum changes from one to the next (padding, a lower artefact, no padding,
 * back), in both orders, must still give the whole volume's figures exactly. */
static void
test_figures_streamed_minimum_changes (void)
{
  const int dims[3] = { 40, 30, 12 };
  g_autoptr (MmVolume) vol = mm_volume_new (dims, MM_VOXEL_INT16);
  g_autoptr (MmVolume) fv = mm_volume_new (dims, MM_VOXEL_FLOAT32);
  int16_t *v = vol->voxels;
  float *f = fv->voxels;
  size_t slice = mm_volume_slice_voxels (vol);
  for (int k = 0; k < dims[2]; k++)
    for (int y = 0; y < dims[1]; y++)
      for (int x = 0; x < dims[0]; x++)
        {
          size_t i = k * slice + (size_t) y * dims[0] + x;
          double dx = x - 19.5, dy = y - 14.5; /* outside the inscribed circle: padding */
          bool corner = dx * dx + dy * dy > 15.0 * 15.0;
          int hu = corner && k != 7 ? -2048 : -900 + (int) ((x * 37 + y * 11 + k * 5) % 1900);
          if (k % 3 == 1 && x == 20 && y == 15)
            hu = -3000 - k; /* below the padding, a different minimum on each such slice */
          if (k % 5 == 2 && x == 21 && y == 15)
            hu = -1500; /* a low value that is not the slice's minimum */
          v[i] = (int16_t) hu;
          f[i] = hu == -2048 ? -2048.25f : hu * 0.5f + 0.25f;
        }
  for (int order = 0; order < 2; order++)
    {
      g_autoptr (MmFiguresBuilder) fb = mm_figures_builder_new ();
      g_autoptr (MmFiguresBuilder) ffb = mm_figures_builder_new ();
      for (int j = 0; j < dims[2]; j++)
        {
          int k = order ? dims[2] - 1 - j : j;
          mm_figures_builder_add_slice (fb, k, v + k * slice, dims);
          mm_figures_builder_add_float_slice (ffb, k, f + k * slice, dims);
        }
      g_autoptr (MmStats) want = mm_stats_compute (vol, 1);
      g_autoptr (MmStats) got = mm_figures_builder_finish (fb, vol);
      g_assert_nonnull (got);
      g_assert_cmpint (want->padding_source, ==, MM_PADDING_DETECTED);
      assert_same_figures (got, want, 0);
      g_autoptr (MmStats) fwant = mm_stats_compute (fv, 1);
      g_autoptr (MmStats) fgot = mm_figures_builder_finish (ffb, fv);
      g_assert_nonnull (fgot);
      g_assert_cmpint (fwant->padding_source, ==, MM_PADDING_DETECTED);
      /* Sums of quarter units: exact in any order. */
      assert_same_figures (fgot, fwant, 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/values/json/numbers", test_json_numbers);
  g_test_add_func ("/values/json/strings", test_json_strings);
  g_test_add_func ("/values/text/printable", test_text_printable);
  g_test_add_func ("/values/stats/padding-range-float", test_stats_padding_range_float);
  g_test_add_func ("/values/figures/equal-stats", test_figures_equal_stats);
  g_test_add_func ("/values/figures/streamed-minimum-changes",
                   test_figures_streamed_minimum_changes);
  return g_test_run ();
}
