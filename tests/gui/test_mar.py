#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Metal artifact reduction in the app (issue 17, part 3), as a person uses it, on a small
phantom with metal (128 x 128 x 16, variant 1: implants in a pelvis with streaks around them;
NMAR of it takes about a second):

  a) Ctrl+R starts NMAR in the background: the progress bar shows it, and the window answers
     keys meanwhile (Page Down moves the slice); Escape cancels it (a toast, no label);
  b) Ctrl+R again: every view and the window title say "MAR (NMAR) — derived, not for
     diagnosis" (an amber box in the screenshot), and the HU under the pointer at a streak is
     the corrected value `metalmark-cli mar` writes for the same input (within 1 HU);
  c) X shows the original: no label, the same slice, and the HU under the pointer is the
     input's (pydicom, the independent truth) and differs from the corrected one; the MAR
     button in the header bar, clicked, shows the corrected image again;
  d) File menu, Export Corrected Series: a folder chooser; the written series read with
     pydicom has a new Series Instance UID, Image Type DERIVED, the method in its description,
     the study's UID and the pixels of `metalmark-cli mar` (within 1 HU); a second export into
     a folder that is not empty goes into a new subfolder MAR-NMAR;
  e) the exported series opens again: `metalmark-cli info` calls it a CT volume in HU (no
     "not a CT" flag) and the app shows it with the corrected HU under the pointer;
  f) the menu's LI-MAR, then Ctrl+R: "MAR (LI)" and the HU of `metalmark-cli mar --method li`.

The worker waits MM_TEST_SLOW_MAR_MS after each slice (test only), so that a) can act while
the correction surely runs. Run through tests/gui/run-under-xvfb (openbox, 1280x800).
TAP on stdout. Usage: test_mar.py --app APP --cli CLI [--keep DIR]
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
from mmtest import Tap, children, find, name, role, safe, wait_for, walk  # noqa: E402

if shutil.which("xdotool") is None:
    print("1..0 # SKIP xdotool is not installed (xdotool): keys and the pointer are sent with it")
    sys.exit(0)
try:
    import numpy as np
    import pyatspi
    import pydicom
except ImportError as e:
    print(f"1..0 # SKIP {e.name} is not installed (python3-numpy python3-pyatspi python3-pydicom)")
    sys.exit(0)

from test_atspi import START_TIMEOUT, UI_TIMEOUT, App, finish, run_cli, slice_label, view, view_labels  # noqa: E402

SIZE, SLICES = 128, 16
SLOW_MS = 500          # per slice, test only: the correction takes at least 8 s
MAR_TIMEOUT = 180      # seconds for a correction under a loaded machine
NMAR_LABEL = "MAR (NMAR) — derived, not for diagnosis"
LI_LABEL = "MAR (LI) — derived, not for diagnosis"
PROBE_RE = re.compile(r"^(-?\d+) HU · \((-?[\d.]+), (-?[\d.]+), (-?[\d.]+)\) mm LPS · voxel \((\d+), (\d+), (\d+)\)$")


def xdo(*args):
    return subprocess.run(["xdotool"] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=30)


def key(k):
    xdo("key", "--clearmodifiers", k)


def window_geometry(app):
    wins = xdo("search", "--sync", "--onlyvisible", "--pid", app.proc.pid).stdout.split()
    if not wins:
        return None
    kv = dict(line.split("=", 1) for line in xdo("getwindowgeometry", "--shell", wins[-1]).stdout.split()
              if "=" in line)
    return int(kv["X"]), int(kv["Y"]), int(kv["WIDTH"]), int(kv["HEIGHT"])


def extents(node):
    e = safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    return None if e is None or e.width <= 0 else (e.x, e.y, e.width, e.height)


def click_at(app, node, dx=0.5, dy=0.5):
    g, e = window_geometry(app), extents(node)
    if g is None or e is None:
        return False
    xdo("mousemove", "--sync", int(g[0] + e[0] + e[2] * dx), int(g[1] + e[1] + e[3] * dy))
    time.sleep(0.1)
    xdo("click", 1)
    return True


def label_matching(app, pattern):
    rx = re.compile(pattern)
    node = find(app.acc, lambda n: role(n) == "label" and rx.search(name(n)))
    return rx.search(name(node)) if node is not None else None


def series(folder):
    """(HU [k][j][i] ordered by z, z of each slice, the datasets), read with pydicom."""
    ds = [pydicom.dcmread(f) for f in glob.glob(os.path.join(folder, "*.dcm"))]
    ds.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    hu = np.array([d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in ds])
    return hu, [float(d.ImagePositionPatient[2]) for d in ds], ds


def probe(app):
    """The HU readout of the axial view: (hu, z_mm, i, j, k) or None."""
    img = view(app, "Axial")
    for t in view_labels(img) if img is not None else []:
        m = PROBE_RE.match(t)
        if m:
            return (int(m.group(1)), float(m.group(4)), int(m.group(5)), int(m.group(6)), int(m.group(7)))
    return None


def derived_label(app, plane="Axial"):
    img = view(app, plane)
    return next((t for t in view_labels(img) if t.startswith("MAR (")), None) if img is not None else None


class Pointer:
    """Puts the pointer over voxel (i, j) of the axial view: first where the fit puts it, then
    corrected by what the HU readout says is under it."""

    def __init__(self, app, img, n):
        self.app, self.img, self.n = app, img, n

    def screen(self, i, j):
        g, e = window_geometry(self.app), extents(self.img)
        side = min(e[2], e[3])  # square pixels, as many columns as rows: a square fit
        x0, y0 = g[0] + e[0] + (e[2] - side) / 2, g[1] + e[1] + (e[3] - side) / 2
        return x0 + (i + 0.5) * side / self.n, y0 + (j + 0.5) * side / self.n, side / self.n

    def move_to(self, i, j):
        x, y, s = self.screen(i, j)
        for attempt in range(6):
            xdo("mousemove", "--sync", int(round(x)), int(round(y)))
            p = wait_for(lambda: probe(self.app), UI_TIMEOUT / 2)
            if p is None:
                # No readout: the window was still being placed, or the pointer was already
                # there (no motion). From the view's corner in again.
                xdo("mousemove", "--sync", int(round(x)) - 20, int(round(y)) - 20)
                time.sleep(0.3)
                x, y, s = self.screen(i, j)
                continue
            if (p[2], p[3]) == (i, j):
                return p
            x += (i - p[2]) * s
            y += (j - p[3]) * s
        return probe(self.app)


def pressed(node):
    st = safe(node.getState)
    return st is not None and (st.contains(pyatspi.STATE_CHECKED) or st.contains(pyatspi.STATE_PRESSED))


def streak_voxel(orig, ref, k):
    """A soft-tissue voxel of slice k (-300..300 HU in the input, also its 3 x 3
    neighbourhood) far from metal where the correction changes the value most, also in that
    neighbourhood (so a pointer one pixel off still lands on a changed voxel): the streaks."""
    d = np.abs(ref[k] - orig[k])
    metal = orig[k] >= 3000
    soft = (orig[k] > -300) & (orig[k] < 300)
    near = np.zeros_like(metal)
    for dj in range(-3, 4):
        for di in range(-3, 4):
            near |= np.roll(np.roll(metal, dj, 0), di, 1)
    m = np.full(d.shape, np.inf)
    for dj in (-1, 0, 1):
        for di in (-1, 0, 1):
            m = np.minimum(m, np.roll(np.roll(d, dj, 0), di, 1))
            near |= ~np.roll(np.roll(soft, dj, 0), di, 1)
    m[near] = 0
    m[:4, :] = m[-4:, :] = m[:, :4] = m[:, -4:] = 0
    j, i = np.unravel_index(int(np.argmax(m)), m.shape)
    return int(i), int(j), float(m[j, i])


def open_menu_item(app, label):
    """The main menu (header bar), then its item label, clicked as a person would."""
    # GTK 4.8 names a menu button "GtkMenuButton"; its tooltip is the description.
    button = find(app.acc, lambda n: role(n) == "push button" and safe(lambda: n.description) == "Main menu")
    if button is None or not click_at(app, button):
        return False
    item = wait_for(lambda: find(app.acc, lambda n: role(n).endswith("menu item")
                                 and name(n).replace("_", "") == label and extents(n) is not None),
                    UI_TIMEOUT)
    if item is None:
        Tap.note("menu items: " + str([name(n) for n, _ in walk(app.acc) if role(n) in ("menu item", "check menu item", "radio menu item")][:40]))
        key("Escape")
        return False
    # The popover is a surface of its own: its items' window coordinates are not the main
    # window's, so the item is activated through AT-SPI, as a screen reader would.
    return bool(safe(lambda: item.queryAction().doAction(0), False))


def choose_folder(app, title, folder):
    """A folder chooser titled title: type folder, press its Export button."""
    dialog = wait_for(lambda: find(app.acc, lambda n: name(n) == title), 3 * UI_TIMEOUT)
    if dialog is None:
        return False
    time.sleep(0.5)
    xdo("type", "--delay", "20", folder)
    time.sleep(0.5)
    # GTK 4.8 names a button by its label, mnemonic and all, then the label again.
    accept = find(dialog, lambda n: role(n) == "push button" and name(n).replace("_", "").split()[:1] == ["Export"])
    if accept is not None:
        safe(lambda: accept.queryAction().doAction(0))
    else:
        key("Return")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--keep", help="keep the screenshots in this folder")
    args = ap.parse_args()
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="mm-gui-mar-") as tmp:
        shots = args.keep or tmp
        os.makedirs(shots, exist_ok=True)
        ph = os.path.join(tmp, "phantom")
        # Variant 1: a pelvis with implants and the streaks the phantom paints around them.
        run_cli(args.cli, "phantom", ph, "--size", str(SIZE), "--slices", str(SLICES), "--variant", "1")
        ct = os.path.join(ph, "ct")
        ref_dir, li_dir = os.path.join(tmp, "cli-nmar"), os.path.join(tmp, "cli-li")
        run_cli(args.cli, "mar", ct, "--out", ref_dir)
        run_cli(args.cli, "mar", ct, "--method", "li", "--out", li_dir)
        orig, zs, src = series(ct)
        ref, _, ref_ds = series(ref_dir)
        li, _, _ = series(li_dir)
        # GSettings in a key file of the test's XDG_CONFIG_HOME, so that f) can read the
        # method kept there.
        env = dict(os.environ, MM_TEST_SLOW_MAR_MS=str(SLOW_MS), GSETTINGS_BACKEND="keyfile")
        app = App(args.app, [ct], env=env, logdir=tmp, tag="mar")
        reopen = None
        try:
            reopen = run_app(tap, app, args, tmp, shots, ct, orig, zs, src, ref, ref_ds, li)
        finally:
            finish(tap, app, "mar")
            if tap.failed:
                tap.note(app.output()[-2000:])
        # After the first window is gone: a second start would hand the folder to it (one
        # instance per application ID).
        if reopen is not None:
            reopen_export(tap, args, tmp, *reopen)
    return tap.done()


def run_app(tap, app, args, tmp, shots, ct, orig, zs, src, ref, ref_ds, li):
    if not tap.ok(app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT),
                  "the app shows the phantom"):
        return
    img = view(app, "Axial")
    click_at(app, img, 0.5, 0.95)  # focus the window, as a person would (below the body)
    start = slice_label(app).group(0)

    # a) in the background, and cancelled
    key("ctrl+r")
    bar = wait_for(lambda: find(app.acc, lambda n: role(n) == "progress bar"
                                and 0 < n.queryValue().currentValue < 1), MAR_TIMEOUT, 0.1)
    tap.ok(bar is not None, "a) Ctrl+R: the progress bar shows the correction under way",
           f"{bar.queryValue().currentValue:.3f}" if bar else "")
    key("Page_Down")
    moved = wait_for(lambda: slice_label(app) and slice_label(app).group(0) != start, UI_TIMEOUT)
    still = find(app.acc, lambda n: role(n) == "progress bar" and 0 < n.queryValue().currentValue < 1)
    tap.ok(moved and still is not None and derived_label(app) is None,
           "a) ... and the window answers meanwhile: Page Down moves the slice while it runs",
           f"slice {slice_label(app).group(0) if slice_label(app) else None}, still running {still is not None}")
    key("Page_Up")
    wait_for(lambda: slice_label(app).group(0) == start, UI_TIMEOUT)
    key("Escape")
    toast = wait_for(lambda: label_matching(app, r"^Metal artifact reduction cancelled$"), UI_TIMEOUT)
    time.sleep(2 * SLOW_MS / 1000)
    tap.ok(toast is not None and derived_label(app) is None,
           "a) Escape cancels it: a toast says so, and no view shows a derived label",
           f"label {derived_label(app)!r}")

    # b) the corrected image, labelled
    key("ctrl+r")
    lab = wait_for(lambda: derived_label(app), MAR_TIMEOUT, 0.2)
    tap.ok(lab == NMAR_LABEL, f"b) Ctrl+R: the axial view says {NMAR_LABEL!r}", f"{lab!r}")
    key("v")  # three planes: every view says it
    labs = wait_for(lambda: [derived_label(app, p) for p in ("Axial", "Coronal", "Sagittal")]
                    if all(derived_label(app, p) for p in ("Coronal", "Sagittal")) else None, UI_TIMEOUT)
    tap.ok(labs and all(t == NMAR_LABEL for t in labs), "b) ... and so do the coronal and sagittal views", f"{labs}")
    frame = app.frames()[0] if app.frames() else None
    tap.ok(frame is not None and "MAR (NMAR) — derived" in name(frame),
           "b) the window title says it too", name(frame) if frame else "no frame")
    sub = label_matching(app, r"·.*MAR \(NMAR\) — derived")
    tap.ok(sub is not None, "b) ... and the header bar's subtitle")
    shot = os.path.join(shots, "mar-corrected.png")
    subprocess.run(["import", "-window", "root", shot], timeout=60, capture_output=True)
    amber = count_amber(shot)
    tap.ok(amber > 200, "b) the screenshot shows the amber label boxes", f"{amber} amber pixels ({shot})")
    key("v")  # back to one view
    wait_for(lambda: extents(view(app, "Axial")) and extents(view(app, "Axial"))[2] > 500, UI_TIMEOUT)

    shown = slice_label(app)
    k_app = int(shown.group(2)) - 1
    img = view(app, "Axial")
    ptr = Pointer(app, img, SIZE)
    first = ptr.move_to(SIZE // 2, SIZE // 2)
    if not tap.ok(first is not None, "b) the pointer over the image shows the HU readout"):
        return
    k = int(np.argmin([abs(z - first[1]) for z in zs]))  # the pydicom slice the view shows
    i, j, change = streak_voxel(orig, ref, k)
    tap.ok(change >= 20, "b) the CLI's NMAR changes a soft-tissue streak of the slice shown by 20 HU or more",
           f"{change:.0f} HU at ({i}, {j})")
    tap.note(f"axial slice {k_app + 1} shown (z {first[1]} mm, pydicom slice {k}); streak voxel ({i}, {j}): "
             f"input {orig[k, j, i]:.0f} HU, metalmark-cli mar {ref[k, j, i]:.0f} HU (3 x 3 change >= {change:.0f} HU)")
    p = ptr.move_to(i, j)
    tap.ok(p is not None and (p[2], p[3]) == (i, j), f"b) the pointer reaches the streak voxel ({i}, {j})", f"{p}")
    if p is None:
        return
    pi, pj = p[2], p[3]
    corrected = p[0]
    tap.ok(abs(corrected - ref[k, pj, pi]) <= 1,
           "b) the HU under the pointer is the corrected value of metalmark-cli mar (within 1 HU)",
           f"shown {corrected}, cli {ref[k, pj, pi]:.0f}, input {orig[k, pj, pi]:.0f}")

    # c) the original, and back
    key("x")
    gone = wait_for(lambda: derived_label(app) is None, UI_TIMEOUT)
    q = wait_for(lambda: probe(app) if probe(app) and probe(app)[0] != corrected else None, UI_TIMEOUT)
    tap.ok(gone and q is not None and (q[2], q[3]) == (pi, pj) and q[0] == round(orig[k, pj, pi]),
           "c) X: the label goes and the HU under the pointer is the input's (pydicom)",
           f"{q}, input {orig[k, pj, pi]:.0f}, corrected {corrected}")
    tap.ok(q is not None and q[0] != corrected and slice_label(app).group(0) == shown.group(0),
           "c) ... which differs from the corrected value, on the same slice",
           f"{slice_label(app).group(0)} vs {shown.group(0)}")
    frame = app.frames()[0] if app.frames() else None
    tap.ok(frame is not None and "derived" not in name(frame), "c) ... and the title no longer says derived",
           name(frame) if frame else "")
    shot = os.path.join(shots, "mar-original.png")
    subprocess.run(["import", "-window", "root", shot], timeout=60, capture_output=True)
    amber = count_amber(shot)
    tap.ok(amber < 50, "c) ... and the screenshot has no amber label box", f"{amber} amber pixels ({shot})")
    # GTK 4.8 gives a toggle button the role "push button" and says pressed as "checked".
    button = find(app.acc, lambda n: role(n) in ("toggle button", "push button") and name(n) == "MAR")
    tap.ok(button is not None and not pressed(button), "c) the header bar's MAR button is there, released",
           f"{button is not None}")
    if button is not None:
        click_at(app, button)
    back = wait_for(lambda: derived_label(app) == NMAR_LABEL, UI_TIMEOUT)
    tap.ok(back and button is not None and pressed(button),
           "c) clicking it shows the corrected image again (label back, button pressed)")
    r = ptr.move_to(pi, pj)
    tap.ok(r is not None and r[0] == corrected, "c) ... with the corrected HU under the pointer", f"{r}")

    # d) export, from the menu
    out = os.path.join(tmp, "export")
    os.makedirs(out)
    ok = open_menu_item(app, "Export Corrected Series (DICOM)…")
    tap.ok(ok, "d) the main menu offers Export Corrected Series (DICOM)…")
    done = choose_folder(app, "Export the Corrected Series into a Folder", out) if ok else False
    toast = wait_for(lambda: label_matching(app, r"^Exported the corrected series to (.*)$"), 60) if done else None
    tap.ok(toast is not None and toast.group(1) == out, "d) a toast says where the series went",
           toast.group(0) if toast else "no toast")
    check_export(tap, out, src, ref, ref_ds, "d)")
    # Again into the same folder, which is not empty now: a subfolder of its own.
    ok = open_menu_item(app, "Export Corrected Series (DICOM)…")
    done = choose_folder(app, "Export the Corrected Series into a Folder", out) if ok else False
    sub_dir = os.path.join(out, "MAR-NMAR")
    toast = wait_for(lambda: label_matching(app, r"^Exported the corrected series to " + re.escape(sub_dir) + "$"), 60) if done else None
    tap.ok(toast is not None and len(glob.glob(os.path.join(sub_dir, "*.dcm"))) == SLICES
           and len(glob.glob(os.path.join(out, "*.dcm"))) == SLICES,
           "d) exported into a folder that is not empty: into a new subfolder MAR-NMAR, nothing mixed",
           toast.group(0) if toast else "no toast")

    # d2) the mask's export (Ctrl+M, Ctrl+E) while the corrected image is shown writes the
    # series as read as ct.nii.gz, never the derived values (nibabel against pydicom).
    mask_out = os.path.join(tmp, "mask-export")
    os.makedirs(mask_out)
    click_at(app, img, 0.5, 0.95)
    key("ctrl+m")
    time.sleep(1)
    key("ctrl+e")
    done = choose_folder(app, "Export the Mask into a Folder", mask_out)
    nii = os.path.join(mask_out, "ct.nii.gz")
    got = wait_for(lambda: os.path.exists(nii) and label_matching(app, r"^Exported to "), 120) if done else None
    try:
        import nibabel
        data = np.asarray(nibabel.load(nii).get_fdata()) if got else None
    except Exception as e:  # noqa: BLE001 - reported below
        data = None
        Tap.note("ct.nii.gz: %s" % e)
    tap.ok(data is not None and data.size == orig.size
           and np.array_equal(np.sort(np.rint(data).ravel()), np.sort(np.rint(orig).ravel())),
           "d2) Ctrl+E with the corrected image shown: ct.nii.gz holds the series as read "
           "(its values equal pydicom's of the input), not the derived image",
           "no ct.nii.gz" if data is None else "values differ")

    # f) LI-MAR from the menu
    ok = open_menu_item(app, "Method: LI-MAR (Linear Interpolation)")
    tap.ok(ok, "f) the main menu offers Method: LI-MAR")
    click_at(app, img, 0.5, 0.95)
    key("ctrl+r")
    lab = wait_for(lambda: derived_label(app) == LI_LABEL, MAR_TIMEOUT, 0.2)
    tap.ok(lab, f"f) Ctrl+R: the view says {LI_LABEL!r}", f"{derived_label(app)!r}")
    r = ptr.move_to(pi, pj)
    tap.ok(r is not None and abs(r[0] - li[k, pj, pi]) <= 1,
           "f) ... and the HU under the pointer is metalmark-cli mar --method li's (within 1 HU)",
           f"{r}, cli li {li[k, pj, pi]:.0f}, nmar {ref[k, pj, pi]:.0f}")
    # The method chosen is kept for the next session (GSettings mar-method).
    kf = os.path.join(os.environ.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config")),
                      "glib-2.0", "settings", "keyfile")

    def kept():
        return os.path.exists(kf) and "mar-method='li'" in open(kf).read()
    tap.ok(wait_for(kept, 15, 0.2), "f) the method chosen is kept in GSettings (mar-method='li')",
           open(kf).read()[:400] if os.path.exists(kf) else "no key file " + kf)

    # e) the exported series opens again
    try:
        info = json.loads(run_cli(args.cli, "info", "--json", out))
    except (RuntimeError, ValueError) as e:
        info = {"error": str(e)}
    tap.ok(info.get("unit") == "HU" and not info.get("not_a_ct_volume")
           and not any("not a CT" in w for w in info.get("warnings", []))
           and info.get("series_description") == "NMAR (Metalmark)",
           "e) metalmark-cli info: the exported series is a CT volume in HU, described NMAR (Metalmark)",
           json.dumps({k: info.get(k) for k in ("unit", "not_a_ct_volume", "series_description", "warnings")}))
    return sub_dir, ref, k, pi, pj


def reopen_export(tap, args, tmp, sub_dir, ref, k, pi, pj):
    """The second export (alone in its subfolder; the first one's folder holds both)."""
    # The same key file as the first session's: the method chosen there (LI) must come back.
    again = App(args.app, [sub_dir], env=dict(os.environ, GSETTINGS_BACKEND="keyfile"), logdir=tmp,
                tag="mar-reopen")
    try:
        shown2 = again.find_accessible() is not None and wait_for(lambda: slice_label(again), START_TIMEOUT)
        frame = wait_for(lambda: again.frames()[0], UI_TIMEOUT) if shown2 else None
        tap.ok(frame is not None and "NMAR (Metalmark)" in name(frame),
               "e) the app opens the exported series (its title names NMAR (Metalmark))",
               name(frame) if frame else "")
        if frame is not None:
            img2 = view(again, "Axial")
            click_at(again, img2, 0.5, 0.95)
            p2 = Pointer(again, img2, SIZE).move_to(pi, pj)
            tap.ok(p2 is not None and abs(p2[0] - ref[k, pj, pi]) <= 1,
                   "e) ... and the HU under the pointer is the corrected value", f"{p2}")
            bad = [name(n) for n, _ in walk(again.acc) if "not a CT" in name(n)]
            tap.ok(not bad, "e) ... and nowhere says it is not a CT volume", "; ".join(bad)[:300])
            key("ctrl+r")
            lab = wait_for(lambda: derived_label(again) in (LI_LABEL, NMAR_LABEL), MAR_TIMEOUT, 0.2)
            tap.ok(lab and derived_label(again) == LI_LABEL,
                   f"e) the method chosen in the first session comes back: Ctrl+R says {LI_LABEL!r}",
                   f"{derived_label(again)!r}")
    finally:
        finish(tap, again, "e) the reopened series")


def count_amber(png):
    """Pixels of the derived label's amber box (mm-slice-overlay.c: rgba 0.70 0.33 0 0.9
    over the image) in a screenshot, counted with ImageMagick."""
    try:
        p = subprocess.run(["convert", png, "-depth", "8", "txt:-"], capture_output=True, text=True,
                           timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    n = 0
    for line in p.stdout.splitlines()[1:]:
        m = re.search(r"\((\d+),(\d+),(\d+)", line)
        if m:
            r, g, b = (int(v) for v in m.groups())
            if 150 <= r <= 200 and 65 <= g <= 110 and b <= 40:
                n += 1
    return n


def check_export(tap, out, src, ref, ref_ds, tag):
    files = glob.glob(os.path.join(out, "*.dcm"))
    if not tap.ok(len(files) == len(src), f"{tag} {len(src)} files written", f"{len(files)}"):
        return
    hu, _, ds = series(out)
    uids = {d.SeriesInstanceUID for d in ds}
    tap.ok(len(uids) == 1 and src[0].SeriesInstanceUID not in uids and ref_ds[0].SeriesInstanceUID not in uids,
           f"{tag} one new Series Instance UID (not the input's, not the CLI run's)", f"{uids}")
    tap.ok(all("DERIVED" in list(d.ImageType) for d in ds), f"{tag} Image Type contains DERIVED",
           f"{list(ds[0].ImageType)}")
    tap.ok(all(d.SeriesDescription == "NMAR (Metalmark)" for d in ds)
           and "NMAR" in str(ds[0].get("DerivationDescription", "")),
           f"{tag} the description names the method", f"{ds[0].SeriesDescription!r}, {ds[0].get('DerivationDescription')!r}")
    tap.ok(all(d.StudyInstanceUID == src[0].StudyInstanceUID for d in ds),
           f"{tag} the input's study")
    diff = float(np.max(np.abs(hu - ref))) if hu.shape == ref.shape else None
    tap.ok(diff is not None and diff <= 1, f"{tag} pixels equal metalmark-cli mar's for the same input (within 1 HU)",
           f"max |app - cli| {diff}")


if __name__ == "__main__":
    sys.exit(main())
