/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Named stage sums for inference profiles (see mm-nn-profile.h). A mutex per call is cheap
 * next to what is timed (a convolution over a slice, or a whole slice's preparation). */
#include "mm-nn-profile.h"

typedef struct
{
  char *name;
  gint64 us;
  gint64 calls;
} Stage;

static GMutex lock;
static GArray *stages; /* Stage, first-seen order; lives until exit */
static GHashTable *index_of; /* name -> index + 1 */

void
mm_nn_profile_add (const char *name, gint64 us)
{
  g_mutex_lock (&lock);
  if (stages == NULL)
    {
      stages = g_array_new (FALSE, TRUE, sizeof (Stage));
      index_of = g_hash_table_new (g_str_hash, g_str_equal);
    }
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (index_of, name));
  if (i == 0)
    {
      Stage s = { .name = g_strdup (name) };
      g_array_append_val (stages, s);
      i = stages->len;
      g_hash_table_insert (index_of, s.name, GUINT_TO_POINTER (i));
    }
  Stage *s = &g_array_index (stages, Stage, i - 1);
  s->us += us;
  s->calls++;
  g_mutex_unlock (&lock);
}

char *
mm_nn_profile_format (void)
{
  g_mutex_lock (&lock);
  GString *out = NULL;
  if (stages)
    {
      out = g_string_new (NULL);
      for (guint i = 0; i < stages->len; i++)
        {
          const Stage *s = &g_array_index (stages, Stage, i);
          g_string_append_printf (out, "profile %-44s %8.4f s %6" G_GINT64_FORMAT " calls\n",
                                  s->name, s->us / 1e6, s->calls);
        }
    }
  g_mutex_unlock (&lock);
  return out ? g_string_free (out, FALSE) : NULL;
}
