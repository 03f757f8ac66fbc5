#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Closing the window while the model works: the window goes at once and the process ends
soon after, with nothing of the run left behind. The app used to wait for its workers (up to
60 s) before the window could close.

Under openbox; focus by clicking, keys through xdotool (Ctrl+Q closes the app's windows):
  a) a detection slowed down for the test (MM_TEST_SLOW_PREDICT_MS=60000: every slice waits a
     minute, cancellably): with the progress bar under way, Ctrl+Q ends the process well
     within the minute a slice waits (bound: CLOSE_BOUND s), with status 0 and no mask saved;
  b) a training run of 50 epochs: with the training window showing a step, Ctrl+Q ends the
     process within CLOSE_BOUND s, status 0, and the project folder holds no checkpoint and
     no model (no epoch had finished) or only the kept best epoch with its curves.

Needs a display, a session bus and the AT-SPI bus: run it through tests/gui/run-under-xvfb.
TAP on stdout. Usage: test_ai_close.py --app APP --cli CLI [--keep DIR]
"""

import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap, find, role, wait_for  # noqa: E402
from test_atspi import App, finish, slice_label  # noqa: E402  (skips without pyatspi)
from test_ai import (JOB_TIMEOUT, START_TIMEOUT, button, confirm_training, label_matching,  # noqa: E402
                     note_logs, phantom_and_model)
from test_train_confirm import focus_by_click, key, set_training, training_frame  # noqa: E402

SLOW_MS = 60000
CLOSE_BOUND = 20  # seconds: a third of one slow slice; the old code waited for its workers


def quit_and_time(app):
    t0 = time.monotonic()
    key("ctrl+q")
    try:
        status = app.proc.wait(SLOW_MS / 1000 * 2)
    except subprocess.TimeoutExpired:
        status = None
    return status, time.monotonic() - t0


def close_during_detection(tap, args, ct, model_dir):
    project = ct + ".metalmark"
    env = dict(os.environ, MM_MODEL_DIR=model_dir, MM_TEST_SLOW_PREDICT_MS=str(SLOW_MS))
    app = App(args.app, [ct], env=env, logdir=args.logdir, tag="close-detect")
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT),
                      "a) the app shows the phantom (with a slow model, for the test)"):
            return
        focus_by_click(app)
        key("ctrl+shift+m")
        bar = wait_for(lambda: find(app.acc, lambda n: role(n) == "progress bar"
                                    and 0 < n.queryValue().currentValue < 1), JOB_TIMEOUT, 0.2)
        if not tap.ok(bar is not None, "a) Ctrl+Shift+M: the detection is under way"):
            return
        focus_by_click(app)
        status, took = quit_and_time(app)
        tap.note(f"the process ended {took:.1f} s after Ctrl+Q")
        tap.ok(status == 0 and took < CLOSE_BOUND,
               f"a) Ctrl+Q during the detection: the process ends within {CLOSE_BOUND} s, status 0",
               f"status {status} after {took:.1f} s; a slow slice waits {SLOW_MS / 1000:.0f} s")
        tap.ok(not glob.glob(os.path.join(project, "*.png")) and not os.path.exists(os.path.join(project, "manifest.json")),
               "a) ... and no mask was saved")
    finally:
        finish(tap, app, "a)")


def close_during_training(tap, args, ct, model_dir):
    project = ct + ".metalmark"
    env = dict(os.environ, MM_MODEL_DIR=model_dir)
    app = App(args.app, [ct], env=env, logdir=args.logdir, tag="close-train")
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT),
                      "b) the app shows the phantom"):
            return
        focus_by_click(app)
        key("ctrl+m")
        if not tap.ok(wait_for(lambda: label_matching(app, r"^Threshold 3000 HU: \d+ voxels,"), 30),
                      "b) Ctrl+M: a threshold mask"):
            return
        if not set_training(tap, app, 50, 0, "b)"):
            return
        button(app, "Train on This Series").queryAction().doAction(0)
        tap.ok(confirm_training(app, True) is not None, "b) Train, confirmed")
        step = wait_for(lambda: label_matching(app, r"^Epoch \d+ of 50: (step|validating)"), JOB_TIMEOUT, 0.1)
        if not tap.ok(step is not None and training_frame(app) is not None, "b) the training window shows a step"):
            return
        status, took = quit_and_time(app)
        tap.note(f"the process ended {took:.1f} s after Ctrl+Q")
        tap.ok(status == 0 and took < CLOSE_BOUND,
               f"b) Ctrl+Q during training: the process ends within {CLOSE_BOUND} s, status 0",
               f"status {status} after {took:.1f} s")
        ckpt = glob.glob(os.path.join(project, "*.ckpt"))
        models = glob.glob(os.path.join(project, "model-*.safetensors"))
        curves = [m for m in models if os.path.isfile(m + ".csv")]
        tap.ok(not ckpt and curves == models, "b) ... no checkpoint left, and no model without the epoch it holds",
               f"checkpoints {ckpt}, models {models}")
    finally:
        finish(tap, app, "b)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--keep", help="keep the logs in this folder")
    args = ap.parse_args()
    tap = Tap()
    if subprocess.run(["which", "xdotool"], capture_output=True).returncode != 0:
        print("1..0 # SKIP xdotool is not installed (xdotool): keys and clicks are sent with it")
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    with tempfile.TemporaryDirectory(prefix="mm-gui-close-") as tmp:
        args.logdir = args.keep or tmp
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        ct, _, model_dir, _ = phantom_and_model(args, tmp)
        for fn in (lambda: close_during_detection(tap, args, ct, model_dir),
                   lambda: close_during_training(tap, args, ct, model_dir)):
            try:
                fn()
            except Exception as e:  # a scenario that breaks must not hide the other
                tap.ok(False, "scenario ran to its end", f"{type(e).__name__}: {e}")
        if tap.failed:
            note_logs(tap, args.logdir)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
