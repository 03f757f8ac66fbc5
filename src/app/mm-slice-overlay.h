/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSliceOverlay: the texts drawn over a slice view (slice, window, HU readout, zoom,
 * orientation letters, scale bar, the derived-image label), laid out so that they never overlap nor leave the view,
 * each on a dark translucent box so it stays readable on white bone and inverted grey alike.
 * Texts are drawn with cairo inside the view: no label can change the view's size. */
#pragma once

#include <gtk/gtk.h>
#include <stdio.h>

G_BEGIN_DECLS

/* In the order they are placed: an earlier one keeps its place, a later one is shortened to
 * a variant that fits or left out. */
typedef enum
{
  MM_OVERLAY_LEFT,   /* orientation letters at the edge middles */
  MM_OVERLAY_RIGHT,
  MM_OVERLAY_TOP,
  MM_OVERLAY_BOTTOM,
  MM_OVERLAY_DERIVED, /* top centre, under the top letter: what a derived image is (e.g.
                         "MAR (NMAR) — derived, not for diagnosis"), on an amber box, placed
                         before the corner texts so that it is never the one left out */
  MM_OVERLAY_SLICE,  /* top left */
  MM_OVERLAY_WINDOW, /* top right */
  MM_OVERLAY_SCALE,  /* bottom centre: the scale bar and its length */
  MM_OVERLAY_PROBE,  /* bottom left: the value under the pointer */
  MM_OVERLAY_ZOOM,   /* bottom right */
  MM_OVERLAY_N_SLOTS
} MmOverlaySlot;

#define MM_OVERLAY_MAX_VARIANTS 3

typedef struct _MmSliceOverlay MmSliceOverlay;

MmSliceOverlay *mm_slice_overlay_new (GtkWidget *widget);
void mm_slice_overlay_free (MmSliceOverlay *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmSliceOverlay, mm_slice_overlay_free)

/* The text of a slot, longest first, then shorter variants (NULL-terminated list, at most
 * MM_OVERLAY_MAX_VARIANTS); text NULL or "" clears the slot. Returns whether it changed. */
gboolean mm_slice_overlay_set (MmSliceOverlay *self, MmOverlaySlot slot, const char *text, ...)
    G_GNUC_NULL_TERMINATED;
/* The scale bar: its length in screen pixels (<= 0: none) and its caption. */
gboolean mm_slice_overlay_set_scale_bar (MmSliceOverlay *self, double length_px, const char *text);
/* The full text of a slot, "" when empty. */
const char *mm_slice_overlay_get (MmSliceOverlay *self, MmOverlaySlot slot);

/* Place the slots in a view of width x height and draw them. */
void mm_slice_overlay_draw (MmSliceOverlay *self, GtkSnapshot *snapshot, int width, int height);

/* The full texts, one a line in slot order (what a screen reader is given). */
char *mm_slice_overlay_describe (MmSliceOverlay *self);

/* One line per slot placed at the last draw, for the screenshot test:
 * "text plane=P slot=NAME x=.. y=.. width=.. height=.. variant=V text=..." (x, y relative to
 * the view's origin plus x0, y0). Slots left out print "shown=0". */
void mm_slice_overlay_print (MmSliceOverlay *self, FILE *out, int plane, double x0, double y0);

G_END_DECLS
