/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmToolsPanel (see mm-tools-panel.h): the widgets come from ui/mm-tools-panel.ui; this file
 * turns them into steps of the mask session and shows what the session says the mask is. */
#include "mm-tools-panel.h"

#include "mm-histogram.h"
#include "mm-scroll-guard.h"
#include "mm-edit-oblique.h"
#include "mm-threshold.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

typedef enum
{
  TOOL_NONE,
  TOOL_THRESHOLD,
  TOOL_BRUSH,
  TOOL_ERASER,
  TOOL_ISLANDS,
  N_TOOLS
} Tool;

static const char *const tool_ids[N_TOOLS] = { "none", "threshold", "brush", "eraser", "islands" };

struct _MmToolsPanel
{
  GtkBox parent_instance;

  /* template widgets */
  GtkLabel *mask_label, *suggest_label, *status_label;
  GtkToggleButton *tool_view, *tool_threshold, *tool_brush, *tool_eraser, *tool_islands;
  GtkSpinButton *radius_spin, *lower_spin, *upper_spin, *small_spin;
  GtkCheckButton *sphere_check, *hu_check;
  GtkDropDown *island_mode;
  MmHistogram *histogram;
  GtkWidget *interp_apply, *interp_cancel;

  /* borrowed */
  MmMaskSession *session;
  MmViewer *viewer;
  GPtrArray *views; /* MmSliceView */

  Tool tool;
  int interp_lo, interp_hi; /* the interpolation previewed */
  MmThresholdSuggestion suggestion;
  bool have_suggestion;
};

static guint message_signal;

G_DEFINE_FINAL_TYPE (MmToolsPanel, mm_tools_panel, GTK_TYPE_BOX)

static void
say (MmToolsPanel *self, const char *text)
{
  g_signal_emit (self, message_signal, 0, text);
}

static void
set_status (MmToolsPanel *self, const char *text)
{
  gtk_label_set_text (self->status_label, text);
}

/* ---- what the mask is ---- */

static char *
source_text (MmToolsPanel *self)
{
  const char *detail = mm_mask_session_get_source_detail (self->session);
  switch (mm_mask_session_get_source (self->session))
    {
    case MM_MASK_SOURCE_THRESHOLD:
      return g_strdup_printf (_("Threshold %s"), detail ? detail : "");
    case MM_MASK_SOURCE_EDITS:
      return g_strdup (_("Edited by hand"));
    case MM_MASK_SOURCE_MODEL:
      return detail ? g_strdup_printf (_("Detected by the model %s"), detail)
                    : g_strdup (_("Detected by the model"));
    case MM_MASK_SOURCE_FILE:
      return g_strdup_printf (_("Loaded from %s"), detail ? detail : _("a file"));
    case MM_MASK_SOURCE_RECOVERED:
      return g_strdup (_("Recovered from the autosave journal"));
    case MM_MASK_SOURCE_SAVED:
      return g_strdup (_("Saved mask"));
    case MM_MASK_SOURCE_NONE:
    default:
      return NULL;
    }
}

static char *
saved_text (MmToolsPanel *self)
{
  const char *dir = mm_mask_session_get_project_dir (self->session);
  switch (mm_mask_session_get_save_state (self->session))
    {
    case MM_MASK_SAVE_SAVED:
      return g_strdup_printf (_("Saved in %s."), dir);
    case MM_MASK_SAVE_UNSAVED:
      return g_strdup_printf (_("Unsaved changes (journalled in %s; saving soon)."), dir);
    case MM_MASK_SAVE_FAILED:
      return g_strdup_printf (_("Saving failed: %s"), mm_mask_session_get_save_error (self->session));
    case MM_MASK_SAVE_IN_MEMORY:
      return g_strdup (_("Not saved (test run)."));
    case MM_MASK_SAVE_NONE:
    default:
      return g_strdup ("");
    }
}

/* "Threshold 1500 HU: 38889 voxels, 12.34 ml in 20 slices, 3 components. Saved in …" */
static void
update_mask_label (MmToolsPanel *self)
{
  g_autofree char *source = source_text (self);
  if (source == NULL)
    {
      g_autofree char *saved = saved_text (self);
      g_autofree char *text = g_strdup_printf ("%s %s", _("No mask: segment the metal or load a PNG label stack."), saved);
      gtk_label_set_text (self->mask_label, g_strstrip (text));
      return;
    }
  guint64 voxels = mm_mask_session_get_voxels (self->session);
  int slices = mm_mask_session_get_slices (self->session);
  int comps = mm_mask_session_get_components (self->session);
  g_autofree char *n_comps = comps < 0 ? g_strdup ("…") : g_strdup_printf ("%d", comps);
  g_autofree char *figures
      = g_strdup_printf (_("%" G_GUINT64_FORMAT " voxels, %.2f ml in %d slices, %s components"), voxels,
                         mm_mask_session_get_volume_ml (self->session), slices, n_comps);
  g_autofree char *saved = saved_text (self);
  g_autofree char *text = g_strdup_printf ("%s: %s. %s", source, figures, saved);
  gtk_label_set_text (self->mask_label, g_strstrip (text));
}

static void
session_notify_cb (MmMaskSession *session, GParamSpec *pspec, MmToolsPanel *self)
{
  update_mask_label (self);
  const char *name = g_param_spec_get_name (pspec);
  if (g_str_equal (name, "save-state"))
    {
      g_autofree char *saved = saved_text (self);
      set_status (self, saved);
    }
}

/* ---- steps ---- */

static void
drop_preview (MmToolsPanel *self)
{
  if (mm_viewer_has_preview_mask (self->viewer))
    mm_viewer_set_preview_mask (self->viewer, NULL);
  gtk_widget_set_visible (self->interp_apply, FALSE);
  gtk_widget_set_visible (self->interp_cancel, FALSE);
}

static MmMask *
begin_step (MmToolsPanel *self, const char *label)
{
  if (self->session == NULL || mm_mask_session_in_step (self->session))
    return NULL;
  /* Any edit ends an interpolation preview: it was computed from the mask before the edit. */
  drop_preview (self);
  return mm_mask_session_begin (self->session, label);
}

static void
end_step (MmToolsPanel *self, MmMaskSource source, const char *detail)
{
  mm_mask_session_end (self->session, source, detail);
}

static int
axial_depth (MmToolsPanel *self)
{
  return mm_viewer_get_depth (self->viewer, MM_PLANE_AXIAL);
}

/* ---- tools ---- */

static void
update_views (MmToolsPanel *self)
{
  bool painting = self->tool == TOOL_BRUSH || self->tool == TOOL_ERASER;
  double r = painting ? gtk_spin_button_get_value (self->radius_spin) : 0;
  for (guint p = 0; self->views && p < self->views->len; p++)
    mm_slice_view_set_tool (self->views->pdata[p], self->tool != TOOL_NONE && self->tool != TOOL_THRESHOLD, r);
  if (self->viewer)
    mm_viewer_set_preview (self->viewer, self->tool == TOOL_THRESHOLD,
                           gtk_spin_button_get_value (self->lower_spin),
                           gtk_spin_button_get_value (self->upper_spin));
}

static void
set_tool (MmToolsPanel *self, Tool tool)
{
  self->tool = tool;
  GtkToggleButton *buttons[N_TOOLS] = { self->tool_view, self->tool_threshold, self->tool_brush,
                                        self->tool_eraser, self->tool_islands };
  for (int i = 0; i < N_TOOLS; i++)
    gtk_toggle_button_set_active (buttons[i], i == (int) tool);
  update_views (self);
}

void
mm_tools_panel_toggle_tool (MmToolsPanel *self, const char *id)
{
  g_return_if_fail (MM_IS_TOOLS_PANEL (self) && id != NULL);
  for (int i = 0; i < N_TOOLS; i++)
    if (g_str_equal (id, tool_ids[i]))
      set_tool (self, self->tool == (Tool) i ? TOOL_NONE : (Tool) i);
}

void
mm_tools_panel_scale_radius (MmToolsPanel *self, double factor)
{
  g_return_if_fail (MM_IS_TOOLS_PANEL (self));
  gtk_spin_button_set_value (self->radius_spin, gtk_spin_button_get_value (self->radius_spin) * factor);
}

static void
tool_stroke_cb (MmSliceView *view, double u0, double v0, double u1, double v1, MmToolsPanel *self)
{
  if (self->tool != TOOL_BRUSH && self->tool != TOOL_ERASER)
    return;
  /* A stroke is one step from press to release: begun at its first segment. */
  if (!mm_mask_session_in_step (self->session)
      && begin_step (self, self->tool == TOOL_BRUSH ? _("Brush") : _("Eraser")) == NULL)
    return;
  MmMask *mask = (MmMask *) mm_mask_session_get_mask (self->session);
  MmBrush b = {
    .radius_mm = gtk_spin_button_get_value (self->radius_spin),
    .sphere = gtk_check_button_get_active (self->sphere_check),
    .value = self->tool == TOOL_ERASER ? 0 : 1,
    .hu_limited = gtk_check_button_get_active (self->hu_check),
    .hu_lower = gtk_spin_button_get_value (self->lower_spin),
    .hu_upper = gtk_spin_button_get_value (self->upper_spin),
  };
  MmPlane plane = mm_slice_view_get_plane (view);
  MmReslicePlane rp;
  uint64_t changed
      = mm_slice_view_get_oblique_plane (view, &rp)
            ? mm_edit_brush_oblique (mask, mm_viewer_get_volume (self->viewer), &rp, u0, v0, u1,
                                     v1, &b, mm_mask_session_touch_cb, self->session)
            : mm_edit_brush_segment (mask, mm_viewer_get_volume (self->viewer), plane,
                                     mm_viewer_get_depth (self->viewer, plane), u0, v0, u1, v1,
                                     &b, mm_mask_session_touch_cb, self->session);
  if (changed > 0)
    mm_viewer_mask_edited (self->viewer);
}

static void
tool_done_cb (MmSliceView *view, MmToolsPanel *self)
{
  if (mm_mask_session_in_step (self->session))
    end_step (self, MM_MASK_SOURCE_EDITS, NULL);
}

static void
tool_click_cb (MmSliceView *view, double u, double v, MmToolsPanel *self)
{
  if (self->tool != TOOL_ISLANDS)
    return;
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  MmPlane plane = mm_slice_view_get_plane (view);
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  int iu = (int) floor (u), iv = (int) floor (v), ijk[3];
  if (iu < 0 || iv < 0 || iu >= g.width || iv >= g.height)
    return;
  mm_plane_to_index (vol, plane, iu, iv, mm_viewer_get_depth (self->viewer, plane), ijk);
  MmIslandAction action = gtk_drop_down_get_selected (self->island_mode) == 0 ? MM_ISLAND_REMOVE
                                                                              : MM_ISLAND_KEEP_ONLY;
  MmMask *mask = begin_step (self, _("Islands"));
  if (mask == NULL)
    return;
  uint64_t n = mm_edit_island (mask, ijk, action, mm_mask_session_touch_cb, self->session);
  end_step (self, MM_MASK_SOURCE_EDITS, NULL);
  g_autofree char *msg = n ? g_strdup_printf (_("Islands: %llu voxels removed"), (unsigned long long) n)
                           : g_strdup (_("Islands: click on the mask"));
  set_status (self, msg);
}

static void
apply_threshold (MmToolsPanel *self, bool all)
{
  MmMask *mask = begin_step (self, _("Threshold"));
  if (mask == NULL)
    return;
  int k = axial_depth (self);
  double lower = gtk_spin_button_get_value (self->lower_spin);
  double upper = gtk_spin_button_get_value (self->upper_spin);
  uint64_t n = mm_edit_threshold (mask, mm_viewer_get_volume (self->viewer), all ? 0 : k,
                                  all ? mask->dims[2] - 1 : k, lower, upper,
                                  mm_mask_session_touch_cb, self->session);
  /* What the mask now is: the range, and on which slices when not all. */
  g_autofree char *range = upper >= 32767 ? g_strdup_printf (_("%.0f HU"), lower)
                                          : g_strdup_printf (_("%.0f–%.0f HU"), lower, upper);
  g_autofree char *detail = all ? g_strdup (range)
                                : g_strdup_printf (_("%s on slice %d"), range, k + 1);
  if (all)
    mm_mask_session_end_whole (self->session, MM_MASK_SOURCE_THRESHOLD, detail);
  else
    end_step (self, MM_MASK_SOURCE_THRESHOLD, detail);
  g_autofree char *msg = g_strdup_printf (_("Threshold: %llu voxels changed"), (unsigned long long) n);
  set_status (self, msg);
}

static void
apply_slice_cb (GtkButton *b, MmToolsPanel *self)
{
  apply_threshold (self, false);
}

static void
apply_all_cb (GtkButton *b, MmToolsPanel *self)
{
  apply_threshold (self, true);
}

void
mm_tools_panel_segment (MmToolsPanel *self)
{
  g_return_if_fail (MM_IS_TOOLS_PANEL (self));
  /* The CLI's segment with its defaults: threshold and 26-connected components, none
   * dropped. */
  gtk_spin_button_set_value (self->lower_spin, 3000);
  gtk_spin_button_set_value (self->upper_spin, 32767);
  apply_threshold (self, true);
}

static void
remove_small_cb (GtkButton *b, MmToolsPanel *self)
{
  MmMask *mask = begin_step (self, _("Remove small islands"));
  if (mask == NULL)
    return;
  uint64_t n = mm_edit_remove_small (mask, mm_viewer_get_volume (self->viewer),
                                     gtk_spin_button_get_value (self->small_spin),
                                     mm_mask_session_touch_cb, self->session);
  end_step (self, MM_MASK_SOURCE_EDITS, NULL);
  g_autofree char *msg = g_strdup_printf (_("%llu voxels in small islands removed"), (unsigned long long) n);
  set_status (self, msg);
}

static void
fill_holes (MmToolsPanel *self, bool all)
{
  MmMask *mask = begin_step (self, _("Fill holes"));
  if (mask == NULL)
    return;
  int k = axial_depth (self);
  mm_edit_fill_holes (mask, all ? 0 : k, all ? mask->dims[2] - 1 : k, mm_mask_session_touch_cb,
                      self->session);
  end_step (self, MM_MASK_SOURCE_EDITS, NULL);
}

static void
fill_slice_cb (GtkButton *b, MmToolsPanel *self)
{
  fill_holes (self, false);
}

static void
fill_all_cb (GtkButton *b, MmToolsPanel *self)
{
  fill_holes (self, true);
}

/* Fill between slices in two clicks: the first shows the interpolation as the overlay, the
 * second (Apply) writes it as one undoable step; Cancel drops it. */
static void
interpolate_cb (GtkButton *b, MmToolsPanel *self)
{
  const MmMask *mask = mm_mask_session_get_mask (self->session);
  int k = axial_depth (self);
  int lo = mask == NULL ? -1 : mm_mask_slice_is_empty (mask, k) ? mm_edit_next_slice_with_mask (mask, k, -1) : k;
  int hi = mask == NULL ? -1 : mm_edit_next_slice_with_mask (mask, k, 1);
  if (lo < 0 || hi < 0 || hi - lo < 2)
    {
      say (self, _("Interpolation needs annotated slices on both sides with empty slices "
                   "between them"));
      return;
    }
  MmMask *preview = mm_mask_copy (mask);
  mm_edit_interpolate (preview, mm_viewer_get_volume (self->viewer), lo, hi, true, NULL, NULL, NULL);
  mm_viewer_set_preview_mask (self->viewer, preview);
  self->interp_lo = lo;
  self->interp_hi = hi;
  gtk_widget_set_visible (self->interp_apply, TRUE);
  gtk_widget_set_visible (self->interp_cancel, TRUE);
  g_autofree char *msg = g_strdup_printf (_("Preview: slices %d to %d filled from %d and %d; "
                                            "Apply or Cancel"), lo + 2, hi, lo + 1, hi + 1);
  set_status (self, msg);
}

static void
interpolate_done (MmToolsPanel *self, bool apply)
{
  drop_preview (self);
  if (!apply || mm_mask_session_get_mask (self->session) == NULL)
    {
      set_status (self, _("Interpolation cancelled"));
      return;
    }
  MmMask *mask = begin_step (self, _("Interpolate"));
  if (mask == NULL)
    return;
  mm_edit_interpolate (mask, mm_viewer_get_volume (self->viewer), self->interp_lo, self->interp_hi,
                       true, NULL, mm_mask_session_touch_cb, self->session);
  end_step (self, MM_MASK_SOURCE_EDITS, NULL);
}

static void
interpolate_apply_cb (GtkButton *b, MmToolsPanel *self)
{
  interpolate_done (self, true);
}

static void
interpolate_cancel_cb (GtkButton *b, MmToolsPanel *self)
{
  interpolate_done (self, false);
}

static void
clear (MmToolsPanel *self, bool all)
{
  if (mm_mask_session_get_mask (self->session) == NULL)
    return;
  MmMask *mask = begin_step (self, all ? _("Clear all") : _("Clear slice"));
  if (mask == NULL)
    return;
  int k = axial_depth (self);
  mm_edit_clear (mask, all ? 0 : k, all ? mask->dims[2] - 1 : k, mm_mask_session_touch_cb,
                 self->session);
  end_step (self, MM_MASK_SOURCE_EDITS, NULL);
}

static void
clear_slice_cb (GtkButton *b, MmToolsPanel *self)
{
  clear (self, false);
}

static void
clear_all_response_cb (AdwMessageDialog *dialog, const char *response, MmToolsPanel *self)
{
  if (g_strcmp0 (response, "clear") == 0)
    clear (self, true);
}

static void
clear_all_cb (GtkButton *b, MmToolsPanel *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                              _("Clear the Whole Mask?"),
                                              _("Every slice's mask is erased. Undo brings it back."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "clear",
                                    _("C_lear All"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "clear",
                                              ADW_RESPONSE_DESTRUCTIVE);
  g_signal_connect_object (dialog, "response", G_CALLBACK (clear_all_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- the suggested threshold ---- */

/* The hint always speaks of the value in the field: it says when the field differs from the
 * suggestion (after Ctrl+M, or a value typed or dragged), instead of naming one number beside
 * a field showing another. */
static void
update_suggestion_label (MmToolsPanel *self)
{
  const MmVolume *vol = self->viewer ? mm_viewer_get_volume (self->viewer) : NULL;
  if (vol == NULL || !self->have_suggestion)
    {
      gtk_label_set_text (self->suggest_label, "");
      return;
    }
  const MmThresholdSuggestion *s = &self->suggestion;
  double field = gtk_spin_button_get_value (self->lower_spin);
  g_autofree char *why = NULL;
  switch (s->reason)
    {
    case MM_THRESHOLD_NOT_HU:
      why = vol->not_acquired
                ? g_strdup_printf (_("This is %s, not a CT volume: a threshold in HU does not "
                                     "apply to its values"), vol->not_acquired)
                : g_strdup_printf (_("These values are %s, not HU: a threshold in HU does not "
                                     "apply to them"), mm_volume_unit (vol));
      gtk_label_set_text (self->suggest_label, why);
      return;
    case MM_THRESHOLD_CLIPPED:
      why = g_strdup (_("The data are clipped at 3071 HU (the top of a 12-bit scale): metal and "
                        "dense bone can share that value, so a threshold cannot tell them apart"));
      break;
    case MM_THRESHOLD_NO_METAL:
      why = g_strdup (_("No voxel above 2500 HU: this series shows no metal"));
      break;
    case MM_THRESHOLD_EMPTIEST:
      why = g_strdup_printf (_("Suggested lower bound %.0f HU: the emptiest part of the histogram "
                               "between cortical bone and metal (%llu voxels within ±50 HU)"),
                             s->lower, (unsigned long long) s->n_near);
      break;
    }
  g_autofree char *text = fabs (field - s->lower) < 0.5
                              ? g_strdup (why)
                              : g_strdup_printf (_("%s. Lower HU is set to %.0f instead."), why, field);
  gtk_label_set_text (self->suggest_label, text);
}

static void
range_changed_cb (GtkSpinButton *spin, MmToolsPanel *self)
{
  update_views (self);
  update_suggestion_label (self);
}

void
mm_tools_panel_series_changed (MmToolsPanel *self)
{
  g_return_if_fail (MM_IS_TOOLS_PANEL (self));
  drop_preview (self);
  const MmVolume *vol = mm_viewer_get_volume (self->viewer);
  const MmStats *st = mm_viewer_get_stats (self->viewer);
  mm_histogram_set_stats (self->histogram, st);
  self->have_suggestion = vol != NULL;
  if (vol == NULL)
    return;
  mm_threshold_suggest (vol, st, &self->suggestion);
  if (self->suggestion.reason != MM_THRESHOLD_NOT_HU)
    gtk_spin_button_set_value (self->lower_spin, self->suggestion.lower);
  update_suggestion_label (self);
}

static void
histogram_dragged_cb (MmHistogram *h, MmToolsPanel *self)
{
  if (self->tool != TOOL_THRESHOLD)
    set_tool (self, TOOL_THRESHOLD);
}

/* ---- setup ---- */

void
mm_tools_panel_set_session (MmToolsPanel *self, MmMaskSession *session, MmViewer *viewer)
{
  g_return_if_fail (MM_IS_TOOLS_PANEL (self) && MM_IS_MASK_SESSION (session) && MM_IS_VIEWER (viewer));
  g_return_if_fail (self->session == NULL);
  self->session = session;
  self->viewer = viewer;
  g_signal_connect_object (session, "notify", G_CALLBACK (session_notify_cb), self, 0);
  update_mask_label (self);
  update_views (self);
}

void
mm_tools_panel_add_view (MmToolsPanel *self, MmSliceView *view)
{
  g_return_if_fail (MM_IS_TOOLS_PANEL (self) && MM_IS_SLICE_VIEW (view));
  g_ptr_array_add (self->views, view);
  g_signal_connect_object (view, "tool-stroke", G_CALLBACK (tool_stroke_cb), self, 0);
  g_signal_connect_object (view, "tool-done", G_CALLBACK (tool_done_cb), self, 0);
  g_signal_connect_object (view, "tool-click", G_CALLBACK (tool_click_cb), self, 0);
  update_views (self);
}

static void
mm_tools_panel_dispose (GObject *object)
{
  MmToolsPanel *self = MM_TOOLS_PANEL (object);
  gtk_widget_dispose_template (GTK_WIDGET (self), MM_TYPE_TOOLS_PANEL);
  G_OBJECT_CLASS (mm_tools_panel_parent_class)->dispose (object);
}

static void
mm_tools_panel_finalize (GObject *object)
{
  MmToolsPanel *self = MM_TOOLS_PANEL (object);
  g_ptr_array_unref (self->views);
  G_OBJECT_CLASS (mm_tools_panel_parent_class)->finalize (object);
}

static void
mm_tools_panel_class_init (MmToolsPanelClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  oc->dispose = mm_tools_panel_dispose;
  oc->finalize = mm_tools_panel_finalize;
  message_signal = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  g_type_ensure (MM_TYPE_HISTOGRAM);
  gtk_widget_class_set_template_from_resource (wc, "/io/github/metalmark/Metalmark/ui/mm-tools-panel.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (wc, MmToolsPanel, name)
  CHILD (mask_label);
  CHILD (suggest_label);
  CHILD (status_label);
  CHILD (tool_view);
  CHILD (tool_threshold);
  CHILD (tool_brush);
  CHILD (tool_eraser);
  CHILD (tool_islands);
  CHILD (radius_spin);
  CHILD (lower_spin);
  CHILD (upper_spin);
  CHILD (small_spin);
  CHILD (sphere_check);
  CHILD (hu_check);
  CHILD (island_mode);
  CHILD (histogram);
  CHILD (interp_apply);
  CHILD (interp_cancel);
#undef CHILD
  gtk_widget_class_bind_template_callback (wc, apply_slice_cb);
  gtk_widget_class_bind_template_callback (wc, apply_all_cb);
  gtk_widget_class_bind_template_callback (wc, remove_small_cb);
  gtk_widget_class_bind_template_callback (wc, fill_slice_cb);
  gtk_widget_class_bind_template_callback (wc, fill_all_cb);
  gtk_widget_class_bind_template_callback (wc, interpolate_cb);
  gtk_widget_class_bind_template_callback (wc, interpolate_apply_cb);
  gtk_widget_class_bind_template_callback (wc, interpolate_cancel_cb);
  gtk_widget_class_bind_template_callback (wc, clear_slice_cb);
  gtk_widget_class_bind_template_callback (wc, clear_all_cb);
}

/* The rows wrap (GtkFlowBox), but their cells are not stops for Tab: only the controls. */
static void
unfocus_flow_children (GtkWidget *widget)
{
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      if (GTK_IS_FLOW_BOX_CHILD (c))
        gtk_widget_set_focusable (c, FALSE);
      unfocus_flow_children (c);
    }
}

static void
mm_tools_panel_init (MmToolsPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->views = g_ptr_array_new ();
  unfocus_flow_children (GTK_WIDGET (self));
  /* Digits only: a viewer key typed here (v, b, ...) goes to the viewer, not into the
   * number (mm-viewer-keys.c); the wheel changes a field only once it has the focus. */
  GtkSpinButton *spins[] = { self->radius_spin, self->lower_spin, self->upper_spin, self->small_spin };
  for (guint i = 0; i < G_N_ELEMENTS (spins); i++)
    mm_scroll_guard_attach (GTK_WIDGET (spins[i]));
  g_object_bind_property (gtk_spin_button_get_adjustment (self->lower_spin), "value",
                          self->histogram, "lower", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (gtk_spin_button_get_adjustment (self->upper_spin), "value",
                          self->histogram, "upper", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_signal_connect (self->histogram, "dragged", G_CALLBACK (histogram_dragged_cb), self);
  g_signal_connect (self->lower_spin, "value-changed", G_CALLBACK (range_changed_cb), self);
  g_signal_connect (self->upper_spin, "value-changed", G_CALLBACK (range_changed_cb), self);
  g_signal_connect_swapped (self->radius_spin, "value-changed", G_CALLBACK (update_views), self);
  set_tool (self, TOOL_NONE);
}
