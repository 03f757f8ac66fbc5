/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DICOM structure check and header reader (pass 1 of the series reader): one file, as
 * every file of a folder a user opens goes through it; and the tags dump of that file (the
 * tags browser, metalmark-cli tags), which must stay within its caps. */
#include "fuzz-common.h"
#include "mm-dicom-dump.h"
#include "mm-dicom-private.hh"

#include <gdcmTrace.h>

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  gdcm::Trace::SetDebug (false);
  gdcm::Trace::SetWarning (false);
  gdcm::Trace::SetError (false);
  g_autofree char *path = mm_fuzz_write (nullptr, "IM0001", data, size);
  mm::SliceHeader h = mm::read_slice_header (path);
  /* A usable header is what pass 2 trusts: the sizes it will allocate from. */
  if (h.usable && (h.rows <= 0 || h.cols <= 0))
    __builtin_trap ();
  MmDicomDumpLimits lim = {};
  lim.max_depth = 8;
  lim.max_nodes = 500;
  lim.max_value_chars = 64;
  MmDicomDump *dump = mm_dicom_dump_file (path, &lim, nullptr);
  if (dump)
    {
      if (dump->n_nodes > lim.max_nodes)
        __builtin_trap ();
      g_free (mm_dicom_dump_to_text (dump));
      json_node_unref (mm_dicom_dump_to_json (dump));
      mm_dicom_dump_free (dump);
    }
  return 0;
}
