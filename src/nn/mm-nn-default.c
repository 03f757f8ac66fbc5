/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The shipped model: looked up in $MM_MODEL_DIR, the installed data folder, the source tree. */
#include "mm-nn-default.h"

#ifndef MM_MODEL_DIR
#error "MM_MODEL_DIR (the installed models folder) must be defined by the build"
#endif
#ifndef MM_SOURCE_MODEL_DIR
#error "MM_SOURCE_MODEL_DIR (the source tree's data/models) must be defined by the build"
#endif

static char *
model_in (const char *dir)
{
  char *path = g_build_filename (dir, MM_NN_DEFAULT_MODEL_NAME, NULL);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free (path);
  return NULL;
}

char *
mm_nn_default_model_path (void)
{
  const char *env = g_getenv ("MM_MODEL_DIR");
  if (env && *env)
    return model_in (env);
  char *path = model_in (MM_MODEL_DIR);
  return path ? path : model_in (MM_SOURCE_MODEL_DIR);
}
