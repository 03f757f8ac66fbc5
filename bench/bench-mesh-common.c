/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared by the mesh benchmarks (see bench-mesh-common.h). */
#include "bench-mesh-common.h"

#include "mm-dicom.h"
#include "mm-segment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

double
bench_now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

double
bench_cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void
bench_load_average (double load[3])
{
  load[0] = load[1] = load[2] = -1;
  FILE *f = fopen ("/proc/loadavg", "r");
  if (f == NULL)
    return;
  if (fscanf (f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
    load[0] = load[1] = load[2] = -1;
  fclose (f);
}

MmVolume *
bench_load_series (const char *program, const char *dir, int n_threads, MmMask **metal)
{
  g_autoptr (GError) error = NULL;
  const char *paths[] = { dir };
  MmVolume *vol = mm_dicom_load (paths, 1, NULL, NULL, &error);
  if (vol == NULL)
    {
      fprintf (stderr, "%s: %s\n", program, error->message);
      return NULL;
    }
  MmSegmentParams p;
  mm_segment_params_init (&p);
  *metal = mm_segment_metal (vol, &p, NULL, n_threads);
  return vol;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
bench_median (double *t, int n)
{
  qsort (t, n, sizeof *t, cmp_double);
  return n > 0 ? t[n / 2] : 0;
}

/* The file: "MMBENCHMESH1", then the vertex and triangle counts (uint64), positions (float
 * x 3), triangles (uint32 x 3), all in this machine's byte order (a cache, never shipped). */
static const char magic[12] = "MMBENCHMESH1";

static char *
cache_path (const char *dir, const char *key)
{
  g_autofree char *name = g_strdup_printf ("%s.mesh", key);
  return g_build_filename (dir, name, NULL);
}

MmMesh *
bench_mesh_cache_load (const char *dir, const char *key)
{
  g_autofree char *path = cache_path (dir, key);
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  uint64_t nv, nt;
  if (len < sizeof magic + 16 || memcmp (data, magic, sizeof magic) != 0)
    return NULL;
  memcpy (&nv, data + sizeof magic, 8);
  memcpy (&nt, data + sizeof magic + 8, 8);
  if (nv > UINT32_MAX || nt > UINT32_MAX || len != sizeof magic + 16 + nv * 12 + nt * 12)
    return NULL;
  MmMesh *m = mm_mesh_new (nv, nt);
  memcpy (m->positions, data + sizeof magic + 16, nv * 12);
  memcpy (m->triangles, data + sizeof magic + 16 + nv * 12, nt * 12);
  m->n_vertices = nv;
  m->n_triangles = nt;
  for (size_t i = 0; i < 3 * nt; i++)
    if (m->triangles[i] >= nv)
      {
        mm_mesh_free (m);
        return NULL;
      }
  return m;
}

void
bench_mesh_cache_save (const char *dir, const char *key, const MmMesh *mesh)
{
  g_autofree char *path = cache_path (dir, key);
  uint64_t nv = mesh->n_vertices, nt = mesh->n_triangles;
  size_t len = sizeof magic + 16 + nv * 12 + nt * 12;
  g_autofree char *data = g_malloc (len);
  memcpy (data, magic, sizeof magic);
  memcpy (data + sizeof magic, &nv, 8);
  memcpy (data + sizeof magic + 8, &nt, 8);
  memcpy (data + sizeof magic + 16, mesh->positions, nv * 12);
  memcpy (data + sizeof magic + 16 + nv * 12, mesh->triangles, nt * 12);
  g_autoptr (GError) error = NULL;
  if (g_mkdir_with_parents (dir, 0755) != 0 || !g_file_set_contents (path, data, len, &error))
    fprintf (stderr, "bench: cache %s not written: %s\n", path,
             error ? error->message : g_strerror (errno));
}
