/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Oblique planes (MPR): a plane through the volume in any direction, sampled with trilinear
 * interpolation into an image of square pixels; the mask sampled nearest-neighbour on the
 * same pixels; where each pixel lies (LPS, voxel) and the orientation letters of its edges. */
#pragma once

#include "mm-render.h"

G_BEGIN_DECLS

/* Output pixel (x, y), 0-based, has its centre at
 *   centre_lps + (x - (width - 1) / 2) * pixel_w * right + (y - (height - 1) / 2) * pixel_h * down
 * so the image is centred on centre_lps. right and down are unit LPS vectors, orthogonal.
 * An oblique plane has square pixels (pixel_w = pixel_h); a standard plane keeps the
 * volume's spacings. */
typedef struct
{
  double centre_lps[3];
  double right[3], down[3];
  int width, height;
  double pixel_w, pixel_h;
} MmReslicePlane;

/* The orientation of a standard plane (its screen axes from mm_plane_screen_axes) through the
 * centre of voxel centre_ijk (continuous indices), width x height square pixels of pixel_mm:
 * the start of an oblique plane. */
void mm_reslice_plane_init (MmReslicePlane *p, const MmVolume *vol, MmPlane plane,
                            const double centre_ijk[3], int width, int height, double pixel_mm);

/* Exactly the grid of the standard plane at depth (mm_plane_geometry, mm_plane_to_index):
 * pixel (u, v) lies on the centre of the voxel the renderer shows there (on a regular grid),
 * so measurements on standard and oblique planes go through one code path. */
void mm_reslice_plane_init_standard (MmReslicePlane *p, const MmVolume *vol, MmPlane plane,
                                     int depth);

/* Size p (right, down and centre kept) so that its pixels of pixel_mm cover the whole box of
 * vol's voxel centres as projected onto the plane: each of the box's 8 corners, projected on
 * right and down, lies within half a pixel of the outermost pixel centres. A turned plane of
 * the standard plane's size cuts the volume's corners; this one shows all of it. Each side is
 * odd (symmetric about centre_lps) and at most MM_LIMIT_IMAGE_SIDE. */
void mm_reslice_plane_cover (MmReslicePlane *p, const MmVolume *vol, double pixel_mm);

/* Turn right and down by angle (radians, right-handed) about the unit LPS axis; the centre
 * stays. Then re-orthonormalised, so that many small turns do not drift. */
void mm_reslice_plane_rotate (MmReslicePlane *p, const double axis[3], double angle);

/* Make right and down unit and orthogonal (Gram-Schmidt, right kept); false (p unchanged)
 * when they are zero, not finite or parallel. */
bool mm_reslice_plane_normalise (MmReslicePlane *p);

/* The plane's normal, right x down (into the screen). */
void mm_reslice_plane_normal (const MmReslicePlane *p, double n[3]);

/* LPS (mm) of the continuous output position (x, y): pixel x spans [x, x + 1), its centre at
 * x + 0.5, as mm_viewport_to_plane counts. */
void mm_reslice_pixel_to_lps (const MmReslicePlane *p, double x, double y, double lps[3]);

/* Continuous voxel indices of the same position (mm_volume_lps_to_index). */
void mm_reslice_pixel_to_index (const MmReslicePlane *p, const MmVolume *vol, double x,
                                double y, double ijk[3]);

/* Orientation letters of the four edges' directions (left = -right, top = -down), as
 * mm_direction_letters gives them. */
void mm_reslice_plane_letters (const MmReslicePlane *p, char left[4], char right[4],
                               char top[4], char bottom[4]);

/* A one-slice float volume on the plane's pixels, voxels allocated but not filled: fill them
 * with mm_reslice_volume (vol, p, outside, image->voxels, ...), then draw it with
 * mm_renderer_draw (..., image, MM_PLANE_AXIAL, 0, ...) like any series; its geometry (row =
 * right, column = down, spacing = the pixel) makes mm_volume_index_to_lps (image, u, v, 0) the
 * LPS of pixel (u, v) for the readout. unit is copied from vol. NULL without memory. */
MmVolume *mm_reslice_image_new (const MmVolume *vol, const MmReslicePlane *p);

/* HU at continuous voxel index ijk, trilinear: inside when every index lies in
 * [0, dims - 1] (the box of voxel centres; a single slice takes k = 0 only) give or take a
 * millionth of a voxel (so that a standard plane's edge pixels, which lie on the box's faces,
 * survive rounding), else outside. */
double mm_reslice_sample (const MmVolume *vol, const double ijk[3], double outside);

/* Sample the plane into out (width x height floats, row y at out + y * width) with trilinear
 * interpolation; pixels outside the box of voxel centres get outside. n_threads <= 0:
 * automatic (one thread up to 512 x 512 pixels, where a team does not pay on a loaded
 * machine; OpenMP's default above). Uses the regular grid of mm_volume_lps_to_index (mean
 * slice spacing). */
void mm_reslice_volume (const MmVolume *vol, const MmReslicePlane *p, float outside, float *out,
                        int n_threads);

/* The mask on the same pixels, nearest-neighbour (the voxel whose cell holds the pixel's
 * centre: index rounded half up), 0 outside the volume. mask is on vol's grid. */
void mm_reslice_mask (const MmVolume *vol, const MmMask *mask, const MmReslicePlane *p,
                      uint8_t *out, int n_threads);

/* The box of mask's nonzero voxels, inclusive; false when it has none. A full scan: a
 * viewer computes it once per edit, not per frame. */
bool mm_reslice_mask_bounds (const MmMask *mask, int bmin[3], int bmax[3]);

/* mm_reslice_mask when every nonzero voxel lies in bmin..bmax (inclusive, from
 * mm_reslice_mask_bounds): the same image, but only the pixels whose voxel lies in the box are
 * looked up, so a small implant costs next to nothing on a large plane. */
void mm_reslice_mask_in (const MmVolume *vol, const MmMask *mask, const int bmin[3],
                         const int bmax[3], const MmReslicePlane *p, uint8_t *out,
                         int n_threads);

G_END_DECLS
