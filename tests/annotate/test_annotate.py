#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Annotation in the desktop app end to end: real pointer drags and keys on a virtual screen,
checked against the PNG label stack the app saves beside the series.

Scenarios, each on a fresh phantom (metalmark-cli phantom) in its own temporary folder:
  1) Brush stroke (a polyline with a corner), ] (radius x 1.25), Eraser stroke across it,
     Ctrl+Z, Ctrl+Shift+Z, Page_Down, Ctrl+Q, with the autosave fold 10 minutes away
     (MM_AUTOSAVE_DELAY_MS): after each step the journal (parsed here) is compared with the
     pixels computed here from the pointer positions; before Ctrl+Q there is surely no stack,
     only the journal, so Ctrl+Q must fold it; at the end the stack, the manifest's SOP
     Instance UIDs against the DICOM files (pydicom) and that only the painted slice has voxels.
     (The fold 2 s after an edit is checked by scenarios 3 and 4.)
  2) Crash recovery: two strokes (journalled at once: journal.bin parsed here), a third one
     begun but not finished, kill -9; the restarted app shows the toast "Recovered unsaved
     edits from <folder>", and after closing the window (its Close button, so close-request
     folds the journal) the stack holds exactly the two strokes.
  3) Ctrl+M (Segment Metal) then Ctrl+Q, on a noisy phantom (so that many scattered voxels
     cross 3000 HU): the stack equals `metalmark-cli segment` voxel for voxel.
  4) A series whose parent folder has no write bits: the stack lands under
     $XDG_DATA_HOME/metalmark/projects/<series UID>/ and nothing is created beside the series.
  5) A brush stroke only in the journal, then SIGTERM (a session ending): the app quits with
     status 0 and the stack holds the stroke, no journal left (every scenario's app is also
     stopped with SIGTERM and must quit with status 0).

The view's screen mapping comes from one `--screenshot` run (whose PNG is the whole X window at
screen (0, 0), so PNG coordinates are screen coordinates), cross-checked against the view's
AT-SPI extents and the fit computed here. Expected masks: a voxel is painted when its centre
(plane coordinates i + 0.5, j + 0.5) lies within r mm of the stroke polyline (through the
pointer positions); voxels within half a pixel of the disc's edge are not judged.

Needs a display, a session bus and the AT-SPI bus: run it through tests/gui/run-under-xvfb.
TAP on stdout. Usage: test_annotate.py --app APP --cli CLI [--keep DIR] [--only 1,2,3,4,5]
"""

import argparse
import json
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gui"))
from mmtest import Tap, children, complaints, find, name, role, safe, wait_for, walk  # noqa: E402

try:
    import pyatspi
except ImportError:
    print("1..0 # SKIP pyatspi is not installed (python3-pyatspi, for /usr/bin/python3)")
    sys.exit(0)
try:
    import numpy as np
    import cv2
    import pydicom
except ImportError as e:
    print(f"1..0 # SKIP {e.name} is not installed (python3-numpy, python3-opencv, python3-pydicom)")
    sys.exit(0)

START_TIMEOUT = 60   # app on the bus, series loaded
UI_TIMEOUT = 10      # a label or state after a key
FOLD_TIMEOUT = 15    # the fold is due 2 s after the last edit
EXIT_TIMEOUT = 20    # Ctrl+Q until the process is gone
FOLD_DELAY = 2.0     # FOLD_DELAY_MS in src/core/mm-mask-session.c
MOVE_PAUSE = 0.06    # between pointer moves, so GTK sees every one (no motion compression)

PHANTOM_ARGS = ["--size", "128", "--slices", "20"]


# ---------------------------------------------------------------- TAP

class Timer:
    def __init__(self):
        self.t0 = time.monotonic()
        self.marks = []

    def mark(self, what):
        self.marks.append((what, time.monotonic() - self.t0))

    def report(self, tap, title):
        tap.note(f"{title} timings: " + ", ".join(f"{w} {t:.2f} s" for w, t in self.marks))


def has_state(node, st):
    return safe(lambda: node.getState().contains(st), False)


class App:
    """The app under test, its log, and its accessible object (found by process id)."""

    def __init__(self, args, app_args, env, logdir, tag):
        self.tag = tag
        self.log_path = os.path.join(logdir, f"{tag}.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([args.app] + list(app_args), stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.acc = None

    def find_accessible(self, timeout=START_TIMEOUT):
        def look():
            if self.proc.poll() is not None:
                raise RuntimeError("exited")
            for a in children(pyatspi.Registry.getDesktop(0)):
                if safe(a.get_process_id) == self.proc.pid:
                    return a
            return None
        try:
            self.acc = wait_for(look, timeout, 0.1)
        except RuntimeError:
            self.acc = None
        return self.acc

    def frames(self):
        return [c for c in children(self.acc) if role(c) == "frame"] if self.acc else []

    def alive(self):
        return self.proc.poll() is None

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """SIGTERM (the app saves and quits as on Ctrl+Q), SIGKILL after EXIT_TIMEOUT: the
        SIGTERM's exit status, "killed", or None when the app was already gone."""
        status = None
        if self.proc.poll() is None:
            self.proc.terminate()
            status = self.wait_exit(EXIT_TIMEOUT)
            if status is None:
                self.proc.kill()
                self.proc.wait()
                status = "killed"
        if not self.log.closed:
            self.log.close()
        return status

    def output(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def complaints(self):
        return complaints(self.output())


def view_node(app, plane="Axial"):
    return find(app.acc, lambda n: role(n) == "image" and name(n) == f"{plane} view")


# "Axial 31/60 (I→S) · 821.2 mm": the direction says which way the numbers run.
SLICE_RE = re.compile(r"^(\w+) (\d+)/(\d+) \(\w+→\w+\) · ")


def view_texts(img):
    """The texts drawn over a view, one a line: its accessible description (they are drawn
    inside the view, not child labels)."""
    return [t for t in (safe(lambda: img.description, "") or "").split("\n") if t]


def slice_label(app):
    img = view_node(app)
    for text in view_texts(img) if img is not None else ():
        m = SLICE_RE.match(text)
        if m:
            return int(m.group(2)), int(m.group(3))
    return None


def metadata_ready(app):
    grid = find(app.acc, lambda n: name(n) == "Series metadata")
    return grid is not None and "Files" in [name(c) for c in children(grid)]


def tool_button(app, label):
    # GTK 4.8 reports a GtkToggleButton as a push button whose state holds "pressed".
    return find(app.acc, lambda n: role(n) in ("toggle button", "push button") and name(n) == label)


def tool_active(app, label):
    b = tool_button(app, label)
    return b is not None and (has_state(b, pyatspi.STATE_CHECKED) or has_state(b, pyatspi.STATE_PRESSED))


def spin_value(app, label):
    s = find(app.acc, lambda n: role(n) == "spin button" and name(n) == label)
    return safe(lambda: s.queryValue().currentValue) if s is not None else None


def labels_with(app, pred):
    """(label, ancestors) of every label whose text satisfies pred."""
    return [(n, up) for n, up in walk(app.acc) if role(n) == "label" and safe(lambda: pred(name(n)), False)]


# ---------------------------------------------------------------- X input (xdotool)

def xdo(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True, timeout=30,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def focus_window(app):
    """Give the app's top-level the X input focus; its X window id, or None."""
    p = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(app.proc.pid)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    for w in reversed(p.stdout.split()):
        if subprocess.run(["xdotool", "windowfocus", "--sync", w], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=30).returncode == 0:
            return w
    return None


def key(k):
    xdo("key", "--clearmodifiers", k)


PROBE_RE = re.compile(r"voxel \((\d+), (\d+), (\d+)\)$")


class Pointer:
    """Left-button drags on the axial view. GTK merges motion events that queue up between
    two frames, so a stroke's polyline would lose the corners the app never saw: after each
    move the probe text (the voxel under the pointer, updated by the same motion events) is
    awaited before the next move is sent. Moves whose probe never showed up are counted."""

    def __init__(self, app, view):
        self.app, self.view = app, view
        self.img = view_node(app)  # found once: a walk of the whole tree takes a while
        self.unconfirmed = 0

    def move(self, X, Y):
        xdo("mousemove", *(["--window", self.view.win] if self.view.win else []), X, Y)
        u, v = self.view.to_plane(X, Y)
        want = (int(u // 1), int(v // 1))
        if not wait_for(lambda: (lambda p: p and p[:2] == want)(self.probe()), 5, 0.01):
            self.unconfirmed += 1

    def probe(self):
        # The view's description holds the probe text on its own line: one call.
        for text in view_texts(self.img) if self.img is not None else ():
            m = PROBE_RE.search(text)
            if m:
                return tuple(int(x) for x in m.groups())
        return None

    def drag(self, points, release=True):
        """Press at the first point, move through the rest, release at the last (unless
        release is False)."""
        self.move(*points[0])
        xdo("mousedown", 1)
        for X, Y in points[1:]:
            time.sleep(MOVE_PAUSE)
            self.move(X, Y)
        time.sleep(MOVE_PAUSE)
        if release:
            xdo("mouseup", 1)


# ---------------------------------------------------------------- geometry

class View:
    """Screen placement and plane mapping of the axial view (from --screenshot)."""

    def __init__(self, line, pw, ph, dims):
        f = dict(kv.split("=", 1) for kv in line.split()[1:])
        self.x, self.y = int(float(f["x"])), int(float(f["y"]))
        self.w, self.h = int(f["width"]), int(f["height"])
        self.ox, self.oy, self.s = float(f["origin_x"]), float(f["origin_y"]), float(f["scale"])
        self.depth = int(f["depth"])
        self.win = None  # the app's X window the positions are relative to; None: the screen
        self.pw, self.ph, self.dims = pw, ph, dims

    def fit(self, w, h):
        """The fit the app should use for a view of w x h (zoom 100 %, no pan)."""
        mw, mh = self.dims[0] * self.pw, self.dims[1] * self.ph
        s = min(w / mw, h / mh)
        return (w - mw * s) / 2, (h - mh * s) / 2, s

    def to_plane(self, X, Y):
        """Continuous plane coordinates (pixels) of screen point (X, Y)."""
        return ((X - self.x - self.ox) / self.s / self.pw, (Y - self.y - self.oy) / self.s / self.ph)

    def to_screen(self, u, v):
        """The screen pixel nearest to plane point (u, v)."""
        return (int(round(self.x + self.ox + u * self.pw * self.s)),
                int(round(self.y + self.oy + v * self.ph * self.s)))

    def __str__(self):
        return (f"view at ({self.x}, {self.y}) {self.w} x {self.h}, origin ({self.ox:.3f}, {self.oy:.3f}), "
                f"scale {self.s:.4f} screen px/mm, depth {self.depth}")


def screenshot_geometry(args, ct, env, workdir, info):
    png = os.path.join(workdir, "geometry.png")
    p = subprocess.run([args.app, "--screenshot", png, ct], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, env=env, timeout=120)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("view plane=0 ")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(f"--screenshot: status {p.returncode}: {p.stdout[-1500:]}")
    return View(lines[0], info["spacing_mm"][0], info["spacing_mm"][1], info["dims"]), png


# ---------------------------------------------------------------- expected masks

def polyline_distance_mm(shape, poly, pw, ph):
    """Distance (mm) from every voxel centre (i + 0.5, j + 0.5 in plane pixels) of an
    axial slice of shape (rows, cols) to the polyline poly [(u, v), ...] (plane pixels)."""
    rows, cols = shape
    X = (np.arange(cols) + 0.5)[None, :] * pw
    Y = (np.arange(rows) + 0.5)[:, None] * ph
    best = np.full(shape, np.inf)
    pts = [(u * pw, v * ph) for u, v in poly]
    if len(pts) == 1:
        pts = pts * 2
    for (ax, ay), (bx, by) in zip(pts[:-1], pts[1:]):
        dx, dy = bx - ax, by - ay
        l2 = dx * dx + dy * dy
        t = np.zeros(shape) if l2 == 0 else np.clip(((X - ax) * dx + (Y - ay) * dy) / l2, 0, 1)
        d = np.hypot(X - (ax + t * dx), Y - (ay + t * dy))
        best = np.minimum(best, d)
    return best


class Expect:
    """An axial slice's expected mask as three sets: surely 1, surely 0, not judged."""

    def __init__(self, shape):
        self.one = np.zeros(shape, bool)
        self.zero = np.ones(shape, bool)
        self.exact = np.zeros(shape, bool)  # the continuous model, without a band (reported only)

    def paint(self, d, r, band):
        inside, outside = d < r - band, d > r + band
        self.one |= inside
        self.zero &= outside
        self.exact |= d <= r

    def erase(self, d, r, band):
        inside, outside = d < r - band, d > r + band
        self.one &= outside
        self.zero |= inside
        self.exact &= d > r

    def copy(self):
        e = Expect(self.one.shape)
        e.one, e.zero, e.exact = self.one.copy(), self.zero.copy(), self.exact.copy()
        return e

    def compare(self, got):
        """(mismatches outside the band, judged voxels, not judged, detail)"""
        bad1 = self.one & (got == 0)
        bad0 = self.zero & (got != 0)
        undecided = ~(self.one | self.zero)
        detail = (f"{int(bad1.sum())} expected painted but 0, {int(bad0.sum())} expected 0 but painted; "
                  f"{int(self.one.sum())} surely painted, {int(undecided.sum())} in the edge band "
                  f"of which {int((got[undecided] != 0).sum())} painted; {int((got != 0).sum())} painted in all; "
                  f"{int(((got != 0) != self.exact).sum())} differ from the exact distance <= r model")
        if bad1.any() or bad0.any():
            ys, xs = np.nonzero(bad1 | bad0)
            detail += f"; first bad voxels (i, j): {list(zip(xs[:6].tolist(), ys[:6].tolist()))}"
        return int(bad1.sum() + bad0.sum()), detail


# ---------------------------------------------------------------- the saved stack

def read_stack(folder, dims):
    """(mask[k][j][i] 0/1 uint8, manifest) of a PNG label stack, or raise."""
    with open(os.path.join(folder, "manifest.json")) as f:
        man = json.load(f)
    vol = np.zeros((dims[2], dims[1], dims[0]), np.uint8)
    for s in man["slices"]:
        img = cv2.imread(os.path.join(folder, s["file"]), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise RuntimeError(f"cannot read {s['file']}")
        if img.ndim != 2 or img.shape != (dims[1], dims[0]) or img.dtype != np.uint8:
            raise RuntimeError(f"{s['file']}: shape {img.shape} {img.dtype}, want {(dims[1], dims[0])} uint8")
        if not np.isin(img, (0, 255)).all():
            raise RuntimeError(f"{s['file']}: values other than 0 and 255: {np.unique(img)[:10]}")
        vol[s["index"]] = img // 255
    return vol, man


def stack_state(folder):
    """What changes when a fold rewrites the stack: the manifest's inode and mtime."""
    try:
        st = os.stat(os.path.join(folder, "manifest.json"))
        return (st.st_ino, st.st_mtime_ns, st.st_size)
    except OSError:
        return None


def wait_fold(folder, before, timeout=FOLD_TIMEOUT):
    """Wait until the manifest differs from before and journal.bin is gone (the fold removes
    it only once the stack is durable). True on success."""
    def done():
        now = stack_state(folder)
        return (now is not None and now != before
                and not os.path.exists(os.path.join(folder, "journal.bin")))
    return wait_for(done, timeout, 0.05) is not None


def journal_groups(path):
    """Parse journal.bin (layout in src/core/mm-journal.c): (series UID, list of complete
    groups, each a dict slice -> uint8 array), or None when there is no journal."""
    try:
        with open(path, "rb") as f:
            d = f.read()
    except FileNotFoundError:
        return None
    if len(d) < 32 or d[:8] != b"MMJRNL\r\n":
        raise RuntimeError("journal.bin: bad magic")
    version, d0, d1, d2, n = struct.unpack_from("<5I", d, 8)
    uid = d[28:28 + n].decode()
    if struct.unpack_from("<I", d, 28 + n)[0] != zlib.crc32(d[:28 + n]):
        raise RuntimeError("journal.bin: header CRC")
    p, groups, cur = 32 + n, [], {}
    while p + 8 <= len(d):
        magic, blen = struct.unpack_from("<2I", d, p)
        if magic != 0x524A4D4D or p + 12 + blen > len(d):
            break
        if struct.unpack_from("<I", d, p + 8 + blen)[0] != zlib.crc32(d[p + 4:p + 8 + blen]):
            break
        group, flags, k, nbytes, ulen = struct.unpack_from("<5I", d, p + 8)
        data = zlib.decompress(d[p + 8 + 20 + ulen:p + 8 + blen])
        cur[k] = np.frombuffer(data, np.uint8).reshape(d1, d0)
        if flags & 1:
            groups.append(cur)
            cur = {}
        p += 12 + blen
    return uid, groups


def saved_state(folder, dims):
    """What a reopening app would load: the stack (if any) with journal.bin's complete groups
    replayed over it. (mask[k][j][i], number of journal groups)"""
    if os.path.exists(os.path.join(folder, "manifest.json")):
        vol, _ = read_stack(folder, dims)
    else:
        vol = np.zeros((dims[2], dims[1], dims[0]), np.uint8)
    j = journal_groups(os.path.join(folder, "journal.bin"))
    for g in (j[1] if j else []):
        for k, sl in g.items():
            vol[k] = sl != 0
    return vol, len(j[1]) if j else 0


def dicom_uids(ct):
    """SOP Instance UID -> ImagePositionPatient z of every DICOM file in ct."""
    out = {}
    for fn in sorted(os.listdir(ct)):
        ds = pydicom.dcmread(os.path.join(ct, fn), stop_before_pixels=True)
        out[str(ds.SOPInstanceUID)] = float(ds.ImagePositionPatient[2])
    return out


def tree_listing(root):
    out = []
    for dp, dns, fns in os.walk(root):
        for x in dns + fns:
            out.append(os.path.relpath(os.path.join(dp, x), root))
    return sorted(out)


# ---------------------------------------------------------------- scenario plumbing

class Ctx:
    def __init__(self, args, tap, tmp, env):
        self.args, self.tap, self.tmp, self.env = args, tap, tmp, env
        self.logdir = args.keep or tmp
        self.apps = []


def run_cli(ctx, *a):
    p = subprocess.run([ctx.args.cli] + [str(x) for x in a], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"metalmark-cli {' '.join(map(str, a))}: status {p.returncode}: {p.stderr}")
    return p.stdout


def new_phantom(ctx, tag, *extra):
    folder = os.path.join(ctx.tmp, tag)
    run_cli(ctx, "phantom", folder, *PHANTOM_ARGS, *extra)
    ct = os.path.join(folder, "ct")
    info = json.loads(run_cli(ctx, "info", ct, "--json"))
    return folder, ct, info


def start_app(ctx, ct, tag, view, timer=None, env=None):
    """Start the app on ct, wait until the axial view shows the series and the metadata panel
    is filled, give it the keyboard focus and check the view's extents; the App, or None.
    env: extra environment variables for the app."""
    tap = ctx.tap
    app = App(ctx.args, [ct], dict(ctx.env, **(env or {})), ctx.logdir, tag)
    ctx.apps.append(app)
    if not tap.ok(app.find_accessible() is not None, f"{tag}: the app shows up on the accessibility bus",
                  f"pid {app.proc.pid}, alive {app.alive()}"):
        return None
    ready = wait_for(lambda: slice_label(app) and metadata_ready(app), START_TIMEOUT, 0.1)
    if timer:
        timer.mark("loaded")
    if not tap.ok(ready, f"{tag}: the series is loaded (axial slice label, metadata panel)"):
        return None
    img = view_node(app)
    ext = safe(lambda: img.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
    # AT-SPI's extents come from GTK's float bounds, rounded: a pixel either way is the same
    # allocation (the strokes below are checked against the geometry run's exact placement).
    size_ok = (ext is not None and abs(ext.width - view.w) <= 1 and abs(ext.height - view.h) <= 1)
    tap.ok(size_ok, f"{tag}: the axial view has the size the geometry run measured ({view.w} x {view.h}, "
           "to a pixel)",
           f"AT-SPI extents {ext.x, ext.y, ext.width, ext.height}" if ext else "no extents")
    frame = wait_for(lambda: app.frames()[0], UI_TIMEOUT)
    focused = focus_window(app)
    tap.ok(focused and wait_for(lambda: has_state(frame, pyatspi.STATE_ACTIVE), UI_TIMEOUT),
           f"{tag}: the window has the keyboard focus")
    # The window manager placed the window: pointer positions (the geometry run's, in window
    # coordinates) are given relative to the app's X window; xdotool translates them exactly.
    view.win = focused or None
    return app if size_ok else None


def choose_tool(ctx, app, keyname, label, tag):
    key(keyname)
    return ctx.tap.ok(wait_for(lambda: tool_active(app, label), UI_TIMEOUT),
                      f"{tag}: key {keyname!r} selects the {label} tool")


def close_window(ctx, app, tag):
    """Close the window with its title bar's Close button (through AT-SPI): close-request."""
    b = find(app.acc, lambda n: role(n) == "push button" and name(n) == "Close")
    if b is not None:
        b.queryAction().doAction(0)
    status = app.wait_exit(EXIT_TIMEOUT)
    ctx.tap.ok(status == 0, f"{tag}: the window's Close button ends the app with status 0",
               f"status {status}" if b is not None else "no 'Close' button")
    return status


def quit_app(ctx, app, tag):
    key("ctrl+q")
    status = app.wait_exit(EXIT_TIMEOUT)
    ctx.tap.ok(status == 0, f"{tag}: Ctrl+Q ends the app with status 0", f"status {status}")
    return status


def finish(ctx, app, tag, allow=()):
    if app is None:
        return
    status = app.stop()
    if status is not None:
        ctx.tap.ok(status == 0, f"{tag}: on SIGTERM the app quits with status 0", f"status {status}")
    c = [x for x in app.complaints() if not any(a in x for a in allow)]
    ctx.tap.ok(not c, f"{tag}: the app printed no GLib/GTK criticals or warnings, no sanitizer reports", " | ".join(c[:4]))


def compare_stack(ctx, folder, info, k, expect, what):
    tap = ctx.tap
    try:
        vol, man = read_stack(folder, info["dims"])
    except Exception as e:
        tap.ok(False, what, f"{type(e).__name__}: {e}")
        return None, None
    bad, detail = expect.compare(vol[k])
    others = [int(i) for i in np.nonzero(vol.reshape(vol.shape[0], -1).any(1))[0] if i != k]
    tap.ok(bad == 0 and not others, what,
           detail + (f"; other slices with voxels: {others}" if others else ""))
    return vol, man


def compare_saved(ctx, proj, info, k, expect, groups, what):
    """Wait until the journal holds groups complete groups, then compare what a reopening app
    would load (the stack, if any, with the journal replayed) with expect on slice k, and
    check that no other slice has voxels."""
    tap = ctx.tap
    journal = os.path.join(proj, "journal.bin")
    got = wait_for(lambda: (lambda j: j and len(j[1]) >= groups)(journal_groups(journal)), UI_TIMEOUT, 0.02)
    if not tap.ok(got, f"{what}: journalled ({groups} group(s))",
                  f"{tree_listing(proj) if os.path.isdir(proj) else 'no ' + proj}"):
        return
    eff, n = saved_state(proj, info["dims"])
    bad, detail = expect.compare(eff[k])
    others = [int(i) for i in np.nonzero(eff.reshape(eff.shape[0], -1).any(1))[0] if i != k]
    tap.ok(bad == 0 and not others, what, detail + (f"; other slices with voxels: {others}" if others else ""))


def points_screen(view, plane_pts):
    return [view.to_screen(u, v) for u, v in plane_pts]


def polyline_plane(view, screen_pts):
    return [view.to_plane(X, Y) for X, Y in screen_pts]


# ---------------------------------------------------------------- scenario 1

def scenario_paint(ctx, view):
    tap, tag, timer = ctx.tap, "1", Timer()
    folder, ct, info = new_phantom(ctx, "s1")
    proj = ct + ".metalmark"
    pw, ph = info["spacing_mm"][:2]
    shape = (info["dims"][1], info["dims"][0])
    band = 0.5 * max(pw, ph)
    k = view.depth
    # No fold before Ctrl+Q, however slow the machine: every step is checked in the journal
    # (replayed over the stack here, as a reopening app would), and Ctrl+Q must fold it.
    journal = os.path.join(proj, "journal.bin")
    app = start_app(ctx, ct, tag, view, timer, env={"MM_AUTOSAVE_DELAY_MS": "600000"})
    try:
        if app is None:
            return
        start = slice_label(app)
        tap.ok(start == (k + 1, info["dims"][2]), f"{tag}: the axial view shows slice {k + 1} (the geometry run's)",
               f"label {start}")
        if not choose_tool(ctx, app, "b", "Brush", tag):
            return
        r_brush = spin_value(app, "Brush radius (mm)")
        tap.ok(r_brush is not None and abs(r_brush - 3.0) < 1e-9, f"{tag}: the brush radius is 3.0 mm",
               f"{r_brush}")
        r_brush = r_brush or 3.0

        # Brush: an L through (30, 40) -> (70, 46) -> (78, 80) in plane pixels.
        brush_scr = points_screen(view, [(30, 40), (40, 41.5), (50, 43), (60, 44.5), (70, 46),
                                         (72, 54.5), (74, 63), (76, 71.5), (78, 80)])
        brush_poly = polyline_plane(view, brush_scr)
        tap.note(f"brush stroke, screen {brush_scr}")
        ptr = Pointer(app, view)
        ptr.drag(brush_scr)
        timer.mark("brush stroke sent")
        got = wait_for(lambda: (lambda j: j and len(j[1]) >= 1 and j)(journal_groups(os.path.join(proj, "journal.bin"))),
                       UI_TIMEOUT, 0.02)
        timer.mark("brush journalled")
        tap.ok(got and got[0] == info["series_uid"] and list(got[1][0]) == [k],
               f"{tag}: the finished stroke is journalled at once: one group, slice {k}, the series' UID",
               f"{(got[0], [list(g) for g in got[1]]) if got else 'no journal.bin in ' + proj}")
        e_brush = Expect(shape)
        e_brush.paint(polyline_distance_mm(shape, brush_poly, pw, ph), r_brush, band)
        if got:
            bad, detail = e_brush.compare(got[1][0][k])
            tap.ok(bad == 0, f"{tag}: the journalled slice holds the stroke's pixels", detail)
        compare_saved(ctx, proj, info, k, e_brush, 1, f"{tag}: brush: the saved slice {k} matches the stroke (r {r_brush} mm)")

        # ] then the Eraser along a segment across both arms of the L.
        key("bracketright")
        r_erase = wait_for(lambda: (lambda v: v if v and abs(v - r_brush * 1.25) < 0.051 else None)(
            spin_value(app, "Brush radius (mm)")), UI_TIMEOUT)
        tap.ok(r_erase, f"{tag}: ] scales the radius by 1.25 ({r_brush * 1.25} mm)",
               f"spin reads {spin_value(app, 'Brush radius (mm)')}")
        r_erase = r_erase or r_brush * 1.25
        if not choose_tool(ctx, app, "e", "Eraser", tag):
            return
        erase_scr = points_screen(view, [(52, 30), (58, 42), (64, 54), (70, 66), (76, 64), (84, 62)])
        erase_poly = polyline_plane(view, erase_scr)
        tap.note(f"eraser stroke, screen {erase_scr}, radius {r_erase} mm")
        ptr.drag(erase_scr)
        timer.mark("eraser stroke sent")
        e_erased = e_brush.copy()
        e_erased.erase(polyline_distance_mm(shape, erase_poly, pw, ph), r_erase, band)
        compare_saved(ctx, proj, info, k, e_erased, 2, f"{tag}: eraser: the saved slice is the brush minus the eraser")
        tap.ok(ptr.unconfirmed == 0, f"{tag}: the probe label followed every pointer move of both strokes",
               f"{ptr.unconfirmed} moves not seen within 5 s")

        key("ctrl+z")
        compare_saved(ctx, proj, info, k, e_brush, 3, f"{tag}: Ctrl+Z: the saved slice is the brush stroke again")
        timer.mark("undo journalled")

        # The redo is left for the close to save.
        key("ctrl+shift+z")
        t_redo = time.monotonic()
        key("Page_Down")
        got = wait_for(lambda: slice_label(app) == (k + 2, info["dims"][2]), UI_TIMEOUT)
        tap.ok(got, f"{tag}: Page_Down moves to slice {k + 2}", f"label {slice_label(app)}")
        redo_journalled = wait_for(lambda: (lambda j: j and len(j[1]) >= 4)(journal_groups(journal)), UI_TIMEOUT, 0.02)
        tap.ok(redo_journalled, f"{tag}: Ctrl+Shift+Z: the redo is journalled at once (4 groups)")
        # With the fold 10 minutes away, the journal is surely all there is: Ctrl+Q must fold it.
        tap.ok(os.path.exists(journal) and stack_state(proj) is None,
               f"{tag}: before Ctrl+Q the edits are only in the journal (no stack yet)", f"{tree_listing(proj)}")
        t_quit = time.monotonic()
        quit_app(ctx, app, tag)
        timer.mark("quit")
        tap.note(f"Ctrl+Q {t_quit - t_redo:.2f} s after the redo; exit took {time.monotonic() - t_quit:.2f} s")
        journal_left = os.path.exists(journal)
        tap.ok(not journal_left and stack_state(proj) is not None,
               f"{tag}: Ctrl+Q folds the journal into the stack (a stack, no journal.bin left)",
               f"journal.bin left: {journal_left}: app.quit (mm-application.c quit_action) ends the app "
               "without close-request or finalize, so mm_tools_save_now never runs" if journal_left else "")
        try:
            eff, ngroups = saved_state(proj, info["dims"])
            bad, detail = e_erased.compare(eff[k])
            others = [int(i) for i in np.nonzero(eff.reshape(eff.shape[0], -1).any(1))[0] if i != k]
            tap.ok(bad == 0 and not others, f"{tag}: after Ctrl+Q the saved edits (stack, plus {ngroups} journal "
                   f"group(s) replayed) are brush minus eraser on slice {k} only",
                   detail + (f"; other slices: {others}" if others else ""))
        except Exception as e:
            tap.ok(False, f"{tag}: after Ctrl+Q the saved edits can be read", f"{type(e).__name__}: {e}")
        vol, man = None, None
        try:
            vol, man = read_stack(proj, info["dims"])
        except Exception as e:
            tap.ok(False, f"{tag}: the stack can be read after Ctrl+Q", f"{type(e).__name__}: {e}")
        if man is not None and not journal_left:
            compare_stack(ctx, proj, info, k, e_erased, f"{tag}: after Ctrl+Q the stack alone is brush minus eraser")
        if man is not None:
            uids = dicom_uids(ct)
            mu = [s["sop_instance_uid"] for s in man["slices"]]
            tap.ok(sorted(mu) == sorted(uids) and len(mu) == info["dims"][2],
                   f"{tag}: the manifest's SOP Instance UIDs are the DICOM files' (pydicom)",
                   f"{len(set(mu) & set(uids))} of {len(uids)} in common")
            zbad = [s["index"] for s in man["slices"]
                    if s["sop_instance_uid"] in uids and abs(uids[s["sop_instance_uid"]] - s["z_mm"]) > 1e-3]
            order = [s["index"] for s in man["slices"]] == list(range(info["dims"][2]))
            tap.ok(not zbad and order, f"{tag}: manifest slice k is the DICOM file at z_mm (index order 0..n-1)",
                   f"z mismatches at {zbad}, order {order}")
            counts = [s["voxels"] for s in man["slices"]]
            want = [int(vol[i].sum()) for i in range(vol.shape[0])]
            tap.ok(counts == want, f"{tag}: the manifest's voxel counts are the PNGs'", f"{counts} vs {want}")
            tap.ok(man.get("series_uid") == info["series_uid"] and man.get("dims") == info["dims"],
                   f"{tag}: the manifest names the series and its dimensions")
    finally:
        finish(ctx, app, tag)
        timer.report(tap, "scenario 1")


# ---------------------------------------------------------------- scenario 2

def find_toast(app, prefix):
    """The toast's label: a label starting with prefix that is not the Tools panel's status
    label (which says the same). The toast sits in the overlay, outside the panel, so its
    label's ancestors hold no 'Tools' heading sibling."""
    hits = labels_with(app, lambda t: t.startswith(prefix))
    out = []
    for lab, up in hits:
        in_panel = any(any(role(c) == "label" and name(c) == "Tools" for c in children(a)) for a in up[-4:])
        out.append((lab, in_panel))
    return out


def scenario_crash(ctx, view):
    tap, tag, timer = ctx.tap, "2", Timer()
    folder, ct, info = new_phantom(ctx, "s2")
    proj = ct + ".metalmark"
    journal = os.path.join(proj, "journal.bin")
    pw, ph = info["spacing_mm"][:2]
    shape = (info["dims"][1], info["dims"][0])
    band = 0.5 * max(pw, ph)
    k = view.depth
    # No fold before the kill, however slow the machine: the strokes must still be only in
    # the journal when the app dies, or there is nothing to recover.
    app = start_app(ctx, ct, tag + " first run", view, timer, env={"MM_AUTOSAVE_DELAY_MS": "600000"})
    app2 = None
    try:
        if app is None:
            return
        if not choose_tool(ctx, app, "b", "Brush", tag):
            return
        r = spin_value(app, "Brush radius (mm)") or 3.0
        ptr = Pointer(app, view)
        strokes = [[(20, 30), (30, 32), (40, 34), (50, 36)],
                   [(20, 90), (35, 88), (50, 86), (65, 84)],
                   [(90, 30), (95, 45), (100, 60), (105, 75)]]  # the unfinished one
        scr = [points_screen(view, s) for s in strokes]
        for i in (0, 1):
            ptr.drag(scr[i])
            ei = Expect(shape)
            ei.paint(polyline_distance_mm(shape, polyline_plane(view, scr[i]), pw, ph), r, band)
            # On disk (journal, or the stack had a fold run in between) once the button is up.
            got = wait_for(lambda: saved_state(proj, info["dims"])[0][k][ei.one].all() and journal_groups(journal),
                           UI_TIMEOUT, 0.02)
            timer.mark(f"stroke {i + 1} journalled")
            t_end2 = time.monotonic()
            tap.ok(got, f"{tag}: stroke {i + 1} is journalled when the button is released",
                   f"journal groups {len(got[1]) if got else None}")
        ptr.drag(scr[2], release=False)  # painted in memory only
        tap.ok(ptr.unconfirmed == 0, f"{tag}: the probe label followed every pointer move of the three strokes",
               f"{ptr.unconfirmed} moves not seen within 5 s")
        pre = journal_groups(journal)
        elapsed = time.monotonic() - t_end2
        os.kill(app.proc.pid, signal.SIGKILL)
        app.wait_exit(10)
        timer.mark("killed")
        xdo("mouseup", 1)  # the X server still holds the button down
        tap.note(f"kill -9 {elapsed:.2f} s after stroke 2 was journalled; journal then: "
                 f"{len(pre[1]) if pre else None} groups; project folder: {tree_listing(proj) if os.path.isdir(proj) else None}")
        e = Expect(shape)
        for i in (0, 1):
            e.paint(polyline_distance_mm(shape, polyline_plane(view, scr[i]), pw, ph), r, band)
        e.erase(polyline_distance_mm(shape, polyline_plane(view, scr[2]), pw, ph), r, band)  # stroke 3 only
        # Normally both strokes are only in the journal; had the test been slow enough for the
        # 2 s fold to run between them, stroke 1 would be in the stack already.
        if not tap.ok(pre and os.path.exists(journal),
                      f"{tag}: at the kill, journal.bin holds finished strokes",
                      "" if pre else "a fold removed the journal before the kill: the test was too slow to test recovery"):
            return
        eff, ngroups = saved_state(proj, info["dims"])
        bad, detail = e.compare(eff[k])
        tap.ok(bad == 0, f"{tag}: the stack plus the journal ({ngroups} group(s)) hold strokes 1 and 2 and not "
               "the unfinished third", detail)

        # The recovered edits are folded 2 s after the restart by default: with the fold 10
        # minutes away the journal is surely still there when checked, and the Close button
        # must fold it.
        app2 = start_app(ctx, ct, tag + " restart", view, timer, env={"MM_AUTOSAVE_DELAY_MS": "600000"})
        if app2 is None:
            return
        want = f"Recovered unsaved edits from {proj}"
        toast = wait_for(lambda: [x for x in find_toast(app2, "Recovered unsaved edits") if not x[1]], 6, 0.05)
        timer.mark("toast seen")
        allhits = find_toast(app2, "Recovered unsaved edits")
        tap.ok(toast and name(toast[0][0]) == want, f"{tag}: the restarted app shows the toast {want!r}",
               f"labels: {[(name(l), 'panel' if p else 'overlay') for l, p in allhits]}")
        tap.ok(os.path.exists(journal), f"{tag}: the journal stays until the next fold")
        close_window(ctx, app2, tag)
        timer.mark("closed")
        compare_stack(ctx, proj, info, k, e,
                      f"{tag}: after closing, the stack holds strokes 1 and 2, not the unfinished third")
        tap.ok(not os.path.exists(journal), f"{tag}: closing the window folds the journal (none left)",
               f"{tree_listing(proj)}")
    finally:
        finish(ctx, app, tag + " first run")
        finish(ctx, app2, tag + " restart")
        timer.report(tap, "scenario 2")


# ---------------------------------------------------------------- scenario 3

def scenario_segment(ctx, view):
    tap, tag, timer = ctx.tap, "3", Timer()
    # Noise of 1000 HU SD scatters voxels across 3000 HU: hundreds of components, most slices.
    folder, ct, info = new_phantom(ctx, "s3", "--noise", "1000", "--seed", "7")
    proj = ct + ".metalmark"
    ref_dir = os.path.join(folder, "cli-segment")
    run_cli(ctx, "segment", ct, "--out", ref_dir)
    ref, ref_man = read_stack(ref_dir, info["dims"])
    app = start_app(ctx, ct, tag, view, timer)
    try:
        if app is None:
            return
        before = stack_state(proj)
        lower0 = spin_value(app, "Lower HU")
        key("ctrl+m")
        want = f"Threshold 3000 HU: {int(ref.sum())} voxels, "
        got = wait_for(lambda: [name(l) for l, _ in labels_with(app, lambda t: re.match(r"^Threshold 3000 HU: \d+ voxels, ", t))],
                       UI_TIMEOUT)
        timer.mark("segmented")
        tap.ok(got and got[0].startswith(want), f"{tag}: Ctrl+M: the mask label starts {want!r}", f"{got}")
        lower = spin_value(app, "Lower HU")
        tap.note(f"Lower HU: {lower0} before Ctrl+M, {lower} after")
        tap.ok(lower == 3000, f"{tag}: after Ctrl+M the threshold's Lower HU reads 3000",
               f"reads {lower} (the histogram's suggestion before Ctrl+M: {lower0}); on a series' first edit "
               "editable_mask() calls mm_tools_series_changed(), whose suggest_threshold() resets Lower HU "
               "after segment_action() set 3000" if lower != 3000 else "")
        tap.ok(wait_fold(proj, before), f"{tag}: the segmentation is folded into the stack")
        timer.mark("folded")
        quit_app(ctx, app, tag)
        timer.mark("quit")
        try:
            vol, man = read_stack(proj, info["dims"])
        except Exception as e:
            tap.ok(False, f"{tag}: the saved stack can be read", f"{type(e).__name__}: {e}")
            return
        diff = int((vol != ref).sum())
        tap.ok(diff == 0 and ref.sum() > 0,
               f"{tag}: the saved stack equals `metalmark-cli segment` voxel for voxel ({int(ref.sum())} voxels)",
               f"{diff} voxels differ; app {int(vol.sum())}, CLI {int(ref.sum())}")
        same = [(s["file"], s["sop_instance_uid"], s["voxels"]) for s in man["slices"]] == \
               [(s["file"], s["sop_instance_uid"], s["voxels"]) for s in ref_man["slices"]]
        tap.ok(same, f"{tag}: the manifests list the same files, SOP Instance UIDs and counts")
    finally:
        finish(ctx, app, tag)
        timer.report(tap, "scenario 3")


# ---------------------------------------------------------------- scenario 5

def scenario_sigterm(ctx, view):
    """A stroke only in the journal (the fold 10 minutes away), then SIGTERM as a session's end
    sends it: the app must save as on Ctrl+Q, not leave the edit for a recovery."""
    tap, tag, timer = ctx.tap, "5", Timer()
    folder, ct, info = new_phantom(ctx, "s5")
    proj = ct + ".metalmark"
    journal = os.path.join(proj, "journal.bin")
    pw, ph = info["spacing_mm"][:2]
    shape = (info["dims"][1], info["dims"][0])
    k = view.depth
    app = start_app(ctx, ct, tag, view, timer, env={"MM_AUTOSAVE_DELAY_MS": "600000"})
    try:
        if app is None or not choose_tool(ctx, app, "b", "Brush", tag):
            return
        r = spin_value(app, "Brush radius (mm)") or 3.0
        scr = points_screen(view, [(40, 60), (55, 62), (70, 64), (85, 66)])
        Pointer(app, view).drag(scr)
        got = wait_for(lambda: (lambda j: j and len(j[1]) >= 1)(journal_groups(journal)), UI_TIMEOUT, 0.02)
        tap.ok(got and stack_state(proj) is None,
               f"{tag}: the stroke is journalled and there is no stack yet", f"{tree_listing(proj)}")
        timer.mark("journalled")
        app.proc.send_signal(signal.SIGTERM)
        status = app.wait_exit(EXIT_TIMEOUT)
        timer.mark("exited")
        tap.ok(status == 0, f"{tag}: on SIGTERM the app quits with status 0 within {EXIT_TIMEOUT} s",
               f"status {status}")
        tap.ok(not os.path.exists(journal) and stack_state(proj) is not None,
               f"{tag}: SIGTERM folds the journal into the stack (a stack, no journal.bin left)",
               f"{tree_listing(proj)}")
        e = Expect(shape)
        e.paint(polyline_distance_mm(shape, polyline_plane(view, scr), pw, ph), r, 0.5 * max(pw, ph))
        try:
            vol, _ = read_stack(proj, info["dims"])
            bad, detail = e.compare(vol[k])
            others = [int(i) for i in np.nonzero(vol.reshape(vol.shape[0], -1).any(1))[0] if i != k]
            tap.ok(bad == 0 and not others, f"{tag}: the saved stack holds the stroke on slice {k} only",
                   detail + (f"; other slices: {others}" if others else ""))
        except Exception as ex:
            tap.ok(False, f"{tag}: the saved stack can be read", f"{type(ex).__name__}: {ex}")
    finally:
        finish(ctx, app, tag)
        timer.report(tap, "scenario 5")


# ---------------------------------------------------------------- scenario 4

def scenario_readonly(ctx, view):
    tap, tag, timer = ctx.tap, "4", Timer()
    folder, ct, info = new_phantom(ctx, "s4")
    pw, ph = info["spacing_mm"][:2]
    shape = (info["dims"][1], info["dims"][0])
    band = 0.5 * max(pw, ph)
    k = view.depth
    proj = os.path.join(ctx.env["XDG_DATA_HOME"], "metalmark", "projects", info["series_uid"])
    listing = tree_listing(folder)
    mode = stat.S_IMODE(os.stat(folder).st_mode)
    os.chmod(folder, mode & ~0o222)
    app = None
    try:
        app = start_app(ctx, ct, tag, view, timer)
        if app is None:
            return
        if not choose_tool(ctx, app, "b", "Brush", tag):
            return
        r = spin_value(app, "Brush radius (mm)") or 3.0
        scr = points_screen(view, [(40, 60), (55, 62), (70, 64), (85, 66)])
        before = stack_state(proj)
        ptr = Pointer(app, view)
        ptr.drag(scr)
        folded = wait_fold(proj, before)
        timer.mark("folded")
        tap.ok(folded, f"{tag}: the stroke is folded into a stack under $XDG_DATA_HOME/metalmark/projects/<series UID>/",
               f"{proj}: {tree_listing(proj) if os.path.isdir(proj) else 'missing'}; "
               f"data dir: {tree_listing(ctx.env['XDG_DATA_HOME'])}")
        quit_app(ctx, app, tag)
        timer.mark("quit")
        e = Expect(shape)
        e.paint(polyline_distance_mm(shape, polyline_plane(view, scr), pw, ph), r, band)
        compare_stack(ctx, proj, info, k, e, f"{tag}: the stack in the data dir holds the stroke")
        now = tree_listing(folder)
        tap.ok(now == listing and not os.path.exists(ct + ".metalmark"),
               f"{tag}: nothing was created beside the series",
               f"new: {sorted(set(now) - set(listing))}")
    finally:
        os.chmod(folder, mode)
        finish(ctx, app, tag)
        timer.report(tap, "scenario 4")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--keep", help="keep the apps' logs and the geometry screenshot in this folder")
    ap.add_argument("--only", default="1,2,3,4,5", help="scenarios to run, e.g. 1,3")
    args = ap.parse_args()
    tap = Tap()
    if not os.environ.get("DISPLAY"):
        tap.note("no DISPLAY: run this through tests/gui/run-under-xvfb")
    if not shutil.which("xdotool"):
        print("1..0 # SKIP xdotool is not installed")
        return 0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mm-annotate-") as tmp:
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        # The app's own XDG folders, inside the temporary folder: scenario 4 looks there, and
        # nothing a user (or another test) keeps is read or written.
        env = dict(os.environ)
        for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"), ("XDG_CACHE_HOME", "cache")):
            env[var] = os.path.join(tmp, "xdg", sub)
            os.makedirs(env[var], exist_ok=True)
        env.setdefault("GSETTINGS_BACKEND", "memory")
        env.setdefault("GSK_RENDERER", "cairo")
        ctx = Ctx(args, tap, tmp, env)
        try:
            folder, ct, info = new_phantom(ctx, "geometry")
            view, png = screenshot_geometry(args, ct, env, args.keep or tmp, info)
        except Exception as e:
            tap.ok(False, "the geometry run (--screenshot) prints the axial view's placement", f"{e}")
            return tap.done()
        tap.note(f"axial {view}; geometry run took {time.monotonic() - t0:.2f} s")
        ox, oy, s = view.fit(view.w, view.h)
        tap.ok(abs(ox - view.ox) < 1e-6 and abs(oy - view.oy) < 1e-6 and abs(s - view.s) < 1e-9,
               "the printed origin and scale are the centred fit of the plane in the view",
               f"computed ({ox}, {oy}, {s})")
        shot = cv2.imread(png)
        tap.ok(shot is not None and shot.shape[1] >= view.x + view.w and shot.shape[0] >= view.y + view.h,
               "the view lies inside the screenshot", f"{None if shot is None else shot.shape}")
        only = {int(x) for x in args.only.split(",") if x.strip()}
        for n, fn in ((1, scenario_paint), (2, scenario_crash), (3, scenario_segment), (4, scenario_readonly),
                      (5, scenario_sigterm)):
            if n not in only:
                continue
            t = time.monotonic()
            try:
                fn(ctx, view)
            except Exception as e:  # a scenario that breaks must not hide the others
                import traceback
                tap.ok(False, f"scenario {n} ran to its end", f"{type(e).__name__}: {e}")
                tap.note(traceback.format_exc())
            finally:
                for a in ctx.apps:
                    a.stop()
                ctx.apps.clear()
            tap.note(f"scenario {n}: {time.monotonic() - t:.1f} s")
        if tap.failed:
            for log_name in sorted(os.listdir(ctx.logdir)):
                if log_name.endswith(".log"):
                    with open(os.path.join(ctx.logdir, log_name), errors="replace") as f:
                        log = f.read().strip()
                    if log:
                        tap.note(f"{log_name} (last 2000 characters):\n" + log[-2000:])
    tap.note(f"total {time.monotonic() - t0:.1f} s")
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
