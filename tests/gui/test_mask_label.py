#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mask label says what the mask is (issue 11, bug 3) and undo/redo keep their place
(bug 6), read through AT-SPI against figures computed here from the DICOM files (pydicom,
numpy, scipy), never from the app:

  A) a phantom opened: "No mask"; Ctrl+M: "Threshold 3000 HU: N voxels, V ml in S slices, C
     components" with N, V, S, C from the HU values; the threshold hint agrees with the Lower
     HU field; Lower HU typed as 1500 (field clicked, keys typed) and Apply to All clicked:
     "Threshold 1500 HU: ..." with the 1500 HU figures; the autosave says "Saved in <folder>"
     and the stack holds those voxels; Ctrl+Z and Ctrl+Shift+Z: the 3000 and 1500 figures
     again; the Undo and Redo buttons keep their size and column while the status beside them
     changes; Ctrl+Q.
  B) reopened: "Saved mask: ..." with the stack's figures, "Saved in <folder>".
  C) with MM_AUTOSAVE_DELAY_MS=600000 (no fold before the kill, however slow the machine):
     Ctrl+M, the journal written, kill -9; restarted: "Recovered from the autosave journal:
     ..." with the 3000 HU figures; Ctrl+Q folds the journal (none left) and the stack holds
     them.

Focus by clicking (xdotool), keys through xdotool; run under a window manager
(MM_TEST_WM=openbox) through run-under-xvfb. TAP on stdout.
Usage: test_mask_label.py --app APP --cli CLI [--keep DIR]
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap, find, name, role, safe, wait_for, walk  # noqa: E402

try:
    import pyatspi
except ImportError:
    print("1..0 # SKIP pyatspi is not installed (python3-pyatspi, for /usr/bin/python3)")
    sys.exit(0)
try:
    import numpy as np
    import pydicom
    import cv2
    from scipy import ndimage
except ImportError as e:
    print(f"1..0 # SKIP {e.name} is not installed (python3-numpy, python3-pydicom, python3-opencv, python3-scipy)")
    sys.exit(0)
if shutil.which("xdotool") is None:
    print("1..0 # SKIP xdotool is not installed (xdotool): keys and clicks are sent with it")
    sys.exit(0)

from test_atspi import START_TIMEOUT, App, finish, slice_label  # noqa: E402

UI_TIMEOUT = 20    # a label after a key or a click, on a loaded machine
FOLD_TIMEOUT = 30  # the autosave fold, 2 s after the last edit
EXIT_TIMEOUT = 30
LABEL_RE = re.compile(r"^(?P<source>[^:]+): (?P<voxels>\d+) voxels, (?P<ml>\d+\.\d\d) ml in "
                      r"(?P<slices>\d+) slices, (?P<comps>\d+) components\. (?P<saved>.*)$")


# What the label said before issue 11 ("Threshold 3000 HU: 21598 voxels"): recognised so that
# a run against that code reports what it showed.
OLD_LABEL_RE = re.compile(r"^(Threshold \d+ HU|Loaded .*|Detected by the model): \d+ voxels$")


def xdo(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True, timeout=30)


def key(k):
    xdo("key", "--clearmodifiers", k)


def window_origin(app):
    wins = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(app.proc.pid)],
                          capture_output=True, text=True, timeout=30).stdout.split()
    geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wins[-1]],
                         capture_output=True, text=True, timeout=30).stdout
    kv = dict(line.split("=", 1) for line in geo.split() if "=" in line)
    return int(kv["X"]), int(kv["Y"])


def extents(node):
    e = safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    return None if e is None or e.width <= 0 else (e.x, e.y, e.width, e.height)


def reveal(app, node):
    """Scroll the side panel with the wheel until node lies inside the window: the pointer at
    the panel's left edge (where its headings start and no field lies), mid-height."""
    frame = app.frames()[0] if app.frames() else None
    heading = by_name(app, "Metal mask", ("label",))
    if frame is None or heading is None:
        return
    ox, oy = window_origin(app)
    for _ in range(40):
        e, f, h = extents(node), extents(frame), extents(heading)
        if e is None or f is None or h is None:
            return
        if e[1] >= f[1] + 60 and e[1] + e[3] <= f[1] + f[3] - 10:
            return
        xdo("mousemove", "--sync", ox + h[0] + 1, oy + f[1] + f[3] // 2)
        xdo("click", 5 if e[1] + e[3] > f[1] + f[3] - 10 else 4)
        time.sleep(0.1)


def click(app, node, fx=0.5):
    """Click node at fx of its width (a spin button's text lies left of its - and + buttons)."""
    e = extents(node)
    if e is None:
        return False
    ox, oy = window_origin(app)
    xdo("mousemove", "--sync", ox + e[0] + int(e[2] * fx), oy + e[1] + e[3] // 2)
    time.sleep(0.1)
    xdo("click", 1)
    return True


def by_name(app, text, roles):
    return find(app.acc, lambda n: name(n) == text and role(n) in roles)


def mask_label(app):
    """The text of the label under the "Metal mask" heading: the one naming the mask."""
    for n, _ in walk(app.acc):
        if role(n) == "label" and (LABEL_RE.match(name(n)) or name(n).startswith("No mask")
                                   or OLD_LABEL_RE.match(name(n))):
            return name(n)
    return None


def wait_label(app, pred):
    """The parsed mask label once pred(text, match) holds, else (None, last text)."""
    last = [None]

    def look():
        t = mask_label(app)
        last[0] = t
        m = LABEL_RE.match(t) if t else None
        return (t, m) if pred(t, m) else None
    got = wait_for(look, UI_TIMEOUT, 0.1)
    return got if got else (last[0], None)


# ---------------------------------------------------------------- independent truth

def hu_volume(ct):
    """HU[k][j][i] with k in the order of Image Position (Patient) along the normal."""
    slices = []
    for fn in os.listdir(ct):
        ds = pydicom.dcmread(os.path.join(ct, fn))
        hu = ds.pixel_array.astype(np.float64) * float(getattr(ds, "RescaleSlope", 1)) + \
            float(getattr(ds, "RescaleIntercept", 0))
        o = [float(x) for x in ds.ImageOrientationPatient]
        normal = np.cross(o[:3], o[3:])
        z = float(np.dot(normal, [float(x) for x in ds.ImagePositionPatient]))
        sp = [float(x) for x in ds.PixelSpacing]
        slices.append((z, hu, sp))
    slices.sort(key=lambda s: s[0])
    zs = [s[0] for s in slices]
    dz = (zs[-1] - zs[0]) / (len(zs) - 1) if len(zs) > 1 else 1.0
    voxel_mm3 = slices[0][2][0] * slices[0][2][1] * dz
    return np.stack([s[1] for s in slices]), voxel_mm3


def figures(mask, voxel_mm3):
    """(voxels, ml rounded as the label prints it, slices, 26-connected components)"""
    n = int(mask.sum())
    _, comps = ndimage.label(mask, structure=np.ones((3, 3, 3)))
    return n, f"{n * voxel_mm3 / 1000.0:.2f}", int(mask.reshape(mask.shape[0], -1).any(1).sum()), int(comps)


def shown(m):
    return (int(m["voxels"]), m["ml"], int(m["slices"]), int(m["comps"]))


def read_stack(folder, shape):
    with open(os.path.join(folder, "manifest.json")) as f:
        man = json.load(f)
    vol = np.zeros(shape, np.uint8)
    for s in man["slices"]:
        vol[s["index"]] = cv2.imread(os.path.join(folder, s["file"]), cv2.IMREAD_UNCHANGED) // 255
    return vol


# ---------------------------------------------------------------- scenarios

def start(tap, args, ct, tag, env=None):
    e = dict(os.environ, **(env or {}))
    app = App(args.app, [ct], env=e, logdir=args.logdir, tag=tag)
    ok = app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT)
    ok = ok and wait_for(lambda: mask_label(app), UI_TIMEOUT)
    if not tap.ok(ok, f"{tag}: the app shows the series and the mask label"):
        return app, False
    # Focus by clicking the image, as a person does.
    img = find(app.acc, lambda n: role(n) == "image" and name(n) == "Axial view")
    tap.ok(img is not None and click(app, img), f"{tag}: clicked the axial view")
    return app, True


def quit_app(tap, app, tag):
    key("ctrl+q")
    try:
        status = app.proc.wait(EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        status = None
    tap.ok(status == 0, f"{tag}: Ctrl+Q ends the app with status 0", f"status {status}")


def check_label(tap, what, got, want_source, want):
    text, m = got
    tap.ok(m is not None and m["source"] == want_source and shown(m) == want,
           f"{what}: the mask label reads {want_source!r} with {want[0]} voxels, {want[1]} ml in {want[2]} "
           f"slices, {want[3]} components", f"label {text!r}")
    return m


def scenario_a(tap, args, ct, proj, hu, voxel_mm3):
    f3000 = figures(hu >= 3000, voxel_mm3)
    f1500 = figures((hu >= 1500) & (hu <= 32767), voxel_mm3)
    tap.note(f"truth: >= 3000 HU {f3000}, >= 1500 HU {f1500}")
    app, ok = start(tap, args, ct, "A")
    try:
        if not ok:
            return
        tap.ok((mask_label(app) or "").startswith("No mask"), "A: before any edit the label says 'No mask'",
               mask_label(app))
        undo = by_name(app, "Undo", ("push button", "button"))
        redo = by_name(app, "Redo", ("push button", "button"))
        sizes = [("loaded", extents(undo), extents(redo))]

        key("ctrl+m")
        check_label(tap, "A: Ctrl+M", wait_label(app, lambda t, m: m and m["source"] == "Threshold 3000 HU"),
                    "Threshold 3000 HU", f3000)
        sizes.append(("after Ctrl+M", extents(undo), extents(redo)))

        # The hint speaks of the value in the field.
        spin = by_name(app, "Lower HU", ("spin button",))
        field = safe(lambda: spin.queryValue().currentValue)
        hint = [name(n) for n, _ in walk(app.acc) if role(n) == "label" and
                re.search(r"HU: the emptiest|Suggested lower bound|no metal|clipped at 3071", name(n))]
        nums = [float(x) for x in re.findall(r"(\d+) HU", hint[0])] if hint else []
        agrees = bool(hint) and (nums[:1] == [field] or f"Lower HU is set to {field:.0f}" in hint[0])
        tap.ok(agrees, "A: the threshold hint agrees with the Lower HU field (names its value, or says it "
               "differs from the suggestion)", f"field {field}, hint {hint[:1]}")

        # Lower HU 1500, typed into the clicked field; Apply to All clicked.
        reveal(app, spin)
        tap.ok(click(app, spin, 0.2), "A: clicked the Lower HU field")
        key("ctrl+a")
        xdo("type", "--delay", "50", "1500")
        key("Return")
        tap.ok(wait_for(lambda: safe(lambda: spin.queryValue().currentValue) == 1500, UI_TIMEOUT),
               "A: the Lower HU field reads 1500", f"{safe(lambda: spin.queryValue().currentValue)}")
        # The button's own accessible name is odd in GTK 4.8 ("Apply to _All Apply to All"):
        # its label child, which covers it, is clicked.
        apply_all = by_name(app, "Apply to All", ("label",))
        if apply_all is not None:
            reveal(app, apply_all)
        tap.ok(apply_all is not None and click(app, apply_all), "A: clicked Apply to All")
        check_label(tap, "A: Apply to All at 1500 HU",
                        wait_label(app, lambda t, m: m and m["source"] == "Threshold 1500 HU"),
                        "Threshold 1500 HU", f1500)
        sizes.append(("after Apply to All", extents(undo), extents(redo)))
        got = wait_label(app, lambda t, m: m and m["saved"].startswith("Saved in"))
        tap.ok(got[1] is not None and got[1]["saved"] == f"Saved in {proj}.",
               "A: the label says the mask is saved, and where", f"{got[0]!r}")
        sizes.append(("saved", extents(undo), extents(redo)))
        try:
            disk = read_stack(proj, hu.shape)
            tap.ok(figures(disk != 0, voxel_mm3) == f1500, "A: the saved stack has the 1500 HU figures",
                   f"{figures(disk != 0, voxel_mm3)}")
        except (OSError, ValueError, TypeError) as e:
            tap.ok(False, "A: the saved stack can be read", f"{e}")

        key("ctrl+z")
        check_label(tap, "A: Ctrl+Z", wait_label(app, lambda t, m: m and m["source"] == "Threshold 3000 HU"),
                    "Threshold 3000 HU", f3000)
        sizes.append(("after Ctrl+Z", extents(undo), extents(redo)))
        key("ctrl+shift+z")
        check_label(tap, "A: Ctrl+Shift+Z", wait_label(app, lambda t, m: m and m["source"] == "Threshold 1500 HU"),
                    "Threshold 1500 HU", f1500)
        sizes.append(("after Ctrl+Shift+Z", extents(undo), extents(redo)))
        status_texts = [name(n) for n, _ in walk(app.acc) if role(n) == "label" and name(n).startswith("Unsaved")]
        # Bug 6: the buttons keep their size and column whatever the status says.
        whs = {(u[0], u[2], u[3], r[0], r[2], r[3]) if u and r else None for _, u, r in sizes}
        tap.ok(len(whs) == 1 and None not in whs and max(max(u[2], r[2]) for _, u, r in sizes) < 100,
               "A: Undo and Redo keep their size and x position (small icon buttons) while the status changes",
               "; ".join(f"{w}: undo {u} redo {r}" for w, u, r in sizes) + f"; status {status_texts[:1]}")
        quit_app(tap, app, "A")
        tap.ok(not os.path.exists(os.path.join(proj, "journal.bin")), "A: no journal left after Ctrl+Q")
    finally:
        finish(tap, app, "A")


def scenario_b(tap, args, ct, proj, hu, voxel_mm3):
    try:
        want = figures(read_stack(proj, hu.shape) != 0, voxel_mm3)
    except (OSError, ValueError, TypeError) as e:
        tap.ok(False, "B: the stack saved in A can be read", f"{e}")
        return
    app, ok = start(tap, args, ct, "B")
    try:
        if not ok:
            return
        m = check_label(tap, "B: reopened", wait_label(app, lambda t, m: m is not None), "Saved mask", want)
        tap.ok(m is not None and m["saved"] == f"Saved in {proj}.", "B: ... saved in the project folder",
               m["saved"] if m else "")
        quit_app(tap, app, "B")
    finally:
        finish(tap, app, "B")


def scenario_c(tap, args, ct, proj, hu, voxel_mm3):
    f3000 = figures(hu >= 3000, voxel_mm3)
    journal = os.path.join(proj, "journal.bin")
    app, ok = start(tap, args, ct, "C first run", env={"MM_AUTOSAVE_DELAY_MS": "600000"})
    app2 = None
    try:
        if not ok:
            return
        # The stack holds the 1500 HU mask of A; Ctrl+M makes it the 3000 HU one, in the journal.
        key("ctrl+m")
        got = wait_label(app, lambda t, m: m and m["source"] == "Threshold 3000 HU")
        tap.ok(got[1] is not None and got[1]["saved"].startswith("Unsaved changes"),
               "C: after Ctrl+M (fold delayed) the label says the changes are not yet saved", f"{got[0]!r}")
        tap.ok(wait_for(lambda: os.path.exists(journal), UI_TIMEOUT), "C: the journal is on disk")
        os.kill(app.proc.pid, signal.SIGKILL)
        app.proc.wait(10)
        app2, ok = start(tap, args, ct, "C restart", env={"MM_AUTOSAVE_DELAY_MS": "600000"})
        if not ok:
            return
        check_label(tap, "C: after the crash", wait_label(app2, lambda t, m: m is not None),
                    "Recovered from the autosave journal", f3000)
        tap.ok(os.path.exists(journal), "C: the journal is still there before Ctrl+Q (the fold is 10 minutes away)")
        quit_app(tap, app2, "C")
        tap.ok(not os.path.exists(journal), "C: Ctrl+Q folded the journal (none left)")
        try:
            disk = read_stack(proj, hu.shape)
            tap.ok(figures(disk != 0, voxel_mm3) == f3000, "C: the stack holds the recovered mask",
                   f"{figures(disk != 0, voxel_mm3)}")
        except (OSError, ValueError, TypeError) as e:
            tap.ok(False, "C: the stack can be read", f"{e}")
    finally:
        finish(tap, app, "C first run")
        if app2:
            finish(tap, app2, "C restart")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--keep")
    args = ap.parse_args()
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="mm-mask-label-") as tmp:
        args.logdir = args.keep or tmp
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        ph = os.path.join(tmp, "phantom")
        # Noise spreads voxels across 1500 and 3000 HU: many components, figures that differ.
        subprocess.run([args.cli, "phantom", ph, "--size", "96", "--slices", "16", "--noise", "600",
                        "--seed", "3"], check=True, stdout=subprocess.DEVNULL, timeout=120)
        ct = os.path.join(ph, "ct")
        proj = ct + ".metalmark"
        hu, voxel_mm3 = hu_volume(ct)
        for fn in (scenario_a, scenario_b, scenario_c):
            try:
                fn(tap, args, ct, proj, hu, voxel_mm3)
            except Exception as e:  # one scenario that breaks must not hide the others
                import traceback
                tap.ok(False, f"{fn.__name__} ran to its end", f"{type(e).__name__}: {e}")
                tap.note(traceback.format_exc())
        if tap.failed:
            for f in sorted(os.listdir(args.logdir)):
                if f.endswith(".log"):
                    with open(os.path.join(args.logdir, f), errors="replace") as fh:
                        tap.note(f"{f}:\n" + fh.read()[-1500:])
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
