/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-seeds OUTDIR: seed inputs the CLI cannot write, made by the project's own writers for
 * the phantom the targets use (fuzz-common.c): OUTDIR/journal (edit journals, whole and
 * cut), OUTDIR/nifti (masks, .nii and .nii.gz), OUTDIR/safetensors (tiny models and a
 * checkpoint), OUTDIR/png, OUTDIR/label-manifest, OUTDIR/annotations (measurements.json of
 * every kind, standard and oblique planes), OUTDIR/multipart (WADO-RS answers). build-aux/fuzz adds the DICOM seeds
 * (metalmark-cli phantom in every transfer syntax, pydicom's test files). */
#include "fuzz-common.h"
#include "mm-annotation.h"
#include "mm-journal.h"
#include "mm-label-stack.h"
#include "mm-nifti.h"
#include "mm-nn-model.h"
#include "mm-png.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

static const char *out;

static void
check (bool ok, GError *err)
{
  if (!ok)
    {
      fprintf (stderr, "fuzz-seeds: %s\n", err ? err->message : "failed");
      exit (1);
    }
}

static char *
target_dir (const char *target)
{
  char *dir = g_build_filename (out, target, NULL);
  g_mkdir_with_parents (dir, 0755);
  return dir;
}

static void
put (const char *target, const char *name, const void *data, size_t len)
{
  g_autofree char *dir = target_dir (target);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GError *err = NULL;
  check (g_file_set_contents (path, data, (gssize) len, &err), err);
}

static void
copy (const char *target, const char *name, const char *from)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  GError *err = NULL;
  check (g_file_get_contents (from, &data, &len, &err), err);
  put (target, name, data, len);
}

static void
journal_seeds (const MmPhantom *ph)
{
  g_autofree char *dir = g_build_filename (mm_fuzz_dir (), "project", NULL);
  g_autoptr (MmMask) mask = mm_mask_new (ph->volume->dims);
  GError *err = NULL;
  MmJournal *j = mm_journal_open (dir, ph->volume, mask, NULL, &err);
  check (j != NULL, err);
  /* Two groups: one slice of the truth, then two edited slices together. */
  memcpy (mm_mask_slice (mask, 1), mm_mask_slice (ph->truth, 1),
          (size_t) mask->dims[0] * mask->dims[1]);
  check (mm_journal_append (j, (int[]) { 1 }, 1, &err), err);
  mm_mask_slice (mask, 0)[5] = 1;
  mm_mask_slice (mask, 2)[40] = 1;
  check (mm_journal_append (j, (int[]) { 0, 2 }, 2, &err), err);
  mm_journal_close (j);
  g_autofree char *path = g_build_filename (dir, MM_JOURNAL_FILE, NULL);
  g_autofree char *data = NULL;
  gsize len = 0;
  check (g_file_get_contents (path, &data, &len, &err), err);
  put ("journal", "two-groups.bin", data, len);
  put ("journal", "torn.bin", data, len - 7);
}

static void
nifti_seeds (const MmPhantom *ph)
{
  GError *err = NULL;
  const char *names[] = { "truth.nii", "truth.nii.gz" };
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *path = g_build_filename (mm_fuzz_dir (), names[i], NULL);
      check (mm_nifti_write_mask (path, ph->truth, ph->volume, &err), err);
      copy ("nifti", names[i], path);
    }
  /* The CT as NIfTI too: another voxel type (int16) through the same reader. */
  g_autofree char *ct = g_build_filename (mm_fuzz_dir (), "ct.nii", NULL);
  check (mm_nifti_write_volume (ct, ph->volume, &err), err);
  copy ("nifti", "ct.nii", ct);
}

static void
model_seeds (void)
{
  GError *err = NULL;
  const MmUnetArch archs[] = { { 1, 1 }, { 2, 2 } };
  for (int i = 0; i < 2; i++)
    {
      g_autoptr (MmUnet) net = mm_unet_new (&archs[i], 1, &err);
      check (net != NULL, err);
      g_autofree char *name = g_strdup_printf ("unet-d%d-w%d.safetensors", archs[i].depth,
                                               archs[i].width);
      g_autofree char *path = g_build_filename (mm_fuzz_dir (), name, NULL);
      MmNnModelInfo info = { .training_data = "fuzz seed", .metrics_json = "{\"dice\": 0.5}",
                             .created = "2026-01-01T00:00:00Z", .notes = "tiny" };
      check (mm_nn_model_save (path, net, &info, &err), err);
      copy ("safetensors", name, path);
      if (i == 0)
        {
          MmAdamParams ap;
          mm_adam_params_init (&ap);
          g_autoptr (MmAdam) adam = mm_adam_new (net, &ap);
          g_autofree char *ck = g_build_filename (mm_fuzz_dir (), "checkpoint.safetensors", NULL);
          check (mm_nn_checkpoint_save (ck, net, adam, "{\"epoch\": 1}", &err), err);
          copy ("safetensors", "checkpoint.safetensors", ck);
        }
    }
}

static void
stack_seeds (const MmPhantom *ph)
{
  GError *err = NULL;
  g_autofree char *dir = g_build_filename (mm_fuzz_dir (), "stack", NULL);
  check (mm_label_stack_write (dir, ph->truth, ph->volume, NULL, 1, &err), err);
  g_autofree char *manifest = g_build_filename (dir, MM_LABEL_STACK_MANIFEST, NULL);
  copy ("label-manifest", "manifest.json", manifest);
  for (int k = 0; k < ph->volume->dims[2]; k++)
    {
      /* A first write into an empty folder is generation 1. */
      g_autofree char *name = mm_label_stack_file_name_gen (k, ph->volume->dims[2],
                                                            ph->volume->slices[k].instance_number, 1);
      g_autofree char *png = g_build_filename (dir, name, NULL);
      copy ("png", name, png);
    }
  /* An odd size and grey values: the reader converts and then the stack refuses them. */
  uint8_t px[7 * 3];
  for (int i = 0; i < 21; i++)
    px[i] = (uint8_t) (i * 12);
  g_autoptr (GBytes) png = mm_png_encode_gray8 (px, 7, 3, &err);
  check (png != NULL, err);
  gsize len;
  const void *data = g_bytes_get_data (png, &len);
  put ("png", "grey-7x3.png", data, len);
}

static void
annotation_seeds (const MmPhantom *ph)
{
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
  const double line[] = { 2.5, 3.5, 20.25, 17.0 };
  const double angle[] = { 4, 4, 10, 10, 16, 4 };
  const double poly[] = { 3, 3, 12, 4, 14, 12, 6, 15 };
  mm_annotation_list_add (list, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL, 1, line, 2);
  mm_annotation_list_add (list, MM_ANNOT_ANGLE, MM_PLANE_CORONAL, 10, angle, 3);
  mm_annotation_list_add (list, MM_ANNOT_PROFILE, MM_PLANE_SAGITTAL, 16, line, 2);
  mm_annotation_list_add (list, MM_ANNOT_RECTANGLE, MM_PLANE_AXIAL, 0, line, 2);
  mm_annotation_list_add (list, MM_ANNOT_ELLIPSE, MM_PLANE_AXIAL, 2, line, 2);
  mm_annotation_list_add (list, MM_ANNOT_FREEHAND, MM_PLANE_AXIAL, 1, poly, 4);
  gsize len = 0;
  g_autofree char *plain = mm_annotation_list_to_json (list, ph->volume, &len);
  put ("annotations", "standard.json", plain, len);
  /* The same kinds on a plane turned 30 degrees about the slice axis. */
  MmAnnotFrame f = { .origin_lps = { -10, -12, 1 },
                     .right = { 0.8660254037844387, 0.5, 0 },
                     .down = { -0.5, 0.8660254037844387, 0 },
                     .pixel_w = 1, .pixel_h = 1 };
  g_autoptr (MmAnnotationList) turned = mm_annotation_list_new ();
  mm_annotation_list_add_oblique (turned, MM_ANNOT_DISTANCE, MM_PLANE_AXIAL, &f, line, 2);
  mm_annotation_list_add_oblique (turned, MM_ANNOT_ANGLE, MM_PLANE_AXIAL, &f, angle, 3);
  mm_annotation_list_add_oblique (turned, MM_ANNOT_FREEHAND, MM_PLANE_AXIAL, &f, poly, 4);
  g_autofree char *oblique = mm_annotation_list_to_json (turned, ph->volume, &len);
  put ("annotations", "oblique.json", oblique, len);
}

static void
multipart_seeds (void)
{
  /* First line: the Content-Type the boundary comes from; then one byte choosing the chunk
   * size (fuzz-multipart.c); then the body. */
  static const char two[] = "multipart/related; type=\"application/dicom\"; boundary=b0und\n\x05"
                            "preamble\r\n--b0und\r\nContent-Type: application/dicom\r\n\r\n"
                            "DICM-one\r\n--b0und\r\nContent-Type: application/dicom\r\n"
                            "Content-Location: x\r\n\r\nDICM-two\r\n--b0und--\r\nepilogue";
  put ("multipart", "two-parts", two, sizeof two - 1);
  static const char quoted[] = "multipart/related; boundary=\"a:b c\"\n\x31"
                               "--a:b c\r\n\r\n\r\n--a:b c\r\nContent-Type: x\r\n\r\n--a:b "
                               "\r\n--a:b c--";
  put ("multipart", "quoted-empty-part", quoted, sizeof quoted - 1);
  static const char cut[] = "multipart/related; boundary=zz\n\x02--zz\r\nContent-Type: "
                            "application/dicom\r\n\r\nabc";
  put ("multipart", "truncated", cut, sizeof cut - 1);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: fuzz-seeds OUTDIR\n");
      return 2;
    }
  out = argv[1];
  mm_fuzz_init ();
  const MmPhantom *ph = mm_fuzz_phantom ();
  journal_seeds (ph);
  nifti_seeds (ph);
  model_seeds ();
  stack_seeds (ph);
  annotation_seeds (ph);
  multipart_seeds ();
  return 0;
}
