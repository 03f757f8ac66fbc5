/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The safetensors file format (as Hugging Face's safetensors library writes it), F32 only:
 *   8 bytes: N, the header length, little-endian;
 *   N bytes: a JSON object, padded with spaces to a multiple of 8:
 *            {"__metadata__": {"key": "value", ...},
 *             "name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...};
 *   the tensors' bytes, little-endian, offsets counted from the first byte after the header.
 * The reader is strict: anything it does not understand is an error naming the file and the
 * reason, because a model file is outside input. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Sets error (MM_NN_ERROR, code) to "path: <reason>", control characters quoted from a file
 * turned into spaces so the message stays one line; returns false. */
bool mm_nn_file_error (GError **error, int code, const char *path, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

#define MM_SAFETENSORS_MAX_DIMS 8

typedef struct
{
  const char *name;
  int ndim;
  int64_t shape[MM_SAFETENSORS_MAX_DIMS];
  const float *data; /* writer: prod (shape) floats. Reader: NULL, use _read_f32 */
} MmSafetensor;

/* Writes tensors and metadata (key, value pairs followed by NULL; NULL values are left out)
 * to path atomically: a reader sees the old file or the whole new one. Names must be unique
 * and not "__metadata__". Errors are MM_NN_ERROR or G_IO_ERROR, naming path. */
bool mm_safetensors_write (const char *path, const MmSafetensor *tensors, int n_tensors,
                           const char *const *metadata, GError **error);

typedef struct _MmSafetensors MmSafetensors;

/* Reads and validates the whole file; MM_NN_ERROR_MODEL for anything malformed. */
MmSafetensors *mm_safetensors_read (const char *path, GError **error);
void mm_safetensors_free (MmSafetensors *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmSafetensors, mm_safetensors_free)

const char *mm_safetensors_get_path (const MmSafetensors *st);
/* Tensors in the order of their data in the file. */
int mm_safetensors_n_tensors (const MmSafetensors *st);
const MmSafetensor *mm_safetensors_get_tensor (const MmSafetensors *st, int i);
const MmSafetensor *mm_safetensors_find (const MmSafetensors *st, const char *name);
size_t mm_safetensors_tensor_size (const MmSafetensor *t); /* elements */
/* Copies tensor t's values (mm_safetensors_tensor_size floats) to out. */
void mm_safetensors_read_f32 (const MmSafetensors *st, const MmSafetensor *t, float *out);
/* "[16,3,3,3]", for messages; g_free. */
char *mm_safetensors_shape_to_string (int ndim, const int64_t *shape);
/* A metadata value, or NULL when the key is absent. */
const char *mm_safetensors_get_metadata (const MmSafetensors *st, const char *key);

G_END_DECLS
