/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmApplication: command line (--screenshot, --bench-render, --layout), app actions,
 * About and Preferences. */
#include "mm-application.h"

#include "mm-preferences-window.h"
#include "mm-timing.h"
#include "mm-window.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>

#define APP_ID "io.github.metalmark.Metalmark"

struct _MmApplication
{
  AdwApplication parent_instance;

  char *screenshot;   /* test mode: PNG of the first window, then quit */
  int bench_frames;   /* benchmark mode: frames to time, then quit */
  char *layout;       /* "one" or "three" for the first window */
  gboolean segment;   /* segment metal once loaded */
  int preset;         /* window preset once loaded, -1: none */
  double zoom;        /* percent once loaded (100: 1:1), 0: fit */
  gboolean invert;    /* inverted grey scale once loaded */
  int width, height;  /* window size, 0: the remembered one */
  guint signal_ids[3]; /* SIGTERM, SIGINT, SIGHUP watches while running */
};

G_DEFINE_FINAL_TYPE (MmApplication, mm_application, ADW_TYPE_APPLICATION)

static MmWindow *
new_window (MmApplication *self)
{
  MmWindow *window = mm_window_new (ADW_APPLICATION (self));
  if (self->screenshot)
    mm_window_set_screenshot (window, self->screenshot);
  if (self->bench_frames > 0)
    mm_window_set_bench_frames (window, self->bench_frames);
  if (self->layout)
    mm_window_set_layout (window, self->layout);
  mm_window_set_startup (window, self->segment, self->preset);
  mm_window_set_startup_view (window, self->zoom, self->invert);
  if (self->width > 0)
    gtk_window_set_default_size (GTK_WINDOW (window), self->width, self->height);
  return window;
}

static void
mm_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  if (window == NULL)
    window = GTK_WINDOW (new_window (MM_APPLICATION (app)));
  gtk_window_present (window);
}

static void
mm_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  /* A second path opens a new window; the single instance receives it here. */
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *path = g_file_get_path (files[i]);
      if (path == NULL)
        continue;
      mm_timing_mark ("open: window to build");
      MmWindow *window = new_window (MM_APPLICATION (app));
      mm_timing_mark ("open: window built");
      gtk_window_present (GTK_WINDOW (window));
      mm_timing_mark ("open: window presented");
      mm_window_open (window, path);
    }
}

static int
mm_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  MmApplication *self = MM_APPLICATION (app);
  const char *shot = NULL, *layout = NULL;
  if (g_variant_dict_lookup (options, "version", "b", NULL))
    {
      g_print ("metalmark %s\n", MM_VERSION);
      return 0;
    }
  if (g_variant_dict_lookup (options, "screenshot", "^&ay", &shot))
    self->screenshot = g_canonicalize_filename (shot, NULL);
  g_variant_dict_lookup (options, "bench-render", "i", &self->bench_frames);
  g_variant_dict_lookup (options, "segment", "b", &self->segment);
  if (g_variant_dict_lookup (options, "preset", "i", &self->preset)
      && (self->preset < 0 || self->preset > 6))
    {
      g_printerr ("metalmark: --preset takes 0 to 6\n");
      return 2;
    }
  g_variant_dict_lookup (options, "invert", "b", &self->invert);
  if (g_variant_dict_lookup (options, "zoom", "d", &self->zoom)
      && !(self->zoom >= 10 && self->zoom <= 5000))
    {
      g_printerr ("metalmark: --zoom takes a percentage from 10 to 5000 (100: one screen pixel per image pixel)\n");
      return 2;
    }
  const char *size = NULL;
  if (g_variant_dict_lookup (options, "window-size", "&s", &size))
    {
      char *end = NULL;
      guint64 w = g_ascii_strtoull (size, &end, 10), h = 0;
      if (end && *end == 'x')
        h = g_ascii_strtoull (end + 1, &end, 10);
      if (end == NULL || *end != '\0' || w < 200 || h < 200 || w > 16384 || h > 16384)
        {
          g_printerr ("metalmark: --window-size takes WIDTHxHEIGHT, e.g. 1024x700\n");
          return 2;
        }
      self->width = (int) w;
      self->height = (int) h;
    }
  if (g_variant_dict_lookup (options, "layout", "&s", &layout))
    {
      if (!mm_window_layout_valid (layout))
        {
          g_printerr ("metalmark: --layout takes one, three, three-3d or 3d\n");
          return 2;
        }
      self->layout = g_strdup (layout);
    }
  if (self->screenshot || self->bench_frames > 0)
    {
      /* Test and benchmark runs are their own instance, never a remote call. */
      GApplicationFlags flags = g_application_get_flags (app);
      g_application_set_flags (app, flags | G_APPLICATION_NON_UNIQUE);
    }
  return -1;
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  const char *developers[] = { _("Metalmark developers"), NULL };
  AdwAboutWindow *about = ADW_ABOUT_WINDOW (adw_about_window_new ());
  g_object_set (about, "transient-for", parent, "application-name", "Metalmark",
                "application-icon", APP_ID, "version", MM_VERSION, "developer-name",
                _("Metalmark developers"), "developers", developers, "license-type",
                GTK_LICENSE_GPL_3_0, "comments",
                _("A CT viewer and metal-segmentation workbench. For research and teaching; "
                  "not a medical device."),
                "translator-credits", _("translator-credits"), NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  /* Close the windows rather than stopping the main loop: closing one saves its mask (folds
   * the journal); the application ends with its last window. */
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (user_data)));
  for (GList *w = windows; w; w = w->next)
    gtk_window_close (GTK_WINDOW (w->data));
  g_list_free (windows);
}

/* SIGTERM (a session ending, `kill`), SIGINT (Ctrl+C in a terminal) and SIGHUP (the terminal
 * gone) quit as Ctrl+Q does, so the masks are saved and the journal folded rather than left for
 * a recovery. Once: all three watches go before the save starts, so GLib restores the default
 * actions and a second signal (say Ctrl+C again during a slow save) ends the process at once. */
static void
remove_signal_watches (MmApplication *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->signal_ids); i++)
    g_clear_handle_id (&self->signal_ids[i], g_source_remove);
}

static gboolean
quit_idle (gpointer app)
{
  quit_action (NULL, NULL, app);
  return G_SOURCE_REMOVE;
}

static gboolean
quit_signal_cb (gpointer user_data)
{
  MmApplication *self = MM_APPLICATION (user_data);
  g_debug ("Quitting on a signal: saving the masks");
  remove_signal_watches (self); /* this source included: its id is cleared, not removed twice */
  g_idle_add_full (G_PRIORITY_HIGH, quit_idle, g_object_ref (self), g_object_unref);
  return G_SOURCE_REMOVE;
}

static void
preferences_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (user_data));
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = source ? g_settings_schema_source_lookup (source, APP_ID, TRUE)
                                              : NULL;
  if (schema == NULL)
    return;
  g_autoptr (GSettings) settings = g_settings_new (APP_ID);
  gtk_window_present (GTK_WINDOW (mm_preferences_window_new (parent, settings)));
}

static void
mm_application_startup (GApplication *app)
{
  mm_timing_mark ("startup (before GTK and libadwaita init)");
  G_APPLICATION_CLASS (mm_application_parent_class)->startup (app);
  mm_timing_mark ("startup: GTK and libadwaita initialised");
  static const GActionEntry entries[] = {
    { "about", about_action },
    { "quit", quit_action },
    { "preferences", preferences_action },
  };
  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  MmApplication *self = MM_APPLICATION (app);
  static const int quit_signals[] = { SIGTERM, SIGINT, SIGHUP };
  for (guint i = 0; i < G_N_ELEMENTS (quit_signals); i++)
    self->signal_ids[i] = g_unix_signal_add (quit_signals[i], quit_signal_cb, app);
  const char *quit[] = { "<Control>q", NULL }, *prefs[] = { "<Control>comma", NULL };
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.preferences", prefs);
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_PREFER_DARK);
  mm_timing_mark ("startup done (actions, colour scheme)");
}

static void
mm_application_shutdown (GApplication *app)
{
  /* After the main loop nothing would answer a watch: the default actions are back. */
  remove_signal_watches (MM_APPLICATION (app));
  G_APPLICATION_CLASS (mm_application_parent_class)->shutdown (app);
}

static void
mm_application_finalize (GObject *object)
{
  MmApplication *self = MM_APPLICATION (object);
  g_free (self->screenshot);
  g_free (self->layout);
  G_OBJECT_CLASS (mm_application_parent_class)->finalize (object);
}

static void
mm_application_class_init (MmApplicationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mm_application_finalize;
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  app_class->activate = mm_application_activate;
  app_class->open = mm_application_open;
  app_class->startup = mm_application_startup;
  app_class->shutdown = mm_application_shutdown;
  app_class->handle_local_options = mm_application_handle_local_options;
}

static void
mm_application_init (MmApplication *self)
{
  self->preset = -1;
  static const GOptionEntry options[] = {
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("Save the window as a PNG once PATH is on screen, print the views' geometry, quit"),
      N_("FILE") },
    { "bench-render", 0, 0, G_OPTION_ARG_INT, NULL,
      N_("Time N slice changes with the metal overlay on, print p50/p95, quit"), N_("N") },
    { "layout", 0, 0, G_OPTION_ARG_STRING, NULL, N_("one, three, three-3d (three planes and 3D) or 3d"), N_("LAYOUT") },
    { "segment", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Segment the metal once the series is loaded"),
      NULL },
    { "preset", 0, 0, G_OPTION_ARG_INT, NULL,
      N_("Window preset once loaded: 1 soft tissue, 2 lung, 3 liver, 4 bone, 5 brain, 6 metal"),
      N_("N") },
    { "zoom", 0, 0, G_OPTION_ARG_DOUBLE, NULL,
      N_("Zoom once loaded, in percent: 100 shows one image pixel per screen pixel"), N_("PERCENT") },
    { "invert", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Invert the grey scale once loaded"), NULL },
    { "window-size", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Open the window at this size"),
      N_("WIDTHxHEIGHT") },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version"), NULL },
    { NULL },
  };
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[PATH…]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("PATH is a folder of DICOM files, a DICOMDIR or DICOM files."));
}

MmApplication *
mm_application_new (void)
{
  return g_object_new (MM_TYPE_APPLICATION, "application-id", APP_ID, "flags",
                       G_APPLICATION_HANDLES_OPEN, "resource-base-path",
                       "/io/github/metalmark/Metalmark", NULL);
}
