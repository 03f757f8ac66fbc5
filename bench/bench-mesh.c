/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Surface extraction timings (issue 14): the seed CT's metal per component and the bone
 * surface at 300 HU, p50/p95 over repeated runs; with --dump DIR also the two masks as raw
 * uint8 (k, j, i) for bench/mesh-vs-skimage.py to time scikit-image on the very same voxels. */
#include "bench-mesh-common.h"
#include "mm-marching.h"
#include "mm-mesh-decimate.h"
#include "mm-mesh-smooth.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
report (const char *what, double *t, int n, double target_ms)
{
  double p50 = bench_median (t, n);
  printf ("%-46s p50 %9.2f ms  min %9.2f ms  (%d runs; target %.0f ms)\n", what, p50, t[0], n,
          target_ms);
}

#define now_ms bench_now_ms
#define cpu_ms bench_cpu_ms

static void
dump (const char *dir, const char *name, const MmMask *m)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) err = NULL;
  if (!g_file_set_contents (path, (const char *) m->data, mm_mask_n_voxels (m), &err))
    fprintf (stderr, "bench-mesh: %s\n", err->message);
}

/* A brush stroke's worth of metal (5x5x5 voxels) added at the first voxel of part `part`,
 * then the parts meshed again: all of them, and incrementally from the previous build
 * (mm_marching_mask_parts_update, finding the changed voxels itself). Best of `runs` each, as
 * the machine is shared. */
static void
bench_edit (const MmVolume *vol, const MmMask *metal, MmMesh **parts, int part, int runs)
{
  g_autoptr (MmMask) edited = mm_mask_copy (metal);
  const int *s = parts[part]->seed, *d = vol->dims;
  for (int k = MAX (s[2] - 2, 0); k <= MIN (s[2] + 2, d[2] - 1); k++)
    for (int j = MAX (s[1] - 2, 0); j <= MIN (s[1] + 2, d[1] - 1); j++)
      for (int i = MAX (s[0] - 2, 0); i <= MIN (s[0] + 2, d[0] - 1); i++)
        mm_mask_slice (edited, k)[(size_t) j * d[0] + i] = 1;
  double full = G_MAXDOUBLE, inc = G_MAXDOUBLE;
  g_autofree double *full_cpu = g_new (double, runs), *inc_cpu = g_new (double, runs);
  int n = 0, reused = 0, local = 0;
  for (int rep = 0; rep < runs; rep++)
    {
      double t0 = now_ms (), c0 = cpu_ms ();
      MmMesh **all = mm_marching_mask_parts (vol, edited, &n, 2, NULL);
      full = MIN (full, now_ms () - t0);
      full_cpu[rep] = cpu_ms () - c0;
      for (int i = 0; i < n; i++)
        mm_mesh_free (all[i]);
      g_free (all);
      /* The previous build's parts, built afresh (not timed): the update takes some. */
      int n_old = 0;
      MmMesh **old = mm_marching_mask_parts (vol, metal, &n_old, 2, NULL);
      t0 = now_ms ();
      c0 = cpu_ms ();
      MmMesh **upd = mm_marching_mask_parts_update (vol, edited, metal, old, n_old, &n, &reused, &local, 2, NULL);
      inc = MIN (inc, now_ms () - t0);
      inc_cpu[rep] = cpu_ms () - c0;
      for (int i = 0; i < n_old; i++)
        mm_mesh_free (old[i]);
      for (int i = 0; i < n; i++)
        mm_mesh_free (upd[i]);
      g_free (old);
      g_free (upd);
    }
  printf ("metal after a 5x5x5 edit in part %d (%zu triangles): all %d parts meshed again %.1f ms; "
          "incrementally %.1f ms (%d of %d parts reused, %d rebuilt around the edit), best of %d; "
          "CPU (both threads, median) %.1f and %.1f ms\n",
          part + 1, parts[part]->n_triangles, n, full, inc, reused, n, local, runs,
          bench_median (full_cpu, runs), bench_median (inc_cpu, runs));
}

/* An edit in the largest part (the stem), then in the smallest. */
static void
bench_edits (const MmVolume *vol, const MmMask *metal, int runs)
{
  int n = 0;
  MmMesh **parts = mm_marching_mask_parts (vol, metal, &n, 2, NULL);
  int big = 0, small = 0;
  for (int i = 1; i < n; i++)
    {
      if (parts[i]->n_triangles > parts[big]->n_triangles)
        big = i;
      if (parts[i]->n_triangles < parts[small]->n_triangles)
        small = i;
    }
  if (n > 0)
    bench_edit (vol, metal, parts, big, runs);
  if (small != big)
    bench_edit (vol, metal, parts, small, runs);
  for (int i = 0; i < n; i++)
    mm_mesh_free (parts[i]);
  g_free (parts);
}

int
main (int argc, char **argv)
{
  const char *dir = NULL, *dump_dir = NULL;
  int runs = 15, threads = 2;
  bool edits_only = false;
  for (int a = 1; a < argc; a++)
    if (strcmp (argv[a], "--edits") == 0)
      edits_only = true;
    else if (strcmp (argv[a], "--dump") == 0 && a + 1 < argc)
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
      fprintf (stderr, "usage: bench-mesh [--edits] [--runs N] [--threads N] [--dump DIR] SERIES_DIR "
                       "(or set MM_SEED_CT)\n");
      return 2;
    }
  g_autoptr (MmMask) metal = NULL;
  g_autoptr (MmVolume) vol = bench_load_series ("bench-mesh", dir, threads, &metal);
  if (vol == NULL)
    return 1;
  double load[3];
  bench_load_average (load);
  printf ("series %s: %d x %d x %d, spacing %.3f x %.3f x %.3f mm; %d threads of %d cores; "
          "load average %.2f %.2f %.2f\n",
          dir, vol->dims[0], vol->dims[1], vol->dims[2], vol->spacing[0], vol->spacing[1],
          vol->spacing[2], threads, g_get_num_processors (), load[0], load[1], load[2]);

  bench_edits (vol, metal, runs);
  if (edits_only)
    return 0;
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
  printf ("%-46s p50 %9.2f ms of CPU (all threads)\n", "  CPU time of the same",
          bench_median (cpu, runs));
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
  printf ("%-46s p50 %9.2f ms of CPU (all threads)\n", "  CPU time of the same",
          bench_median (cpu, bone_runs));

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
