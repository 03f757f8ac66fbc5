/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmTagsWindow: the dump's tree in a GtkColumnView over a GtkTreeListModel (tag with its
 * expander, VR, name, value). Searching rebuilds the rows from the dump keeping the matches
 * and the sequences and items that lead to them, expanded. */
#include "mm-tags-window.h"

#include "mm-dicom-dump.h"

#include <glib/gi18n.h>

/* ---- MmTagRow: one row of the tree, borrowing its tag from the window's dump ---- */

#define MM_TYPE_TAG_ROW (mm_tag_row_get_type ())
G_DECLARE_FINAL_TYPE (MmTagRow, mm_tag_row, MM, TAG_ROW, GObject)

struct _MmTagRow
{
  GObject parent_instance;
  const MmDicomTag *tag; /* borrowed from the window's dump, which outlives the model */
  GListStore *kids;      /* owned, MmTagRow; NULL for a leaf */
};

G_DEFINE_FINAL_TYPE (MmTagRow, mm_tag_row, G_TYPE_OBJECT)

static void
mm_tag_row_finalize (GObject *object)
{
  g_clear_object (&MM_TAG_ROW (object)->kids);
  G_OBJECT_CLASS (mm_tag_row_parent_class)->finalize (object);
}

static void
mm_tag_row_class_init (MmTagRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mm_tag_row_finalize;
}

static void
mm_tag_row_init (MmTagRow *self)
{
}

/* The rows of parent's children that match query (all when query is NULL or parent itself
 * matched), each with the rows leading to a match; NULL when none. */
static GListStore *
build_rows (const MmDicomTag *parent, const char *query)
{
  if (parent->children == NULL || parent->children->len == 0)
    return NULL;
  GListStore *store = g_list_store_new (MM_TYPE_TAG_ROW);
  for (guint i = 0; i < parent->children->len; i++)
    {
      const MmDicomTag *t = parent->children->pdata[i];
      bool self_match = query == NULL || mm_dicom_tag_matches (t, query);
      GListStore *kids = build_rows (t, self_match ? NULL : query);
      if (!self_match && kids == NULL)
        continue;
      MmTagRow *row = g_object_new (MM_TYPE_TAG_ROW, NULL);
      row->tag = t;
      row->kids = kids;
      g_list_store_append (store, row);
      g_object_unref (row);
    }
  if (g_list_model_get_n_items (G_LIST_MODEL (store)) == 0)
    g_clear_object (&store);
  return store;
}

/* ---- the window ---- */

struct _MmTagsWindow
{
  AdwWindow parent_instance;

  /* widgets (children of the window) */
  AdwWindowTitle *title;
  GtkSearchEntry *search;
  GtkColumnView *view;
  GtkScrolledWindow *scroller;
  GtkStack *stack;
  GtkLabel *status;
  GtkLabel *error_label;

  /* owned */
  MmDicomDump *dump;
  GtkSingleSelection *selection;
};

G_DEFINE_FINAL_TYPE (MmTagsWindow, mm_tags_window, ADW_TYPE_WINDOW)

enum
{
  COL_TAG,
  COL_VR,
  COL_NAME,
  COL_VALUE,
};

static GListModel *
create_child_model_cb (gpointer item, gpointer user_data)
{
  MmTagRow *row = item;
  return row->kids ? g_object_ref (G_LIST_MODEL (row->kids)) : NULL;
}

static void
setup_cb (GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  int col = GPOINTER_TO_INT (data);
  if (col == COL_TAG || col == COL_VR)
    gtk_widget_add_css_class (label, "monospace");
  if (col == COL_TAG)
    {
      GtkWidget *expander = gtk_tree_expander_new ();
      gtk_tree_expander_set_child (GTK_TREE_EXPANDER (expander), label);
      gtk_list_item_set_child (li, expander);
    }
  else
    gtk_list_item_set_child (li, label);
}

static char *
name_text (const MmDicomTag *t)
{
  const char *n = t->keyword ? t->keyword : t->name;
  if (n && t->creator)
    return g_strdup_printf ("%s [%s]", t->name ? t->name : n, t->creator);
  if (t->creator)
    return g_strdup_printf (_("Unknown private [%s]"), t->creator);
  return g_strdup (n ? n : _("Unknown"));
}

static void
bind_cb (GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  GtkTreeListRow *tree_row = gtk_list_item_get_item (li);
  MmTagRow *row = gtk_tree_list_row_get_item (tree_row);
  const MmDicomTag *t = row->tag;
  GtkWidget *child = gtk_list_item_get_child (li);
  GtkLabel *label;
  g_autofree char *text = NULL;
  switch (GPOINTER_TO_INT (data))
    {
    case COL_TAG:
      gtk_tree_expander_set_list_row (GTK_TREE_EXPANDER (child), tree_row);
      label = GTK_LABEL (gtk_tree_expander_get_child (GTK_TREE_EXPANDER (child)));
      text = g_malloc (12);
      mm_dicom_tag_format_number (t, text);
      break;
    case COL_VR:
      label = GTK_LABEL (child);
      text = g_strdup (t->vr);
      break;
    case COL_NAME:
      label = GTK_LABEL (child);
      text = name_text (t);
      break;
    default:
      label = GTK_LABEL (child);
      if (t->value)
        text = g_strconcat (t->value, t->value_truncated ? "…" : "", NULL);
      else if (t->children && t->group != 0xfffe)
        text = g_strdup_printf (g_dngettext (NULL, "%u item", "%u items", t->children->len),
                                t->children->len);
      else
        text = g_strdup ("");
      gtk_widget_set_tooltip_text (GTK_WIDGET (label), *text ? text : NULL);
      break;
    }
  gtk_label_set_text (label, text);
  g_object_unref (row);
}

static void
refill (MmTagsWindow *self)
{
  if (self->dump == NULL)
    return;
  const char *query = gtk_editable_get_text (GTK_EDITABLE (self->search));
  bool searching = query && *query;
  GListStore *root = build_rows (self->dump->root, searching ? query : NULL);
  if (root == NULL)
    root = g_list_store_new (MM_TYPE_TAG_ROW);
  guint shown = g_list_model_get_n_items (G_LIST_MODEL (root));
  GtkTreeListModel *tree = gtk_tree_list_model_new (G_LIST_MODEL (root), FALSE, searching,
                                                    create_child_model_cb, NULL, NULL);
  gtk_single_selection_set_model (self->selection, G_LIST_MODEL (tree));
  g_object_unref (tree);
  /* A new slice or a new search starts at the top, not where the last list was scrolled. */
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0);
  g_autofree char *status = NULL;
  if (searching)
    status = g_strdup_printf (g_dngettext (NULL, "%u top-level element matches",
                                           "%u top-level elements match", shown), shown);
  else
    status = g_strdup_printf (g_dngettext (NULL, "%u element", "%u elements",
                                           self->dump->n_nodes), self->dump->n_nodes);
  if (self->dump->truncated)
    {
      char *more = g_strconcat (status, " · ", _("cut at the limits (nesting, count or length)"),
                                NULL);
      g_free (status);
      status = more;
    }
  gtk_label_set_text (self->status, status);
}

static void
search_changed_cb (GtkSearchEntry *entry, MmTagsWindow *self)
{
  refill (self);
}

static void
copy_value_cb (GtkButton *button, MmTagsWindow *self)
{
  GtkTreeListRow *tree_row = gtk_single_selection_get_selected_item (self->selection);
  if (tree_row == NULL)
    return;
  g_autoptr (MmTagRow) row = gtk_tree_list_row_get_item (tree_row);
  const MmDicomTag *t = row->tag;
  /* A sequence or an item: its subtree, as Copy All writes it. */
  g_autofree char *text = t->value ? g_strdup (t->value) : mm_dicom_tag_to_text (t);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
}

static void
copy_all_cb (GtkButton *button, MmTagsWindow *self)
{
  if (self->dump == NULL)
    return;
  g_autofree char *text = mm_dicom_dump_to_text (self->dump);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), text);
}

static void
add_column (MmTagsWindow *self, const char *title, int col, gboolean expand)
{
  GtkListItemFactory *f = gtk_signal_list_item_factory_new ();
  g_signal_connect (f, "setup", G_CALLBACK (setup_cb), GINT_TO_POINTER (col));
  g_signal_connect (f, "bind", G_CALLBACK (bind_cb), GINT_TO_POINTER (col));
  GtkColumnViewColumn *c = gtk_column_view_column_new (title, f);
  gtk_column_view_column_set_expand (c, expand);
  gtk_column_view_column_set_resizable (c, TRUE);
  gtk_column_view_append_column (self->view, c);
  g_object_unref (c);
}

static void
mm_tags_window_dispose (GObject *object)
{
  MmTagsWindow *self = MM_TAGS_WINDOW (object);
  /* The rows borrow the dump's tags: the model goes first. */
  if (self->selection)
    gtk_single_selection_set_model (self->selection, NULL);
  g_clear_object (&self->selection);
  g_clear_pointer (&self->dump, mm_dicom_dump_free);
  G_OBJECT_CLASS (mm_tags_window_parent_class)->dispose (object);
}

static void
mm_tags_window_class_init (MmTagsWindowClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = mm_tags_window_dispose;
  GtkWidgetClass *wc = GTK_WIDGET_CLASS (klass);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
  gtk_widget_class_add_binding_action (wc, GDK_KEY_Escape, 0, "window.close", NULL);
}

static GtkWidget *
labelled_button (const char *label, const char *tooltip)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);
  gtk_widget_set_tooltip_text (b, tooltip);
  return b;
}

static void
mm_tags_window_init (MmTagsWindow *self)
{
  gtk_window_set_title (GTK_WINDOW (self), _("DICOM Tags"));
  gtk_window_set_default_size (GTK_WINDOW (self), 900, 640);

  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  self->title = ADW_WINDOW_TITLE (adw_window_title_new (_("DICOM Tags"), NULL));
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), GTK_WIDGET (self->title));
  GtkWidget *copy_value = labelled_button (_("Copy _Value"),
                                           _("Copy the selected element's value"));
  GtkWidget *copy_all = labelled_button (_("Copy _All"), _("Copy the whole dump as text"));
  g_signal_connect (copy_value, "clicked", G_CALLBACK (copy_value_cb), self);
  g_signal_connect (copy_all, "clicked", G_CALLBACK (copy_all_cb), self);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), copy_value);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), copy_all);
  gtk_box_append (GTK_BOX (box), header);

  self->search = GTK_SEARCH_ENTRY (gtk_search_entry_new ());
  g_object_set (self->search, "placeholder-text", _("Tag number, keyword or value"), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->search), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Search tags"), -1);
  gtk_widget_set_margin_start (GTK_WIDGET (self->search), 6);
  gtk_widget_set_margin_end (GTK_WIDGET (self->search), 6);
  gtk_widget_set_margin_top (GTK_WIDGET (self->search), 6);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->search), 6);
  g_signal_connect (self->search, "search-changed", G_CALLBACK (search_changed_cb), self);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->search));
  gtk_search_entry_set_key_capture_widget (self->search, GTK_WIDGET (self));

  self->selection = gtk_single_selection_new (NULL);
  self->view = GTK_COLUMN_VIEW (gtk_column_view_new (g_object_ref (GTK_SELECTION_MODEL (
      self->selection))));
  gtk_column_view_set_show_column_separators (self->view, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Data elements"), -1);
  add_column (self, _("Tag"), COL_TAG, FALSE);
  add_column (self, _("VR"), COL_VR, FALSE);
  add_column (self, _("Name"), COL_NAME, FALSE);
  add_column (self, _("Value"), COL_VALUE, TRUE);
  GtkWidget *scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (self->view));
  gtk_widget_set_vexpand (scroller, TRUE);
  self->scroller = GTK_SCROLLED_WINDOW (scroller);

  self->error_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->error_label, TRUE);
  gtk_label_set_selectable (self->error_label, TRUE);
  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_add_named (self->stack, scroller, "tree");
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->error_label), "error");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->stack));

  self->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->status, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->status), "dim-label");
  gtk_widget_set_margin_start (GTK_WIDGET (self->status), 6);
  gtk_widget_set_margin_top (GTK_WIDGET (self->status), 3);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->status), 3);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->status));
  adw_window_set_content (ADW_WINDOW (self), box);
}

MmTagsWindow *
mm_tags_window_new (GtkWindow *parent)
{
  return g_object_new (MM_TYPE_TAGS_WINDOW, "transient-for", parent, NULL);
}

void
mm_tags_window_show_file (MmTagsWindow *self, const char *path, const char *title)
{
  g_return_if_fail (MM_IS_TAGS_WINDOW (self) && path != NULL);
  gtk_single_selection_set_model (self->selection, NULL);
  g_clear_pointer (&self->dump, mm_dicom_dump_free);
  g_autofree char *base = g_filename_display_basename (path);
  g_autofree char *subtitle = title ? g_strdup_printf ("%s · %s", title, base)
                                    : g_strdup (base);
  adw_window_title_set_subtitle (self->title, subtitle);
  g_autoptr (GError) error = NULL;
  self->dump = mm_dicom_dump_file (path, NULL, &error);
  if (self->dump == NULL)
    {
      gtk_label_set_text (self->error_label, error->message);
      gtk_stack_set_visible_child_name (self->stack, "error");
      gtk_label_set_text (self->status, "");
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, "tree");
  refill (self);
}
