/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-viewer-keys.h"
#include "mm-surface-view.h"

#include <string.h>

typedef struct
{
  guint keyval;
  GdkModifierType mods;
  const char *action;
  char param_type;       /* 0: none, 'i': int_arg, 's': str_arg, 'b': int_arg != 0 */
  int int_arg;
  const char *str_arg;
} MmViewerKey;

/* The one list of the viewer's single keys (the shortcuts window, ui/help-overlay.ui, names
 * them). Down, Right and Page Down all go to the next slice, in every widget. */
static const MmViewerKey viewer_keys[] = {
  { GDK_KEY_Page_Down, 0, "win.slice", 'i', 1, NULL },
  { GDK_KEY_KP_Page_Down, 0, "win.slice", 'i', 1, NULL },
  { GDK_KEY_Down, 0, "win.slice", 'i', 1, NULL },
  { GDK_KEY_KP_Down, 0, "win.slice", 'i', 1, NULL },
  { GDK_KEY_Right, 0, "win.slice", 'i', 1, NULL },
  { GDK_KEY_KP_Right, 0, "win.slice", 'i', 1, NULL },
  { GDK_KEY_Page_Up, 0, "win.slice", 'i', -1, NULL },
  { GDK_KEY_KP_Page_Up, 0, "win.slice", 'i', -1, NULL },
  { GDK_KEY_Up, 0, "win.slice", 'i', -1, NULL },
  { GDK_KEY_KP_Up, 0, "win.slice", 'i', -1, NULL },
  { GDK_KEY_Left, 0, "win.slice", 'i', -1, NULL },
  { GDK_KEY_KP_Left, 0, "win.slice", 'i', -1, NULL },
  { GDK_KEY_Home, 0, "win.slice-first", 0, 0, NULL },
  { GDK_KEY_KP_Home, 0, "win.slice-first", 0, 0, NULL },
  { GDK_KEY_End, 0, "win.slice-last", 0, 0, NULL },
  { GDK_KEY_KP_End, 0, "win.slice-last", 0, 0, NULL },
  { GDK_KEY_plus, 0, "win.zoom-in", 0, 0, NULL },
  { GDK_KEY_KP_Add, 0, "win.zoom-in", 0, 0, NULL },
  { GDK_KEY_minus, 0, "win.zoom-out", 0, 0, NULL },
  { GDK_KEY_KP_Subtract, 0, "win.zoom-out", 0, 0, NULL },
  { GDK_KEY_equal, 0, "win.zoom-fit", 0, 0, NULL },
  { GDK_KEY_i, 0, "win.invert", 0, 0, NULL },
  { GDK_KEY_space, 0, "win.reset-view", 0, 0, NULL },
  { GDK_KEY_v, 0, "win.three-views", 0, 0, NULL },
  { GDK_KEY_V, GDK_SHIFT_MASK, "win.cycle-3d", 0, 0, NULL },
  { GDK_KEY_0, 0, "win.preset", 'i', 0, NULL },
  { GDK_KEY_1, 0, "win.preset", 'i', 1, NULL },
  { GDK_KEY_2, 0, "win.preset", 'i', 2, NULL },
  { GDK_KEY_3, 0, "win.preset", 'i', 3, NULL },
  { GDK_KEY_4, 0, "win.preset", 'i', 4, NULL },
  { GDK_KEY_5, 0, "win.preset", 'i', 5, NULL },
  { GDK_KEY_6, 0, "win.preset", 'i', 6, NULL },
  { GDK_KEY_t, 0, "win.tool", 's', 0, "threshold" },
  { GDK_KEY_b, 0, "win.tool", 's', 0, "brush" },
  { GDK_KEY_e, 0, "win.tool", 's', 0, "eraser" },
  { GDK_KEY_I, GDK_SHIFT_MASK, "win.tool", 's', 0, "islands" },
  { GDK_KEY_bracketright, 0, "win.radius-up", 0, 0, NULL },
  { GDK_KEY_bracketleft, 0, "win.radius-down", 0, 0, NULL },
  { GDK_KEY_n, 0, "win.next-metal", 'i', 1, NULL },
  { GDK_KEY_c, 0, "reading.cine", 0, 0, NULL },
  { GDK_KEY_O, GDK_SHIFT_MASK, "reading.reset-oblique", 0, 0, NULL },
  { GDK_KEY_m, 0, "reading.slab-cycle", 0, 0, NULL },
  { GDK_KEY_S, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "reading.save-view", 'b', 1, NULL },
  { GDK_KEY_s, GDK_CONTROL_MASK | GDK_ALT_MASK, "reading.save-view", 'b', 0, NULL },
  { GDK_KEY_C, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "reading.copy-view", 0, 0, NULL },
  { GDK_KEY_N, GDK_SHIFT_MASK, "win.next-metal", 'i', -1, NULL },
  { GDK_KEY_s, 0, "win.measure-tool", 's', 0, "pointer" },
  { GDK_KEY_d, 0, "win.measure-tool", 's', 0, "distance" },
  { GDK_KEY_a, 0, "win.measure-tool", 's', 0, "angle" },
  { GDK_KEY_p, 0, "win.measure-tool", 's', 0, "profile" },
  { GDK_KEY_o, 0, "win.measure-tool", 's', 0, "ellipse" },
  { GDK_KEY_r, 0, "win.measure-tool", 's', 0, "rectangle" },
  { GDK_KEY_f, 0, "win.measure-tool", 's', 0, "freehand" },
  { GDK_KEY_Delete, 0, "win.measure-delete", 0, 0, NULL },
  { GDK_KEY_KP_Delete, 0, "win.measure-delete", 0, 0, NULL },
  { GDK_KEY_x, 0, "mar.show-corrected", 0, 0, NULL },
};

/* Undo and redo of the mask, taken from a numeric field so that Ctrl+Z never edits its text. */
static const MmViewerKey field_keys[] = {
  { GDK_KEY_z, GDK_CONTROL_MASK, "win.undo", 0, 0, NULL },
  { GDK_KEY_Z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.redo", 0, 0, NULL },
  { GDK_KEY_y, GDK_CONTROL_MASK, "win.redo", 0, 0, NULL },
};

static const MmViewerKey *
find_key (const MmViewerKey *keys, size_t n, guint keyval, GdkModifierType mods)
{
  for (size_t k = 0; k < n; k++)
    if (keys[k].keyval == keyval && keys[k].mods == mods)
      return &keys[k];
  return NULL;
}

static const MmViewerKey *
lookup (const MmViewerKey *keys, size_t n, guint keyval, GdkModifierType mods)
{
  /* Shift is part of the key for letters (N, I) but not for keys whose keyval already
   * says it: look the key up as pressed, then without Shift. */
  const MmViewerKey *k = find_key (keys, n, keyval, mods);
  if (k == NULL && (mods & GDK_SHIFT_MASK))
    k = find_key (keys, n, keyval, mods & ~GDK_SHIFT_MASK);
  return k;
}

static gboolean
activate (GtkWidget *window, const MmViewerKey *k)
{
  GVariant *param = NULL;
  if (k->param_type == 'i')
    param = g_variant_new_int32 (k->int_arg);
  else if (k->param_type == 's')
    param = g_variant_new_string (k->str_arg);
  else if (k->param_type == 'b')
    param = g_variant_new_boolean (k->int_arg != 0);
  /* A disabled action (no series yet) swallows the key all the same: it still must not
   * move the focus or change a field. */
  gtk_widget_activate_action_variant (window, k->action, param);
  return TRUE;
}

/* A character a number can be typed with (a spin button keeps these). */
static gboolean
numeric_char (guint keyval)
{
  gunichar c = gdk_keyval_to_unicode (keyval);
  return c != 0 && c < 128 && strchr ("0123456789.,-+eE", (int) c) != NULL;
}

/* Keys that press or toggle a focused button, check box, switch or drop-down. */
static gboolean
activates_focus (GtkWidget *focus, guint keyval)
{
  if (keyval != GDK_KEY_space && keyval != GDK_KEY_Return && keyval != GDK_KEY_KP_Enter &&
      keyval != GDK_KEY_ISO_Enter && keyval != GDK_KEY_KP_Space)
    return FALSE;
  return GTK_IS_BUTTON (focus) || GTK_IS_CHECK_BUTTON (focus) || GTK_IS_SWITCH (focus) ||
         gtk_widget_get_ancestor (focus, GTK_TYPE_DROP_DOWN) != NULL ||
         gtk_widget_get_ancestor (focus, GTK_TYPE_MENU_BUTTON) != NULL;
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller, guint keyval, guint keycode,
                GdkModifierType state, GtkWidget *window)
{
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));
  GtkNative *native = gtk_widget_get_native (window);
  /* Menus, popovers and dialogs have surfaces of their own: their keys are theirs. */
  if (event == NULL || native == NULL || gdk_event_get_surface (event) != gtk_native_get_surface (native))
    return FALSE;

  GdkModifierType mods = state & gtk_accelerator_get_default_mod_mask ();
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));
  if (focus != NULL && gtk_widget_get_ancestor (focus, GTK_TYPE_POPOVER) != NULL)
    return FALSE;

  if (focus != NULL && GTK_IS_EDITABLE (focus))
    {
      if (gtk_widget_get_ancestor (focus, GTK_TYPE_SPIN_BUTTON) == NULL)
        return FALSE;                        /* a text field keeps every key */
      const MmViewerKey *k = lookup (field_keys, G_N_ELEMENTS (field_keys), keyval, mods);
      if (k != NULL)
        return activate (window, k);
      /* Letters and symbols a number cannot hold are the viewer's; the field keeps digits,
       * editing and cursor keys (Up/Down step its value, as in any spin button). */
      if ((mods & ~GDK_SHIFT_MASK) == 0 && gdk_keyval_to_unicode (keyval) > 32
          && gdk_keyval_to_unicode (keyval) != 0x7f /* Delete edits the field */ && !numeric_char (keyval))
        {
          k = lookup (viewer_keys, G_N_ELEMENTS (viewer_keys), keyval, mods);
          if (k != NULL)
            return activate (window, k);
        }
      return FALSE;
    }

  if (focus != NULL && activates_focus (focus, keyval))
    return FALSE;
  /* The 3D view's standard views (A, P, L, R, S, I) while it has the focus. */
  if (focus != NULL && gtk_widget_get_ancestor (focus, MM_TYPE_SURFACE_VIEW) != NULL
      && mm_surface_view_owns_key (keyval, mods))
    return FALSE;
  const MmViewerKey *k = lookup (viewer_keys, G_N_ELEMENTS (viewer_keys), keyval, mods);
  return k != NULL ? activate (window, k) : FALSE;
}

void
mm_viewer_keys_attach (GtkWidget *window)
{
  GtkEventController *keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_name (keys, "mm-viewer-keys");
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), window);
  gtk_widget_add_controller (window, keys);
}
