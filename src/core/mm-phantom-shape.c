/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The phantom variants' solids: their bounds and signed distances. */
#include "mm-phantom-shape.h"

void
mm_phantom_shape_bounds (Shape *s)
{
  V3 ext;
  switch (s->kind)
    {
    case SH_CONE:
      s->lo = v3 (MIN (s->a.x - s->r1, s->b.x - s->r2), MIN (s->a.y - s->r1, s->b.y - s->r2),
                  MIN (s->a.z - s->r1, s->b.z - s->r2));
      s->hi = v3 (MAX (s->a.x + s->r1, s->b.x + s->r2), MAX (s->a.y + s->r1, s->b.y + s->r2),
                  MAX (s->a.z + s->r1, s->b.z + s->r2));
      return;
    case SH_BOX:
      ext = v3 (0, 0, 0);
      for (int i = 0; i < 3; i++)
        ext = v_add (ext, v3 (fabs (s->e[i].x) * s->h[i], fabs (s->e[i].y) * s->h[i],
                              fabs (s->e[i].z) * s->h[i]));
      break;
    case SH_ELLIPSOID:
      ext = v3 (s->h[0], s->h[1], s->h[2]);
      break;
    case SH_TORUS:
      ext = v3 (s->r1 + s->r2, s->r1 + s->r2, s->r1 + s->r2);
      break;
    case SH_SHELL:
      ext = v3 (s->r2, s->r2, s->r2);
      break;
    default:
      ext = v3 (s->r1, s->r1, s->r1);
      break;
    }
  s->lo = v_sub (s->a, ext);
  s->hi = v_add (s->a, ext);
}

double
mm_phantom_shape_sdf (const Shape *s, V3 p)
{
  V3 d = v_sub (p, s->a);
  switch (s->kind)
    {
    case SH_SPHERE:
      return v_len (d) - s->r1;
    case SH_CONE:
      {
        /* Inigo Quilez's round cone. */
        V3 ba = v_sub (s->b, s->a);
        double l2 = v_dot (ba, ba), rr = s->r1 - s->r2, a2 = l2 - rr * rr, il2 = 1.0 / l2;
        double y = v_dot (d, ba), z = y - l2;
        V3 q = v_sub (v_mul (d, l2), v_mul (ba, y));
        double x2 = v_dot (q, q), y2 = y * y * l2, z2 = z * z * l2;
        double k = (rr > 0 ? 1 : rr < 0 ? -1 : 0) * rr * rr * x2;
        if ((z > 0 ? 1 : z < 0 ? -1 : 0) * a2 * z2 > k)
          return sqrt (x2 + z2) * il2 - s->r2;
        if ((y > 0 ? 1 : y < 0 ? -1 : 0) * a2 * y2 < k)
          return sqrt (x2 + y2) * il2 - s->r1;
        return (sqrt (x2 * a2 * il2) + y * rr) * il2 - s->r1;
      }
    case SH_BOX:
      {
        double out = 0, in = -G_MAXDOUBLE;
        for (int i = 0; i < 3; i++)
          {
            double q = fabs (v_dot (d, s->e[i])) - (s->h[i] - s->r1);
            out += q > 0 ? q * q : 0;
            in = MAX (in, q);
          }
        return sqrt (out) + MIN (in, 0.0) - s->r1;
      }
    case SH_SHELL:
      return MAX (fabs (v_len (d) - 0.5 * (s->r1 + s->r2)) - 0.5 * (s->r2 - s->r1),
                  v_dot (d, s->e[0]));
    case SH_TORUS:
      {
        double ax = v_dot (d, s->e[0]);
        return hypot (sqrt (MAX (v_dot (d, d) - ax * ax, 0.0)) - s->r1, ax) - s->r2;
      }
    case SH_ELLIPSOID:
      {
        double qx = d.x / s->h[0], qy = d.y / s->h[1], qz = d.z / s->h[2];
        return (sqrt (qx * qx + qy * qy + qz * qz) - 1) * MIN (MIN (s->h[0], s->h[1]), s->h[2]);
      }
    }
  g_assert_not_reached ();
}
