/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GDCM's dictionaries are loaded on first need, not at process start (mm-dicom-dictionary.cc,
 * issue 12): reading a series leaves them empty and gives the phantom's voxels; the tag dump
 * then loads them and names the elements. The series is written by a child process, since
 * writing needs the dictionaries. */
#include "mm-test-util.h"
#include "mm-dicom.h"
#include "mm-dicom-dump.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

bool mm_dicom_dictionaries_loaded_for_test (void);

static const MmDicomTag *
find_tag (const MmDicomDump *d, guint16 g, guint16 e)
{
  for (guint i = 0; i < d->root->children->len; i++)
    {
      const MmDicomTag *t = d->root->children->pdata[i];
      if (t->group == g && t->element == e)
        return t;
    }
  return NULL;
}

static void
test_loaded_on_first_need (void)
{
  /* Nothing at start: the old code loaded them before main. */
  g_assert_false (mm_dicom_dictionaries_loaded_for_test ());
  g_autofree char *dir = mm_test_tmp_dir ("mm-dictionary");
  /* Forked before this process starts any OpenMP thread (libgomp does not survive a fork);
   * the same seed makes the same phantom on both sides. */
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      MmPhantom *ph = mm_test_phantom (32, 6, 4, 10, 0);
      MmDicomWriteOptions wo = { 0 };
      wo.syntax = MM_DICOM_SYNTAX_IMPLICIT; /* the encoding that has no VR on disk */
      _exit (mm_dicom_write_series (dir, ph->volume, &wo, NULL) ? 0 : 1);
    }
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  MmPhantom *ph = mm_test_phantom (32, 6, 4, 10, 0);

  const char *paths[] = { dir };
  g_autoptr (MmDicomReport) rep = mm_dicom_report_new ();
  g_autoptr (GError) err = NULL;
  g_autoptr (MmVolume) vol = mm_dicom_load (paths, 1, NULL, rep, &err);
  g_assert_no_error (err);
  g_assert_cmpmem (vol->voxels, mm_volume_n_voxels (vol) * 2, ph->volume->voxels,
                   mm_volume_n_voxels (ph->volume) * 2);
  g_assert_cmpstr (vol->series_uid, ==, ph->volume->series_uid);
  g_assert_cmpuint (rep->warnings->len, ==, 0);
  g_assert_false (mm_dicom_dictionaries_loaded_for_test ());

  g_autoptr (MmDicomDump) dump = mm_dicom_dump_file (vol->slices[0].file, NULL, &err);
  g_assert_no_error (err);
  g_assert_true (mm_dicom_dictionaries_loaded_for_test ());
  const MmDicomTag *t = find_tag (dump, 0x0028, 0x1052);
  g_assert_nonnull (t);
  g_assert_cmpstr (t->keyword, ==, "RescaleIntercept");
  g_assert_cmpstr (t->vr, ==, "DS"); /* from the dictionary: implicit VR stores none */
  mm_phantom_free (ph);
  mm_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dicom-dictionary/loaded-on-first-need", test_loaded_on_first_need);
  return g_test_run ();
}
