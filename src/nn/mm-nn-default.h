/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where the model that ships with Metalmark is. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MM_NN_DEFAULT_MODEL_NAME "metalmark-default.safetensors"

/* The shipped model's path (g_free), or NULL when there is none: the file in $MM_MODEL_DIR
 * when that is set (also when it holds none, so a test can rule the shipped one out), else
 * the installed one (<datadir>/metalmark/models), else the source tree's data/models (a build
 * run uninstalled). */
char *mm_nn_default_model_path (void);

G_END_DECLS
