/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmWindow: one series: views, metadata panel, loading and the viewer's actions. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MM_TYPE_WINDOW (mm_window_get_type ())
G_DECLARE_FINAL_TYPE (MmWindow, mm_window, MM, WINDOW, AdwApplicationWindow)

MmWindow *mm_window_new (AdwApplication *app);

/* Load a folder, DICOMDIR or file in the background. */
void mm_window_open (MmWindow *self, const char *path);

/* Test and benchmark modes: after the first series is on screen, save the window as a PNG
 * (and print the views' geometry on stdout), or step through slices for n frames and print
 * frame times; then close the window. */
void mm_window_set_screenshot (MmWindow *self, const char *png_path);
void mm_window_set_bench_frames (MmWindow *self, int frames);
void mm_window_set_three_views (MmWindow *self, gboolean three);
/* "one", "three", "three-3d" (three planes + 3D) or "3d" (3D only). */
void mm_window_set_layout (MmWindow *self, const char *name);
bool mm_window_layout_valid (const char *name);
/* Once a series is shown: segment its metal, apply preset (0..6; -1 none). */
void mm_window_set_startup (MmWindow *self, gboolean segment, int preset);
/* Once a series is shown: zoom every view to percent (100: one screen pixel per image pixel;
 * <= 0: fit) and invert the grey scale. */
void mm_window_set_startup_view (MmWindow *self, double zoom_percent, gboolean invert);

G_END_DECLS
