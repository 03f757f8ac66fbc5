/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli measure: distance, angle, HU profile and ROI statistics on a standard or
 * oblique plane, and the statistics of a mask or one of its 3D components, as JSON. */
#include "mm-cli-plane.h"

#include "mm-components.h"
#include "mm-json.h"
#include "mm-measure.h"
#include "mm-roi.h"
#include "mm-slab.h"

#include <math.h>
#include <stdio.h>

/* Samples of one profile: a 4096-pixel line at a tenth of a pixel. */
#define MAX_PROFILE 65536

static void
set_stats (JsonBuilder *b, const char *name, const MmRoiStats *s, bool plane)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  mm_json_set_int (b, "count", (gint64) s->count);
  if (plane)
    mm_json_set_double (b, "area_mm2", s->area_mm2);
  else
    mm_json_set_double (b, "volume_ml", s->volume_ml);
  mm_json_set_double (b, "mean", s->mean);
  mm_json_set_double (b, "sd", s->sd);
  mm_json_set_double (b, "median", s->median);
  mm_json_set_double (b, "min", s->min);
  mm_json_set_double (b, "max", s->max);
  json_builder_end_object (b);
}

int
mm_cli_measure (int argc, char **argv)
{
  MmCliPlane po;
  mm_cli_plane_init (&po);
  char *series = NULL, *distance = NULL, *angle = NULL, *profile = NULL, *rect = NULL;
  char *ellipse = NULL, *polygon = NULL, *roi_npy = NULL, *mask_nifti = NULL;
  gboolean segment = FALSE, force = FALSE;
  double step = 0, threshold = NAN;
  int threads = 0, component = 0;
  char **paths = NULL;
  GOptionEntry entries[] = {
    MM_CLI_PLANE_ENTRIES (po),
    { "distance", 0, 0, G_OPTION_ARG_STRING, &distance,
      "Distance in mm between two plane points (plane pixels; pixel u spans [u, u + 1))",
      "X0,Y0,X1,Y1" },
    { "angle", 0, 0, G_OPTION_ARG_STRING, &angle, "Angle in degrees at B between A and C",
      "AX,AY,BX,BY,CX,CY" },
    { "profile", 0, 0, G_OPTION_ARG_STRING, &profile,
      "HU along the line, trilinear from the volume (null outside it)", "X0,Y0,X1,Y1" },
    { "step", 0, 0, G_OPTION_ARG_DOUBLE, &step,
      "Profile sample spacing, mm (default: the smaller pixel side)", "MM" },
    { "rect", 0, 0, G_OPTION_ARG_STRING, &rect,
      "ROI: the pixels whose centres lie in this rectangle", "X0,Y0,X1,Y1" },
    { "ellipse", 0, 0, G_OPTION_ARG_STRING, &ellipse,
      "ROI: the pixels whose centres lie in the ellipse inscribed in this box", "X0,Y0,X1,Y1" },
    { "polygon", 0, 0, G_OPTION_ARG_STRING, &polygon,
      "ROI: the pixels whose centres lie in this polygon (even-odd rule)", "X,Y,X,Y,X,Y..." },
    { "roi-npy", 0, 0, G_OPTION_ARG_FILENAME, &roi_npy,
      "Write the ROI's pixels as a uint8 0/1 NumPy array", "FILE.npy" },
    { "mask-nifti", 0, 0, G_OPTION_ARG_FILENAME, &mask_nifti,
      "Statistics of this NIfTI mask's voxels (on the series' grid)", "FILE" },
    { "segment", 0, 0, G_OPTION_ARG_NONE, &segment,
      "Statistics of the threshold segmentation's voxels", NULL },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
      "Metal is HU >= this, with --segment (default 3000)", "HU" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "With --segment: also on values that are not HU",
      NULL },
    { "component", 0, 0, G_OPTION_ARG_INT, &component,
      "Only this 26-connected component of the mask (1 = first in scan order)", "N" },
    { "series", 0, 0, G_OPTION_ARG_STRING, &series, "Series Instance UID to read", "UID" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, NULL, "PATH..." },
    { NULL },
  };
  const MmCliRange ranges[] = {
    MM_CLI_PLANE_RANGES,
    { "step", 0, MM_SPACING_MAX_MM },
    { "threshold", -MM_LIMIT_HU, MM_LIMIT_HU },
    { "component", 0, G_MAXINT },
    MM_CLI_THREADS_RANGE,
    { NULL },
  };
  int rc = MM_EXIT_USAGE;
  double dist[4], ang[6], prof[4], box[4];
  g_autofree double *poly = NULL;
  int n_poly = 0;
  MmRoi roi = { 0 };
  bool have_roi = false;
  const char *cmd = "measure";
  if (!mm_cli_parse (cmd, "PATH... [PLANE OPTIONS] MEASUREMENTS",
                     "Measures on a standard plane (--plane, --index) or an oblique one (see "
                     "reslice): distance, angle, HU profile, ROI statistics (a pixel counts when "
                     "its centre lies inside the shape); and the statistics of a mask or one "
                     "of its components. Prints JSON.",
                     entries, ranges, &argc, &argv))
    goto out;
  if (paths == NULL || paths[0] == NULL)
    {
      mm_cli_error ("measure: PATH is required; try 'metalmark-cli measure --help'");
      goto out;
    }
  if ((rect != NULL) + (ellipse != NULL) + (polygon != NULL) > 1)
    {
      mm_cli_error ("measure: --rect, --ellipse and --polygon exclude each other");
      goto out;
    }
  if (mask_nifti && segment)
    {
      mm_cli_error ("measure: --mask-nifti and --segment exclude each other");
      goto out;
    }
  if (component && !mask_nifti && !segment)
    {
      mm_cli_error ("measure: --component needs a mask: --mask-nifti FILE or --segment");
      goto out;
    }
  if (roi_npy && !rect && !ellipse && !polygon)
    {
      mm_cli_error ("measure: --roi-npy needs --rect, --ellipse or --polygon");
      goto out;
    }
  if (!distance && !angle && !profile && !rect && !ellipse && !polygon && !mask_nifti
      && !segment)
    {
      mm_cli_error ("measure: nothing to measure: give --distance, --angle, --profile, --rect, "
                    "--ellipse, --polygon, --mask-nifti or --segment");
      goto out;
    }
  /* Plane coordinates: a screen is a few thousand pixels; far beyond is a slip. */
  const double lim = MM_CLI_MAX_COORD;
  if ((distance && !mm_cli_parse_numbers (cmd, "distance", distance, 4, 4, -lim, lim, dist, NULL))
      || (angle && !mm_cli_parse_numbers (cmd, "angle", angle, 6, 6, -lim, lim, ang, NULL))
      || (profile && !mm_cli_parse_numbers (cmd, "profile", profile, 4, 4, -lim, lim, prof, NULL)))
    goto out;
  if (rect || ellipse)
    {
      if (!mm_cli_parse_numbers (cmd, rect ? "rect" : "ellipse", rect ? rect : ellipse, 4, 4,
                                 -lim, lim, box, NULL))
        goto out;
      roi = (MmRoi){ rect ? MM_ROI_RECTANGLE : MM_ROI_ELLIPSE, box[0], box[1], box[2], box[3] };
      have_roi = true;
    }
  if (polygon)
    {
      poly = g_new (double, 2 * MM_CLI_MAX_POLYGON);
      if (!mm_cli_parse_numbers (cmd, "polygon", polygon, 6, 2 * MM_CLI_MAX_POLYGON, -lim, lim,
                                 poly, &n_poly))
        goto out;
      if (n_poly % 2)
        {
          mm_cli_error ("measure: --polygon: an even count of numbers (x,y pairs), not %d",
                        n_poly);
          goto out;
        }
      roi = (MmRoi){ .shape = MM_ROI_POLYGON, .points = poly, .n_points = n_poly / 2 };
      have_roi = true;
    }

  {
    g_autoptr (MmVolume) vol = mm_cli_load (paths, series, threads, NULL);
    if (vol == NULL)
      {
        rc = MM_EXIT_INPUT;
        goto out;
      }
    MmReslicePlane p;
    MmPlane kind;
    int depth;
    if (!mm_cli_plane_resolve (cmd, &po, vol, &p, &kind, &depth))
      goto out;
    bool oblique = mm_cli_plane_is_oblique (&po);
    g_autoptr (JsonBuilder) b = json_builder_new ();
    json_builder_begin_object (b);
    mm_json_set_bool (b, "oblique", oblique);
    mm_cli_plane_json (b, &p, vol);
    if (distance)
      mm_json_set_double (b, "distance_mm",
                          mm_measure_distance (dist[0], dist[1], dist[2], dist[3], p.pixel_w,
                                               p.pixel_h));
    if (angle)
      {
        double a = mm_measure_angle (ang[0], ang[1], ang[2], ang[3], ang[4], ang[5], p.pixel_w,
                                     p.pixel_h);
        json_builder_set_member_name (b, "angle_deg");
        if (isnan (a))
          json_builder_add_null_value (b);
        else
          json_builder_add_double_value (b, a);
      }
    if (profile)
      {
        double a[3], e[3];
        mm_reslice_pixel_to_lps (&p, prof[0], prof[1], a);
        mm_reslice_pixel_to_lps (&p, prof[2], prof[3], e);
        double st = step > 0 ? step : MIN (p.pixel_w, p.pixel_h);
        int n = mm_measure_profile_samples (a, e, st, MAX_PROFILE);
        g_autofree double *hu = g_new (double, n), *pos = g_new (double, n);
        mm_measure_profile (vol, a, e, n, hu, pos);
        json_builder_set_member_name (b, "profile");
        json_builder_begin_object (b);
        mm_json_set_doubles (b, "start_lps", a, 3);
        mm_json_set_doubles (b, "end_lps", e, 3);
        mm_json_set_int (b, "samples", n);
        mm_json_set_doubles (b, "pos_mm", pos, n);
        json_builder_set_member_name (b, "hu");
        json_builder_begin_array (b);
        for (int s = 0; s < n; s++)
          if (isnan (hu[s]))
            json_builder_add_null_value (b);
          else
            json_builder_add_double_value (b, hu[s]);
        json_builder_end_array (b);
        json_builder_end_object (b);
      }
    if (have_roi)
      {
        size_t n = (size_t) p.width * p.height;
        g_autofree float *img = g_try_new (float, n);
        g_autofree uint8_t *m = roi_npy ? g_try_new (uint8_t, n) : NULL;
        if (img == NULL || (roi_npy && m == NULL))
          {
            mm_cli_error ("measure: not enough memory for a %d x %d image", p.width, p.height);
            rc = MM_EXIT_INPUT;
            goto out;
          }
        /* A standard plane's pixels are its voxels, exactly; an oblique one's outside the
         * volume are NaN, which the statistics skip. */
        if (oblique)
          mm_reslice_volume (vol, &p, NAN, img, threads);
        else
          mm_slab_compute (vol, kind, depth, 0, MM_SLAB_MIP, img, threads);
        MmRoiStats s;
        if (!mm_roi_plane_stats (img, p.width, p.height, p.pixel_w, p.pixel_h, &roi, &s))
          {
            mm_cli_error ("measure: the ROI is malformed (a polygon needs 3 points)");
            goto out;
          }
        set_stats (b, "roi", &s, true);
        g_autoptr (GError) err = NULL;
        if (roi_npy)
          {
            mm_roi_plane_mask (&roi, p.width, p.height, m);
            if (!mm_cli_write_npy (roi_npy, "|u1", m, p.height, p.width, &err))
              {
                mm_cli_error ("%s", err->message);
                rc = MM_EXIT_OUTPUT;
                goto out;
              }
          }
      }
    if (mask_nifti || segment)
      {
        g_autoptr (MmMask) mask = mm_cli_plane_mask (cmd, vol, mask_nifti, segment, threshold,
                                                     force, threads);
        if (mask == NULL)
          {
            rc = MM_EXIT_INPUT;
            goto out;
          }
        g_autoptr (MmComponents) comps = NULL;
        if (component)
          {
            comps = mm_components_label (mask, threads);
            if (component > mm_components_count (comps))
              {
                mm_cli_error ("measure: --component %d: the mask has %d components", component,
                              mm_components_count (comps));
                rc = MM_EXIT_INPUT;
                goto out;
              }
          }
        MmRoiStats s;
        if (!mm_roi_volume_stats (vol, mask, comps, component, &s, threads))
          {
            mm_cli_error ("measure: the mask statistics failed (out of memory?)");
            rc = MM_EXIT_INPUT;
            goto out;
          }
        set_stats (b, "mask", &s, false);
      }
    json_builder_end_object (b);
    g_autoptr (JsonNode) root = json_builder_get_root (b);
    mm_cli_print_json (root);
    rc = MM_EXIT_OK;
  }
out:
  mm_cli_plane_clear (&po);
  g_free (series);
  g_free (distance);
  g_free (angle);
  g_free (profile);
  g_free (rect);
  g_free (ellipse);
  g_free (polygon);
  g_free (roi_npy);
  g_free (mask_nifti);
  g_strfreev (paths);
  return rc;
}
