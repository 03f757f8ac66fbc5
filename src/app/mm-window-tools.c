/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The annotation tools of a window: threshold (with histogram and live preview), brush,
 * eraser and islands, hole filling, interpolation between slices, clearing; every operation
 * one undo step; every finished step journalled to disk at once and folded into the label
 * stack beside the series. */
#include "mm-window-private.h"
#include "mm-scroll-guard.h"

#include "mm-edit.h"
#include "mm-history.h"
#include "mm-journal.h"
#include "mm-path.h"
#include "mm-stats.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>

#define HISTORY_BUDGET (256u << 20) /* compressed undo data kept, bytes */
#define FOLD_DELAY_MS 2000           /* journal folded into the PNG stack after a quiet spell */

/* The quiet spell before a fold: FOLD_DELAY_MS, or MM_AUTOSAVE_DELAY_MS (100 ms .. 1 h) so
 * the crash-recovery test can kill the app while its strokes are surely still only in the
 * journal, however slow the machine is. */
static guint
fold_delay_ms (void)
{
  const char *env = g_getenv ("MM_AUTOSAVE_DELAY_MS");
  if (env != NULL && *env != '\0')
    {
      guint64 v = 0;
      if (g_ascii_string_to_unsigned (env, 10, 100, 3600000, &v, NULL))
        return (guint) v;
    }
  return FOLD_DELAY_MS;
}

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

struct _MmTools
{
  MmWindow *window; /* borrowed: owns us */
  Tool tool;

  /* widgets, owned by the window's tree */
  GtkToggleButton *tool_buttons[N_TOOLS];
  GtkSpinButton *radius_spin, *lower_spin, *upper_spin, *small_spin;
  GtkCheckButton *sphere_check, *hu_check;
  GtkDropDown *island_mode;
  GtkDrawingArea *histogram;
  GtkLabel *suggest_label, *status_label;
  GtkButton *undo_button, *redo_button;
  GtkButton *interp_apply, *interp_cancel;
  int interp_lo, interp_hi;

  /* owned */
  MmHistory *history;
  MmJournal *journal;
  char *project_dir;
  GArray *stroke_slices; /* slices touched by the step in progress */
  guint fold_id;
  bool in_step;
};

/* ---- helpers ---- */

static MmViewer *
viewer (MmTools *t)
{
  return t->window->viewer;
}

static void attach_mask (MmTools *t);

static MmMask *
editable_mask (MmTools *t)
{
  const MmVolume *vol = mm_viewer_get_volume (viewer (t));
  if (vol == NULL)
    return NULL;
  if (mm_viewer_get_mask (viewer (t)) == NULL)
    {
      /* The first edit of a series starts from an empty mask, with its history and journal. */
      mm_viewer_set_mask (viewer (t), mm_mask_new (vol->dims));
      attach_mask (t);
    }
  return mm_viewer_get_mask_mutable (viewer (t));
}

static void
update_undo_buttons (MmTools *t)
{
  bool can_undo = t->history && mm_history_get_n_undo (t->history) > 0;
  bool can_redo = t->history && mm_history_get_n_redo (t->history) > 0;
  gtk_widget_action_set_enabled (GTK_WIDGET (t->window), "win.undo", can_undo);
  gtk_widget_action_set_enabled (GTK_WIDGET (t->window), "win.redo", can_redo);
}

static void
set_status (MmTools *t, const char *text)
{
  gtk_label_set_text (t->status_label, text);
}

static gboolean
fold_cb (gpointer data)
{
  MmTools *t = data;
  t->fold_id = 0;
  mm_tools_save_now (t);
  return G_SOURCE_REMOVE;
}

static void
touch_cb (int k, gpointer data)
{
  MmTools *t = data;
  if (t->history)
    mm_history_touch (t->history, k);
  g_array_append_val (t->stroke_slices, k);
}

static void
drop_preview (MmTools *t)
{
  if (mm_viewer_has_preview_mask (viewer (t)))
    mm_viewer_set_preview_mask (viewer (t), NULL);
  if (t->interp_apply)
    {
      gtk_widget_set_visible (GTK_WIDGET (t->interp_apply), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (t->interp_cancel), FALSE);
    }
}

static void
begin_step (MmTools *t, const char *label)
{
  if (t->in_step)
    return;
  /* Any edit ends an interpolation preview: it was computed from the mask before the edit. */
  drop_preview (t);
  g_array_set_size (t->stroke_slices, 0);
  if (t->history)
    mm_history_begin (t->history, label);
  t->in_step = true;
}

/* A finished stroke or operation: one undo step, journalled at once (fdatasync), folded into
 * the PNG stack after a quiet spell. */
static void
end_step (MmTools *t)
{
  if (!t->in_step)
    return;
  t->in_step = false;
  bool changed = t->history ? mm_history_commit (t->history) : t->stroke_slices->len > 0;
  int n = 0;
  const int *slices = t->history ? mm_history_get_changed (t->history, &n)
                                 : (const int *) t->stroke_slices->data;
  if (!t->history)
    n = t->stroke_slices->len;
  if (changed && t->journal)
    {
      g_autoptr (GError) error = NULL;
      if (!mm_journal_append (t->journal, slices, n, &error))
        mm_window_toast (t->window, error->message);
      else
        {
          g_clear_handle_id (&t->fold_id, g_source_remove);
          t->fold_id = g_timeout_add (fold_delay_ms (), fold_cb, t);
          set_status (t, _("Edits journalled; saving…"));
        }
    }
  mm_viewer_mask_edited (viewer (t));
  update_undo_buttons (t);
  mm_window_update_slice_marks (t->window);
}

/* ---- tools ---- */

static void
get_brush (MmTools *t, MmBrush *b)
{
  b->radius_mm = gtk_spin_button_get_value (t->radius_spin);
  b->sphere = gtk_check_button_get_active (t->sphere_check);
  b->value = t->tool == TOOL_ERASER ? 0 : 1;
  b->hu_limited = gtk_check_button_get_active (t->hu_check);
  b->hu_lower = gtk_spin_button_get_value (t->lower_spin);
  b->hu_upper = gtk_spin_button_get_value (t->upper_spin);
}

static void
update_views (MmTools *t)
{
  bool painting = t->tool == TOOL_BRUSH || t->tool == TOOL_ERASER;
  double r = painting ? gtk_spin_button_get_value (t->radius_spin) : 0;
  for (int p = 0; p < 3; p++)
    mm_slice_view_set_tool (t->window->views[p], t->tool != TOOL_NONE && t->tool != TOOL_THRESHOLD, r);
  mm_viewer_set_preview (viewer (t), t->tool == TOOL_THRESHOLD,
                         gtk_spin_button_get_value (t->lower_spin),
                         gtk_spin_button_get_value (t->upper_spin));
  gtk_widget_queue_draw (GTK_WIDGET (t->histogram));
}

static void
set_tool (MmTools *t, Tool tool)
{
  t->tool = tool;
  for (int i = 0; i < N_TOOLS; i++)
    gtk_toggle_button_set_active (t->tool_buttons[i], i == (int) tool);
  update_views (t);
}

static void
tool_stroke_cb (MmSliceView *view, double u0, double v0, double u1, double v1, MmTools *t)
{
  if (t->tool != TOOL_BRUSH && t->tool != TOOL_ERASER)
    return;
  MmMask *mask = editable_mask (t);
  if (mask == NULL)
    return;
  MmBrush b;
  get_brush (t, &b);
  begin_step (t, t->tool == TOOL_BRUSH ? _("Brush") : _("Eraser"));
  MmPlane plane = mm_slice_view_get_plane (view);
  if (mm_edit_brush_segment (mask, mm_viewer_get_volume (viewer (t)), plane,
                             mm_viewer_get_depth (viewer (t), plane), u0, v0, u1, v1, &b,
                             touch_cb, t) > 0)
    mm_viewer_mask_edited (viewer (t));
}

static void
tool_done_cb (MmSliceView *view, MmTools *t)
{
  end_step (t);
}

static void
tool_click_cb (MmSliceView *view, double u, double v, MmTools *t)
{
  if (t->tool != TOOL_ISLANDS)
    return;
  const MmVolume *vol = mm_viewer_get_volume (viewer (t));
  MmMask *mask = editable_mask (t);
  MmPlane plane = mm_slice_view_get_plane (view);
  MmPlaneGeometry g;
  mm_plane_geometry (vol, plane, &g);
  int iu = (int) floor (u), iv = (int) floor (v), ijk[3];
  if (iu < 0 || iv < 0 || iu >= g.width || iv >= g.height)
    return;
  mm_plane_to_index (vol, plane, iu, iv, mm_viewer_get_depth (viewer (t), plane), ijk);
  MmIslandAction action = gtk_drop_down_get_selected (t->island_mode) == 0 ? MM_ISLAND_REMOVE
                                                                            : MM_ISLAND_KEEP_ONLY;
  begin_step (t, _("Islands"));
  uint64_t n = mm_edit_island (mask, ijk, action, touch_cb, t);
  end_step (t);
  g_autofree char *msg = n ? g_strdup_printf (_("Islands: %llu voxels removed"), (unsigned long long) n)
                           : g_strdup (_("Islands: click on the mask"));
  set_status (t, msg);
}

static void
apply_threshold (MmTools *t, bool all)
{
  MmMask *mask = editable_mask (t);
  if (mask == NULL)
    return;
  int k = mm_viewer_get_depth (viewer (t), MM_PLANE_AXIAL);
  begin_step (t, _("Threshold"));
  uint64_t n = mm_edit_threshold (mask, mm_viewer_get_volume (viewer (t)), all ? 0 : k,
                                  all ? mask->dims[2] - 1 : k,
                                  gtk_spin_button_get_value (t->lower_spin),
                                  gtk_spin_button_get_value (t->upper_spin), touch_cb, t);
  end_step (t);
  g_autofree char *msg = g_strdup_printf (_("Threshold: %llu voxels changed"), (unsigned long long) n);
  set_status (t, msg);
}

static void
apply_slice_cb (GtkButton *b, MmTools *t)
{
  apply_threshold (t, false);
}

static void
apply_all_cb (GtkButton *b, MmTools *t)
{
  apply_threshold (t, true);
}

static void
remove_small_cb (GtkButton *b, MmTools *t)
{
  MmMask *mask = editable_mask (t);
  if (mask == NULL)
    return;
  begin_step (t, _("Remove small islands"));
  uint64_t n = mm_edit_remove_small (mask, mm_viewer_get_volume (viewer (t)),
                                     gtk_spin_button_get_value (t->small_spin), touch_cb, t);
  end_step (t);
  g_autofree char *msg = g_strdup_printf (_("%llu voxels in small islands removed"), (unsigned long long) n);
  set_status (t, msg);
}

static void
fill_holes (MmTools *t, bool all)
{
  MmMask *mask = editable_mask (t);
  if (mask == NULL)
    return;
  int k = mm_viewer_get_depth (viewer (t), MM_PLANE_AXIAL);
  begin_step (t, _("Fill holes"));
  mm_edit_fill_holes (mask, all ? 0 : k, all ? mask->dims[2] - 1 : k, touch_cb, t);
  end_step (t);
}

static void
fill_slice_cb (GtkButton *b, MmTools *t)
{
  fill_holes (t, false);
}

static void
fill_all_cb (GtkButton *b, MmTools *t)
{
  fill_holes (t, true);
}

/* Fill between slices in two clicks: the first shows the interpolation as the overlay, the
 * second (Apply) writes it as one undoable step; Cancel drops it. */
static void
interpolate_cb (GtkButton *b, MmTools *t)
{
  MmMask *mask = editable_mask (t);
  if (mask == NULL)
    return;
  int k = mm_viewer_get_depth (viewer (t), MM_PLANE_AXIAL);
  int lo = mm_mask_slice_is_empty (mask, k) ? mm_edit_next_slice_with_mask (mask, k, -1) : k;
  int hi = mm_edit_next_slice_with_mask (mask, k, 1);
  if (lo < 0 || hi < 0 || hi - lo < 2)
    {
      mm_window_toast (t->window, _("Interpolation needs annotated slices on both sides with "
                                    "empty slices between them"));
      return;
    }
  const MmVolume *vol = mm_viewer_get_volume (viewer (t));
  MmMask *preview = mm_mask_copy (mask);
  mm_edit_interpolate (preview, vol, lo, hi, true, NULL, NULL, NULL);
  mm_viewer_set_preview_mask (viewer (t), preview);
  t->interp_lo = lo;
  t->interp_hi = hi;
  gtk_widget_set_visible (GTK_WIDGET (t->interp_apply), TRUE);
  gtk_widget_set_visible (GTK_WIDGET (t->interp_cancel), TRUE);
  g_autofree char *msg = g_strdup_printf (_("Preview: slices %d to %d filled from %d and %d; "
                                            "Apply or Cancel"), lo + 2, hi, lo + 1, hi + 1);
  set_status (t, msg);
}

static void
interpolate_done (MmTools *t, bool apply)
{
  drop_preview (t);
  MmMask *mask = mm_viewer_get_mask_mutable (viewer (t));
  if (!apply || mask == NULL)
    {
      set_status (t, _("Interpolation cancelled"));
      return;
    }
  begin_step (t, _("Fill between slices"));
  mm_edit_interpolate (mask, mm_viewer_get_volume (viewer (t)), t->interp_lo, t->interp_hi, true,
                       NULL, touch_cb, t);
  end_step (t);
  g_autofree char *msg = g_strdup_printf (_("Filled slices %d to %d from %d and %d"),
                                          t->interp_lo + 2, t->interp_hi, t->interp_lo + 1,
                                          t->interp_hi + 1);
  set_status (t, msg);
}

static void
interpolate_apply_cb (GtkButton *b, MmTools *t)
{
  interpolate_done (t, true);
}

static void
interpolate_cancel_cb (GtkButton *b, MmTools *t)
{
  interpolate_done (t, false);
}

static void
clear (MmTools *t, bool all)
{
  MmMask *mask = editable_mask (t);
  if (mask == NULL)
    return;
  int k = mm_viewer_get_depth (viewer (t), MM_PLANE_AXIAL);
  begin_step (t, all ? _("Clear all") : _("Clear slice"));
  for (int kk = all ? 0 : k; kk <= (all ? mask->dims[2] - 1 : k); kk++)
    if (!mm_mask_slice_is_empty (mask, kk))
      {
        touch_cb (kk, t);
        memset (mm_mask_slice (mask, kk), 0, (size_t) mask->dims[0] * mask->dims[1]);
      }
  end_step (t);
}

static void
clear_slice_cb (GtkButton *b, MmTools *t)
{
  clear (t, false);
}

static void
clear_all_response_cb (AdwMessageDialog *dialog, const char *response, MmTools *t)
{
  if (g_strcmp0 (response, "clear") == 0)
    clear (t, true);
}

static void
clear_all_cb (GtkButton *b, MmTools *t)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (t->window), _("Clear the Whole Mask?"),
                                              _("Every slice's mask is erased. Undo brings it back."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "clear",
                                    _("C_lear All"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "clear",
                                              ADW_RESPONSE_DESTRUCTIVE);
  g_signal_connect (dialog, "response", G_CALLBACK (clear_all_response_cb), t);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- histogram and suggested threshold ---- */

static void
suggest_threshold (MmTools *t)
{
  const MmStats *st = mm_viewer_get_stats (viewer (t));
  const MmVolume *vol = mm_viewer_get_volume (viewer (t));
  if (st == NULL || vol == NULL)
    return;
  if (!mm_volume_is_hu (vol) || vol->not_acquired)
    {
      /* The suggestion reads HU off the histogram: say why there is none. */
      g_autofree char *why
          = vol->not_acquired
                ? g_strdup_printf (_("This is %s, not a CT volume: a threshold in HU does not "
                                     "apply to its values"), vol->not_acquired)
                : g_strdup_printf (_("These values are %s, not HU: a threshold in HU does not "
                                     "apply to them"), mm_volume_unit (vol));
      gtk_label_set_text (t->suggest_label, why);
      return;
    }
  g_autofree char *text = NULL;
  double suggestion = 3000;
  int at3071 = 3071 - st->hist_min;
  uint64_t above = 0;
  for (int b = MAX (0, 2500 - st->hist_min); b < st->n_bins; b++)
    above += st->hist[b];
  if (st->max == 3071 && at3071 >= 0 && at3071 < st->n_bins && st->hist[at3071] > 100)
    {
      suggestion = 3071;
      text = g_strdup (_("The data are clipped at 3071 HU (the top of a 12-bit scale): metal and "
                         "dense bone can share that value, so a threshold cannot tell them apart"));
    }
  else if (above == 0)
    text = g_strdup (_("No voxel above 2500 HU: this series shows no metal"));
  else
    {
      /* The emptiest 100 HU between cortical bone (up to ~2000 HU) and metal. */
      int best = -1;
      uint64_t best_n = G_MAXUINT64;
      for (int hu = 2000; hu <= 4000 && hu + 100 - st->hist_min < st->n_bins; hu += 50)
        {
          uint64_t n = 0;
          for (int b = hu - st->hist_min; b < hu + 100 - st->hist_min; b++)
            if (b >= 0)
              n += st->hist[b];
          if (n < best_n)
            best_n = n, best = hu + 50;
        }
      suggestion = MAX (best, 2500);
      text = g_strdup_printf (_("%.0f HU: the emptiest part of the histogram between cortical "
                                "bone and metal (%llu voxels within ±50 HU)"),
                              suggestion, (unsigned long long) best_n);
    }
  gtk_label_set_text (t->suggest_label, text);
  gtk_spin_button_set_value (t->lower_spin, suggestion);
}

static void
histogram_draw_cb (GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  MmTools *t = data;
  const MmStats *st = mm_viewer_get_stats (viewer (t));
  cairo_set_source_rgb (cr, 0.12, 0.12, 0.12);
  cairo_paint (cr);
  if (st == NULL || st->n_bins <= 0)
    return;
  /* Log counts in bins across [min, max] HU: the metal peak stays visible beside air. */
  int nb = w;
  double lo = st->hist_min, hi = st->hist_min + st->n_bins;
  g_autofree double *bins = g_new0 (double, nb);
  for (int b = 0; b < st->n_bins; b++)
    bins[MIN (nb - 1, (int) ((double) b / st->n_bins * nb))] += st->hist[b];
  double top = 1;
  for (int x = 0; x < nb; x++)
    top = MAX (top, log10 (1 + bins[x]));
  cairo_set_source_rgb (cr, 0.7, 0.7, 0.7);
  for (int x = 0; x < nb; x++)
    {
      double bh = log10 (1 + bins[x]) / top * (h - 2);
      cairo_rectangle (cr, x, h - bh, 1, bh);
    }
  cairo_fill (cr);
  double l = gtk_spin_button_get_value (t->lower_spin), u = gtk_spin_button_get_value (t->upper_spin);
  double xl = (l - lo) / (hi - lo) * w, xu = (MIN (u, hi) - lo) / (hi - lo) * w;
  cairo_set_source_rgba (cr, 1, 0.23, 0.19, 0.35);
  cairo_rectangle (cr, xl, 0, MAX (1, xu - xl), h);
  cairo_fill (cr);
}

/* Dragging on the histogram moves the nearer end of the range to the pointer: the overlay
 * previews the new range live on every plane. */
static void
histogram_drag (MmTools *t, double x)
{
  const MmStats *st = mm_viewer_get_stats (viewer (t));
  int w = gtk_widget_get_width (GTK_WIDGET (t->histogram));
  if (st == NULL || w <= 0)
    return;
  double hu = st->hist_min + CLAMP (x / w, 0.0, 1.0) * st->n_bins;
  double lo = gtk_spin_button_get_value (t->lower_spin), hi = gtk_spin_button_get_value (t->upper_spin);
  double hi_shown = MIN (hi, st->hist_min + st->n_bins);
  if (t->tool != TOOL_THRESHOLD)
    set_tool (t, TOOL_THRESHOLD);
  if (fabs (hu - lo) <= fabs (hu - hi_shown))
    gtk_spin_button_set_value (t->lower_spin, MIN (round (hu), hi));
  else
    gtk_spin_button_set_value (t->upper_spin, MAX (round (hu), lo));
}

static void
histogram_drag_begin_cb (GtkGestureDrag *g, double x, double y, MmTools *t)
{
  histogram_drag (t, x);
}

static void
histogram_drag_update_cb (GtkGestureDrag *g, double dx, double dy, MmTools *t)
{
  double x0, y0;
  gtk_gesture_drag_get_start_point (g, &x0, &y0);
  histogram_drag (t, x0 + dx);
}

static void
range_changed_cb (GtkSpinButton *spin, MmTools *t)
{
  update_views (t);
}

/* ---- autosave ---- */

/* The project folder: see mm_path_project_dir. */
char *
mm_tools_project_dir_for (const char *source, const char *series_uid)
{
  return mm_path_project_dir (source, series_uid);
}

/* Undo history and autosave for the viewer's mask: the saved one is loaded (and a leftover
 * journal replayed) when the series has a project folder. */
static void
attach_mask (MmTools *t)
{
  drop_preview (t);
  g_clear_handle_id (&t->fold_id, g_source_remove);
  g_clear_pointer (&t->history, mm_history_free);
  g_clear_pointer (&t->journal, mm_journal_close);
  g_clear_pointer (&t->project_dir, g_free);
  t->in_step = false;
  const MmVolume *vol = mm_viewer_get_volume (viewer (t));
  if (vol == NULL)
    return;
  MmMask *mask = mm_viewer_get_mask_mutable (viewer (t));
  if (mask == NULL)
    {
      /* Masks saved beside the series come back with it, matched by SOP Instance UID. */
      t->project_dir
          = mm_tools_project_dir_for (mm_viewer_get_source (viewer (t)), vol->series_uid);
      if (!g_file_test (t->project_dir, G_FILE_TEST_IS_DIR) || t->window->screenshot_path
          || t->window->bench_frames > 0)
        {
          update_undo_buttons (t);
          set_status (t, _("No saved mask for this series"));
          return;
        }
      mm_viewer_set_mask (viewer (t), mm_mask_new (vol->dims));
      mask = mm_viewer_get_mask_mutable (viewer (t));
    }
  if (t->project_dir == NULL)
    t->project_dir
        = mm_tools_project_dir_for (mm_viewer_get_source (viewer (t)), vol->series_uid);
  t->history = mm_history_new (mask, HISTORY_BUDGET);
  if (t->window->screenshot_path || t->window->bench_frames > 0)
    {
      /* Test and benchmark runs edit in memory only. */
      update_undo_buttons (t);
      mm_window_update_slice_marks (t->window);
      return;
    }
  g_autoptr (GError) error = NULL;
  bool recovered = false;
  t->journal = mm_journal_open (t->project_dir, vol, mask, &recovered, &error);
  if (t->journal == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Edits are not saved: %s"), error->message);
      mm_window_toast (t->window, msg);
      set_status (t, msg);
    }
  else if (recovered || mm_journal_get_n_lost (t->journal) > 0)
    {
      int lost = mm_journal_get_n_lost (t->journal);
      g_autofree char *msg
          = lost == 0 ? g_strdup_printf (_("Recovered unsaved edits from %s"), t->project_dir)
                      : g_strdup_printf (_("Recovered unsaved edits from %s, but %d damaged "
                                           "edits in its journal could not be recovered"),
                                         t->project_dir, lost);
      mm_window_toast (t->window, msg);
      set_status (t, msg);
      /* Into the label stack soon, as after any edit. */
      t->fold_id = g_timeout_add (fold_delay_ms (), fold_cb, t);
    }
  else
    {
      g_autofree char *msg = g_strdup_printf (_("Mask saved in %s"), t->project_dir);
      set_status (t, msg);
    }
  mm_viewer_mask_edited (viewer (t));
  update_undo_buttons (t);
  mm_window_update_slice_marks (t->window);
}

bool
mm_tools_import_mask (MmTools *t, const MmMask *imported)
{
  MmMask *mask = editable_mask (t);
  if (mask == NULL || memcmp (mask->dims, imported->dims, sizeof mask->dims) != 0)
    return false;
  /* An import is one undoable edit of the mask being annotated, journalled like a stroke. */
  size_t n = (size_t) mask->dims[0] * mask->dims[1];
  begin_step (t, _("Load mask"));
  for (int k = 0; k < mask->dims[2]; k++)
    if (memcmp (mm_mask_slice (mask, k), mm_mask_slice (imported, k), n) != 0)
      {
        touch_cb (k, t);
        memcpy (mm_mask_slice (mask, k), mm_mask_slice (imported, k), n);
      }
  end_step (t);
  return true;
}

void
mm_tools_series_changed (MmTools *t)
{
  /* A new series: its histogram, the threshold it suggests, its saved mask. */
  suggest_threshold (t);
  gtk_widget_queue_draw (GTK_WIDGET (t->histogram));
  attach_mask (t);
}

void
mm_tools_save_now (MmTools *t)
{
  if (t == NULL || t->journal == NULL)
    return;
  g_clear_handle_id (&t->fold_id, g_source_remove);
  g_autoptr (GError) error = NULL;
  if (!mm_journal_fold (t->journal, &error))
    {
      mm_window_toast (t->window, error->message);
      set_status (t, error->message);
      return;
    }
  g_autofree char *msg = g_strdup_printf (_("Mask saved in %s"), t->project_dir);
  set_status (t, msg);
}

/* ---- actions ---- */

static MmTools *
tools_of (GtkWidget *widget)
{
  return MM_WINDOW (widget)->tools;
}

static void
tool_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmTools *t = tools_of (widget);
  const char *id = g_variant_get_string (param, NULL);
  for (int i = 0; i < N_TOOLS; i++)
    if (g_str_equal (id, tool_ids[i]))
      set_tool (t, t->tool == (Tool) i ? TOOL_NONE : (Tool) i);
}

static void
undo_redo_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmTools *t = tools_of (widget);
  if (t->history == NULL)
    return;
  bool undo = g_str_equal (name, "win.undo");
  if (!(undo ? mm_history_undo (t->history, NULL, NULL) : mm_history_redo (t->history, NULL, NULL)))
    return;
  int n = 0;
  const int *slices = mm_history_get_changed (t->history, &n);
  if (t->journal && n)
    {
      g_autoptr (GError) error = NULL;
      if (!mm_journal_append (t->journal, slices, n, &error))
        mm_window_toast (t->window, error->message);
      g_clear_handle_id (&t->fold_id, g_source_remove);
      t->fold_id = g_timeout_add (fold_delay_ms (), fold_cb, t);
    }
  mm_viewer_mask_edited (viewer (t));
  update_undo_buttons (t);
  mm_window_update_slice_marks (t->window);
}

static void
radius_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmTools *t = tools_of (widget);
  double r = gtk_spin_button_get_value (t->radius_spin);
  r = g_str_equal (name, "win.radius-up") ? r * 1.25 : r / 1.25;
  gtk_spin_button_set_value (t->radius_spin, r);
}

static void
next_metal_action (GtkWidget *widget, const char *name, GVariant *param)
{
  MmTools *t = tools_of (widget);
  const MmMask *mask = mm_viewer_get_mask (viewer (t));
  if (mask == NULL)
    return;
  int k = mm_viewer_get_depth (viewer (t), MM_PLANE_AXIAL);
  int next = mm_edit_next_slice_with_mask (mask, k, g_variant_get_int32 (param));
  if (next >= 0)
    mm_viewer_set_depth (viewer (t), MM_PLANE_AXIAL, next);
}

static void
segment_action (GtkWidget *widget, const char *name, GVariant *param)
{
  /* Ctrl+M: the default segmentation, as one undoable step (the CLI's segment with its
   * defaults: threshold and 26-connected components, none dropped). */
  MmTools *t = tools_of (widget);
  gtk_spin_button_set_value (t->lower_spin, 3000);
  gtk_spin_button_set_value (t->upper_spin, 32767);
  apply_threshold (t, true);
  const MmMask *mask = mm_viewer_get_mask (viewer (t));
  if (mask)
    {
      g_autofree char *text = g_strdup_printf (_("Threshold 3000 HU: %llu voxels"),
                                               (unsigned long long) mm_mask_count (mask));
      gtk_label_set_text (t->window->mask_label, text);
    }
}

static void
add_key (GtkWidgetClass *klass, guint key, GdkModifierType mods, const char *action,
         const char *format, const char *arg)
{
  GtkShortcut *s = gtk_shortcut_new (gtk_keyval_trigger_new (key, mods), gtk_named_action_new (action));
  if (format)
    gtk_shortcut_set_arguments (s, g_variant_new (format, arg));
  gtk_widget_class_add_shortcut (klass, s);
  g_object_unref (s);
}

void
mm_tools_class_init (GtkWidgetClass *klass)
{
  gtk_widget_class_install_action (klass, "win.tool", "s", tool_action);
  gtk_widget_class_install_action (klass, "win.undo", NULL, undo_redo_action);
  gtk_widget_class_install_action (klass, "win.redo", NULL, undo_redo_action);
  gtk_widget_class_install_action (klass, "win.radius-up", NULL, radius_action);
  gtk_widget_class_install_action (klass, "win.radius-down", NULL, radius_action);
  gtk_widget_class_install_action (klass, "win.next-metal", "i", next_metal_action);
  gtk_widget_class_install_action (klass, "win.segment", NULL, segment_action);
  add_key (klass, GDK_KEY_m, GDK_CONTROL_MASK, "win.segment", NULL, NULL);
  add_key (klass, GDK_KEY_z, GDK_CONTROL_MASK, "win.undo", NULL, NULL);
  add_key (klass, GDK_KEY_Z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.redo", NULL, NULL);
  /* The tool letters, [ ] and N are viewer keys (mm-viewer-keys.c): they work from any
   * widget but a text field. */
}

/* ---- panel ---- */

/* A row of controls that wraps when the panel is narrow. */
static GtkWidget *
row (GtkWidget *first, ...)
{
  GtkWidget *box = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (box), GTK_SELECTION_NONE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (box), 6);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (box), 6);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (box), 8);
  va_list ap;
  va_start (ap, first);
  for (GtkWidget *w = first; w; w = va_arg (ap, GtkWidget *))
    {
      gtk_flow_box_append (GTK_FLOW_BOX (box), w);
      gtk_widget_set_focusable (gtk_widget_get_parent (w), FALSE);
    }
  va_end (ap);
  return box;
}

static GtkWidget *
button (const char *label, const char *tooltip, GCallback cb, MmTools *t)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  gtk_widget_set_tooltip_text (b, tooltip);
  g_signal_connect (b, "clicked", cb, t);
  return b;
}

static GtkSpinButton *
spin (double lo, double hi, double step, double value, int digits, const char *name)
{
  GtkWidget *s = gtk_spin_button_new_with_range (lo, hi, step);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (s), digits);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (s), value);
  /* Digits only: a viewer key typed here (v, b, ...) goes to the viewer, not into the
   * number (mm-viewer-keys.c); the wheel changes it only once it has the focus. */
  gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (s), TRUE);
  mm_scroll_guard_attach (s);
  gtk_accessible_update_property (GTK_ACCESSIBLE (s), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_widget_set_tooltip_text (s, name);
  return GTK_SPIN_BUTTON (s);
}

MmTools *
mm_tools_new (MmWindow *window)
{
  MmTools *t = g_new0 (MmTools, 1);
  t->window = window;
  t->stroke_slices = g_array_new (FALSE, FALSE, sizeof (int));
  GtkBox *box = window->tools_box;

  GtkWidget *heading = gtk_label_new (_("Tools"));
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_add_css_class (heading, "heading");
  gtk_box_append (box, heading);

  static const char *const names[N_TOOLS] = { N_("View"), N_("Threshold"), N_("Brush"),
                                              N_("Eraser"), N_("Islands") };
  static const char *const tips[N_TOOLS] = {
    N_("No tool: left drag windows"), N_("Threshold (T): preview the HU range, apply to a slice or all"),
    N_("Brush (B): paint the mask; [ and ] change the radius"), N_("Eraser (E)"),
    N_("Islands (Shift+I): click a component to remove it or keep only it")
  };
  GtkWidget *tool_row = gtk_flow_box_new ();
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (tool_row), GTK_SELECTION_NONE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (tool_row), 4);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (tool_row), 5);
  for (int i = 0; i < N_TOOLS; i++)
    {
      GtkWidget *b = gtk_toggle_button_new_with_label (_(names[i]));
      gtk_widget_set_tooltip_text (b, _(tips[i]));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (b), "win.tool");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (b), "s", tool_ids[i]);
      t->tool_buttons[i] = GTK_TOGGLE_BUTTON (b);
      gtk_flow_box_append (GTK_FLOW_BOX (tool_row), b);
      gtk_widget_set_focusable (gtk_widget_get_parent (b), FALSE);
    }
  gtk_box_append (box, tool_row);

  t->radius_spin = spin (0.5, 50, 0.5, 3, 1, _("Brush radius (mm)"));
  t->sphere_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("3D")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (t->sphere_check), _("Paint a ball instead of a disc"));
  t->hu_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("Only threshold range")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (t->hu_check), _("Paint only voxels inside the threshold's HU range"));
  gtk_box_append (box, row (gtk_label_new (_("Radius mm")), GTK_WIDGET (t->radius_spin),
                            GTK_WIDGET (t->sphere_check), GTK_WIDGET (t->hu_check), NULL));
  g_signal_connect_swapped (t->radius_spin, "value-changed", G_CALLBACK (update_views), t);

  t->histogram = GTK_DRAWING_AREA (gtk_drawing_area_new ());
  gtk_drawing_area_set_content_height (t->histogram, 60);
  gtk_drawing_area_set_draw_func (t->histogram, histogram_draw_cb, t, NULL);
  gtk_widget_set_tooltip_text (GTK_WIDGET (t->histogram),
                               _("Histogram of the volume (log scale) with the threshold range: "
                                 "drag to move the nearer end"));
  GtkGesture *hdrag = gtk_gesture_drag_new ();
  g_signal_connect (hdrag, "drag-begin", G_CALLBACK (histogram_drag_begin_cb), t);
  g_signal_connect (hdrag, "drag-update", G_CALLBACK (histogram_drag_update_cb), t);
  gtk_widget_add_controller (GTK_WIDGET (t->histogram), GTK_EVENT_CONTROLLER (hdrag));
  gtk_box_append (box, GTK_WIDGET (t->histogram));
  t->lower_spin = spin (-4000, 40000, 50, 3000, 0, _("Lower HU"));
  t->upper_spin = spin (-4000, 40000, 50, 32767, 0, _("Upper HU"));
  g_signal_connect (t->lower_spin, "value-changed", G_CALLBACK (range_changed_cb), t);
  g_signal_connect (t->upper_spin, "value-changed", G_CALLBACK (range_changed_cb), t);
  gtk_box_append (box, row (gtk_label_new (_("HU")), GTK_WIDGET (t->lower_spin),
                            gtk_label_new ("–"), GTK_WIDGET (t->upper_spin), NULL));
  t->suggest_label = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (t->suggest_label, TRUE);
  gtk_label_set_xalign (t->suggest_label, 0);
  gtk_widget_add_css_class (GTK_WIDGET (t->suggest_label), "caption");
  gtk_box_append (box, GTK_WIDGET (t->suggest_label));
  gtk_box_append (box, row (button (_("Apply to _Slice"), _("Replace this slice's mask by the range"), G_CALLBACK (apply_slice_cb), t),
                            button (_("Apply to _All"), _("Replace the whole mask by the range"), G_CALLBACK (apply_all_cb), t), NULL));

  const char *modes[] = { _("Remove clicked"), _("Keep only clicked"), NULL };
  t->island_mode = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (modes));
  gtk_widget_set_tooltip_text (GTK_WIDGET (t->island_mode), _("What a click with the Islands tool does"));
  t->small_spin = spin (0, 100000, 10, 50, 0, _("Smallest island kept (mm³)"));
  gtk_box_append (box, row (GTK_WIDGET (t->island_mode), GTK_WIDGET (t->small_spin),
                            button (_("Remove Smaller"), _("Remove islands smaller than this volume"), G_CALLBACK (remove_small_cb), t), NULL));
  gtk_box_append (box, row (button (_("Fill Holes"), _("Fill holes on this slice"), G_CALLBACK (fill_slice_cb), t),
                            button (_("Fill All Holes"), _("Fill holes on every slice"), G_CALLBACK (fill_all_cb), t),
                            button (_("Fill Between"), _("Preview the mask interpolated between the annotated slices around this one"), G_CALLBACK (interpolate_cb), t), NULL));
  t->interp_apply = GTK_BUTTON (button (_("Apply Fill"), _("Write the previewed interpolation into the mask"), G_CALLBACK (interpolate_apply_cb), t));
  t->interp_cancel = GTK_BUTTON (button (_("Cancel Fill"), _("Drop the previewed interpolation"), G_CALLBACK (interpolate_cancel_cb), t));
  gtk_widget_add_css_class (GTK_WIDGET (t->interp_apply), "suggested-action");
  gtk_box_append (box, row (GTK_WIDGET (t->interp_apply), GTK_WIDGET (t->interp_cancel), NULL));
  gtk_widget_set_visible (GTK_WIDGET (t->interp_apply), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (t->interp_cancel), FALSE);
  gtk_box_append (box, row (button (_("Clear Slice"), _("Erase this slice's mask"), G_CALLBACK (clear_slice_cb), t),
                            button (_("Clear All…"), _("Erase the whole mask"), G_CALLBACK (clear_all_cb), t), NULL));
  GtkWidget *undo = gtk_button_new_from_icon_name ("edit-undo-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (undo), "win.undo");
  gtk_widget_set_tooltip_text (undo, _("Undo (Ctrl+Z)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (undo), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Undo"), -1);
  GtkWidget *redo = gtk_button_new_from_icon_name ("edit-redo-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (redo), "win.redo");
  gtk_widget_set_tooltip_text (redo, _("Redo (Ctrl+Shift+Z)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (redo), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Redo"), -1);
  t->status_label = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_wrap (t->status_label, TRUE);
  gtk_label_set_wrap_mode (t->status_label, PANGO_WRAP_WORD_CHAR);
  gtk_label_set_xalign (t->status_label, 0);
  gtk_widget_add_css_class (GTK_WIDGET (t->status_label), "caption");
  gtk_box_append (box, row (undo, redo, GTK_WIDGET (t->status_label), NULL));

  for (int p = 0; p < 3; p++)
    {
      g_signal_connect (window->views[p], "tool-stroke", G_CALLBACK (tool_stroke_cb), t);
      g_signal_connect (window->views[p], "tool-done", G_CALLBACK (tool_done_cb), t);
      g_signal_connect (window->views[p], "tool-click", G_CALLBACK (tool_click_cb), t);
    }
  set_tool (t, TOOL_NONE);
  update_undo_buttons (t);
  return t;
}

void
mm_tools_free (MmTools *t)
{
  if (t == NULL)
    return;
  /* The window is going: fold without touching its widgets; an error leaves the journal,
   * which the next open replays. */
  g_clear_handle_id (&t->fold_id, g_source_remove);
  if (t->journal)
    {
      g_autoptr (GError) error = NULL;
      if (!mm_journal_fold (t->journal, &error))
        g_warning ("%s", error->message);
    }
  g_clear_pointer (&t->history, mm_history_free);
  g_clear_pointer (&t->journal, mm_journal_close);
  g_free (t->project_dir);
  g_array_unref (t->stroke_slices);
  g_free (t);
}
