/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The trainer in words and in JSON: the summary, the model's description, and the state a
 * checkpoint carries (read back strictly: a damaged state is an error naming the file). */
#include "mm-nn-train-private.h"

#include "mm-json.h"

#include <math.h>
#include <string.h>

char *
mm_nn_trainer_dup_summary (const MmNnTrainer *t)
{
  const MmNnTrainOptions *o = &t->opts;
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "Network    U-Net depth %d, width %d, %zu weights", o->arch.depth,
                          o->arch.width, mm_unet_n_weights (t->net));
  if (t->epoch > 0 || t->step > 0)
    g_string_append_printf (s, ", resumed after epoch %d step %d\n", t->epoch, t->step);
  else if (t->init_model)
    g_string_append_printf (s, ", fine-tuned from %s\n", t->init_model);
  else
    g_string_append_printf (s, ", new (seed %" G_GUINT64_FORMAT ")\n", o->seed);
  g_string_append (s, "Training   ");
  if (o->epochs > 0)
    g_string_append_printf (s, "%d epochs x ", o->epochs);
  else
    g_string_append (s, "epochs of ");
  g_string_append_printf (s, "%d steps, batch %d, patch %d, lr %g, seed %" G_GUINT64_FORMAT,
                          o->steps_per_epoch, o->batch, o->patch, o->lr, o->seed);
  if (o->time_budget_s > 0)
    g_string_append_printf (s, ", time budget %.0f s", o->time_budget_s);
  g_string_append_c (s, '\n');
  bool no_metal = true;
  for (int v = 0; v < t->n_data; v++)
    {
      int n, m;
      mm_nn_sampler_train_counts (t->sampler, v, &n, &m);
      g_autofree char *split = mm_nn_sampler_describe (t->sampler, v);
      const int *d = t->data[v].volume->dims;
      no_metal = no_metal && m == 0;
      g_string_append_printf (s, "Data       %s (masks %s): %d x %d x %d, %d training slices "
                                 "(%d with metal), %s\n",
                              t->data[v].name, t->data[v].mask_name, d[0], d[1], d[2], n, m,
                              split);
    }
  if (no_metal)
    g_string_append (s, "Note       no training slice holds metal: patches are drawn "
                        "uniformly\n");
  g_string_append_printf (s, "Output     %s, %s, %s, %s", t->out, t->csv, t->png, t->ckpt);
  return g_string_free (s, FALSE);
}

static void
options_json (JsonBuilder *b, const MmNnTrainOptions *o)
{
  json_builder_set_member_name (b, "options");
  json_builder_begin_object (b);
  mm_json_set_int (b, "depth", o->arch.depth);
  mm_json_set_int (b, "width", o->arch.width);
  mm_json_set_int (b, "batch", o->batch);
  mm_json_set_int (b, "patch", o->patch);
  mm_json_set_double (b, "lr", o->lr);
  mm_json_set_int (b, "epochs", o->epochs);
  mm_json_set_double (b, "time_budget_s", o->time_budget_s);
  mm_json_set_int (b, "steps_per_epoch", o->steps_per_epoch);
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, o->seed);
  mm_json_set_string (b, "seed", seed);
  mm_json_set_string (b, "split", mm_nn_split_name (o->split));
  mm_json_set_int (b, "blocks", o->blocks);
  mm_json_set_int (b, "val_block", o->val_block);
  mm_json_set_int (b, "guard", o->guard);
  mm_json_set_int (b, "interleave", o->interleave);
  mm_json_set_int (b, "val_batch", o->val_batch);
  mm_json_set_double (b, "metal_fraction", o->metal_fraction);
  mm_json_set_string (b, "loss", "bce + (1 - soft dice)");
  mm_json_set_string (b, "optimizer", "adam");
  json_builder_end_object (b);
}

static void
set_number (JsonBuilder *b, const char *member, double v)
{
  json_builder_set_member_name (b, member);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static char *
builder_text (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return mm_json_to_data (root, FALSE, NULL, NULL);
}

static char *
training_data_json (const MmNnTrainer *t)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "volumes");
  json_builder_begin_array (b);
  for (int v = 0; v < t->n_data; v++)
    {
      int n, m, n_val;
      mm_nn_sampler_train_counts (t->sampler, v, &n, &m);
      mm_nn_sampler_val_slices (t->sampler, v, &n_val);
      g_autofree char *split = mm_nn_sampler_describe (t->sampler, v);
      json_builder_begin_object (b);
      mm_json_set_string (b, "series", t->data[v].name);
      mm_json_set_string (b, "masks", t->data[v].mask_name);
      mm_json_set_ints (b, "dims", t->data[v].volume->dims, 3);
      mm_json_set_doubles (b, "spacing_mm", t->data[v].volume->spacing, 3);
      mm_json_set_string (b, "series_uid", t->data[v].volume->series_uid);
      mm_json_set_int (b, "metal_voxels", (gint64) mm_mask_count (t->data[v].mask));
      mm_json_set_int (b, "training_slices", n);
      mm_json_set_int (b, "training_slices_with_metal", m);
      mm_json_set_int (b, "validation_slices", n_val);
      mm_json_set_string (b, "split", split);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  mm_json_set_string (b, "init_from", t->init_model);
  options_json (b, &t->opts);
  json_builder_end_object (b);
  return builder_text (b);
}

void
mm_nn_trainer_model_info (const MmNnTrainer *t, MmNnModelInfo *info)
{
  const MmNnEpochRecord *r = mm_nn_trainer_record (t, t->best_epoch);
  memset (info, 0, sizeof *info);
  g_return_if_fail (r != NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  set_number (b, "val_dice", r->val_dice);
  set_number (b, "val_hd95_mm", r->val_hd95_mm);
  mm_json_set_string (b, "val_split", mm_nn_split_name (t->opts.split));
  mm_json_set_int (b, "val_slices", mm_nn_sampler_n_val (t->sampler));
  mm_json_set_int (b, "epoch", r->epoch);
  mm_json_set_int (b, "epochs", t->epoch);
  mm_json_set_int (b, "steps", t->global_step);
  set_number (b, "train_loss", r->train_loss);
  set_number (b, "train_dice", r->train_dice);
  set_number (b, "images_per_s", r->images_per_s);
  set_number (b, "seconds", r->seconds);
  json_builder_end_object (b);
  info->metrics_json = builder_text (b);
  info->training_data = training_data_json (t);
  info->notes = g_strdup_printf (
      "metalmark %s trainer: Dice + BCE loss, Adam lr %g, batch %d of %d x %d patches "
      "(%.0f %% near metal, flips and 90-degree turns); epoch %d of %d, %s",
      MM_VERSION, t->opts.lr, t->opts.batch, t->opts.patch, t->opts.patch,
      100 * t->opts.metal_fraction, t->best_epoch, t->epoch,
      mm_nn_sampler_n_val (t->sampler) ? "the best by validation Dice"
                                       : "the last (no validation)");
}

char *
mm_nn_trainer_state_json (const MmNnTrainer *t)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  mm_json_set_string (b, "format", MM_NN_TRAIN_STATE_FORMAT);
  mm_json_set_int (b, "version", MM_NN_TRAIN_STATE_VERSION);
  options_json (b, &t->opts);
  mm_json_set_string (b, "init_from", t->init_model);
  mm_json_set_int (b, "epoch", t->epoch);
  mm_json_set_int (b, "step", t->step);
  mm_json_set_int (b, "global_step", t->global_step);
  /* Data-parallel parts (MPI ranks): a step's batch and random draws depend on them. */
  mm_json_set_int (b, "ranks", t->parts);
  mm_json_set_double (b, "loss_sum", t->loss_sum);
  mm_json_set_double (b, "step_seconds", t->step_s);
  mm_json_set_int (b, "tp", (gint64) t->tp);
  mm_json_set_int (b, "fp", (gint64) t->fp);
  mm_json_set_int (b, "fn", (gint64) t->fn);
  mm_json_set_int (b, "best_epoch", t->best_epoch);
  mm_json_set_double (b, "elapsed_s", mm_nn_trainer_elapsed (t));
  mm_json_set_double (b, "validation_seconds", t->val_s);
  guint64 rng[4];
  mm_nn_sampler_get_state (t->sampler, rng);
  json_builder_set_member_name (b, "rng");
  json_builder_begin_array (b);
  for (int i = 0; i < 4; i++)
    {
      char hex[17];
      g_snprintf (hex, sizeof hex, "%016" G_GINT64_MODIFIER "x", rng[i]);
      json_builder_add_string_value (b, hex);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "data");
  json_builder_begin_array (b);
  for (int v = 0; v < t->n_data; v++)
    {
      json_builder_begin_object (b);
      mm_json_set_string (b, "series", t->data[v].name);
      mm_json_set_ints (b, "dims", t->data[v].volume->dims, 3);
      mm_json_set_int (b, "metal_voxels", (gint64) mm_mask_count (t->data[v].mask));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "curves");
  json_builder_begin_array (b);
  for (guint i = 0; i < t->curves->len; i++)
    {
      const MmNnEpochRecord *r = &g_array_index (t->curves, MmNnEpochRecord, i);
      json_builder_begin_object (b);
      mm_json_set_int (b, "epoch", r->epoch);
      set_number (b, "train_loss", r->train_loss);
      set_number (b, "train_dice", r->train_dice);
      set_number (b, "val_dice", r->val_dice);
      set_number (b, "val_hd95_mm", r->val_hd95_mm);
      set_number (b, "seconds", r->seconds);
      set_number (b, "images_per_s", r->images_per_s);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return builder_text (b);
}

/* Reading the state back: every member must be there with the right kind of value. */
typedef struct
{
  const char *missing;
} Reader;

static JsonNode *
rd_node (Reader *r, JsonObject *o, const char *name, JsonNodeType type)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (n && JSON_NODE_TYPE (n) == JSON_NODE_NULL && type == JSON_NODE_VALUE)
    return n;
  if (n == NULL || JSON_NODE_TYPE (n) != type)
    {
      if (r->missing == NULL)
        r->missing = name;
      return NULL;
    }
  return n;
}

static double
rd_num (Reader *r, JsonObject *o, const char *name)
{
  JsonNode *n = rd_node (r, o, name, JSON_NODE_VALUE);
  if (n == NULL || JSON_NODE_TYPE (n) == JSON_NODE_NULL)
    return NAN;
  GType type = json_node_get_value_type (n);
  if (type == G_TYPE_INT64)
    return (double) json_node_get_int (n);
  if (type == G_TYPE_DOUBLE)
    return json_node_get_double (n);
  if (r->missing == NULL)
    r->missing = name;
  return NAN;
}

static gint64
rd_int (Reader *r, JsonObject *o, const char *name)
{
  JsonNode *n = rd_node (r, o, name, JSON_NODE_VALUE);
  if (n && json_node_get_value_type (n) == G_TYPE_INT64)
    return json_node_get_int (n);
  if (r->missing == NULL)
    r->missing = name;
  return 0;
}

static const char *
rd_str (Reader *r, JsonObject *o, const char *name)
{
  JsonNode *n = rd_node (r, o, name, JSON_NODE_VALUE);
  if (n && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  if (n && JSON_NODE_TYPE (n) == JSON_NODE_NULL)
    return NULL;
  if (r->missing == NULL)
    r->missing = name;
  return NULL;
}

static void
read_options (Reader *r, JsonObject *o, MmNnTrainOptions *opts)
{
  mm_nn_train_options_init (opts);
  opts->arch.depth = (int) rd_int (r, o, "depth");
  opts->arch.width = (int) rd_int (r, o, "width");
  opts->batch = (int) rd_int (r, o, "batch");
  opts->patch = (int) rd_int (r, o, "patch");
  opts->lr = rd_num (r, o, "lr");
  opts->epochs = (int) rd_int (r, o, "epochs");
  opts->time_budget_s = rd_num (r, o, "time_budget_s");
  opts->steps_per_epoch = (int) rd_int (r, o, "steps_per_epoch");
  const char *seed = rd_str (r, o, "seed");
  opts->seed = seed ? g_ascii_strtoull (seed, NULL, 10) : 0;
  if (!mm_nn_split_from_name (rd_str (r, o, "split"), &opts->split) && r->missing == NULL)
    r->missing = "split";
  opts->blocks = (int) rd_int (r, o, "blocks");
  opts->val_block = (int) rd_int (r, o, "val_block");
  opts->guard = (int) rd_int (r, o, "guard");
  opts->interleave = (int) rd_int (r, o, "interleave");
  opts->val_batch = (int) rd_int (r, o, "val_batch");
  opts->metal_fraction = rd_num (r, o, "metal_fraction");
}

JsonNode *
mm_nn_train_state_parse (const char *text, const char *ckpt, MmNnTrainOptions *opts,
                         GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root = text && mm_json_load_data (parser, text, -1, ckpt, NULL, NULL)
                       ? json_parser_get_root (parser)
                       : NULL;
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  Reader r = { NULL };
  JsonNode *on = rd_node (&r, o, "options", JSON_NODE_OBJECT);
  read_options (&r, on ? json_node_get_object (on) : NULL, opts);
  if (o == NULL || g_strcmp0 (rd_str (&r, o, "format"), MM_NN_TRAIN_STATE_FORMAT) != 0
      || rd_int (&r, o, "version") != MM_NN_TRAIN_STATE_VERSION || r.missing)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_MODEL,
                   "%s: not a checkpoint of this trainer (no usable trainer state%s%s)", ckpt,
                   r.missing ? ": " : "", r.missing ? r.missing : "");
      return NULL;
    }
  return json_node_copy (root);
}

/* Restores the counters, random state and curves; checks that the data are the same. */
bool
mm_nn_trainer_state_restore (MmNnTrainer *t, JsonNode *state, const char *ckpt,
                             GError **error)
{
  JsonObject *o = json_node_get_object (state);
  Reader r = { NULL };
  guint64 rng_state[4];
  t->epoch = (int) rd_int (&r, o, "epoch");
  t->step = (int) rd_int (&r, o, "step");
  t->global_step = rd_int (&r, o, "global_step");
  /* Checkpoints from before data parallelism have no "ranks": one process. */
  gint64 ranks = json_object_has_member (o, "ranks") ? rd_int (&r, o, "ranks") : 1;
  if (r.missing == NULL && ranks != t->parts)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_MODEL,
                   "%s was written by training on %" G_GINT64_FORMAT " MPI rank%s; resume it "
                   "with the same number (mpirun -np %" G_GINT64_FORMAT "), not %d",
                   ckpt, ranks, ranks == 1 ? "" : "s", ranks, t->parts);
      return false;
    }
  t->loss_sum = rd_num (&r, o, "loss_sum");
  t->step_s = rd_num (&r, o, "step_seconds");
  t->tp = (guint64) rd_int (&r, o, "tp");
  t->fp = (guint64) rd_int (&r, o, "fp");
  t->fn = (guint64) rd_int (&r, o, "fn");
  t->best_epoch = (int) rd_int (&r, o, "best_epoch");
  t->elapsed_before = rd_num (&r, o, "elapsed_s");
  t->val_s = rd_num (&r, o, "validation_seconds");
  t->init_model = g_strdup (rd_str (&r, o, "init_from"));
  JsonNode *rng = rd_node (&r, o, "rng", JSON_NODE_ARRAY);
  JsonNode *data = rd_node (&r, o, "data", JSON_NODE_ARRAY);
  JsonNode *curves = rd_node (&r, o, "curves", JSON_NODE_ARRAY);
  if (rng && json_array_get_length (json_node_get_array (rng)) == 4)
    for (guint i = 0; i < 4; i++)
      {
        const char *hex = json_array_get_string_element (json_node_get_array (rng), i);
        rng_state[i] = hex ? g_ascii_strtoull (hex, NULL, 16) : 0;
      }
  else if (r.missing == NULL)
    r.missing = "rng";
  mm_nn_sampler_set_state (t->sampler, rng_state);
  if (curves)
    for (guint i = 0; i < json_array_get_length (json_node_get_array (curves)); i++)
      {
        JsonNode *n = json_array_get_element (json_node_get_array (curves), i);
        JsonObject *c = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
        MmNnEpochRecord rec = {
          .epoch = (int) rd_int (&r, c, "epoch"),
          .train_loss = rd_num (&r, c, "train_loss"),
          .train_dice = rd_num (&r, c, "train_dice"),
          .val_dice = rd_num (&r, c, "val_dice"),
          .val_hd95_mm = rd_num (&r, c, "val_hd95_mm"),
          .seconds = rd_num (&r, c, "seconds"),
          .images_per_s = rd_num (&r, c, "images_per_s"),
        };
        g_array_append_val (t->curves, rec);
      }
  if (r.missing || t->epoch < 0 || t->step < 0 || t->step > t->opts.steps_per_epoch
      || (int) t->curves->len != t->epoch || t->best_epoch < 0 || t->best_epoch > t->epoch)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_MODEL,
                   "%s: the trainer state is damaged (%s)", ckpt,
                   r.missing ? r.missing : "inconsistent counts");
      return false;
    }
  JsonArray *d = json_node_get_array (data);
  bool same = json_array_get_length (d) == (guint) t->n_data;
  for (int v = 0; same && v < t->n_data; v++)
    {
      JsonNode *n = json_array_get_element (d, v);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      JsonNode *dims = rd_node (&r, e, "dims", JSON_NODE_ARRAY);
      same = r.missing == NULL
             && rd_int (&r, e, "metal_voxels") == (gint64) mm_mask_count (t->data[v].mask)
             && json_array_get_length (json_node_get_array (dims)) == 3;
      for (int a = 0; same && a < 3; a++)
        same = json_array_get_int_element (json_node_get_array (dims), a)
               == t->data[v].volume->dims[a];
    }
  if (!same)
    {
      g_set_error (error, MM_NN_ERROR, MM_NN_ERROR_MODEL,
                   "%s was trained on other data (%u volumes; sizes or metal voxel counts "
                   "differ): resume with the same volumes and masks",
                   ckpt, json_array_get_length (d));
      return false;
    }
  return true;
}
