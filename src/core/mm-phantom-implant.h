/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A phantom variant's metal: which implants, and each built from solids beside the anatomy of
 * the scene (mm-phantom-scene.c). Private to the phantom's files. */
#pragma once

#include "mm-phantom-scene.h"

G_BEGIN_DECLS

enum { K_STEM, K_CUP, K_SCREWS, K_NAIL, K_PLATE, K_FRAGMENTS, K_WIRES, N_KINDS };

/* The metal: which objects (kinds[], at most 4), on which side (sides[]: a femur of bd), in
 * which order (the stem first, as its ball sets the cup). Returns the number of objects. */
int mm_phantom_implants_choose (Build *bd, int variant, int kinds[], int sides[]);
/* Object o of the scene: its kind and core HU drawn, its pieces built. */
void mm_phantom_implant_build (Build *bd, int o, int kind, int side);

G_END_DECLS
