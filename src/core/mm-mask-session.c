/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmMaskSession: the mask being annotated, its undo history, autosave journal and project
 * folder, and what it is. Every finished step is journalled at once (fdatasync) and folded
 * into the PNG label stack after a quiet spell. */
#include "mm-mask-session.h"

#include "mm-history.h"
#include "mm-journal.h"
#include "mm-mask-summary.h"
#include "mm-path.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#define HISTORY_BUDGET (256u << 20) /* compressed undo data kept, bytes */
#define FOLD_DELAY_MS 2000           /* journal folded into the PNG stack after a quiet spell */

G_DEFINE_ENUM_TYPE (MmMaskSource, mm_mask_source,
                    G_DEFINE_ENUM_VALUE (MM_MASK_SOURCE_NONE, "none"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SOURCE_THRESHOLD, "threshold"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SOURCE_EDITS, "edits"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SOURCE_MODEL, "model"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SOURCE_FILE, "file"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SOURCE_RECOVERED, "recovered"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SOURCE_SAVED, "saved"))

G_DEFINE_ENUM_TYPE (MmMaskSaveState, mm_mask_save_state,
                    G_DEFINE_ENUM_VALUE (MM_MASK_SAVE_NONE, "none"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SAVE_IN_MEMORY, "in-memory"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SAVE_UNSAVED, "unsaved"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SAVE_SAVED, "saved"),
                    G_DEFINE_ENUM_VALUE (MM_MASK_SAVE_FAILED, "failed"))

/* What the mask is after a step: one entry per state the undo cursor can stand on. */
typedef struct
{
  MmMaskSource source;
  char *detail;
} Origin;

static void
origin_clear (Origin *o)
{
  g_clear_pointer (&o->detail, g_free);
}

struct _MmMaskSession
{
  GObject parent_instance;

  /* borrowed */
  const MmVolume *vol;

  /* owned */
  MmMask *mask;
  MmHistory *history;
  MmJournal *journal;
  char *source_path;
  char *project_dir;
  char *save_error;
  GArray *origins; /* Origin; origins[cursor] is what the mask is now */
  guint cursor;
  guint fold_id, figures_id;

  bool in_memory, in_step;
  MmMaskSaveState save_state;
  MmMaskSummary figures;
  bool figures_known;
};

enum
{
  PROP_0,
  PROP_SOURCE,
  PROP_SOURCE_DETAIL,
  PROP_HAS_MASK,
  PROP_VOXELS,
  PROP_VOLUME_ML,
  PROP_SLICES,
  PROP_COMPONENTS,
  PROP_SAVE_STATE,
  PROP_SAVE_ERROR,
  PROP_PROJECT_DIR,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  PROP_UNDO_LABEL,
  PROP_REDO_LABEL,
  N_PROPS
};

enum
{
  SIGNAL_CHANGED,
  SIGNAL_MESSAGE,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (MmMaskSession, mm_mask_session, G_TYPE_OBJECT)

/* The quiet spell before a fold: FOLD_DELAY_MS, or MM_AUTOSAVE_DELAY_MS (100 ms .. 1 h) so
 * the crash-recovery test can kill the app while its strokes are surely still only in the
 * journal, however slow the machine is. */
static guint
fold_delay_ms (void)
{
  const char *env = g_getenv ("MM_AUTOSAVE_DELAY_MS");
  guint64 v = 0;
  if (env != NULL && *env != '\0' && g_ascii_string_to_unsigned (env, 10, 100, 3600000, &v, NULL))
    return (guint) v;
  return FOLD_DELAY_MS;
}

/* ---- state changes, each notified ---- */

static void
set_save_state (MmMaskSession *self, MmMaskSaveState state, const char *error)
{
  if (g_strcmp0 (self->save_error, error) != 0)
    {
      g_free (self->save_error);
      self->save_error = g_strdup (error);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SAVE_ERROR]);
    }
  if (self->save_state != state)
    {
      self->save_state = state;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SAVE_STATE]);
    }
}

static const Origin *
origin_now (MmMaskSession *self)
{
  return &g_array_index (self->origins, Origin, self->cursor);
}

static void
reset_origins (MmMaskSession *self, MmMaskSource source, const char *detail)
{
  g_array_set_size (self->origins, 0);
  Origin o = { source, g_strdup (detail) };
  g_array_append_val (self->origins, o);
  self->cursor = 0;
}

static void
push_origin (MmMaskSession *self, MmMaskSource source, const char *detail)
{
  /* A new step forgets the redo list, as the history does. */
  g_array_set_size (self->origins, self->cursor + 1);
  Origin o = { source, g_strdup (detail) };
  g_array_append_val (self->origins, o);
  self->cursor++;
}

static void
notify_undo (MmMaskSession *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CAN_UNDO]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CAN_REDO]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_UNDO_LABEL]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_REDO_LABEL]);
}

static void
notify_source (MmMaskSession *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SOURCE]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SOURCE_DETAIL]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_HAS_MASK]);
}

/* Voxels, volume and slices now; components (a pass over the whole mask) now when all is
 * true, else left to an idle. */
static void
set_figures (MmMaskSession *self, bool all)
{
  MmMaskSummary s = { 0 };
  if (self->mask && all)
    mm_mask_summarize (self->mask, self->vol, 0, &s);
  else if (self->mask)
    mm_mask_summarize_counts (self->mask, self->vol, &s);
  bool known = self->figures_known;
  MmMaskSummary old = self->figures;
  self->figures = s;
  self->figures_known = true;
  g_object_freeze_notify (G_OBJECT (self));
  if (!known || old.voxels != s.voxels)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_VOXELS]);
  if (!known || old.volume_ml != s.volume_ml)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_VOLUME_ML]);
  if (!known || old.slices != s.slices)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SLICES]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_COMPONENTS]);
  g_object_thaw_notify (G_OBJECT (self));
}

void
mm_mask_session_update_figures (MmMaskSession *self)
{
  g_return_if_fail (MM_IS_MASK_SESSION (self));
  g_clear_handle_id (&self->figures_id, g_source_remove);
  set_figures (self, true);
}

static gboolean
figures_cb (gpointer data)
{
  MmMaskSession *self = data;
  self->figures_id = 0;
  mm_mask_session_update_figures (self);
  return G_SOURCE_REMOVE;
}

/* The mask changed: redraw and count voxels now, components in an idle (a pass over the
 * whole mask, so a burst of steps is counted once). */
static void
mask_changed (MmMaskSession *self)
{
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (self->figures_id == 0)
    self->figures_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, figures_cb, self, NULL);
  set_figures (self, false);
}

/* ---- autosave ---- */

static gboolean
fold_cb (gpointer data)
{
  MmMaskSession *self = data;
  self->fold_id = 0;
  mm_mask_session_save_now (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_fold (MmMaskSession *self)
{
  g_clear_handle_id (&self->fold_id, g_source_remove);
  self->fold_id = g_timeout_add (fold_delay_ms (), fold_cb, self);
}

static void
journal_changed (MmMaskSession *self)
{
  if (self->journal == NULL)
    return;
  int n = 0;
  const int *slices = mm_history_get_changed (self->history, &n);
  if (n == 0)
    return;
  g_autoptr (GError) error = NULL;
  if (!mm_journal_append (self->journal, slices, n, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Edits are not saved: %s"), error->message);
      set_save_state (self, MM_MASK_SAVE_FAILED, msg);
      g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, msg);
      return;
    }
  set_save_state (self, MM_MASK_SAVE_UNSAVED, NULL);
  schedule_fold (self);
}

void
mm_mask_session_save_now (MmMaskSession *self)
{
  g_return_if_fail (MM_IS_MASK_SESSION (self));
  if (self->journal == NULL || self->in_step)
    return;
  g_clear_handle_id (&self->fold_id, g_source_remove);
  g_autoptr (GError) error = NULL;
  if (!mm_journal_fold (self->journal, &error))
    {
      set_save_state (self, MM_MASK_SAVE_FAILED, error->message);
      g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, error->message);
      return;
    }
  set_save_state (self, MM_MASK_SAVE_SAVED, NULL);
}

/* History and journal for the mask: the saved stack is read into it and a leftover journal
 * replayed. False when there is no series. */
static bool
attach (MmMaskSession *self)
{
  self->history = mm_history_new (self->mask, HISTORY_BUDGET);
  if (self->in_memory)
    {
      set_save_state (self, MM_MASK_SAVE_IN_MEMORY, NULL);
      return true;
    }
  g_autoptr (GError) error = NULL;
  bool recovered = false;
  self->journal = mm_journal_open (self->project_dir, self->vol, self->mask, &recovered, &error);
  if (self->journal == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Edits are not saved: %s"), error->message);
      set_save_state (self, MM_MASK_SAVE_FAILED, msg);
      g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, msg);
      return true;
    }
  int lost = mm_journal_get_n_lost (self->journal);
  if (recovered || lost > 0)
    {
      g_autofree char *msg
          = lost == 0 ? g_strdup_printf (_("Recovered unsaved edits from %s"), self->project_dir)
                      : g_strdup_printf (_("Recovered unsaved edits from %s, but %d damaged "
                                           "edits in its journal could not be recovered"),
                                         self->project_dir, lost);
      reset_origins (self, MM_MASK_SOURCE_RECOVERED, NULL);
      set_save_state (self, MM_MASK_SAVE_UNSAVED, NULL);
      g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, msg);
      /* Into the label stack soon, as after any edit. */
      schedule_fold (self);
    }
  else
    set_save_state (self, MM_MASK_SAVE_SAVED, NULL);
  return true;
}

static void
detach (MmMaskSession *self)
{
  /* Fold what is pending; an error leaves the journal, which the next open replays. */
  g_clear_handle_id (&self->fold_id, g_source_remove);
  g_clear_handle_id (&self->figures_id, g_source_remove);
  if (self->journal)
    {
      g_autoptr (GError) error = NULL;
      if (!mm_journal_fold (self->journal, &error))
        g_warning ("%s", error->message);
    }
  g_clear_pointer (&self->history, mm_history_free);
  g_clear_pointer (&self->journal, mm_journal_close);
  g_clear_pointer (&self->mask, mm_mask_free);
  g_clear_pointer (&self->project_dir, g_free);
  g_clear_pointer (&self->source_path, g_free);
  self->vol = NULL;
  self->in_step = false;
}

void
mm_mask_session_set_series (MmMaskSession *self, const MmVolume *vol, const char *source,
                            bool in_memory)
{
  g_return_if_fail (MM_IS_MASK_SESSION (self));
  g_return_if_fail (vol == NULL || source != NULL);
  g_object_freeze_notify (G_OBJECT (self));
  detach (self);
  reset_origins (self, MM_MASK_SOURCE_NONE, NULL);
  set_save_state (self, MM_MASK_SAVE_NONE, NULL);
  self->vol = vol;
  self->in_memory = in_memory;
  if (vol != NULL)
    {
      self->source_path = g_strdup (source);
      self->project_dir = mm_project_dir_for (source, vol->series_uid);
      /* Masks saved beside the series come back with it, matched by SOP Instance UID. */
      if (!in_memory && g_file_test (self->project_dir, G_FILE_TEST_IS_DIR))
        {
          self->mask = mm_mask_new (vol->dims);
          attach (self);
          if (origin_now (self)->source == MM_MASK_SOURCE_NONE)
            reset_origins (self, MM_MASK_SOURCE_SAVED, self->project_dir);
        }
      else if (in_memory)
        set_save_state (self, MM_MASK_SAVE_IN_MEMORY, NULL);
    }
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PROJECT_DIR]);
  notify_source (self);
  notify_undo (self);
  mm_mask_session_update_figures (self);
  g_object_thaw_notify (G_OBJECT (self));
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* ---- steps ---- */

MmMask *
mm_mask_session_begin (MmMaskSession *self, const char *undo_label)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), NULL);
  g_return_val_if_fail (!self->in_step, NULL);
  if (self->vol == NULL)
    return NULL;
  if (self->mask == NULL)
    {
      /* The first edit of a series starts from an empty mask, with its history and journal
       * (which creates the project folder). */
      self->mask = mm_mask_new (self->vol->dims);
      attach (self);
    }
  mm_history_begin (self->history, undo_label);
  self->in_step = true;
  return self->mask;
}

bool
mm_mask_session_in_step (MmMaskSession *self)
{
  return self->in_step;
}

void
mm_mask_session_touch (MmMaskSession *self, int k)
{
  g_return_if_fail (self->in_step);
  mm_history_touch (self->history, k);
}

void
mm_mask_session_touch_cb (int k, gpointer session)
{
  mm_mask_session_touch (session, k);
}

bool
mm_mask_session_end (MmMaskSession *self, MmMaskSource source, const char *detail)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), false);
  if (!self->in_step)
    return false;
  self->in_step = false;
  bool changed = mm_history_commit (self->history);
  if (changed)
    {
      g_object_freeze_notify (G_OBJECT (self));
      push_origin (self, source, detail);
      journal_changed (self);
      notify_source (self);
      notify_undo (self);
      g_object_thaw_notify (G_OBJECT (self));
    }
  /* Redraw even when nothing changed: a stroke drew as it went. */
  mask_changed (self);
  return changed;
}

bool
mm_mask_session_end_whole (MmMaskSession *self, MmMaskSource source, const char *detail)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), false);
  if (!self->in_step)
    return false;
  if (mm_mask_session_end (self, source, detail))
    return true;
  /* The same voxels: nothing to undo, but the mask now is what source says. */
  Origin *o = &g_array_index (self->origins, Origin, self->cursor);
  o->source = source;
  g_free (o->detail);
  o->detail = g_strdup (detail);
  notify_source (self);
  return false;
}

bool
mm_mask_session_replace (MmMaskSession *self, MmMask *mask, MmMaskSource source,
                         const char *label, GError **error)
{
  g_autoptr (MmMask) owned = mask;
  g_return_val_if_fail (MM_IS_MASK_SESSION (self) && mask != NULL, false);
  if (self->vol == NULL || memcmp (mask->dims, self->vol->dims, sizeof mask->dims) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The mask is %d × %d × %d voxels, the series is not: open its series first"),
                   mask->dims[0], mask->dims[1], mask->dims[2]);
      return false;
    }
  if (self->in_step)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                           _("An edit is under way: finish it first"));
      return false;
    }
  const char *undo = source == MM_MASK_SOURCE_MODEL ? _("Detect metal") : _("Load mask");
  MmMask *m = mm_mask_session_begin (self, undo);
  /* An import is one undoable edit of the mask being annotated, journalled like a stroke. */
  mm_edit_replace (m, mask, mm_mask_session_touch_cb, self);
  mm_mask_session_end_whole (self, source, label);
  return true;
}

static bool
undo_redo (MmMaskSession *self, bool undo)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), false);
  if (self->history == NULL || self->in_step)
    return false;
  if (!(undo ? mm_history_undo (self->history, NULL, NULL)
             : mm_history_redo (self->history, NULL, NULL)))
    return false;
  g_object_freeze_notify (G_OBJECT (self));
  if (undo && self->cursor > 0)
    self->cursor--;
  else if (!undo && self->cursor + 1 < self->origins->len)
    self->cursor++;
  journal_changed (self);
  notify_source (self);
  notify_undo (self);
  g_object_thaw_notify (G_OBJECT (self));
  mask_changed (self);
  return true;
}

bool
mm_mask_session_undo (MmMaskSession *self)
{
  return undo_redo (self, true);
}

bool
mm_mask_session_redo (MmMaskSession *self)
{
  return undo_redo (self, false);
}

/* ---- getters ---- */

const MmMask *
mm_mask_session_get_mask (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), NULL);
  return self->mask;
}

const char *
mm_mask_session_get_project_dir (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), NULL);
  return self->project_dir;
}

MmMaskSource
mm_mask_session_get_source (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), MM_MASK_SOURCE_NONE);
  return self->mask ? origin_now (self)->source : MM_MASK_SOURCE_NONE;
}

const char *
mm_mask_session_get_source_detail (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), NULL);
  return self->mask ? origin_now (self)->detail : NULL;
}

MmMaskSaveState
mm_mask_session_get_save_state (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), MM_MASK_SAVE_NONE);
  return self->save_state;
}

const char *
mm_mask_session_get_save_error (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), NULL);
  return self->save_error;
}

guint64
mm_mask_session_get_voxels (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), 0);
  return self->figures.voxels;
}

double
mm_mask_session_get_volume_ml (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), 0);
  return self->figures.volume_ml;
}

int
mm_mask_session_get_slices (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), 0);
  return self->figures.slices;
}

int
mm_mask_session_get_components (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), 0);
  return self->figures_id ? -1 : self->figures.components;
}

bool
mm_mask_session_get_can_undo (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), false);
  return self->history && mm_history_get_n_undo (self->history) > 0;
}

bool
mm_mask_session_get_can_redo (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), false);
  return self->history && mm_history_get_n_redo (self->history) > 0;
}

const char *
mm_mask_session_get_undo_label (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), NULL);
  return self->history ? mm_history_get_undo_label (self->history) : NULL;
}

const char *
mm_mask_session_get_redo_label (MmMaskSession *self)
{
  g_return_val_if_fail (MM_IS_MASK_SESSION (self), NULL);
  return self->history ? mm_history_get_redo_label (self->history) : NULL;
}

/* ---- GObject ---- */

static void
mm_mask_session_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  MmMaskSession *self = MM_MASK_SESSION (object);
  switch (id)
    {
    case PROP_SOURCE: g_value_set_enum (value, mm_mask_session_get_source (self)); break;
    case PROP_SOURCE_DETAIL: g_value_set_string (value, mm_mask_session_get_source_detail (self)); break;
    case PROP_HAS_MASK: g_value_set_boolean (value, self->mask != NULL); break;
    case PROP_VOXELS: g_value_set_uint64 (value, self->figures.voxels); break;
    case PROP_VOLUME_ML: g_value_set_double (value, self->figures.volume_ml); break;
    case PROP_SLICES: g_value_set_int (value, self->figures.slices); break;
    case PROP_COMPONENTS: g_value_set_int (value, mm_mask_session_get_components (self)); break;
    case PROP_SAVE_STATE: g_value_set_enum (value, self->save_state); break;
    case PROP_SAVE_ERROR: g_value_set_string (value, self->save_error); break;
    case PROP_PROJECT_DIR: g_value_set_string (value, self->project_dir); break;
    case PROP_CAN_UNDO: g_value_set_boolean (value, mm_mask_session_get_can_undo (self)); break;
    case PROP_CAN_REDO: g_value_set_boolean (value, mm_mask_session_get_can_redo (self)); break;
    case PROP_UNDO_LABEL: g_value_set_string (value, mm_mask_session_get_undo_label (self)); break;
    case PROP_REDO_LABEL: g_value_set_string (value, mm_mask_session_get_redo_label (self)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
mm_mask_session_dispose (GObject *object)
{
  MmMaskSession *self = MM_MASK_SESSION (object);
  detach (self);
  G_OBJECT_CLASS (mm_mask_session_parent_class)->dispose (object);
}

static void
mm_mask_session_finalize (GObject *object)
{
  MmMaskSession *self = MM_MASK_SESSION (object);
  g_array_unref (self->origins);
  g_free (self->save_error);
  G_OBJECT_CLASS (mm_mask_session_parent_class)->finalize (object);
}

static void
mm_mask_session_class_init (MmMaskSessionClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->get_property = mm_mask_session_get_property;
  oc->dispose = mm_mask_session_dispose;
  oc->finalize = mm_mask_session_finalize;
  GParamFlags f = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  props[PROP_SOURCE] = g_param_spec_enum ("source", NULL, NULL, MM_TYPE_MASK_SOURCE, MM_MASK_SOURCE_NONE, f);
  props[PROP_SOURCE_DETAIL] = g_param_spec_string ("source-detail", NULL, NULL, NULL, f);
  props[PROP_HAS_MASK] = g_param_spec_boolean ("has-mask", NULL, NULL, FALSE, f);
  props[PROP_VOXELS] = g_param_spec_uint64 ("voxels", NULL, NULL, 0, G_MAXUINT64, 0, f);
  props[PROP_VOLUME_ML] = g_param_spec_double ("volume-ml", NULL, NULL, 0, G_MAXDOUBLE, 0, f);
  props[PROP_SLICES] = g_param_spec_int ("slices", NULL, NULL, 0, G_MAXINT, 0, f);
  props[PROP_COMPONENTS] = g_param_spec_int ("components", NULL, NULL, -1, G_MAXINT, 0, f);
  props[PROP_SAVE_STATE] = g_param_spec_enum ("save-state", NULL, NULL, MM_TYPE_MASK_SAVE_STATE, MM_MASK_SAVE_NONE, f);
  props[PROP_SAVE_ERROR] = g_param_spec_string ("save-error", NULL, NULL, NULL, f);
  props[PROP_PROJECT_DIR] = g_param_spec_string ("project-dir", NULL, NULL, NULL, f);
  props[PROP_CAN_UNDO] = g_param_spec_boolean ("can-undo", NULL, NULL, FALSE, f);
  props[PROP_CAN_REDO] = g_param_spec_boolean ("can-redo", NULL, NULL, FALSE, f);
  props[PROP_UNDO_LABEL] = g_param_spec_string ("undo-label", NULL, NULL, NULL, f);
  props[PROP_REDO_LABEL] = g_param_spec_string ("redo-label", NULL, NULL, NULL, f);
  g_object_class_install_properties (oc, N_PROPS, props);
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
mm_mask_session_init (MmMaskSession *self)
{
  self->origins = g_array_new (FALSE, TRUE, sizeof (Origin));
  g_array_set_clear_func (self->origins, (GDestroyNotify) origin_clear);
  reset_origins (self, MM_MASK_SOURCE_NONE, NULL);
}

MmMaskSession *
mm_mask_session_new (void)
{
  return g_object_new (MM_TYPE_MASK_SESSION, NULL);
}
