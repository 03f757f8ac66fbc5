#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Train on This Series as a user meets it: it asks first, says what it will learn from, and
leaves behind only what it says it saved; the model it made stays selected after a restart.

A small model (test_ai.py's, which finds the phantom's metal) is trained with
`metalmark-cli train` and handed to the app as its shipped model
($MM_MODEL_DIR). Settings are kept in a keyfile under the test's private XDG_CONFIG_HOME (not
in memory), so that a second start sees what the first chose. Under openbox; focus by
clicking (xdotool), keys through xdotool, text read back through AT-SPI:
  a) after Detect Metal (AI), Train asks "Train on This Series?" and says the model would
     learn from its own detection, unedited, with a warning, the mask's voxels and slices
     (the panel's figure, the phantom's slice count) and the project folder the model would go
     to; Cancel: no training window, no file written;
  b) after Segment Metal (a threshold mask), the question names no model output and gives the
     threshold mask's voxels; Train: the run ends with "Model saved in <project> as
     model-*.safetensors", the file is there, and no checkpoint (.ckpt) is left beside it;
  c) a longer run cancelled from the training window: the toast says what was kept, that is
     what is on disk, and no .ckpt is left;
  d) after Ctrl+Q and a new start, the model row names the model training made.

Needs a display, a session bus and the AT-SPI bus: run it through tests/gui/run-under-xvfb.
TAP on stdout. Usage: test_train_confirm.py --app APP --cli CLI [--keep DIR]
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap, find, name, role, wait_for  # noqa: E402
from test_atspi import App, finish, slice_label  # noqa: E402  (skips without pyatspi)
from test_ai import (JOB_TIMEOUT, START_TIMEOUT, button, closed_quietly, confirm_training, label_matching, x_windows,  # noqa: E402
                     note_logs, phantom_and_model)

SLICES = 24


def xdo(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True, timeout=30)


def focus_by_click(app):
    """Click the window's header bar (its title), as a person gives a window focus."""
    wins = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(app.proc.pid)],
                          capture_output=True, text=True, timeout=30).stdout.split()
    if not wins:
        return False
    geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wins[-1]],
                         capture_output=True, text=True, timeout=30).stdout
    kv = dict(line.split("=", 1) for line in geo.split() if "=" in line)
    xdo("mousemove", "--sync", int(kv["X"]) + int(kv["WIDTH"]) // 2, int(kv["Y"]) + 12)
    time.sleep(0.1)
    xdo("click", 1)
    time.sleep(0.3)
    return True


def key(k):
    xdo("key", "--clearmodifiers", k)


def spin(app, prefix):
    return find(app.acc, lambda n: role(n) == "spin button" and name(n).startswith(prefix))


def set_training(tap, app, epochs, minutes, what):
    e, t = spin(app, "Epochs"), spin(app, "Time limit")
    if e is None or t is None:
        return tap.ok(False, f"{what}: the Epochs and Time limit fields")
    e.queryValue().currentValue = epochs
    t.queryValue().currentValue = minutes
    return tap.ok(wait_for(lambda: e.queryValue().currentValue == epochs and t.queryValue().currentValue == minutes, 10),
                  f"{what}: {epochs} epochs, time limit {minutes} min")


def models(project):
    return sorted(glob.glob(os.path.join(project, "model-*.safetensors")))


def leftovers(project):
    return sorted(glob.glob(os.path.join(project, "*.ckpt")) + glob.glob(os.path.join(project, "*.tmp*")))


def training_frame(app):
    return next((f for f in app.frames() if name(f) == "Training"), None)


def session(tap, args, ct, env):
    project = ct + ".metalmark"
    app = App(args.app, [ct], env=env, logdir=args.logdir, tag="train-confirm")
    made = None
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT),
                      "the app shows the phantom"):
            return None
        focus_by_click(app)

        # a) the model's own detection, then Train: the question, and Cancel.
        key("ctrl+shift+m")
        det = wait_for(lambda: label_matching(app, r"^Detected by the model[^:]*: (\d+) voxels,"), JOB_TIMEOUT)
        if not tap.ok(det is not None and int(det.group(1)) > 0, "a) Ctrl+Shift+M: the model's mask",
                      det.group(0) if det else ""):
            return None
        if not set_training(tap, app, 1, 0.25, "a)"):
            return None
        train = button(app, "Train on This Series")
        train.queryAction().doAction(0)
        text = confirm_training(app, False)
        tap.note(f"asked: {text!r}")
        tap.ok(text is not None, "a) Train asks first (Train on This Series?); Cancel closes the question")
        text = text or ""
        tap.ok("the model's own detection, not edited since" in text and "Warning" in text,
               "a) ... it says the mask is the model's own unedited output, with a warning")
        m = re.search(r"(\d+) metal voxels in (\d+) of (\d+) slices", text)
        tap.ok(m is not None and m.group(1) == det.group(1) and int(m.group(3)) == SLICES and 0 < int(m.group(2)) <= SLICES,
               "a) ... the mask's voxels (the panel's figure) and slices (of the phantom's)",
               m.group(0) if m else "")
        where = re.search(r"saved in (.+) as (model-\d{8}-\d{6}\.safetensors)", text)
        tap.ok(where is not None and os.path.realpath(where.group(1)) == os.path.realpath(project),
               "a) ... and that the model would be saved in the series' project folder",
               where.group(0) if where else "")
        time.sleep(2)
        tap.ok(training_frame(app) is None and models(project) == [] and leftovers(project) == [],
               "a) Cancel: no training window, no model, no checkpoint", str(models(project) + leftovers(project)))

        # b) a threshold mask, then Train and accept.
        focus_by_click(app)
        key("ctrl+m")
        seg = wait_for(lambda: label_matching(app, r"^Threshold 3000 HU: (\d+) voxels,"), 30)
        if not tap.ok(seg is not None, "b) Ctrl+M: a threshold mask", seg.group(0) if seg else ""):
            return None
        train.queryAction().doAction(0)
        heading = wait_for(lambda: find(app.acc, lambda n: role(n) == "label" and name(n) == "Train on This Series?"), 30)
        body = find(app.acc, lambda n: role(n) == "label" and name(n).startswith("The model will learn from"))
        text = name(body) if body is not None else ""
        tap.note(f"asked: {text!r}")
        m = re.search(r"the mask as it is now in the panel: (\d+) metal voxels", text)
        tap.ok(heading is not None and m is not None and m.group(1) == seg.group(1) and "Warning" not in text
               and "own detection" not in text,
               "b) the question names the mask in the panel with its voxels, and no warning")
        text = confirm_training(app, True)
        tap.ok(text is not None, "b) Train: the question closes")
        tap.ok(wait_for(lambda: training_frame(app), 30) is not None, "b) the training window opens")
        planned = re.search(r"saved in (.+) as (model-\d{8}-\d{6}\.safetensors)", text or "")
        # The toast is read if the walk meets it in its seconds on screen; the window's status
        # stays.
        toast = None

        def ended():
            nonlocal toast
            toast = toast or label_matching(app, r"^Model saved in (.+) as (model-\d{8}-\d{6}\.safetensors); "
                                            r"it is now the selected model$")
            return label_matching(app, r"^Training (finished|cancelled)$|^Training .*failed|^Epoch \d+ of 1 done$")
        status = wait_for(ended, JOB_TIMEOUT, 0.2)
        status = wait_for(lambda: label_matching(app, r"^Training (finished|cancelled)$"), 30) or status
        tap.note(f"the window says {status.group(0) if status else None!r}; toast {toast.group(0) if toast else None!r}")
        if not tap.ok(status is not None and status.group(0) == "Training finished" and planned is not None,
                      "b) the training window says it finished"):
            return None
        made = os.path.join(planned.group(1), planned.group(2))
        tap.ok(toast is None or (toast.group(1), toast.group(2)) == (planned.group(1), planned.group(2)),
               "b) the toast, when read, names the file the question named", toast.group(0) if toast else "not read")
        tap.ok(os.path.isfile(made) and os.path.realpath(planned.group(1)) == os.path.realpath(project),
               "b) the model is in the project folder, where the question said", made)
        tap.ok(leftovers(project) == [], "b) ... and no checkpoint is left beside it", str(leftovers(project)))
        row = wait_for(lambda: label_matching(app, "^" + re.escape(planned.group(2)[:-len(".safetensors")]) + "$"), 10)
        tap.ok(row is not None, "b) the model row names the new model")
        close = button(app, "Close")
        if close is not None:
            before = len(x_windows(app))
            close.queryAction().doAction(0)
            closed_quietly(app, before, 10)
        wait_for(lambda: training_frame(app) is None, 10)

        # c) a long run, cancelled from the training window.
        time.sleep(1.1)  # the next model's name has a new second
        if not set_training(tap, app, 50, 0, "c)"):
            return made
        focus_by_click(app)
        train.queryAction().doAction(0)
        tap.ok(confirm_training(app, True) is not None, "c) Train, confirmed")
        step = wait_for(lambda: label_matching(app, r"^Epoch \d+ of 50: (step|validating)"), JOB_TIMEOUT, 0.1)
        cancel = button(app, "Cancel Training")
        if not tap.ok(step is not None and cancel is not None, "c) the run is under way, with Cancel Training",
                      step.group(0) if step else ""):
            return made
        before = set(models(project))
        cancel.queryAction().doAction(0)
        toast = wait_for(lambda: label_matching(app, r"^Training cancelled(; the best epoch so far is saved in (.+) as "
                                                r"(model-\d{8}-\d{6}\.safetensors)| before the first epoch ended: nothing was saved)"),
                         JOB_TIMEOUT, 0.1)
        if not tap.ok(toast is not None, "c) a toast says the training was cancelled", toast.group(0) if toast else ""):
            return made
        after = set(models(project))
        if toast.group(2):
            kept = os.path.join(toast.group(2), toast.group(3))
            tap.ok(after - before == {kept}, "c) ... the best epoch it says it kept is there, nothing else", kept)
            made = kept
        else:
            tap.ok(after == before, "c) ... and, as it says, no model was written", str(after - before))
        tap.ok(leftovers(project) == [], "c) no checkpoint (.ckpt) is left in the project folder",
               str(leftovers(project)))

        focus_by_click(app)
        key("ctrl+q")
        try:
            status = app.proc.wait(60)
        except subprocess.TimeoutExpired:
            status = None
        tap.ok(status == 0, "Ctrl+Q quits with status 0", f"status {status}")
        return made
    finally:
        finish(tap, app, "session")


def restart(tap, args, ct, env, made):
    app = App(args.app, [ct], env=env, logdir=args.logdir, tag="train-confirm-restart")
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT),
                      "d) the app starts again"):
            return
        want = os.path.basename(made)[:-len(".safetensors")]
        row = wait_for(lambda: label_matching(app, "^" + re.escape(want) + "$"), 30)
        shipped = label_matching(app, r"\(shipped\)$")
        tap.ok(row is not None and shipped is None, "d) the model row names the model training made", want)
    finally:
        finish(tap, app, "d)")


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
    with tempfile.TemporaryDirectory(prefix="mm-gui-train-") as tmp:
        args.logdir = args.keep or tmp
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        ct, _, model_dir, _ = phantom_and_model(args, tmp, SLICES)
        # Settings in a file, so that the second start reads what the first wrote.
        env = dict(os.environ, MM_MODEL_DIR=model_dir, GSETTINGS_BACKEND="keyfile")
        made = None
        try:
            made = session(tap, args, ct, env)
        except Exception as e:  # a broken scenario must not hide the restart
            tap.ok(False, "the session ran to its end", f"{type(e).__name__}: {e}")
        if made:
            restart(tap, args, ct, env, made)
        else:
            tap.ok(False, "d) the model is remembered after a restart", "no model was trained")
        if tap.failed:
            note_logs(tap, args.logdir)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
