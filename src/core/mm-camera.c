/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmCamera: orthographic view maths (see mm-camera.h). */
#include "mm-camera.h"

#include <math.h>
#include <string.h>

static double
dot3 (const double a[3], const double b[3])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void
cross3 (const double a[3], const double b[3], double out[3])
{
  double c[3] = { a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0] };
  memcpy (out, c, sizeof c);
}

static void
normalise3 (double v[3])
{
  double n = sqrt (dot3 (v, v));
  if (n > 0)
    for (int a = 0; a < 3; a++)
      v[a] /= n;
}

/* Rodrigues: v turned by angle about the unit axis. */
static void
turn (double v[3], const double axis[3], double angle)
{
  double c = cos (angle), s = sin (angle), k[3], d = dot3 (axis, v);
  cross3 (axis, v, k);
  for (int a = 0; a < 3; a++)
    v[a] = v[a] * c + k[a] * s + axis[a] * d * (1 - c);
}

/* Keep the basis orthonormal and right-handed after many small turns. */
static void
orthonormalise (MmCamera *cam)
{
  normalise3 (cam->toward);
  cross3 (cam->toward, cam->right, cam->up);
  normalise3 (cam->up);
  cross3 (cam->up, cam->toward, cam->right);
  normalise3 (cam->right);
}

bool
mm_camera_set_standard (MmCamera *cam, char view)
{
  /* toward (from the scene to the viewer) and up; right = up x toward. LPS: +x left,
   * +y posterior, +z superior. */
  static const struct { char c; double toward[3], up[3]; } views[] = {
    { 'A', { 0, -1, 0 }, { 0, 0, 1 } },
    { 'P', { 0, 1, 0 }, { 0, 0, 1 } },
    { 'L', { 1, 0, 0 }, { 0, 0, 1 } },
    { 'R', { -1, 0, 0 }, { 0, 0, 1 } },
    { 'S', { 0, 0, 1 }, { 0, -1, 0 } },
    { 'I', { 0, 0, -1 }, { 0, -1, 0 } },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (views); i++)
    if (views[i].c == view)
      {
        memcpy (cam->toward, views[i].toward, sizeof cam->toward);
        memcpy (cam->up, views[i].up, sizeof cam->up);
        cross3 (cam->up, cam->toward, cam->right);
        return true;
      }
  return false;
}

void
mm_camera_fit (MmCamera *cam, const double min[3], const double max[3])
{
  double diag = 0;
  for (int a = 0; a < 3; a++)
    {
      cam->centre[a] = 0.5 * (min[a] + max[a]);
      diag += (max[a] - min[a]) * (max[a] - min[a]);
    }
  diag = MAX (sqrt (diag), 1.0);
  cam->radius = diag; /* twice the half diagonal: room to pan in depth */
  int side = MAX (MIN (cam->width, cam->height), 16);
  cam->scale = 0.9 * side / diag;
}

void
mm_camera_rotate (MmCamera *cam, double dx, double dy)
{
  const double per_px = M_PI / 400; /* 400 px drag: half a turn */
  /* Turning the scene by R is turning the camera's basis by R^-1. */
  double up[3], right[3];
  memcpy (up, cam->up, sizeof up);
  memcpy (right, cam->right, sizeof right);
  for (double *v[] = { cam->right, cam->up, cam->toward }, **p = v; p < v + 3; p++)
    {
      turn (*p, up, -dx * per_px);
      turn (*p, right, -dy * per_px);
    }
  orthonormalise (cam);
}

void
mm_camera_pan (MmCamera *cam, double dx, double dy)
{
  for (int a = 0; a < 3; a++)
    cam->centre[a] -= (dx * cam->right[a] - dy * cam->up[a]) / cam->scale;
}

void
mm_camera_zoom (MmCamera *cam, double factor)
{
  cam->scale = CLAMP (cam->scale * factor, 1e-3, 1e4);
}

void
mm_camera_project (const MmCamera *cam, const double lps[3], double *sx, double *sy, double *depth)
{
  double d[3] = { lps[0] - cam->centre[0], lps[1] - cam->centre[1], lps[2] - cam->centre[2] };
  *sx = 0.5 * cam->width + cam->scale * dot3 (d, cam->right);
  *sy = 0.5 * cam->height - cam->scale * dot3 (d, cam->up);
  if (depth)
    *depth = dot3 (d, cam->toward);
}

void
mm_camera_ray (const MmCamera *cam, double sx, double sy, double origin[3], double dir[3])
{
  double x = (sx - 0.5 * cam->width) / cam->scale, y = -(sy - 0.5 * cam->height) / cam->scale;
  for (int a = 0; a < 3; a++)
    {
      origin[a] = cam->centre[a] + x * cam->right[a] + y * cam->up[a] + 2 * cam->radius * cam->toward[a];
      dir[a] = -cam->toward[a];
    }
}

void
mm_camera_gl_matrix (const MmCamera *cam, float m[16])
{
  /* clip.x = 2 s (d . right) / w, clip.y = 2 s (d . up) / h, clip.z = -(d . toward) / (2 r):
   * nearer is smaller depth, as GL's default LESS test wants. */
  double sx = 2 * cam->scale / MAX (cam->width, 1), sy = 2 * cam->scale / MAX (cam->height, 1);
  double sz = -1.0 / (2 * MAX (cam->radius, 1e-3));
  const double *rows[3] = { cam->right, cam->up, cam->toward };
  double k[3] = { sx, sy, sz };
  memset (m, 0, 16 * sizeof *m);
  for (int r = 0; r < 3; r++)
    {
      for (int c = 0; c < 3; c++)
        m[c * 4 + r] = (float) (k[r] * rows[r][c]);
      m[12 + r] = (float) (-k[r] * dot3 (rows[r], cam->centre));
    }
  m[15] = 1;
}
