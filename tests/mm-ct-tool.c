/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The CT simulator's parts on raw float32 files, for the Python checks against independent
 * code (tests/ct/test_ct_sim.py):
 *   mm-ct-tool project N VIEWS IN OUT        parallel beam, scikit-image radon's conventions
 *   mm-ct-tool fbp N VIEWS WINDOW IN OUT     parallel FBP, iradon's conventions
 *   mm-ct-tool project-fan N PIXEL_MM VIEWS IN OUT   the simulator's fan beam (736 channels)
 *     on an image centred at (N - 1) / 2
 *   mm-ct-tool simulate N PIXEL_MM PHOTONS SEED LABELS OUT [clip]
 *     LABELS: N x N uint8, 0 air 1 fat 2 water 3 bone 4 titanium 5 CoCr 6 steel; OUT: HU.
 * Images are row-major, row j at y = (j - c) pixel, c = N / 2 as scikit-image has it (the
 * simulator itself centres at (N - 1) / 2). */
#include "mm-ct-sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *
read_all (const char *path, size_t want)
{
  gchar *data = NULL;
  gsize len = 0;
  g_autoptr (GError) err = NULL;
  if (!g_file_get_contents (path, &data, &len, &err) || len != want)
    {
      fprintf (stderr, "mm-ct-tool: %s: %s\n", path,
               err ? err->message : "not the size the arguments say");
      exit (2);
    }
  return data;
}

static void
write_all (const char *path, const void *data, size_t len)
{
  g_autoptr (GError) err = NULL;
  if (!g_file_set_contents (path, data, (gssize) len, &err))
    {
      fprintf (stderr, "mm-ct-tool: %s\n", err->message);
      exit (2);
    }
}

/* scikit-image: theta 0..180 degrees (endpoint excluded), detector j at t = j - N // 2, its
 * projection direction turning the other way in our (x right, y down) frame. */
static void
skimage_geometry (MmCtGeometry *g, int n, int views)
{
  mm_ct_geometry_parallel (g, views, n, 1.0);
  g->arc_rad = -G_PI;
  g->det_offset = n / 2 - 0.5 * (n - 1);
}

static int
parse_int (const char *s, int lo, int hi)
{
  char *end;
  long v = strtol (s, &end, 10);
  if (*end || v < lo || v > hi)
    {
      fprintf (stderr, "mm-ct-tool: '%s' is not a number in %d..%d\n", s, lo, hi);
      exit (2);
    }
  return (int) v;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) err = NULL;
  if (argc == 6 && g_str_equal (argv[1], "project"))
    {
      int n = parse_int (argv[2], 8, 2048), nv = parse_int (argv[3], 1, 4096);
      g_autofree float *in = read_all (argv[4], sizeof (float) * n * n);
      g_autofree float *img = g_new0 (float, (size_t) n * n * 4);
      for (size_t x = 0; x < (size_t) n * n; x++)
        img[x * 4] = in[x];
      MmCtGeometry g;
      skimage_geometry (&g, n, nv);
      MmCtImage im = { n, 1.0, n / 2, n / 2, img, { 0, 0, n - 1, n - 1 } };
      g_autofree float *sino = g_new (float, (size_t) nv * n * 4);
      mm_ct_project (&g, &im, sino);
      g_autofree float *out = g_new (float, (size_t) nv * n);
      for (size_t x = 0; x < (size_t) nv * n; x++)
        out[x] = sino[x * 4];
      write_all (argv[5], out, sizeof (float) * nv * n);
      return 0;
    }
  if (argc == 7 && g_str_equal (argv[1], "project-fan"))
    {
      int n = parse_int (argv[2], 8, 2048), nv = parse_int (argv[4], 1, 4096);
      double px = g_ascii_strtod (argv[3], NULL);
      if (!(px > 0.01 && px < 100))
        {
          fprintf (stderr, "mm-ct-tool: pixel size '%s' is not 0.01..100 mm\n", argv[3]);
          return 2;
        }
      g_autofree float *in = read_all (argv[5], sizeof (float) * n * n);
      g_autofree float *img = g_new0 (float, (size_t) n * n * 4);
      for (size_t x = 0; x < (size_t) n * n; x++)
        img[x * 4] = in[x];
      MmCtGeometry g;
      mm_ct_geometry_fan_default (&g, nv);
      double c = 0.5 * (n - 1);
      MmCtImage im = { n, px, c, c, img, { 0, 0, n - 1, n - 1 } };
      g_autofree float *sino = g_new (float, (size_t) nv * g.n_det * 4);
      mm_ct_project (&g, &im, sino);
      g_autofree float *out = g_new (float, (size_t) nv * g.n_det);
      for (size_t x = 0; x < (size_t) nv * g.n_det; x++)
        out[x] = sino[x * 4];
      write_all (argv[6], out, sizeof (float) * nv * g.n_det);
      return 0;
    }
  if (argc == 7 && g_str_equal (argv[1], "fbp"))
    {
      int n = parse_int (argv[2], 8, 2048), nv = parse_int (argv[3], 1, 4096);
      MmCtWindow w;
      if (!mm_ct_window_from_name (argv[4], &w))
        {
          fprintf (stderr, "mm-ct-tool: unknown window '%s'\n", argv[4]);
          return 2;
        }
      g_autofree float *sino = read_all (argv[5], sizeof (float) * nv * n);
      MmCtGeometry g;
      skimage_geometry (&g, n, nv);
      g_autofree float *out = g_new (float, (size_t) n * n);
      if (!mm_ct_fbp (&g, sino, w, n, 1.0, n / 2, n / 2, 0, out, &err))
        {
          fprintf (stderr, "mm-ct-tool: %s\n", err->message);
          return 1;
        }
      write_all (argv[6], out, sizeof (float) * n * n);
      return 0;
    }
  if ((argc == 8 || argc == 9) && g_str_equal (argv[1], "simulate"))
    {
      MmCtSimParams p;
      mm_ct_sim_params_init (&p);
      p.n = parse_int (argv[2], 8, 2048);
      p.pixel_mm = g_ascii_strtod (argv[3], NULL);
      p.photons = g_ascii_strtod (argv[4], NULL);
      p.seed = (guint64) parse_int (argv[5], 0, G_MAXINT);
      p.clip_12bit = argc == 9 && g_str_equal (argv[8], "clip");
      int n = p.n;
      g_autoptr (MmCtSim) sim = mm_ct_sim_new (&p, &err);
      if (sim == NULL)
        {
          fprintf (stderr, "mm-ct-tool: %s\n", err->message);
          return 1;
        }
      g_autofree guint8 *lab = read_all (argv[6], (size_t) n * n);
      g_autofree float *tissue = g_new0 (float, (size_t) n * n * 4);
      g_autofree float *metal = g_new0 (float, (size_t) n * n * 4);
      const MmCtMaterial tissues[4] = { MM_CT_AIR, MM_CT_FAT, MM_CT_WATER, MM_CT_BONE };
      for (size_t x = 0; x < (size_t) n * n; x++)
        if (lab[x] < 4)
          mm_ct_sim_tissue (sim, mm_ct_sim_material_hu (sim, tissues[lab[x]]), 1, tissue + x * 4);
        else if (lab[x] < 7)
          metal[x * 4 + lab[x] - 4] = 1;
      g_autofree float *hu = g_new (float, (size_t) n * n);
      clock_t c0 = clock ();
      gint64 t0 = g_get_monotonic_time ();
      if (!mm_ct_sim_slice (sim, tissue, metal, p.seed, hu, &err))
        {
          fprintf (stderr, "mm-ct-tool: %s\n", err->message);
          return 1;
        }
      fprintf (stderr, "effective %.2f keV; HU air %.0f fat %.0f bone %.0f Ti %.0f CoCr %.0f "
               "steel %.0f; slice %.3f s wall, %.3f s CPU\n",
               mm_ct_sim_effective_kev (sim), mm_ct_sim_material_hu (sim, MM_CT_AIR),
               mm_ct_sim_material_hu (sim, MM_CT_FAT), mm_ct_sim_material_hu (sim, MM_CT_BONE),
               mm_ct_sim_material_hu (sim, MM_CT_TITANIUM),
               mm_ct_sim_material_hu (sim, MM_CT_COCR), mm_ct_sim_material_hu (sim, MM_CT_STEEL),
               (g_get_monotonic_time () - t0) / 1e6, (double) (clock () - c0) / CLOCKS_PER_SEC);
      write_all (argv[7], hu, sizeof (float) * n * n);
      return 0;
    }
  fprintf (stderr, "usage: mm-ct-tool project N VIEWS IN OUT | fbp N VIEWS WINDOW IN OUT | "
                   "simulate N PIXEL_MM PHOTONS SEED LABELS OUT [clip]\n");
  return 2;
}
