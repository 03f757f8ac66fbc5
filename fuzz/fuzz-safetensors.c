/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Model files: the safetensors reader, then the model and checkpoint loaders on top of it
 * (metadata, architecture JSON, tensor names and shapes). */
#include "fuzz-common.h"
#include "mm-nn-model.h"
#include "mm-safetensors.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  g_autofree char *path = mm_fuzz_write (NULL, "model.safetensors", data, size);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmSafetensors) st = mm_safetensors_read (path, &err);
  if ((st == NULL) == (err == NULL))
    __builtin_trap ();
  if (st == NULL)
    return 0;
  /* Every tensor's values, copied out as the loaders do. */
  for (int i = 0; i < mm_safetensors_n_tensors (st); i++)
    {
      const MmSafetensor *t = mm_safetensors_get_tensor (st, i);
      g_autofree float *v = g_new (float, MAX (mm_safetensors_tensor_size (t), 1));
      mm_safetensors_read_f32 (st, t, v);
    }
  /* The loaders only when the file says it is ours: they build a network. */
  const char *format = mm_safetensors_get_metadata (st, "format");
  if (format && g_str_has_prefix (format, MM_NN_MODEL_FORMAT))
    {
      MmNnModelInfo info = { 0 };
      g_clear_error (&err);
      MmUnet *net = mm_nn_model_load (path, &info, &err);
      if ((net == NULL) == (err == NULL))
        __builtin_trap ();
      g_clear_pointer (&net, mm_unet_free);
      mm_nn_model_info_clear (&info);
      g_clear_error (&err);
      MmAdam *adam = NULL;
      char *state = NULL;
      net = mm_nn_checkpoint_load (path, NULL, &adam, &state, &err);
      if ((net == NULL) == (err == NULL))
        __builtin_trap ();
      g_clear_pointer (&adam, mm_adam_free);
      g_clear_pointer (&net, mm_unet_free);
      g_free (state);
    }
  return 0;
}
