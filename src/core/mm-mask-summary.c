/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a mask is, in the figures an annotator checks: voxels, volume, slices, components. */
#include "mm-mask-summary.h"

#include "mm-components.h"

void
mm_mask_summarize_counts (const MmMask *mask, const MmVolume *vol, MmMaskSummary *out)
{
  g_return_if_fail (mask != NULL && out != NULL);
  out->voxels = 0;
  out->slices = 0;
  for (int k = 0; k < mask->dims[2]; k++)
    if (!mm_mask_slice_is_empty (mask, k))
      {
        out->slices++;
        out->voxels += mm_mask_count_slice (mask, k);
      }
  out->volume_ml = vol ? (double) out->voxels * mm_volume_voxel_mm3 (vol) / 1000.0 : 0;
  out->components = -1;
}

void
mm_mask_summarize (const MmMask *mask, const MmVolume *vol, int n_threads, MmMaskSummary *out)
{
  g_return_if_fail (mask != NULL && out != NULL);
  mm_mask_summarize_counts (mask, vol, out);
  out->components = 0;
  if (out->voxels > 0)
    {
      g_autoptr (MmComponents) comps = mm_components_label (mask, n_threads);
      out->components = mm_components_count (comps);
    }
}
