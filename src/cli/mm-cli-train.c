/* SPDX-License-Identifier: GPL-3.0-or-later */
/* metalmark-cli train: train a U-Net on CT series and their metal masks, with a progress
 * bar, Ctrl+C to stop (checkpoint kept) and --resume. */
#include "mm-cli.h"

#include "mm-atomic.h"
#include "mm-label-stack.h"
#include "mm-nn-dist.h"
#include "mm-nn-train.h"
#include "mm-progress.h"

#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The shell's convention for a command stopped by SIGINT (128 + 2); the outputs are
 * consistent and the checkpoint resumes it. */
#define EXIT_INTERRUPTED 130

#define BAR_WIDTH 24
#define NOT_GIVEN G_MININT

static volatile sig_atomic_t interrupted;

static void
sigint_cb (int sig)
{
  interrupted = 1;
}

typedef struct
{
  GCancellable *cancel;
  bool tty;
  gint64 last_draw;
} Ui;

static char *
epoch_label (const MmNnTrainProgress *p)
{
  return p->epochs > 0 ? g_strdup_printf ("epoch %d/%d", p->epoch, p->epochs)
                       : g_strdup_printf ("epoch %d", p->epoch);
}

static void
progress_cb (const MmNnTrainProgress *p, gpointer data)
{
  Ui *ui = data;
  /* The signal handler only sets a flag; the cancellable is not async-signal-safe. */
  if (interrupted && !g_cancellable_is_cancelled (ui->cancel))
    {
      fprintf (stderr, "%smetalmark-cli: interrupted; saving the checkpoint (Ctrl+C again "
                       "stops at once)\n",
               ui->tty ? "\r\033[K" : "");
      g_cancellable_cancel (ui->cancel);
    }
  if (mm_nn_dist_rank () != 0) /* MPI: rank 0 alone shows progress */
    return;
  g_autofree char *label = epoch_label (p);
  char eta[32], took[32];
  mm_format_duration (eta, sizeof eta, p->eta_s, "--:--");
  mm_format_duration (took, sizeof took, p->elapsed_s, "--:--");
  if (p->phase == MM_NN_TRAIN_EPOCH)
    {
      const MmNnEpochRecord *r = p->record;
      g_autofree char *hd95 = isfinite (r->val_hd95_mm)
                                  ? g_strdup_printf ("%.2f mm", r->val_hd95_mm)
                                  : g_strdup ("n/a");
      g_autofree char *val = isfinite (r->val_dice)
                                 ? g_strdup_printf ("  val Dice %.4f%s  HD95 %s", r->val_dice,
                                                    p->improved ? " (best)" : "       ", hd95)
                                 : g_strdup ("");
      fprintf (stderr, "%s%s  loss %.4f  train Dice %.4f%s  %.1f img/s  %s elapsed\n",
               ui->tty ? "\r\033[K" : "", label, r->train_loss, r->train_dice, val,
               r->images_per_s, took);
      fflush (stderr);
      return;
    }
  if (!ui->tty)
    return;
  /* A tenth of a second between redraws is smooth enough and costs nothing. */
  gint64 now = g_get_monotonic_time ();
  if (now - ui->last_draw < 100000 && p->step != p->steps)
    return;
  ui->last_draw = now;
  if (p->phase == MM_NN_TRAIN_VALIDATE)
    {
      fprintf (stderr, "\r\033[K%s  validating %d/%d slices", label, p->step, p->steps);
      fflush (stderr);
      return;
    }
  char bar[BAR_WIDTH + 1];
  int filled = p->steps > 0 ? p->step * BAR_WIDTH / p->steps : 0;
  for (int i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < filled ? '#' : '-';
  bar[BAR_WIDTH] = 0;
  g_autofree char *val = isfinite (p->val_dice) ? g_strdup_printf ("%.4f", p->val_dice)
                                                : g_strdup ("-");
  fprintf (stderr, "\r\033[K%s [%s] %d/%d  loss %.4f  val Dice %s  %.1f img/s  ETA %s", label,
           bar, p->step, p->steps, p->loss, val, p->images_per_s, eta);
  fflush (stderr);
}

/* --data a,b --data c -> a, b, c */
static GPtrArray *
split_list (char **args)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
  for (char **a = args; a && *a; a++)
    {
      g_auto (GStrv) parts = g_strsplit (*a, ",", -1);
      for (char **p = parts; *p; p++)
        if (**p)
          g_ptr_array_add (list, g_strdup (*p));
    }
  return list;
}

static void
data_free (MmNnTrainData *d, int n)
{
  for (int i = 0; i < n; i++)
    {
      mm_volume_free ((MmVolume *) d[i].volume);
      mm_mask_free ((MmMask *) d[i].mask);
    }
  g_free (d);
}

static MmNnTrainData *
data_load (GPtrArray *series, GPtrArray *masks, int threads)
{
  MmNnTrainData *d = g_new0 (MmNnTrainData, series->len);
  for (guint i = 0; i < series->len; i++)
    {
      char *paths[] = { series->pdata[i], NULL };
      g_autoptr (GError) err = NULL;
      MmVolume *vol = mm_cli_load (paths, NULL, threads, NULL);
      MmMask *mask = vol ? mm_label_stack_read (masks->pdata[i], vol, &err) : NULL;
      d[i] = (MmNnTrainData){ vol, mask, series->pdata[i], masks->pdata[i] };
      if (mask == NULL)
        {
          if (err)
            mm_cli_error ("%s", err->message);
          data_free (d, i + 1);
          return NULL;
        }
    }
  return d;
}

/* Shell-quoted only when it has to be, so the usual command stays readable. */
static char *
quote (const char *s)
{
  for (const char *c = s; *c; c++)
    if (!g_ascii_isalnum (*c) && !strchr ("/._-+=:,@%", *c))
      return g_shell_quote (s);
  return g_strdup (s);
}

static char *
join_quoted (GPtrArray *list)
{
  g_autofree char *joined = NULL;
  g_ptr_array_add (list, NULL);
  joined = g_strjoinv (",", (char **) list->pdata);
  g_ptr_array_remove_index (list, list->len - 1);
  return quote (joined);
}

static int
exit_code_of (const GError *err)
{
  return err->domain == G_IO_ERROR || err->domain == G_FILE_ERROR ? MM_EXIT_OUTPUT
                                                                  : MM_EXIT_INPUT;
}

static void
print_result (MmNnTrainer *t)
{
  const MmNnEpochRecord *best;
  int n;
  const MmNnEpochRecord *curves = mm_nn_trainer_get_curves (t, &n);
  mm_nn_trainer_get_best (t, &best);
  if (best && isfinite (best->val_dice))
    {
      g_autofree char *hd95 = isfinite (best->val_hd95_mm)
                                  ? g_strdup_printf ("%.2f mm", best->val_hd95_mm)
                                  : g_strdup ("n/a (one mask is empty)");
      printf ("Best epoch      %d of %d: validation Dice %.4f, HD95 %s\n", best->epoch, n,
              best->val_dice, hd95);
    }
  else if (best)
    printf ("Model epoch     %d of %d (no validation)\n", best->epoch, n);
  if (n > 0)
    printf ("Training time   %.1f s (last epoch %.1f images/s)\n", curves[n - 1].seconds,
            curves[n - 1].images_per_s);
}

int
mm_cli_train (int argc, char **argv)
{
  MmNnTrainOptions o;
  mm_nn_train_options_init (&o);
  /* Unset (NOT_GIVEN, NAN) tells what was given: with --resume the checkpoint's options
   * hold, with --init the model's architecture. */
  int epochs = NOT_GIVEN, val_block = NOT_GIVEN, blocks = NOT_GIVEN, guard = NOT_GIVEN;
  int depth = NOT_GIVEN, width = NOT_GIVEN, batch = NOT_GIVEN, patch = NOT_GIVEN;
  int steps = NOT_GIVEN, threads = 0;
  double budget = NAN, lr = NAN;
  gint64 seed = NOT_GIVEN;
  char *split_name = NULL, *out = NULL, *init = NULL;
  char **data_args = NULL, **mask_args = NULL, **rest = NULL;
  gboolean resume = FALSE;
  GOptionEntry entries[] = {
    { "data", 'd', 0, G_OPTION_ARG_FILENAME_ARRAY, &data_args,
      "CT series (folders), comma-separated or repeated (required)", "PATH[,PATH...]" },
    { "masks", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &mask_args,
      "Their metal masks as PNG label stacks, in the same order (required)", "DIR[,DIR...]" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      "Model file to write; MODEL.csv, MODEL.png and MODEL.ckpt beside it (required)",
      "MODEL" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Epochs (default 20)", "N" },
    { "time-budget", 0, 0, G_OPTION_ARG_DOUBLE, &budget,
      "Stop after this much training time instead (with --epochs: whichever comes first)",
      "S" },
    { "steps-per-epoch", 0, 0, G_OPTION_ARG_INT, &steps, "Steps per epoch (default 200)",
      "N" },
    { "val-split", 0, 0, G_OPTION_ARG_STRING, &split_name,
      "Validation slices: blocks (default), interleaved (every 5th) or none", "NAME" },
    { "blocks", 0, 0, G_OPTION_ARG_INT, &blocks, "Blocks of slices per volume (default 5)",
      "N" },
    { "val-block", 0, 0, G_OPTION_ARG_INT, &val_block,
      "The block that validates, from 0 (default 2)", "K" },
    { "guard", 0, 0, G_OPTION_ARG_INT, &guard,
      "Slices either side of the validation block used for neither (default 2)", "N" },
    { "depth", 0, 0, G_OPTION_ARG_INT, &depth, "U-Net levels (default 3)", "D" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "Channels of the first level (default 8)",
      "W" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Patches per step (default 8)", "B" },
    { "patch", 0, 0, G_OPTION_ARG_INT, &patch, "Patch side in pixels (default 128)", "P" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Adam learning rate (default 0.001)", "X" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of weights and sampling (default 1)",
      "S" },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &init, "Fine-tune this model instead of a new one",
      "MODEL" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &resume,
      "Continue from MODEL.ckpt with its options (--epochs, --time-budget may change)", NULL },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "Threads, fixed: runs repeat bit for bit (default: 1 or all cores, chosen per step by "
      "measured speed)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, NULL },
    { NULL },
  };
  const MmCliRange ranges[] = {
    { "epochs", 1, MM_LIMIT_EPOCHS },
    { "time-budget", 1e-3, 30 * 86400 }, /* a month */
    { "steps-per-epoch", 1, MM_LIMIT_STEPS_PER_EPOCH },
    { "blocks", 2, MM_LIMIT_SLICES },
    { "val-block", 0, MM_LIMIT_SLICES - 1 },
    { "guard", 0, MM_LIMIT_SLICES },
    { "depth", 1, MM_UNET_MAX_DEPTH },
    { "width", 1, MM_UNET_MAX_CHANNELS },
    { "batch", 1, MM_LIMIT_TRAIN_BATCH },
    { "patch", 1, MM_LIMIT_PATCH },
    { "lr", 1e-9, 1 },
    { "seed", 0, (double) G_MAXINT64 },
    MM_CLI_THREADS_RANGE,
    { NULL },
  };
  int rc = MM_EXIT_USAGE;
  MmNnTrainData *data = NULL;
  g_autoptr (GPtrArray) series = NULL;
  g_autoptr (GPtrArray) masks = NULL;
  if (!mm_cli_parse ("train", "--data PATH[,PATH...] --masks DIR[,DIR...] --out MODEL",
                     "Trains a 2D U-Net on patches of the series' slices (Dice + BCE loss, "
                     "Adam), validates on whole slices after every epoch and keeps the best "
                     "model by validation Dice. Ctrl+C stops with a checkpoint; --resume "
                     "continues it.",
                     entries, ranges, &argc, &argv))
    goto out;
  series = split_list (data_args);
  masks = split_list (mask_args);
  if (series->len == 0 || out == NULL)
    {
      mm_cli_error ("train: --data, --masks and --out are required; try 'metalmark-cli train "
                    "--help'");
      goto out;
    }
  if (rest && rest[0])
    {
      mm_cli_error ("train: unexpected argument '%s'", rest[0]);
      goto out;
    }
  if (masks->len != series->len)
    {
      mm_cli_error ("train: %u series but %u mask folders; give one --masks DIR per --data "
                    "PATH",
                    series->len, masks->len);
      goto out;
    }
  bool given = split_name || val_block != NOT_GIVEN || blocks != NOT_GIVEN
               || guard != NOT_GIVEN || depth != NOT_GIVEN || width != NOT_GIVEN
               || batch != NOT_GIVEN || patch != NOT_GIVEN || steps != NOT_GIVEN || !isnan (lr)
               || seed != NOT_GIVEN || init;
  if (resume && given)
    {
      mm_cli_error ("train: --resume continues with the checkpoint's options; only --epochs "
                    "and --time-budget may be given with it");
      goto out;
    }
  if (init && (depth != NOT_GIVEN || width != NOT_GIVEN))
    {
      mm_cli_error ("train: --init keeps the model's architecture; leave out --depth and "
                    "--width");
      goto out;
    }
  if (split_name && !mm_nn_split_from_name (split_name, &o.split))
    {
      mm_cli_error ("train: unknown --val-split '%s'; one of blocks, interleaved, none",
                    split_name);
      goto out;
    }
  if (!resume)
    {
      if (!isnan (budget))
        {
          o.time_budget_s = budget;
          o.epochs = 0;
        }
      if (epochs != NOT_GIVEN)
        o.epochs = epochs;
      if (!isnan (lr))
        o.lr = lr;
      if (seed != NOT_GIVEN)
        o.seed = (guint64) seed;
#define SET_IF_GIVEN(field, value) \
  if ((value) != NOT_GIVEN)        \
  o.field = (value)
      SET_IF_GIVEN (arch.depth, depth);
      SET_IF_GIVEN (arch.width, width);
      SET_IF_GIVEN (batch, batch);
      SET_IF_GIVEN (patch, patch);
      SET_IF_GIVEN (steps_per_epoch, steps);
      SET_IF_GIVEN (blocks, blocks);
      SET_IF_GIVEN (val_block, val_block);
      SET_IF_GIVEN (guard, guard);
#undef SET_IF_GIVEN
      /* Memory grows with the pixels and channels of a step: refused here, before any
       * data is loaded (with --init the model's width is checked by the trainer). */
      guint64 step = (guint64) o.batch * o.patch * o.patch * o.arch.width;
      if (step > MM_LIMIT_TRAIN_STEP)
        {
          mm_cli_error ("train: --batch %d x --patch %d² x --width %d is %" G_GUINT64_FORMAT
                        " values a step, more than the %u allowed (about 4.5 GB of memory); "
                        "lower --batch or --patch",
                        o.batch, o.patch, o.arch.width, step, MM_LIMIT_TRAIN_STEP);
          goto out;
        }
    }
  if (threads > 0)
    omp_set_num_threads (threads);

  {
    rc = MM_EXIT_INPUT;
    g_autoptr (GError) err = NULL;
    g_autofree char *dir = g_path_get_dirname (out);
    if (!mm_ensure_dir (dir, &err))
      {
        mm_cli_error ("%s", err->message);
        rc = MM_EXIT_OUTPUT;
        goto out;
      }
    data = data_load (series, masks, threads);
    if (data == NULL)
      goto out;
    g_autoptr (MmNnTrainer) t
        = resume ? mm_nn_trainer_resume (data, series->len, out,
                                         epochs != NOT_GIVEN ? epochs : -1,
                                         isnan (budget) ? -1 : budget, &err)
                 : mm_nn_trainer_new (&o, data, series->len, out, init, &err);
    if (t == NULL)
      {
        mm_cli_error ("%s", err->message);
        goto out;
      }
    /* --threads fixes the count (bit-identical runs); without it the trainer chooses per
     * step, so that a busy machine does not slow it down 5-15x. */
    if (threads > 0)
      mm_nn_trainer_set_threads (t, threads);
    g_autofree char *summary = mm_nn_trainer_dup_summary (t);
    fprintf (stderr, "%s\n", summary);

    g_autoptr (GCancellable) cancel = g_cancellable_new ();
    Ui ui = { cancel, isatty (fileno (stderr)), 0 };
    struct sigaction sa = { 0 }, old;
    sa.sa_handler = sigint_cb;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl+C stops at once */
    sigemptyset (&sa.sa_mask);
    interrupted = 0;
    sigaction (SIGINT, &sa, &old);
    bool ok = mm_nn_trainer_run (t, progress_cb, &ui, cancel, &err);
    sigaction (SIGINT, &old, NULL);
    if (ui.tty)
      fprintf (stderr, "\r\033[K");
    const MmNnEpochRecord *best;
    mm_nn_trainer_get_best (t, &best);
    if (!ok && g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      {
        mm_cli_error ("%s", err->message);
        if (best)
          mm_cli_error ("%s holds the best epoch so far (%d)", out, best->epoch);
        else
          mm_cli_error ("no epoch has finished: %s is not written yet", out);
        g_autofree char *data_list = join_quoted (series);
        g_autofree char *mask_list = join_quoted (masks);
        g_autofree char *out_quoted = quote (out);
        mm_cli_error ("resume with: metalmark-cli train --data %s --masks %s --out %s --resume",
                      data_list, mask_list, out_quoted);
        print_result (t);
        rc = EXIT_INTERRUPTED;
        goto out;
      }
    if (!ok)
      {
        mm_cli_error ("%s", err->message);
        rc = exit_code_of (err);
        goto out;
      }
    print_result (t);
    g_autofree char *csv = mm_nn_train_file (out, ".csv");
    g_autofree char *png = mm_nn_train_file (out, ".png");
    g_autofree char *ckpt = mm_nn_train_file (out, ".ckpt");
    printf ("Model           %s\n", out);
    printf ("Curves          %s, %s\n", csv, png);
    printf ("Checkpoint      %s\n", ckpt);
    rc = MM_EXIT_OK;
  }
out:
  if (data)
    data_free (data, series->len);
  g_free (split_name);
  g_free (out);
  g_free (init);
  g_strfreev (data_args);
  g_strfreev (mask_args);
  g_strfreev (rest);
  return rc;
}
