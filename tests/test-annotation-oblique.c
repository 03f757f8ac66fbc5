/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Measurements on oblique planes (mm-annotation with a frame): figures in 3D mm against the
 * points mapped through mm-reslice's own plane (an independent path to LPS), the profile
 * and a ROI on a linear field (where trilinear sampling is exact), the JSON round trip of
 * the plane, old files without it, hostile plane members, and when two planes are the
 * same. */
#include "mm-annotation.h"
#include "mm-reslice.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

/* 24 x 20 x 12 voxels of 0.5 x 0.8 x 2 mm, voxel (i, j, k) = i + 10 j + 100 k: a linear
 * field of LPS, so trilinear samples inside equal the field at the sample. */
static MmVolume *
linear_volume (void)
{
  int dims[3] = { 24, 20, 12 };
  MmVolume *vol = mm_volume_new (dims, MM_VOXEL_INT16);
  vol->spacing[0] = 0.5, vol->spacing[1] = 0.8, vol->spacing[2] = 2;
  for (int k = 0; k < dims[2]; k++)
    vol->slices[k].position[2] = 10 + 2 * k;
  int16_t *v = vol->voxels;
  for (int k = 0; k < dims[2]; k++)
    for (int j = 0; j < dims[1]; j++)
      for (int i = 0; i < dims[0]; i++)
        v[((size_t) k * dims[1] + j) * dims[0] + i] = (int16_t) (i + 10 * j + 100 * k);
  return vol;
}

static double
field_at (const MmVolume *vol, const double lps[3])
{
  double ijk[3];
  mm_volume_lps_to_index (vol, lps, ijk);
  return ijk[0] + 10 * ijk[1] + 100 * ijk[2];
}

/* The coronal plane through the volume's middle turned by 30 degrees about a tilted axis:
 * a plane whose right and down have three nonzero components. */
static void
turned_plane (const MmVolume *vol, MmReslicePlane *rp)
{
  double c[3] = { 11.5, 9.5, 5.5 };
  mm_reslice_plane_init (rp, vol, MM_PLANE_CORONAL, c, 40, 30, 0.5);
  double axis[3] = { 1 / sqrt (3), 1 / sqrt (3), 1 / sqrt (3) };
  mm_reslice_plane_rotate (rp, axis, G_PI / 6);
  for (int a = 0; a < 3; a++)
    {
      g_assert_cmpfloat (fabs (rp->right[a]), >, 0.05);
      g_assert_cmpfloat (fabs (rp->down[a]), >, 0.05);
    }
}

static double
dist3 (const double a[3], const double b[3])
{
  return sqrt ((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1])
               + (a[2] - b[2]) * (a[2] - b[2]));
}

static void
test_figures (void)
{
  g_autoptr (MmVolume) vol = linear_volume ();
  MmReslicePlane rp;
  turned_plane (vol, &rp);
  MmAnnotFrame fr;
  mm_annot_frame_from_reslice (&fr, &rp);
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();

  /* Distance: the 3D distance between the ends as mm-reslice maps them. */
  const double d[] = { 5.25, 7.5, 31.75, 22.0 };
  MmAnnotation *a = mm_annotation_list_add_oblique (list, MM_ANNOT_DISTANCE, MM_PLANE_CORONAL,
                                                    &fr, d, 2);
  g_assert_nonnull (a);
  g_assert_true (a->oblique);
  double s[3], e[3];
  mm_reslice_pixel_to_lps (&rp, d[0], d[1], s);
  mm_reslice_pixel_to_lps (&rp, d[2], d[3], e);
  MmAnnotationFigures f;
  mm_annotation_measure (a, vol, &f);
  g_assert_cmpfloat_with_epsilon (f.length_mm, dist3 (s, e), 1e-9);
  /* Square pixels of 0.5 mm on an orthonormal plane: the in-plane length too. */
  g_assert_cmpfloat_with_epsilon (f.length_mm, 0.5 * hypot (26.5, 14.5), 1e-9);

  /* Angle: a right angle of the plane stays one in 3D (arms along right and down). */
  const double an[] = { 30, 10, 10, 10, 10, 25 };
  a = mm_annotation_list_add_oblique (list, MM_ANNOT_ANGLE, MM_PLANE_CORONAL, &fr, an, 3);
  mm_annotation_measure (a, vol, &f);
  g_assert_cmpfloat_with_epsilon (f.angle_deg, 90, 1e-9);
  const double an2[] = { 20, 20, 10, 10, 20, 10 }; /* 45 degrees */
  a = mm_annotation_list_add_oblique (list, MM_ANNOT_ANGLE, MM_PLANE_CORONAL, &fr, an2, 3);
  mm_annotation_measure (a, vol, &f);
  g_assert_cmpfloat_with_epsilon (f.angle_deg, 45, 1e-9);

  /* Profile: the length, and each sample equals the field at its point of the 3D segment. */
  a = mm_annotation_list_add_oblique (list, MM_ANNOT_PROFILE, MM_PLANE_CORONAL, &fr, d, 2);
  mm_annotation_measure (a, vol, &f);
  g_assert_cmpfloat_with_epsilon (f.length_mm, dist3 (s, e), 1e-9);
  int n;
  g_autofree double *hu = NULL, *pos = NULL;
  mm_annotation_profile (a, vol, &n, &hu, &pos);
  g_assert_cmpint (n, >=, (int) (dist3 (s, e) / 0.5));
  int inside = 0;
  for (int k = 0; k < n; k++)
    {
      double t = pos[k] / dist3 (s, e), p[3];
      for (int c = 0; c < 3; c++)
        p[c] = s[c] + t * (e[c] - s[c]);
      if (isnan (hu[k]))
        continue;
      inside++;
      g_assert_cmpfloat_with_epsilon (hu[k], field_at (vol, p), 1e-6);
    }
  g_assert_cmpint (inside, >, n / 2);

  /* Rectangle: pixel centres 12.5..15.5 by 10.5..13.5 inside (16 pixels of 0.25 mm²); on a
   * linear field their mean is the field at the middle, (14, 12). */
  const double r[] = { 12.0, 10.0, 16.0, 14.0 };
  a = mm_annotation_list_add_oblique (list, MM_ANNOT_RECTANGLE, MM_PLANE_CORONAL, &fr, r, 2);
  mm_annotation_measure (a, vol, &f);
  g_assert_true (f.has_stats);
  g_assert_cmpuint (f.stats.count, ==, 16);
  g_assert_cmpfloat_with_epsilon (f.stats.area_mm2, 16 * 0.25, 1e-9);
  double mid[3];
  mm_reslice_pixel_to_lps (&rp, 14, 12, mid);
  g_assert_cmpfloat_with_epsilon (f.stats.mean, field_at (vol, mid), 1e-3);

  /* A rectangle far larger than the series on the plane of axial slice 4 (pixel centres on
   * voxel centres, the volume's spacings): exactly the slice's 24 x 20 voxels count, their
   * mean 11.5 + 10 x 9.5 + 400; the box is cut to the volume, nothing huge allocated. */
  MmReslicePlane ax;
  mm_reslice_plane_init_standard (&ax, vol, MM_PLANE_AXIAL, 4);
  MmAnnotFrame afr;
  mm_annot_frame_from_reslice (&afr, &ax);
  const double big[] = { -9e5, -9e5, 9e5, 9e5 };
  a = mm_annotation_list_add_oblique (list, MM_ANNOT_RECTANGLE, MM_PLANE_AXIAL, &afr, big, 2);
  mm_annotation_measure (a, vol, &f);
  g_assert_true (f.has_stats);
  g_assert_cmpuint (f.stats.count, ==, 24 * 20);
  g_assert_cmpfloat_with_epsilon (f.stats.mean, 11.5 + 95 + 400, 1e-6);
  g_assert_cmpfloat_with_epsilon (f.stats.area_mm2, 24 * 20 * 0.5 * 0.8, 1e-9);
  /* Wholly beside the volume: empty, zeros. */
  const double beside[] = { 100, 100, 120, 130 };
  a = mm_annotation_list_add_oblique (list, MM_ANNOT_ELLIPSE, MM_PLANE_AXIAL, &afr, beside, 2);
  mm_annotation_measure (a, vol, &f);
  g_assert_true (f.has_stats);
  g_assert_cmpuint (f.stats.count, ==, 0);

  /* CSV: an oblique item has no slice. */
  g_autofree char *csv = mm_annotation_list_to_csv (list, vol, NULL);
  g_assert_nonnull (strstr (csv, "\r\n1,distance,oblique,,\""));
}

static void
test_round_trip (void)
{
  g_autoptr (MmVolume) vol = linear_volume ();
  MmReslicePlane rp;
  turned_plane (vol, &rp);
  MmAnnotFrame fr;
  mm_annot_frame_from_reslice (&fr, &rp);
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
  const double d[] = { 5.25, 7.5, 31.75, 22.0 };
  mm_annotation_list_add (list, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL, 3, d, 2);
  mm_annotation_list_add_oblique (list, MM_ANNOT_DISTANCE, MM_PLANE_CORONAL, &fr, d, 2);
  gsize len;
  g_autofree char *json = mm_annotation_list_to_json (list, vol, &len);
  g_assert_nonnull (strstr (json, "\"origin_lps\""));
  g_autoptr (MmAnnotationList) back = mm_annotation_list_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (mm_annotation_list_load_data (back, json, (gssize) len, "test", vol, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (back->items->len, ==, 2);
  MmAnnotation *a0 = back->items->pdata[0], *a1 = back->items->pdata[1];
  g_assert_false (a0->oblique);
  g_assert_true (a1->oblique);
  /* Doubles survive exactly. */
  g_assert_cmpmem (&a1->frame, sizeof fr, &fr, sizeof fr);
  g_assert_true (mm_annot_frame_equal (&a1->frame, &fr));
  MmAnnotationFigures f0, f1;
  mm_annotation_measure (list->items->pdata[1], vol, &f0);
  mm_annotation_measure (a1, vol, &f1);
  g_assert_cmpfloat (f0.length_mm, ==, f1.length_mm);

  /* A file of the first version, without "oblique": standard items as before. */
  const char *old = "{\"format\":\"metalmark-annotations\",\"version\":1,\"items\":["
                    "{\"id\":1,\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":2,"
                    "\"points\":[0,0,3,4]}]}";
  g_autoptr (MmAnnotationList) ol = mm_annotation_list_new ();
  g_assert_true (mm_annotation_list_load_data (ol, old, -1, "old", vol, &error));
  g_assert_false (((MmAnnotation *) ol->items->pdata[0])->oblique);
  mm_annotation_measure (ol->items->pdata[0], vol, &f0);
  g_assert_cmpfloat_with_epsilon (f0.length_mm, hypot (1.5, 3.2), 1e-12);
}

static void
test_hostile (void)
{
  g_autoptr (MmVolume) vol = linear_volume ();
  const char *bad[][2] = {
    { "\"oblique\":7", "not an object" },
    { "\"oblique\":{}", "needs" },
    { "\"oblique\":{\"origin_lps\":[0,0],\"right\":[1,0,0],\"down\":[0,1,0],\"pixel_mm\":[1,1]}",
      "needs" },
    { "\"oblique\":{\"origin_lps\":[0,0,\"x\"],\"right\":[1,0,0],\"down\":[0,1,0],\"pixel_mm\":[1,1]}",
      "needs" },
    { "\"oblique\":{\"origin_lps\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0]}", "needs" },
    { "\"oblique\":{\"origin_lps\":[0,0,1e999],\"right\":[1,0,0],\"down\":[0,1,0],\"pixel_mm\":[1,1]}",
      "finite" },
    { "\"oblique\":{\"origin_lps\":[0,0,1e12],\"right\":[1,0,0],\"down\":[0,1,0],\"pixel_mm\":[1,1]}",
      "out of range" },
    { "\"oblique\":{\"origin_lps\":[0,0,0],\"right\":[2,0,0],\"down\":[0,1,0],\"pixel_mm\":[1,1]}",
      "unit" },
    { "\"oblique\":{\"origin_lps\":[0,0,0],\"right\":[0,0,0],\"down\":[0,1,0],\"pixel_mm\":[1,1]}",
      "unit" },
    { "\"oblique\":{\"origin_lps\":[0,0,0],\"right\":[1,0,0],\"down\":[0.6,0.8,0],\"pixel_mm\":[1,1]}",
      "orthogonal" },
    { "\"oblique\":{\"origin_lps\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0],\"pixel_mm\":[0,1]}",
      "pixel_mm" },
    { "\"oblique\":{\"origin_lps\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0],\"pixel_mm\":[1,-1]}",
      "pixel_mm" },
    { "\"oblique\":{\"origin_lps\":[0,0,0],\"right\":[1,0,0],\"down\":[0,1,0],\"pixel_mm\":[1,1e9]}",
      "pixel_mm" },
  };
  for (guint t = 0; t < G_N_ELEMENTS (bad); t++)
    {
      g_autofree char *text = g_strdup_printf (
          "{\"format\":\"metalmark-annotations\",\"version\":1,\"items\":["
          "{\"id\":1,\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1]},"
          "{\"id\":2,\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1],%s}]}",
          bad[t][0]);
      g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
      g_autoptr (GError) error = NULL;
      g_test_message ("%s", bad[t][0]);
      g_assert_false (mm_annotation_list_load_data (list, text, -1, "evil.json", vol, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, "evil.json"));
      g_assert_nonnull (strstr (error->message, "item 2"));
      g_assert_nonnull (strstr (error->message, bad[t][1]));
      g_assert_cmpuint (list->items->len, ==, 0);
    }
  /* Within the tolerance: a unit vector written with 6 digits is accepted. */
  const char *ok = "{\"format\":\"metalmark-annotations\",\"version\":1,\"items\":["
                   "{\"id\":1,\"kind\":\"distance\",\"plane\":\"axial\",\"depth\":0,\"points\":[0,0,1,1],"
                   "\"oblique\":{\"origin_lps\":[0,0,0],\"right\":[0.707107,0.707107,0],"
                   "\"down\":[0,0,1],\"pixel_mm\":[0.5,0.5]}}]}";
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (mm_annotation_list_load_data (list, ok, -1, "ok.json", vol, &error));
  g_assert_no_error (error);
}

static void
test_same_plane (void)
{
  g_autoptr (MmVolume) vol = linear_volume ();
  MmReslicePlane rp, moved, turned;
  turned_plane (vol, &rp);
  MmAnnotFrame a, b;
  mm_annot_frame_from_reslice (&a, &rp);
  mm_annot_frame_from_reslice (&b, &rp);
  g_assert_true (mm_annot_frame_equal (&a, &b));
  /* One slice (0.5 mm) along the normal: another plane. */
  moved = rp;
  double n[3];
  mm_reslice_plane_normal (&rp, n);
  for (int c = 0; c < 3; c++)
    moved.centre_lps[c] += 0.5 * n[c];
  mm_annot_frame_from_reslice (&b, &moved);
  g_assert_false (mm_annot_frame_equal (&a, &b));
  /* A thousandth of a millimetre: the same (rounding of many small steps). */
  moved = rp;
  for (int c = 0; c < 3; c++)
    moved.centre_lps[c] += 0.001 * n[c];
  mm_annot_frame_from_reslice (&b, &moved);
  g_assert_true (mm_annot_frame_equal (&a, &b));
  /* A turn of a degree about the normal: another grid. */
  turned = rp;
  mm_reslice_plane_rotate (&turned, n, G_PI / 180);
  mm_annot_frame_from_reslice (&b, &turned);
  g_assert_false (mm_annot_frame_equal (&a, &b));
}

/* A standard slice and an oblique view of exactly its pixels (what an unturned view shows
 * while other planes are turned) show each other's items; other slices, planes, turns and
 * pixel grids do not. */
static void
test_on_view (void)
{
  g_autoptr (MmVolume) vol = linear_volume ();
  vol->spacing[1] = 0.5; /* square pixels in the axial plane: the oblique grid is the slice's */
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
  const double d[] = { 2, 3, 10, 12 };
  MmAnnotation *std4 = mm_annotation_list_add (list, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL, 4, d, 2);
  /* The oblique grid of mm-reading: square pixels of the smaller spacing over the standard
   * extent, centred on the volume's centre moved along the normal to slice k. */
  MmReslicePlane o4, o5, t4;
  double c4[3] = { 11.5, 9.5, 4 }, c5[3] = { 11.5, 9.5, 5 };
  mm_reslice_plane_init (&o4, vol, MM_PLANE_AXIAL, c4, 24, 20, 0.5);
  mm_reslice_plane_init (&o5, vol, MM_PLANE_AXIAL, c5, 24, 20, 0.5);
  t4 = o4;
  double z[3] = { 0, 0, 1 };
  mm_reslice_plane_rotate (&t4, z, G_PI / 90);
  MmAnnotFrame f4, f5, ft;
  mm_annot_frame_from_reslice (&f4, &o4);
  mm_annot_frame_from_reslice (&f5, &o5);
  mm_annot_frame_from_reslice (&ft, &t4);
  g_assert_true (mm_annotation_on_view (std4, vol, MM_PLANE_AXIAL, 4, NULL));
  g_assert_false (mm_annotation_on_view (std4, vol, MM_PLANE_AXIAL, 5, NULL));
  g_assert_false (mm_annotation_on_view (std4, vol, MM_PLANE_CORONAL, 4, NULL));
  g_assert_true (mm_annotation_on_view (std4, vol, MM_PLANE_AXIAL, 4, &f4));
  g_assert_false (mm_annotation_on_view (std4, vol, MM_PLANE_AXIAL, 4, &f5));
  g_assert_false (mm_annotation_on_view (std4, vol, MM_PLANE_AXIAL, 4, &ft));
  MmAnnotation *obl = mm_annotation_list_add_oblique (list, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL,
                                                      &f4, d, 2);
  g_assert_true (mm_annotation_on_view (obl, vol, MM_PLANE_AXIAL, 4, &f4));
  g_assert_true (mm_annotation_on_view (obl, vol, MM_PLANE_AXIAL, 4, NULL));
  g_assert_false (mm_annotation_on_view (obl, vol, MM_PLANE_AXIAL, 5, NULL));
  g_assert_false (mm_annotation_on_view (obl, vol, MM_PLANE_AXIAL, 4, &ft));
  /* Same place, same figures either way. */
  MmAnnotationFigures fs, fo;
  mm_annotation_measure (std4, vol, &fs);
  mm_annotation_measure (obl, vol, &fo);
  g_assert_cmpfloat_with_epsilon (fs.length_mm, fo.length_mm, 1e-9);
  /* Anisotropic pixels (0.5 x 0.8): the oblique grid (0.5 mm squares) is another grid. */
  vol->spacing[1] = 0.8;
  mm_reslice_plane_init (&o4, vol, MM_PLANE_AXIAL, c4, 24, 32, 0.5);
  mm_annot_frame_from_reslice (&f4, &o4);
  g_assert_false (mm_annotation_on_view (std4, vol, MM_PLANE_AXIAL, 4, &f4));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/annotation-oblique/figures", test_figures);
  g_test_add_func ("/core/annotation-oblique/round-trip", test_round_trip);
  g_test_add_func ("/core/annotation-oblique/hostile", test_hostile);
  g_test_add_func ("/core/annotation-oblique/same-plane", test_same_plane);
  g_test_add_func ("/core/annotation-oblique/on-view", test_on_view);
  return g_test_run ();
}
