/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmCine: plays slices at a number of frames per second by calling a step function on a
 * main-loop timer until stopped. */
#pragma once

#include <glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef void (*MmCineStep) (gpointer data);

typedef struct _MmCine MmCine;

MmCine *mm_cine_new (MmCineStep step, gpointer data);
void mm_cine_free (MmCine *cine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmCine, mm_cine_free)

/* 1..60 frames per second; a playing cine goes on at the new rate. */
void mm_cine_set_fps (MmCine *cine, double fps);
double mm_cine_get_fps (MmCine *cine);
void mm_cine_set_playing (MmCine *cine, bool playing);
bool mm_cine_is_playing (MmCine *cine);

G_END_DECLS
