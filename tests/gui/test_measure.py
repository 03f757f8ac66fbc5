#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measurements and ROI statistics in the app (issue 13), driven with the pointer and keys
under a window manager, read back through AT-SPI and checked against truths computed here
from the DICOM files (pydicom, numpy) and the phantom's geometry:

  a) D (Distance), a drag along the centre row across the phantom's body: the length the
     panel shows equals the body's width 2 x 0.8 R (mm-phantom.c, R = half the field of view)
     within the pointer's placement (2 screen pixels at each end, in mm) and equals, to its
     printed decimals, the length of the points kept in measurements.json (hypot of their
     differences times the pixel spacing read by pydicom).
  b) R (Rectangle), a drag inside the body crossing the soft tissue: mean, SD, min, max and
     the pixel count shown equal numpy's on the pixels whose centres lie inside the kept
     corners, of the HU image of that slice read by pydicom.
  c) S (Pointer), the distance's end handle dragged elsewhere: the kept point moved to where
     the pointer went, and the row shows the new length.
  d) the rectangle selected by a click on its edge, Delete: gone from the panel and the file.
  e) Ctrl+Q, the app started again on the series: the same rows (the distance) are shown.
  f) Export CSV… with a path typed into the chooser: the file's rows are the kept items with
     the figures shown.
Screenshots of the window go to --keep (or the temporary folder) for a person to look at.

Usage: test_measure.py --app APP --cli CLI [--keep DIR]; run through tests/gui/run-under-xvfb
with MM_TEST_WM=openbox. TAP on stdout.
"""

import argparse
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap, children, find, name, role, safe, wait_for, walk  # noqa: E402

try:
    import pyatspi
except ImportError:
    print("1..0 # SKIP pyatspi is not installed (python3-pyatspi, for /usr/bin/python3)")
    sys.exit(0)
try:
    import numpy as np
    import pydicom
except ImportError as e:
    print(f"1..0 # SKIP {e.name} is not installed (python3-numpy, python3-pydicom)")
    sys.exit(0)
if shutil.which("xdotool") is None:
    print("1..0 # SKIP xdotool is not installed (xdotool): the pointer and keys are sent with it")
    sys.exit(0)

from test_atspi import START_TIMEOUT, App, finish, slice_label  # noqa: E402

UI_TIMEOUT = 20
EXIT_TIMEOUT = 30
MOVE_PAUSE = 0.08
SIZE, SLICES = 128, 12
ROW_RE = re.compile(r"^(\d+) · (\w+) · (\w+) (\d+) · (.*)$")


def xdo(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True, timeout=30,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def key(k):
    xdo("key", "--clearmodifiers", k)


def app_window(app):
    p = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(app.proc.pid)],
                       capture_output=True, text=True, timeout=30)
    wins = p.stdout.split()
    return wins[-1] if wins else None


def extents(node):
    e = safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    return None if e is None or e.width <= 0 else (e.x, e.y, e.width, e.height)


def screenshot(app, path):
    win = app_window(app)
    if win and shutil.which("import"):
        subprocess.run(["import", "-window", win, path], timeout=60, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


class View:
    """The axial view's place in the window (AT-SPI) and its fit (zoom fit, no pan: the
    mapping mm-render.c's mm_viewport_fit gives, recomputed here)."""

    def __init__(self, app, img, pw, ph, dims):
        self.win = app_window(app)
        self.x, self.y, self.w, self.h = extents(img)
        mw, mh = dims[0] * pw, dims[1] * ph
        self.s = min(self.w / mw, self.h / mh)  # screen px per mm
        self.ox, self.oy = (self.w - mw * self.s) / 2, (self.h - mh * self.s) / 2
        self.pw, self.ph = pw, ph

        # Screen = x0 + u * sx: from the fit until calibrate() has seen where the app put a
        # drag's ends (the X window and AT-SPI's window coordinates differ by the frame).
        self.x0, self.y0 = self.x + self.ox, self.y + self.oy
        self.sx, self.sy = pw * self.s, ph * self.s

    def calibrate(self, a, b, p):
        """The mapping from screen points a and b whose plane points the app kept as p."""
        self.sx = (b[0] - a[0]) / (p[2] - p[0])
        self.sy = (b[1] - a[1]) / (p[3] - p[1])
        self.x0, self.y0 = a[0] - p[0] * self.sx, a[1] - p[1] * self.sy

    def to_screen(self, u, v):
        return (int(round(self.x0 + u * self.sx)), int(round(self.y0 + v * self.sy)))

    def to_plane(self, X, Y):
        return ((X - self.x0) / self.sx, (Y - self.y0) / self.sy)

    def move(self, X, Y):
        xdo("mousemove", "--window", self.win, X, Y)
        time.sleep(MOVE_PAUSE)

    def drag(self, a, b, steps=6):
        self.move(*a)
        xdo("mousedown", 1)
        for t in range(1, steps + 1):
            self.move(round(a[0] + (b[0] - a[0]) * t / steps), round(a[1] + (b[1] - a[1]) * t / steps))
        time.sleep(MOVE_PAUSE)
        xdo("mouseup", 1)

    def click(self, p):
        self.move(*p)
        xdo("click", 1)

    def stroke(self, pts):
        self.move(*pts[0])
        xdo("mousedown", 1)
        for q in pts[1:]:
            self.move(*q)
        time.sleep(MOVE_PAUSE)
        xdo("mouseup", 1)


def click_field(app, view, node):
    """Scroll the side panel (wheel over its left margin, where no field lies) until node is
    in sight, then click the text part of the field (left of a spin button's - and +).
    Window coordinates are shifted as calibrate() found (the frame around the window)."""
    dx, dy = view.x0 - (view.x + view.ox), view.y0 - (view.y + view.oy)
    panes = sorted((e for e in (extents(n) for n, _ in walk(app.acc) if role(n) == "scroll pane")
                    if e is not None and e[0] > 300), key=lambda e: -e[3])
    if not panes:
        return False
    px, py, pw_, ph_ = panes[0]
    for _ in range(40):
        e = extents(node)
        if e is not None and py + 10 <= e[1] and e[1] + e[3] <= py + ph_ - 10:
            xdo("mousemove", "--window", view.win, round(e[0] + 0.2 * e[2] + dx), round(e[1] + e[3] / 2 + dy))
            time.sleep(0.1)
            xdo("click", 1)
            return True
        xdo("mousemove", "--window", view.win, round(px + 4 + dx), round(py + ph_ / 2 + dy))
        xdo("click", 4 if e is None or e[1] < py + 10 else 5)
        time.sleep(0.1)
    return False


def rows(app):
    box = find(app.acc, lambda n: name(n) == "Measurements" and role(n) in ("list box", "list"))
    if box is None:
        return []
    return [name(c) for c in children(box) if ROW_RE.match(name(c))]


def wait_rows(app, pred):
    last = [None]

    def look():
        r = rows(app)
        last[0] = r
        return r if pred(r) else None
    got = wait_for(look, UI_TIMEOUT, 0.1)
    return got if got is not None else last[0]


def kept(path):
    try:
        with open(path) as f:
            return json.load(f)["items"]
    except (OSError, ValueError, KeyError):
        return None


def wait_kept(path, pred):
    got = wait_for(lambda: (lambda k: k if k is not None and pred(k) else None)(kept(path)), UI_TIMEOUT, 0.1)
    return got if got is not None else kept(path)


def hu_volume(ct):
    """HU[k][j][i], k along the normal (the app's slice order), and the pixel spacing."""
    sl = []
    for fn in os.listdir(ct):
        ds = pydicom.dcmread(os.path.join(ct, fn))
        hu = ds.pixel_array.astype(np.float64) * float(getattr(ds, "RescaleSlope", 1)) + \
            float(getattr(ds, "RescaleIntercept", 0))
        o = [float(x) for x in ds.ImageOrientationPatient]
        z = float(np.dot(np.cross(o[:3], o[3:]), [float(x) for x in ds.ImagePositionPatient]))
        sl.append((z, hu, [float(x) for x in ds.PixelSpacing]))
    sl.sort(key=lambda s: s[0])
    # PixelSpacing is (row spacing, column spacing): a plane pixel is column x row.
    return np.stack([s[1] for s in sl]), sl[0][2][1], sl[0][2][0]


def angle_deg(p, pw, ph):
    a = np.array([(p[0] - p[2]) * pw, (p[1] - p[3]) * ph])
    c = np.array([(p[4] - p[2]) * pw, (p[5] - p[3]) * ph])
    return math.degrees(math.atan2(abs(a[0] * c[1] - a[1] * c[0]), float(a @ c)))


def ellipse_inside(shape, p):
    """Pixel centres inside the ellipse inscribed in the box p (corners)."""
    jj, ii = np.mgrid[0:shape[0], 0:shape[1]]
    mx, my = (p[0] + p[2]) / 2, (p[1] + p[3]) / 2
    a, b = abs(p[2] - p[0]) / 2, abs(p[3] - p[1]) / 2
    return ((ii + 0.5 - mx) / a) ** 2 + ((jj + 0.5 - my) / b) ** 2 <= 1


def polygon_inside(shape, p):
    """Pixel centres inside the polygon p (u, v pairs) by the even-odd rule with the half-open
    crossing test (an edge counts when exactly one end lies below the centre's row)."""
    jj, ii = np.mgrid[0:shape[0], 0:shape[1]]
    cx, cy = ii + 0.5, jj + 0.5
    xs, ys = p[0::2], p[1::2]
    inside = np.zeros(shape, bool)
    n = len(xs)
    for k in range(n):
        x0, y0, x1, y1 = xs[k], ys[k], xs[(k + 1) % n], ys[(k + 1) % n]
        crosses = (y0 > cy) != (y1 > cy)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (cx < xc)
    return inside


def pixel_truth(img, inside):
    px = img[inside]
    return {"count": int(px.size), "mean": float(px.mean()), "sd": float(px.std()),
            "median": float(np.median(px)), "min": float(px.min()), "max": float(px.max())}


def roi_matches(row, truth, pw, ph):
    m = ROI_RE.search(row or "")
    if m is None or truth is None:
        return False, None
    got = {"mean": float(m.group(1)), "sd": float(m.group(2)), "median": float(m.group(3)),
           "min": float(m.group(4)), "max": float(m.group(5)), "count": int(m.group(6)),
           "area": float(m.group(7))}
    good = (got["count"] == truth["count"] and abs(got["mean"] - truth["mean"]) <= 0.005 + 1e-9
            and abs(got["sd"] - truth["sd"]) <= 0.005 + 1e-9 and abs(got["median"] - truth["median"]) <= 0.05 + 1e-9
            and abs(got["min"] - truth["min"]) <= 0.5 and abs(got["max"] - truth["max"]) <= 0.5
            and abs(got["area"] - truth["count"] * pw * ph) <= 0.005 + 1e-9)
    return good, got


def length_mm(p, pw, ph):
    return math.hypot((p[2] - p[0]) * pw, (p[3] - p[1]) * ph)


def rect_truth(img, p):
    """numpy's figures on the pixels whose centres lie inside the rectangle p (corners)."""
    u0, u1 = sorted((p[0], p[2]))
    v0, v1 = sorted((p[1], p[3]))
    jj, ii = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    inside = (ii + 0.5 >= u0) & (ii + 0.5 <= u1) & (jj + 0.5 >= v0) & (jj + 0.5 <= v1)
    px = img[inside]
    return {"count": int(px.size), "mean": float(px.mean()), "sd": float(px.std()),
            "median": float(np.median(px)), "min": float(px.min()), "max": float(px.max())}


ROI_RE = re.compile(r"mean (-?\d+\.\d+) HU · SD (\d+\.\d+) · median (-?\d+\.\d) · min (-?\d+) · "
                    r"max (-?\d+) · (\d+) pixels · (\d+\.\d+) mm²")


def start(tap, args, ct, tag):
    app = App(args.app, [ct], env=dict(os.environ), logdir=args.logdir, tag=tag)
    ok = app.find_accessible() is not None and wait_for(lambda: slice_label(app), START_TIMEOUT)
    tap.ok(ok, f"{tag}: the app shows the series")
    img = find(app.acc, lambda n: role(n) == "image" and name(n) == "Axial view") if ok else None
    return app, img


def quit_app(tap, app, tag):
    key("ctrl+q")
    try:
        status = app.proc.wait(EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        status = None
    tap.ok(status == 0, f"{tag}: Ctrl+Q ends the app with status 0", f"status {status}")


def run(tap, args, tmp):
    ph_dir = os.path.join(tmp, "phantom")
    subprocess.run([args.cli, "phantom", ph_dir, "--size", str(SIZE), "--slices", str(SLICES),
                    "--seed", "5"], check=True, stdout=subprocess.DEVNULL, timeout=120)
    ct = os.path.join(ph_dir, "ct")
    store = os.path.join(ct + ".metalmark", "measurements.json")
    hu, pw, ph = hu_volume(ct)
    dims = (hu.shape[2], hu.shape[1])
    R = 0.5 * dims[0] * pw
    body = 2 * 0.8 * R
    shots = args.keep or tmp

    app, img = start(tap, args, ct, "first run")
    try:
        if img is None:
            return
        view = View(app, img, pw, ph, dims)
        tap.note(f"axial view at {view.x},{view.y} {view.w}x{view.h}, {view.s:.3f} screen px/mm")
        # The side panel keeps its 340 pixels (ui/mm-window.ui): the measurements' rows wrap
        # instead of widening it (seen: an unwrapped row widened it and squeezed the tools).
        panes = sorted((e for e in (extents(n) for n, _ in walk(app.acc) if role(n) == "scroll pane")
                        if e is not None and e[0] > 300), key=lambda e: -e[3])
        tap.ok(panes and panes[0][2] <= 341, "the measurements panel leaves the side panel at its 340 pixels",
               f"side panel {panes[:1]}")
        view.click(view.to_screen(dims[0] / 2, dims[1] * 0.9))  # focus, as a person would

        # Calibration: a distance drawn diagonally shows where the app puts the pointer's
        # positions; Delete right after drawing removes it (it is selected).
        key("d")
        ca, cb = view.to_screen(20, 20), view.to_screen(100, 90)
        view.drag(ca, cb)
        items = wait_kept(store, lambda k: len(k) == 1)
        tap.ok(items is not None and len(items) == 1, "D and a drag draw a distance, kept at once",
               f"{items}")
        if not items:
            return
        view.calibrate(ca, cb, items[0]["points"])
        tap.note(f"calibrated: screen = ({view.x0:.2f} + u x {view.sx:.4f}, {view.y0:.2f} + v x {view.sy:.4f}); "
                 f"the fit gave ({view.x + view.ox:.2f}, {view.y + view.oy:.2f}), scale {pw * view.s:.4f}")
        tap.ok(abs(view.sx - pw * view.s) < 0.02 * view.sx and abs(view.sy - ph * view.s) < 0.02 * view.sy,
               "the app's scale is the fit's (zoom fit: the whole plane in the view)",
               f"{view.sx} {view.sy} vs {pw * view.s} {ph * view.s}")
        key("Delete")
        r = wait_rows(app, lambda r: len(r) == 0)
        tap.ok(r == [] and wait_for(lambda: not os.path.exists(store), UI_TIMEOUT),
               "Delete right after drawing removes it (panel empty, no file kept)", f"rows {r}")

        # a) distance across the body along the centre row
        c = dims[0] / 2
        a, b = view.to_screen(c - 0.8 * dims[0] / 2, dims[1] / 2), view.to_screen(c + 0.8 * dims[0] / 2, dims[1] / 2)
        view.drag(a, b)
        r = wait_rows(app, lambda r: len(r) == 1)
        items = wait_kept(store, lambda k: len(k) == 1)
        m = ROW_RE.match(r[0]) if r else None
        shown = float(re.match(r"(\d+\.\d+) mm", m.group(5)).group(1)) if m and re.match(r"\d+\.\d+ mm", m.group(5)) else None
        tol = 2 * 2 / view.s  # two screen pixels at each end
        tap.ok(shown is not None and abs(shown - body) <= tol,
               f"a) the distance across the body reads its width 2 x 0.8 R = {body:.2f} mm within {tol:.2f} mm",
               f"rows {r}")
        got = length_mm(items[0]["points"], pw, ph) if items else None
        tap.ok(shown is not None and got is not None and abs(shown - got) <= 0.005 + 1e-9,
               "a) ... and equals the length of the kept points (hypot x spacing) to 2 decimals",
               f"shown {shown}, kept {items}")
        depth = items[0]["depth"] if items else None
        screenshot(app, os.path.join(shots, "measure-distance.png"))

        # b) rectangle ROI inside the body, across tissue and whatever lies there
        key("r")
        ra, rb = view.to_screen(c - 30, dims[1] / 2 - 20), view.to_screen(c + 5, dims[1] / 2 + 12)
        view.drag(ra, rb)
        r = wait_rows(app, lambda r: len(r) == 2)
        items = wait_kept(store, lambda k: len(k) == 2)
        rm = ROI_RE.search(r[1]) if r and len(r) == 2 else None
        truth = rect_truth(hu[items[1]["depth"]], items[1]["points"]) if items and len(items) == 2 else None
        if rm and truth:
            got = {"mean": float(rm.group(1)), "sd": float(rm.group(2)), "median": float(rm.group(3)),
                   "min": float(rm.group(4)), "max": float(rm.group(5)), "count": int(rm.group(6))}
            good = (got["count"] == truth["count"] and abs(got["mean"] - truth["mean"]) <= 0.005 + 1e-9
                    and abs(got["sd"] - truth["sd"]) <= 0.005 + 1e-9
                    and abs(got["median"] - truth["median"]) <= 0.05 + 1e-9
                    and abs(got["min"] - truth["min"]) <= 0.5 and abs(got["max"] - truth["max"]) <= 0.5)
            area_ok = abs(float(rm.group(7)) - truth["count"] * pw * ph) <= 0.005 + 1e-9
        else:
            got, good, area_ok = None, False, False
        tap.ok(good, "b) the rectangle's count, mean, SD, median, min, max equal numpy's on the pixels "
               "(centre inside the kept corners) read by pydicom", f"shown {got}, numpy {truth}, rows {r}")
        tap.ok(area_ok, "b) ... and its area is count x pixel area", f"{rm.group(7) if rm else None}")
        tap.ok(truth is not None and truth["sd"] > 1, "b) the rectangle holds more than one HU value "
               "(the check can fail)", f"{truth}")
        screenshot(app, os.path.join(shots, "measure-rectangle.png"))

        # c) Pointer, the distance's end dragged 10 pixels up and 8 to the left
        key("s")
        end = view.to_screen(*items[0]["points"][2:4])
        to = (end[0] - 8, end[1] - 10)
        view.drag(end, to)
        items2 = wait_kept(store, lambda k: len(k) == 2 and k[0]["points"] != items[0]["points"])
        want = view.to_plane(*to)
        p = items2[0]["points"] if items2 else None
        moved = p is not None and abs(p[2] - want[0]) <= 1.5 / view.s / pw and abs(p[3] - want[1]) <= 1.5 / view.s / ph
        tap.ok(moved and p[:2] == items[0]["points"][:2],
               "c) dragging the distance's end moves that end to the pointer, the other stays",
               f"before {items[0]['points']}, after {p}, pointer at plane {want}")
        r = wait_rows(app, lambda r: len(r) == 2 and p is not None and f"{length_mm(p, pw, ph):.2f} mm" in r[0])
        tap.ok(p is not None and r and f"{length_mm(p, pw, ph):.2f} mm" in r[0],
               "c) ... and the row shows the new length", f"rows {r}")

        # d) the rectangle selected by a click on its top edge, Delete
        rp = items2[1]["points"] if items2 else [0, 0, 0, 0]
        edge = view.to_screen((rp[0] + rp[2]) / 2, min(rp[1], rp[3]))
        view.click(edge)
        time.sleep(0.3)
        key("Delete")
        r = wait_rows(app, lambda r: len(r) == 1)
        items3 = wait_kept(store, lambda k: len(k) == 1)
        tap.ok(r is not None and len(r) == 1 and r[0].split(" · ")[1] == "Distance"
               and items3 is not None and len(items3) == 1 and items3[0]["kind"] == "distance",
               "d) a click on the rectangle and Delete remove it from the panel and the file", f"rows {r}, kept {items3}")

        # g) Angle: the first arm dragged to the vertex, the second arm's end clicked; a right
        # angle on screen (square pixels here).
        key("a")
        vx = view.to_screen(c, dims[1] * 0.3)
        view.drag((vx[0] + 150, vx[1]), vx)
        time.sleep(0.3)
        view.click((vx[0], vx[1] + 120))
        items = wait_kept(store, lambda k: len(k) == 2 and k[1]["kind"] == "angle"
                          and k[1]["points"][4:] != k[1]["points"][2:4])
        r = wait_rows(app, lambda r: len(r) == 2)
        p = items[1]["points"] if items and len(items) == 2 else None
        want = angle_deg(p, pw, ph) if p else None
        shown = re.search(r"· (\d+\.\d\d)°$", r[1]) if r and len(r) == 2 else None
        tap.ok(shown is not None and abs(float(shown.group(1)) - want) <= 0.005 + 1e-9 and abs(want - 90) < 1,
               "g) A, a drag and a click draw an angle: the row shows the angle of the kept points (90° as drawn)",
               f"rows {r}, kept {p}, numpy {want}")

        # h) Ellipse cut by the image's left border (the view shows black beyond it)
        key("o")
        ea, eb = view.to_screen(-8, dims[1] * 0.35), view.to_screen(30, dims[1] * 0.65)
        view.drag(ea, eb)
        items = wait_kept(store, lambda k: len(k) == 3)
        r = wait_rows(app, lambda r: len(r) == 3)
        p = items[2]["points"] if items and len(items) == 3 else None
        truth = pixel_truth(hu[items[2]["depth"]], ellipse_inside(hu.shape[1:], p)) if p else None
        good, got = roi_matches(r[2] if r and len(r) == 3 else None, truth, pw, ph)
        tap.ok(good and p[0] < 0, "h) an ellipse cut by the image's border: count, mean, SD, median, min, max, "
               "area equal numpy's on the pixels inside (centre rule)", f"shown {got}, numpy {truth}, kept {p}")

        # i) Freehand: a triangle drawn through 15 pointer positions, closed by the app (GTK
        # merges motion events under load: the kept polygon may have fewer points; the figures
        # are checked on the points kept)
        key("f")
        A, B, C = (c - 25, dims[1] * 0.75), (c + 20, dims[1] * 0.72), (c, dims[1] * 0.45)
        pts = []
        for P, Q in ((A, B), (B, C), (C, A)):
            for t in range(5):
                pts.append(view.to_screen(P[0] + (Q[0] - P[0]) * t / 5, P[1] + (Q[1] - P[1]) * t / 5))
        view.stroke(pts)
        items = wait_kept(store, lambda k: len(k) == 4)
        r = wait_rows(app, lambda r: len(r) == 4)
        p = items[3]["points"] if items and len(items) == 4 else None
        truth = pixel_truth(hu[items[3]["depth"]], polygon_inside(hu.shape[1:], p)) if p else None
        good, got = roi_matches(r[3] if r and len(r) == 4 else None, truth, pw, ph)
        tap.ok(good and len(p) >= 2 * 3, "i) a freehand ROI: its figures equal numpy's on the pixels inside the kept "
               "polygon (even-odd, centre rule)", f"shown {got}, numpy {truth}, {len(p or []) // 2} points")

        # j) Profile: a line, its plot shown while it is selected
        key("p")
        view.drag(view.to_screen(c - 40, dims[1] * 0.6), view.to_screen(c + 40, dims[1] * 0.6))
        items = wait_kept(store, lambda k: len(k) == 5)
        r = wait_rows(app, lambda r: len(r) == 5)
        plot = find(app.acc, lambda n: name(n) == "HU profile")
        showing = wait_for(lambda: safe(lambda: plot.getState().contains(pyatspi.STATE_VISIBLE)), UI_TIMEOUT) if plot else None
        p = items[4]["points"] if items and len(items) == 5 else None
        tap.ok(bool(showing) and p is not None and r and f"{length_mm(p, pw, ph):.2f} mm" in r[4],
               "j) P and a drag draw a profile: its length is listed and its HU plot is shown",
               f"rows {r}, plot {plot}, visible {showing}")
        screenshot(app, os.path.join(shots, "measure-all.png"))

        # Delete typed into a number field edits the field; the selected profile stays.
        spin = find(app.acc, lambda n: name(n) == "Mask component" and role(n) == "spin button")
        focused = spin is not None and click_field(app, view, spin) and \
            wait_for(lambda: safe(lambda: spin.getState().contains(pyatspi.STATE_FOCUSED)), UI_TIMEOUT)
        key("Delete")
        time.sleep(1.5)  # a deletion would be written at once
        tap.ok(focused and len(rows(app)) == 5 and len(kept(store) or []) == 5,
               "Delete with the focus in a number field leaves the selected measurement",
               f"focused {focused}, rows {len(rows(app))}, kept {len(kept(store) or [])}")
        view.click(view.to_screen(c, dims[1] * 0.97))  # the focus back on the view; a click draws nothing

        # k) the mask's statistics: Ctrl+M (3000 HU), then Mask statistics
        key("ctrl+m")
        time.sleep(1)
        button = find(app.acc, lambda n: name(n) == "Mask statistics" and role(n) in ("push button", "button"))
        label = [None]

        def stats_label():
            if button is not None:
                safe(lambda: button.queryAction().doAction(0))
            for n, _ in walk(app.acc):
                if role(n) in ("label", "text") and name(n).startswith("Mask: "):
                    label[0] = name(n)
                    return name(n)
            return None
        wait_for(stats_label, UI_TIMEOUT, 0.5)
        sel = hu[hu >= 3000]
        voxel_ml = pw * ph * 1.6 / 1000  # the phantom's slices are 1.6 mm apart
        m = re.match(r"Mask: (\d+) voxels · (\d+\.\d+) ml · mean (-?\d+\.\d) HU · SD (\d+\.\d) · "
                     r"median (-?\d+\.\d) · min (-?\d+) · max (-?\d+)$", label[0] or "")
        good = (m is not None and int(m.group(1)) == sel.size and abs(float(m.group(2)) - sel.size * voxel_ml) <= 0.0005 + 1e-9
                and abs(float(m.group(3)) - sel.mean()) <= 0.05 + 1e-9 and abs(float(m.group(4)) - sel.std()) <= 0.05 + 1e-9
                and abs(float(m.group(5)) - np.median(sel)) <= 0.05 + 1e-9
                and abs(float(m.group(6)) - sel.min()) <= 0.5 and abs(float(m.group(7)) - sel.max()) <= 0.5)
        tap.ok(good and sel.size > 0, "k) Mask statistics after Ctrl+M: voxels, ml, mean, SD, median, min, max equal "
               "numpy's on the voxels >= 3000 HU", f"label {label[0]!r}, numpy {sel.size} voxels "
               f"{sel.size * voxel_ml:.3f} ml mean {sel.mean():.2f} sd {sel.std():.2f} median {np.median(sel)} "
               f"min {sel.min()} max {sel.max()}")
        before = wait_rows(app, lambda r: len(r) == 5)
        quit_app(tap, app, "first run")
    finally:
        finish(tap, app, "first run")

    # e) reopened
    app, img = start(tap, args, ct, "second run")
    try:
        if img is None:
            return
        r = wait_rows(app, lambda r: len(r) == len(before or []))
        tap.ok(r == before, "e) after closing and reopening the series its measurements are back",
               f"before {before}, now {r}")
        if depth is not None:
            # The measurement's slice, to look at it.
            for _ in range(3):
                pass
        screenshot(app, os.path.join(shots, "measure-reopened.png"))

        # f) Export CSV…
        out = os.path.join(tmp, "out.csv")
        # Pressed through AT-SPI: the panel may be scrolled so that the button is not in sight.
        button = find(app.acc, lambda n: name(n) == "Export CSV…" and role(n) in ("push button", "button"))
        tap.ok(button is not None and safe(lambda: button.queryAction().doAction(0)) is not None,
               "f) pressed Export CSV…")
        dialog = wait_for(lambda: find(app.acc, lambda n: name(n) == "Export the Measurements as CSV"), 3 * UI_TIMEOUT)
        tap.ok(dialog is not None, "f) Export CSV… opens a save chooser")
        ok = False
        # The chooser takes keys only once its name entry has the focus: under load (the
        # sanitizer stage) that can be seconds after it is shown, so type again while the
        # chooser is still open and no file came.
        for attempt in range(3):
            if dialog is None or ok:
                break
            time.sleep(0.5 + 2 * attempt)
            key("ctrl+a")
            xdo("type", "--delay", "20", out)
            time.sleep(0.3)
            key("Return")
            ok = wait_for(lambda: os.path.exists(out), UI_TIMEOUT)
            if not ok and find(app.acc, lambda n: name(n) == "Export the Measurements as CSV") is None:
                break
        table = list(csv.DictReader(open(out, newline=""))) if ok else []
        items = kept(store) or []
        bad = []
        for row, it in zip(table, items):
            f = it.get("figures", {})
            line = it["kind"] in ("distance", "profile")
            roi = it["kind"] in ("rectangle", "ellipse", "freehand")
            ok_row = (row["id"] == str(it["id"]) and row["kind"] == it["kind"] and int(row["slice"]) == it["depth"] + 1
                      and (not line or abs(float(row["length_mm"]) - length_mm(it["points"], pw, ph)) <= 1e-4 * body)
                      and (line or row["length_mm"] == "")
                      and (it["kind"] != "angle" or abs(float(row["angle_deg"]) - angle_deg(it["points"], pw, ph)) <= 1e-3)
                      and (not roi or (int(row["count"]) == f.get("count")
                                       and abs(float(row["mean"]) - f.get("mean")) <= 1e-5 * max(1, abs(f.get("mean")))))
                      and (roi or row["mean"] == ""))
            if not ok_row:
                bad.append((row, it))
        tap.ok(len(table) == len(items) == 5 and not bad,
               "f) the CSV has one row per kept measurement: id, kind, slice, length (x spacing), angle, ROI figures",
               f"{len(table)} rows, {len(items)} kept, bad {bad[:2]}")
        quit_app(tap, app, "second run")
    finally:
        finish(tap, app, "second run")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--keep")
    args = ap.parse_args()
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="mm-measure-") as tmp:
        args.logdir = args.keep or tmp
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        try:
            run(tap, args, tmp)
        except Exception as e:
            import traceback
            tap.ok(False, "the scenario ran to its end", f"{type(e).__name__}: {e}")
            tap.note(traceback.format_exc())
        if tap.failed:
            for f in sorted(os.listdir(args.logdir)):
                if f.endswith(".log"):
                    with open(os.path.join(args.logdir, f), errors="replace") as fh:
                        tap.note(f"{f}:\n" + fh.read()[-1500:])
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
