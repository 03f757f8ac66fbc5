/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A load handed the headers of an earlier scan (MmDicomLoadOptions.scan, issue 12: the app
 * scans, then loads, and reading every header twice was most of the wait for the first
 * frame): the same volume, report and warnings as a fresh load of a series whose file
 * order says nothing about slice order; progressive loads too; the files are those the scan
 * found; a file damaged after the scan is skipped with a warning naming it. */
#include "mm-test-util.h"
#include "mm-dicom.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* Two series (one of shuffled file names, one smaller in a sub-folder) and a file that is
 * not DICOM, so the report has several series and a warning to carry over. */
static char *
write_folder (MmPhantom **main_out)
{
  g_autofree char *dir = mm_test_tmp_dir ("mm-scan-reuse");
  g_autoptr (GError) err = NULL;
  MmPhantom *ph = mm_test_phantom (40, 23, 11, 25, 0);
  MmDicomWriteOptions wo = { 0 };
  wo.syntax = MM_DICOM_SYNTAX_EXPLICIT;
  wo.shuffle_names = true; /* file order says nothing about slice order */
  wo.seed = 9;
  g_assert_true (mm_dicom_write_series (dir, ph->volume, &wo, &err));
  g_assert_no_error (err);

  g_autoptr (MmPhantom) other = mm_test_phantom (24, 5, 3, 0, 0);
  g_free (other->volume->series_uid);
  other->volume->series_uid = g_strdup ("2.25.424242");
  g_autofree char *sub = g_build_filename (dir, "other", NULL);
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  wo.seed = 3;
  g_assert_true (mm_dicom_write_series (sub, other->volume, &wo, &err));
  g_assert_no_error (err);

  g_autofree char *junk = g_build_filename (dir, "notes.txt", NULL);
  g_assert_true (g_file_set_contents (junk, "not a DICOM file\n", -1, NULL));
  *main_out = ph;
  return g_steal_pointer (&dir);
}

static MmVolume *
load (const char *dir, const MmDicomScan *scan, const char *series, MmDicomReport *rep)
{
  MmDicomLoadOptions o;
  mm_dicom_load_options_init (&o);
  o.n_threads = 2;
  o.scan = scan;
  o.series_uid = series;
  const char *paths[] = { dir };
  g_autoptr (GError) err = NULL;
  MmVolume *vol = mm_dicom_load (paths, 1, &o, rep, &err);
  g_assert_no_error (err);
  g_assert_nonnull (vol);
  return vol;
}

static void
assert_same_volume (const MmVolume *a, const MmVolume *b)
{
  g_assert_cmpmem (a->dims, sizeof a->dims, b->dims, sizeof b->dims);
  g_assert_cmpint (a->type, ==, b->type);
  g_assert_cmpmem (a->voxels, mm_volume_n_voxels (a) * 2, b->voxels, mm_volume_n_voxels (b) * 2);
  g_assert_cmpmem (a->spacing, sizeof a->spacing, b->spacing, sizeof b->spacing);
  g_assert_cmpmem (a->direction, sizeof a->direction, b->direction, sizeof b->direction);
  g_assert_cmpstr (a->series_uid, ==, b->series_uid);
  g_assert_cmpfloat (a->rescale_intercept, ==, b->rescale_intercept);
  for (int k = 0; k < a->dims[2]; k++)
    {
      g_assert_cmpstr (a->slices[k].sop_instance_uid, ==, b->slices[k].sop_instance_uid);
      g_assert_cmpmem (a->slices[k].position, sizeof a->slices[k].position,
                       b->slices[k].position, sizeof b->slices[k].position);
    }
}

static void
assert_same_report (const MmDicomReport *a, const MmDicomReport *b)
{
  g_assert_cmpuint (a->files_found, ==, b->files_found);
  g_assert_cmpuint (a->files_read, ==, b->files_read);
  g_assert_cmpuint (a->files_skipped, ==, b->files_skipped);
  g_assert_cmpuint (a->warnings->len, ==, b->warnings->len);
  for (guint w = 0; w < a->warnings->len; w++)
    g_assert_cmpstr (a->warnings->pdata[w], ==, b->warnings->pdata[w]);
  g_assert_cmpuint (a->series->len, ==, b->series->len);
  for (guint s = 0; s < a->series->len; s++)
    {
      const MmDicomSeriesInfo *x = a->series->pdata[s], *y = b->series->pdata[s];
      g_assert_cmpstr (x->uid, ==, y->uid);
      g_assert_cmpuint (x->n_files, ==, y->n_files);
      g_assert_cmpstr (x->middle_file, ==, y->middle_file);
    }
  g_assert_cmpstr (a->chosen_uid, ==, b->chosen_uid);
  g_assert_cmpstr (a->chosen_reason, ==, b->chosen_reason);
}

static void
test_same_as_fresh (void)
{
  MmPhantom *ph;
  g_autofree char *dir = write_folder (&ph);
  const char *paths[] = { dir };
  g_autoptr (GError) err = NULL;
  g_autoptr (MmDicomReport) scan_rep = mm_dicom_report_new ();
  g_autoptr (MmDicomScan) scan = mm_dicom_scan_keep (paths, 1, NULL, scan_rep, &err);
  g_assert_no_error (err);
  g_assert_nonnull (scan);
  g_assert_cmpuint (scan_rep->series->len, ==, 2);
  g_assert_cmpuint (scan_rep->warnings->len, >=, 1); /* notes.txt */

  for (int pick = 0; pick < 2; pick++)
    {
      const char *series = pick ? "2.25.424242" : NULL;
      g_autoptr (MmDicomReport) fresh_rep = mm_dicom_report_new ();
      g_autoptr (MmDicomReport) reuse_rep = mm_dicom_report_new ();
      g_autoptr (MmVolume) fresh = load (dir, NULL, series, fresh_rep);
      g_autoptr (MmVolume) reused = load (dir, scan, series, reuse_rep);
      assert_same_volume (fresh, reused);
      assert_same_report (fresh_rep, reuse_rep);
      if (!pick) /* and both are the phantom, slice by slice, whatever the file names */
        g_assert_cmpmem (reused->voxels, mm_volume_n_voxels (reused) * 2, ph->volume->voxels,
                         mm_volume_n_voxels (ph->volume) * 2);
      else
        g_assert_cmpint (reused->dims[2], ==, 5);
    }
  mm_phantom_free (ph);
  mm_test_rm_rf (dir);
}

typedef struct
{
  MmVolume *announced;
  int first;
} Seen;

static void
volume_cb (MmVolume *vol, int first, gpointer user_data)
{
  Seen *s = user_data;
  s->announced = vol;
  s->first = first;
}

/* The app's way: scan, then a progressive load from the scan with a wanted slice. */
static void
test_progressive_from_scan (void)
{
  MmPhantom *ph;
  g_autofree char *dir = write_folder (&ph);
  const char *paths[] = { dir };
  g_autoptr (GError) err = NULL;
  g_autoptr (MmDicomScan) scan = mm_dicom_scan_keep (paths, 1, NULL, NULL, &err);
  g_assert_no_error (err);
  Seen seen = { 0 };
  gint wanted = 3;
  MmDicomLoadOptions o;
  mm_dicom_load_options_init (&o);
  o.n_threads = 2;
  o.scan = scan;
  o.volume_func = volume_cb;
  o.progressive_data = &seen;
  o.wanted_slice = &wanted;
  MmVolume *vol = mm_dicom_load (paths, 1, &o, NULL, &err);
  g_assert_no_error (err);
  g_assert_true (vol == seen.announced);
  g_assert_cmpint (seen.first, ==, 3);
  g_assert_cmpmem (vol->voxels, mm_volume_n_voxels (vol) * 2, ph->volume->voxels,
                   mm_volume_n_voxels (ph->volume) * 2);
  mm_volume_free (vol);
  mm_phantom_free (ph);
  mm_test_rm_rf (dir);
}

/* The files are the scan's: one removed after it is not looked for again (a fresh load sees
 * one file less); one damaged after it is skipped with a warning naming it, the rest read. */
static void
test_files_are_the_scans (void)
{
  MmPhantom *ph;
  g_autofree char *dir = write_folder (&ph);
  const char *paths[] = { dir };
  g_autoptr (GError) err = NULL;
  g_autoptr (MmDicomReport) scan_rep = mm_dicom_report_new ();
  g_autoptr (MmDicomScan) scan = mm_dicom_scan_keep (paths, 1, NULL, scan_rep, &err);
  g_assert_no_error (err);
  g_autofree char *junk = g_build_filename (dir, "notes.txt", NULL);
  g_assert_cmpint (g_unlink (junk), ==, 0);
  {
    g_autoptr (MmDicomReport) fresh_rep = mm_dicom_report_new ();
    g_autoptr (MmDicomReport) reuse_rep = mm_dicom_report_new ();
    g_autoptr (MmVolume) fresh = load (dir, NULL, NULL, fresh_rep);
    g_autoptr (MmVolume) reused = load (dir, scan, NULL, reuse_rep);
    g_assert_cmpuint (reuse_rep->files_found, ==, fresh_rep->files_found + 1);
    assert_same_volume (fresh, reused);
  }

  /* Two slices' files swapped after the scan (same sizes, same modification times): the
   * scan's offsets and order no longer hold for them, so the headers are read again and the
   * volume is still the fresh load's. */
  {
    const MmDicomSeriesInfo *s0 = scan_rep->series->pdata[0];
    g_assert_true (g_strv_length (s0->files) >= 2);
    g_autofree char *tmp = g_strconcat (s0->files[0], ".swap", NULL);
    g_assert_cmpint (g_rename (s0->files[0], tmp), ==, 0);
    g_assert_cmpint (g_rename (s0->files[1], s0->files[0]), ==, 0);
    g_assert_cmpint (g_rename (tmp, s0->files[1]), ==, 0);
    g_autoptr (MmDicomReport) fresh_rep = mm_dicom_report_new ();
    g_autoptr (MmDicomReport) reuse_rep = mm_dicom_report_new ();
    g_autoptr (MmVolume) fresh = load (dir, NULL, NULL, fresh_rep);
    g_autoptr (MmVolume) reused = load (dir, scan, NULL, reuse_rep);
    assert_same_volume (fresh, reused);
  }

  /* The middle slice's file (the first decoded), cut short after the scan. */
  const MmDicomSeriesInfo *main_series = scan_rep->series->pdata[0];
  g_assert_nonnull (main_series->middle_file);
  g_assert_cmpint (truncate (main_series->middle_file, 300), ==, 0);
  g_autoptr (MmDicomReport) rep = mm_dicom_report_new ();
  g_autoptr (MmVolume) vol = load (dir, scan, NULL, rep);
  g_assert_cmpint (vol->dims[2], ==, 22);
  g_assert_cmpuint (rep->files_read, ==, 22);
  bool named = false;
  for (guint w = 0; w < rep->warnings->len; w++)
    named = named || strstr (rep->warnings->pdata[w], main_series->middle_file) != NULL;
  g_assert_true (named);
  mm_phantom_free (ph);
  mm_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dicom-scan-reuse/same-as-fresh", test_same_as_fresh);
  g_test_add_func ("/dicom-scan-reuse/progressive-from-scan", test_progressive_from_scan);
  g_test_add_func ("/dicom-scan-reuse/files-are-the-scans", test_files_are_the_scans);
  return g_test_run ();
}
