#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The progressive load (issue 12) as a person meets it, under a window manager (openbox:
run through run-under-xvfb with MM_TEST_WM=openbox). A 1000-slice phantom (Rescale
Intercept -1024, noise so that every slice differs) is read with the background decoding
slowed by MM_TEST_SLOW_DECODE_MS, so that the test acts while the series is still loading:

  a) the axial view shows a slice and says "loading N %" while the series loads; the tools
     (Brush, Segment Metal with Ctrl+M) and the panel's figures wait for the whole series;
  b) Home, pressed while loading, asks for slice 1 (decoded last in the normal order): the
     screen shows its pixels — compared with an independent rendering of that slice by
     pydicom + numpy with the view's window/level — while the load is still going;
  c) once every slice is in, the panel's figures equal `metalmark-cli info --json`'s and the
     tools are usable;
  d) opening another series (Ctrl+O, a folder typed into the chooser) during a progressive
     load cancels it: the other series comes up whole and the keys move its slices;
  e) closing the window (Ctrl+Q) during a progressive load ends the app at once.
TAP on stdout. Usage: test_progressive.py --app APP --cli CLI"""

import argparse
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

try:
    import pyatspi
except ImportError:
    print("1..0 # SKIP pyatspi is not installed (python3-pyatspi, for /usr/bin/python3)")
    sys.exit(0)
for tool, pkg in (("xdotool", "xdotool"), ("import", "imagemagick")):
    if shutil.which(tool) is None:
        print(f"1..0 # SKIP {tool} is not installed ({pkg})")
        sys.exit(0)

from test_atspi import NUM, START_TIMEOUT, UI_TIMEOUT, App, close_dp, finish, metadata_pairs, nums, view, view_labels  # noqa: E402
from test_screenshot import Series, np, cv2, window_grey  # noqa: E402
from test_keys import APP, centre, click, extents, key, sensitive, window_origin, xdo  # noqa: E402

N_SLICES = 1000
SIZE = 128
SLOW_MS = 200         # per slice, two decoding threads: about 100 s for the whole series
LOAD_TIMEOUT = 240    # seconds for the whole slowed series on a loaded machine
MIN_MATCH = 0.99      # of the compared pixels (the texts drawn over the view are left out)

# "Axial 500/1000 (I→S) · 819.6 mm · loading 43 %", or its shorter variants.
LOADING_RE = re.compile(r"(\d+)/(\d+)\b.*· loading (\d+) %$")
DONE_RE = re.compile(r"^Axial (\d+)/(\d+) \((\w+)→(\w+)\) · (" + NUM + r") mm$")


def slice_text(app):
    img = view(app, "Axial")
    if img is None:
        return None
    for t in view_labels(img):
        if LOADING_RE.search(t) or DONE_RE.match(t):
            return t
    return None


def loading(app):
    t = slice_text(app)
    m = LOADING_RE.search(t) if t else None
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def loaded(app):
    t = slice_text(app)
    m = DONE_RE.match(t) if t else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def window_level(app):
    img = view(app, "Axial")
    for t in view_labels(img) if img is not None else []:
        m = re.match(r"^W (" + NUM + ") L (" + NUM + ")", t)
        if m:
            return float(m.group(1)), float(m.group(2))
    return None


def grab(path):
    subprocess.run(["import", "-window", "root", path], check=True, timeout=60)
    return cv2.imread(path, cv2.IMREAD_COLOR)


def expected_axial(series, k, w, h, window, level):
    """The axial view of slice k at the fit (zoom 1, no pan), as mm_renderer_draw computes it."""
    img, pw, ph = series.vol[k], series.col_spacing, series.row_spacing
    mm_w, mm_h = img.shape[1] * pw, img.shape[0] * ph
    s = min(w / mm_w, h / mm_h)
    ox, oy = 0.5 * (w - mm_w * s), 0.5 * (h - mm_h * s)
    u = np.floor((np.arange(w) + 0.5 - ox) / s / pw)
    v = np.floor((np.arange(h) + 0.5 - oy) / s / ph)
    u_ok, v_ok = (u >= 0) & (u < img.shape[1]), (v >= 0) & (v < img.shape[0])
    hu = img[np.ix_(np.where(v_ok, v, 0).astype(np.intp), np.where(u_ok, u, 0).astype(np.intp))]
    grey = window_grey(hu, window, level, False)
    return np.where(np.outer(v_ok, u_ok), grey, 0).astype(np.uint8)


def match_fraction(shot, app, expected):
    """Fraction of matching pixels of the axial view's middle (away from the texts in its
    corners and edges). The view's screen position comes from AT-SPI (window coordinates) and
    the window manager's placement, which client-side decorations offset: the exact place is
    found by matching the middle of the expected image near there (cv2.matchTemplate)."""
    e = extents(view(app, "Axial"))
    if e is None or shot is None:
        return 0.0
    ox, oy = window_origin(app)
    x0, y0, w, h = ox + e[0], oy + e[1], e[2], e[3]
    ys, xs = slice(h // 5, h - h // 5), slice(w // 5, w - w // 5)
    want = expected[ys, xs]
    # A patch from the middle, searched for within 80 pixels of where AT-SPI puts it.
    ph, pw = min(120, want.shape[0]), min(120, want.shape[1])
    py, px = (want.shape[0] - ph) // 2, (want.shape[1] - pw) // 2
    patch = want[py:py + ph, px:px + pw]
    gx, gy = x0 + xs.start + px, y0 + ys.start + py  # the patch's place if AT-SPI were exact
    r = 80
    ax, ay = max(0, gx - r), max(0, gy - r)
    area = shot[ay:gy + ph + r, ax:gx + pw + r, 1]
    if area.shape[0] < ph or area.shape[1] < pw:
        return 0.0
    res = cv2.matchTemplate(area, patch, cv2.TM_SQDIFF)
    _, _, loc, _ = cv2.minMaxLoc(res)
    dx, dy = ax + loc[0] - gx, ay + loc[1] - gy
    crop = shot[y0 + dy:y0 + dy + h, x0 + dx:x0 + dx + w]
    if crop.shape[:2] != (h, w):
        return 0.0
    c = crop[ys, xs]
    return float(((c[..., 0] == want) & (c[..., 1] == want) & (c[..., 2] == want)).mean())


def run_info(cli, ct):
    p = subprocess.run([cli, "info", "--json", ct], capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"info: {p.stderr}")
    return json.loads(p.stdout)


def by_name_prefix(app, prefix):
    return find(app.acc, lambda n: (name(n) or "").startswith(prefix) and "button" in role(n))


def check_figures(tap, what, app, info):
    got = wait_for(lambda: metadata_pairs(app), LOAD_TIMEOUT)
    if not tap.ok(got is not None, f"{what}: the panel's figures are filled"):
        return
    pairs = got[0]

    def field(key, check, want):
        t = pairs.get(key)
        good = False
        try:
            good = t is not None and check(t)
        except (ValueError, IndexError):
            pass
        tap.ok(good, f"{what}: {key} {t!r} equals info's", f"want {want}")

    field("Dimensions", lambda t: [int(x) for x in re.findall(r"\d+", t)[:3]] == info["dims"], info["dims"])
    field("Maximum", lambda t: close_dp(nums(t)[0], info["max"], 2), info["max"])
    field("Minimum", lambda t: close_dp(nums(t)[0], info["min"], 2), info["min"])
    field("Mean", lambda t: close_dp(nums(t)[0], info["mean"], 4), info["mean"])
    field("Centre (LPS)", lambda t: all(close_dp(a, b, 3) for a, b in zip(nums(t), info["centre_lps_mm"])),
          info["centre_lps_mm"])
    field("Files", lambda t: [int(x) for x in re.findall(r"\d+", t)] == [info["files_read"], info["files_skipped"]],
          (info["files_read"], info["files_skipped"]))


def scenario_progressive(tap, args, big, series, info, tmp, env):
    app = App(args.app, [big], env=env, logdir=tmp, tag="progressive")
    APP[0] = app
    try:
        if not tap.ok(app.find_accessible() is not None, "the app shows up on the accessibility bus"):
            return
        t0 = time.monotonic()

        def poll():
            t = slice_text(app)
            if os.environ.get("MM_TEST_TRACE"):
                Tap.note(f"{time.monotonic() - t0:.2f} s: {t!r}")
            return loading(app)
        first = wait_for(poll, START_TIMEOUT)
        if not tap.ok(first is not None, "a) the axial view shows a slice and 'loading N %' while the series loads",
                      f"slice text {slice_text(app)!r}"):
            return
        tap.note(f"first shown: slice {first[0]}/{first[1]}, {first[2]} % in")
        tap.ok(first[0] == N_SLICES // 2 + 1, f"a) the first slice shown is the middle one ({N_SLICES // 2 + 1})",
               f"{first}")
        # Asked first, while the load has most of its way to go (asked after b), a fast
        # machine or a light load could have finished it).
        tap.ok(loading(app) and metadata_pairs(app) is None and loading(app),
               "a) the panel shows no figures while loading")
        axial = view(app, "Axial")
        click(axial)
        key("ctrl+m")  # Segment Metal: disabled while loading, so nothing to undo afterwards
        key("Home")

        # b) slice 1, asked for while loading
        asked = wait_for(lambda: loading(app) and loading(app)[0] == 1, UI_TIMEOUT)
        tap.ok(asked, "b) Home while loading: the view goes to slice 1", f"slice text {slice_text(app)!r}")
        wl = window_level(app)
        e = extents(view(app, "Axial"))
        if not tap.ok(wl is not None and e is not None, "b) the view's window/level and size are readable",
                      f"{wl} {e}"):
            return
        want = expected_axial(series, 0, e[2], e[3], wl[0], wl[1])
        other = expected_axial(series, 1, e[2], e[3], wl[0], wl[1])
        # The comparison tells slices apart: slice 2's rendering differs from slice 1's.
        mid = (slice(e[3] // 5, e[3] - e[3] // 5), slice(e[2] // 5, e[2] - e[2] // 5))
        tap.ok((want[mid] != other[mid]).mean() > 0.2 and (want[mid] > 0).mean() > 0.2,
               "b) the reference renderings of slices 1 and 2 differ (noise), and show the body",
               f"differ {(want[mid] != other[mid]).mean():.3f}, non-black {(want[mid] > 0).mean():.3f}")
        shot_path = os.path.join(tmp, "shot.png")
        best, still = 0.0, None

        def shown():
            nonlocal best, still
            before = loading(app)
            frac = match_fraction(grab(shot_path), app, want)
            best = max(best, frac)
            if frac >= MIN_MATCH:
                still = before is not None and loading(app) is not None
                return True
            return False
        got = wait_for(shown, LOAD_TIMEOUT, interval=0.2)
        tap.ok(got, f"b) slice 1 on screen equals the pydicom rendering (>= {MIN_MATCH:.0%} of its pixels)",
               f"best {best:.4f}")
        tap.ok(still, "b) ... while the series was still loading (the view said 'loading' before and after "
               "that screenshot)", f"slice text now {slice_text(app)!r}")
        if got:
            Tap.note(f"slice 1 shown at {loading(app)}")
            tap.ok(match_fraction(grab(shot_path), app, other) < 0.9,
                   "b) the same screenshot does not match slice 2's rendering")


        # c) the whole series in
        done = wait_for(lambda: loaded(app), LOAD_TIMEOUT, interval=0.2)
        tap.ok(done is not None and done[0] == 1, "c) the load ends: 'loading' is gone, slice 1 still shown",
               f"slice text {slice_text(app)!r}")
        check_figures(tap, "c)", app, info)
        time.sleep(1)
        wl2 = window_level(app)  # the default preset applies once the series is in
        e2 = extents(view(app, "Axial"))  # the panel's figures may have changed the view's size
        want2 = expected_axial(series, 0, e2[2], e2[3], wl2[0], wl2[1]) if wl2 and e2 else want
        fracs = []
        tap.ok(wait_for(lambda: fracs.append(match_fraction(grab(shot_path), app, want2)) or fracs[-1] >= MIN_MATCH,
                        UI_TIMEOUT),
               "c) slice 1 is still drawn right (window/level and view size as now)",
               f"W/L {wl2}, view {e2}, match {fracs[-3:]}")
        undo = wait_for(lambda: find(app.acc, lambda n: name(n) == "Undo"), UI_TIMEOUT)
        tap.ok(undo is not None and not sensitive(undo),
               "c) Ctrl+M pressed while loading did nothing (no step to undo)")
        click(view(app, "Axial"))
        key("ctrl+m")
        tap.ok(undo is not None and wait_for(lambda: sensitive(undo), 60),
               "c) once the series is in, the same Ctrl+M segments (a step to undo)")
        tap.ok(app.alive(), "c) the app is still running")
    finally:
        finish(tap, app, "a-c)")


def scenario_open_other(tap, args, big, small, small_info, tmp, env):
    app = App(args.app, [big], env=env, logdir=tmp, tag="open-other")
    APP[0] = app
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: loading(app), START_TIMEOUT),
                      "d) the big series is loading"):
            return
        click(view(app, "Axial"))
        key("ctrl+o")
        dialog = wait_for(lambda: find(app.acc, lambda n: name(n) == "Open a Series Folder"), 3 * UI_TIMEOUT)
        if not tap.ok(dialog is not None, "d) Ctrl+O opens the folder chooser during the load"):
            return
        time.sleep(0.5)
        xdo("type", "--delay", "20", small)
        time.sleep(0.5)
        accept = find(dialog, lambda n: role(n) == "push button" and name(n).replace("_", "") == "Open")
        if accept is not None:
            safe(lambda: accept.queryAction().doAction(0))
        else:
            xdo("key", "Return")
        n_small = small_info["dims"][2]
        up = wait_for(lambda: loaded(app) and loaded(app)[1] == n_small, LOAD_TIMEOUT, interval=0.2)
        if not tap.ok(up, f"d) the other series comes up whole ({n_small} slices, no 'loading')",
                      f"slice text {slice_text(app)!r}; windows "
                      + str([(role(c), name(c)) for c in children(app.acc)])):
            if os.environ.get("MM_TEST_SHOTS"):
                grab(os.path.join(os.environ["MM_TEST_SHOTS"], "open-other.png"))
        check_figures(tap, "d)", app, small_info)
        time.sleep(2 * SLOW_MS / 1000 + 1)  # the cancelled load, had it gone on, would show now
        tap.ok(loaded(app) and loaded(app)[1] == n_small, "d) the cancelled load does not come back",
               f"slice text {slice_text(app)!r}")
        click(view(app, "Axial"))
        before = loaded(app)[0] if loaded(app) else None
        key("Down")
        tap.ok(before is not None and wait_for(lambda: loaded(app) and loaded(app)[0] == before + 1, UI_TIMEOUT),
               "d) the app stays usable: Down moves to the next slice", f"slice text {slice_text(app)!r}")
    finally:
        finish(tap, app, "d)")


def scenario_close(tap, args, big, tmp, env):
    app = App(args.app, [big], env=env, logdir=tmp, tag="close")
    APP[0] = app
    try:
        if not tap.ok(app.find_accessible() is not None and wait_for(lambda: loading(app), START_TIMEOUT),
                      "e) the big series is loading", f"slice text {slice_text(app)!r}, alive {app.alive()}, "
                      f"output {app.output()[-300:]!r}"):
            return
        click(view(app, "Axial"))
        t0 = time.monotonic()
        key("ctrl+q")
        try:
            status = app.proc.wait(60)
        except subprocess.TimeoutExpired:
            status = None
        dt = time.monotonic() - t0
        tap.ok(status == 0, "e) Ctrl+Q during the load ends the app cleanly (status 0)", f"status {status}")
        tap.ok(dt < 10, "e) ... at once, not after the whole series (about 100 s slowed)", f"{dt:.1f} s")
    finally:
        finish(tap, app, "e)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--only", default="progressive,open,close",
                    help="scenarios to run: progressive, open, close (comma-separated)")
    args = ap.parse_args()
    only = args.only.split(",")
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix="mm-progressive-")
    try:
        big_dir, small_dir = os.path.join(tmp, "big"), os.path.join(tmp, "small")
        subprocess.run([args.cli, "phantom", big_dir, "--size", str(SIZE), "--slices", str(N_SLICES),
                        "--noise", "60", "--shuffle-names"], check=True, stdout=subprocess.DEVNULL, timeout=300)
        subprocess.run([args.cli, "phantom", small_dir, "--size", str(SIZE), "--slices", "30", "--seed", "2"],
                       check=True, stdout=subprocess.DEVNULL, timeout=120)
        big, small = os.path.join(big_dir, "ct"), os.path.join(small_dir, "ct")
        info, small_info = run_info(args.cli, big), run_info(args.cli, small)
        tap.ok(info["rescale_slope_intercept"] == [1, -1024],
               "the phantom stores values with Rescale Intercept -1024", str(info["rescale_slope_intercept"]))
        series = Series(big) if "progressive" in only else None
        env = dict(os.environ, MM_TEST_SLOW_DECODE_MS=str(SLOW_MS))
        if "progressive" in only:
            scenario_progressive(tap, args, big, series, info, tmp, env)
        if "open" in only:
            scenario_open_other(tap, args, big, small, small_info, tmp, env)
        if "close" in only:
            scenario_close(tap, args, big, tmp, env)
    finally:
        logs = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".log")]
        for p in logs if tap.failed else []:
            Tap.note(f"--- {os.path.basename(p)}")
            Tap.note(open(p, errors="replace").read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
