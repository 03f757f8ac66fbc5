/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A project folder's measurements.json (the measurements and ROIs the reader kept): parsed
 * against the phantom's volume and, when accepted, measured and written back, as the app
 * does when it opens the series (every accepted item must fit the volume, so measuring it
 * must stay inside it) and when it saves. */
#include "fuzz-common.h"
#include "mm-annotation.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  mm_fuzz_init ();
  const MmPhantom *ph = mm_fuzz_phantom ();
  g_autoptr (MmAnnotationList) list = mm_annotation_list_new ();
  g_autoptr (GError) error = NULL;
  if (!mm_annotation_list_load_data (list, (const char *) data, (gssize) size, "measurements.json",
                                     ph->volume, &error))
    {
      /* Rejected: one line naming the file. */
      g_assert (error != NULL && strchr (error->message, '\n') == NULL);
      g_assert (strstr (error->message, "measurements.json") != NULL);
      return 0;
    }
  for (guint i = 0; i < list->items->len; i++)
    {
      const MmAnnotation *a = g_ptr_array_index (list->items, i);
      g_assert (mm_annotation_fits (a, ph->volume));
      MmAnnotationFigures f;
      mm_annotation_measure (a, ph->volume, &f);
      if (a->kind == MM_ANNOT_PROFILE)
        {
          int n = 0;
          g_autofree double *hu = NULL, *pos = NULL;
          mm_annotation_profile (a, ph->volume, &n, &hu, &pos);
          g_assert (n >= 0);
        }
    }
  gsize len = 0;
  g_autofree char *json = mm_annotation_list_to_json (list, ph->volume, &len);
  g_autofree char *csv = mm_annotation_list_to_csv (list, ph->volume, &len);
  g_assert (json != NULL && csv != NULL);
  return 0;
}
