/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Whole-slice inference: pad, transform, run in batches, threshold the logits, crop. */
#include "mm-nn-predict.h"

#include "mm-nn-input.h"
#include "mm-nn-profile.h"
#include "mm-profile.h"

#include <omp.h>
#include <string.h>

int
mm_nn_padded_size (const MmUnet *net, int n)
{
  int m = 1 << (mm_unet_get_arch (net)->depth - 1);
  return (n + m - 1) / m * m;
}

void
mm_nn_slice_padded (const MmVolume *vol, int k, int16_t *out, int w, int h)
{
  int sw = vol->dims[0], sh = vol->dims[1];
  g_assert (w >= sw && h >= sh);
  int x0 = (w - sw) / 2, y0 = (h - sh) / 2;
  size_t plane = mm_volume_slice_voxels (vol);
  for (size_t i = 0; i < (size_t) w * h; i++)
    out[i] = MM_NN_PAD_HU;
  for (int y = 0; y < sh; y++)
    {
      int16_t *row = out + (size_t) (y0 + y) * w + x0;
      size_t src = (size_t) k * plane + (size_t) y * sw;
      if (vol->type == MM_VOXEL_INT16)
        memcpy (row, (const int16_t *) vol->voxels + src, sw * sizeof *row);
      else
        for (int x = 0; x < sw; x++)
          row[x] = (int16_t) CLAMP (((const float *) vol->voxels)[src + x], G_MININT16,
                                    G_MAXINT16);
    }
}

/* One worker: takes the next `batch` slices not yet taken until none is left. Taking them as
 * they come, rather than a fixed share each, keeps both cores busy to the end when another
 * process slows one worker down. A slice's logits do not depend on the worker or its batch
 * companions (inference: batch norm from the running statistics). */
static bool
predict_worker (MmUnet *net, const MmVolume *vol, const int *slices, int n, gint *next,
                int batch, uint8_t *out, gint *done, MmNnSlicesFunc progress,
                gpointer progress_data, GCancellable *cancel, GError **error)
{
  int sw = vol->dims[0], sh = vol->dims[1];
  int w = mm_nn_padded_size (net, sw), h = mm_nn_padded_size (net, sh);
  int x0 = (w - sw) / 2, y0 = (h - sh) / 2;
  g_autoptr (MmUnetRun) run = NULL;
  size_t plane = (size_t) w * h;
  float *input = NULL;
  g_autofree int16_t *hu = NULL;
  for (;;)
    {
      if (g_cancellable_is_cancelled (cancel))
        return true; /* the caller reports it */
      int i = g_atomic_int_add (next, batch);
      if (i >= n)
        return true;
      if (run == NULL)
        {
          gint64 tb = mm_profile_begin ();
          run = mm_unet_run_new (net, batch, h, w, false, error);
          if (tb)
            mm_nn_profile_add ("run graph built (primitives created)", mm_profile_now () - tb);
          if (run == NULL)
            {
              g_atomic_int_set (next, n); /* the others stop too */
              return false;
            }
          input = mm_unet_run_input (run);
          /* The unused tail of a last, partial batch is computed too: defined values. */
          memset (input, 0, (size_t) batch * MM_UNET_IN_CHANNELS * plane * sizeof *input);
          hu = g_new (int16_t, plane);
        }
      int m = MIN (batch, n - i);
      gint64 t0 = mm_profile_begin ();
      for (int b = 0; b < m; b++)
        {
          mm_nn_slice_padded (vol, slices[i + b], hu, w, h);
          mm_nn_input_transform (hu, plane, input + (size_t) b * MM_UNET_IN_CHANNELS * plane);
        }
      gint64 t1 = t0 ? mm_profile_now () : 0;
      const float *logits = mm_unet_run_forward (run);
      gint64 t2 = t0 ? mm_profile_now () : 0;
      for (int b = 0; b < m; b++)
        {
          uint8_t *dst = out + (size_t) (i + b) * sw * sh;
          for (int y = 0; y < sh; y++)
            {
              const float *row = logits + b * plane + (size_t) (y0 + y) * w + x0;
              for (int x = 0; x < sw; x++)
                dst[(size_t) y * sw + x] = row[x] > 0.f;
            }
        }
      if (t0)
        {
          mm_nn_profile_add ("input: pad + HU windows", t1 - t0);
          mm_nn_profile_add ("network (all steps below)", t2 - t1);
          mm_nn_profile_add ("threshold + crop", mm_profile_now () - t2);
        }
      int now = g_atomic_int_add (done, m) + m;
      if (progress)
        progress (now, n, progress_data);
    }
}

bool
mm_nn_predict_slices (MmUnet *net, const MmVolume *vol, const int *slices, int n, int batch,
                      uint8_t *out, MmNnSlicesFunc progress, gpointer progress_data,
                      GCancellable *cancel, GError **error)
{
  g_return_val_if_fail (net && vol && vol->voxels && (n == 0 || (slices && out)), false);
  g_return_val_if_fail (batch > 0, false);
  for (int i = 0; i < n; i++)
    g_return_val_if_fail (slices[i] >= 0 && slices[i] < vol->dims[2], false);
  if (n == 0)
    return true;
  /* One worker per thread, each with its own execution plan running on its thread alone:
   * whole slices are independent, and one thread per slice spares the two threads a
   * synchronisation after every one of the network's ~40 small primitives (measured: see
   * bench/nn). With few slices, fewer workers. */
  batch = MIN (batch, n);
  int workers = MIN (omp_get_max_threads (), (n + batch - 1) / batch);
  gint done = 0, next = 0;
  GError *errors[64] = { NULL };
  workers = MIN (workers, (int) G_N_ELEMENTS (errors));
#pragma omp parallel num_threads(workers) if (workers > 1)
  {
    int t = omp_get_thread_num ();
    /* progress from the calling thread only (worker 0), as documented */
    predict_worker (net, vol, slices, n, &next, batch, out, &done, t == 0 ? progress : NULL,
                    progress_data, cancel, &errors[t]);
  }
  bool ok = true;
  for (int t = 0; t < workers; t++)
    if (errors[t])
      {
        if (ok)
          g_propagate_error (error, errors[t]);
        else
          g_error_free (errors[t]);
        ok = false;
      }
  if (ok && g_cancellable_set_error_if_cancelled (cancel, error))
    return false;
  if (ok && progress)
    progress (n, n, progress_data);
  return ok;
}

MmMask *
mm_nn_predict_volume (MmUnet *net, const MmVolume *vol, int batch, MmNnSlicesFunc progress,
                      gpointer progress_data, GCancellable *cancel, GError **error)
{
  g_return_val_if_fail (net && vol && vol->voxels, NULL);
  g_autoptr (MmMask) mask = mm_mask_new_uninitialized (vol->dims);
  if (mask == NULL)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_FAILED,
                   "Out of memory for a %d x %d x %d mask", vol->dims[0], vol->dims[1],
                   vol->dims[2]);
      return NULL;
    }
  g_autofree int *slices = g_new (int, vol->dims[2]);
  for (int k = 0; k < vol->dims[2]; k++)
    slices[k] = k;
  if (!mm_nn_predict_slices (net, vol, slices, vol->dims[2], batch, mask->data, progress,
                             progress_data, cancel, error))
    return NULL;
  return g_steal_pointer (&mask);
}
