#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pixel check of the desktop app's slice views against an independent reading of the series.

Runs `metalmark --screenshot FILE --layout one|three PATH` (under Xvfb: see run-under-xvfb),
parses the view geometry it prints, reads the same series with pydicom + numpy (slices sorted
by Image Position (Patient) projected on the normal), renders every view as the DICOM linear
window prescribes, and compares with the PNG pixel for pixel. Compared: the part of each view
that shows the plane image, less generous rectangles around the text and marks drawn over it
(labels, orientation letters, scale bar, crosshair). At least 99.9 % must match exactly, and a
neighbouring slice, a level one HU off, or the view shifted by one pixel must match clearly
worse (so the check can tell an off-by-one). The part of the view outside the plane must be
black.

The texts over the views (issue 11, bugs 4-6) are drawn on boxes whose rectangles the app
prints: at 1024x700 and 1920x1080, one and three planes, normal and inverted, mask on, each
must lie inside its view, overlap no other, be shown in full (the slice text always, every
text in the large window), have its ink span its glyphs' width in the PNG and stand out from
its box (contrast >= 4.5). At --zoom 100 the phantom's body is as many screen pixels wide as
it has image columns.

TAP on stdout. Usage:
  test_screenshot.py --app APP --cli CLI [--seed-ct DIR] [--keep DIR]
The seed CT part runs when --seed-ct or MM_SEED_CT names a folder, else it is reported skipped.
"""

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap  # noqa: E402

try:
    import cv2
    import numpy as np
    import pydicom
except ImportError as e:  # reported as skipped, saying which package is missing
    print(f"1..0 # SKIP {e.name} is not installed (python3-opencv python3-numpy python3-pydicom)")
    sys.exit(0)

MIN_MATCH = 0.999
APP_TIMEOUT = 180
PLANE_NAMES = ("axial", "coronal", "sagittal")


class Series:
    """HU volume vol[k, j, i] (slice, row, column) and its geometry, read with pydicom."""

    def __init__(self, folder):
        slices = []
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not os.path.isfile(path):
                continue
            try:
                ds = pydicom.dcmread(path, force=True)
            except Exception:
                continue
            if "PixelData" not in ds or "ImagePositionPatient" not in ds:
                continue
            if "PhotometricInterpretation" not in ds:
                ds.PhotometricInterpretation = "MONOCHROME2"  # single-sample data without it
            slices.append(ds)
        if not slices:
            raise RuntimeError(f"{folder}: no DICOM image with a position")
        iop = [float(v) for v in slices[0].ImageOrientationPatient]
        normal = np.cross(np.array(iop[:3]), np.array(iop[3:]))
        pos = [float(np.dot([float(v) for v in ds.ImagePositionPatient], normal)) for ds in slices]
        order = sorted(range(len(slices)), key=lambda n: pos[n])
        slices = [slices[n] for n in order]
        pos = [pos[n] for n in order]
        first = slices[0]
        self.rows, self.cols, self.nslices = int(first.Rows), int(first.Columns), len(slices)
        self.row_spacing = float(first.PixelSpacing[0])  # between rows: down the image
        self.col_spacing = float(first.PixelSpacing[1])  # between columns: across
        if len(pos) > 1:
            self.slice_spacing = (pos[-1] - pos[0]) / (len(pos) - 1)  # mean gap
        else:
            self.slice_spacing = float(first.get("SliceThickness", 1.0) or 1.0)
        vol = np.empty((self.nslices, self.rows, self.cols), dtype=np.float64)
        integral = True
        for k, ds in enumerate(slices):
            slope = float(ds.get("RescaleSlope", 1.0) or 1.0)
            intercept = float(ds.get("RescaleIntercept", 0.0) or 0.0)
            vol[k] = ds.pixel_array.astype(np.float64) * slope + intercept
            integral = integral and slope == int(slope) and intercept == int(intercept)
        if not (integral and vol.min() >= -32768 and vol.max() <= 32767):
            # The app keeps such a volume as float32: window what it keeps.
            vol = vol.astype(np.float32).astype(np.float64)
        self.vol = vol
        self.files = len(slices)

    def plane(self, plane, depth):
        """(image[v, u], pixel_w, pixel_h, number of planes along the normal)."""
        if plane == 0:  # axial: u = i, v = j, depth k
            return self.vol[depth], self.col_spacing, self.row_spacing, self.nslices
        if plane == 1:  # coronal: u = i, v = last - k, depth j
            return self.vol[::-1, depth, :], self.col_spacing, self.slice_spacing, self.rows
        # sagittal: u = j, v = last - k, depth i
        return self.vol[::-1, :, depth], self.row_spacing, self.slice_spacing, self.cols

    def depth_count(self, plane):
        return (self.nslices, self.rows, self.cols)[plane]


def window_grey(x, window, level, invert):
    """DICOM linear window to 0..255 (PS3.3 C.11.2.1.2.1), rounded half up like the app."""
    window = max(window, 1.0)
    lo = level - 0.5 - (window - 1) / 2
    hi = level - 0.5 + (window - 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        y = ((x - (level - 0.5)) / (window - 1) + 0.5) * 255.0
    y = np.clip(y, 0, 255)
    g = np.floor(y + 0.5)
    g = np.where(x <= lo, 0, np.where(x > hi, 255, g)).astype(np.uint8)
    return 255 - g if invert else g


# ---------------------------------------------------------------- the app's output

VIEW_RE = re.compile(r"^view (.*)$")
TEXT_RE = re.compile(r"^text (.*?)(?: (?:text|full)=(.*))?$")
SHOT_RE = re.compile(r"^screenshot (.+?) width=(\d+) height=(\d+)(?: .*)?$")


def parse_output(text):
    shot, views = None, []
    for line in text.splitlines():
        m = SHOT_RE.match(line.strip())
        if m:
            shot = {"file": m.group(1), "width": int(m.group(2)), "height": int(m.group(3))}
            continue
        m = VIEW_RE.match(line.strip())
        if m:
            fields = dict(kv.split("=", 1) for kv in m.group(1).split())
            v = {k: float(x) for k, x in fields.items()}
            for k in ("plane", "x", "y", "width", "height", "depth", "invert"):
                v[k] = int(v[k])
            v["texts"] = []
            views.append(v)
            continue
        m = TEXT_RE.match(line.rstrip("\n"))
        if m and views:
            # "text plane=P slot=NAME shown=1 x= y= width= height= text_width= text_height=
            # variant= text=..." (screen coordinates of the box), or "shown=0 full=..."
            t = dict(kv.split("=", 1) for kv in m.group(1).split())
            t = {k: (x if k == "slot" else int(float(x))) for k, x in t.items()}
            t["text"] = m.group(2) or ""
            views[-1]["texts"].append(t)
    return shot, views


def glib_complaints(text):
    """GLib-style CRITICAL and WARNING messages ("Gtk-CRITICAL **: ...") in the app's output."""
    return [ln.strip() for ln in text.splitlines() if re.search(r"-(CRITICAL|WARNING) \*\*", ln)]


def run_app(app, png, layout, path, extra=()):
    cmd = [app, "--layout", layout, "--screenshot", png] + list(extra) + [path]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=APP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {APP_TIMEOUT} s"
    return p.returncode, p.stdout, p.stderr


# ---------------------------------------------------------------- what may differ

def overlay_mask(view, series, views_by_plane, three):
    """True where text or marks are drawn over the image (generous rectangles), view coords.

    The texts (corner texts, orientation letters, scale bar) are drawn on boxes whose
    rectangles the app prints ("text" lines); in three-view layout the crosshair lines run
    through the cursor."""
    w, h = view["width"], view["height"]
    m = np.zeros((h, w), dtype=bool)

    def rect(x0, y0, x1, y1):
        x0, y0 = max(0, int(math.floor(x0))), max(0, int(math.floor(y0)))
        x1, y1 = min(w, int(math.ceil(x1))), min(h, int(math.ceil(y1)))
        if x1 > x0 and y1 > y0:
            m[y0:y1, x0:x1] = True

    # The texts' boxes as the app printed them (screen coordinates), one pixel more around.
    for t in view["texts"]:
        if t.get("shown"):
            x, y = t["x"] - view["x"], t["y"] - view["y"]
            rect(x - 1, y - 1, x + t["width"] + 1, y + t["height"] + 1)
    s = view["scale"]
    if three:
        # The crosshair marks the cursor, which is where the other planes are cut: 1 px lines
        # at the centre of the cursor's plane pixel, blended (so up to 2 px), masked +-2 px.
        plane = view["plane"]
        last = series.nslices - 1
        dep = {p: views_by_plane[p]["depth"] for p in views_by_plane}
        if len(dep) == 3:
            i, j, k = dep[2], dep[1], dep[0]
            u, vv = {0: (i, j), 1: (i, last - k), 2: (j, last - k)}[plane]
            _, pw, ph, _ = series.plane(plane, view["depth"])
            cx = view["origin_x"] + (u + 0.5) * pw * s
            cy = view["origin_y"] + (vv + 0.5) * ph * s
            rect(cx - 2, 0, cx + 3, h)
            rect(0, cy - 2, w, cy + 3)
    return m


def expected_view(series, view, depth=None, level=None, shift=(0, 0)):
    """Expected grey of every view pixel and whether it lies inside the plane image."""
    plane = view["plane"]
    depth = view["depth"] if depth is None else depth
    level = view["level"] if level is None else level
    img, pw, ph, _ = series.plane(plane, depth)
    w, h = view["width"], view["height"]
    ox, oy, s = view["origin_x"] + shift[0], view["origin_y"] + shift[1], view["scale"]
    # Same operations, in the same order, as mm_renderer_draw.
    u = np.floor((np.arange(w) + 0.5 - ox) / s / pw)
    v = np.floor((np.arange(h) + 0.5 - oy) / s / ph)
    u_ok = (u >= 0) & (u < img.shape[1])
    v_ok = (v >= 0) & (v < img.shape[0])
    ui = np.where(u_ok, u, 0).astype(np.intp)
    vi = np.where(v_ok, v, 0).astype(np.intp)
    hu = img[np.ix_(vi, ui)]
    grey = window_grey(hu, view["window"], level, bool(view["invert"]))
    inside = np.outer(v_ok, u_ok)
    return np.where(inside, grey, 0).astype(np.uint8), inside


def png_view(png, view):
    x, y, w, h = view["x"], view["y"], view["width"], view["height"]
    return png[y:y + h, x:x + w]


def matches(png_crop, expected):
    b, g, r = png_crop[..., 0], png_crop[..., 1], png_crop[..., 2]
    return (b == expected) & (g == expected) & (r == expected)


# ---------------------------------------------------------------- texts over the views

CORNER_SLOTS = ("slice", "window", "zoom", "scale", "left", "right", "top", "bottom")
MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text


def luminance(rgb):
    """Relative luminance (WCAG 2) of sRGB pixels, rgb[..., 3] in 0..255."""
    c = rgb.astype(np.float64) / 255.0
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * c[..., 0] + 0.7152 * c[..., 1] + 0.0722 * c[..., 2]


def check_texts(tap, what, png, views, all_full):
    """The texts drawn over each view, read back from the PNG: every one the app says it drew
    lies inside its view, none overlaps another, the slice text (and with all_full every
    text) is shown in full, its ink spans the printed text width (so it is drawn whole, not
    clipped), and it stands out from its box (contrast of ink and backing)."""
    rgb = png[..., 2::-1]  # BGR to RGB
    for view in views:
        name = PLANE_NAMES[view["plane"]]
        texts = {t["slot"]: t for t in view["texts"]}
        missing = [s for s in CORNER_SLOTS if s not in texts]
        tap.ok(not missing, f"{what}, {name}: the view reports its texts", f"missing {missing}")
        shown = [t for t in view["texts"] if t.get("shown")]
        vx, vy, vw, vh = view["x"], view["y"], view["width"], view["height"]
        outside = [t["slot"] for t in shown if t["x"] < vx or t["y"] < vy or t["x"] + t["width"] > vx + vw
                   or t["y"] + t["height"] > vy + vh]
        tap.ok(not outside, f"{what}, {name}: every text lies inside the view", f"outside: {outside}")
        overlaps = [(a["slot"], b["slot"]) for i, a in enumerate(shown) for b in shown[i + 1:]
                    if a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
                    and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]]
        tap.ok(not overlaps, f"{what}, {name}: no two texts overlap", f"overlapping: {overlaps}")
        must = CORNER_SLOTS if all_full else ("slice", "left", "right", "top", "bottom")
        short = [f"{s}: {texts[s].get('text') or texts[s].get('full')!r} (variant {texts[s].get('variant')})"
                 for s in must if s in texts and not (texts[s].get("shown") and texts[s]["variant"] == 0)]
        tap.ok(not short, f"{what}, {name}: {'every text' if all_full else 'the slice text and the letters'} "
               "shown in full", "; ".join(short))
        bad_ink, bad_contrast, worst = [], [], None
        for t in shown:
            box = rgb[t["y"]:t["y"] + t["height"], t["x"]:t["x"] + t["width"]]
            lum = luminance(box)
            back = float(np.median(lum))
            ink_level = float(np.percentile(lum, 99))
            ratio = (ink_level + 0.05) / (back + 0.05)
            worst = ratio if worst is None else min(worst, ratio)
            if ratio < MIN_CONTRAST:
                bad_contrast.append(f"{t['slot']} {ratio:.1f}")
            if t["slot"] == "scale":
                continue  # its bar is wider than its caption
            # Ink: pixels clearly brighter than the backing; their columns span the text.
            ink = lum > back + 0.1 * (ink_level - back)
            cols = np.nonzero(ink.any(axis=0))[0]
            span = int(cols[-1] - cols[0] + 1) if len(cols) else 0
            if abs(span - t["ink_width"]) > 2:
                bad_ink.append(f"{t['slot']} ink {span} px for {t['ink_width']} px of glyphs")
        tap.ok(not bad_ink, f"{what}, {name}: each text's ink spans its measured width (drawn whole)",
               "; ".join(bad_ink))
        tap.ok(not bad_contrast and worst is not None,
               f"{what}, {name}: every text stands out from its box (contrast >= {MIN_CONTRAST})",
               f"lowest {worst:.1f}" + (f"; low: {bad_contrast}" if bad_contrast else "") if worst else "no text")


def check_sizes(tap, app, series, path, workdir, keep):
    """1024x700 and 1920x1080, one and three planes, normal and inverted, the mask on: the
    texts over the views (the pixels are compared in check_layout, without a mask)."""
    shots = {}
    for size in ("1024x700", "1920x1080"):
        for layout in ("one", "three"):
            for invert in (False, True):
                label = f"{size}-{layout}{'-inverted' if invert else ''}"
                png_path = os.path.join(workdir, f"phantom-{label}.png")
                extra = ["--window-size", size, "--segment", "--preset", "4"] + (["--invert"] if invert else [])
                rc, out, err = run_app(app, png_path, layout, path, extra)
                what = f"{label}, mask on"
                if not tap.ok(rc == 0, f"{what}: metalmark --screenshot exits 0",
                              f"status {rc}: {err.strip()[-300:]}" if rc else ""):
                    continue
                complaints = glib_complaints(err)
                tap.ok(not complaints, f"{what}: no GLib/GTK criticals or warnings on stderr",
                       " | ".join(complaints[:5]))
                shot, views = parse_output(out)
                png = cv2.imread(png_path, cv2.IMREAD_COLOR) if shot else None
                w, h = (int(x) for x in size.split("x"))
                if not tap.ok(png is not None and png.shape[1] == w and png.shape[0] == h,
                              f"{what}: the window is {w} x {h}",
                              f"PNG {None if png is None else png.shape[1::-1]}"):
                    continue
                tap.ok(all(v["invert"] == int(invert) for v in views) and len(views) == (1 if layout == "one" else 3),
                       f"{what}: {len(views)} view(s), inverted {invert}")
                check_texts(tap, what, png, views, all_full=(size == "1920x1080"))
                shots[label] = png_path
    return shots


def check_zoom_one_to_one(tap, app, series, path, workdir):
    """At "100 %" one image pixel covers one screen pixel: the phantom's body is as many
    screen pixels wide in the PNG as it has columns in the DICOM slice."""
    png_path = os.path.join(workdir, "phantom-zoom-100.png")
    rc, out, err = run_app(app, png_path, "one", path, ["--window-size", "1024x700", "--zoom", "100"])
    if not tap.ok(rc == 0, "zoom 100 %: metalmark --zoom 100 --screenshot exits 0",
                  f"status {rc}: {err.strip()[-300:]}" if rc else ""):
        return
    shot, views = parse_output(out)
    png = cv2.imread(png_path, cv2.IMREAD_COLOR)
    v = views[0]
    zoom = {t["slot"]: t for t in v["texts"]}.get("zoom", {})
    tap.ok(zoom.get("text") == "Zoom 100 %", "zoom 100 %: the view says 'Zoom 100 %'", repr(zoom.get("text")))
    # Body columns in the slice's middle row (above -500 HU), and in the PNG's row through it.
    img, pw, ph, _ = series.plane(0, v["depth"])
    row = img.shape[0] // 2
    body = np.nonzero(img[row] > -500)[0]
    want = int(body[-1] - body[0] + 1)
    y = int(v["origin_y"] + (row + 0.5) * ph * v["scale"])
    # Only across the plane's image (the orientation letters sit at the view's edges).
    x0 = max(0, int(v["origin_x"]))
    x1 = min(v["width"], int(math.ceil(v["origin_x"] + img.shape[1] * pw * v["scale"])))
    grey = png[v["y"] + y, v["x"] + x0:v["x"] + x1, 1].astype(int)
    lit = np.nonzero(grey > 0)[0]
    got = int(lit[-1] - lit[0] + 1) if len(lit) else 0
    tap.ok(abs(got - want) <= 1, "zoom 100 %: the body is as wide on screen as in image pixels",
           f"{got} screen px for {want} image px (scale {v['scale']:.4f} px/mm, pixel {pw} mm)")


# ---------------------------------------------------------------- one screenshot

def check_layout(tap, app, series, path, layout, workdir, label, keep):
    png_path = os.path.join(workdir, f"{label}-{layout}.png")
    rc, out, err = run_app(app, png_path, layout, path)
    what = f"{label}, layout {layout}"
    if not tap.ok(rc == 0, f"{what}: metalmark --screenshot exits 0", f"status {rc}: {err.strip()[-500:]}" if rc else ""):
        return
    tap.note(out.strip())
    complaints = glib_complaints(err)
    tap.ok(not complaints, f"{what}: no GLib/GTK criticals or warnings on stderr", " | ".join(complaints[:5]))
    shot, views = parse_output(out)
    if not tap.ok(shot is not None and os.path.isfile(png_path),
                  f"{what}: prints 'screenshot FILE width height' and writes the PNG", out[-300:] if shot is None else ""):
        return
    png = cv2.imread(png_path, cv2.IMREAD_UNCHANGED)
    if png is not None and png.ndim == 2:
        png = cv2.cvtColor(png, cv2.COLOR_GRAY2BGR)
    if not tap.ok(png is not None and png.shape[1] == shot["width"] and png.shape[0] == shot["height"],
                  f"{what}: PNG is {shot['width']} x {shot['height']} as printed",
                  f"PNG {None if png is None else png.shape}"):
        return
    want_planes = [0] if layout == "one" else [0, 1, 2]
    planes = [v["plane"] for v in views]
    if not tap.ok(planes == want_planes, f"{what}: prints one view line per visible view, planes {want_planes}",
                  f"got {planes}"):
        return
    inside_png = all(v["x"] >= 0 and v["y"] >= 0 and v["x"] + v["width"] <= shot["width"]
                     and v["y"] + v["height"] <= shot["height"] and v["width"] > 0 and v["height"] > 0
                     for v in views)
    tap.ok(inside_png, f"{what}: every view lies inside the PNG")
    by_plane = {v["plane"]: v for v in views}
    depth_ok = all(0 <= v["depth"] < series.depth_count(v["plane"]) for v in views)
    tap.ok(depth_ok, f"{what}: depths within the volume", str([v["depth"] for v in views]))
    if not (inside_png and depth_ok):
        return

    for view in views:
        name = PLANE_NAMES[view["plane"]]
        crop = png_view(png, view)
        masked = overlay_mask(view, series, by_plane, layout == "three")
        exp, inside = expected_view(series, view)
        compare = inside & ~masked
        n = int(compare.sum())
        good = matches(crop, exp)
        bad = int((compare & ~good).sum())
        frac = (n - bad) / n if n else 0.0
        covered = n / max(1, int(inside.sum()))
        tap.ok(n > 0.4 * inside.sum() and n > 2000,
               f"{what}, {name}: enough of the plane is compared",
               f"{n} pixels, {covered:.1%} of the {int(inside.sum())} showing the plane")
        tap.ok(frac >= MIN_MATCH, f"{what}, {name} (depth {view['depth']}): pixels match the independent rendering",
               f"{n - bad}/{n} = {frac:.4%} exact, {bad} differ; need {MIN_MATCH:.1%}")
        tap.note(f"{what}, {name}: {n - bad}/{n} compared pixels exact ({frac:.4%}), "
                 f"{int((inside & masked & ~good).sum())} differing under text/marks (not counted)")
        if bad and keep:
            diff = np.zeros(crop.shape[:2] + (3,), dtype=np.uint8)
            diff[compare & good] = (0, 96, 0)
            diff[compare & ~good] = (0, 0, 255)
            diff[masked] = (96, 0, 0)
            cv2.imwrite(os.path.join(keep, f"{label}-{layout}-{name}-diff.png"), diff)
        ys, xs = np.nonzero(compare & ~good)
        if bad:
            tap.note("first differing pixels (view x, y: png vs expected): " + ", ".join(
                f"({x},{y}: {int(crop[y, x, 2])} vs {int(exp[y, x])})" for y, x in list(zip(ys, xs))[:8]))

        outside = ~inside & ~masked
        n_out = int(outside.sum())
        black = (crop[..., 0] == 0) & (crop[..., 1] == 0) & (crop[..., 2] == 0)
        bad_out = int((outside & ~black).sum())
        if n_out:
            tap.ok(bad_out <= (1 - MIN_MATCH) * n_out,
                   f"{what}, {name}: the view outside the plane is black",
                   f"{n_out - bad_out}/{n_out} black")

        # Off by one must show: the same comparison for a wrong depth, level or position.
        if frac < MIN_MATCH:
            continue
        variants = []
        for dd in (-1, 1):
            d = view["depth"] + dd
            if 0 <= d < series.depth_count(view["plane"]):
                variants.append((f"depth {d}", {"depth": d}))
        variants.append((f"level {view['level'] + 1:g}", {"level": view["level"] + 1}))
        variants.append(("shifted 1 px right", {"shift": (1, 0)}))
        variants.append(("shifted 1 px down", {"shift": (0, 1)}))
        results = []
        worse = True
        for vname, kw in variants:
            e2, in2 = expected_view(series, view, **kw)
            c2 = in2 & ~masked
            n2 = int(c2.sum())
            bad2 = int((c2 & ~matches(crop, e2)).sum())
            results.append(f"{vname}: {bad2}/{n2} differ")
            # Clearly worse: fails the threshold, with at least ten times the differences.
            if not (n2 and bad2 > (1 - MIN_MATCH) * n2 * 5 and bad2 >= 10 * max(bad, 1)):
                worse = False
        tap.ok(worse, f"{what}, {name}: an off-by-one rendering would be caught", "; ".join(results))
    check_texts(tap, what, png, views, all_full=False)
    if keep:
        tap.note(f"screenshot kept: {png_path}")
    return views


def make_phantom(cli, workdir):
    d = os.path.join(workdir, "phantom")
    p = subprocess.run([cli, "phantom", d, "--size", "256", "--slices", "60", "--noise", "20"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"metalmark-cli phantom failed: {p.stdout}")
    return os.path.join(d, "ct")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--seed-ct", default=os.environ.get("MM_SEED_CT") or None)
    ap.add_argument("--keep", help="write the screenshots (and diff images) into this folder")
    args = ap.parse_args()
    tap = Tap()
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        tap.note("no display: run this through tests/gui/run-under-xvfb")

    with tempfile.TemporaryDirectory(prefix="mm-gui-shot-") as tmp:
        workdir = args.keep or tmp
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        ct = make_phantom(args.cli, tmp)
        series = Series(ct)
        tap.note(f"phantom {series.cols} x {series.rows} x {series.nslices}, spacing "
                 f"{series.col_spacing} x {series.row_spacing} x {series.slice_spacing} mm")
        tops = {}
        for layout in ("one", "three"):
            views = check_layout(tap, args.app, series, ct, layout, workdir, "phantom", args.keep)
            if views:
                tops[layout] = views[0]["y"]
        # The views sit right under the header bar in both layouts: the loading bar (a
        # revealer that slides away once the series is read) is gone when the app takes the
        # picture.
        tap.ok(len(tops) == 2 and tops["one"] == tops["three"],
               "the views start at the same height in both layouts", f"tops {tops}")
        check_sizes(tap, args.app, series, ct, workdir, args.keep)
        check_zoom_one_to_one(tap, args.app, series, ct, workdir)

        # The same phantom as one Enhanced CT file (frames shuffled, functional groups),
        # assembled by pydicom as tests/dicom/test_multiframe.py does: the app must show the
        # single-frame series' pixels exactly (issue 10: Enhanced CT in the app).
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dicom"))
        import test_multiframe as mf  # noqa: E402
        enhanced = os.path.join(tmp, "enhanced")
        os.makedirs(enhanced)
        mf.assemble(mf.read_series(ct), os.path.join(enhanced, "enhanced-ct.dcm"), mf.ENHANCED_CT,
                    seed=3)
        check_layout(tap, args.app, series, enhanced, "three", workdir, "phantom-enhanced", args.keep)

        if args.seed_ct and os.path.isdir(args.seed_ct):
            series = Series(args.seed_ct)
            tap.note(f"seed CT {series.cols} x {series.rows} x {series.nslices}")
            check_layout(tap, args.app, series, args.seed_ct, "three", workdir, "seed-ct", args.keep)
        else:
            why = (f"MM_SEED_CT={args.seed_ct} is not a folder" if args.seed_ct
                   else "no --seed-ct and MM_SEED_CT not set")
            tap.skip("seed CT, layout three: pixels match the independent rendering", why)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
