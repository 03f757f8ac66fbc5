/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Validation split and training patches: xoshiro256**, slice lists, extraction through the
 * symmetries of the square. */
#include "mm-nn-sampler.h"

#include "mm-nn-predict.h"

#include <string.h>

typedef struct
{
  int v, k;      /* volume, slice */
  guint64 metal; /* its metal voxels */
} SliceRef;

struct _MmNnSampler
{
  const MmNnTrainData *data;
  int n_data;
  MmNnTrainOptions opts;
  GArray *train; /* SliceRef: every training slice */
  GArray *metal; /* SliceRef: the training slices holding metal */
  GArray **val;  /* per volume: int, validation slice indices */
  int n_val;
  guint64 rng[4];
};

/* xoshiro256** (Blackman and Vigna), seeded through splitmix64. */
static guint64
rng_next (guint64 *s)
{
#define ROTL(x, k) (((x) << (k)) | ((x) >> (64 - (k))))
  guint64 result = ROTL (s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = ROTL (s[3], 45);
  return result;
#undef ROTL
}

/* Uniform in [0, n), n < 2^31: multiply-shift, bias below 2^-32. */
static int
rng_int (MmNnSampler *s, int n)
{
  return (int) (((rng_next (s->rng) >> 32) * (guint64) n) >> 32);
}

static double
rng_double (MmNnSampler *s)
{
  return (double) (rng_next (s->rng) >> 11) * 0x1.0p-53;
}

void
mm_nn_sampler_free (MmNnSampler *s)
{
  if (s == NULL)
    return;
  for (int v = 0; v < s->n_data && s->val; v++)
    g_clear_pointer (&s->val[v], g_array_unref);
  g_free (s->val);
  g_clear_pointer (&s->train, g_array_unref);
  g_clear_pointer (&s->metal, g_array_unref);
  g_free (s);
}

MmNnSampler *
mm_nn_sampler_new (const MmNnTrainData *data, int n_data, const MmNnTrainOptions *o,
                   GError **error)
{
  g_autoptr (MmNnSampler) s = g_new0 (MmNnSampler, 1);
  s->data = data;
  s->n_data = n_data;
  s->opts = *o;
  s->train = g_array_new (FALSE, FALSE, sizeof (SliceRef));
  s->metal = g_array_new (FALSE, FALSE, sizeof (SliceRef));
  s->val = g_new0 (GArray *, n_data);
  for (int v = 0; v < n_data; v++)
    {
      const MmMask *mask = data[v].mask;
      int n = mask->dims[2], v0 = n, v1 = n;
      if (o->split == MM_NN_SPLIT_BLOCKS)
        {
          if (n < o->blocks)
            {
              g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                           "%s has %d slices, fewer than the %d validation blocks",
                           data[v].name, n, o->blocks);
              return NULL;
            }
          v0 = (int) ((gint64) o->val_block * n / o->blocks);
          v1 = (int) ((gint64) (o->val_block + 1) * n / o->blocks);
        }
      s->val[v] = g_array_new (FALSE, FALSE, sizeof (int));
      for (int k = 0; k < n; k++)
        {
          bool val = false, train = true;
          if (o->split == MM_NN_SPLIT_BLOCKS)
            {
              val = k >= v0 && k < v1;
              train = k < v0 - o->guard || k >= v1 + o->guard;
            }
          else if (o->split == MM_NN_SPLIT_INTERLEAVED)
            train = !(val = k % o->interleave == o->interleave - 1);
          if (val)
            g_array_append_val (s->val[v], k);
          if (train)
            {
              SliceRef r = { v, k, mm_mask_count_slice (mask, k) };
              g_array_append_val (s->train, r);
              if (r.metal)
                g_array_append_val (s->metal, r);
            }
        }
      s->n_val += s->val[v]->len;
    }
  if (s->train->len == 0)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_SHAPE,
                   "No slice is left for training after the %s validation split",
                   mm_nn_split_name (o->split));
      return NULL;
    }
  /* splitmix64 of the seed; a stream apart from the one that initialised the weights. */
  guint64 x = o->seed ^ 0x5452414e53414d50ULL;
  for (int i = 0; i < 4; i++)
    {
      guint64 z = (x += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s->rng[i] = z ^ (z >> 31);
    }
  return g_steal_pointer (&s);
}

const int *
mm_nn_sampler_val_slices (const MmNnSampler *s, int v, int *n)
{
  *n = (int) s->val[v]->len;
  return (const int *) s->val[v]->data;
}

int
mm_nn_sampler_n_val (const MmNnSampler *s)
{
  return s->n_val;
}

void
mm_nn_sampler_train_counts (const MmNnSampler *s, int v, int *slices, int *with_metal)
{
  *slices = *with_metal = 0;
  for (guint i = 0; i < s->train->len; i++)
    {
      const SliceRef *r = &g_array_index (s->train, SliceRef, i);
      *slices += r->v == v;
      *with_metal += r->v == v && r->metal;
    }
}

char *
mm_nn_sampler_describe (const MmNnSampler *s, int v)
{
  GArray *val = s->val[v];
  switch (s->opts.split)
    {
    case MM_NN_SPLIT_BLOCKS:
      return g_strdup_printf ("validation slices %d-%d (block %d of %d, from 0), guard %d",
                              g_array_index (val, int, 0),
                              g_array_index (val, int, val->len - 1), s->opts.val_block,
                              s->opts.blocks, s->opts.guard);
    case MM_NN_SPLIT_INTERLEAVED:
      return g_strdup_printf ("validation every %dth slice (%u slices)", s->opts.interleave,
                              val->len);
    case MM_NN_SPLIT_NONE:
      break;
    }
  return g_strdup ("no validation");
}

void
mm_nn_sampler_get_state (const MmNnSampler *s, guint64 state[4])
{
  memcpy (state, s->rng, sizeof s->rng);
}

void
mm_nn_sampler_set_state (MmNnSampler *s, const guint64 state[4])
{
  memcpy (s->rng, state, sizeof s->rng);
}

/* The position of the r-th metal voxel (row-major) of a slice. */
static void
nth_metal (const uint8_t *m, int w, int h, guint64 r, int *x, int *y)
{
  for (size_t i = 0; i < (size_t) w * h; i++)
    if (m[i] && r-- == 0)
      {
        *x = (int) (i % w);
        *y = (int) (i / w);
        return;
      }
  g_assert_not_reached ();
}

/* The patch with its top-left corner at (x0, y0) of slice k through symmetry op (bit 2:
 * transpose, bit 0: flip x, bit 1: flip y). */
static void
extract (const MmVolume *vol, const MmMask *mask, int k, int x0, int y0, int p, int op,
         int16_t *hu, uint8_t *target)
{
  int w = vol->dims[0], h = vol->dims[1];
  size_t base = (size_t) k * w * h;
  const uint8_t *m = mask->data + base;
  for (int v = 0; v < p; v++)
    for (int u = 0; u < p; u++)
      {
        int a = op & 4 ? v : u, b = op & 4 ? u : v;
        int x = x0 + (op & 1 ? p - 1 - a : a), y = y0 + (op & 2 ? p - 1 - b : b);
        size_t o = (size_t) v * p + u;
        if (x < 0 || y < 0 || x >= w || y >= h)
          {
            hu[o] = MM_NN_PAD_HU;
            target[o] = 0;
            continue;
          }
        size_t i = (size_t) y * w + x;
        hu[o] = vol->type == MM_VOXEL_INT16
                    ? ((const int16_t *) vol->voxels)[base + i]
                    : (int16_t) CLAMP (((const float *) vol->voxels)[base + i], G_MININT16,
                                       G_MAXINT16);
        target[o] = m[i] != 0;
      }
}

/* Every random number is drawn in a statement of its own: the order in which function
 * arguments are evaluated is unspecified, the sequence of draws must not be. */
void
mm_nn_sampler_draw (MmNnSampler *s, int16_t *hu, uint8_t *target)
{
  int p = s->opts.patch;
  for (int attempt = 0;; attempt++)
    {
      bool near_metal = s->metal->len > 0 && rng_double (s) < s->opts.metal_fraction;
      GArray *from = near_metal ? s->metal : s->train;
      const SliceRef *r = &g_array_index (from, SliceRef, rng_int (s, from->len));
      const MmVolume *vol = s->data[r->v].volume;
      const MmMask *mask = s->data[r->v].mask;
      int w = vol->dims[0], h = vol->dims[1], x0, y0;
      /* Where a patch may start: inside the slice, or centred on it when larger. */
      int lo_x = MIN (0, w - p), hi_x = MAX (0, w - p);
      int lo_y = MIN (0, h - p), hi_y = MAX (0, h - p);
      if (near_metal)
        {
          int mx, my, j = p / 3;
          int nth = rng_int (s, (int) r->metal);
          nth_metal (mm_mask_slice (mask, r->k), w, h, nth, &mx, &my);
          x0 = mx - p / 2 + rng_int (s, 2 * j + 1) - j;
          y0 = my - p / 2 + rng_int (s, 2 * j + 1) - j;
        }
      else
        {
          x0 = lo_x + rng_int (s, hi_x - lo_x + 1);
          y0 = lo_y + rng_int (s, hi_y - lo_y + 1);
        }
      x0 = CLAMP (x0, lo_x, hi_x);
      y0 = CLAMP (y0, lo_y, hi_y);
      int op = rng_int (s, 8);
      extract (vol, mask, r->k, x0, y0, p, op, hu, target);
      if (near_metal || attempt == 3)
        return;
      for (size_t i = 0; i < (size_t) p * p; i++)
        if (hu[i] > MM_NN_PAD_HU)
          return;
    }
}
