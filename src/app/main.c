/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark: the desktop app. */
#include "mm-application.h"
#include "mm-gl-renderer.h"
#include "mm-prescan.h"
#include "mm-timing.h"

#include <glib/gi18n.h>
#include <locale.h>

int
main (int argc, char **argv)
{
  mm_timing_mark ("main");
  setlocale (LC_ALL, "");
  /* MM_LOCALEDIR in the environment points at an uninstalled build's catalogues (tests). */
  const char *localedir = g_getenv ("MM_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : MM_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_application_name ("Metalmark");
  mm_gl_renderer_prepare_software ();
  /* The headers are read while GTK starts and the window is built. */
  mm_prescan_start (argc, argv);
  g_autoptr (MmApplication) app = mm_application_new ();
  int status = g_application_run (G_APPLICATION (app), argc, argv);
  mm_prescan_end ();
  return status;
}
