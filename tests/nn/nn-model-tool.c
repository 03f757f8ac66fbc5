/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Test helper: writes a model file with known values and dumps one as JSON, so that
 * test_safetensors.py can check our files with a reader of its own.
 *   nn-model-tool write PATH --depth D --width W --seed S
 *   nn-model-tool dump PATH     -> {"metadata": {...}, "tensors": [{"name", "shape",
 *                                   "values"}, ...]} with values printed as %.9g, which
 *                                   reads back as the same float32 */
#include "mm-nn-model.h"
#include "mm-safetensors.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
usage (void)
{
  fprintf (stderr, "usage: nn-model-tool write PATH --depth D --width W --seed S\n"
                   "       nn-model-tool dump PATH\n");
  return 2;
}

static int
write_model (const char *path, int argc, char **argv)
{
  MmUnetArch arch = { .depth = 2, .width = 4 };
  guint64 seed = 1;
  for (int k = 0; k + 1 < argc; k += 2)
    if (strcmp (argv[k], "--depth") == 0)
      arch.depth = atoi (argv[k + 1]);
    else if (strcmp (argv[k], "--width") == 0)
      arch.width = atoi (argv[k + 1]);
    else if (strcmp (argv[k], "--seed") == 0)
      seed = g_ascii_strtoull (argv[k + 1], NULL, 10);
    else
      return usage ();
  g_autoptr (GError) err = NULL;
  g_autoptr (MmUnet) net = mm_unet_new (&arch, seed, &err);
  MmNnModelInfo info = { .training_data = "nn-model-tool", .metrics_json = "{\"dice\":0.5}" };
  if (net == NULL || !mm_nn_model_save (path, net, &info, &err))
    {
      fprintf (stderr, "%s\n", err->message);
      return 1;
    }
  return 0;
}

/* Through mm_nn_model_load, so that the dump is what the network would compute with. */
static int
dump_model (const char *path)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (MmSafetensors) st = mm_safetensors_read (path, &err);
  g_autoptr (MmUnet) net = st ? mm_nn_model_load (path, NULL, &err) : NULL;
  if (net == NULL)
    {
      fprintf (stderr, "%s\n", err->message);
      return 1;
    }
  printf ("{\"metadata\": {");
  const char *keys[] = { "format", "format_version", "architecture", "input_transform",
                         "input_transform_description", "training_data", "metrics",
                         "created", "notes", "program" };
  bool first = true;
  for (size_t k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      const char *value = mm_safetensors_get_metadata (st, keys[k]);
      if (value == NULL)
        continue;
      g_autoptr (JsonNode) node = json_node_init_string (json_node_alloc (), value);
      g_autofree char *quoted = json_to_string (node, FALSE);
      printf ("%s\"%s\": %s", first ? "" : ", ", keys[k], quoted);
      first = false;
    }
  printf ("},\n\"tensors\": [");
  for (int i = 0; i < mm_unet_n_params (net); i++)
    {
      int64_t shape[4];
      int ndim = mm_unet_param_shape (net, i, shape);
      printf ("%s\n{\"name\": \"%s\", \"shape\": [", i ? "," : "", mm_unet_param_name (net, i));
      for (int d = 0; d < ndim; d++)
        printf ("%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
      printf ("], \"values\": [");
      const float *v = mm_unet_param_data (net, i);
      for (size_t k = 0; k < mm_unet_param_size (net, i); k++)
        printf ("%s%.9g", k ? ", " : "", v[k]);
      printf ("]}");
    }
  printf ("]}\n");
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 3 && strcmp (argv[1], "write") == 0)
    return write_model (argv[2], argc - 3, argv + 3);
  if (argc == 3 && strcmp (argv[1], "dump") == 0)
    return dump_model (argv[2]);
  return usage ();
}
