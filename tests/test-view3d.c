/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 3D view's core: the camera's standard views, picking against a known box (analytic
 * slab intersection as truth), the software rasteriser's coverage against picking, and the
 * GL matrix against the camera's projection. */
#include "mm-camera.h"
#include "mm-mesh-export.h"
#include "mm-mesh-pick.h"
#include "mm-raster.h"

#include <glib/gstdio.h>
#include <math.h>

/* An axis-aligned box [lo, hi] as 12 outward triangles. */
static MmMesh *
box_mesh (const double lo[3], const double hi[3])
{
  MmMesh *m = mm_mesh_new (8, 12);
  for (int v = 0; v < 8; v++)
    for (int a = 0; a < 3; a++)
      m->positions[3 * v + a] = (float) ((v >> a) & 1 ? hi[a] : lo[a]);
  static const uint32_t tris[36] = { 0, 2, 1, 1, 2, 3, 4, 5, 6, 5, 7, 6, 0, 1, 4, 1, 5, 4,
                                     2, 6, 3, 3, 6, 7, 0, 4, 2, 2, 4, 6, 1, 3, 5, 3, 7, 5 };
  memcpy (m->triangles, tris, sizeof tris);
  m->n_vertices = 8;
  m->n_triangles = 12;
  return m;
}

/* Slab method: the entry t of the ray into the box, or -1. */
static double
slab (const double lo[3], const double hi[3], const double o[3], const double d[3])
{
  double t0 = -INFINITY, t1 = INFINITY;
  for (int a = 0; a < 3; a++)
    {
      if (fabs (d[a]) < 1e-15)
        {
          if (o[a] < lo[a] || o[a] > hi[a])
            return -1;
          continue;
        }
      double ta = (lo[a] - o[a]) / d[a], tb = (hi[a] - o[a]) / d[a];
      t0 = MAX (t0, MIN (ta, tb));
      t1 = MIN (t1, MAX (ta, tb));
    }
  if (t0 > t1 || t1 < 0)
    return -1;
  return t0 > 0 ? t0 : t1;
}

static void
test_box_is_closed (void)
{
  double lo[3] = { -10, -5, -20 }, hi[3] = { 10, 5, 20 };
  g_autoptr (MmMesh) m = box_mesh (lo, hi);
  g_assert_true (mm_mesh_is_closed_manifold (m));
  g_assert_cmpfloat_with_epsilon (mm_mesh_volume (m), 20 * 10 * 40, 1e-6);
}

static void
test_pick_box (void)
{
  double lo[3] = { -10, -5, -20 }, hi[3] = { 10, 5, 20 };
  g_autoptr (MmMesh) m = box_mesh (lo, hi);
  const MmMesh *meshes[2] = { NULL, m };
  MmMeshHit hit;
  double o[3] = { 0, -100, 0 }, d[3] = { 0, 1, 0 };
  g_assert_true (mm_mesh_pick (meshes, 2, o, d, &hit));
  g_assert_cmpint (hit.mesh, ==, 1);
  g_assert_cmpfloat_with_epsilon (hit.t, 95, 1e-9);
  g_assert_cmpfloat_with_epsilon (hit.point[1], -5, 1e-9);
  double miss[3] = { 11, -100, 0 };
  g_assert_false (mm_mesh_pick (meshes, 2, miss, d, &hit));

  /* Random rays against the analytic slab intersection. */
  GRand *r = g_rand_new_with_seed (14);
  int hits = 0;
  for (int i = 0; i < 2000; i++)
    {
      double ro[3], rd[3], n = 0;
      for (int a = 0; a < 3; a++)
        {
          ro[a] = g_rand_double_range (r, -40, 40);
          rd[a] = g_rand_double_range (r, -1, 1);
          n += rd[a] * rd[a];
        }
      n = sqrt (n);
      for (int a = 0; a < 3; a++)
        rd[a] /= n;
      double want = slab (lo, hi, ro, rd);
      bool got = mm_mesh_pick (meshes, 2, ro, rd, &hit);
      /* Rays grazing an edge may go either way: only clear cases are checked. */
      if (want > 0)
        {
          g_assert_true (got);
          g_assert_cmpfloat_with_epsilon (hit.t, want, 1e-6);
          hits++;
        }
      else
        g_assert_false (got);
    }
  g_rand_free (r);
  g_assert_cmpint (hits, >, 50);
}

static MmCamera
camera (int w, int h)
{
  MmCamera c = { .width = w, .height = h };
  double lo[3] = { -10, -5, -20 }, hi[3] = { 10, 5, 20 };
  mm_camera_set_standard (&c, 'A');
  mm_camera_fit (&c, lo, hi);
  return c;
}

static void
test_camera_standard (void)
{
  MmCamera c = camera (200, 100);
  double left[3] = { 10, 0, 0 }, head[3] = { 0, 0, 10 }, back[3] = { 0, 10, 0 };
  double x, y, z;
  /* From the front, the patient's left (+x) is on the screen's right, the head up. */
  mm_camera_project (&c, left, &x, &y, &z);
  g_assert_cmpfloat (x, >, 100);
  mm_camera_project (&c, head, &x, &y, &z);
  g_assert_cmpfloat (y, <, 50);
  mm_camera_project (&c, back, &x, &y, &z);
  g_assert_cmpfloat (z, <, 0); /* posterior is further from a viewer in front */
  /* From the patient's left, posterior is on the right. */
  g_assert_true (mm_camera_set_standard (&c, 'L'));
  mm_camera_project (&c, back, &x, &y, &z);
  g_assert_cmpfloat (x, >, 100);
  /* From below (as an axial slice), the patient's left on the right, anterior up. */
  g_assert_true (mm_camera_set_standard (&c, 'I'));
  mm_camera_project (&c, left, &x, &y, &z);
  g_assert_cmpfloat (x, >, 100);
  mm_camera_project (&c, back, &x, &y, &z);
  g_assert_cmpfloat (y, >, 50);
  g_assert_false (mm_camera_set_standard (&c, 'X'));

  /* After turning, the ray through a point's pixel passes through the point. */
  mm_camera_rotate (&c, 37, -21);
  mm_camera_pan (&c, 5, 3);
  double p[3] = { 3, -4, 7 }, o[3], d[3];
  mm_camera_project (&c, p, &x, &y, &z);
  mm_camera_ray (&c, x, y, o, d);
  double op[3] = { p[0] - o[0], p[1] - o[1], p[2] - o[2] };
  double along = op[0] * d[0] + op[1] * d[1] + op[2] * d[2];
  for (int a = 0; a < 3; a++)
    g_assert_cmpfloat_with_epsilon (o[a] + along * d[a], p[a], 1e-9);

  /* The GL matrix puts the point where the projection does. */
  float m[16];
  mm_camera_gl_matrix (&c, m);
  double clip[3];
  for (int r = 0; r < 3; r++)
    clip[r] = m[r] * p[0] + m[4 + r] * p[1] + m[8 + r] * p[2] + m[12 + r];
  g_assert_cmpfloat_with_epsilon ((clip[0] + 1) / 2 * c.width, x, 1e-3);
  g_assert_cmpfloat_with_epsilon ((1 - clip[1]) / 2 * c.height, y, 1e-3);
  g_assert_cmpfloat (fabs (clip[2]), <, 1);
}

/* Every pixel the rasteriser covers is one whose centre's ray picking hits, and the other
 * way round, but for pixels on the silhouette's edge. */
static void
test_raster_matches_pick (void)
{
  double lo[3] = { -10, -5, -20 }, hi[3] = { 10, 5, 20 };
  g_autoptr (MmMesh) m = box_mesh (lo, hi);
  MmCamera c = camera (160, 120);
  mm_camera_rotate (&c, 50, 30);
  MmRasterItem item = { m, { 1, 0.5, 0, 1 } };
  float bg[3] = { 0, 0, 0 };
  g_autofree uint32_t *px = g_new (uint32_t, 160 * 120);
  g_assert_true (mm_raster_draw (&c, &item, 1, NULL, 0, bg, px, 160 * 4, 2));
  const MmMesh *meshes[1] = { m };
  int covered = 0, differ = 0;
  for (int y = 0; y < 120; y++)
    for (int x = 0; x < 160; x++)
      {
        double o[3], d[3];
        MmMeshHit hit;
        mm_camera_ray (&c, x + 0.5, y + 0.5, o, d);
        bool picked = mm_mesh_pick (meshes, 1, o, d, &hit);
        bool drawn = (px[y * 160 + x] & 0xffffff) != 0;
        covered += drawn;
        differ += picked != drawn;
      }
  g_test_message ("covered %d, differ %d", covered, differ);
  g_assert_cmpint (covered, >, 2000);
  g_assert_cmpint (differ, <=, covered / 100);

  /* The same picture on one thread. */
  g_autofree uint32_t *px1 = g_new (uint32_t, 160 * 120);
  g_assert_true (mm_raster_draw (&c, &item, 1, NULL, 0, bg, px1, 160 * 4, 1));
  g_assert_cmpmem (px, 160 * 120 * 4, px1, 160 * 120 * 4);
}

/* A translucent box in front of an opaque one: blended once, not once per layer. */
static void
test_raster_translucent (void)
{
  double lo[3] = { -10, -5, -20 }, hi[3] = { 10, 5, 20 };
  double lo2[3] = { -5, -30, -5 }, hi2[3] = { 5, -20, 5 }; /* anterior of the box */
  g_autoptr (MmMesh) back = box_mesh (lo, hi);
  g_autoptr (MmMesh) front = box_mesh (lo2, hi2);
  MmCamera c = camera (100, 100);
  MmRasterItem items[2] = { { back, { 1, 0, 0, 1 } }, { front, { 0, 0, 1, 0.5f } } };
  float bg[3] = { 0, 0, 0 };
  uint32_t px[100 * 100];
  g_assert_true (mm_raster_draw (&c, items, 2, NULL, 0, bg, px, 400, 2));
  uint32_t mid = px[50 * 100 + 50];
  g_test_message ("mid %08x", mid);
  /* Half the shaded red (ambient + diffuse = 1 face-on) and half blue. */
  g_assert_cmpint ((mid >> 16) & 0xff, >=, 126);
  g_assert_cmpint ((mid >> 16) & 0xff, <=, 129);
  g_assert_cmpint (mid & 0xff, >=, 126);
  g_assert_cmpint (mid & 0xff, <=, 129);
}

/* Binary STL read by hand (80-byte header, count, 50 bytes a triangle): the triangle count
 * and the bounds of the vertices. */
static guint32
read_stl (const char *path, double lo[3], double hi[3])
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_cmpuint (len, >=, 84);
  guint32 n;
  memcpy (&n, data + 80, 4);
  n = GUINT32_FROM_LE (n);
  g_assert_cmpuint (len, ==, 84 + 50 * (gsize) n);
  for (int a = 0; a < 3; a++)
    {
      lo[a] = INFINITY;
      hi[a] = -INFINITY;
    }
  for (guint32 t = 0; t < n; t++)
    for (int v = 0; v < 3; v++)
      for (int a = 0; a < 3; a++)
        {
          float f;
          memcpy (&f, data + 84 + 50 * (gsize) t + 12 + 12 * v + 4 * a, 4);
          lo[a] = MIN (lo[a], f);
          hi[a] = MAX (hi[a], f);
        }
  return n;
}

/* The app's export: all parts in RAS (x, y negated), one part in LPS, the names fixed. */
static void
test_export (void)
{
  double lo1[3] = { 10, 20, 30 }, hi1[3] = { 12, 25, 33 };
  double lo2[3] = { -40, -5, 0 }, hi2[3] = { -35, 5, 1 };
  MmMesh *parts[2] = { box_mesh (lo1, hi1), box_mesh (lo2, hi2) };
  g_autofree char *dir = g_dir_make_tmp ("mm-view3d-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *written = NULL;
  g_assert_true (mm_mesh_export_parts (dir, parts, 2, 0, MM_MESH_STL, false, &written, &error));
  g_assert_no_error (error);
  g_autofree char *want = g_build_filename (dir, "metal.stl", NULL);
  g_assert_cmpstr (written, ==, want);
  double lo[3], hi[3];
  g_assert_cmpuint (read_stl (written, lo, hi), ==, 24);
  /* RAS: R = -L, A = -P, S = S. */
  g_assert_cmpfloat_with_epsilon (lo[0], -12, 1e-5);
  g_assert_cmpfloat_with_epsilon (hi[0], 40, 1e-5);
  g_assert_cmpfloat_with_epsilon (lo[1], -25, 1e-5);
  g_assert_cmpfloat_with_epsilon (hi[1], 5, 1e-5);
  g_assert_cmpfloat_with_epsilon (lo[2], 0, 1e-5);
  g_assert_cmpfloat_with_epsilon (hi[2], 33, 1e-5);
  /* The parts are not changed by the export. */
  g_assert_cmpfloat (parts[0]->positions[0], ==, 10);

  g_clear_pointer (&written, g_free);
  g_assert_true (mm_mesh_export_parts (dir, parts, 2, 2, MM_MESH_STL, true, &written, &error));
  g_assert_true (g_str_has_suffix (written, "/metal-part-2.stl"));
  g_assert_cmpuint (read_stl (written, lo, hi), ==, 12);
  for (int a = 0; a < 3; a++)
    {
      g_assert_cmpfloat_with_epsilon (lo[a], lo2[a], 1e-5);
      g_assert_cmpfloat_with_epsilon (hi[a], hi2[a], 1e-5);
    }
  g_autofree char *obj = mm_mesh_export_file_name (1, MM_MESH_OBJ);
  g_assert_cmpstr (obj, ==, "metal-part-1.obj");
  g_autofree char *p2 = g_build_filename (dir, "metal-part-2.stl", NULL);
  g_remove (want);
  g_remove (p2);
  g_rmdir (dir);
  mm_mesh_free (parts[0]);
  mm_mesh_free (parts[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/view3d/box-is-closed", test_box_is_closed);
  g_test_add_func ("/view3d/pick/box", test_pick_box);
  g_test_add_func ("/view3d/camera/standard", test_camera_standard);
  g_test_add_func ("/view3d/raster/matches-pick", test_raster_matches_pick);
  g_test_add_func ("/view3d/raster/translucent", test_raster_translucent);
  g_test_add_func ("/view3d/export", test_export);
  return g_test_run ();
}
