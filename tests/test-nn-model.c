/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Model files and checkpoints: bit-exact round trips, and damaged or foreign files refused
 * with a sentence naming the file and the reason, never a crash. */
#include "mm-nn-input.h"
#include "mm-nn-model.h"
#include "mm-safetensors.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *dir;

static char *
tmp_path (const char *name)
{
  if (dir == NULL)
    {
      g_autoptr (GError) err = NULL;
      dir = g_dir_make_tmp ("mm-nn-model-XXXXXX", &err);
      g_assert_no_error (err);
    }
  return g_build_filename (dir, name, NULL);
}

/* Random values in every parameter and buffer, plus bit patterns a decimal or rounding
 * round trip would lose: a NaN with a payload, -0, a subnormal, infinity. */
static void
randomise (float *v, size_t n, GRand *rng)
{
  for (size_t k = 0; k < n; k++)
    v[k] = (float) g_rand_double_range (rng, -3, 3);
  const guint32 special[] = { 0x7fc12345u, 0x80000000u, 0x00000123u, 0xff800000u };
  memcpy (v, special, MIN (n, G_N_ELEMENTS (special)) * 4);
}

static MmUnet *
random_net (int depth, int width, guint32 seed)
{
  MmUnetArch arch = { .depth = depth, .width = width };
  g_autoptr (GError) err = NULL;
  MmUnet *net = mm_unet_new (&arch, seed, &err);
  g_assert_no_error (err);
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  for (int i = 0; i < mm_unet_n_params (net); i++)
    randomise (mm_unet_param_data (net, i), mm_unet_param_size (net, i), rng);
  return net;
}

static void
assert_same_params (MmUnet *a, MmUnet *b)
{
  g_assert_cmpint (mm_unet_get_arch (a)->depth, ==, mm_unet_get_arch (b)->depth);
  g_assert_cmpint (mm_unet_get_arch (a)->width, ==, mm_unet_get_arch (b)->width);
  g_assert_cmpint (mm_unet_n_params (a), ==, mm_unet_n_params (b));
  for (int i = 0; i < mm_unet_n_params (a); i++)
    {
      g_assert_cmpstr (mm_unet_param_name (a, i), ==, mm_unet_param_name (b, i));
      g_assert_cmpuint (mm_unet_param_size (a, i), ==, mm_unet_param_size (b, i));
      g_assert_cmpmem (mm_unet_param_data (a, i), mm_unet_param_size (a, i) * 4,
                       mm_unet_param_data (b, i), mm_unet_param_size (b, i) * 4);
    }
}

static void
test_model_round_trip (void)
{
  g_autoptr (MmUnet) net = random_net (2, 4, 7);
  g_autofree char *path = tmp_path ("round-trip.safetensors");
  MmNnModelInfo info = { .training_data = "phantoms 1-20", .notes = "a test",
                         .metrics_json = "{\"dice\": 0.91, \"hd95_mm\": 1.5}" };
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_nn_model_save (path, net, &info, &err));
  g_assert_no_error (err);

  MmNnModelInfo back = { 0 };
  g_autoptr (MmUnet) loaded = mm_nn_model_load (path, &back, &err);
  g_assert_no_error (err);
  assert_same_params (net, loaded);
  g_assert_cmpstr (back.training_data, ==, info.training_data);
  g_assert_cmpstr (back.notes, ==, info.notes);
  g_assert_cmpstr (back.metrics_json, ==, info.metrics_json);
  g_assert_nonnull (back.created);
  g_assert_true (g_str_has_suffix (back.created, "Z") && strlen (back.created) == 20);
  mm_nn_model_info_clear (&back);
  g_assert_null (back.created);

  /* The metadata as other programs see it. */
  g_autoptr (MmSafetensors) st = mm_safetensors_read (path, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (mm_safetensors_get_metadata (st, "format"), ==, "metalmark-unet");
  g_assert_cmpstr (mm_safetensors_get_metadata (st, "format_version"), ==, "1");
  g_assert_cmpstr (mm_safetensors_get_metadata (st, "architecture"), ==,
                   "{\"type\":\"unet2d\",\"depth\":2,\"width\":4,\"in_channels\":3,"
                   "\"out_channels\":1,\"norm\":\"batchnorm\"}");
  g_assert_cmpstr (mm_safetensors_get_metadata (st, "input_transform"), ==,
                   MM_NN_INPUT_TRANSFORM);
  g_assert_true (g_str_has_prefix (mm_safetensors_get_metadata (st, "program"), "metalmark "));
  g_assert_null (mm_safetensors_get_metadata (st, "trainer_state"));
  g_assert_cmpint (mm_safetensors_n_tensors (st), ==, mm_unet_n_params (net));

  /* No info at all: created is still filled, the free-text fields stay absent. */
  g_assert_true (mm_nn_model_save (path, net, NULL, &err));
  g_autoptr (MmUnet) again = mm_nn_model_load (path, &back, &err);
  g_assert_no_error (err);
  g_assert_null (back.training_data);
  g_assert_null (back.metrics_json);
  g_assert_nonnull (back.created);
  mm_nn_model_info_clear (&back);

  /* Metrics must be a JSON object; nothing is written otherwise. */
  info.metrics_json = "[1,2";
  g_assert_false (mm_nn_model_save (path, net, &info, &err));
  g_assert_nonnull (strstr (err->message, "metrics is not a JSON object"));
}

/* ---- damaged files, built with the safetensors writer ---- */

typedef struct
{
  const char *what;
  const char *meta_key, *meta_value; /* override (NULL value: leave the key out) */
  const char *drop, *add, *transpose; /* tensor names */
  const char *expect;                 /* in the message */
} Damage;

static void
write_damaged (const char *path, MmUnet *net, const char *good, const Damage *d)
{
  static const char *keys[] = { "format", "format_version", "architecture",
                                "input_transform", "created", "program", NULL };
  const size_t n_keys = G_N_ELEMENTS (keys) - 1;
  g_autoptr (GError) err = NULL;
  g_autoptr (MmSafetensors) st = mm_safetensors_read (good, &err);
  g_assert_no_error (err);
  const char *meta[2 * G_N_ELEMENTS (keys) + 2] = { 0 };
  for (size_t k = 0; k < n_keys; k++)
    {
      bool hit = d->meta_key && strcmp (d->meta_key, keys[k]) == 0;
      meta[2 * k] = keys[k];
      meta[2 * k + 1] = hit ? d->meta_value : mm_safetensors_get_metadata (st, keys[k]);
    }
  if (d->meta_key && !g_strv_contains (keys, d->meta_key))
    {
      meta[2 * n_keys] = d->meta_key;
      meta[2 * n_keys + 1] = d->meta_value;
    }

  g_autoptr (GArray) t = g_array_new (FALSE, TRUE, sizeof (MmSafetensor));
  for (int i = 0; i < mm_unet_n_params (net); i++)
    {
      MmSafetensor x = { .name = mm_unet_param_name (net, i),
                         .data = mm_unet_param_data (net, i) };
      x.ndim = mm_unet_param_shape (net, i, x.shape);
      if (d->transpose && strcmp (x.name, d->transpose) == 0)
        {
          int64_t s = x.shape[0];
          x.shape[0] = x.shape[1];
          x.shape[1] = s;
        }
      if (!d->drop || strcmp (x.name, d->drop) != 0)
        g_array_append_val (t, x);
    }
  static const float two[2] = { 1, 2 };
  MmSafetensor extra = { .name = d->add, .ndim = 1, .shape = { 2 }, .data = two };
  if (d->add)
    g_array_append_val (t, extra);
  g_assert_true (mm_safetensors_write (path, (MmSafetensor *) t->data, t->len, meta, &err));
  g_assert_no_error (err);
}

static void
assert_refused (const char *path, const char *expect)
{
  g_autoptr (GError) err = NULL;
  MmNnModelInfo info = { 0 };
  g_autoptr (MmUnet) net = mm_nn_model_load (path, &info, &err);
  g_assert_null (net);
  g_assert_null (info.created); /* left alone on failure */
  g_assert_nonnull (err);
  if (g_test_verbose ())
    g_test_message ("%s", err->message);
  g_assert_nonnull (strstr (err->message, path));
  if (strstr (err->message, expect) == NULL)
    g_error ("expected '%s' in: %s", expect, err->message);
  g_assert_null (strchr (err->message, '\n'));
}

static void
test_model_refused (void)
{
  g_autoptr (MmUnet) net = random_net (2, 4, 11);
  g_autofree char *good = tmp_path ("good.safetensors");
  g_autofree char *path = tmp_path ("damaged.safetensors");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_nn_model_save (good, net, NULL, &err));

  const Damage cases[] = {
    { "wrong shape", .transpose = "dec.0.up.weight",
      .expect = "tensor 'dec.0.up.weight' has shape [4,8,2,2], this network needs [8,4,2,2]" },
    { "wrong shape", .transpose = "enc.0.conv1.weight",
      .expect = "tensor 'enc.0.conv1.weight' has shape [3,4,3,3], this network needs [4,3,3,3]" },
    { "missing tensor", .drop = "head.bias", .expect = "tensor 'head.bias' is missing" },
    { "extra tensor", .add = "enc.9.conv1.weight",
      .expect = "tensor 'enc.9.conv1.weight' is not part of this network" },
    { "moment in a model", .add = "adam.m.head.bias",
      .expect = "tensor 'adam.m.head.bias' is not part of this network" },
    { "wrong format", "format", "pytorch", .expect = "is not a Metalmark model (format pytorch)" },
    { "no format", "format", NULL, .expect = "is not a Metalmark model (format not given)" },
    { "newer version", "format_version", "2",
      .expect = "written by a newer Metalmark (format version 2); this one reads version 1" },
    { "bad version", "format_version", "one", .expect = "format version 'one' is not a number" },
    { "other transform", "input_transform", "hu-1window",
      .expect = "expects input transform 'hu-1window'" },
    { "no architecture", "architecture", NULL, .expect = "the metadata gives no architecture" },
    { "bad architecture", "architecture", "{\"depth\":",
      .expect = "the architecture is not a JSON object" },
    { "other architecture", "architecture",
      "{\"type\":\"unet3d\",\"depth\":2,\"width\":4,\"in_channels\":3,\"out_channels\":1,"
      "\"norm\":\"batchnorm\"}", .expect = "is not one this Metalmark builds" },
    { "too deep", "architecture",
      "{\"type\":\"unet2d\",\"depth\":9,\"width\":4,\"in_channels\":3,\"out_channels\":1,"
      "\"norm\":\"batchnorm\"}", .expect = "depth 9 and width 4" },
    { "arch bigger than the file", "architecture",
      "{\"type\":\"unet2d\",\"depth\":6,\"width\":4096,\"in_channels\":3,\"out_channels\":1,"
      "\"norm\":\"batchnorm\"}", .expect = "too few for a U-Net of depth 6 and width 4096" },
    { "arch wider than the file", "architecture",
      "{\"type\":\"unet2d\",\"depth\":2,\"width\":5,\"in_channels\":3,\"out_channels\":1,"
      "\"norm\":\"batchnorm\"}", .expect = "has shape [4,3,3,3], this network needs [5,3,3,3]" },
  };
  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      g_test_message ("%s", cases[k].what);
      write_damaged (path, net, good, &cases[k]);
      assert_refused (path, cases[k].expect);
    }

  /* A plain model is not a checkpoint. */
  g_autoptr (MmUnet) none = mm_nn_checkpoint_load (good, NULL, NULL, NULL, &err);
  g_assert_null (none);
  g_assert_true (g_error_matches (err, MM_NN_ERROR, MM_NN_ERROR_MODEL));
  g_assert_nonnull (strstr (err->message, "is a model, not a training checkpoint"));
}

/* ---- damaged bytes ---- */

static void
write_bytes (const char *path, const void *data, size_t len)
{
  g_autoptr (GError) err = NULL;
  /* No fsync: thousands of these files are written and none needs to survive a crash. That
   * mode writes in place without truncating, hence the unlink. */
  g_unlink (path);
  g_assert_true (g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_NONE, 0644, &err));
}

/* A file with this header (not padded) and data_len bytes of data. */
static void
write_raw (const char *path, const char *header, size_t data_len, const float *data)
{
  size_t n = strlen (header);
  g_autofree guint8 *buf = g_malloc0 (8 + n + data_len);
  guint64 le = GUINT64_TO_LE (n);
  memcpy (buf, &le, 8);
  memcpy (buf + 8, header, n);
  if (data)
    memcpy (buf + 8 + n, data, data_len);
  write_bytes (path, buf, 8 + n + data_len);
}

static void
test_safetensors_raw (void)
{
  g_autofree char *path = tmp_path ("raw.safetensors");
  g_autoptr (GError) err = NULL;

  /* Well formed though not as we write it: odd header length (so misaligned data), tensors
   * out of order, an empty tensor, a scalar, no metadata. */
  const float v[4] = { 1.5f, -2.0f, 3.25f, 1e-40f };
  write_raw (path,
             "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]},"
             "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[12,12]},"
             "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]},"
             "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]} }",
             sizeof v, v);
  g_autoptr (MmSafetensors) st = mm_safetensors_read (path, &err);
  g_assert_no_error (err);
  g_assert_cmpint (mm_safetensors_n_tensors (st), ==, 4);
  g_assert_cmpstr (mm_safetensors_get_tensor (st, 0)->name, ==, "a");
  float out[2];
  mm_safetensors_read_f32 (st, mm_safetensors_find (st, "a"), out);
  g_assert_cmpmem (out, 8, v, 8);
  mm_safetensors_read_f32 (st, mm_safetensors_find (st, "s"), out);
  g_assert_cmpmem (out, 4, v + 2, 4);
  g_assert_cmpint (mm_safetensors_find (st, "s")->ndim, ==, 0);
  g_assert_cmpuint (mm_safetensors_tensor_size (mm_safetensors_find (st, "e")), ==, 0);
  g_assert_null (mm_safetensors_find (st, "c"));
  g_assert_null (mm_safetensors_get_metadata (st, "format"));

  static const struct
  {
    const char *header;
    size_t data_len;
    const char *expect;
  } bad[] = {
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
      "tensors 'a' and 'b' overlap" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12,
      "data bytes 4 to 8 belong to no tensor" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8,
      "4 bytes after the last tensor" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8,
      "tensor 'a' ends at byte 16 of the data, which has only 8" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
      "tensor 'a' has 8 bytes of data but shape [3] needs 12" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}",
      8, "tensor 'a' has shape [4294967296,4294967296], larger than any file" },
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8,
      "tensor 'a' has dtype F16; Metalmark reads only F32" },
    { "{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
      "dtype that is not a string" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
      "size that is not an integer >= 0" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8,
      "size that is not an integer >= 0" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8,
      "shape that is not a list" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8,
      "at most 8 sizes" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8,
      "data_offsets that are not [begin, end]" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
      "data_offsets that are not [begin, end]" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8,
      "must have exactly dtype, shape and data_offsets" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
      "must have exactly dtype, shape and data_offsets" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
      "data bytes 0 to 4 belong to no tensor" },
    { "{\"a\\nb\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
      "tensor 'a b' has dtype F16" },
    { "{\"a\":[1]}", 0, "tensor 'a' is not described by a JSON object" },
    { "{\"__metadata__\":{\"k\":1}}", 0, "metadata 'k' is not a string" },
    { "{\"__metadata__\":[\"k\"]}", 0, "__metadata__ is not a JSON object" },
    { "[]", 0, "the header is not a JSON object" },
    { "  ", 0, "the header is not" },
    { "{\"a\":", 0, "the header is not valid JSON" },
    { "{\"\xff\":1}", 0, "the header is not UTF-8 text" },
    { "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 0,
      "nests deeper" },
  };
  for (size_t k = 0; k < G_N_ELEMENTS (bad); k++)
    {
      write_raw (path, bad[k].header, bad[k].data_len, NULL);
      g_autoptr (MmSafetensors) b = mm_safetensors_read (path, &err);
      g_assert_null (b);
      g_assert_true (g_error_matches (err, MM_NN_ERROR, MM_NN_ERROR_MODEL));
      if (strstr (err->message, bad[k].expect) == NULL || strstr (err->message, path) == NULL)
        g_error ("case %zu: expected '%s' in: %s", k, bad[k].expect, err->message);
      g_assert_null (strchr (err->message, '\n'));
      g_clear_error (&err);
    }

  /* Header lengths that cannot be right, and files too short for one. */
  guint8 head[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}' };
  write_bytes (path, head, sizeof head);
  g_assert_null (mm_safetensors_read (path, &err));
  g_assert_nonnull (strstr (err->message, "the header length 9223372036854775807 does not fit"));
  g_clear_error (&err);
  write_bytes (path, head, 5);
  g_assert_null (mm_safetensors_read (path, &err));
  g_assert_nonnull (strstr (err->message, "5 bytes is too short"));
  g_clear_error (&err);
  g_autofree char *missing = tmp_path ("no-such.safetensors");
  g_assert_null (mm_safetensors_read (missing, &err));
  g_assert_true (g_error_matches (err, G_FILE_ERROR, G_FILE_ERROR_NOENT));
  g_assert_nonnull (strstr (err->message, missing));
}

/* Truncations of a good model, and random byte changes in its header: each is refused
 * with an error or (for a change in a number or a metadata text) loads; none crashes. */
static void
test_model_truncated_and_fuzzed (void)
{
  g_autoptr (MmUnet) net = random_net (2, 4, 3);
  g_autofree char *good = tmp_path ("fuzz-good.safetensors");
  g_autofree char *path = tmp_path ("fuzz.safetensors");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_nn_model_save (good, net, NULL, &err));
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (good, &bytes, &len, NULL));
  guint64 header_len;
  memcpy (&header_len, bytes, 8);
  header_len = GUINT64_FROM_LE (header_len);
  g_assert_cmpuint (header_len % 8, ==, 0);
  g_assert_cmpuint (8 + header_len, <, len);

  /* Every length up to 16, then cuts at a prime stride through the header and the data. */
  for (gsize cut = 0; cut < len; cut += cut < 16 ? 1 : cut < 8 + header_len ? 13 : 997)
    {
      write_bytes (path, bytes, cut);
      g_autoptr (MmUnet) b = mm_nn_model_load (path, NULL, &err);
      g_assert_null (b);
      g_assert_nonnull (err);
      g_clear_error (&err);
    }

  g_autoptr (GRand) rng = g_rand_new_with_seed (5);
  g_autofree char *copy = g_malloc (len);
  for (int round = 0; round < 300; round++)
    {
      memcpy (copy, bytes, len);
      for (int k = g_rand_int_range (rng, 1, 4); k > 0; k--)
        copy[g_rand_int_range (rng, 0, 8 + header_len)] = (char) g_rand_int_range (rng, 0, 256);
      write_bytes (path, copy, len);
      g_autoptr (MmUnet) b = mm_nn_model_load (path, NULL, &err);
      g_assert_true ((b == NULL) == (err != NULL));
      g_clear_error (&err);
    }
}

static void
test_checkpoint_round_trip (void)
{
  g_autoptr (MmUnet) net = random_net (2, 4, 21);
  MmAdamParams p;
  mm_adam_params_init (&p);
  g_autoptr (MmAdam) adam = mm_adam_new (net, &p);
  g_autoptr (GRand) rng = g_rand_new_with_seed (22);
  for (int i = 0; i < mm_unet_n_params (net); i++)
    for (int which = 1; which <= 2 && mm_unet_param_trainable (net, i); which++)
      randomise (mm_adam_moment (adam, i, which), mm_unet_param_size (net, i), rng);
  mm_adam_set_step (adam, 123456789012);
  const char *state = "{\"epoch\": 3, \"best_dice\": 0.875, \"lr\": 0.0005}";

  g_autofree char *path = tmp_path ("checkpoint.safetensors");
  g_autoptr (GError) err = NULL;
  g_assert_true (mm_nn_checkpoint_save (path, net, adam, state, &err));
  g_assert_no_error (err);

  /* The optimiser borrows its network: declared after it, so freed before it. */
  g_autoptr (MmUnet) net2 = NULL;
  g_autoptr (MmAdam) adam2 = NULL;
  g_autofree char *state2 = NULL;
  net2 = mm_nn_checkpoint_load (path, &p, &adam2, &state2, &err);
  g_assert_no_error (err);
  assert_same_params (net, net2);
  g_assert_cmpint (mm_adam_get_step (adam2), ==, 123456789012);
  g_assert_cmpstr (state2, ==, state);
  for (int i = 0; i < mm_unet_n_params (net); i++)
    for (int which = 1; which <= 2 && mm_unet_param_trainable (net, i); which++)
      g_assert_cmpmem (mm_adam_moment (adam, i, which), mm_unet_param_size (net, i) * 4,
                       mm_adam_moment (adam2, i, which), mm_unet_param_size (net, i) * 4);

  /* A checkpoint also serves as a model. */
  g_autoptr (MmUnet) as_model = mm_nn_model_load (path, NULL, &err);
  g_assert_no_error (err);
  assert_same_params (net, as_model);

  /* Without moments it cannot resume; the message names the first one missing. */
  g_autoptr (MmSafetensors) st = mm_safetensors_read (path, &err);
  g_assert_no_error (err);
  int n = mm_unet_n_params (net);
  g_autofree MmSafetensor *t = g_new0 (MmSafetensor, n);
  for (int i = 0; i < n; i++)
    {
      t[i] = (MmSafetensor) { mm_unet_param_name (net, i), .data = mm_unet_param_data (net, i) };
      t[i].ndim = mm_unet_param_shape (net, i, t[i].shape);
    }
  const char *meta[] = { "format", "metalmark-unet-checkpoint", "format_version", "1",
                         "architecture", mm_safetensors_get_metadata (st, "architecture"),
                         "input_transform", MM_NN_INPUT_TRANSFORM, "adam_step", "1", NULL };
  g_autofree char *bare = tmp_path ("bare-checkpoint.safetensors");
  g_assert_true (mm_safetensors_write (bare, t, n, meta, &err));
  g_autoptr (MmUnet) none = mm_nn_checkpoint_load (bare, NULL, NULL, NULL, &err);
  g_assert_null (none);
  g_assert_nonnull (strstr (err->message, "tensor 'adam.m.enc.0.conv1.weight' is missing"));
  g_clear_error (&err);

  /* Bad trainer state is refused when saving. */
  g_assert_false (mm_nn_checkpoint_save (path, net, adam, "epoch 3", &err));
  g_assert_nonnull (strstr (err->message, "trainer_state is not a JSON object"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nn/model/round-trip", test_model_round_trip);
  g_test_add_func ("/nn/model/refused", test_model_refused);
  g_test_add_func ("/nn/model/truncated-and-fuzzed", test_model_truncated_and_fuzzed);
  g_test_add_func ("/nn/safetensors/raw", test_safetensors_raw);
  g_test_add_func ("/nn/checkpoint/round-trip", test_checkpoint_round_trip);
  int status = g_test_run ();
  g_autoptr (GDir) d = dir ? g_dir_open (dir, 0, NULL) : NULL;
  for (const char *name; d && (name = g_dir_read_name (d));)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  if (dir)
    g_rmdir (dir);
  return status;
}
