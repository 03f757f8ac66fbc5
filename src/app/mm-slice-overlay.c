/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmSliceOverlay: corner texts, orientation letters and scale bar of a slice view, placed
 * without overlap (measured with Pango) and drawn as GSK text and colour nodes. */
#include "mm-slice-overlay.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#define MARGIN 6   /* from the view's edge to a box */
#define PAD_X 5    /* inside a box, around its text */
#define PAD_Y 2
#define GAP 4      /* between two boxes */
#define BAR_H 8    /* the scale bar under its caption */
#define BOX_ALPHA 0.7f

typedef struct
{
  char *text[MM_OVERLAY_MAX_VARIANTS];
  PangoLayout *layout[MM_OVERLAY_MAX_VARIANTS]; /* made when first measured */
  /* where the last draw put it; variant -1: left out */
  int variant;
  graphene_rect_t box;
} Slot;

struct _MmSliceOverlay
{
  GtkWidget *widget; /* borrowed: the view that owns this overlay */
  Slot slots[MM_OVERLAY_N_SLOTS];
  double bar_px;
};

static const char *const slot_names[] = { "left", "right", "top", "bottom", "derived", "slice",
                                          "window", "scale", "probe", "zoom" };
G_STATIC_ASSERT (G_N_ELEMENTS (slot_names) == MM_OVERLAY_N_SLOTS);

MmSliceOverlay *
mm_slice_overlay_new (GtkWidget *widget)
{
  MmSliceOverlay *self = g_new0 (MmSliceOverlay, 1);
  self->widget = widget;
  for (int s = 0; s < MM_OVERLAY_N_SLOTS; s++)
    self->slots[s].variant = -1;
  return self;
}

static void
slot_clear (Slot *slot)
{
  for (int v = 0; v < MM_OVERLAY_MAX_VARIANTS; v++)
    {
      g_clear_pointer (&slot->text[v], g_free);
      g_clear_object (&slot->layout[v]);
    }
}

void
mm_slice_overlay_free (MmSliceOverlay *self)
{
  if (self == NULL)
    return;
  for (int s = 0; s < MM_OVERLAY_N_SLOTS; s++)
    slot_clear (&self->slots[s]);
  g_free (self);
}

static gboolean
set_variants (MmSliceOverlay *self, MmOverlaySlot slot, const char **texts, int n)
{
  Slot *sl = &self->slots[slot];
  gboolean same = TRUE;
  for (int v = 0; v < MM_OVERLAY_MAX_VARIANTS; v++)
    if (g_strcmp0 (v < n ? texts[v] : NULL, sl->text[v]) != 0)
      same = FALSE;
  if (same)
    return FALSE;
  slot_clear (sl);
  for (int v = 0; v < n && v < MM_OVERLAY_MAX_VARIANTS; v++)
    sl->text[v] = g_strdup (texts[v]);
  return TRUE;
}

gboolean
mm_slice_overlay_set (MmSliceOverlay *self, MmOverlaySlot slot, const char *text, ...)
{
  g_return_val_if_fail (self != NULL && slot < MM_OVERLAY_N_SLOTS, FALSE);
  const char *texts[MM_OVERLAY_MAX_VARIANTS];
  int n = 0;
  if (text && *text)
    {
      texts[n++] = text;
      va_list ap;
      va_start (ap, text);
      const char *t;
      while ((t = va_arg (ap, const char *)) != NULL)
        if (n < MM_OVERLAY_MAX_VARIANTS && *t)
          texts[n++] = t;
      va_end (ap);
    }
  return set_variants (self, slot, texts, n);
}

gboolean
mm_slice_overlay_set_scale_bar (MmSliceOverlay *self, double length_px, const char *text)
{
  g_return_val_if_fail (self != NULL, FALSE);
  gboolean changed = fabs (self->bar_px - length_px) > 1e-9;
  self->bar_px = length_px > 0 && isfinite (length_px) ? length_px : 0;
  const char *texts[1] = { text };
  changed |= set_variants (self, MM_OVERLAY_SCALE, texts, self->bar_px > 0 && text ? 1 : 0);
  return changed;
}

const char *
mm_slice_overlay_get (MmSliceOverlay *self, MmOverlaySlot slot)
{
  g_return_val_if_fail (self != NULL && slot < MM_OVERLAY_N_SLOTS, "");
  return self->slots[slot].text[0] ? self->slots[slot].text[0] : "";
}

static gboolean
is_letter (MmOverlaySlot slot)
{
  return slot <= MM_OVERLAY_BOTTOM;
}

static PangoLayout *
slot_layout (MmSliceOverlay *self, MmOverlaySlot slot, int v)
{
  Slot *sl = &self->slots[slot];
  if (sl->layout[v] == NULL)
    {
      PangoLayout *layout = gtk_widget_create_pango_layout (self->widget, sl->text[v]);
      PangoAttrList *attrs = pango_attr_list_new ();
      /* Figures in columns, so a changing number does not make its text jump. */
      pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum"));
      if (is_letter (slot))
        pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
      else
        pango_attr_list_insert (attrs, pango_attr_scale_new (0.9));
      pango_layout_set_attributes (layout, attrs);
      pango_attr_list_unref (attrs);
      sl->layout[v] = layout;
    }
  return sl->layout[v];
}

/* The box of a slot's variant v placed in a view of w x h; row_h: one line's box height. */
static graphene_rect_t
place (MmSliceOverlay *self, MmOverlaySlot slot, int v, int w, int h, double row_h)
{
  int tw, th;
  pango_layout_get_pixel_size (slot_layout (self, slot, v), &tw, &th);
  double bw = tw + 2 * PAD_X, bh = th + 2 * PAD_Y;
  double scale_h = row_h + BAR_H;
  double x = 0, y = 0;
  switch (slot)
    {
    case MM_OVERLAY_LEFT:
      x = MARGIN, y = (h - bh) / 2;
      break;
    case MM_OVERLAY_RIGHT:
      x = w - MARGIN - bw, y = (h - bh) / 2;
      break;
    case MM_OVERLAY_TOP: /* under the top row of texts */
      x = (w - bw) / 2, y = MARGIN + row_h + GAP;
      break;
    case MM_OVERLAY_BOTTOM: /* above the scale bar */
      x = (w - bw) / 2, y = h - MARGIN - scale_h - GAP - bh;
      break;
    case MM_OVERLAY_DERIVED: /* under the top letter, which is under the top row */
      x = (w - bw) / 2, y = MARGIN + 2 * (row_h + GAP);
      break;
    case MM_OVERLAY_SLICE:
      x = MARGIN, y = MARGIN;
      break;
    case MM_OVERLAY_WINDOW:
      x = w - MARGIN - bw, y = MARGIN;
      break;
    case MM_OVERLAY_SCALE:
      bw = MAX (bw, self->bar_px + 2 * PAD_X);
      bh += BAR_H;
      x = (w - bw) / 2, y = h - MARGIN - bh;
      break;
    case MM_OVERLAY_PROBE:
      x = MARGIN, y = h - MARGIN - bh;
      break;
    case MM_OVERLAY_ZOOM:
    default:
      x = w - MARGIN - bw, y = h - MARGIN - bh;
      break;
    }
  /* Whole pixels, so that the boxes' edges are sharp and the test can read them back. */
  return GRAPHENE_RECT_INIT (floorf ((float) x), floorf ((float) y), ceilf ((float) bw),
                             ceilf ((float) bh));
}

static gboolean
fits (const graphene_rect_t *r, int w, int h, const graphene_rect_t *placed, int n)
{
  if (r->origin.x < 0 || r->origin.y < 0 || r->origin.x + r->size.width > w
      || r->origin.y + r->size.height > h)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      graphene_rect_t grown;
      graphene_rect_inset_r (&placed[i], -GAP / 2.0f, -GAP / 2.0f, &grown);
      if (graphene_rect_intersection (r, &grown, NULL))
        return FALSE;
    }
  return TRUE;
}

static void
layout_slots (MmSliceOverlay *self, int w, int h)
{
  /* One line's box height, from the slice text's font. */
  PangoLayout *probe = gtk_widget_create_pango_layout (self->widget, "0");
  PangoAttrList *attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_scale_new (0.9));
  pango_layout_set_attributes (probe, attrs);
  pango_attr_list_unref (attrs);
  int lw, lh;
  pango_layout_get_pixel_size (probe, &lw, &lh);
  g_object_unref (probe);
  double row_h = lh + 2 * PAD_Y;

  graphene_rect_t placed[MM_OVERLAY_N_SLOTS];
  int n = 0;
  for (int s = 0; s < MM_OVERLAY_N_SLOTS; s++)
    {
      Slot *sl = &self->slots[s];
      sl->variant = -1;
      for (int v = 0; v < MM_OVERLAY_MAX_VARIANTS && sl->text[v]; v++)
        {
          graphene_rect_t r = place (self, s, v, w, h, row_h);
          if (fits (&r, w, h, placed, n))
            {
              sl->variant = v;
              sl->box = r;
              placed[n++] = r;
              break;
            }
        }
    }
}

void
mm_slice_overlay_draw (MmSliceOverlay *self, GtkSnapshot *snapshot, int w, int h)
{
  g_return_if_fail (self != NULL);
  layout_slots (self, w, h);
  const GdkRGBA box = { 0, 0, 0, BOX_ALPHA };
  const GdkRGBA text = { 0.94f, 0.94f, 0.94f, 1 };
  const GdkRGBA letter = { 1.0f, 0.835f, 0.31f, 1 }; /* #ffd54f */
  const GdkRGBA warning_box = { 0.70f, 0.33f, 0.0f, 0.9f }; /* amber: not the series as read */
  for (int s = 0; s < MM_OVERLAY_N_SLOTS; s++)
    {
      Slot *sl = &self->slots[s];
      if (sl->variant < 0)
        continue;
      const graphene_rect_t *r = &sl->box;
      gtk_snapshot_append_color (snapshot, s == MM_OVERLAY_DERIVED ? &warning_box : &box, r);
      PangoLayout *layout = slot_layout (self, s, sl->variant);
      int tw, th;
      pango_layout_get_pixel_size (layout, &tw, &th);
      double tx = r->origin.x + (r->size.width - tw) / 2.0, ty = r->origin.y + PAD_Y;
      if (s == MM_OVERLAY_SCALE)
        {
          /* The bar at the box's foot: a line with end ticks, its length exact. */
          float x0 = (float) round (r->origin.x + (r->size.width - self->bar_px) / 2);
          float len = (float) round (self->bar_px);
          float yb = r->origin.y + r->size.height - PAD_Y - 2;
          gtk_snapshot_append_color (snapshot, &text, &GRAPHENE_RECT_INIT (x0, yb, len, 2));
          gtk_snapshot_append_color (snapshot, &text, &GRAPHENE_RECT_INIT (x0, yb - 4, 2, 6));
          gtk_snapshot_append_color (snapshot, &text,
                                     &GRAPHENE_RECT_INIT (x0 + len - 2, yb - 4, 2, 6));
        }
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT ((float) round (tx), (float) ty));
      gtk_snapshot_append_layout (snapshot, layout, is_letter (s) ? &letter : &text);
      gtk_snapshot_restore (snapshot);
    }
}

char *
mm_slice_overlay_describe (MmSliceOverlay *self)
{
  GString *s = g_string_new (NULL);
  static const MmOverlaySlot order[] = { MM_OVERLAY_SLICE, MM_OVERLAY_DERIVED, MM_OVERLAY_WINDOW,
                                         MM_OVERLAY_PROBE, MM_OVERLAY_ZOOM, MM_OVERLAY_SCALE };
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      const char *t = self->slots[order[i]].text[0];
      if (t)
        g_string_append_printf (s, "%s%s", s->len ? "\n" : "", t);
    }
  return g_string_free (s, FALSE);
}

void
mm_slice_overlay_print (MmSliceOverlay *self, FILE *out, int plane, double x0, double y0)
{
  for (int s = 0; s < MM_OVERLAY_N_SLOTS; s++)
    {
      Slot *sl = &self->slots[s];
      if (sl->text[0] == NULL)
        continue;
      if (sl->variant < 0)
        {
          fprintf (out, "text plane=%d slot=%s shown=0 full=%s\n", plane, slot_names[s],
                   sl->text[0]);
          continue;
        }
      const graphene_rect_t *r = &sl->box;
      PangoRectangle ink, logical;
      pango_layout_get_pixel_extents (slot_layout (self, s, sl->variant), &ink, &logical);
      /* The text last: it may hold spaces. */
      fprintf (out,
               "text plane=%d slot=%s shown=1 x=%.0f y=%.0f width=%.0f height=%.0f "
               "text_width=%d text_height=%d ink_width=%d variant=%d text=%s\n",
               plane, slot_names[s], r->origin.x + x0, r->origin.y + y0, r->size.width,
               r->size.height, logical.width, logical.height, ink.width, sl->variant,
               sl->text[sl->variant]);
    }
}
