#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reading tools of issue 13 in the app, driven as a person drives them (xdotool keys and
pointer under openbox: run through run-under-xvfb with MM_TEST_WM=openbox), checked against
an independent computation from the DICOM files (pydicom, numpy, scipy):

  a) W and L typed into their fields: the label says so and the axial view's pixels are the
     DICOM linear window of the slice with exactly those values (a level one HU off matches
     clearly worse);
  b) S (slab mode) to MIP and 30 typed as the thickness: the label says "MIP 30 mm" and the
     pixels are numpy's MIP of the planes within 15 mm, windowed alike (the plain slice
     matches clearly worse);
  c) three views, a handle on the axial crosshair dragged by a known angle: the coronal view
     shows the plane turned by that angle about the axial normal, equal to scipy's
     map_coordinates(order=1) of it windowed (tolerance: grey within 1 on 99 % of the
     compared pixels; float rounding at a grey step), O resets (the edge letters are drawn,
     not in the accessible description: tests/test-reading.c checks them in the core);
  d) C plays the axial slices at the typed frame rate: the number advances, wraps to the
     start, and C stops it;
  e) Ctrl+Shift+S saves the view through the file chooser: the PNG equals the screen's view;
     Ctrl+Alt+S saves the image alone: numpy's slice over the whole view;
  f) Ctrl+Shift+C: the clipboard holds an image of the view's size.
Screenshots are kept with --keep DIR. TAP on stdout.
Usage: test_slab.py --app APP --cli CLI [--keep DIR]"""

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "reading"))
from mmtest import Tap, find, name, role, safe, wait_for  # noqa: E402

try:
    import cv2
    import numpy as np
    import pyatspi
    from scipy import ndimage as ndi
    from scipy.spatial.transform import Rotation
except ImportError as e:
    print(f"1..0 # SKIP {e.name} is not installed (python3-pyatspi python3-opencv python3-scipy)")
    sys.exit(0)
for tool in ("xdotool", "import"):
    if shutil.which(tool) is None:
        print(f"1..0 # SKIP {tool} is not installed (xdotool imagemagick)")
        sys.exit(0)

from test_atspi import START_TIMEOUT, UI_TIMEOUT, App, finish, view, view_labels  # noqa: E402
from test_screenshot import window_grey  # noqa: E402
from test_reading import Series  # noqa: E402  (pydicom: V[k, j, i] HU, p0, row, col, normal, sp)

MIN_MATCH = 0.999


def xdo(*args):
    subprocess.run(["xdotool"] + [str(a) for a in args], check=True, timeout=30)


def key(k):
    xdo("key", "--clearmodifiers", k)


class Screen:
    def __init__(self, app, tmp, keep):
        self.app, self.tmp, self.keep, self.n = app, tmp, keep, 0
        wins = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid",
                               str(app.proc.pid)], capture_output=True, text=True,
                              timeout=30).stdout.split()
        geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wins[-1]],
                             capture_output=True, text=True, timeout=30).stdout
        kv = dict(line.split("=", 1) for line in geo.split() if "=" in line)
        self.origin = (int(kv["X"]), int(kv["Y"]))
        self.calib = (0, 0)

    def extents(self, node):
        e = safe(lambda: node.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
        if e is None or e.width <= 0:
            return None
        return (self.origin[0] + e.x + self.calib[0], self.origin[1] + e.y + self.calib[1],
                e.width, e.height)

    def grab(self, tag):
        """The whole virtual screen (BGR), kept as TAG.png when asked."""
        self.n += 1
        path = os.path.join(self.tmp, f"{self.n:02d}-{tag}.png")
        subprocess.run(["import", "-window", "root", path], check=True, timeout=60)
        if self.keep:
            shutil.copy(path, self.keep)
        return cv2.imread(path, cv2.IMREAD_COLOR)

    def park_pointer(self):
        """Off the views (the HU readout and the handles follow the pointer)."""
        xdo("mousemove", "--sync", self.origin[0] + 5, self.origin[1] + 5)
        time.sleep(0.3)


def fit(w, h, cols, rows, pw, ph):
    """mm_viewport_fit: the plane centred in the view, aspect kept."""
    s = min(w / (cols * pw), h / (rows * ph))
    return 0.5 * (w - cols * pw * s), 0.5 * (h - rows * ph * s), s


def fit_turned(w, h, cols, rows, pix, std):
    """mm_reading_fit_viewport on a turned plane of cols x rows pixels of pix: the scale that
    fits the standard plane std = (cols, rows, pw, ph), the turned image centred where the
    standard one is."""
    ox, oy, s = fit(w, h, *std)
    return (ox + 0.5 * (std[0] * std[2] - cols * pix) * s,
            oy + 0.5 * (std[1] * std[3] - rows * pix) * s, s)


def render(img, pw, ph, w, h, window, level, shift=(0, 0), std=None):
    """The plane image (HU [v, u]) as the renderer draws it into a w x h view (nearest
    neighbour through the fitted viewport, black outside), and where the plane is; std: the
    standard plane whose fit a turned plane keeps (fit_turned)."""
    ox, oy, s = (fit(w, h, img.shape[1], img.shape[0], pw, ph) if std is None
                 else fit_turned(w, h, img.shape[1], img.shape[0], pw, std))
    ox, oy = ox + shift[0], oy + shift[1]
    u = np.floor((np.arange(w) + 0.5 - ox) / s / pw)
    v = np.floor((np.arange(h) + 0.5 - oy) / s / ph)
    uo, vo = (u >= 0) & (u < img.shape[1]), (v >= 0) & (v < img.shape[0])
    hu = img[np.ix_(np.where(vo, v, 0).astype(np.intp), np.where(uo, u, 0).astype(np.intp))]
    inside = np.outer(vo, uo)
    return np.where(inside, window_grey(hu, window, level, False), 0).astype(np.int16), inside


SHIFTS = [(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def best_shift(shot, region, img, pw, ph, w, h, window, level, std=None):
    """AT-SPI gives the view's place rounded to whole pixels (it may be a pixel off the
    drawn one): the expected picture is registered to the screenshot over +-1 px, once, on
    the true image; the same shift then serves the wrong alternatives."""
    best = None
    for sh in SHIFTS:
        want, _ = render(img, pw, ph, w, h, window, level, sh, std)
        m = float(np.mean(shot[region] == want[region]))
        if best is None or m > best[0]:
            best = (m, sh)
    return best


def compare_region(w, h, texts_free=True):
    """Compared: the middle of the view (the texts sit at its edges and corners)."""
    m = np.zeros((h, w), bool)
    m[int(h * 0.18):int(h * 0.82), int(w * 0.2):int(w * 0.8)] = True
    return m


def crop(shot, ext):
    x, y, w, h = ext
    return shot[y:y + h, x:x + w].astype(np.int16)


def grey_of(crop_bgr):
    """The grey of pixels drawn grey (B = G = R), else -1."""
    b, g, r = crop_bgr[..., 0], crop_bgr[..., 1], crop_bgr[..., 2]
    return np.where((b == g) & (g == r), b, -1)


def labels_of(app, plane):
    v = view(app, plane)
    return view_labels(v) if v is not None else []


def label_matching(app, plane, pattern):
    for t in labels_of(app, plane):
        if re.search(pattern, t):
            return t
    return None


def slice_no(app):
    t = label_matching(app, "Axial", r"^Axial (oblique )?\d+/")
    m = re.match(r"^Axial (?:oblique )?(\d+)/(\d+)", t or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def set_field(scr, app, label, text):
    """Click a field of the reading row, replace its text, Enter."""
    f = wait_for(lambda: find(app.acc, lambda n: name(n) == label and role(n) == "spin button"),
                 UI_TIMEOUT)
    ext = scr.extents(f) if f is not None else None
    if ext is None:
        return False
    xdo("mousemove", "--sync", ext[0] + ext[2] // 3, ext[1] + ext[3] // 2)
    xdo("click", 1)
    time.sleep(0.2)
    key("ctrl+a")
    xdo("type", "--delay", 30, text)
    key("Return")
    time.sleep(0.3)
    return True


def slab_truth(s, k, thickness, mode="mip"):
    keep = [d for d in range(s.nk) if abs(d - k) * s.sp[2] <= thickness / 2 + 1e-6 * s.sp[2]]
    f = {"mip": np.max, "minip": np.min, "mean": np.mean}[mode]
    return f(s.V[keep], axis=0)


def scenario(tap, args, folder, tmp):
    s = Series(folder)
    app = App(args.app, ["--window-size", "1280x760", folder], logdir=tmp, tag="slab")
    try:
        if not tap.ok(app.find_accessible() is not None
                      and wait_for(lambda: slice_no(app), START_TIMEOUT), "the app shows the series"):
            return
        scr = Screen(app, tmp, args.keep)
        axial = view(app, "Axial")
        ext = scr.extents(axial)
        # focus: a click in the view (which also puts the crosshair there)
        xdo("mousemove", "--sync", ext[0] + ext[2] // 2 + 7, ext[1] + ext[3] // 2 + 5)
        xdo("click", 1)
        time.sleep(0.5)
        k = slice_no(app)[0] - 1

        # a) exact W/L
        ok = set_field(scr, app, "Window width (HU)", "350") and set_field(scr, app, "Window level (HU)", "45")
        lab = wait_for(lambda: label_matching(app, "Axial", r"^W 350 L 45\b"), UI_TIMEOUT)
        tap.ok(ok and lab, "a) W 350 and L 45 typed: the view's label says so", lab)
        scr.park_pointer()
        ext = scr.extents(axial)
        full = scr.grab("wl")
        w, h = ext[2], ext[3]
        region = compare_region(w, h)
        # Where the X window's origin lies against GTK's window coordinates depends on the
        # window manager's frame: found once by registering the expected slice on the
        # screenshot (+-10 px; the noise makes the right place unique), then used for every
        # crop and pointer position.
        best = None
        for cy in range(-10, 11):
            for cx in range(-10, 11):
                e2 = (ext[0] + cx, ext[1] + cy, w, h)
                if e2[0] < 0 or e2[1] < 0:
                    continue
                want, _ = render(s.V[k], s.sp[0], s.sp[1], w, h, 350, 45)
                m = float(np.mean(grey_of(crop(full, e2))[region] == want[region]))
                if best is None or m > best[0]:
                    best = (m, cx, cy)
        scr.calib = (best[1], best[2])
        ext = scr.extents(axial)
        tap.note(f"axial view at {ext} on the screen (AT-SPI's place moved by {scr.calib}: "
                 f"the window manager's frame), window at {scr.origin}")
        shot = grey_of(crop(full, ext))
        m, sh = best_shift(shot, region, s.V[k], s.sp[0], s.sp[1], w, h, 350, 45)
        off, _ = render(s.V[k], s.sp[0], s.sp[1], w, h, 350, 46, sh)
        m_off = float(np.mean(shot[region] == off[region]))
        tap.ok(m >= MIN_MATCH and m_off < m - 0.01,
               f"a) the axial view is slice {k + 1} windowed W 350 L 45: {m:.4%} of the compared "
               f"pixels equal, view shift {sh} px (level 46: {m_off:.4%})")

        # b) MIP 30 mm
        key("m")
        ok = set_field(scr, app, "Slab thickness (mm)", "30")
        lab = wait_for(lambda: label_matching(app, "Axial", r"MIP 30 mm"), UI_TIMEOUT)
        tap.ok(ok and lab, "b) S and 30 typed: the label says MIP 30 mm", lab)
        scr.park_pointer()
        shot = grey_of(crop(scr.grab("mip30"), ext))
        mip = slab_truth(s, k, 30)
        m, sh = best_shift(shot, region, mip, s.sp[0], s.sp[1], w, h, 350, 45)
        plain, _ = render(s.V[k], s.sp[0], s.sp[1], w, h, 350, 45, sh)
        m_plain = float(np.mean(shot[region] == plain[region]))
        n_planes = sum(1 for d in range(s.nk) if abs(d - k) * s.sp[2] <= 15 + 1e-6)
        tap.ok(m >= MIN_MATCH and m_plain < m - 0.01,
               f"b) the axial view is numpy's MIP of {n_planes} planes (30 mm) windowed alike: "
               f"{m:.4%} equal (the plain slice: {m_plain:.4%})")
        for _ in range(3):  # MinIP, Average, off
            key("m")
        tap.ok(wait_for(lambda: label_matching(app, "Axial", r"^W 350 L 45$"), UI_TIMEOUT),
               "b) S three more times: MinIP, Average, then the slab is off", labels_of(app, "Axial")[:3])

        # c) oblique: three views, drag a handle of the axial crosshair
        key("v")
        cor = wait_for(lambda: view(app, "Coronal") if scr.extents(view(app, "Coronal")) else None,
                       UI_TIMEOUT)
        time.sleep(1.0)
        ext = scr.extents(axial)
        w, h = ext[2], ext[3]
        # the crosshair is at the cursor voxel (the middle of the volume after loading, moved
        # by the click on the view's top): read it from the sagittal and coronal labels
        cur_i = int(re.match(r"^Sagittal (\d+)/", label_matching(app, "Sagittal", r"^Sagittal \d+/")).group(1)) - 1
        cur_j = int(re.match(r"^Coronal (\d+)/", label_matching(app, "Coronal", r"^Coronal \d+/")).group(1)) - 1
        k = slice_no(app)[0] - 1
        ox, oy, sc = fit(w, h, s.ni, s.nj, s.sp[0], s.sp[1])
        cx = ox + (cur_i + 0.5) * s.sp[0] * sc
        cy = oy + (cur_j + 0.5) * s.sp[1] * sc
        r = 0.3 * min(w, h)
        theta = 25.0
        x0, y0 = ext[0] + cx + r, ext[1] + cy
        # the end point, rounded to a screen pixel; the angle the app sees is that of the
        # rounded points about the crosshair centre
        x1 = round(ext[0] + cx + r * math.cos(math.radians(theta)))
        y1 = round(ext[1] + cy + r * math.sin(math.radians(theta)))
        x0r, y0r = round(x0), round(y0)
        ang = math.degrees(math.atan2(y1 - ext[1] - cy, x1 - ext[0] - cx)
                           - math.atan2(y0r - ext[1] - cy, x0r - ext[0] - cx))
        xdo("mousemove", "--sync", x0r, y0r)
        time.sleep(0.3)
        xdo("mousedown", 1)
        for t in np.linspace(0, 1, 8)[1:]:
            a = math.radians(ang * t) + math.atan2(y0r - ext[1] - cy, x0r - ext[0] - cx)
            xdo("mousemove", "--sync", round(ext[0] + cx + r * math.cos(a)), round(ext[1] + cy + r * math.sin(a)))
            time.sleep(0.05)
        xdo("mousemove", "--sync", x1, y1)
        time.sleep(0.2)
        xdo("mouseup", 1)
        lab = wait_for(lambda: label_matching(app, "Coronal", r"^Coronal oblique"), UI_TIMEOUT)
        tap.ok(lab, f"c) a handle on the axial crosshair dragged by {ang:.2f}°: the coronal view "
               "is oblique", lab)
        scr.park_pointer()
        time.sleep(0.5)
        shot_full = scr.grab("oblique")
        cext = scr.extents(cor)
        cw, chh = cext[2], cext[3]
        shot = grey_of(crop(shot_full, cext))
        # The coronal plane turned by ang about the axial normal (row x col), through the
        # crosshair, on the app's grid: square pixels of the smaller spacing covering the
        # volume's 8 corners projected on it (an odd size each way), centred on the volume's
        # centre moved along the normal, shown at the standard coronal plane's fit.
        right0, down0 = s.row, -s.normal
        rot = Rotation.from_rotvec(np.cross(s.row, s.col) * math.radians(ang))
        right, down = rot.apply(right0), rot.apply(down0)
        n = np.cross(right, down)
        pix = min(s.sp[0], s.sp[2])
        centre = s.to_lps(np.array([cur_i, cur_j, k], float))
        vc = s.to_lps(np.array([(s.ni - 1) / 2, (s.nj - 1) / 2, (s.nk - 1) / 2]))
        corners = [s.to_lps(np.array([ci, cj, ck], float)) - vc for ci in (0, s.ni - 1)
                   for cj in (0, s.nj - 1) for ck in (0, s.nk - 1)]
        W = 2 * math.ceil(max(abs(c @ right) for c in corners) / pix - 1e-6) + 1
        H = 2 * math.ceil(max(abs(c @ down) for c in corners) / pix - 1e-6) + 1
        std = (s.ni, s.nk, s.sp[0], s.sp[2])

        def plane_image(rt, dn):
            nn = np.cross(rt, dn)
            c_img = vc + ((centre - vc) @ nn) * nn
            xs = (np.arange(W) - (W - 1) / 2) * pix
            ys = (np.arange(H) - (H - 1) / 2) * pix
            ijk = s.to_index(c_img + ys[:, None, None] * dn + xs[None, :, None] * rt)
            lim = np.array([s.ni - 1, s.nj - 1, s.nk - 1]) + 1e-6
            inside = np.all((ijk >= -1e-6) & (ijk <= lim), axis=-1)
            img = ndi.map_coordinates(s.V, [ijk[..., 2], ijk[..., 1], ijk[..., 0]], order=1,
                                      mode="nearest")
            return np.where(inside, img, -1024.0).astype(np.float32), c_img

        img, c_img = plane_image(right, down)
        region = compare_region(cw, chh)
        # the crosshair: where the axial and the turned sagittal plane cut the view, 3 px
        # either side masked
        yy, xx = np.mgrid[0:chh, 0:cw]
        oxc, oyc, scc = fit_turned(cw, chh, W, H, pix, std)
        ccx = oxc + ((centre - c_img) @ right / pix + (W - 1) / 2 + 0.5) * pix * scc
        ccy = oyc + ((centre - c_img) @ down / pix + (H - 1) / 2 + 0.5) * pix * scc
        near_line = np.zeros_like(region)
        for other in (np.cross(s.row, s.col), rot.apply(np.cross(s.col, -s.normal))):
            ln_ = np.cross(n, other)
            dx, dy = ln_ @ right, ln_ @ down
            ln = math.hypot(dx, dy)
            dist = np.abs((xx - ccx) * dy / ln - (yy - ccy) * dx / ln)
            near_line |= dist < 3
        cmp_ = region & ~near_line
        _, sh = best_shift(shot, cmp_, img, pix, pix, cw, chh, 350, 45, std)
        want, _ = render(img, pix, pix, cw, chh, 350, 45, sh, std)
        diff = np.abs(shot - want)
        exact = float(np.mean(diff[cmp_] == 0))
        within1 = float(np.mean(diff[cmp_] <= 1))
        # the unturned plane must match clearly worse
        img0, _ = plane_image(right0, down0)
        want0, _ = render(img0, pix, pix, cw, chh, 350, 45, sh, std)
        within1_0 = float(np.mean(np.abs(shot - want0)[cmp_] <= 1))
        tap.ok(within1 >= 0.99 and within1_0 < within1 - 0.02,
               f"c) the coronal view equals scipy map_coordinates(order=1) of the plane turned "
               f"{ang:.2f}° about the axial normal, windowed: grey within 1 on {within1:.4%} "
               f"(exactly equal {exact:.4%}, view shift {sh} px; the unturned plane: "
               f"{within1_0:.4%})")
        # the HU and LPS readout on the turned plane: the pixel under the pointer
        # A pointer position near a plane pixel's centre both ways: whether the app takes the
        # screen pixel's corner or its centre must not decide which plane pixel it reads.
        def off_centre(p, o, shift):
            f = (p + 0.5 - o - shift) / scc / pix
            return abs(f - math.floor(f) - 0.5)
        px_ = min(range(int(cw * 0.62) - 6, int(cw * 0.62) + 7), key=lambda p: off_centre(p, oxc, sh[0]))
        py_ = min(range(int(chh * 0.41) - 6, int(chh * 0.41) + 7), key=lambda p: off_centre(p, oyc, sh[1]))
        xdo("mousemove", "--sync", cext[0] + px_, cext[1] + py_)
        pat = r"^(-?\d+) HU · \((-?[\d.]+), (-?[\d.]+), (-?[\d.]+)\) mm LPS"
        probe = wait_for(lambda: label_matching(app, "Coronal", pat), UI_TIMEOUT)
        u = int(math.floor((px_ + 0.5 - oxc - sh[0]) / scc / pix))
        v = int(math.floor((py_ + 0.5 - oyc - sh[1]) / scc / pix))
        want_lps = c_img + (u - (W - 1) / 2) * pix * right + (v - (H - 1) / 2) * pix * down
        mm_ = re.match(pat, probe or "")
        ok = mm_ is not None and abs(float(mm_.group(1)) - float(img[v, u])) <= 0.5 + 1e-3 \
            and np.allclose([float(mm_.group(g)) for g in (2, 3, 4)], want_lps, atol=0.051)
        tap.ok(ok, f"c) the readout on the turned plane is its pixel ({u}, {v}): "
               f"{img[v, u]:.1f} HU at LPS ({want_lps[0]:.2f}, {want_lps[1]:.2f}, {want_lps[2]:.2f})",
               probe)
        scr.park_pointer()
        key("shift+o")
        tap.ok(wait_for(lambda: label_matching(app, "Coronal", r"^Coronal \d+/"), UI_TIMEOUT),
               "c) O resets: the coronal view is a standard plane again",
               label_matching(app, "Coronal", r"^Coronal"))

        # d) cine
        set_field(scr, app, "Frames per second", "12")
        axial_ext = scr.extents(axial)
        xdo("mousemove", "--sync", axial_ext[0] + axial_ext[2] // 2, axial_ext[1] + 10)
        xdo("click", 1)  # the axial view is the active one
        key("c")
        node = view(app, "Axial")

        def axial_no():
            for t in view_labels(node):
                mm = re.match(r"^Axial (\d+)/", t)
                if mm:
                    return int(mm.group(1))
            return None
        stamps = []
        # until it wraps (a loaded machine plays slower than asked), at most a minute
        seen, t_end = [], time.monotonic() + 60
        while time.monotonic() < t_end:
            sn = axial_no()
            sn = (sn,) if sn else None
            if sn and (not seen or seen[-1] != sn[0]):
                seen.append(sn[0])
                stamps.append(time.monotonic())
            if len(seen) > 10 and any(y < x for x, y in zip(seen, seen[1:])):
                break
            time.sleep(0.05)
        wraps = sum(1 for a, b in zip(seen, seen[1:]) if b < a)
        tap.ok(len(seen) > 10 and wraps >= 1,
               f"d) C plays: the slice advanced through {len(seen)} numbers and wrapped {wraps} "
               f"time(s) from the last to the first", seen[:40])
        # frames per second: the slices seen over the time they took (the first one seen may
        # be late by a poll, so this can only err high by about a frame in twenty)
        rate = (len(seen) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0
        tap.ok(0 < rate <= 1.2 * 12,
               f"d) at 12 frames per second typed: {rate:.1f} slices a second (never faster; "
               f"slower when the loaded machine delays frames)")
        key("c")
        time.sleep(0.5)
        a = slice_no(app)
        time.sleep(1.0)
        b = slice_no(app)
        tap.ok(a == b, "d) C again stops it", f"{a} then {b}")

        # e) save the view as PNG through the file chooser
        out = os.path.join(tmp, "saved-view.png")
        scr.park_pointer()
        time.sleep(0.5)
        before = scr.grab("before-save")
        key("ctrl+shift+s")
        time.sleep(2.0)
        key("ctrl+a")
        xdo("type", "--delay", 20, out)
        time.sleep(0.3)
        key("Return")
        got = wait_for(lambda: os.path.exists(out), 20)
        shot = before
        ok = False
        detail = ""
        if got:
            saved = cv2.imread(out, cv2.IMREAD_COLOR)
            ext = scr.extents(axial)
            screen = crop(shot, ext)
            if saved is not None and saved.shape[:2] == screen.shape[:2]:
                same = float(np.mean(np.all(saved.astype(np.int16) == screen, axis=-1)))
                ok = same >= 0.99
                detail = f"{same:.4%} of the pixels equal the screen's view"
            else:
                detail = f"size {None if saved is None else saved.shape} vs {screen.shape}"
            if args.keep:
                shutil.copy(out, args.keep)
        tap.ok(ok, f"e) Ctrl+Shift+S, a path typed in the file chooser: the PNG is the view as on "
               f"screen ({detail})")

        # e) the image alone (Ctrl+Alt+S): numpy's rendering of the slice over the whole view,
        # no texts, no crosshair
        out2 = os.path.join(tmp, "saved-bare.png")
        key("ctrl+alt+s")
        time.sleep(2.0)
        key("ctrl+a")
        xdo("type", "--delay", 20, out2)
        time.sleep(0.3)
        key("Return")
        ok, detail = False, "no file written"
        if wait_for(lambda: os.path.exists(out2), 20):
            bare = grey_of(cv2.imread(out2, cv2.IMREAD_COLOR).astype(np.int16))
            ext = scr.extents(axial)
            kk = slice_no(app)[0] - 1
            want, _ = render(s.V[kk], s.sp[0], s.sp[1], ext[2], ext[3], 350, 45)
            if bare.shape == want.shape:
                same = float(np.mean(bare == want))
                ok = same >= MIN_MATCH
                detail = f"{same:.4%} of all its pixels equal numpy's slice {kk + 1}"
            else:
                detail = f"size {bare.shape} vs {want.shape}"
            if args.keep:
                shutil.copy(out2, args.keep)
        tap.ok(ok, f"e) Ctrl+Alt+S saves the image alone, without texts and crosshair ({detail})")

        # f) copy the view to the clipboard
        key("ctrl+shift+c")
        time.sleep(0.5)
        probe = subprocess.run([sys.executable, "-c", CLIPBOARD_PROBE], capture_output=True,
                               text=True, timeout=60)
        m = re.search(r"texture (\d+) (\d+)", probe.stdout)
        ext = scr.extents(axial)
        tap.ok(m and (int(m.group(1)), int(m.group(2))) == (ext[2], ext[3]),
               "f) Ctrl+Shift+C: the clipboard holds an image of the view's size",
               probe.stdout.strip() + probe.stderr.strip()[-300:])
    finally:
        finish(tap, app, "reading tools")


# Another X client reads the clipboard, as a paste into another program would.
CLIPBOARD_PROBE = r"""
import gi
gi.require_version("Gdk", "4.0")
gi.require_version("Gtk", "4.0")
from gi.repository import Gdk, GLib, Gtk
Gtk.init()
clip = Gdk.Display.get_default().get_clipboard()
loop = GLib.MainLoop()
def done(c, res):
    try:
        t = c.read_texture_finish(res)
        print("texture", t.get_width(), t.get_height())
    except Exception as e:
        print("error", e)
    loop.quit()
def go():
    print("formats", clip.get_formats().to_string())
    clip.read_texture_async(None, done)
    return False
GLib.timeout_add(500, go)
GLib.timeout_add(20000, loop.quit)
loop.run()
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--keep")
    args = ap.parse_args()
    tap = Tap()
    tmp = tempfile.mkdtemp(prefix="mm-slab-")
    try:
        d = os.path.join(tmp, "phantom")
        r = subprocess.run([args.cli, "phantom", d, "--size", "96", "--slices", "60", "--noise", "40"],
                           capture_output=True, text=True, timeout=300)
        if not tap.ok(r.returncode == 0, "a phantom series written by metalmark-cli", r.stderr):
            return tap.done()
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
        scenario(tap, args, os.path.join(d, "ct"), tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
