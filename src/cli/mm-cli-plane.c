/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli: plane options (standard or oblique), number lists and .npy output. */
#include "mm-cli-plane.h"

#include "mm-atomic.h"
#include "mm-json.h"
#include "mm-nifti.h"
#include "mm-segment.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void
mm_cli_plane_init (MmCliPlane *o)
{
  memset (o, 0, sizeof *o);
  o->index = -1;
}

void
mm_cli_plane_clear (MmCliPlane *o)
{
  g_free (o->plane);
  g_free (o->centre_lps);
  g_free (o->centre_voxel);
  g_free (o->right);
  g_free (o->down);
  g_strfreev (o->rotate);
  memset (o, 0, sizeof *o);
}

bool
mm_cli_plane_is_oblique (const MmCliPlane *o)
{
  return o->centre_lps || o->centre_voxel || o->right || o->down || o->rotate || o->width
         || o->height || o->pixel > 0;
}

bool
mm_cli_parse_numbers (const char *command, const char *option, const char *text, int n_min,
                      int n_max, double lo, double hi, double *out, int *n)
{
  int k = 0;
  const char *s = text;
  while (s && *s)
    {
      char *end;
      errno = 0;
      double x = g_ascii_strtod (s, &end);
      if (end == s || errno == ERANGE || !isfinite (x) || x < lo || x > hi)
        {
          mm_cli_error ("%s: --%s %s: every value must be a number from %g to %g", command,
                        option, text, lo, hi);
          return false;
        }
      if (k == n_max)
        {
          mm_cli_error ("%s: --%s: more than %d values", command, option, n_max);
          return false;
        }
      out[k++] = x;
      s = end;
      while (*s == ' ')
        s++;
      if (*s == ',')
        s++;
      else if (*s)
        {
          mm_cli_error ("%s: --%s %s: expected numbers separated by commas", command, option,
                        text);
          return false;
        }
    }
  if (k < n_min)
    {
      mm_cli_error ("%s: --%s %s: expected %s%d numbers separated by commas", command, option,
                    text ? text : "", n_min == n_max ? "" : "at least ", n_min);
      return false;
    }
  if (n)
    *n = k;
  return true;
}

bool
mm_cli_plane_kind (const char *command, const MmCliPlane *o, MmPlane *plane)
{
  static const char *names[] = { "axial", "coronal", "sagittal" };
  if (o->plane == NULL)
    {
      *plane = MM_PLANE_AXIAL;
      return true;
    }
  for (int p = 0; p < 3; p++)
    if (g_ascii_strcasecmp (o->plane, names[p]) == 0)
      {
        *plane = (MmPlane) p;
        return true;
      }
  mm_cli_error ("%s: --plane %s: expected axial, coronal or sagittal", command, o->plane);
  return false;
}

bool
mm_cli_plane_resolve (const char *command, const MmCliPlane *o, const MmVolume *vol,
                      MmReslicePlane *p, MmPlane *kind, int *depth)
{
  MmPlane plane;
  if (!mm_cli_plane_kind (command, o, &plane))
    return false;
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  int d = o->index < 0 ? g.depth / 2 : o->index;
  if (d >= g.depth)
    {
      mm_cli_error ("%s: --index %d: the %s plane has planes 0 to %d", command, o->index,
                    o->plane ? o->plane : "axial", g.depth - 1);
      return false;
    }
  if (kind)
    *kind = plane;
  if (depth)
    *depth = d;
  mm_reslice_plane_init_standard (p, vol, plane, d);
  if (!mm_cli_plane_is_oblique (o))
    return true;

  if (o->centre_lps && o->centre_voxel)
    {
      mm_cli_error ("%s: --centre-lps and --centre-voxel exclude each other", command);
      return false;
    }
  double c[3], ijk[3];
  if (o->centre_lps)
    {
      if (!mm_cli_parse_numbers (command, "centre-lps", o->centre_lps, 3, 3, -MM_CLI_MAX_COORD,
                                 MM_CLI_MAX_COORD, c, NULL))
        return false;
      memcpy (p->centre_lps, c, sizeof c);
    }
  else if (o->centre_voxel)
    {
      if (!mm_cli_parse_numbers (command, "centre-voxel", o->centre_voxel, 3, 3,
                                 -MM_CLI_MAX_COORD, MM_CLI_MAX_COORD, ijk, NULL))
        return false;
      mm_volume_index_to_lps (vol, ijk[0], ijk[1], ijk[2], p->centre_lps);
    }
  else
    {
      /* The standard plane's centre, at --index. */
    }
  p->width = o->width > 0 ? o->width : 512;
  p->height = o->height > 0 ? o->height : 512;
  p->pixel_w = p->pixel_h = o->pixel > 0 ? o->pixel : MIN (vol->spacing[0], vol->spacing[1]);
  if (!mm_spacing_is_sane (p->pixel_w))
    {
      mm_cli_error ("%s: --pixel %g: a pixel must be %g to %g mm", command, p->pixel_w,
                    MM_SPACING_MIN_MM, MM_SPACING_MAX_MM);
      return false;
    }
  if (o->right && !mm_cli_parse_numbers (command, "right", o->right, 3, 3, -1e3, 1e3,
                                         p->right, NULL))
    return false;
  if (o->down && !mm_cli_parse_numbers (command, "down", o->down, 3, 3, -1e3, 1e3, p->down,
                                        NULL))
    return false;
  if (!mm_reslice_plane_normalise (p))
    {
      mm_cli_error ("%s: --right and --down must be nonzero and not parallel", command);
      return false;
    }
  for (int r = 0; o->rotate && o->rotate[r]; r++)
    {
      double a[4];
      if (!mm_cli_parse_numbers (command, "rotate", o->rotate[r], 4, 4, -1e3, 1e3, a, NULL))
        return false;
      if (a[0] == 0 && a[1] == 0 && a[2] == 0)
        {
          mm_cli_error ("%s: --rotate %s: the axis must be nonzero", command, o->rotate[r]);
          return false;
        }
      mm_reslice_plane_rotate (p, a, a[3] * G_PI / 180.0);
    }
  return true;
}

bool
mm_cli_write_npy (const char *path, const char *descr, const void *data, int height, int width,
                  GError **error)
{
  size_t item = strcmp (descr, "<f4") == 0 ? 4 : 1;
  g_autofree char *dict = g_strdup_printf (
    "{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }", descr, height, width);
  /* Magic, version 1.0, header length; the header padded with spaces to a multiple of 64
   * bytes, ending in a newline (the format's rule). */
  size_t head = 10 + strlen (dict) + 1;
  size_t pad = (64 - head % 64) % 64;
  size_t hlen = strlen (dict) + pad + 1;
  size_t body = (size_t) height * width * item;
  g_autofree uint8_t *buf = g_malloc (10 + hlen + body);
  memcpy (buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (uint8_t) (hlen & 0xff);
  buf[9] = (uint8_t) (hlen >> 8);
  memcpy (buf + 10, dict, strlen (dict));
  memset (buf + 10 + strlen (dict), ' ', pad);
  buf[10 + hlen - 1] = '\n';
  /* Little-endian floats: every platform Metalmark builds on. */
  memcpy (buf + 10 + hlen, data, body);
  return mm_atomic_write (path, buf, 10 + hlen + body, false, error);
}

static void
set_point (JsonBuilder *b, const char *name, const MmReslicePlane *p, const MmVolume *vol,
           double x, double y)
{
  double lps[3], ijk[3];
  mm_reslice_pixel_to_lps (p, x, y, lps);
  mm_volume_lps_to_index (vol, lps, ijk);
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  mm_json_set_doubles (b, "lps", lps, 3);
  mm_json_set_doubles (b, "voxel", ijk, 3);
  json_builder_end_object (b);
}

void
mm_cli_plane_json (JsonBuilder *b, const MmReslicePlane *p, const MmVolume *vol)
{
  int size[2] = { p->width, p->height };
  double px[2] = { p->pixel_w, p->pixel_h }, n[3];
  mm_json_set_ints (b, "size", size, 2);
  mm_json_set_doubles (b, "pixel_mm", px, 2);
  mm_json_set_doubles (b, "centre_lps", p->centre_lps, 3);
  mm_json_set_doubles (b, "right", p->right, 3);
  mm_json_set_doubles (b, "down", p->down, 3);
  mm_reslice_plane_normal (p, n);
  mm_json_set_doubles (b, "normal", n, 3);
  char l[4], r[4], t[4], bo[4];
  mm_reslice_plane_letters (p, l, r, t, bo);
  json_builder_set_member_name (b, "letters");
  json_builder_begin_object (b);
  mm_json_set_string (b, "left", l);
  mm_json_set_string (b, "right", r);
  mm_json_set_string (b, "top", t);
  mm_json_set_string (b, "bottom", bo);
  json_builder_end_object (b);
  /* Pixel centres of three corners: enough to place every pixel. */
  set_point (b, "pixel_0_0", p, vol, 0.5, 0.5);
  set_point (b, "pixel_last_0", p, vol, p->width - 0.5, 0.5);
  set_point (b, "pixel_0_last", p, vol, 0.5, p->height - 0.5);
}

MmMask *
mm_cli_plane_mask (const char *command, const MmVolume *vol, const char *mask_nifti,
                   bool segment, double threshold, bool force, int threads)
{
  g_autoptr (GError) err = NULL;
  if (mask_nifti)
    {
      MmMask *m = mm_nifti_read_mask (mask_nifti, vol, &err);
      if (m == NULL)
        mm_cli_error ("%s", err->message);
      return m;
    }
  if (!segment)
    return NULL;
  if (!mm_cli_metal_rule_applies (command, vol, force))
    return NULL;
  MmSegmentParams sp;
  mm_segment_params_init (&sp);
  if (!isnan (threshold))
    sp.lower = threshold;
  MmSegmentResult res;
  MmMask *m = mm_segment_metal (vol, &sp, &res, threads);
  if (m == NULL)
    mm_cli_error ("%s: the segmentation failed (out of memory?)", command);
  return m;
}
