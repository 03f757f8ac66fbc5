/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Undo/redo of mask edits: per-slice runs of flipped voxels, zlib-compressed, in a budget. */
#include "mm-history.h"

#include <string.h>
#include <zlib.h>

/* One slice's difference: the lengths of alternating runs of unchanged and flipped voxels,
 * as LEB128 varints (the last unchanged run left out), then deflated. Runs rather than the
 * XOR bytes themselves: undo then costs in proportion to the voxels that flipped, not to the
 * 256 kB of a 512 x 512 slice, and a brush dab compresses to a few dozen bytes. */
typedef struct
{
  int k;
  bool stored;       /* the runs did not shrink under zlib: kept as they are */
  uint32_t runs_len; /* bytes of the varint stream */
  uint32_t data_len; /* bytes of data */
  uint8_t *data;
} SliceDiff;

typedef struct
{
  char *label;
  int n;
  SliceDiff *diffs; /* ascending k */
  size_t bytes;     /* everything this step holds, for the budget */
} Step;

struct _MmHistory
{
  MmMask *mask; /* borrowed */
  size_t budget;
  size_t slice_len;

  GPtrArray *steps; /* of Step, oldest first: [0, cursor) can be undone, the rest redone */
  guint cursor;
  size_t bytes;
  GArray *changed; /* int, what the last commit/cancel/undo/redo changed */

  /* The open step. */
  bool open;
  char *label;
  uint8_t **snap;        /* per slice: its copy at touch, or NULL */
  GArray *touched;       /* int, in touch order */
  GPtrArray *snap_blocks; /* owned allocations the snap pointers point into */
  uint8_t *arena;         /* room left in the last block for single touches */
  int arena_left, arena_cap;
};

/* ---- runs ---- */

typedef struct
{
  uint8_t *data;
  size_t len, cap;
} Buf;

static void
buf_put_varint (Buf *b, uint64_t v)
{
  if (b->len + 10 > b->cap)
    {
      b->cap = MAX (64, b->cap * 2);
      b->data = g_realloc (b->data, b->cap);
    }
  while (v >= 0x80)
    {
      b->data[b->len++] = (uint8_t) (v | 0x80);
      v >>= 7;
    }
  b->data[b->len++] = (uint8_t) v;
}

static inline uint64_t
load64 (const uint8_t *p)
{
  uint64_t w;
  memcpy (&w, p, 8);
  return w;
}

/* First x' >= x where "a and b differ as booleans" is no longer `differ`. */
static size_t
run_end (const uint8_t *a, const uint8_t *b, size_t x, size_t n, bool differ)
{
  if (differ)
    {
      while (x < n && !a[x] != !b[x])
        x++;
      return x;
    }
  for (;;)
    {
      /* Unchanged stretches are most of a slice: skip them a word at a time. */
      while (x + 8 <= n && load64 (a + x) == load64 (b + x))
        x += 8;
      size_t end = MIN (x + 8, n);
      for (; x < end; x++)
        if (!a[x] != !b[x])
          return x;
      if (x >= n)
        return n;
    }
}

/* Runs of before vs after into out (emptied first); out->len == 0 when nothing flipped. */
static void
encode_runs (const uint8_t *before, const uint8_t *after, size_t n, Buf *out)
{
  out->len = 0;
  size_t x = 0;
  bool differ = false;
  while (x < n)
    {
      size_t end = run_end (before, after, x, n, differ);
      if (!differ && end == n)
        break;
      buf_put_varint (out, end - x);
      x = end;
      differ = !differ;
    }
}

/* Flip the voxels the runs name. The runs are our own, so a bad one is a bug, not input. */
static void
apply_runs (uint8_t *p, size_t n, const uint8_t *runs, size_t len)
{
  size_t x = 0, r = 0;
  bool differ = false;
  while (r < len)
    {
      uint64_t v = 0;
      for (int shift = 0; r < len; shift += 7)
        {
          uint8_t byte = runs[r++];
          v |= (uint64_t) (byte & 0x7f) << shift;
          if (!(byte & 0x80))
            break;
        }
      g_assert (v <= n - x);
      if (differ)
        for (size_t e = x + v; x < e; x++)
          p[x] = p[x] ? 0 : 1;
      else
        x += v;
      differ = !differ;
    }
}

/* Diff slice k against its snapshot into d; false when nothing flipped. */
static bool
diff_slice (MmHistory *h, int k, SliceDiff *d)
{
  Buf runs = { 0 };
  encode_runs (h->snap[k], mm_mask_slice (h->mask, k), h->slice_len, &runs);
  if (runs.len == 0)
    {
      g_free (runs.data);
      return false;
    }
  d->k = k;
  d->runs_len = (uint32_t) runs.len;
  uLongf clen = compressBound (runs.len);
  uint8_t *c = g_malloc (clen);
  if (compress2 (c, &clen, runs.data, runs.len, Z_BEST_SPEED) == Z_OK && clen < runs.len)
    {
      d->stored = false;
      d->data_len = (uint32_t) clen;
      d->data = g_realloc (c, clen);
      g_free (runs.data);
    }
  else
    {
      g_free (c);
      d->stored = true;
      d->data_len = (uint32_t) runs.len;
      d->data = g_realloc (runs.data, runs.len);
    }
  return true;
}

static void
apply_diff (MmHistory *h, const SliceDiff *d)
{
  uint8_t *p = mm_mask_slice (h->mask, d->k);
  if (d->stored)
    {
      apply_runs (p, h->slice_len, d->data, d->runs_len);
      return;
    }
  g_autofree uint8_t *runs = g_malloc (d->runs_len);
  uLongf len = d->runs_len;
  int rc = uncompress (runs, &len, d->data, d->data_len);
  /* Our own stream, in memory: only a memory corruption could make it fail. */
  g_assert (rc == Z_OK && len == d->runs_len);
  apply_runs (p, h->slice_len, runs, len);
}

/* ---- steps ---- */

static void
step_free (gpointer data)
{
  Step *s = data;
  for (int t = 0; t < s->n; t++)
    g_free (s->diffs[t].data);
  g_free (s->diffs);
  g_free (s->label);
  g_free (s);
}

/* Apply a step's differences in parallel: slices are independent. */
static void
apply_step (MmHistory *h, const Step *s, int *first_k, int *last_k)
{
#pragma omp parallel for schedule (dynamic, 1) if (s->n > 1)
  for (int t = 0; t < s->n; t++)
    apply_diff (h, &s->diffs[t]);
  g_array_set_size (h->changed, 0);
  for (int t = 0; t < s->n; t++)
    g_array_append_val (h->changed, s->diffs[t].k);
  if (first_k)
    *first_k = s->diffs[0].k;
  if (last_k)
    *last_k = s->diffs[s->n - 1].k;
}

static void
drop_open_step (MmHistory *h)
{
  for (guint t = 0; t < h->touched->len; t++)
    h->snap[g_array_index (h->touched, int, t)] = NULL;
  g_array_set_size (h->touched, 0);
  g_ptr_array_set_size (h->snap_blocks, 0);
  h->arena = NULL;
  h->arena_left = h->arena_cap = 0;
  g_clear_pointer (&h->label, g_free);
  h->open = false;
}

MmHistory *
mm_history_new (MmMask *mask, size_t budget_bytes)
{
  g_return_val_if_fail (mask != NULL && mask->data != NULL, NULL);
  MmHistory *h = g_new0 (MmHistory, 1);
  h->mask = mask;
  h->budget = budget_bytes;
  h->slice_len = (size_t) mask->dims[0] * mask->dims[1];
  h->steps = g_ptr_array_new_with_free_func (step_free);
  h->changed = g_array_new (FALSE, FALSE, sizeof (int));
  h->snap = g_new0 (uint8_t *, mask->dims[2]);
  h->touched = g_array_new (FALSE, FALSE, sizeof (int));
  h->snap_blocks = g_ptr_array_new_with_free_func (g_free);
  return h;
}

void
mm_history_free (MmHistory *h)
{
  if (h == NULL)
    return;
  drop_open_step (h);
  g_ptr_array_unref (h->steps);
  g_array_unref (h->changed);
  g_free (h->snap);
  g_array_unref (h->touched);
  g_ptr_array_unref (h->snap_blocks);
  g_free (h);
}

void
mm_history_begin (MmHistory *h, const char *label)
{
  g_return_if_fail (h != NULL);
  g_return_if_fail (!h->open);
  h->open = true;
  h->label = g_strdup (label);
}

void
mm_history_touch_range (MmHistory *h, int first, int last)
{
  g_return_if_fail (h != NULL && h->open);
  g_return_if_fail (first >= 0 && first <= last && last < h->mask->dims[2]);

  int n_new = 0;
  for (int k = first; k <= last; k++)
    n_new += h->snap[k] == NULL;
  if (n_new == 0)
    return;
  int start = (int) h->touched->len;
  if (n_new == 1)
    {
      /* Operations touch slice after slice: blocks of 1, 2, 4 ... slices, so a threshold of
       * 200 slices makes 8 allocations rather than 200 fresh mappings to fault in, and a
       * one-slice stroke still copies one slice. */
      if (h->arena_left == 0)
        {
          h->arena_cap = CLAMP (h->arena_cap * 2, 1, 64);
          h->arena = g_malloc (h->slice_len * h->arena_cap);
          h->arena_left = h->arena_cap;
          g_ptr_array_add (h->snap_blocks, h->arena);
        }
      for (int k = first; k <= last; k++)
        if (h->snap[k] == NULL)
          {
            h->snap[k] = h->arena;
            g_array_append_val (h->touched, k);
          }
      h->arena += h->slice_len;
      h->arena_left--;
    }
  else
    {
      uint8_t *block = g_malloc (h->slice_len * n_new);
      g_ptr_array_add (h->snap_blocks, block);
      for (int k = first; k <= last; k++)
        if (h->snap[k] == NULL)
          {
            h->snap[k] = block;
            block += h->slice_len;
            g_array_append_val (h->touched, k);
          }
    }
  const int *ks = &g_array_index (h->touched, int, start);
#pragma omp parallel for schedule (static) if (n_new > 8)
  for (int t = 0; t < n_new; t++)
    memcpy (h->snap[ks[t]], mm_mask_slice (h->mask, ks[t]), h->slice_len);
}

void
mm_history_touch (MmHistory *h, int k)
{
  mm_history_touch_range (h, k, k);
}

void
mm_history_touch_cb (int k, gpointer history)
{
  mm_history_touch (history, k);
}

static int
cmp_int (const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

static void
drop_redo (MmHistory *h)
{
  for (guint t = h->cursor; t < h->steps->len; t++)
    h->bytes -= ((Step *) h->steps->pdata[t])->bytes;
  g_ptr_array_set_size (h->steps, h->cursor);
}

bool
mm_history_commit (MmHistory *h)
{
  g_return_val_if_fail (h != NULL && h->open, false);

  int n = (int) h->touched->len;
  g_array_sort (h->touched, cmp_int);
  const int *ks = (const int *) (void *) h->touched->data;
  SliceDiff *diffs = g_new0 (SliceDiff, MAX (n, 1));
  bool *flipped = g_new0 (bool, MAX (n, 1));
#pragma omp parallel for schedule (dynamic, 1) if (n > 1)
  for (int t = 0; t < n; t++)
    flipped[t] = diff_slice (h, ks[t], &diffs[t]);

  int kept = 0;
  for (int t = 0; t < n; t++)
    if (flipped[t])
      diffs[kept++] = diffs[t];
  g_free (flipped);
  g_array_set_size (h->changed, 0);
  for (int t = 0; t < kept; t++)
    g_array_append_val (h->changed, diffs[t].k);

  if (kept == 0)
    {
      g_free (diffs);
      drop_open_step (h);
      return false;
    }

  Step *s = g_new0 (Step, 1);
  s->label = g_steal_pointer (&h->label);
  s->n = kept;
  s->diffs = g_renew (SliceDiff, diffs, kept);
  s->bytes = sizeof *s + (s->label ? strlen (s->label) + 1 : 0) + kept * sizeof (SliceDiff);
  for (int t = 0; t < kept; t++)
    s->bytes += s->diffs[t].data_len;
  drop_open_step (h);

  drop_redo (h);
  g_ptr_array_add (h->steps, s);
  h->cursor++;
  h->bytes += s->bytes;

  /* Oldest first; the step just made stays even alone over budget, or it could not be
   * undone at all. */
  guint drop = 0;
  while (h->bytes > h->budget && drop + 1 < h->steps->len)
    h->bytes -= ((Step *) h->steps->pdata[drop++])->bytes;
  if (drop > 0)
    {
      g_ptr_array_remove_range (h->steps, 0, drop);
      h->cursor -= drop;
    }
  return true;
}

void
mm_history_cancel (MmHistory *h)
{
  g_return_if_fail (h != NULL && h->open);
  g_array_sort (h->touched, cmp_int);
  g_array_set_size (h->changed, 0);
  for (guint t = 0; t < h->touched->len; t++)
    {
      int k = g_array_index (h->touched, int, t);
      uint8_t *p = mm_mask_slice (h->mask, k);
      if (memcmp (p, h->snap[k], h->slice_len) != 0)
        {
          memcpy (p, h->snap[k], h->slice_len);
          g_array_append_val (h->changed, k);
        }
    }
  drop_open_step (h);
}

bool
mm_history_undo (MmHistory *h, int *first_k, int *last_k)
{
  g_return_val_if_fail (h != NULL && !h->open, false);
  if (h->cursor == 0)
    return false;
  h->cursor--;
  apply_step (h, h->steps->pdata[h->cursor], first_k, last_k);
  return true;
}

bool
mm_history_redo (MmHistory *h, int *first_k, int *last_k)
{
  g_return_val_if_fail (h != NULL && !h->open, false);
  if (h->cursor >= h->steps->len)
    return false;
  apply_step (h, h->steps->pdata[h->cursor], first_k, last_k);
  h->cursor++;
  return true;
}

const int *
mm_history_get_changed (MmHistory *h, int *n_changed)
{
  g_return_val_if_fail (h != NULL && n_changed != NULL, NULL);
  *n_changed = (int) h->changed->len;
  return (const int *) (void *) h->changed->data;
}

const char *
mm_history_get_undo_label (MmHistory *h)
{
  g_return_val_if_fail (h != NULL, NULL);
  return h->cursor > 0 ? ((Step *) h->steps->pdata[h->cursor - 1])->label : NULL;
}

const char *
mm_history_get_redo_label (MmHistory *h)
{
  g_return_val_if_fail (h != NULL, NULL);
  return h->cursor < h->steps->len ? ((Step *) h->steps->pdata[h->cursor])->label : NULL;
}

int
mm_history_get_n_undo (MmHistory *h)
{
  g_return_val_if_fail (h != NULL, 0);
  return (int) h->cursor;
}

int
mm_history_get_n_redo (MmHistory *h)
{
  g_return_val_if_fail (h != NULL, 0);
  return (int) (h->steps->len - h->cursor);
}

size_t
mm_history_get_bytes (MmHistory *h)
{
  g_return_val_if_fail (h != NULL, 0);
  return h->bytes;
}

void
mm_history_clear (MmHistory *h)
{
  g_return_if_fail (h != NULL);
  drop_open_step (h);
  g_ptr_array_set_size (h->steps, 0);
  h->cursor = 0;
  h->bytes = 0;
  g_array_set_size (h->changed, 0);
}
