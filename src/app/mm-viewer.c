/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmViewer: the state shared by the views of a window. */
#include "mm-viewer.h"
#include "mm-reading.h"

struct _MmViewer
{
  GObject parent_instance;

  /* owned */
  MmVolume *volume;
  GDestroyNotify volume_release; /* instead of mm_volume_free, for a volume still loading */
  gpointer volume_release_data;
  MmStats *stats;
  MmDicomReport *report;
  const MmMask *mask; /* borrowed from the mask session */
  MmMask *preview_mask;
  char *source;
  char *derived_label; /* what is shown instead of the series as read, NULL: the series */
  MmReading *reading;

  double window, level;
  bool invert;
  int cursor[3];
  GdkRGBA overlay_color;
  double overlay_opacity;
  bool overlay_outline;
  bool preview;
  double preview_lower, preview_upper;
};

G_DEFINE_FINAL_TYPE (MmViewer, mm_viewer, G_TYPE_OBJECT)

enum
{
  CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
emit_changed (MmViewer *self, MmViewerChange what)
{
  g_signal_emit (self, signals[CHANGED], 0, (guint) what);
}

static void
release_volume (MmViewer *self)
{
  if (self->volume && self->volume_release)
    self->volume_release (self->volume_release_data);
  else
    mm_volume_free (self->volume);
  self->volume = NULL;
  self->volume_release = NULL;
  self->volume_release_data = NULL;
}

static void
mm_viewer_finalize (GObject *object)
{
  MmViewer *self = MM_VIEWER (object);
  release_volume (self);
  g_clear_pointer (&self->stats, mm_stats_free);
  g_clear_pointer (&self->report, mm_dicom_report_free);
  g_clear_pointer (&self->preview_mask, mm_mask_free);
  g_clear_pointer (&self->source, g_free);
  g_clear_pointer (&self->derived_label, g_free);
  g_clear_object (&self->reading);
  G_OBJECT_CLASS (mm_viewer_parent_class)->finalize (object);
}

static void
mm_viewer_class_init (MmViewerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mm_viewer_finalize;
  /* changed (MmViewerChange flags) */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
mm_viewer_init (MmViewer *self)
{
  self->window = 400;
  self->level = 40;
  gdk_rgba_parse (&self->overlay_color, "#ff3b30");
  self->overlay_opacity = 0.45;
  self->reading = mm_reading_new ();
}

MmViewer *
mm_viewer_new (void)
{
  return g_object_new (MM_TYPE_VIEWER, NULL);
}

void
mm_viewer_set_volume (MmViewer *self, MmVolume *vol, MmStats *stats, MmDicomReport *report,
                      const char *source)
{
  mm_viewer_set_volume_full (self, vol, stats, report, source, NULL, NULL);
}

void
mm_viewer_set_figures (MmViewer *self, MmStats *stats, MmDicomReport *report)
{
  g_clear_pointer (&self->stats, mm_stats_free);
  g_clear_pointer (&self->report, mm_dicom_report_free);
  self->stats = stats;
  self->report = report;
  emit_changed (self, MM_VIEWER_CHANGED_FIGURES | MM_VIEWER_CHANGED_VOXELS);
}

void
mm_viewer_voxels_arrived (MmViewer *self)
{
  emit_changed (self, MM_VIEWER_CHANGED_VOXELS);
}

void
mm_viewer_swap_voxels (MmViewer *self, void **voxels, const char *label)
{
  g_return_if_fail (MM_IS_VIEWER (self) && self->volume != NULL && voxels && *voxels);
  void *shown = self->volume->voxels;
  self->volume->voxels = *voxels;
  *voxels = shown;
  g_free (self->derived_label);
  self->derived_label = g_strdup (label);
  emit_changed (self, MM_VIEWER_CHANGED_VOXELS);
}

const char *
mm_viewer_get_derived_label (MmViewer *self)
{
  return self->derived_label;
}

void
mm_viewer_set_volume_full (MmViewer *self, MmVolume *vol, MmStats *stats, MmDicomReport *report,
                           const char *source, GDestroyNotify release, gpointer release_data)
{
  g_return_if_fail (MM_IS_VIEWER (self) && vol != NULL);
  release_volume (self);
  self->volume_release = release;
  self->volume_release_data = release_data;
  g_clear_pointer (&self->stats, mm_stats_free);
  g_clear_pointer (&self->report, mm_dicom_report_free);
  self->mask = NULL; /* the mask session's, which lets it go with the series */
  g_free (self->source);
  g_clear_pointer (&self->derived_label, g_free);
  self->volume = vol;
  self->stats = stats;
  self->report = report;
  self->source = g_strdup (source);
  /* The file's own window first, as Slicer and Weasis do; else soft tissue. */
  if (vol->has_window)
    {
      self->window = vol->window_width;
      self->level = vol->window_center;
    }
  else
    {
      self->window = 400;
      self->level = 40;
    }
  for (int a = 0; a < 3; a++)
    self->cursor[a] = vol->dims[a] / 2;
  mm_reading_reset_oblique (self->reading); /* the turns were the old series' */
  emit_changed (self, MM_VIEWER_CHANGED_VOLUME | MM_VIEWER_CHANGED_WINDOW
                          | MM_VIEWER_CHANGED_CURSOR | MM_VIEWER_CHANGED_MASK);
}

const MmVolume *
mm_viewer_get_volume (MmViewer *self)
{
  return self->volume;
}

const MmStats *
mm_viewer_get_stats (MmViewer *self)
{
  return self->stats;
}

const MmDicomReport *
mm_viewer_get_report (MmViewer *self)
{
  return self->report;
}

const char *
mm_viewer_get_source (MmViewer *self)
{
  return self->source;
}

void
mm_viewer_set_mask (MmViewer *self, const MmMask *mask)
{
  g_return_if_fail (mask == NULL || self->volume != NULL);
  g_return_if_fail (mask == NULL || memcmp (mask->dims, self->volume->dims, sizeof mask->dims) == 0);
  self->mask = mask;
  emit_changed (self, MM_VIEWER_CHANGED_MASK);
}

const MmMask *
mm_viewer_get_mask (MmViewer *self)
{
  return self->mask;
}

void
mm_viewer_set_window (MmViewer *self, double window, double level)
{
  window = CLAMP (window, 1.0, 100000.0);
  if (window == self->window && level == self->level)
    return;
  self->window = window;
  self->level = level;
  emit_changed (self, MM_VIEWER_CHANGED_WINDOW);
}

void
mm_viewer_get_window (MmViewer *self, double *window, double *level)
{
  *window = self->window;
  *level = self->level;
}

void
mm_viewer_set_invert (MmViewer *self, bool invert)
{
  if (invert == self->invert)
    return;
  self->invert = invert;
  emit_changed (self, MM_VIEWER_CHANGED_WINDOW);
}

bool
mm_viewer_get_invert (MmViewer *self)
{
  return self->invert;
}

void
mm_viewer_set_cursor (MmViewer *self, const int ijk[3])
{
  if (self->volume == NULL)
    return;
  int c[3];
  for (int a = 0; a < 3; a++)
    c[a] = CLAMP (ijk[a], 0, self->volume->dims[a] - 1);
  if (memcmp (c, self->cursor, sizeof c) == 0)
    return;
  memcpy (self->cursor, c, sizeof c);
  emit_changed (self, MM_VIEWER_CHANGED_CURSOR);
}

void
mm_viewer_get_cursor (MmViewer *self, int ijk[3])
{
  memcpy (ijk, self->cursor, sizeof self->cursor);
}

int
mm_viewer_get_depth (MmViewer *self, MmPlane plane)
{
  if (self->volume == NULL)
    return 0;
  int u, v, d;
  mm_index_to_plane (self->volume, plane, self->cursor, &u, &v, &d);
  return d;
}

void
mm_viewer_set_depth (MmViewer *self, MmPlane plane, int depth)
{
  if (self->volume == NULL)
    return;
  int u, v, d, ijk[3];
  mm_index_to_plane (self->volume, plane, self->cursor, &u, &v, &d);
  mm_plane_to_index (self->volume, plane, u, v, depth, ijk);
  mm_viewer_set_cursor (self, ijk);
}

void
mm_viewer_set_overlay (MmViewer *self, const GdkRGBA *color, double opacity, bool outline)
{
  self->overlay_color = *color;
  self->overlay_opacity = CLAMP (opacity, 0.0, 1.0);
  self->overlay_outline = outline;
  emit_changed (self, MM_VIEWER_CHANGED_OVERLAY);
}

void
mm_viewer_set_preview (MmViewer *self, bool on, double lower, double upper)
{
  if (on == self->preview && lower == self->preview_lower && upper == self->preview_upper)
    return;
  self->preview = on;
  self->preview_lower = lower;
  self->preview_upper = upper;
  emit_changed (self, MM_VIEWER_CHANGED_OVERLAY);
}

void
mm_viewer_set_preview_mask (MmViewer *self, MmMask *preview)
{
  g_clear_pointer (&self->preview_mask, mm_mask_free);
  self->preview_mask = preview;
  emit_changed (self, MM_VIEWER_CHANGED_MASK);
}

bool
mm_viewer_has_preview_mask (MmViewer *self)
{
  return self->preview_mask != NULL;
}

void
mm_viewer_mask_edited (MmViewer *self)
{
  emit_changed (self, MM_VIEWER_CHANGED_MASK);
}


MmReading *
mm_viewer_get_reading (MmViewer *self)
{
  return self->reading;
}

void
mm_viewer_get_style (MmViewer *self, MmRenderStyle *s)
{
  s->window = self->window;
  s->level = self->level;
  s->invert = self->invert;
  s->mask = self->preview_mask ? self->preview_mask : self->mask;
  s->overlay_rgb[0] = (uint8_t) lrint (CLAMP (self->overlay_color.red, 0, 1) * 255);
  s->overlay_rgb[1] = (uint8_t) lrint (CLAMP (self->overlay_color.green, 0, 1) * 255);
  s->overlay_rgb[2] = (uint8_t) lrint (CLAMP (self->overlay_color.blue, 0, 1) * 255);
  s->overlay_opacity = self->overlay_opacity;
  s->outline = self->overlay_outline;
  s->preview = self->preview;
  s->preview_lower = self->preview_lower;
  s->preview_upper = self->preview_upper;
}
