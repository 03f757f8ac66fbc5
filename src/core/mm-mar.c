/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-mar.h"

#include "mm-ct-fbp.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

bool
mm_mar_method_from_name (const char *name, MmMarMethod *method)
{
  if (g_strcmp0 (name, "li") == 0)
    *method = MM_MAR_LI;
  else if (g_strcmp0 (name, "nmar") == 0)
    *method = MM_MAR_NMAR;
  else
    return false;
  return true;
}

const char *
mm_mar_method_label (MmMarMethod method)
{
  return method == MM_MAR_LI ? "LI-MAR" : "NMAR";
}

void
mm_mar_params_init (MmMarParams *p)
{
  memset (p, 0, sizeof *p);
  p->method = MM_MAR_NMAR;
  p->n_views = 180;
  p->downsample = 0;
  p->det_scale = 1.0;
  p->dilate = 1;
  p->mu_water = 0.0192;
  p->air_hu = -500;
  p->bone_hu = 300;
  p->smooth_mm = 0;
  p->trace_mm = 0.5;
}

bool
mm_mar_params_check (const MmMarParams *p, GError **error)
{
  const char *why = NULL;
  if (p->method != MM_MAR_LI && p->method != MM_MAR_NMAR)
    why = "unknown method";
  else if (p->n_views < 16 || p->n_views > 4096)
    why = "the number of views must be 16..4096";
  else if (p->downsample < 0 || p->downsample > 4)
    why = "the working grid's downsampling must be 0 (automatic) to 4";
  else if (!(p->det_scale >= 0.25 && p->det_scale <= 4))
    why = "the channel pitch must be 0.25..4 working pixels";
  else if (p->dilate < 0 || p->dilate > 16)
    why = "the metal mask's dilation must be 0..16 pixels";
  else if (!(p->mu_water > 0 && p->mu_water < 1))
    why = "the water attenuation must be between 0 and 1 per mm";
  else if (!(p->air_hu < p->bone_hu) || !isfinite (p->air_hu) || !isfinite (p->bone_hu))
    why = "the prior's air threshold must be below its bone threshold";
  else if (!(p->smooth_mm >= 0 && p->smooth_mm <= 20))
    why = "the prior's smoothing must be 0..20 mm";
  else if (!(p->trace_mm >= 0 && p->trace_mm <= 10))
    why = "the metal trace's least path through metal must be 0..10 mm";
  if (why)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "metal artifact reduction: %s",
                 why);
  return why == NULL;
}

/* The virtual scanner (docs/mar.md): a fan whose source circles at twice the radius R of the
 * circle around the working image (so a 60 degree fan), the detector at twice that, channels
 * det_scale working pixels apart at the isocentre, views over 360 degrees. */
static void
virtual_geometry (const MmMarParams *p, int m, double wpx, MmCtGeometry *g)
{
  double r = 0.5 * m * wpx * G_SQRT2 + wpx;
  memset (g, 0, sizeof *g);
  g->beam = MM_CT_FAN;
  g->n_views = p->n_views;
  g->sid_mm = 2 * r;
  g->sdd_mm = 4 * r;
  g->det_pitch = p->det_scale * wpx / g->sid_mm;
  g->n_det = 2 * (int) ceil (asin (r / g->sid_mm) / g->det_pitch) + 3;
  g->arc_rad = 2 * G_PI;
}

/* Replace every run of trace channels in one view by the straight line between its two
 * neighbours (one neighbour alone: held constant). */
static void
interpolate_view (float *row, const guint8 *trace, int nd)
{
  for (int c = 0; c < nd;)
    {
      if (!trace[c])
        {
          c++;
          continue;
        }
      int c1 = c;
      while (c1 + 1 < nd && trace[c1 + 1])
        c1++;
      int l = c - 1, r = c1 + 1;
      float vl = l >= 0 ? row[l] : (r < nd ? row[r] : 0);
      float vr = r < nd ? row[r] : vl;
      for (int k = c; k <= c1; k++)
        row[k] = vl + (vr - vl) * (float) (k - l) / (float) (r - l);
      c = c1 + 1;
    }
}

/* The one error a slice's working buffers can give. */
static bool
no_memory (GError **error, int nx, int ny)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
               "metal artifact reduction: not enough memory for a %d x %d slice", nx, ny);
  return false;
}

/* Separable Gaussian blur of an m x m image in place; false when out of memory. */
static bool
gaussian (float *img, int m, double sigma_px)
{
  if (sigma_px < 0.3)
    return true;
  /* At most the image's size: a tiny pixel spacing (the reader accepts 0.001 mm) must not
   * make the kernel thousands of pixels wide. */
  int rad = (int) MIN (ceil (3 * sigma_px), (double) m);
  g_autofree float *k = g_try_new (float, 2 * rad + 1);
  g_autofree float *tmp = g_try_new (float, (size_t) m * m);
  if (!k || !tmp)
    return false;
  double sum = 0;
  for (int t = -rad; t <= rad; t++)
    sum += k[t + rad] = (float) exp (-0.5 * t * t / (sigma_px * sigma_px));
  for (int t = 0; t <= 2 * rad; t++)
    k[t] /= (float) sum;
  for (int pass = 0; pass < 2; pass++)
    {
      const float *src = pass == 0 ? img : tmp;
      float *dst = pass == 0 ? tmp : img;
      for (int j = 0; j < m; j++)
        for (int i = 0; i < m; i++)
          {
            double acc = 0;
            for (int t = -rad; t <= rad; t++)
              {
                int a = CLAMP ((pass == 0 ? i : j) + t, 0, m - 1);
                acc += k[t + rad] * (pass == 0 ? src[(size_t) j * m + a] : src[(size_t) a * m + i]);
              }
            dst[(size_t) j * m + i] = (float) acc;
          }
    }
  return true;
}

/* The metal mask grown by d pixels (8-neighbourhood), as 0/1; NULL when out of memory. */
static guint8 *
dilate_mask (const guint8 *metal, int nx, int ny, int d)
{
  guint8 *a = g_try_new (guint8, (size_t) nx * ny);
  g_autofree guint8 *b = g_try_new (guint8, (size_t) nx * ny);
  if (!a || !b)
    {
      g_free (a);
      return NULL;
    }
  for (size_t x = 0; x < (size_t) nx * ny; x++)
    a[x] = metal[x] != 0;
  for (int it = 0; it < d; it++)
    {
      for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++)
          {
            guint8 v = 0;
            for (int dj = -1; dj <= 1 && !v; dj++)
              for (int di = -1; di <= 1 && !v; di++)
                {
                  int ii = i + di, jj = j + dj;
                  v = ii >= 0 && ii < nx && jj >= 0 && jj < ny && a[(size_t) jj * nx + ii];
                }
            b[(size_t) j * nx + i] = v;
          }
      memcpy (a, b, (size_t) nx * ny);
    }
  return a;
}

/* Fills the pixels of hole (nonzero) in an nx x ny image from outside, ring by ring: each
 * hole pixel next to known pixels takes their mean, then counts as known. A smooth guess of
 * the tissue the metal displaced: bone inside bone, soft tissue inside soft tissue. Each ring
 * is a list of pixels (the next ring: the unfilled hole neighbours of this one), so the cost
 * is the hole's area, not the area of the box around it times the hole's depth. False with
 * error if memory runs out. */
static bool
inpaint (float *img, const guint8 *hole, int nx, int ny, GError **error)
{
  size_t np = (size_t) nx * ny, nhole = 0;
  for (size_t x = 0; x < np; x++)
    nhole += hole[x] != 0;
  if (nhole == 0)
    return true;
  /* state: 0 known, 1 hole not yet in a ring, 2 hole in the next ring */
  g_autofree guint8 *state = g_try_new (guint8, np);
  g_autofree guint32 *ring = g_try_new (guint32, nhole);
  g_autofree guint32 *next = g_try_new (guint32, nhole);
  g_autofree float *val = g_try_new (float, nhole);
  if (!state || !ring || !next || !val)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "metal artifact reduction: not enough memory to fill %zu metal pixels", nhole);
      return false;
    }
  size_t nr = 0;
  for (size_t x = 0; x < np; x++)
    state[x] = hole[x] != 0;
  for (int j = 0; j < ny; j++)
    for (int i = 0; i < nx; i++)
      {
        size_t x = (size_t) j * nx + i;
        if (state[x] != 1)
          continue;
        bool edge = false;
        for (int dj = -1; dj <= 1 && !edge; dj++)
          for (int di = -1; di <= 1 && !edge; di++)
            {
              int ii = i + di, jj = j + dj;
              edge = ii >= 0 && ii < nx && jj >= 0 && jj < ny && state[(size_t) jj * nx + ii] == 0;
            }
        if (edge)
          state[x] = 2, ring[nr++] = (guint32) x;
      }
  while (nr > 0)
    {
      /* Every pixel of the ring from the pixels known before it, then all of them known. */
      for (size_t k = 0; k < nr; k++)
        {
          int i = (int) (ring[k] % (guint32) nx), j = (int) (ring[k] / (guint32) nx);
          double sum = 0;
          int cnt = 0;
          for (int dj = -1; dj <= 1; dj++)
            for (int di = -1; di <= 1; di++)
              {
                int ii = i + di, jj = j + dj;
                if (ii >= 0 && ii < nx && jj >= 0 && jj < ny && state[(size_t) jj * nx + ii] == 0)
                  sum += img[(size_t) jj * nx + ii], cnt++;
              }
          val[k] = (float) (sum / MAX (cnt, 1));
        }
      for (size_t k = 0; k < nr; k++)
        img[ring[k]] = val[k], state[ring[k]] = 0;
      size_t nn = 0;
      for (size_t k = 0; k < nr; k++)
        {
          int i = (int) (ring[k] % (guint32) nx), j = (int) (ring[k] / (guint32) nx);
          for (int dj = -1; dj <= 1; dj++)
            for (int di = -1; di <= 1; di++)
              {
                int ii = i + di, jj = j + dj;
                if (ii < 0 || ii >= nx || jj < 0 || jj >= ny)
                  continue;
                size_t y = (size_t) jj * nx + ii;
                if (state[y] == 1)
                  state[y] = 2, next[nn++] = (guint32) y;
              }
        }
      guint32 *t = ring;
      ring = next, next = t, nr = nn;
    }
  return true;
}

/* The smallest box holding every nonzero pixel of an n x n image; false if none. */
static bool
box1 (const float *data, int n, int box[4])
{
  int i0 = n, j0 = n, i1 = -1, j1 = -1;
  for (int j = 0; j < n; j++)
    for (int i = 0; i < n; i++)
      if (data[(size_t) j * n + i] != 0)
        i0 = MIN (i0, i), i1 = MAX (i1, i), j0 = MIN (j0, j), j1 = MAX (j1, j);
  box[0] = i0, box[1] = j0, box[2] = i1, box[3] = j1;
  return i1 >= 0;
}

/* Padding (no tissue, not even air) in the slices scanners write outside their field. */
#define PADDING_HU (-1500.0f)
/* What the metal is projected as: tissue, not the bloom around the metal. */
#define FILL_MIN_HU (-1000.0f)
#define FILL_MAX_HU (1500.0f)
/* The working grid's largest pixel in automatic mode. */
#define WORK_MAX_MM 1.25

bool
mm_mar_slice (const MmMarParams *p, int nx, int ny, double pixel_mm, const float *hu,
              const guint8 *metal, float *out, GError **error)
{
  if (!mm_mar_params_check (p, error))
    return false;
  if (nx < 8 || ny < 8 || nx > MM_CT_MAX_IMAGE || ny > MM_CT_MAX_IMAGE
      || !(pixel_mm > 0 && pixel_mm < 100))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "metal artifact reduction: the slice must be 8..4096 pixels of positive "
                   "size under 100 mm");
      return false;
    }
  size_t np = (size_t) nx * ny;
  bool any = false;
  for (size_t x = 0; x < np && !any; x++)
    any = metal[x] != 0;
  if (!any)
    {
      if (out != hu)
        memcpy (out, hu, np * sizeof (float));
      return true;
    }

  /* Automatic: working pixels of up to 1.25 mm, at least 256 of them across (2 mm pixels
   * lose the fine streaks of small metal: docs/mar.md). */
  int f = p->downsample;
  if (f == 0)
    f = CLAMP (MIN ((int) floor (WORK_MAX_MM / pixel_mm), MAX (nx, ny) / 256), 1, 4);
  const int m = (MAX (nx, ny) + f - 1) / f;
  const double wpx = pixel_mm * f, mu_w = p->mu_water;
  MmCtGeometry g;
  virtual_geometry (p, m, wpx, &g);
  if (!mm_ct_geometry_check (&g, error))
    return false;
  const int nv = g.n_views, nd = g.n_det;
  const double c = 0.5 * (m - 1);
  g_autofree guint8 *grown = dilate_mask (metal, nx, ny, p->dilate);
  if (!grown)
    return no_memory (error, nx, ny);

  /* The working images: img the attenuation, msk the grown metal's area share, each the mean
   * over f x f image pixels (outside the slice: air). */
  g_autofree float *img = g_try_new0 (float, (size_t) m * m * 2);
  float *msk = img ? img + (size_t) m * m : NULL;
  g_autofree float *sino = g_try_new (float, (size_t) nv * nd);
  g_autofree float *p0 = g_try_new (float, (size_t) nv * nd);
  g_autofree float *pc = g_try_new (float, (size_t) nv * nd);
  g_autofree guint8 *trace = g_try_new (guint8, (size_t) nv * nd);
  g_autofree float *corr = g_try_new (float, (size_t) m * m);
  if (!img || !sino || !p0 || !pc || !trace || !corr)
    return no_memory (error, nx, ny);
  /* The grown mask (the metal and the bloom around it) is projected as the tissue around it,
   * inpainted from outside and limited to what tissue reconstructs to: the change
   * reconstructed below then holds no blurred copy of the metal, which would leave a halo
   * where the metal is put back. Outside the metal itself, the grown ring's result is this
   * inpainted tissue plus the change, not the bloom plus the change. */
  g_autofree float *filled = g_try_new (float, np);
  if (!filled)
    return no_memory (error, nx, ny);
  memcpy (filled, hu, np * sizeof (float));
  if (!inpaint (filled, grown, nx, ny, error))
    return false;
  const float share = 1.0f / (float) (f * f);
  for (int j = 0; j < ny; j++)
    for (int i = 0; i < nx; i++)
      {
        size_t x = (size_t) j * nx + i;
        float v = grown[x] ? CLAMP (filled[x], FILL_MIN_HU, FILL_MAX_HU) : hu[x];
        filled[x] = v;
        float mu = v <= PADDING_HU ? 0 : (float) (mu_w * MAX (0.0, 1.0 + v / 1000.0));
        size_t w = (size_t) (j / f) * m + (size_t) (i / f);
        img[w] += mu * share;
        msk[w] += grown[x] ? share : 0;
      }
  /* Two single-value projections: the attenuation over the body's box, the metal over its
   * own small box (the metal trace: every ray through at least trace_mm of it). */
  MmCtImage im = { m, wpx, c, c, img, { 0 } }, mim = { m, wpx, c, c, msk, { 0 } };
  if (!box1 (img, m, im.box) || !box1 (msk, m, mim.box))
    {
      memcpy (out, hu, np * sizeof (float));
      return true;
    }
  if (!mm_ct_project_single (&g, &im, p0) || !mm_ct_project_single (&g, &mim, sino))
    return no_memory (error, nx, ny);
  for (size_t x = 0; x < (size_t) nv * nd; x++)
    {
      pc[x] = p0[x];
      /* A ray that only grazes the grown mask carries little metal error but its share of
         the image's noise: replacing it draws that noise as a fine streak across the image
         (bench/mar-physics: wires 0.64 -> 0.61, fragments 0.64 -> 0.60 of the uncorrected
         ring RMSE with 0.5 mm). */
      trace[x] = sino[x] > (p->trace_mm > 0 ? p->trace_mm : 0);
    }

  if (p->method == MM_MAR_LI)
    for (int v = 0; v < nv; v++)
      interpolate_view (pc + (size_t) v * nd, trace + (size_t) v * nd, nd);
  else
    {
      /* The prior: the LI-MAR image, smoothed, as air, water, or bone kept as it is; the
       * metal's place inpainted from the classes around it (below). */
      for (int v = 0; v < nv; v++)
        interpolate_view (pc + (size_t) v * nd, trace + (size_t) v * nd, nd);
      /* The prior on the working grid itself, reconstructed sharp and not smoothed: a
       * coarser (2 x) grid, a Hann window and a 1.5 mm Gaussian, as the first versions had,
       * blurred bone edges into the soft-tissue class and left NMAR 1 to 10 % behind LI
       * around large implants (docs/mar.md). */
      if (!mm_ct_fbp (&g, pc, MM_CT_WINDOW_SHEPP_LOGAN, m, wpx, c, c, 0, corr, error))
        return false;
      if (!gaussian (corr, m, p->smooth_mm / wpx))
        return no_memory (error, nx, ny);
      float air = (float) (mu_w * (1 + p->air_hu / 1000)), bone = (float) (mu_w * (1 + p->bone_hu / 1000));
      g_autofree guint8 *hole = g_try_new0 (guint8, (size_t) m * m);
      if (!hole)
        return no_memory (error, nx, ny);
      for (size_t x = 0; x < (size_t) m * m; x++)
        {
          float v = corr[x];
          corr[x] = v < air ? 0 : v < bone ? (float) mu_w : v;
        }
      /* The hole is the metal as given, not the grown mask: the bloom ring keeps the class
       * the LI image has there (with the grown mask as the hole, NMAR stayed 1.3 % behind LI
       * around the nail; bench/mar-physics). */
      for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++)
          if (metal[(size_t) j * nx + i])
            hole[(size_t) (j / f) * m + (size_t) (i / f)] = 1;
      /* The metal's place takes the class around it (Meyer et al. put soft tissue there;
       * a screw in bone is then drawn as a hole of water in the bone). */
      if (!inpaint (corr, hole, m, m, error))
        return false;
      MmCtImage pim = { m, wpx, c, c, corr, { 0, 0, m - 1, m - 1 } };
      if (!box1 (corr, m, pim.box))
        pim.box[0] = pim.box[1] = 0, pim.box[2] = pim.box[3] = m - 1;
      if (!mm_ct_project_single (&g, &pim, sino))
        return no_memory (error, nx, ny);

      /* Normalise by the prior's projection, shifted by one water pixel so that rays through
       * air (both near zero) stay finite; interpolate; undo. */
      const float delta = (float) (mu_w * wpx);
      for (int v = 0; v < nv; v++)
        {
          float *row = pc + (size_t) v * nd;
          const float *pr = sino + (size_t) v * nd;
          for (int ch = 0; ch < nd; ch++)
            row[ch] = (p0[(size_t) v * nd + ch] + delta) / (MAX (pr[ch], 0) + delta);
          interpolate_view (row, trace + (size_t) v * nd, nd);
          for (int ch = 0; ch < nd; ch++)
            row[ch] = row[ch] * (MAX (pr[ch], 0) + delta) - delta;
        }
    }

  /* Reconstruct only the change, so that the slice keeps its own resolution and noise away
   * from the metal's rays; it is added to the slice with its metal filled as projected. */
  for (size_t x = 0; x < (size_t) nv * nd; x++)
    pc[x] = trace[x] ? pc[x] - p0[x] : 0;
  /* The change is a set of lines along the trace rays. On a working grid finer than a body
   * kernel resolves (< 1.25 mm), a Shepp-Logan window draws the noise of the replaced rays
   * as fine streaks; a Hann window keeps them to the scan's resolution (physics fragments:
   * 0.73 -> 0.64 of the uncorrected ring RMSE at 0.976 mm). On coarser grids the Hann
   * window blurs the correction itself (tests/ct/test_mar.py's screws at 1.6 mm: 0.47 ->
   * 0.54). */
  MmCtWindow cwin = wpx < WORK_MAX_MM ? MM_CT_WINDOW_HANN : MM_CT_WINDOW_SHEPP_LOGAN;
  if (!mm_ct_fbp (&g, pc, cwin, m, wpx, c, c, 0, corr, error))
    return false;

  const double to_hu = 1000.0 / mu_w;
  for (int j = 0; j < ny; j++)
    {
      /* Image pixel centre in working pixels, for bilinear interpolation of the change. */
      double y = (j + 0.5) / f - 0.5;
      int j0 = CLAMP ((int) floor (y), 0, m - 2);
      double fy = CLAMP (y - j0, 0.0, 1.0);
      for (int i = 0; i < nx; i++)
        {
          size_t x = (size_t) j * nx + i;
          float v = hu[x];
          if (metal[x] || v <= PADDING_HU)
            {
              out[x] = v;
              continue;
            }
          double xx = (i + 0.5) / f - 0.5;
          int i0 = CLAMP ((int) floor (xx), 0, m - 2);
          double fx = CLAMP (xx - i0, 0.0, 1.0);
          const float *r0 = corr + (size_t) j0 * m + i0, *r1 = r0 + m;
          double d = (1 - fy) * ((1 - fx) * r0[0] + fx * r0[1]) + fy * ((1 - fx) * r1[0] + fx * r1[1]);
          out[x] = (float) MAX (-1024.0, filled[x] + d * to_hu);
        }
    }
  return true;
}

bool
mm_mar_volume (const MmMarParams *p, const MmVolume *vol, const MmMask *metal,
               void *out_voxels, int n_threads, MmMarProgressFunc progress, gpointer user_data,
               GError **error)
{
  g_return_val_if_fail (p && vol && metal && out_voxels, false);
  if (!mm_mar_params_check (p, error))
    return false;
  const int nx = vol->dims[0], ny = vol->dims[1], nz = vol->dims[2];
  if (metal->dims[0] != nx || metal->dims[1] != ny || metal->dims[2] != nz)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "metal artifact reduction: the metal mask is %d x %d x %d voxels, the "
                   "series %d x %d x %d",
                   metal->dims[0], metal->dims[1], metal->dims[2], nx, ny, nz);
      return false;
    }
  double sx = vol->spacing[0], sy = vol->spacing[1];
  if (!(sx > 0 && sy > 0) || fabs (sx - sy) > 0.01 * MAX (sx, sy))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "metal artifact reduction needs square pixels; this series has %g x %g mm",
                   sx, sy);
      return false;
    }
  if (nx < 8 || ny < 8 || nx > MM_CT_MAX_IMAGE || ny > MM_CT_MAX_IMAGE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "metal artifact reduction: slices of %d x %d pixels are out of range "
                   "(8..4096)", nx, ny);
      return false;
    }
  const size_t np = (size_t) nx * ny;
  const bool i16 = vol->type == MM_VOXEL_INT16;
  int done = 0;
  gint stop = 0;
  GError *first = NULL;
  int nt = n_threads > 0 ? n_threads : 1;
#ifdef _OPENMP
  if (n_threads <= 0)
    nt = omp_get_max_threads ();
#endif

#pragma omp parallel num_threads (nt)
  {
    float *in = g_try_new (float, np), *res = g_try_new (float, np);
#pragma omp for schedule (dynamic, 1)
    for (int k = 0; k < nz; k++)
      {
        if (g_atomic_int_get (&stop))
          continue;
        GError *err = NULL;
        bool ok = in && res;
        if (!ok)
          g_set_error (&err, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                       "metal artifact reduction: not enough memory for slice %d", k);
        else
          {
            for (size_t x = 0; x < np; x++)
              in[x] = i16 ? ((const gint16 *) vol->voxels)[(size_t) k * np + x]
                          : ((const float *) vol->voxels)[(size_t) k * np + x];
            ok = mm_mar_slice (p, nx, ny, sx, in, mm_mask_slice (metal, k), res, &err);
          }
        if (ok)
          {
            if (i16)
              for (size_t x = 0; x < np; x++)
                ((gint16 *) out_voxels)[(size_t) k * np + x]
                    = (gint16) CLAMP (lrintf (res[x]), G_MININT16, G_MAXINT16);
            else
              memcpy ((float *) out_voxels + (size_t) k * np, res, np * sizeof (float));
          }
#pragma omp critical (mm_mar_progress)
        {
          if (!ok)
            {
              if (first == NULL)
                first = err;
              else
                g_error_free (err);
              g_atomic_int_set (&stop, 1);
            }
          else
            {
              done++;
              if (progress && !progress (done, nz, user_data))
                g_atomic_int_set (&stop, 1);
            }
        }
      }
    g_free (in);
    g_free (res);
  }
  if (first)
    {
      g_propagate_error (error, first);
      return false;
    }
  if (stop)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "metal artifact reduction cancelled");
      return false;
    }
  return true;
}
