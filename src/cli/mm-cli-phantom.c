/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli phantom: a synthetic CT series, its truth mask and its truth figures. */
#include "mm-cli.h"
#include "mm-json.h"

#include "mm-atomic.h"
#include "mm-info.h"
#include "mm-label-stack.h"
#include "mm-phantom.h"
#include "mm-phantom-physics.h"

#include <stdio.h>

/* What the physics scan was simulated with (NULL: not simulated). */
typedef struct
{
  const MmCtSimParams *sim;
  const char *window;
} Physics;

static void
write_physics (JsonBuilder *b, const Physics *phys)
{
  const MmCtSimParams *s = phys->sim;
  const MmCtGeometry *g = &s->geometry;
  json_builder_set_member_name (b, "physics");
  json_builder_begin_object (b);
  mm_json_set_double (b, "kvp", s->spectrum.kvp);
  mm_json_set_double (b, "filter_al_mm", s->spectrum.al_mm);
  mm_json_set_double (b, "filter_cu_mm", s->spectrum.cu_mm);
  mm_json_set_double (b, "photons_per_channel", s->photons);
  mm_json_set_double (b, "electronic_noise_photons", s->electronic_sd);
  mm_json_set_double (b, "crosstalk", s->crosstalk);
  mm_json_set_int (b, "views", g->n_views);
  mm_json_set_int (b, "channels", g->n_det);
  mm_json_set_double (b, "source_isocentre_mm", g->sid_mm);
  mm_json_set_double (b, "source_detector_mm", g->sdd_mm);
  mm_json_set_string (b, "window", phys->window);
  json_builder_set_member_name (b, "clip_12bit");
  json_builder_add_boolean_value (b, s->clip_12bit);
  mm_json_set_string (b, "reference", "ct-no-metal: the same scan with the metal replaced by the "
                                      "tissue it displaced");
  json_builder_end_object (b);
}

static bool
write_truth_json (const char *path, const MmPhantom *ph, const Physics *phys, GError **error)
{
  const MmVolume *vol = ph->volume;
  double ras[3];
  mm_lps_to_ras (ph->centre_lps, ras);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  mm_json_set_string (b, "series_uid", vol->series_uid);
  mm_json_set_ints (b, "dims", vol->dims, 3);
  mm_json_set_doubles (b, "spacing_mm", vol->spacing, 3);
  mm_json_set_doubles (b, "orientation_row", vol->direction, 3);
  mm_json_set_doubles (b, "orientation_column", vol->direction + 3, 3);
  mm_json_set_doubles (b, "centre_lps_mm", ph->centre_lps, 3);
  mm_json_set_doubles (b, "centre_ras_mm", ras, 3);
  /* A physics scan's values are the simulator's: these figures are the painted phantom's. */
  json_builder_set_member_name (b, phys ? "painted_phantom_noise_free" : "noise_free");
  json_builder_begin_object (b);
  mm_json_set_double (b, "max", ph->max_hu);
  mm_json_set_double (b, "min", ph->min_hu);
  mm_json_set_double (b, "mean", ph->mean_hu);
  mm_json_set_double (b, "mean_without_padding", ph->mean_without_padding_hu);
  json_builder_end_object (b);
  mm_json_set_double (b, "padding_value", MM_PHANTOM_PADDING_HU);
  mm_json_set_int (b, "padding_voxels", (gint64) ph->n_padding);
  mm_json_set_int (b, "metal_voxels", (gint64) ph->metal_voxels);
  mm_json_set_int (b, "metal_components", ph->metal_components);
  json_builder_set_member_name (b, "metal_objects");
  json_builder_begin_array (b);
  if (ph->variant == 0)
    for (int o = 0; o < MM_PHANTOM_N_METAL; o++)
      {
        json_builder_begin_object (b);
        mm_json_set_int (b, "voxels", (gint64) ph->object_voxels[o]);
        mm_json_set_double (b, "hu", ph->object_hu[o]);
        mm_json_set_double (b, "volume_mm3", ph->object_voxels[o] * mm_volume_voxel_mm3 (vol));
        json_builder_end_object (b);
      }
  else
    for (int o = 0; o < ph->n_objects; o++)
      {
        const MmPhantomObject *ob = &ph->objects[o];
        json_builder_begin_object (b);
        mm_json_set_string (b, "kind", ob->kind);
        mm_json_set_int (b, "voxels", (gint64) ob->voxels);
        mm_json_set_double (b, "hu", ob->hu);
        mm_json_set_double (b, "volume_mm3", ob->voxels * mm_volume_voxel_mm3 (vol));
        json_builder_end_object (b);
      }
  json_builder_end_array (b);
  if (phys)
    write_physics (b, phys);
  if (ph->variant > 0)
    mm_json_set_int (b, "variant", ph->variant);
  if (ph->variant > 0 && !phys)
    {
      /* Outside metal every voxel is kept below this and every metal voxel at or above it. */
      mm_json_set_double (b, "truth_equals_threshold_hu", 3000);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  gsize len;
  g_autofree char *text = mm_json_to_data (root, TRUE, &len, NULL);
  return mm_atomic_write (path, text, len, true, error);
}

/* The truth as a label stack for training, its manifest saying where it came from. */
static bool
write_truth_labels (const char *dir, const MmPhantom *ph, const MmPhantomParams *p, int threads,
                    GError **error)
{
  g_autoptr (JsonObject) params = json_object_new ();
  json_object_set_string_member (params, "source", "metalmark-cli phantom");
  json_object_set_int_member (params, "variant", p->variant);
  json_object_set_int_member (params, "seed", (gint64) p->seed);
  json_object_set_double_member (params, "noise_sd", p->noise_sd);
  json_object_set_string_member (params, "rule", "voxel centre inside a metal object");
  return mm_label_stack_write (dir, ph->truth, ph->volume, params, threads, error);
}

int
mm_cli_phantom (int argc, char **argv)
{
  MmPhantomParams p;
  mm_phantom_params_init (&p);
  int slices = p.slices, size = p.size, threads = 0, variant = -1;
  MmCtSimParams sim;
  mm_ct_sim_params_init (&sim);
  int views = sim.geometry.n_views;
  double dose = sim.photons, kvp = sim.spectrum.kvp, electronic = sim.electronic_sd;
  gboolean physics = FALSE, clip = FALSE;
  char *window_name = NULL;
  gint64 seed = (gint64) p.seed;
  double noise = 0, tilt = 0;
  char *syntax_name = NULL, *truth_labels = NULL;
  gboolean shuffle = FALSE, padding_tag = FALSE;
  char **rest = NULL;
  GOptionEntry entries[] = {
    { "slices", 0, 0, G_OPTION_ARG_INT, &slices, "Number of slices (default 120)", "N" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Columns and rows (default 512)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of noise and UIDs (default 1)", "S" },
    { "noise", 0, 0, G_OPTION_ARG_DOUBLE, &noise, "Gaussian noise SD in HU (default 0)", "SD" },
    { "tilt", 0, 0, G_OPTION_ARG_DOUBLE, &tilt,
      "Tilt of the slice plane about the x axis, degrees (default 0)", "DEG" },
    { "syntax", 0, 0, G_OPTION_ARG_STRING, &syntax_name,
      "Transfer syntax: explicit, implicit, bigendian, rle, jpeg, jpegls, j2k", "NAME" },
    { "variant", 0, 0, G_OPTION_ARG_INT, &variant,
      "0: the fixed phantom (default); 1, 2...: a random pelvis with implants drawn from seed "
      "and variant, for training (no metal when N % 10 == 0)",
      "N" },
    { "truth-labels", 0, 0, G_OPTION_ARG_FILENAME, &truth_labels,
      "Also write the truth mask as a PNG label stack in DIR (training masks)", "DIR" },
    { "shuffle-names", 0, 0, G_OPTION_ARG_NONE, &shuffle, "Random file names", NULL },
    { "padding-tag", 0, 0, G_OPTION_ARG_NONE, &padding_tag,
      "Write Pixel Padding Value (default: leave it out, as the seed CT does)", NULL },
    { "physics", 0, 0, G_OPTION_ARG_NONE, &physics,
      "Simulate the scan as a CT scanner would (variants only; default variant 1); also "
      "writes DIR/ct-no-metal",
      NULL },
    { "dose", 0, 0, G_OPTION_ARG_DOUBLE, &dose,
      "--physics: photons per detector channel and view in air (default 200000; 0: no noise)",
      "N" },
    { "views", 0, 0, G_OPTION_ARG_INT, &views, "--physics: views per rotation (default 1152)",
      "N" },
    { "kvp", 0, 0, G_OPTION_ARG_DOUBLE, &kvp, "--physics: tube voltage (default 120)", "KV" },
    { "electronic-noise", 0, 0, G_OPTION_ARG_DOUBLE, &electronic,
      "--physics: electronic noise SD in photons (default 4)", "SD" },
    { "window", 0, 0, G_OPTION_ARG_STRING, &window_name,
      "--physics: reconstruction filter window: shepp-logan (default), hann, ramp", "NAME" },
    { "clip-12bit", 0, 0, G_OPTION_ARG_NONE, &clip,
      "--physics: limit the scan to -1024..3071 HU as many scanners store it", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, "DIR" },
    { NULL },
  };
  /* The sizes mm_phantom_new accepts; the rest keeps the phantom a CT. */
  const MmCliRange ranges[] = {
    { "slices", 1, 4096 },    { "size", 16, 4096 },   { "seed", 0, (double) G_MAXINT64 },
    { "noise", 0, 10000 },    { "tilt", -90, 90 },    { "variant", 0, G_MAXINT },
    { "dose", 0, 1e9 },       { "views", 16, 16384 }, { "kvp", 40, 150 },
    { "electronic-noise", 0, 10000 },
    MM_CLI_THREADS_RANGE,     { NULL },
  };
  int rc = MM_EXIT_USAGE;
  if (!mm_cli_parse ("phantom", "DIR",
                     "Writes DIR/ct (the DICOM series), DIR/truth (its metal mask as a PNG label "
                     "stack) and DIR/truth.json (its figures, known by construction).\n\n"
                     "Variants (--variant N >= 1) are training data: body, femurs and pelvis, "
                     "fat, gas and table drawn at random; 1 to 4 metal objects among hip stem "
                     "with ball head, acetabular cup, screws, nail, plate, fragments and wires "
                     "(3200 to 25000 HU); bright and dark streaks around dense metal; noise "
                     "with --noise. Outside metal every voxel stays below 3000 HU and metal is "
                     "at least 3000 HU, so the truth is exactly 'segment' at its default "
                     "threshold.\n\n"
                     "--physics instead simulates the variant's scan (docs/ct-simulation.md): "
                     "materials (fat, soft tissue, bone, titanium, steel, CoCr), a 120 kVp "
                     "spectrum, fan-beam projection, photon and electronic noise, water "
                     "beam-hardening correction only and filtered back-projection, so metal "
                     "shows partial volume, dark bands and streaks; DIR/ct-no-metal is the same "
                     "scan without the metal (the reference for metal artifact reduction).",
                     entries, ranges, &argc, &argv))
    goto out;
  if (rest == NULL || rest[0] == NULL || rest[1] != NULL)
    {
      mm_cli_error ("phantom: give exactly one DIR; try 'metalmark-cli phantom --help'");
      goto out;
    }
  if (variant < 0)
    variant = physics ? 1 : 0;
  if (physics && variant == 0)
    {
      mm_cli_error ("phantom: --physics simulates a variant; give --variant 1 or more");
      goto out;
    }
  if (physics && size > MM_PHANTOM_PHYSICS_MAX_SIZE)
    {
      mm_cli_error ("phantom: --physics makes at most %d x %d pixels, not --size %d",
                    MM_PHANTOM_PHYSICS_MAX_SIZE, MM_PHANTOM_PHYSICS_MAX_SIZE, size);
      goto out;
    }
  if (!physics && (clip || window_name))
    {
      mm_cli_error ("phantom: --clip-12bit and --window need --physics");
      goto out;
    }
  const char *window = window_name ? window_name : "shepp-logan";
  if (!mm_ct_window_from_name (window, &sim.window))
    {
      mm_cli_error ("phantom: unknown --window '%s'; one of shepp-logan, hann, ramp", window);
      goto out;
    }
  if (!mm_ct_spectrum_kramers (&sim.spectrum, kvp, sim.spectrum.al_mm, sim.spectrum.cu_mm,
                               sim.spectrum.bin_kev))
    {
      mm_cli_error ("phantom: no spectrum for --kvp %g", kvp);
      goto out;
    }
  sim.geometry.n_views = views;
  sim.photons = dose;
  sim.electronic_sd = electronic;
  sim.clip_12bit = clip;
  sim.seed = (guint64) seed;
  MmDicomWriteOptions wo = { 0 };
  wo.syntax = MM_DICOM_SYNTAX_EXPLICIT;
  if (syntax_name && !mm_dicom_syntax_from_name (syntax_name, &wo.syntax))
    {
      mm_cli_error ("phantom: unknown --syntax '%s'; one of %s", syntax_name,
                    mm_dicom_syntax_names ());
      goto out;
    }
  wo.shuffle_names = shuffle;
  wo.seed = (guint64) seed;
  wo.padding_tag = padding_tag;
  wo.padding_value_hu = MM_PHANTOM_PADDING_HU;

  {
    p.size = size;
    p.slices = slices;
    p.seed = (guint64) seed;
    p.noise_sd = noise;
    p.tilt_deg = tilt;
    p.variant = variant;
    g_autoptr (GError) err = NULL;
    g_autoptr (MmPhantom) ph = mm_phantom_new (&p, &err);
    if (ph == NULL)
      {
        mm_cli_error ("phantom: %s", err->message);
        goto out;
      }
    g_autoptr (MmPhantom) ref = NULL;
    if (physics)
      {
        /* A second phantom gives the reference its own copy of the geometry; it becomes its
         * own series. */
        ref = mm_phantom_new (&p, &err);
        if (ref == NULL || !mm_phantom_physics_scan (&p, &sim, ph->volume, ref->volume, &err))
          {
            mm_cli_error ("phantom: %s", err->message);
            goto out;
          }
        MmVolume *rv = ref->volume;
        char *uid = g_strdup_printf ("%s.2", rv->series_uid);
        g_free (rv->series_uid);
        rv->series_uid = uid;
        for (int k = 0; k < rv->dims[2]; k++)
          {
            g_free (rv->slices[k].sop_instance_uid);
            rv->slices[k].sop_instance_uid
              = g_strdup_printf ("%s.%d", uid, rv->slices[k].instance_number);
          }
        g_free (rv->series_description);
        rv->series_description
          = g_strdup_printf ("Metalmark physics phantom %d without metal (MAR reference)", variant);
        g_free (ph->volume->series_description);
        ph->volume->series_description
          = g_strdup_printf ("Metalmark physics phantom %d%s", variant, clip ? ", 12-bit" : "");
        ph->volume->window_center = 40;
      }
    Physics phys = { &sim, window };
    g_autofree char *ct = g_build_filename (rest[0], "ct", NULL);
    g_autofree char *ct_ref = g_build_filename (rest[0], "ct-no-metal", NULL);
    g_autofree char *truth = g_build_filename (rest[0], "truth", NULL);
    g_autofree char *truth_json = g_build_filename (rest[0], "truth.json", NULL);
    if (!mm_dicom_write_series (ct, ph->volume, &wo, &err)
        || !mm_label_stack_write (truth, ph->truth, ph->volume, NULL, threads, &err)
        || (ref && !mm_dicom_write_series (ct_ref, ref->volume, &wo, &err))
        || !write_truth_json (truth_json, ph, physics ? &phys : NULL, &err)
        || (truth_labels && !write_truth_labels (truth_labels, ph, &p, threads, &err)))
      {
        mm_cli_error ("%s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    printf ("Phantom         %d x %d x %d, %s, seed %" G_GINT64_FORMAT ", noise %.1f HU\n", size,
            size, slices, syntax_name ? syntax_name : "explicit", seed, noise);
    if (variant > 0)
      {
        printf ("Variant         %d:", variant);
        for (int o = 0; o < ph->n_objects; o++)
          printf ("%s %s %.0f HU", o ? "," : "", ph->objects[o].kind, ph->objects[o].hu);
        printf ("%s\n", ph->n_objects ? "" : " no metal");
      }
    if (physics)
      printf ("Physics         %.0f kVp, %.3g photons/channel, %d views, %s%s\n"
              "Reference       %s (without metal)\n",
              kvp, dose, views, window, clip ? ", clipped at 3071 HU" : "", ct_ref);
    printf ("Series          %s\n", ct);
    printf ("Truth mask      %s (%" G_GUINT64_FORMAT " metal voxels, %d objects)\n", truth,
            ph->metal_voxels, ph->metal_components);
    printf ("Truth figures   %s\n", truth_json);
    if (truth_labels)
      printf ("Truth labels    %s\n", truth_labels);
    rc = MM_EXIT_OK;
  }
out:
  g_free (syntax_name);
  g_free (truth_labels);
  g_free (window_name);
  g_strfreev (rest);
  return rc;
}
