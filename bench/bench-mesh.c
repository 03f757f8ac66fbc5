/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Surface extraction timings (issue 14): the seed CT's metal per component and the bone
 * surface at 300 HU, p50/p95 over repeated runs; with --dump DIR also the two masks as raw
 * uint8 (k, j, i) for bench/mesh-vs-skimage.py to time scikit-image on the very same voxels. */
#include "mm-dicom.h"
#include "mm-marching.h"
#include "mm-mesh-decimate.h"
#include "mm-mesh-smooth.h"
#include "mm-segment.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static void
report (const char *what, double *t, int n, double target_ms)
{
  qsort (t, n, sizeof *t, cmp_double);
  printf ("%-46s p50 %9.2f ms  min %9.2f ms  (%d runs; target %.0f ms)\n", what, t[n / 2], t[0],
          n, target_ms);
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static double
cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
dump (const char *dir, const char *name, const MmMask *m)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) err = NULL;
  if (!g_file_set_contents (path, (const char *) m->data, mm_mask_n_voxels (m), &err))
    fprintf (stderr, "bench-mesh: %s\n", err->message);
}

int
main (int argc, char **argv)
{
  const char *dir = NULL, *dump_dir = NULL;
  int runs = 15, threads = 2;
  for (int a = 1; a < argc; a++)
    if (strcmp (argv[a], "--dump") == 0 && a + 1 < argc)
      dump_dir = argv[++a];
    else if (strcmp (argv[a], "--runs") == 0 && a + 1 < argc)
      {
        int v = atoi (argv[++a]);
        runs = CLAMP (v, 1, 1000);
      }
    else if (strcmp (argv[a], "--threads") == 0 && a + 1 < argc)
      {
        int v = atoi (argv[++a]);
        threads = CLAMP (v, 1, 256);
      }
    else
      dir = argv[a];
  if (dir == NULL)
    dir = g_getenv ("MM_SEED_CT");
  if (dir == NULL)
    {
      fprintf (stderr, "usage: bench-mesh [--runs N] [--threads N] [--dump DIR] SERIES_DIR "
                       "(or set MM_SEED_CT)\n");
      return 2;
    }
  g_autoptr (GError) error = NULL;
  const char *paths[] = { dir };
  g_autoptr (MmVolume) vol = mm_dicom_load (paths, 1, NULL, NULL, &error);
  if (vol == NULL)
    {
      fprintf (stderr, "bench-mesh: %s\n", error->message);
      return 1;
    }
  double load[3] = { 0 };
  FILE *f = fopen ("/proc/loadavg", "r");
  if (f)
    {
      if (fscanf (f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
        load[0] = -1;
      fclose (f);
    }
  printf ("series %s: %d x %d x %d, spacing %.3f x %.3f x %.3f mm; %d threads of %d cores; "
          "load average %.2f %.2f %.2f\n",
          dir, vol->dims[0], vol->dims[1], vol->dims[2], vol->spacing[0], vol->spacing[1],
          vol->spacing[2], threads, g_get_num_processors (), load[0], load[1], load[2]);

  MmSegmentParams p;
  mm_segment_params_init (&p);
  g_autoptr (MmMask) metal = mm_segment_metal (vol, &p, NULL, threads);
  double *t = g_new (double, runs);

  /* Metal: label the components and mesh each (what `mesh --mask` does after reading). */
  size_t tris = 0;
  int parts = 0;
  double *cpu = g_new (double, runs);
  for (int r = 0; r < runs; r++)
    {
      double t0 = now_ms (), c0 = cpu_ms ();
      MmMesh **m = mm_marching_mask_parts (vol, metal, &parts, threads, NULL);
      t[r] = now_ms () - t0;
      cpu[r] = cpu_ms () - c0;
      tris = 0;
      for (int c = 0; c < parts; c++)
        {
          tris += m[c]->n_triangles;
          mm_mesh_free (m[c]);
        }
      g_free (m);
    }
  printf ("metal: %" G_GUINT64_FORMAT " voxels, %d components, %zu triangles\n",
          mm_mask_count (metal), parts, tris);
  report ("metal surface (box, components, marching cubes)", t, runs, 50);
  qsort (cpu, runs, sizeof *cpu, cmp_double);
  printf ("%-46s p50 %9.2f ms of CPU (all threads)\n", "  CPU time of the same", cpu[runs / 2]);
  for (int r = 0; r < runs; r++)
    {
      double t1 = now_ms ();
      int np;
      MmMesh **m = mm_marching_mask_parts (vol, metal, &np, 1, NULL);
      t[r] = now_ms () - t1;
      for (int c = 0; c < np; c++)
        mm_mesh_free (m[c]);
      g_free (m);
    }
  report ("  the same on 1 thread", t, runs, 50);
  for (int r = 0; r < runs; r++)
    {
      double t1 = now_ms ();
      g_autoptr (MmComponents) comps = mm_components_label (metal, threads);
      t[r] = now_ms () - t1;
    }
  report ("  (labelling the whole mask instead)", t, runs, 50);

  /* Bone: the threshold surface of the whole CT. */
  int bone_runs = MAX (runs / 3, 1);
  size_t bone_tris = 0;
  MmMesh *bone = NULL;
  for (int r = 0; r < bone_runs; r++)
    {
      double t0 = now_ms (), c0 = cpu_ms ();
      MmMesh *m = mm_marching_threshold (vol, 300, threads, NULL);
      t[r] = now_ms () - t0;
      cpu[r] = cpu_ms () - c0;
      bone_tris = m->n_triangles;
      mm_mesh_free (bone);
      bone = m;
    }
  printf ("bone at 300 HU: %zu triangles, %zu vertices\n", bone_tris, bone->n_vertices);
  report ("bone surface at 300 HU (marching cubes)", t, bone_runs, 1500);
  qsort (cpu, bone_runs, sizeof *cpu, cmp_double);
  printf ("%-46s p50 %9.2f ms of CPU (all threads)\n", "  CPU time of the same",
          cpu[bone_runs / 2]);

  /* Smoothing and decimation, once each, for scale. */
  double t0 = now_ms ();
  mm_mesh_smooth_taubin (bone, 10, MM_MESH_TAUBIN_LAMBDA, MM_MESH_TAUBIN_MU, threads);
  printf ("%-46s %9.2f ms\n", "bone Taubin smoothing, 10 iterations", now_ms () - t0);
  t0 = now_ms ();
  bool met = mm_mesh_decimate (bone, 500000);
  printf ("%-46s %9.2f ms (%zu triangles, %s)\n", "bone decimation to 500 k triangles",
          now_ms () - t0, bone->n_triangles, met ? "met" : "NOT met");
  printf ("bone decimated: %s\n", mm_mesh_is_closed_manifold (bone) ? "closed 2-manifold"
                                                                    : "NOT a closed manifold");
  mm_mesh_free (bone);

  /* What surface nets would meet: each ambiguous face is a non-manifold edge there. */
  g_autoptr (MmMask) bone_mask = mm_mask_new (vol->dims);
  for (size_t v = 0; v < mm_mask_n_voxels (bone_mask); v++)
    bone_mask->data[v] = (vol->type == MM_VOXEL_INT16 ? ((const int16_t *) vol->voxels)[v]
                                                      : ((const float *) vol->voxels)[v])
                         >= 300;
  printf ("ambiguous faces (non-manifold edges of a surface-nets mesh): metal %" G_GUINT64_FORMAT
          ", bone %" G_GUINT64_FORMAT "\n",
          mm_marching_ambiguous_faces (metal), mm_marching_ambiguous_faces (bone_mask));
  if (dump_dir)
    {
      dump (dump_dir, "metal.u8", metal);
      dump (dump_dir, "bone.u8", bone_mask);
      g_autofree char *json = g_strdup_printf (
          "{\"dims\": [%d, %d, %d], \"spacing\": [%.9g, %.9g, %.9g]}\n", vol->dims[0],
          vol->dims[1], vol->dims[2], vol->spacing[0], vol->spacing[1], vol->spacing[2]);
      g_autofree char *path = g_build_filename (dump_dir, "grid.json", NULL);
      g_file_set_contents (path, json, -1, NULL);
    }
  g_free (t);
  g_free (cpu);
  return 0;
}
