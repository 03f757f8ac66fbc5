/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "mm-scroll-guard.h"

#include <math.h>

static gboolean
scroll_cb (GtkEventControllerScroll *controller, double dx, double dy, GtkWidget *widget)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  if (focus != NULL && (focus == widget || gtk_widget_is_ancestor (focus, widget)))
    return FALSE;                                     /* focused: the widget's own wheel */

  GtkWidget *sw = gtk_widget_get_ancestor (widget, GTK_TYPE_SCROLLED_WINDOW);
  if (sw != NULL)
    {
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (sw));
      double page = gtk_adjustment_get_page_size (adj);
      /* A wheel notch scrolls as GtkScrolledWindow would (page^(2/3) per step); smooth
       * (touchpad) deltas are in the same units. */
      double step = pow (page, 2.0 / 3.0);
      gtk_adjustment_set_value (adj, gtk_adjustment_get_value (adj) + dy * step);
    }
  return TRUE;                                        /* never a change of value */
}

void
mm_scroll_guard_attach (GtkWidget *widget)
{
  GtkEventController *scroll =
    gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  gtk_event_controller_set_name (scroll, "mm-scroll-guard");
  gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), widget);
  gtk_widget_add_controller (widget, scroll);
}
