/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The measurement list (mm-annotation): figures against values computed by hand on a volume
 * whose voxels are known (v = i + 10 j + 100 k), a ROI cut by the image's border, the JSON
 * round trip, the files (atomic save, empty list removes, links refused) and hostile JSON. */
#include "mm-annotation.h"
#include "mm-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>
#include <math.h>
#include <string.h>

/* 7 x 5 x 3 voxels of 0.5 x 0.8 x 2 mm, voxel (i, j, k) = i + 10 j + 100 k. */
static MmVolume *
known_volume (void)
{
  int dims[3] = { 7, 5, 3 };
  MmVolume *vol = mm_volume_new (dims, MM_VOXEL_INT16);
  vol->spacing[0] = 0.5, vol->spacing[1] = 0.8, vol->spacing[2] = 2;
  for (int k = 0; k < 3; k++)
    vol->slices[k].position[2] = 10 + 2 * k;
  int16_t *v = vol->voxels;
  for (int k = 0; k < 3; k++)
    for (int j = 0; j < 5; j++)
      for (int i = 0; i < 7; i++)
        v[(k * 5 + j) * 7 + i] = (int16_t) (i + 10 * j + 100 * k);
  return vol;
}

static void
test_figures (void)
{
  g_autoptr (MmVolume) vol = known_volume ();
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
  /* Distance: 3 pixels of 0.5 mm across, 4 of 0.8 mm down: hypot (1.5, 3.2). */
  const double d[] = { 0.5, 0.5, 3.5, 4.5 };
  MmAnnotation *a = mm_annotation_list_add (list, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL, 1, d, 2);
  MmAnnotationFigures f;
  mm_annotation_measure (a, vol, &f);
  g_assert_cmpfloat_with_epsilon (f.length_mm, hypot (1.5, 3.2), 1e-12);
  /* A right angle in mm: arms of 2 pixels across (1 mm) and 1.25 pixels down (1 mm). */
  const double an[] = { 3, 1, 1, 1, 1, 2.25 };
  a = mm_annotation_list_add (list, MM_ANNOT_ANGLE, MM_PLANE_AXIAL, 0, an, 3);
  mm_annotation_measure (a, vol, &f);
  g_assert_cmpfloat_with_epsilon (f.angle_deg, 90, 1e-9);
  /* Rectangle cut by the image's right and bottom border: centres 5.5, 6.5 and 3.5, 4.5 are
   * inside, so voxels (5..6, 3..4, 1) = 135, 136, 145, 146. */
  const double r[] = { 4.6, 2.9, 11, 12 };
  a = mm_annotation_list_add (list, MM_ANNOT_RECTANGLE, MM_PLANE_AXIAL, 1, r, 2);
  mm_annotation_measure (a, vol, &f);
  g_assert_true (f.has_stats);
  g_assert_cmpuint (f.stats.count, ==, 4);
  g_assert_cmpfloat_with_epsilon (f.stats.area_mm2, 4 * 0.5 * 0.8, 1e-12);
  g_assert_cmpfloat_with_epsilon (f.stats.mean, 140.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (f.stats.sd, sqrt (25.25), 1e-12);
  g_assert_cmpfloat_with_epsilon (f.stats.median, 140.5, 1e-12);
  g_assert_cmpfloat (f.stats.min, ==, 135);
  g_assert_cmpfloat (f.stats.max, ==, 146);
  /* The same rectangle on the coronal plane (u = i, v = last slice - k) at j = 2: centres
   * u 5.5, 6.5 and v 2.5 (k = 0): 25, 26. */
  const double rc[] = { 4.6, 1.9, 11, 12 };
  a = mm_annotation_list_add (list, MM_ANNOT_RECTANGLE, MM_PLANE_CORONAL, 2, rc, 2);
  mm_annotation_measure (a, vol, &f);
  g_assert_cmpuint (f.stats.count, ==, 2);
  g_assert_cmpfloat_with_epsilon (f.stats.mean, 25.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (f.stats.area_mm2, 2 * 0.5 * 2, 1e-12);
  /* Wholly outside the image: empty, all zero, never NaN. */
  const double out[] = { -10, -10, -5, -5 };
  a = mm_annotation_list_add (list, MM_ANNOT_ELLIPSE, MM_PLANE_AXIAL, 2, out, 2);
  mm_annotation_measure (a, vol, &f);
  g_assert_true (f.has_stats);
  g_assert_cmpuint (f.stats.count, ==, 0);
  g_assert_cmpfloat (f.stats.mean, ==, 0);
  /* Freehand triangle drawn point by point: centres (0.5, 0.5), (1.5, 0.5), (0.5, 1.5) are
   * inside the triangle (0,0) (3,0) (0,3) on slice 2; (1.5, 1.5) lies on its edge x + y = 3
   * and (2.5, 0.5) too: the half-open rule puts each in exactly one of the two triangles
   * sharing that edge; here, counted by brute force through mm_roi_plane_mask. */
  const double p0[] = { 0, 0 };
  a = mm_annotation_list_add (list, MM_ANNOT_FREEHAND, MM_PLANE_AXIAL, 2, p0, 1);
  for (int k = 0; k < 200; k++) /* past the first capacity of 64 points */
    g_assert_true (mm_annotation_append_point (a, 3.0 * (k + 1) / 200, 0));
  g_assert_true (mm_annotation_append_point (a, 0, 3));
  mm_annotation_measure (a, vol, &f);
  uint8_t m[35];
  MmRoi roi = { .shape = MM_ROI_POLYGON, .points = a->points, .n_points = a->n_points };
  g_assert_true (mm_roi_plane_mask (&roi, 7, 5, m));
  double sum = 0;
  int n = 0;
  for (int j = 0; j < 5; j++)
    for (int i = 0; i < 7; i++)
      if (m[j * 7 + i])
        sum += i + 10 * j + 200, n++;
  g_assert_cmpint (n, >=, 3);
  g_assert_cmpuint (f.stats.count, ==, (guint64) n);
  g_assert_cmpfloat_with_epsilon (f.stats.mean, sum / n, 1e-9);
  /* Profile along row j = 2 of slice 0 from i = 0 to 6: a linear field, exact. */
  const double pr[] = { 0.5, 2.5, 6.5, 2.5 };
  a = mm_annotation_list_add (list, MM_ANNOT_PROFILE, MM_PLANE_AXIAL, 0, pr, 2);
  int ns;
  g_autofree double *hu = NULL, *pos = NULL;
  mm_annotation_profile (a, vol, &ns, &hu, &pos);
  g_assert_cmpint (ns, ==, 7);
  for (int s = 0; s < ns; s++)
    {
      g_assert_cmpfloat_with_epsilon (hu[s], 20 + s, 1e-9);
      g_assert_cmpfloat_with_epsilon (pos[s], 0.5 * s, 1e-9);
    }
  /* Wrong point counts are refused. */
  g_assert_null (mm_annotation_list_add (list, MM_ANNOT_ANGLE, MM_PLANE_AXIAL, 0, d, 2));
  g_assert_null (mm_annotation_list_add (list, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL, 0, an, 3));
}

static void
test_round_trip (void)
{
  g_autoptr (MmVolume) vol = known_volume ();
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
  const double d[] = { 0.1, 1.0 / 3, 3.5, 4.5 }, an[] = { 3, 1, 1, 1, 1, 2.25 };
  const double r[] = { 4.6, 2.9, 11, 12 }, fr[] = { 0, 0, 3, 0, 0, 3, 1e-300, 2.5 };
  mm_annotation_list_add (list, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL, 1, d, 2);
  mm_annotation_list_add (list, MM_ANNOT_ANGLE, MM_PLANE_SAGITTAL, 6, an, 3);
  mm_annotation_list_add (list, MM_ANNOT_RECTANGLE, MM_PLANE_CORONAL, 4, r, 2);
  mm_annotation_list_add (list, MM_ANNOT_FREEHAND, MM_PLANE_AXIAL, 2, fr, 4);
  mm_annotation_list_add (list, MM_ANNOT_PROFILE, MM_PLANE_AXIAL, 0, d, 2);
  mm_annotation_list_add (list, MM_ANNOT_ELLIPSE, MM_PLANE_AXIAL, 0, r, 2);
  g_assert_true (mm_annotation_list_remove (list, 5));
  g_assert_false (mm_annotation_list_remove (list, 5));
  gsize len;
  g_autofree char *json = mm_annotation_list_to_json (list, vol, &len);
  g_assert_nonnull (strstr (json, "\"length_mm\""));
  g_autoptr (MmAnnotationList) back = mm_annotation_list_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (mm_annotation_list_load_data (back, json, (gssize) len, "test", vol, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (back->items->len, ==, list->items->len);
  for (guint i = 0; i < list->items->len; i++)
    {
      MmAnnotation *a = list->items->pdata[i], *b = back->items->pdata[i];
      g_assert_cmpuint (a->id, ==, b->id);
      g_assert_cmpint (a->kind, ==, b->kind);
      g_assert_cmpint (a->plane, ==, b->plane);
      g_assert_cmpint (a->depth, ==, b->depth);
      g_assert_cmpint (a->n_points, ==, b->n_points);
      /* Doubles survive exactly (shortest round-trip form). */
      g_assert_cmpmem (a->points, 16 * a->n_points, b->points, 16 * b->n_points);
    }
  /* Ids are kept (1, 2, 3, 4, 6: 5 was removed) and new ones follow the largest. */
  MmAnnotation *n = mm_annotation_list_add (back, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL, 0, d, 2);
  g_assert_cmpuint (n->id, ==, 7);
  /* Repeated or out-of-range ids: all numbered afresh, in file order. */
  const char *dup = "{\"format\":\"metalmark-annotations\",\"version\":1,\"items\":["
                    "{\"id\":4,\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1]},"
                    "{\"id\":4,\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1]},"
                    "{\"id\":-3,\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1]}]}";
  g_autoptr (MmAnnotationList) renum = mm_annotation_list_new ();
  g_assert_true (mm_annotation_list_load_data (renum, dup, -1, "dup", vol, &error));
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (((MmAnnotation *) renum->items->pdata[i])->id, ==, i + 1);
  g_assert_cmpuint (renum->next_id, ==, 4);

  /* CSV: header, one row per item, slice 1-based, empty cells where a figure does not
   * apply. */
  g_autofree char *csv = mm_annotation_list_to_csv (list, vol, NULL);
  g_auto (GStrv) rows = g_strsplit (csv, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (rows), ==, 1 + list->items->len + 1);
  g_assert_true (g_str_has_prefix (rows[0], "id,kind,plane,slice,points,length_mm"));
  g_assert_true (g_str_has_prefix (rows[1], "1,distance,axial,2,\"0.100 0.333;3.500 4.500\","));
  g_assert_true (g_str_has_prefix (rows[2], "2,angle,sagittal,7,"));
  g_assert_true (g_str_has_suffix (rows[2], ",90,,,,,,,"));

  /* Files: atomic save and load; the empty list removes the file. */
  g_autofree char *dir = mm_test_tmp_dir ("annot");
  g_autofree char *path = g_build_filename (dir, "measurements.json", NULL);
  g_assert_true (mm_annotation_list_save (list, vol, path, &error));
  g_autoptr (MmAnnotationList) again = mm_annotation_list_new ();
  g_assert_true (mm_annotation_list_load (again, path, vol, &error));
  g_assert_cmpuint (again->items->len, ==, 5);
  mm_annotation_list_clear (again);
  g_assert_true (mm_annotation_list_save (again, vol, path, &error));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (mm_annotation_list_load (again, path, vol, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* A link in its place is neither read nor written through. */
  g_autofree char *target = g_build_filename (dir, "elsewhere.json", NULL);
  g_assert_true (g_file_set_contents (target, json, (gssize) len, NULL));
  g_assert_cmpint (symlink (target, path), ==, 0);
  g_assert_false (mm_annotation_list_load (again, path, vol, &error));
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);
  g_assert_false (mm_annotation_list_save (list, vol, path, &error));
  g_clear_error (&error);
  mm_test_rm_rf (dir);
}

/* text must be refused with an error holding needle, the list left as it was. */
static void
expect_refused (const char *text, const char *needle)
{
  g_autoptr (MmVolume) vol = known_volume ();
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
  const double d[] = { 0, 0, 1, 1 };
  mm_annotation_list_add (list, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL, 0, d, 2);
  g_autoptr (GError) error = NULL;
  g_assert_false (mm_annotation_list_load_data (list, text, -1, "m.json", vol, &error));
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL || strchr (error->message, '\n') != NULL)
    g_error ("error for %.60s: \"%s\", expected \"%s\"", text, error->message, needle);
  g_assert_true (g_str_has_prefix (error->message, "m.json: "));
  g_assert_cmpuint (list->items->len, ==, 1);
}

#define HEAD "{\"format\":\"metalmark-annotations\",\"version\":1,\"items\":["

static void
test_hostile (void)
{
  expect_refused ("", "empty");
  expect_refused ("[1,2]", "not a Metalmark measurements file");
  expect_refused ("{\"format\":7,\"items\":[]}", "not a Metalmark measurements file");
  expect_refused ("{\"format\":\"metalmark-annotations\",\"version\":2,\"items\":[]}", "version 2");
  expect_refused ("{\"format\":\"metalmark-annotations\",\"version\":\"1\",\"items\":[]}", "version");
  expect_refused ("{\"format\":\"metalmark-annotations\",\"version\":1,\"items\":{}}", "\"items\" is not a list");
  expect_refused (HEAD "7]}", "item 1: not a JSON object");
  expect_refused (HEAD "{\"kind\":3,\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1]}]}",
                  "item 1: \"kind\"");
  expect_refused (HEAD "{\"kind\":\"laser\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1]}]}",
                  "item 1: \"kind\"");
  expect_refused (HEAD "{\"kind\":\"distance\",\"plane\":\"oblique\",\"depth\":0,\"points\":[0,0,1,1]}]}",
                  "\"plane\"");
  expect_refused (HEAD "{\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":3,\"points\":[0,0,1,1]}]}",
                  "\"depth\" is not a slice of this series (0 to 2)");
  expect_refused (HEAD "{\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":\"0\",\"points\":[0,0,1,1]}]}",
                  "\"depth\"");
  expect_refused (HEAD "{\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1]}]}",
                  "\"points\" is not a list of 2 (u, v) pairs for a distance");
  expect_refused (HEAD "{\"kind\":\"angle\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1]}]}",
                  "3 (u, v) pairs for a angle");
  expect_refused (HEAD "{\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,\"1\",1]}]}",
                  "not a number");
  expect_refused (HEAD "{\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,[1],1]}]}",
                  "not a number");
  expect_refused (HEAD "{\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1e7,1]}]}",
                  "out of range");
  expect_refused (HEAD "{\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1e999,1]}]}",
                  "");
  /* The second item is bad: nothing of the first is kept either. */
  expect_refused (HEAD "{\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1]},"
                       "{\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0}]}",
                  "item 2: \"points\"");

  /* Huge counts: one item more than allowed; one freehand point more than allowed. */
  GString *s = g_string_new (HEAD);
  for (int i = 0; i <= MM_ANNOTATION_MAX_ITEMS; i++)
    g_string_append (s, i ? ",{}" : "{}");
  g_string_append (s, "]}");
  expect_refused (s->str, "10001 items, more than the 10000 allowed");
  g_string_assign (s, HEAD "{\"kind\":\"freehand\",\"plane\":\"axial\",\"depth\":0,\"points\":[");
  for (int i = 0; i <= MM_ANNOTATION_MAX_POINTS; i++)
    g_string_append (s, i ? ",1,2" : "1,2");
  g_string_append (s, "]}]}");
  expect_refused (s->str, "3 to 4096 (u, v) pairs for a freehand");
  /* Deep nesting stops before json-glib recurses. */
  g_string_assign (s, HEAD);
  for (int i = 0; i < 100000; i++)
    g_string_append_c (s, '[');
  expect_refused (s->str, "nests more than 64 levels");
  g_string_free (s, TRUE);

  /* At the limits themselves: accepted. */
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
  GString *ok = g_string_new (HEAD "{\"kind\":\"freehand\",\"plane\":\"axial\",\"depth\":2,\"points\":[");
  for (int i = 0; i < MM_ANNOTATION_MAX_POINTS; i++)
    g_string_append (ok, i ? ",1,2.5" : "1,2.5");
  g_string_append (ok, "]}]}");
  g_autoptr (GError) error = NULL;
  g_assert_true (mm_annotation_list_load_data (list, ok->str, -1, "ok", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (((MmAnnotation *) list->items->pdata[0])->n_points, ==, MM_ANNOTATION_MAX_POINTS);
  g_string_free (ok, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/annotation/figures", test_figures);
  g_test_add_func ("/core/annotation/round-trip", test_round_trip);
  g_test_add_func ("/core/annotation/hostile", test_hostile);
  return g_test_run ();
}
