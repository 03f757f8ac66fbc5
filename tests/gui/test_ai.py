#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The segmentation model in the desktop app, end to end through the accessibility bus.

A small U-Net is trained with `metalmark-cli train` on a phantom (a few seconds; seed and
thread count fixed, so it is the same model every run) and handed to the app as its shipped
model through $MM_MODEL_DIR. Then, in one app session:
  a) Ctrl+Shift+M (Detect Metal (AI)) shows the toast "Metal detected by the model: X ml in K
     slices" with the figures of `metalmark-cli predict` with the same model;
  b) the label stack the app autosaves is that prediction voxel for voxel (same model, same
     code, same batch and thread count: anything else is a bug), and so its Dice against the
     phantom's truth is the CLI's;
  c) Ctrl+Z undoes the detection as one step: the saved stack is empty again;
  d) Train on This Series with an empty mask says a mask is needed; after Ctrl+Shift+Z (redo)
     and the confirmation (test_train_confirm.py checks what it says) it trains 1 epoch (cut
     to a 15 s time limit), shows its progress window, and writes model-*.safetensors into
     the series' project folder, which `metalmark-cli predict` loads;
and in two more sessions:
  e) a broken model file gives a one-line toast naming it, and the app keeps working;
  f) with a test-only slow model (MM_TEST_SLOW_PREDICT_MS: each slice waits a minute), Escape
     always lands during the detection: a toast says it was cancelled at once, the mask
     (a threshold segmentation made before) is unchanged on screen and on disk, and the app
     stays usable (Ctrl+Z undoes the segmentation, not a detection).

Needs a display, a session bus and the AT-SPI bus: run it through tests/gui/run-under-xvfb.
TAP on stdout. Usage: test_ai.py --app APP --cli CLI [--keep DIR] (DIR keeps the logs and
screenshots of the AI result and of the training window).
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap, children, find, name, role, wait_for  # noqa: E402
from test_atspi import App, Keyboard, finish, run_cli, slice_label  # noqa: E402  (skips without pyatspi)

START_TIMEOUT = 60    # seconds for the app to appear and load the phantom
JOB_TIMEOUT = 240     # a detection or a training run on a loaded machine
SAVE_TIMEOUT = 30     # the journal is folded into the label stack two quiet seconds after an edit
# The phantom's truth is 553 voxels in 2 objects; the model below reaches Dice 0.93 to 0.99
# against it with `metalmark-cli predict` (seed and threads fixed; the figure moved only when
# the network code changed). The real check is that the app matches the CLI voxel for voxel;
# the floor only says the model learned metal at all (an untrained one scores below 0.05), with
# room for changes in the trainer.
DICE_FLOOR = 0.7
TRAIN_ARGS = ["--epochs", "4", "--steps-per-epoch", "30", "--depth", "2", "--width", "4",
              "--batch", "4", "--patch", "64", "--lr", "0.01", "--seed", "1"]


def shoot(keep, file_name):
    """A screenshot of the virtual screen into keep (when given and ImageMagick is there)."""
    if keep and shutil.which("import"):
        path = os.path.join(keep, file_name)
        subprocess.run(["import", "-window", "root", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)
        Tap.note(f"screenshot {path}")


def label_matching(app, pattern):
    rx = re.compile(pattern)
    node = find(app.acc, lambda n: role(n) == "label" and rx.search(name(n)))
    return rx.search(name(node)) if node is not None else None


def button(app, text):
    # GTK 4.8 names a button by its label, mnemonic and all, then the label again.
    return find(app.acc, lambda n: role(n) == "push button" and name(n).replace("_", "").startswith(text))


def x_windows(app):
    """The app's visible X windows (xdotool), asked of the X server, not of AT-SPI."""
    r = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(app.proc.pid)],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.split()


def closed_quietly(app, before, timeout=30):
    """After a press that closes or hides a window: wait until X shows fewer of the app's
    windows, then a moment more, without asking AT-SPI anything meanwhile. GTK 4.8's AT-SPI
    bridge answers a query about a window being taken down with a NULL object path and the
    app dies (SIGSEGV in g_variant_new under a D-Bus method handler, seen with gdb here):
    an upstream bug, so the test does not ask while it can happen."""
    gone = wait_for(lambda: len(x_windows(app)) < before, timeout, 0.2)
    time.sleep(1.0)
    return bool(gone)


def confirm_training(app, accept, timeout=30):
    """The question Train on This Series asks (a window of its own): its text, after pressing
    its Train or Cancel button; None when it was not asked or did not close."""
    def ask():
        for top in children(app.acc):
            if find(top, lambda n: role(n) == "label" and name(n) == "Train on This Series?") is not None:
                return top
        return None
    dialog = wait_for(ask, timeout)
    if dialog is None:
        return None
    body = find(dialog, lambda n: role(n) == "label" and name(n).startswith("The model will learn from"))
    text = name(body) if body is not None else ""
    want = "Train" if accept else "Cancel"
    press = find(dialog, lambda n: role(n) == "push button" and name(n).replace("_", "").startswith(want))
    if press is None:
        return None
    before = len(x_windows(app))
    press.queryAction().doAction(0)
    closed_quietly(app, before, timeout)
    return text if ask() is None else None


def evaluate(cli, truth, pred):
    return json.loads(run_cli(cli, "eval", "--truth", truth, "--pred", pred, "--json"))


def saved_stack(project):
    """The project folder's label stack once the journal is folded into it, else None."""
    if os.path.exists(os.path.join(project, "journal.bin")):
        return None
    return project if os.path.exists(os.path.join(project, "manifest.json")) else None


def scenario_session(tap, args, tmp, ct, truth, model_dir, pred, cli_eval, kb):
    project = ct + ".metalmark"
    env = dict(os.environ, MM_MODEL_DIR=model_dir)
    app = App(args.app, [ct], env=env, logdir=args.logdir, tag="ai-session")
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT),
                      "the app shows the phantom"):
            return
        row = wait_for(lambda: label_matching(app, r"^metalmark-default \(shipped\)$"), START_TIMEOUT)
        tap.ok(row is not None, "the model row names the shipped model ($MM_MODEL_DIR)")
        sub = label_matching(app, r"U-Net, depth 2, width 4 · validation Dice (\d\.\d+)")
        tap.ok(sub is not None, "... and its subtitle gives the architecture and validation Dice from the file",
               sub.group(0) if sub else "no such label")
        tap.ok(kb.focus(app), "the window has the keyboard focus")

        # a) Detect Metal (AI) by its shortcut.
        kb.press("ctrl+shift+m")
        toast = wait_for(lambda: label_matching(app, r"^Metal detected by the model: (\d+\.\d+) ml in (\d+) slices?$"),
                         JOB_TIMEOUT)
        want_ml, want_slices = cli_eval["pred_volume_ml"], cli_eval["pred_slices"]
        if not tap.ok(toast is not None, "a) Ctrl+Shift+M: a toast says how much metal the model found"):
            return
        tap.note(f"toast: {toast.group(0)!r}")
        shoot(args.keep, "ai-result.png")
        tap.ok(abs(float(toast.group(1)) - want_ml) <= 0.005 + 1e-9 and int(toast.group(2)) == want_slices,
               "a) ... with the CLI's volume and slice count", f"CLI: {want_ml:.3f} ml in {want_slices} slices")

        # b) The autosaved stack is the CLI's prediction, voxel for voxel.
        got = wait_for(lambda: saved_stack(project), SAVE_TIMEOUT, 0.2)
        if not tap.ok(got is not None, "b) the mask is autosaved as a label stack", project):
            return
        same = evaluate(args.cli, pred, project)
        tap.ok(same["fp"] == 0 and same["fn"] == 0 and same["tp"] == cli_eval["pred_voxels"],
               "b) the app's mask equals `metalmark-cli predict` with the same model, voxel for voxel",
               f"tp {same['tp']} fp {same['fp']} fn {same['fn']}, CLI {cli_eval['pred_voxels']} voxels")
        app_eval = evaluate(args.cli, truth, project)
        tap.ok(app_eval["dice"] == cli_eval["dice"] and app_eval["dice"] >= DICE_FLOOR,
               f"b) Dice against the truth: the CLI's, at least {DICE_FLOOR}",
               f"app {app_eval['dice']:.4f}, CLI {cli_eval['dice']:.4f}")

        # c) One undo step takes the whole detection back.
        kb.press("ctrl+z")
        empty = wait_for(lambda: saved_stack(project) and evaluate(args.cli, truth, project)["pred_voxels"] == 0,
                         SAVE_TIMEOUT, 0.3)
        tap.ok(empty, "c) Ctrl+Z: the saved mask is empty again",
               f"{evaluate(args.cli, truth, project)['pred_voxels']} voxels" if not empty else "")

        # d) Training: refused without a mask, then 1 epoch after redo.
        train = wait_for(lambda: button(app, "Train on This Series"), 10)
        if not tap.ok(train is not None, "d) the panel has a 'Train on This Series' button"):
            return
        train.queryAction().doAction(0)
        refused = wait_for(lambda: label_matching(app, r"^Training needs this series' metal mask"), 20)
        tap.ok(refused is not None, "d) with an empty mask it says that training needs a mask")
        kb.press("ctrl+shift+z")
        back = wait_for(lambda: saved_stack(project) and evaluate(args.cli, pred, project)["fn"] == 0
                        and evaluate(args.cli, pred, project)["fp"] == 0, SAVE_TIMEOUT, 0.3)
        tap.ok(back, "d) Ctrl+Shift+Z: the detection is back")
        epochs = find(app.acc, lambda n: role(n) == "spin button" and name(n).startswith("Epochs"))
        limit = find(app.acc, lambda n: role(n) == "spin button" and name(n).startswith("Time limit"))
        if not tap.ok(epochs is not None and limit is not None, "d) the Epochs and Time limit spin buttons"):
            return
        epochs.queryValue().currentValue = 1
        limit.queryValue().currentValue = 0.25
        tap.ok(wait_for(lambda: epochs.queryValue().currentValue == 1 and limit.queryValue().currentValue == 0.25, 10),
               "d) set to 1 epoch within 0.25 minutes")
        before = set(glob.glob(os.path.join(project, "model-*.safetensors")))
        train.queryAction().doAction(0)
        asked = confirm_training(app, True)
        tap.ok(asked, "d) it asks first, and starts when told to", asked or "no question")
        window = wait_for(lambda: next((f for f in app.frames() if name(f) == "Training"), None), 30)
        tap.ok(window is not None, "d) the training window opens")
        # On a quiet machine one epoch of this small series can end between two looks at the
        # window: then its final state must say so (the figures below name the epoch).
        step = wait_for(lambda: label_matching(app, r"^(Epoch 1 of 1: (step|validating)|Training finished$)"),
                        JOB_TIMEOUT)
        tap.ok(step is not None, "d) it shows the epoch and step under way (or that training finished)",
               step.group(0) if step else "")
        figures = wait_for(lambda: label_matching(app, r"^Loss \d+\.\d+ +Validation Dice"), 30)
        tap.ok(figures is not None, "d) ... and the loss", figures.group(0) if figures else "")
        shoot(args.keep, "ai-training.png")
        # The toast can come and go while AT-SPI walks the training window; the window itself
        # then says it finished and where the model is written.
        done = wait_for(lambda: label_matching(app, r"^Model saved in (.+) as (model-\d{8}-\d{6}\.safetensors); "
                                               r"it is now the selected model$")
                        or (label_matching(app, r"^Training finished$")
                            and label_matching(app, r"the model is written to (.+)/(model-\d{8}-\d{6}\.safetensors)$")),
                        JOB_TIMEOUT, 0.2)
        if not tap.ok(done is not None, "d) the toast (or the finished training window) says where the trained model was saved",
                      "" if done is None else done.group(0)):
            return
        shoot(args.keep, "ai-training-done.png")
        path = os.path.join(done.group(1), done.group(2))
        tap.ok(os.path.realpath(done.group(1)) == os.path.realpath(project) and os.path.isfile(path)
               and path not in before, "d) ... in the series' project folder, a new file", path)
        dice = label_matching(app, r"Validation Dice (\d\.\d+)")
        tap.ok(dice is not None, "d) the window shows the validation Dice of the epoch", dice.group(0) if dice else "")
        tap.ok(label_matching(app, r"^model-\d{8}-\d{6}$") is not None, "d) the model row now names the new model")
        out = os.path.join(tmp, "pred-trained")
        p = subprocess.run([args.cli, "predict", args.ct, "--model", path, "--out", out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
        tap.ok(p.returncode == 0 and os.path.isfile(os.path.join(out, "manifest.json")),
               "d) `metalmark-cli predict` loads the trained model", p.stderr.strip()[-300:])
        tap.ok(os.path.isfile(path + ".csv") and os.path.isfile(path + ".png"),
               "d) its curves (.csv, .png) are beside it")

        kb.focus(app)
        kb.press("ctrl+q")
        try:
            status = app.proc.wait(30)
        except subprocess.TimeoutExpired:
            status = None
        tap.ok(status == 0, "Ctrl+Q quits with status 0", f"status {status}")
    finally:
        finish(tap, app, "session")


def scenario_bad_model(tap, args, tmp, ct, kb):
    model_dir = os.path.join(tmp, "bad-models")
    os.makedirs(model_dir, exist_ok=True)
    bad = os.path.join(model_dir, "metalmark-default.safetensors")
    with open(bad, "wb") as f:
        f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    env = dict(os.environ, MM_MODEL_DIR=model_dir)
    app = App(args.app, [ct], env=env, logdir=args.logdir, tag="ai-bad-model")
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT),
                      "e) the app starts with a broken shipped model"):
            return
        kb.focus(app)
        kb.press("ctrl+shift+m")
        toast = wait_for(lambda: find(app.acc, lambda n: role(n) == "label" and name(n).startswith(bad + ":")),
                         JOB_TIMEOUT)
        text = name(toast) if toast is not None else ""
        tap.ok(toast is not None and "\n" not in text, "e) Ctrl+Shift+M: a one-line message naming the file",
               repr(text))
        kb.press("ctrl+m")
        seg = wait_for(lambda: label_matching(app, r"^Threshold 3000 HU: (\d+) voxels,"), 30)
        tap.ok(seg is not None and app.alive(), "e) the app keeps working: Ctrl+M segments the metal",
               seg.group(0) if seg else "")
    finally:
        finish(tap, app, "e)")


def scenario_escape(tap, args, tmp, ct, model_dir, kb):
    project = ct + ".metalmark"
    shutil.rmtree(project, ignore_errors=True)
    # Test only: each slice of a detection waits 60 s (cancellably), so Escape surely lands
    # while the detection runs, however fast or loaded the machine.
    env = dict(os.environ, MM_MODEL_DIR=model_dir, MM_TEST_SLOW_PREDICT_MS="60000")
    app = App(args.app, [ct], env=env, logdir=args.logdir, tag="ai-escape")
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT),
                      "f) the app shows the phantom (with a slow model, for the test)"):
            return
        kb.focus(app)
        kb.press("ctrl+m")
        seg = wait_for(lambda: label_matching(app, r"^Threshold 3000 HU: (\d+) voxels,"), 30)
        saved = wait_for(lambda: saved_stack(project), SAVE_TIMEOUT, 0.2)
        if not tap.ok(seg is not None and saved, "f) Ctrl+M: a threshold mask, autosaved"):
            return
        before = evaluate(args.cli, ct + ".metalmark", project)
        kb.press("ctrl+shift+m")
        # GTK 4.8 gives the bar no name; its value is the share of slices done.
        bar = wait_for(lambda: find(app.acc, lambda n: role(n) == "progress bar"
                                    and 0 < n.queryValue().currentValue < 1), JOB_TIMEOUT, 0.2)
        if not tap.ok(bar is not None, "f) the progress bar shows the detection under way",
                      f"{bar.queryValue().currentValue:.3f}" if bar else ""):
            return
        # The premise of the check: the detection is held at that slice (the slow model), so
        # Escape cannot arrive after its end however the machine is loaded.
        value = bar.queryValue().currentValue
        time.sleep(2)
        held = find(app.acc, lambda n: role(n) == "progress bar" and n.queryValue().currentValue == value)
        if not tap.ok(held is not None, "f) ... and held there by the slow model: Escape lands during the detection",
                      f"{value:.3f}"):
            return
        t0 = time.monotonic()
        kb.press("Escape")
        toast = wait_for(lambda: label_matching(app, r"^Metal (detection cancelled$|detected by the model)"), 50)
        took = time.monotonic() - t0
        tap.ok(toast is not None and toast.group(1) == "detection cancelled" and took < 50,
               "f) Escape: a toast says the detection was cancelled, before the slow slice ended",
               f"{toast.group(0) if toast else 'no toast'} after {took:.1f} s")
        label = label_matching(app, r"^Threshold 3000 HU: (\d+) voxels,")
        tap.ok(label is not None and label.group(1) == seg.group(1),
               "f) ... the panel still shows the threshold mask", label.group(0) if label else "")
        same = evaluate(args.cli, ct + ".metalmark", project) if saved_stack(project) else None
        tap.ok(same is not None and same["pred_voxels"] == before["pred_voxels"] == int(seg.group(1)),
               "f) ... and the saved mask is the threshold mask", same)
        kb.press("ctrl+z")
        empty = wait_for(lambda: saved_stack(project) and evaluate(args.cli, ct + ".metalmark", project)["pred_voxels"] == 0,
                         SAVE_TIMEOUT, 0.3)
        tap.ok(empty and app.alive(), "f) the app stays usable: Ctrl+Z undoes the segmentation (no detection step)")
    finally:
        finish(tap, app, "f)")


def phantom_and_model(args, tmp, slices=24):
    """The test phantom and a small model trained on it (the shipped model's stand-in):
    (ct, truth, model_dir, model)."""
    ph = os.path.join(tmp, "phantom")
    run_cli(args.cli, "phantom", ph, "--size", "128", "--slices", str(slices))
    ct, truth = os.path.join(ph, "ct"), os.path.join(ph, "truth")
    model_dir = os.path.join(tmp, "models")
    os.makedirs(model_dir)
    model = os.path.join(model_dir, "metalmark-default.safetensors")
    run_cli(args.cli, "train", "--data", ct, "--masks", truth, "--out", model, *TRAIN_ARGS)
    return ct, truth, model_dir, model


def note_logs(tap, logdir):
    """After a failure: the end of every app log, as TAP notes."""
    for log_name in sorted(os.listdir(logdir)):
        if log_name.endswith(".log"):
            with open(os.path.join(logdir, log_name), errors="replace") as f:
                log = f.read().strip()
            if log:
                tap.note(f"{log_name} (last 3000 characters):\n" + log[-3000:])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--keep", help="keep logs and screenshots in this folder")
    args = ap.parse_args()
    tap = Tap()
    kb = Keyboard()
    if not kb.xdotool:  # the AT-SPI fallback of test_atspi.py presses Ctrl only
        print("1..0 # SKIP xdotool is not installed (Ctrl+Shift+M and Escape are pressed with it)")
        return 0
    # The app and the CLI must predict with the same thread count for equal results.
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    with tempfile.TemporaryDirectory(prefix="mm-gui-ai-") as tmp:
        args.logdir = args.keep or tmp
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        ct, truth, model_dir, model = phantom_and_model(args, tmp)
        args.ct = ct
        pred = os.path.join(tmp, "pred")
        said = run_cli(args.cli, "predict", ct, "--model", model, "--out", pred)
        cli_eval = evaluate(args.cli, truth, pred)
        m = re.search(r"^Slices w/ metal +(\d+) of", said, re.M)
        cli_eval["pred_slices"] = int(m.group(1)) if m else -1
        tap.note(f"CLI prediction: {cli_eval['pred_voxels']} voxels, {cli_eval['pred_volume_ml']:.3f} ml in "
                 f"{cli_eval['pred_slices']} slices, Dice {cli_eval['dice']:.4f} against the truth")
        tap.ok(cli_eval["dice"] >= DICE_FLOOR, f"the test's model reaches Dice {DICE_FLOOR} with the CLI",
               f"{cli_eval['dice']:.4f}")
        for fn in (lambda: scenario_session(tap, args, tmp, ct, truth, model_dir, pred, cli_eval, kb),
                   lambda: scenario_bad_model(tap, args, tmp, ct, kb),
                   lambda: scenario_escape(tap, args, tmp, ct, model_dir, kb)):
            try:
                fn()
            except Exception as e:  # a scenario that breaks must not hide the other
                tap.ok(False, "scenario ran to its end", f"{type(e).__name__}: {e}")
        if tap.failed:
            note_logs(tap, args.logdir)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
