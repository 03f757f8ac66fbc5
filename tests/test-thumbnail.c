/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The series browser's thumbnails (mm-thumbnail.c): the window a thumbnail uses and the
 * pixels it draws, against values worked out by hand. */
#include "mm-thumbnail.h"

#include <glib.h>
#include <math.h>

/* PS3.3 C.11.2.1.2.1, written out here rather than taken from mm-render.h. */
static int
dicom_linear (double x, double c, double w)
{
  if (x <= c - 0.5 - (w - 1) / 2)
    return 0;
  if (x > c - 0.5 + (w - 1) / 2)
    return 255;
  return (int) floor (((x - (c - 0.5)) / (w - 1) + 0.5) * 255 + 0.5);
}

/* 4 x 2 slices, 3 of them, values 100 * k + j * 4 + i. */
static MmVolume *
small_volume (void)
{
  int dims[3] = { 4, 2, 3 };
  MmVolume *vol = mm_volume_new (dims, MM_VOXEL_INT16);
  int16_t *v = vol->voxels;
  for (int k = 0; k < 3; k++)
    for (int j = 0; j < 2; j++)
      for (int i = 0; i < 4; i++)
        v[(k * 2 + j) * 4 + i] = (int16_t) (100 * k + j * 4 + i);
  return vol;
}

static void
test_window_from_file (void)
{
  g_autoptr (MmVolume) vol = small_volume ();
  vol->has_window = true;
  vol->window_center = 40;
  vol->window_width = 400;
  double w, l;
  mm_thumbnail_window (vol, 1, &w, &l);
  g_assert_cmpfloat (w, ==, 400);
  g_assert_cmpfloat (l, ==, 40);
}

/* Without a window: the slice's own range, its minimum black and its maximum white. */
static void
test_range_window (void)
{
  g_autoptr (MmVolume) vol = small_volume ();
  vol->has_window = false;
  double w, l;
  mm_thumbnail_window (vol, 2, &w, &l);
  /* slice 2 holds 200..207 */
  g_assert_cmpfloat (w, ==, 8);
  g_assert_cmpfloat (l, ==, 204);
  g_assert_cmpint (dicom_linear (200, l, w), ==, 0);
  g_assert_cmpint (dicom_linear (207, l, w), ==, 255);
}

/* A 4 x 2 slice of square pixels in an 8 x 8 thumbnail: 2 screen pixels a voxel, rows 2..5,
 * black above and below; the slice asked for, not another. */
static void
test_render_fit (void)
{
  g_autoptr (MmVolume) vol = small_volume ();
  vol->has_window = false;
  guint8 rgba[8 * 8 * 4];
  mm_thumbnail_render (vol, 1, 8, rgba);
  /* slice 1 holds 100..107: window 8, level 104 */
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++)
      {
        int want = 0;
        if (y >= 2 && y < 6)
          want = dicom_linear (100 + ((y - 2) / 2) * 4 + x / 2, 104, 8);
        g_assert_cmpint (rgba[(y * 8 + x) * 4], ==, want);
        g_assert_cmpint (rgba[(y * 8 + x) * 4 + 1], ==, want);
      }
  /* A slice index out of range is clamped, never read past the volume. */
  mm_thumbnail_render (vol, 99, 8, rgba);
  g_assert_cmpint (rgba[(2 * 8 + 0) * 4], ==, 0);   /* 200: the minimum of slice 2 */
  g_assert_cmpint (rgba[(5 * 8 + 7) * 4], ==, 255); /* 207: its maximum */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/thumbnail/window-from-file", test_window_from_file);
  g_test_add_func ("/core/thumbnail/range-window", test_range_window);
  g_test_add_func ("/core/thumbnail/render-fit", test_render_fit);
  return g_test_run ();
}
