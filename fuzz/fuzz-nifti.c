/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading a NIfTI mask for a series (export --mask-nifti, eval): niftilib's parse and our
 * checks of dimensions, voxel type and affine against the phantom of the seeds. */
#include "fuzz-common.h"
#include "mm-nifti.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  const MmPhantom *ph = mm_fuzz_phantom ();
  /* niftilib picks gzip by the name: a gzip stream is given the .nii.gz name. */
  bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  g_autofree char *path = mm_fuzz_write (NULL, gz ? "mask.nii.gz" : "mask.nii", data, size);
  g_autoptr (GError) err = NULL;
  g_autoptr (MmMask) mask = mm_nifti_read_mask (path, ph->volume, &err);
  if ((mask == NULL) == (err == NULL))
    __builtin_trap ();
  return 0;
}
