/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The progressive reader (mm_dicom_load with volume_func): the volume announced once with
 * its first slice in, every other slice reported exactly once, the voxels those of a normal
 * read; a wanted slice first; cancellation stops early; a slice that fails after the
 * announcement gives a new volume read the normal way. */
#include "mm-test-util.h"
#include "mm-dicom.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct
{
  MmVolume *announced; /* the caller's once announced */
  int first;
  int n_announced;
  gint *calls;          /* per slice: ready_func calls */
  gint ready_before_announce;
  gint n_ready;
  GCancellable *cancel; /* cancelled after cancel_after slices, when set */
  int cancel_after;
  char *damage;         /* a file truncated when the volume is announced */
} Seen;

static void
volume_cb (MmVolume *vol, int first, gpointer user_data)
{
  Seen *s = user_data;
  s->announced = vol;
  s->first = first;
  s->n_announced++;
  s->calls = g_new0 (gint, vol->dims[2]);
  /* Only the first slice is in yet. */
  for (int k = 0; k < vol->dims[2]; k++)
    g_assert_cmpint (mm_volume_slice_is_ready (vol, k), ==, k == first);
  if (s->damage)
    g_assert_cmpint (truncate (s->damage, 200), ==, 0);
}

static void
ready_cb (int k, gpointer user_data)
{
  Seen *s = user_data;
  if (s->announced == NULL)
    g_atomic_int_inc (&s->ready_before_announce);
  else
    {
      g_assert_true (mm_volume_slice_is_ready (s->announced, k));
      g_atomic_int_inc (&s->calls[k]);
    }
  int n = g_atomic_int_add (&s->n_ready, 1) + 1;
  if (s->cancel && n == s->cancel_after)
    g_cancellable_cancel (s->cancel);
}

static MmVolume *
load (const char *dir, int threads, Seen *seen, const gint *wanted, MmDicomReport *rep,
      GError **error)
{
  MmDicomLoadOptions o;
  mm_dicom_load_options_init (&o);
  o.n_threads = threads;
  if (seen)
    {
      o.volume_func = volume_cb;
      o.ready_func = ready_cb;
      o.progressive_data = seen;
      o.cancellable = seen->cancel;
    }
  o.wanted_slice = wanted;
  const char *paths[] = { dir };
  return mm_dicom_load (paths, 1, &o, rep, error);
}

static char *
write_phantom (int slices, MmPhantom **out)
{
  MmPhantom *ph = mm_test_phantom (48, slices, 7, 25, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-progressive");
  MmDicomWriteOptions wo = { 0 };
  wo.syntax = MM_DICOM_SYNTAX_EXPLICIT;
  wo.shuffle_names = true; /* file order says nothing about slice order */
  wo.seed = 5;
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_dicom_write_series (dir, ph->volume, &wo, &err));
  *out = ph;
  return g_steal_pointer (&dir);
}

static void
seen_clear (Seen *s)
{
  g_free (s->calls);
  g_free (s->damage);
}

static void
test_every_slice_once (void)
{
  MmPhantom *ph;
  g_autofree char *dir = write_phantom (31, &ph);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmVolume) plain = load (dir, 2, NULL, NULL, NULL, &err);
  g_assert_no_error (err);
  for (int threads = 1; threads <= 2; threads++)
    {
      Seen s = { 0 };
      MmVolume *vol = load (dir, threads, &s, NULL, NULL, &err);
      g_assert_no_error (err);
      g_assert_cmpint (s.n_announced, ==, 1);
      g_assert_true (vol == s.announced); /* the same volume, filled in place */
      g_assert_cmpint (s.first, ==, 31 / 2); /* the middle slice, which the app shows */
      g_assert_cmpint (s.ready_before_announce, ==, 0);
      for (int k = 0; k < 31; k++)
        {
          g_assert_cmpint (s.calls[k], ==, 1);
          g_assert_true (mm_volume_slice_is_ready (vol, k));
        }
      g_assert_cmpmem (vol->voxels, mm_volume_n_voxels (vol) * 2, plain->voxels,
                       mm_volume_n_voxels (plain) * 2);
      g_assert_cmpmem (ph->volume->voxels, mm_volume_n_voxels (vol) * 2, vol->voxels,
                       mm_volume_n_voxels (vol) * 2);
      for (int k = 0; k < 31; k++)
        g_assert_cmpstr (vol->slices[k].sop_instance_uid, ==, plain->slices[k].sop_instance_uid);
      g_assert_cmpmem (vol->spacing, sizeof vol->spacing, plain->spacing, sizeof plain->spacing);
      g_assert_cmpstr (vol->series_uid, ==, plain->series_uid);
      g_assert_cmpfloat (vol->rescale_intercept, ==, plain->rescale_intercept);
      mm_volume_free (vol);
      seen_clear (&s);
    }
  mm_phantom_free (ph);
  mm_test_rm_rf (dir);
}

static void
test_wanted_first (void)
{
  MmPhantom *ph;
  g_autofree char *dir = write_phantom (12, &ph);
  g_autoptr (GError) err = NULL;
  gint wanted = 3;
  Seen s = { 0 };
  g_autoptr (MmVolume) vol = load (dir, 1, &s, &wanted, NULL, &err);
  g_assert_no_error (err);
  g_assert_cmpint (s.first, ==, 3);
  for (int k = 0; k < 12; k++)
    g_assert_cmpint (s.calls[k], ==, 1);
  seen_clear (&s);
  mm_phantom_free (ph);
  mm_test_rm_rf (dir);
}

static void
test_cancel (void)
{
  MmPhantom *ph;
  g_autofree char *dir = write_phantom (40, &ph);
  g_autoptr (GError) err = NULL;
  Seen s = { 0 };
  s.cancel = g_cancellable_new ();
  s.cancel_after = 4;
  MmVolume *vol = load (dir, 1, &s, NULL, NULL, &err);
  g_assert_null (vol);
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (s.announced); /* announced, so the caller's to free */
  /* One thread: it stops at the slice it was on when the cancel came. */
  g_assert_cmpint (s.n_ready, ==, 4);
  int ready = 0;
  for (int k = 0; k < 40; k++)
    ready += mm_volume_slice_is_ready (s.announced, k);
  g_assert_cmpint (ready, ==, 4);
  mm_volume_free (s.announced);
  g_object_unref (s.cancel);
  seen_clear (&s);
  mm_phantom_free (ph);
  mm_test_rm_rf (dir);
}

static void
test_slice_fails_after_announce (void)
{
  MmPhantom *ph;
  g_autofree char *dir = write_phantom (10, &ph);
  g_autoptr (GError) err = NULL;
  /* Slice 0 is decoded last (the order goes outwards from the middle): damage its file
   * once the volume is announced, as a file changed on disk while loading. */
  g_autoptr (MmVolume) plain = load (dir, 1, NULL, NULL, NULL, &err);
  g_assert_no_error (err);
  Seen s = { 0 };
  s.damage = g_strdup (plain->slices[0].file);
  g_autoptr (MmDicomReport) rep = mm_dicom_report_new ();
  g_autoptr (MmVolume) vol = load (dir, 1, &s, NULL, rep, &err);
  g_assert_no_error (err);
  g_assert_true (vol != s.announced);
  g_assert_cmpint (vol->dims[2], ==, 9);
  g_assert_cmpuint (rep->files_skipped, ==, 1);
  g_assert_null (vol->slice_ready);
  size_t slice = mm_volume_slice_voxels (vol);
  g_assert_cmpmem (vol->voxels, slice * 9 * 2, (int16_t *) ph->volume->voxels + slice,
                   slice * 9 * 2);
  g_assert_cmpstr (vol->slices[0].sop_instance_uid, ==, plain->slices[1].sop_instance_uid);
  /* The announced volume is untouched by the fallback and still the caller's. */
  g_assert_cmpint (s.announced->dims[2], ==, 10);
  mm_volume_free (s.announced);
  seen_clear (&s);
  mm_phantom_free (ph);
  mm_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dicom-progressive/every-slice-once", test_every_slice_once);
  g_test_add_func ("/dicom-progressive/wanted-slice-first", test_wanted_first);
  g_test_add_func ("/dicom-progressive/cancel-stops-early", test_cancel);
  g_test_add_func ("/dicom-progressive/slice-fails-after-announce", test_slice_fails_after_announce);
  return g_test_run ();
}
