/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmReading: the reading state a window's views share: the slab (mode, thickness) and the
 * oblique frame (the three planes' directions and the crosshair's continuous centre), and
 * MmReadingImage, the per-view image the core computes from it (mm-slab, mm-reslice,
 * mm-reslice-slab). Slab and rotation are global, like the window/level: one MIP setting
 * surveys metal in all three planes at once, and the three oblique planes stay orthogonal. */
#pragma once

#include "mm-reslice.h"
#include "mm-slab.h"
#include "mm-viewer.h"

G_BEGIN_DECLS

#define MM_READING_SLAB_OFF (-1)

#define MM_TYPE_READING (mm_reading_get_type ())
G_DECLARE_FINAL_TYPE (MmReading, mm_reading, MM, READING, GObject)

MmReading *mm_reading_new (void);

/* mode: MM_READING_SLAB_OFF or an MmSlabMode; thickness in mm (clamped to 0.1..500). */
void mm_reading_set_slab (MmReading *self, int mode, double thickness_mm);
int mm_reading_get_slab_mode (MmReading *self);
double mm_reading_get_slab_thickness (MmReading *self);
/* "MIP 30 mm" for the view's label, NULL when off (owned). */
char *mm_reading_dup_slab_text (MmReading *self);

/* Whether the views show anything other than the stored voxels of a standard plane. */
bool mm_reading_is_active (MmReading *self);
bool mm_reading_is_oblique (MmReading *self);
/* Whether plane's directions differ from the standard plane's (the label says "oblique"). */
bool mm_reading_plane_is_turned (MmReading *self, MmViewer *viewer, MmPlane plane);
/* Back to the standard planes (a new series does this too). */
void mm_reading_reset_oblique (MmReading *self);

/* Turn the two planes other than about by angle (radians) about about's normal: what a drag
 * on a crosshair handle in view about does. The first turn starts from the viewer's cursor. */
void mm_reading_rotate (MmReading *self, MmViewer *viewer, MmPlane about, double angle);

/* The plane view plane shows (standard: its grid at the viewer's depth; oblique: square
 * pixels of the standard plane's smaller spacing over the volume's projected extent, centred
 * on the volume's centre moved along the normal to the crosshair). */
void mm_reading_get_plane (MmReading *self, MmViewer *viewer, MmPlane plane, MmReslicePlane *p);
/* Size and pixel of that plane (mm_plane_geometry of a standard plane; a turned one covers
 * the whole volume projected onto it, mm_reslice_plane_cover). */
void mm_reading_get_geometry (MmReading *self, MmViewer *viewer, MmPlane plane,
                              MmPlaneGeometry *g);
/* The viewport that fits view plane into w x h before zoom and pan: a turned plane at the
 * scale of the standard plane's fit, centred where that one is. */
void mm_reading_fit_viewport (MmReading *self, MmViewer *viewer, MmPlane plane, int w, int h,
                              MmViewport *vp);
/* The crosshair centre in the plane's continuous pixel coordinates (oblique only). */
void mm_reading_centre_in_plane (MmReading *self, MmViewer *viewer, MmPlane plane, double *x,
                                 double *y);
/* Directions (screen x, y; unit) of the crosshair lines in view plane: where the two other
 * planes cut it. */
void mm_reading_cut_lines (MmReading *self, MmViewer *viewer, MmPlane plane, double dirs[2][2]);

/* Oblique: move the crosshair centre by delta slices along plane's normal (the standard
 * plane's spacing), or to an LPS point; the viewer's cursor follows to the nearest voxel. */
void mm_reading_step (MmReading *self, MmViewer *viewer, MmPlane plane, int delta);
void mm_reading_move_to (MmReading *self, MmViewer *viewer, const double lps[3]);
/* The same to continuous pixel (x, y) of the plane view plane shows. */
void mm_reading_move_to_pixel (MmReading *self, MmViewer *viewer, MmPlane plane, double x,
                               double y);
/* The viewer's cursor changed (not through this object): the centre goes to its voxel. */
void mm_reading_cursor_changed (MmReading *self, MmViewer *viewer);
/* The mask changed: its box is recomputed when next needed. */
void mm_reading_mask_changed (MmReading *self);

typedef struct _MmReadingImage MmReadingImage;

MmReadingImage *mm_reading_image_new (void);
void mm_reading_image_free (MmReadingImage *img);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmReadingImage, mm_reading_image_free)

/* Compute the image view plane shows now (NULL when the reading state is not active): a
 * one-slice float volume to draw as MM_PLANE_AXIAL depth 0, and in *style the mask resliced
 * on its pixels (style->mask is replaced; borrowed from img until the next update). */
const MmVolume *mm_reading_image_update (MmReadingImage *img, MmReading *reading,
                                         MmViewer *viewer, MmPlane plane, MmRenderStyle *style);
/* A new series: the next update computes the image again even if the plane looks the same. */
void mm_reading_image_invalidate (MmReadingImage *img);
/* The readout of pixel (u, v) of the last image: its value, LPS and nearest voxel of vol;
 * false when there is no image (the caller reads the volume). */
bool mm_reading_image_probe (MmReadingImage *img, const MmVolume *vol, int u, int v, double *hu,
                             double lps[3], int ijk[3]);
/* The last image (NULL if none) and its plane. */
const MmVolume *mm_reading_image_get (MmReadingImage *img, MmReslicePlane *p);

G_END_DECLS
