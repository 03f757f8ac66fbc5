/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The series reader through GDCM: phantom series written in every transfer syntax, shuffled,
 * damaged, mixed with other series, must load to the phantom's own voxels and geometry. */
#include "mm-test-util.h"
#include "mm-dicom.h"
#include "mm-phantom.h"
#include "mm-stats.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static void
write_series (const char *dir, const MmPhantom *ph, MmDicomSyntax syntax, bool shuffle)
{
  MmDicomWriteOptions wo = { 0 };
  wo.syntax = syntax;
  wo.shuffle_names = shuffle;
  wo.seed = 99;
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_dicom_write_series (dir, ph->volume, &wo, &err));
  g_assert_no_error (err);
}

static MmVolume *
load (const char *path, int threads, MmDicomReport *report, GError **error)
{
  MmDicomLoadOptions o;
  mm_dicom_load_options_init (&o);
  o.n_threads = threads;
  const char *paths[] = { path };
  return mm_dicom_load (paths, 1, &o, report, error);
}

static void
assert_same_volume (const MmVolume *a, const MmVolume *b)
{
  g_assert_cmpmem (a->dims, sizeof a->dims, b->dims, sizeof b->dims);
  g_assert_cmpint (a->type, ==, b->type);
  g_assert_cmpmem (a->voxels, mm_volume_n_voxels (a) * 2, b->voxels, mm_volume_n_voxels (b) * 2);
  for (int k = 0; k < a->dims[2]; k++)
    {
      g_assert_cmpstr (a->slices[k].sop_instance_uid, ==, b->slices[k].sop_instance_uid);
      for (int c = 0; c < 3; c++)
        /* Positions go through DS text (16 characters). */
        g_assert_cmpfloat_with_epsilon (a->slices[k].position[c], b->slices[k].position[c], 1e-4);
    }
  for (int c = 0; c < 9; c++)
    g_assert_cmpfloat_with_epsilon (a->direction[c], b->direction[c], 1e-6);
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat_with_epsilon (a->spacing[c], b->spacing[c], 1e-6);
}

static void
test_round_trip (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (64, 10, 1, 25, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-dicom");
  write_series (dir, ph, MM_DICOM_SYNTAX_EXPLICIT, false);
  g_autoptr (MmDicomReport) rep = mm_dicom_report_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (MmVolume) vol = load (dir, 0, rep, &err);
  g_assert_no_error (err);
  assert_same_volume (ph->volume, vol);
  g_assert_cmpuint (rep->files_read, ==, 10);
  g_assert_cmpuint (rep->files_skipped, ==, 0);
  g_assert_cmpstr (vol->series_uid, ==, ph->volume->series_uid);
  g_assert_cmpstr (vol->modality, ==, "CT");
  g_assert_cmpfloat (vol->rescale_intercept, ==, -1024);
  double c[3];
  mm_volume_centre_lps (vol, c);
  for (int a = 0; a < 3; a++)
    g_assert_cmpfloat_with_epsilon (c[a], ph->centre_lps[a], 1e-3);
  mm_test_rm_rf (dir);
}

static void
test_syntaxes (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (48, 6, 3, 25, 0);
  const MmDicomSyntax all[] = { MM_DICOM_SYNTAX_EXPLICIT, MM_DICOM_SYNTAX_IMPLICIT,
                                MM_DICOM_SYNTAX_BIG_ENDIAN, MM_DICOM_SYNTAX_RLE,
                                MM_DICOM_SYNTAX_JPEG_LOSSLESS, MM_DICOM_SYNTAX_JPEG_LS,
                                MM_DICOM_SYNTAX_J2K };
  for (size_t s = 0; s < G_N_ELEMENTS (all); s++)
    {
      g_autofree char *dir = mm_test_tmp_dir ("mm-dicom");
      write_series (dir, ph, all[s], false);
      g_autoptr (GError) err = NULL;
      g_autoptr (MmDicomReport) rep = mm_dicom_report_new ();
      g_autoptr (MmVolume) vol = load (dir, 0, rep, &err);
      if (err)
        g_error ("syntax %d: %s", (int) all[s], err->message);
      g_test_message ("syntax %d: %u files read", (int) all[s], rep->files_read);
      assert_same_volume (ph->volume, vol);
      mm_test_rm_rf (dir);
    }
}

static void
test_shuffled_and_threads (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (64, 15, 5, 25, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-dicom");
  write_series (dir, ph, MM_DICOM_SYNTAX_EXPLICIT, true);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmVolume) one = load (dir, 1, NULL, &err);
  g_assert_no_error (err);
  g_autoptr (MmVolume) two = load (dir, 2, NULL, &err);
  g_assert_no_error (err);
  assert_same_volume (ph->volume, one);
  assert_same_volume (one, two);
  g_autoptr (MmStats) s1 = mm_stats_compute (one, 1);
  g_autoptr (MmStats) s2 = mm_stats_compute (two, 2);
  g_assert_cmpfloat (s1->mean, ==, s2->mean);
  mm_test_rm_rf (dir);
}

static void
test_tilted (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (64, 8, 2, 25, 17.5);
  g_autofree char *dir = mm_test_tmp_dir ("mm-dicom");
  write_series (dir, ph, MM_DICOM_SYNTAX_EXPLICIT, true);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmVolume) vol = load (dir, 0, NULL, &err);
  g_assert_no_error (err);
  assert_same_volume (ph->volume, vol);
  double c[3];
  mm_volume_centre_lps (vol, c);
  for (int a = 0; a < 3; a++)
    g_assert_cmpfloat_with_epsilon (c[a], ph->centre_lps[a], 1e-3);
  mm_test_rm_rf (dir);
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (p, text, -1, NULL));
}

static bool
report_mentions (const MmDicomReport *rep, const char *a, const char *b)
{
  for (guint w = 0; w < rep->warnings->len; w++)
    {
      const char *line = rep->warnings->pdata[w];
      if (strstr (line, a) && (b == NULL || strstr (line, b)))
        return true;
    }
  return false;
}

static void
test_junk_and_errors (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 6, 1, 25, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-dicom");
  write_series (dir, ph, MM_DICOM_SYNTAX_EXPLICIT, false);
  write_file (dir, "notes.txt", "not a DICOM file at all");
  g_autoptr (GError) err = NULL;
  g_autoptr (MmDicomReport) rep = mm_dicom_report_new ();
  g_autoptr (MmVolume) vol = load (dir, 0, rep, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (rep->files_read, ==, 6);
  g_assert_cmpuint (rep->files_skipped, ==, 1);
  g_assert_true (report_mentions (rep, "notes.txt", "skipped"));

  /* Nothing usable: a clear error naming the folder. */
  g_autofree char *empty = mm_test_tmp_dir ("mm-dicom");
  write_file (empty, "a.txt", "hello");
  g_autoptr (MmVolume) none = load (empty, 0, NULL, &err);
  g_assert_null (none);
  g_assert_error (err, MM_DICOM_ERROR, MM_DICOM_ERROR_NO_SERIES);
  g_assert_nonnull (strstr (err->message, empty));
  g_clear_error (&err);

  g_autofree char *missing = g_build_filename (empty, "nope", NULL);
  g_autoptr (MmVolume) none2 = load (missing, 0, NULL, &err);
  g_assert_null (none2);
  g_assert_error (err, MM_DICOM_ERROR, MM_DICOM_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (err->message, missing));
  mm_test_rm_rf (dir);
  mm_test_rm_rf (empty);
}

static void
test_sizes_disagree (void)
{
  /* The same seed gives the same series UID: one series whose slices differ in size. */
  g_autoptr (MmPhantom) a = mm_test_phantom (32, 4, 7, 25, 0);
  g_autoptr (MmPhantom) b = mm_test_phantom (48, 4, 7, 25, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-dicom");
  g_autofree char *da = g_build_filename (dir, "a", NULL);
  g_autofree char *db = g_build_filename (dir, "b", NULL);
  write_series (da, a, MM_DICOM_SYNTAX_EXPLICIT, false);
  write_series (db, b, MM_DICOM_SYNTAX_EXPLICIT, false);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmVolume) vol = load (dir, 0, NULL, &err);
  g_assert_null (vol);
  g_assert_error (err, MM_DICOM_ERROR, MM_DICOM_ERROR_INCONSISTENT);
  g_assert_nonnull (strstr (err->message, "differ in size"));
  mm_test_rm_rf (dir);
}

static void
test_several_series (void)
{
  g_autoptr (MmPhantom) big = mm_test_phantom (32, 9, 11, 25, 0);
  g_autoptr (MmPhantom) small = mm_test_phantom (32, 4, 12, 25, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-dicom");
  g_autofree char *d1 = g_build_filename (dir, "s1", NULL);
  g_autofree char *d2 = g_build_filename (dir, "s2", NULL);
  write_series (d1, small, MM_DICOM_SYNTAX_EXPLICIT, false);
  write_series (d2, big, MM_DICOM_SYNTAX_EXPLICIT, false);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmDicomReport) rep = mm_dicom_report_new ();
  g_autoptr (MmVolume) vol = load (dir, 0, rep, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (vol->series_uid, ==, big->volume->series_uid);
  g_assert_cmpuint (rep->series->len, ==, 2);
  g_assert_nonnull (rep->chosen_reason);

  MmDicomLoadOptions o;
  mm_dicom_load_options_init (&o);
  o.series_uid = small->volume->series_uid;
  const char *paths[] = { dir };
  g_autoptr (MmVolume) other = mm_dicom_load (paths, 1, &o, NULL, &err);
  g_assert_no_error (err);
  assert_same_volume (small->volume, other);

  o.series_uid = "1.2.3.4";
  g_autoptr (MmVolume) none = mm_dicom_load (paths, 1, &o, NULL, &err);
  g_assert_null (none);
  g_assert_error (err, MM_DICOM_ERROR, MM_DICOM_ERROR_NOT_FOUND);
  mm_test_rm_rf (dir);
}

static void
test_gap_and_duplicate (void)
{
  g_autoptr (MmPhantom) ph = mm_test_phantom (32, 8, 1, 25, 0);
  g_autofree char *dir = mm_test_tmp_dir ("mm-dicom");
  write_series (dir, ph, MM_DICOM_SYNTAX_EXPLICIT, false);
  /* Remove the slice with instance number 4 (a gap of two spacings) and duplicate another. */
  g_autofree char *gap = g_build_filename (dir, "CT000004.dcm", NULL);
  g_assert_cmpint (g_unlink (gap), ==, 0);
  g_autofree char *src = g_build_filename (dir, "CT000006.dcm", NULL);
  g_autofree char *copy = g_build_filename (dir, "zz-copy.dcm", NULL);
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));
  g_assert_true (g_file_set_contents (copy, data, len, NULL));

  g_autoptr (GError) err = NULL;
  g_autoptr (MmDicomReport) rep = mm_dicom_report_new ();
  g_autoptr (MmVolume) vol = load (dir, 0, rep, &err);
  g_assert_no_error (err);
  g_assert_cmpint (vol->dims[2], ==, 7);
  g_assert_cmpuint (rep->files_skipped, ==, 1);
  g_assert_true (report_mentions (rep, "zz-copy.dcm", "same position"));
  g_assert_true (report_mentions (rep, "irregular slice spacing", "3.200"));
  g_assert_cmpfloat_with_epsilon (vol->slice_gap_max, 3.2, 1e-3);
  g_assert_cmpfloat_with_epsilon (vol->slice_gap_min, 1.6, 1e-3);
  mm_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dicom/round-trip", test_round_trip);
  g_test_add_func ("/dicom/transfer-syntaxes", test_syntaxes);
  g_test_add_func ("/dicom/shuffled-names-and-threads", test_shuffled_and_threads);
  g_test_add_func ("/dicom/tilted", test_tilted);
  g_test_add_func ("/dicom/junk-and-errors", test_junk_and_errors);
  g_test_add_func ("/dicom/sizes-disagree", test_sizes_disagree);
  g_test_add_func ("/dicom/several-series", test_several_series);
  g_test_add_func ("/dicom/gap-and-duplicate", test_gap_and_duplicate);
  return g_test_run ();
}
