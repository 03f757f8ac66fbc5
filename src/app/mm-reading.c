/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmReading: slab and oblique state of a window; MmReadingImage: a view's image of it. */
#include "mm-reading.h"
#include "mm-reslice-slab.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

struct _MmReading
{
  GObject parent_instance;

  int slab_mode; /* MM_READING_SLAB_OFF or MmSlabMode */
  double thickness;
  bool oblique;
  double right[3][3], down[3][3]; /* per plane, LPS; valid while oblique */
  double centre[3];               /* LPS, continuous; valid while oblique */
  bool moving;                    /* the cursor is being set from centre */
  /* The mask's box, computed once per edit (a full scan) for mm_reslice_mask_in. */
  const MmMask *bounds_mask;
  bool bounds_valid, bounds_any;
  int bmin[3], bmax[3];
};

G_DEFINE_FINAL_TYPE (MmReading, mm_reading, G_TYPE_OBJECT)

enum
{
  CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
mm_reading_class_init (MmReadingClass *klass)
{
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
mm_reading_init (MmReading *self)
{
  self->slab_mode = MM_READING_SLAB_OFF;
  self->thickness = 10;
}

MmReading *
mm_reading_new (void)
{
  return g_object_new (MM_TYPE_READING, NULL);
}

static void
changed (MmReading *self)
{
  g_signal_emit (self, signals[CHANGED], 0);
}

void
mm_reading_set_slab (MmReading *self, int mode, double thickness_mm)
{
  g_return_if_fail (MM_IS_READING (self));
  if (mode < MM_READING_SLAB_OFF || mode > MM_SLAB_MEAN)
    mode = MM_READING_SLAB_OFF;
  thickness_mm = isfinite (thickness_mm) ? CLAMP (thickness_mm, 0.1, 500.0) : 10;
  if (mode == self->slab_mode && thickness_mm == self->thickness)
    return;
  self->slab_mode = mode;
  self->thickness = thickness_mm;
  changed (self);
}

int
mm_reading_get_slab_mode (MmReading *self)
{
  return self->slab_mode;
}

double
mm_reading_get_slab_thickness (MmReading *self)
{
  return self->thickness;
}

char *
mm_reading_dup_slab_text (MmReading *self)
{
  const char *name = NULL;
  switch (self->slab_mode)
    {
    case MM_SLAB_MIP:
      name = _("MIP");
      break;
    case MM_SLAB_MINIP:
      name = _("MinIP");
      break;
    case MM_SLAB_MEAN:
      name = _("Average");
      break;
    default:
      return NULL;
    }
  return g_strdup_printf ("%s %g mm", name, self->thickness);
}

bool
mm_reading_is_active (MmReading *self)
{
  return self->oblique || self->slab_mode != MM_READING_SLAB_OFF;
}

bool
mm_reading_is_oblique (MmReading *self)
{
  return self->oblique;
}

bool
mm_reading_plane_is_turned (MmReading *self, MmViewer *viewer, MmPlane plane)
{
  const MmVolume *vol = mm_viewer_get_volume (viewer);
  if (!self->oblique || vol == NULL)
    return false;
  double r[3], d[3];
  mm_plane_screen_axes (vol, plane, r, d);
  for (int a = 0; a < 3; a++)
    if (fabs (r[a] - self->right[plane][a]) > 1e-9 || fabs (d[a] - self->down[plane][a]) > 1e-9)
      return true;
  return false;
}

void
mm_reading_reset_oblique (MmReading *self)
{
  if (!self->oblique)
    return;
  self->oblique = false;
  changed (self);
}

static void
cross3 (const double a[3], const double b[3], double c[3])
{
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

static double
dot3 (const double a[3], const double b[3])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void
cursor_lps (MmViewer *viewer, double lps[3])
{
  int ijk[3];
  mm_viewer_get_cursor (viewer, ijk);
  mm_volume_index_to_lps (mm_viewer_get_volume (viewer), ijk[0], ijk[1], ijk[2], lps);
}

/* Start the oblique frame from the standard planes through the cursor. */
static void
start_oblique (MmReading *self, MmViewer *viewer)
{
  const MmVolume *vol = mm_viewer_get_volume (viewer);
  for (int p = 0; p < 3; p++)
    mm_plane_screen_axes (vol, p, self->right[p], self->down[p]);
  cursor_lps (viewer, self->centre);
  self->oblique = true;
}

static void
axes (MmReading *self, MmViewer *viewer, MmPlane plane, double right[3], double down[3])
{
  if (self->oblique)
    {
      memcpy (right, self->right[plane], sizeof self->right[plane]);
      memcpy (down, self->down[plane], sizeof self->down[plane]);
    }
  else
    mm_plane_screen_axes (mm_viewer_get_volume (viewer), plane, right, down);
}

void
mm_reading_rotate (MmReading *self, MmViewer *viewer, MmPlane about, double angle)
{
  g_return_if_fail (MM_IS_READING (self));
  if (mm_viewer_get_volume (viewer) == NULL || !isfinite (angle) || angle == 0)
    return;
  if (!self->oblique)
    start_oblique (self, viewer);
  double n[3];
  cross3 (self->right[about], self->down[about], n);
  for (int q = 0; q < 3; q++)
    {
      if (q == (int) about)
        continue;
      MmReslicePlane p = { .width = 1, .height = 1, .pixel_w = 1, .pixel_h = 1 };
      memcpy (p.right, self->right[q], sizeof p.right);
      memcpy (p.down, self->down[q], sizeof p.down);
      mm_reslice_plane_rotate (&p, n, angle);
      memcpy (self->right[q], p.right, sizeof p.right);
      memcpy (self->down[q], p.down, sizeof p.down);
    }
  changed (self);
}

void
mm_reading_get_geometry (MmReading *self, MmViewer *viewer, MmPlane plane, MmPlaneGeometry *g)
{
  const MmVolume *vol = mm_viewer_get_volume (viewer);
  mm_plane_geometry (vol, plane, g);
  if (!self->oblique)
    return;
  /* Square pixels of the smaller spacing, over the whole volume as projected onto the turned
   * plane (the standard plane's extent would cut its corners). The plane's centre differs
   * from the volume's only along the normal, so the projections are the same from either. */
  double pix = MIN (g->pixel_w, g->pixel_h);
  MmReslicePlane p;
  memcpy (p.right, self->right[plane], sizeof p.right);
  memcpy (p.down, self->down[plane], sizeof p.down);
  mm_volume_index_to_lps (vol, (vol->dims[0] - 1) / 2.0, (vol->dims[1] - 1) / 2.0,
                          (vol->dims[2] - 1) / 2.0, p.centre_lps);
  mm_reslice_plane_cover (&p, vol, pix);
  g->width = p.width;
  g->height = p.height;
  g->pixel_w = g->pixel_h = pix;
  g->depth = 1;
}

void
mm_reading_fit_viewport (MmReading *self, MmViewer *viewer, MmPlane plane, int w, int h,
                         MmViewport *vp)
{
  MmPlaneGeometry g;
  mm_reading_get_geometry (self, viewer, plane, &g);
  if (!self->oblique)
    {
      mm_viewport_fit (&g, w, h, vp);
      return;
    }
  /* The scale that fits the standard plane, so the zoom does not change while a handle is
   * dragged (the covering plane grows and shrinks with the angle); both images are centred
   * on the same point, so the larger one is shifted by half the difference. */
  MmPlaneGeometry s;
  mm_plane_geometry (mm_viewer_get_volume (viewer), plane, &s);
  mm_viewport_fit (&s, w, h, vp);
  vp->origin_x += 0.5 * (s.width * s.pixel_w - g.width * g.pixel_w) * vp->scale;
  vp->origin_y += 0.5 * (s.height * s.pixel_h - g.height * g.pixel_h) * vp->scale;
}

void
mm_reading_get_plane (MmReading *self, MmViewer *viewer, MmPlane plane, MmReslicePlane *p)
{
  const MmVolume *vol = mm_viewer_get_volume (viewer);
  if (!self->oblique)
    {
      mm_reslice_plane_init_standard (p, vol, plane, mm_viewer_get_depth (viewer, plane));
      return;
    }
  MmPlaneGeometry g;
  mm_reading_get_geometry (self, viewer, plane, &g);
  double vc[3], n[3];
  mm_volume_index_to_lps (vol, (vol->dims[0] - 1) / 2.0, (vol->dims[1] - 1) / 2.0,
                          (vol->dims[2] - 1) / 2.0, vc);
  memcpy (p->right, self->right[plane], sizeof p->right);
  memcpy (p->down, self->down[plane], sizeof p->down);
  cross3 (p->right, p->down, n);
  /* The volume's centre, moved along the normal to the crosshair: the image stays in its
   * place on screen while the crosshair moves in the plane. */
  double d[3] = { self->centre[0] - vc[0], self->centre[1] - vc[1], self->centre[2] - vc[2] };
  double along = dot3 (d, n);
  for (int a = 0; a < 3; a++)
    p->centre_lps[a] = vc[a] + along * n[a];
  p->width = g.width;
  p->height = g.height;
  p->pixel_w = g.pixel_w;
  p->pixel_h = g.pixel_h;
}

void
mm_reading_centre_in_plane (MmReading *self, MmViewer *viewer, MmPlane plane, double *x,
                            double *y)
{
  MmReslicePlane p;
  mm_reading_get_plane (self, viewer, plane, &p);
  double c[3];
  if (self->oblique)
    memcpy (c, self->centre, sizeof c);
  else
    cursor_lps (viewer, c);
  double d[3] = { c[0] - p.centre_lps[0], c[1] - p.centre_lps[1], c[2] - p.centre_lps[2] };
  *x = dot3 (d, p.right) / p.pixel_w + (p.width - 1) / 2.0 + 0.5;
  *y = dot3 (d, p.down) / p.pixel_h + (p.height - 1) / 2.0 + 0.5;
}

void
mm_reading_cut_lines (MmReading *self, MmViewer *viewer, MmPlane plane, double dirs[2][2])
{
  double r[3], dn[3], n[3];
  axes (self, viewer, plane, r, dn);
  cross3 (r, dn, n);
  int k = 0;
  for (int q = 0; q < 3; q++)
    {
      if (q == (int) plane)
        continue;
      double rq[3], dq[3], nq[3], l[3];
      axes (self, viewer, q, rq, dq);
      cross3 (rq, dq, nq);
      cross3 (n, nq, l);
      double x = dot3 (l, r), y = dot3 (l, dn), len = hypot (x, y);
      dirs[k][0] = len > 0 ? x / len : 1;
      dirs[k][1] = len > 0 ? y / len : 0;
      k++;
    }
}

static void
set_cursor_from_centre (MmReading *self, MmViewer *viewer)
{
  const MmVolume *vol = mm_viewer_get_volume (viewer);
  double ijk[3];
  mm_volume_lps_to_index (vol, self->centre, ijk);
  int c[3];
  for (int a = 0; a < 3; a++)
    c[a] = (int) CLAMP (floor (ijk[a] + 0.5), 0, vol->dims[a] - 1);
  self->moving = true;
  mm_viewer_set_cursor (viewer, c);
  self->moving = false;
}

void
mm_reading_step (MmReading *self, MmViewer *viewer, MmPlane plane, int delta)
{
  const MmVolume *vol = mm_viewer_get_volume (viewer);
  if (vol == NULL || !self->oblique)
    return;
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  /* The spacing along the standard plane's normal: one slice, as in a standard plane. */
  int a[3], b[3];
  double pa[3], pb[3], n[3];
  mm_plane_to_index (vol, plane, 0, 0, 0, a);
  mm_plane_to_index (vol, plane, 0, 0, MIN (1, g.depth - 1), b);
  mm_volume_index_to_lps (vol, a[0], a[1], a[2], pa);
  mm_volume_index_to_lps (vol, b[0], b[1], b[2], pb);
  double s = sqrt ((pb[0] - pa[0]) * (pb[0] - pa[0]) + (pb[1] - pa[1]) * (pb[1] - pa[1])
                   + (pb[2] - pa[2]) * (pb[2] - pa[2]));
  cross3 (self->right[plane], self->down[plane], n);
  double lps[3];
  for (int k = 0; k < 3; k++)
    lps[k] = self->centre[k] + delta * (s > 0 ? s : 1) * n[k];
  mm_reading_move_to (self, viewer, lps);
}

void
mm_reading_move_to (MmReading *self, MmViewer *viewer, const double lps[3])
{
  const MmVolume *vol = mm_viewer_get_volume (viewer);
  if (vol == NULL)
    return;
  if (!self->oblique)
    {
      double ijk[3];
      int c[3];
      mm_volume_lps_to_index (vol, lps, ijk);
      for (int a = 0; a < 3; a++)
        c[a] = (int) CLAMP (floor (ijk[a] + 0.5), 0, vol->dims[a] - 1);
      mm_viewer_set_cursor (viewer, c);
      return;
    }
  /* Kept inside the box of voxel centres. */
  double ijk[3];
  mm_volume_lps_to_index (vol, lps, ijk);
  for (int a = 0; a < 3; a++)
    ijk[a] = CLAMP (ijk[a], 0, vol->dims[a] - 1);
  mm_volume_index_to_lps (vol, ijk[0], ijk[1], ijk[2], self->centre);
  set_cursor_from_centre (self, viewer);
  changed (self);
}

void
mm_reading_move_to_pixel (MmReading *self, MmViewer *viewer, MmPlane plane, double x, double y)
{
  MmReslicePlane p;
  double lps[3];
  mm_reading_get_plane (self, viewer, plane, &p);
  mm_reslice_pixel_to_lps (&p, x, y, lps);
  mm_reading_move_to (self, viewer, lps);
}

void
mm_reading_cursor_changed (MmReading *self, MmViewer *viewer)
{
  if (self->moving || !self->oblique || mm_viewer_get_volume (viewer) == NULL)
    return;
  cursor_lps (viewer, self->centre);
  changed (self);
}

void
mm_reading_mask_changed (MmReading *self)
{
  self->bounds_valid = false;
}

static bool
mask_bounds (MmReading *self, const MmMask *mask, int bmin[3], int bmax[3])
{
  if (!self->bounds_valid || self->bounds_mask != mask)
    {
      self->bounds_any = mm_reslice_mask_bounds (mask, self->bmin, self->bmax);
      self->bounds_mask = mask;
      self->bounds_valid = true;
    }
  memcpy (bmin, self->bmin, sizeof self->bmin);
  memcpy (bmax, self->bmax, sizeof self->bmax);
  return self->bounds_any;
}

/* ---- a view's image ---- */

struct _MmReadingImage
{
  MmVolume *image;
  MmReslicePlane plane;
  uint8_t *mask_pixels;
  MmMask mask_view; /* dims of the image, data = mask_pixels */
  float *scratch;
  /* What the image's values were computed from: a redraw for anything else (the pointer over
   * the handles, the window) does not compute them again. */
  bool valid;
  int mode, depth;
  double thickness;
};

MmReadingImage *
mm_reading_image_new (void)
{
  return g_new0 (MmReadingImage, 1);
}

void
mm_reading_image_free (MmReadingImage *img)
{
  if (img == NULL)
    return;
  g_clear_pointer (&img->image, mm_volume_free);
  g_free (img->mask_pixels);
  g_free (img->scratch);
  g_free (img);
}

void
mm_reading_image_invalidate (MmReadingImage *img)
{
  img->valid = false;
}

bool
mm_reading_image_probe (MmReadingImage *img, const MmVolume *vol, int u, int v, double *hu,
                        double lps[3], int ijk[3])
{
  const MmVolume *im = img->image;
  if (im == NULL || u < 0 || v < 0 || u >= im->dims[0] || v >= im->dims[1])
    return false;
  /* What the view shows there: the slab's or the turned plane's value, at the pixel's own
   * LPS; the voxel is the nearest one. */
  double f[3];
  *hu = mm_volume_get (im, u, v, 0);
  mm_volume_index_to_lps (im, u, v, 0, lps);
  mm_volume_lps_to_index (vol, lps, f);
  for (int a = 0; a < 3; a++)
    ijk[a] = (int) floor (f[a] + 0.5);
  return true;
}

const MmVolume *
mm_reading_image_get (MmReadingImage *img, MmReslicePlane *p)
{
  if (p && img->image)
    *p = img->plane;
  return img->image;
}

const MmVolume *
mm_reading_image_update (MmReadingImage *img, MmReading *reading, MmViewer *viewer,
                         MmPlane plane, MmRenderStyle *style)
{
  const MmVolume *vol = mm_viewer_get_volume (viewer);
  if (vol == NULL || !mm_reading_is_active (reading))
    {
      g_clear_pointer (&img->image, mm_volume_free);
      return NULL;
    }
  MmReslicePlane p;
  mm_reading_get_plane (reading, viewer, plane, &p);
  if (img->image == NULL || memcmp (&p, &img->plane, sizeof p) != 0)
    {
      bool same_size = img->image && p.width == img->plane.width && p.height == img->plane.height;
      img->valid = false;
      g_clear_pointer (&img->image, mm_volume_free);
      img->image = mm_reslice_image_new (vol, &p);
      if (img->image == NULL)
        return NULL;
      if (!same_size)
        {
          size_t n = (size_t) p.width * p.height;
          img->mask_pixels = g_realloc (img->mask_pixels, n);
          img->scratch = g_realloc (img->scratch, n * sizeof (float));
        }
      img->plane = p;
    }
  float *out = img->image->voxels;
  int mode = reading->slab_mode, depth = mm_viewer_get_depth (viewer, plane);
  bool fresh = img->valid && img->mode == mode && img->thickness == reading->thickness
               && img->depth == depth;
  if (!fresh && !reading->oblique && mode != MM_READING_SLAB_OFF)
    mm_slab_compute (vol, plane, depth, reading->thickness, mode, out, 0);
  else if (!fresh && mode != MM_READING_SLAB_OFF)
    mm_reslice_slab (vol, &p, reading->thickness, 0, mode, -1024, out, img->scratch, 0);
  else if (!fresh)
    mm_reslice_volume (vol, &p, -1024, out, 0);
  img->valid = true;
  img->mode = mode;
  img->thickness = reading->thickness;
  img->depth = depth;
  /* The mask on the same pixels: of the plane itself (a slab's middle), nearest voxel. */
  if (style->mask != NULL)
    {
      int bmin[3], bmax[3];
      if (mask_bounds (reading, style->mask, bmin, bmax))
        mm_reslice_mask_in (vol, style->mask, bmin, bmax, &p, img->mask_pixels, 0);
      else
        memset (img->mask_pixels, 0, (size_t) p.width * p.height);
      img->mask_view.dims[0] = p.width;
      img->mask_view.dims[1] = p.height;
      img->mask_view.dims[2] = 1;
      img->mask_view.data = img->mask_pixels;
      style->mask = &img->mask_view;
    }
  return img->image;
}
