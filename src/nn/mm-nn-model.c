/* SPDX-License-Identifier: GPL-3.0-or-later */
/* U-Net model files and training checkpoints on top of the safetensors reader and writer. */
#include "mm-nn-model.h"

#include "mm-nn-input.h"
#include "mm-safetensors.h"

#include "mm-json.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* Wider than any U-Net that fits in memory; keeps the channel arithmetic far from overflow. */
#define MAX_WIDTH MM_UNET_MAX_CHANNELS

void
mm_nn_model_info_clear (MmNnModelInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->training_data);
  g_free (info->metrics_json);
  g_free (info->created);
  g_free (info->notes);
  memset (info, 0, sizeof *info);
}

/* ---- saving ---- */

static char *
arch_to_json (const MmUnetArch *arch)
{
  return g_strdup_printf ("{\"type\":\"unet2d\",\"depth\":%d,\"width\":%d,\"in_channels\":%d,"
                          "\"out_channels\":1,\"norm\":\"batchnorm\"}",
                          arch->depth, arch->width, MM_UNET_IN_CHANNELS);
}

static MmSafetensor
param_tensor (MmUnet *net, int i, const char *name, const float *data)
{
  MmSafetensor t = { .name = name, .data = data };
  t.ndim = mm_unet_param_shape (net, i, t.shape);
  return t;
}

/* The one writer behind both file kinds: adam is NULL for a plain model. */
static bool
save (const char *path, MmUnet *net, MmAdam *adam, const MmNnModelInfo *info,
      const char *trainer_state, GError **error)
{
  const char *checks[][2] = { { "metrics", info ? info->metrics_json : NULL },
                              { "trainer_state", trainer_state } };
  for (size_t k = 0; k < G_N_ELEMENTS (checks); k++)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();
      if (checks[k][1] && mm_json_parse_object (parser, checks[k][1]) == NULL)
        return mm_nn_file_error (error, MM_NN_ERROR_FAILED, path, "cannot save: %s is not a JSON object",
                     checks[k][0]);
    }

  int n = mm_unet_n_params (net);
  g_autoptr (GArray) tensors = g_array_new (FALSE, FALSE, sizeof (MmSafetensor));
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < n; i++)
    {
      MmSafetensor t = param_tensor (net, i, mm_unet_param_name (net, i),
                                     mm_unet_param_data (net, i));
      g_array_append_val (tensors, t);
    }
  for (int i = 0; adam && i < n; i++)
    for (int which = 1; which <= 2 && mm_unet_param_trainable (net, i); which++)
      {
        char *name = g_strdup_printf ("adam.%c.%s", which == 1 ? 'm' : 'v',
                                      mm_unet_param_name (net, i));
        g_ptr_array_add (names, name);
        MmSafetensor t = param_tensor (net, i, name, mm_adam_moment (adam, i, which));
        g_array_append_val (tensors, t);
      }

  g_autofree char *arch = arch_to_json (mm_unet_get_arch (net));
  g_autofree char *version = g_strdup_printf ("%d", MM_NN_MODEL_FORMAT_VERSION);
  g_autofree char *step = adam ? g_strdup_printf ("%" G_GINT64_FORMAT, mm_adam_get_step (adam))
                               : NULL;
  g_autofree char *now = NULL;
  if (info == NULL || info->created == NULL)
    {
      g_autoptr (GDateTime) t = g_date_time_new_now_utc ();
      now = g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ");
    }
  const char *metadata[] = {
    "format", adam ? MM_NN_CHECKPOINT_FORMAT : MM_NN_MODEL_FORMAT,
    "format_version", version,
    "architecture", arch,
    "input_transform", MM_NN_INPUT_TRANSFORM,
    "input_transform_description", MM_NN_INPUT_TRANSFORM_DESCRIPTION,
    "training_data", info ? info->training_data : NULL,
    "metrics", info ? info->metrics_json : NULL,
    "created", now ? now : info->created,
    "notes", info ? info->notes : NULL,
    "program", "metalmark " MM_VERSION,
    "adam_step", step,
    "trainer_state", trainer_state,
    NULL,
  };
  return mm_safetensors_write (path, (const MmSafetensor *) tensors->data, (int) tensors->len,
                               metadata, error);
}

bool
mm_nn_model_save (const char *path, MmUnet *net, const MmNnModelInfo *info, GError **error)
{
  g_return_val_if_fail (path != NULL && net != NULL, false);
  return save (path, net, NULL, info, NULL, error);
}

bool
mm_nn_checkpoint_save (const char *path, MmUnet *net, MmAdam *adam,
                       const char *trainer_state_json, GError **error)
{
  g_return_val_if_fail (path != NULL && net != NULL && adam != NULL, false);
  return save (path, net, adam, NULL, trainer_state_json, error);
}

/* ---- loading ---- */

static bool
parse_arch (const char *path, const char *text, MmUnetArch *arch, GError **error)
{
  if (text == NULL)
    return mm_nn_file_error (error, MM_NN_ERROR_MODEL, path, "the metadata gives no architecture");
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = mm_json_parse_object (parser, text);
  if (o == NULL)
    return mm_nn_file_error (error, MM_NN_ERROR_MODEL, path, "the architecture is not a JSON object");
  gint64 depth = mm_json_member_int (o, "depth", -1);
  gint64 width = mm_json_member_int (o, "width", -1);
  if (g_strcmp0 (mm_json_member_string (o, "type"), "unet2d") != 0
      || g_strcmp0 (mm_json_member_string (o, "norm"), "batchnorm") != 0
      || mm_json_member_int (o, "in_channels", -1) != MM_UNET_IN_CHANNELS
      || mm_json_member_int (o, "out_channels", -1) != 1)
    return mm_nn_file_error (error, MM_NN_ERROR_MODEL, path,
                 "architecture %s is not one this Metalmark builds (a 2D U-Net with batch "
                 "norm, %d input channels, 1 output)", text, MM_UNET_IN_CHANNELS);
  if (depth < 1 || depth > MM_UNET_MAX_DEPTH || width < 1 || width > MAX_WIDTH)
    return mm_nn_file_error (error, MM_NN_ERROR_MODEL, path,
                 "the architecture has depth %" G_GINT64_FORMAT " and width %" G_GINT64_FORMAT
                 "; this Metalmark builds depth 1 to %d and width 1 to %d",
                 depth, width, MM_UNET_MAX_DEPTH, MAX_WIDTH);
  arch->depth = (int) depth;
  arch->width = (int) width;
  return true;
}

/* t (NULL when the file lacks it) must have the shape of the network's parameter i. */
static bool
check_shape (const char *path, MmUnet *net, int i, const char *name, const MmSafetensor *t,
             GError **error)
{
  if (t == NULL)
    return mm_nn_file_error (error, MM_NN_ERROR_MODEL, path, "tensor '%s' is missing", name);
  int64_t shape[4];
  int ndim = mm_unet_param_shape (net, i, shape);
  if (t->ndim == ndim && memcmp (t->shape, shape, ndim * sizeof *shape) == 0)
    return true;
  g_autofree char *has = mm_safetensors_shape_to_string (t->ndim, t->shape);
  g_autofree char *needs = mm_safetensors_shape_to_string (ndim, shape);
  return mm_nn_file_error (error, MM_NN_ERROR_MODEL, path, "tensor '%s' has shape %s, this network needs %s",
               name, has, needs);
}

/* "adam.m.<trainable param>" or "adam.v.<...>": a tensor a checkpoint may hold. */
static bool
is_moment (MmUnet *net, const char *name)
{
  if (!g_str_has_prefix (name, "adam.m.") && !g_str_has_prefix (name, "adam.v."))
    return false;
  int i = mm_unet_find_param (net, name + strlen ("adam.m."));
  return i >= 0 && mm_unet_param_trainable (net, i);
}

/* Checks the metadata, builds the network it describes and loads its parameters. */
static MmUnet *
load_net (MmSafetensors *st, bool want_checkpoint, GError **error)
{
  const char *path = mm_safetensors_get_path (st);
  const char *format = mm_safetensors_get_metadata (st, "format");
  bool is_checkpoint = g_strcmp0 (format, MM_NN_CHECKPOINT_FORMAT) == 0;
  if (!is_checkpoint && g_strcmp0 (format, MM_NN_MODEL_FORMAT) != 0)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_MODEL,
                   "%s is not a Metalmark model (format %s)", path, format ? format : "not given");
      return NULL;
    }
  if (want_checkpoint && !is_checkpoint)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_MODEL,
                   "%s is a model, not a training checkpoint: it holds no optimiser state to "
                   "resume from", path);
      return NULL;
    }
  const char *version_text = mm_safetensors_get_metadata (st, "format_version");
  gint64 version = 0;
  if (!version_text || !g_ascii_string_to_signed (version_text, 10, 1, G_MAXINT, &version, NULL))
    {
      mm_nn_file_error (error, MM_NN_ERROR_MODEL, path, "the format version '%s' is not a number",
            version_text ? version_text : "");
      return NULL;
    }
  if (version > MM_NN_MODEL_FORMAT_VERSION)
    {
      mm_nn_file_error (error, MM_NN_ERROR_MODEL, path,
            "written by a newer Metalmark (format version %" G_GINT64_FORMAT
            "); this one reads version %d", version, MM_NN_MODEL_FORMAT_VERSION);
      return NULL;
    }
  const char *transform = mm_safetensors_get_metadata (st, "input_transform");
  if (g_strcmp0 (transform, MM_NN_INPUT_TRANSFORM) != 0)
    {
      mm_nn_file_error (error, MM_NN_ERROR_MODEL, path,
            "the model expects input transform '%s'; this Metalmark provides '%s'",
            transform ? transform : "(none)", MM_NN_INPUT_TRANSFORM);
      return NULL;
    }
  MmUnetArch arch;
  if (!parse_arch (path, mm_safetensors_get_metadata (st, "architecture"), &arch, error))
    return NULL;

  /* The deepest encoder's second convolution alone holds c x c x 3 x 3 weights: a file too
   * small for it is refused before a network of that size is allocated. */
  guint64 c = (guint64) arch.width << (arch.depth - 1), stored = 0;
  for (int k = 0; k < mm_safetensors_n_tensors (st); k++)
    stored += mm_safetensors_tensor_size (mm_safetensors_get_tensor (st, k));
  if (c * c * 9 > stored)
    {
      mm_nn_file_error (error, MM_NN_ERROR_MODEL, path,
            "holds %" G_GUINT64_FORMAT " values, too few for a U-Net of depth %d and width %d",
            stored, arch.depth, arch.width);
      return NULL;
    }

  g_autoptr (MmUnet) net = mm_unet_new (&arch, 0, error);
  if (net == NULL)
    return NULL;
  for (int k = 0; k < mm_safetensors_n_tensors (st); k++)
    {
      const char *name = mm_safetensors_get_tensor (st, k)->name;
      if (mm_unet_find_param (net, name) < 0 && !(is_checkpoint && is_moment (net, name)))
        {
          mm_nn_file_error (error, MM_NN_ERROR_MODEL, path, "tensor '%s' is not part of this network",
                name);
          return NULL;
        }
    }
  for (int i = 0; i < mm_unet_n_params (net); i++)
    {
      const char *name = mm_unet_param_name (net, i);
      const MmSafetensor *t = mm_safetensors_find (st, name);
      if (!check_shape (path, net, i, name, t, error))
        return NULL;
      mm_safetensors_read_f32 (st, t, mm_unet_param_data (net, i));
    }
  return g_steal_pointer (&net);
}

static void
fill_info (MmSafetensors *st, MmNnModelInfo *info)
{
  if (info == NULL)
    return;
  info->training_data = g_strdup (mm_safetensors_get_metadata (st, "training_data"));
  info->metrics_json = g_strdup (mm_safetensors_get_metadata (st, "metrics"));
  info->created = g_strdup (mm_safetensors_get_metadata (st, "created"));
  info->notes = g_strdup (mm_safetensors_get_metadata (st, "notes"));
}

MmUnet *
mm_nn_model_load (const char *path, MmNnModelInfo *info, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (MmSafetensors) st = mm_safetensors_read (path, error);
  MmUnet *net = st ? load_net (st, false, error) : NULL;
  if (net)
    fill_info (st, info);
  return net;
}

MmUnet *
mm_nn_checkpoint_load (const char *path, const MmAdamParams *adam_params, MmAdam **adam_out,
                       char **trainer_state_json, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_autoptr (MmSafetensors) st = mm_safetensors_read (path, error);
  g_autoptr (MmUnet) net = st ? load_net (st, true, error) : NULL;
  if (net == NULL)
    return NULL;

  const char *step_text = mm_safetensors_get_metadata (st, "adam_step");
  gint64 step = 0;
  if (!step_text || !g_ascii_string_to_signed (step_text, 10, 0, G_MAXINT64, &step, NULL))
    {
      mm_nn_file_error (error, MM_NN_ERROR_MODEL, path, "the optimiser step '%s' is not a number",
            step_text ? step_text : "");
      return NULL;
    }
  MmAdamParams defaults;
  mm_adam_params_init (&defaults);
  g_autoptr (MmAdam) adam = mm_adam_new (net, adam_params ? adam_params : &defaults);
  mm_adam_set_step (adam, step);
  for (int i = 0; i < mm_unet_n_params (net); i++)
    for (int which = 1; which <= 2 && mm_unet_param_trainable (net, i); which++)
      {
        g_autofree char *name = g_strdup_printf ("adam.%c.%s", which == 1 ? 'm' : 'v',
                                                 mm_unet_param_name (net, i));
        const MmSafetensor *t = mm_safetensors_find (st, name);
        if (!check_shape (path, net, i, name, t, error))
          return NULL;
        mm_safetensors_read_f32 (st, t, mm_adam_moment (adam, i, which));
      }
  if (adam_out)
    *adam_out = g_steal_pointer (&adam);
  if (trainer_state_json)
    *trainer_state_json = g_strdup (mm_safetensors_get_metadata (st, "trainer_state"));
  return g_steal_pointer (&net);
}
