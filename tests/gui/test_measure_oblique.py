#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A distance on an oblique plane (issue 13: "distance (mm, true for the plane's spacing, also
on oblique planes)"), driven with the pointer and keys under a window manager and checked
against the phantom's geometry (mm-phantom.c: the body is an elliptic cylinder along the
slice normal, semi-axes 0.80 R across and 0.55 R front to back, R half the field of view):

  a) three views; a distance drawn on the standard axial plane and deleted calibrates where
     the app puts the pointer (the window manager's frame);
  b) a handle of the sagittal crosshair dragged by a known angle theta: the axial view turns
     about the x axis (its label says "oblique");
  c) D and a drag on the turned axial plane from the body's front edge to its back edge, along
     a column 0.3 x 0.8 R off the centre, aimed where the geometry puts the edges: the panel's
     row says "oblique plane" and its length equals the chord of the tilted plane through the
     cylinder, 2 x 0.55 R x sqrt(1 - (x / 0.8 R)^2) / cos(theta), within the pointer's
     placement, and differs from the chord of the untilted plane by more than that;
  d) the kept item (measurements.json) carries its plane: right along x, down tilted by
     theta out of the axial plane; its two points mapped to 3D (mm) lie on the body's
     surface, and their 3D distance is the row's length;
  f) A (Angle) on the same turned plane: vertex at the body's left edge, arms to the points
     of its outline at +-60 degrees (ellipse parameter) in front and behind; the row's angle
     equals the analytic 2 atan(b / a x tan 30°) of the tilted section (a = 0.8 R,
     b = 0.55 R / cos(theta), centre and tilt from the kept plane) within the pointer's
     placement, and differs from the untilted angle by more than that (the arms' ends stay off
     the crosshair lines, where the handles are);
  g) R (Rectangle) on the turned plane inside the body: count, mean, SD, median, min, max equal
     scipy's map_coordinates (order 1) of the pydicom volume at the same plane pixels' centres;
  h) B (Brush) and a stroke down the turned plane: the mask's label counts voxels in at least
     3 axial slices (a stroke on a standard axial plane paints one), Ctrl+Z takes it back;
  e) Shift+O (back to the standard planes): the item is no longer drawn on the axial view
     (another plane), stays in the panel and the file, and
     Ctrl+Q, the app started again: it is listed again with the same length.
Screenshots go to --keep (or the temporary folder).

Usage: test_measure_oblique.py --app APP --cli CLI [--keep DIR]; run through
tests/gui/run-under-xvfb with MM_TEST_WM=openbox. TAP on stdout.
"""

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmtest import Tap, children, find, name, role, wait_for, walk  # noqa: E402

# test_measure skips (1..0) when pyatspi, numpy, pydicom or xdotool are missing.
from test_measure import (ROI_RE, UI_TIMEOUT, View, extents, hu_volume, key, kept,  # noqa: E402
                          quit_app, screenshot, start, wait_kept, xdo)
from test_atspi import finish, view, view_labels  # noqa: E402
import numpy as np  # noqa: E402
import pydicom  # noqa: E402

SIZE, SLICES = 128, 48
THETA = 25.0
OBL_RE = re.compile(r"^(\d+) · (\w+) · oblique plane · (\d+\.\d+) mm$")
ANGLE_RE = re.compile(r"^(\d+) · Angle · oblique plane · (\d+\.\d\d)°$")


def all_rows(app):
    box = find(app.acc, lambda n: name(n) == "Measurements" and role(n) in ("list box", "list"))
    return [] if box is None else [name(c) for c in children(box) if " · " in (name(c) or "")]


def angle3(a, v, b):
    u, w = a - v, b - v
    return math.degrees(math.acos(max(-1.0, min(1.0, float(u @ w) / (np.linalg.norm(u) * np.linalg.norm(w))))))


def oblique_rows(app):
    box = find(app.acc, lambda n: name(n) == "Measurements" and role(n) in ("list box", "list"))
    return [] if box is None else [name(c) for c in children(box) if OBL_RE.match(name(c) or "")]


def label(app, plane, pattern):
    v = view(app, plane)
    for t in (view_labels(v) if v is not None else []):
        if re.search(pattern, t):
            return t
    return None


def series(ct):
    """Spacings, dims and the LPS of the volume's centre, from the DICOM files."""
    sl = []
    for fn in os.listdir(ct):
        ds = pydicom.dcmread(os.path.join(ct, fn), stop_before_pixels=True)
        sl.append(([float(x) for x in ds.ImagePositionPatient], ds))
    sl.sort(key=lambda s: s[0][2])
    ds = sl[0][1]
    o = [float(x) for x in ds.ImageOrientationPatient]
    assert o == [1, 0, 0, 0, 1, 0], o  # the phantom without --tilt
    ph, pw = (float(x) for x in ds.PixelSpacing)
    dz = (sl[-1][0][2] - sl[0][0][2]) / (len(sl) - 1)
    ni, nj, nk = int(ds.Columns), int(ds.Rows), len(sl)
    vc = np.array(sl[0][0]) + np.array([(ni - 1) / 2 * pw, (nj - 1) / 2 * ph, (nk - 1) / 2 * dz])
    return pw, ph, dz, (ni, nj, nk), vc


def orange_in_view(path, v, dx, dy):
    """Pixels of the selected item's colour (1, 0.6, 0.1) in the view's part of a window
    screenshot (None without the screenshot): the drawn measurement."""
    if not os.path.exists(path):
        return None
    p = subprocess.run(["convert", path, "ppm:-"], capture_output=True, timeout=60).stdout
    parts = p.split(maxsplit=4)  # P6 w h max data
    w, h = int(parts[1]), int(parts[2])
    img = np.frombuffer(parts[4], np.uint8)[: w * h * 3].reshape(h, w, 3).astype(int)
    x0, y0 = max(0, round(v.x + dx)), max(0, round(v.y + dy))
    c = img[y0:y0 + v.h, x0:x0 + v.w]
    return int(np.sum((c[..., 0] > 230) & (abs(c[..., 1] - 153) < 25) & (c[..., 2] < 70)))


def frame_lps(fr, u, v):
    return (np.array(fr["origin_lps"]) + u * fr["pixel_mm"][0] * np.array(fr["right"])
            + v * fr["pixel_mm"][1] * np.array(fr["down"]))


def run(tap, args, tmp):
    ph_dir = os.path.join(tmp, "phantom")
    subprocess.run([args.cli, "phantom", ph_dir, "--size", str(SIZE), "--slices", str(SLICES),
                    "--seed", "5"], check=True, stdout=subprocess.DEVNULL, timeout=120)
    ct = os.path.join(ph_dir, "ct")
    store = os.path.join(ct + ".metalmark", "measurements.json")
    pw, ph, dz, (ni, nj, nk), vc = series(ct)
    R = 0.5 * ni * pw
    ax, ay = 0.80 * R, 0.55 * R
    shots = args.keep or tmp

    app, img = start(tap, args, ct, "first run")
    try:
        if img is None:
            return
        # focus (a click in the view also puts the crosshair there), then three views
        v0 = View(app, img, pw, ph, (ni, nj))
        v0.click(v0.to_screen(ni * 0.5, nj * 0.5))
        key("v")
        sag = wait_for(lambda: (lambda s: s if s is not None and extents(s) else None)(view(app, "Sagittal")),
                       UI_TIMEOUT)
        time.sleep(1.0)
        axv = View(app, view(app, "Axial"), pw, ph, (ni, nj))

        # a) calibration on the standard axial plane, then Delete
        key("d")
        ca, cb = axv.to_screen(10, 100), axv.to_screen(30, 115)
        axv.drag(ca, cb)
        items = wait_kept(store, lambda k: len(k) == 1)
        if not tap.ok(items and len(items) == 1 and "oblique" not in items[0],
                      "a) a distance on the standard axial plane is kept without a plane of its own",
                      f"{items}"):
            return
        axv.calibrate(ca, cb, items[0]["points"])
        dx, dy = axv.x0 - (axv.x + axv.ox), axv.y0 - (axv.y + axv.oy)
        tap.note(f"calibrated: the app's points are the fit's moved by ({dx:.2f}, {dy:.2f}) screen px")
        key("Delete")
        wait_for(lambda: not os.path.exists(store), UI_TIMEOUT)

        # b) a handle of the sagittal crosshair (at 30 % of the view's smaller side on the
        # horizontal line, the axial plane's cut) turned by THETA about the crosshair centre
        key("s")
        cur_j = int(re.match(r"^Coronal (\d+)/", label(app, "Coronal", r"^Coronal \d+/")).group(1)) - 1
        k = int(re.match(r"^Axial (\d+)/", label(app, "Axial", r"^Axial \d+/")).group(1)) - 1
        sv = View(app, sag, ph, dz, (nj, nk))
        cx = sv.x + sv.ox + dx + (cur_j + 0.5) * ph * sv.s
        cy = sv.y + sv.oy + dy + (nk - 1 - k + 0.5) * dz * sv.s
        r = 0.3 * min(sv.w, sv.h)
        p0 = (round(cx + r), round(cy))
        a0 = math.atan2(p0[1] - cy, p0[0] - cx)
        p1 = (round(cx + r * math.cos(a0 + math.radians(THETA))), round(cy + r * math.sin(a0 + math.radians(THETA))))
        theta = math.degrees(math.atan2(p1[1] - cy, p1[0] - cx) - a0)
        sv.move(*p0)
        xdo("mousedown", 1)
        for t in np.linspace(0, 1, 8)[1:]:
            a = a0 + math.radians(theta * t)
            sv.move(round(cx + r * math.cos(a)), round(cy + r * math.sin(a)))
        time.sleep(0.2)
        xdo("mouseup", 1)
        lab = wait_for(lambda: label(app, "Axial", r"^Axial oblique"), UI_TIMEOUT)
        if not tap.ok(lab, f"b) a handle of the sagittal crosshair turned by {theta:.2f}°: the axial "
                      "view is oblique", f"{view_labels(view(app, 'Axial'))}"):
            return

        # c) the distance on the turned plane. The oblique axial plane covers the whole
        # volume in pixels of min(pw, ph) = pw, shown at the standard plane's scale and
        # centred where it was: the calibrated mapping holds for points. Its centre pixel is the volume's centre (moved along the normal to the crosshair: well
        # under a millimetre here, in the tolerance); down runs at theta to y, so the body's
        # edges along a column at x0 lie at t = +-half / cos(theta).
        x0 = -0.3 * ax
        half = ay * math.sqrt(1 - (x0 / ax) ** 2)
        t_edge = half / math.cos(math.radians(theta))
        uc, vcn = ni / 2, nj / 2
        u = uc + x0 / pw
        a, b = axv.to_screen(u, vcn - t_edge / pw), axv.to_screen(u, vcn + t_edge / pw)
        key("d")
        axv.drag(a, b)
        rows = wait_for(lambda: (lambda r: r if r else None)(oblique_rows(app)), UI_TIMEOUT)
        items = wait_kept(store, lambda k: len(k) == 1)
        time.sleep(0.5)
        screenshot(app, os.path.join(shots, "measure-oblique.png"))
        drawn = orange_in_view(os.path.join(shots, "measure-oblique.png"), axv, dx, dy)
        tap.ok(drawn is None or drawn > 50, "c) the distance is drawn on the turned axial view "
               "(selected: orange pixels in the view)", f"{drawn} pixels")
        m = OBL_RE.match(rows[0]) if rows else None
        shown = float(m.group(3)) if m else None
        chord = 2 * t_edge
        # two screen pixels at each end, the chord's shift by the crosshair's distance from
        # the volume centre (at most half a voxel diagonal), the drag angle's rounding (0.5°)
        tol = 2 * 2 / axv.s + 2 * math.hypot(pw, dz) / 2 * math.sin(math.radians(theta)) \
            + chord * math.tan(math.radians(theta)) * math.radians(0.5)
        tap.ok(shown is not None and abs(shown - chord) <= tol,
               f"c) the distance across the body on the plane tilted by {theta:.2f}° reads the "
               f"chord 2 x 0.55 R x sqrt(1 - (x/0.8R)²) / cos = {chord:.2f} mm within {tol:.2f} mm",
               f"rows {rows}")
        tap.ok(abs(chord - 2 * half) > 2 * tol,
               f"c) ... which differs from the untilted chord {2 * half:.2f} mm by more than twice the "
               "tolerance (the check can fail)")

        # d) the kept plane and points, in 3D
        it = items[0] if items else {}
        fr = it.get("oblique")
        ok_fr = fr is not None
        if ok_fr:
            right, down = np.array(fr["right"]), np.array(fr["down"])
            tilt = math.degrees(math.asin(min(1.0, abs(down[2]))))
            ok_fr = (abs(abs(right[0]) - 1) < 1e-6 and abs(down[0]) < 1e-6
                     and abs(tilt - abs(theta)) <= 0.5 and abs(fr["pixel_mm"][0] - pw) < 1e-9)
        tap.ok(ok_fr, f"d) the kept item has its plane: right along x, down tilted by {theta:.2f}° "
               "(within 0.5°: the pointer's rounding about the app's centre), pixels of pw", f"{it}")
        if fr is not None:
            p = it["points"]
            e0, e1 = frame_lps(fr, p[0], p[1]), frame_lps(fr, p[2], p[3])
            d3 = float(np.linalg.norm(e1 - e0))
            tap.ok(shown is not None and abs(d3 - shown) <= 0.005 + 1e-9,
                   "d) the 3D distance (mm) of the kept points equals the row's length to its decimals",
                   f"3D {d3:.4f}, row {shown}")
            # on the surface: the ellipse's radial distance within the placement (mm)
            surf = []
            for e in (e0, e1):
                q = e - vc
                rho = math.hypot(q[0] / ax, q[1] / ay)
                surf.append(abs(rho - 1) * ay)
            tap.ok(max(surf) <= 2 / axv.s + 0.5 * pw + 0.5,
                   "d) both kept points, mapped to 3D, lie on the body's surface (elliptic cylinder)",
                   f"distance from the surface {surf} mm")
        else:
            tap.ok(False, "d) the 3D distance of the kept points equals the row's length", f"{it}")
            tap.ok(False, "d) both kept points lie on the body's surface", f"{it}")

        if fr is not None:
            items = angle_and_roi(tap, app, axv, fr, ct, store, (pw, ph, dz, ni, nj, nk, vc, ax, ay),
                                  theta, dx, dy, shots) or items

        # e) back to the standard planes: kept; then after a restart
        key("shift+o")
        wait_for(lambda: label(app, "Axial", r"^Axial \d+/"), UI_TIMEOUT)
        time.sleep(0.5)
        screenshot(app, os.path.join(shots, "measure-oblique-reset.png"))
        hidden = orange_in_view(os.path.join(shots, "measure-oblique-reset.png"), axv, dx, dy)
        tap.ok(hidden is None or (drawn is not None and hidden == 0),
               "e) Shift+O: on the standard axial plane the oblique item is not drawn (another plane)",
               f"{hidden} orange pixels (before: {drawn})")
        still = oblique_rows(app)
        tap.ok(still == rows and kept(store) == items,
               "e) Shift+O: the item stays in the panel and the file", f"{still} {kept(store)}")
        quit_app(tap, app, "first run")
    finally:
        finish(tap, app, "first run")

    app, img = start(tap, args, ct, "second run")
    try:
        again = wait_for(lambda: (lambda r: r if r else None)(oblique_rows(app)), UI_TIMEOUT)
        tap.ok(again == rows, "e) started again: the oblique distance is listed with the same length",
               f"{again} vs {rows}")
        quit_app(tap, app, "second run")
    finally:
        finish(tap, app, "second run")


def angle_and_roi(tap, app, axv, fr, ct, store, geo, theta, dx, dy, shots):
    """f) and g) on the turned axial plane of the kept distance (frame fr); the kept items."""
    pw, ph, dz, ni, nj, nk, vc, ax, ay = geo
    O, right, down = np.array(fr["origin_lps"]), np.array(fr["right"]), np.array(fr["down"])
    pm = fr["pixel_mm"][0]
    n = np.cross(right, down)
    pc = vc - float((vc - O) @ n) * n  # the plane's centre: the volume's, moved onto it

    def to_std(P):
        """Screen of a point on the plane: the turned image is centred on pc at the standard
        plane's scale, where the standard plane's centre pixel was (pw = ph here)."""
        return axv.to_screen(ni / 2 + float((P - pc) @ right) / pw, nj / 2 + float((P - pc) @ down) / pw)

    # The body's axis (x, y of the volume's centre, along z) meets the plane at E; the section
    # is an ellipse about E with semi-axes a along right and b along down.
    m = np.array([[right[0], down[0]], [right[1], down[1]]])
    s_ab = np.linalg.solve(m, vc[:2] - pc[:2])
    E = pc + s_ab[0] * right + s_ab[1] * down
    a, b = ax / abs(right[0]), ay / abs(down[1])
    phi = math.radians(60)
    V = E - a * right
    A = E + a * math.cos(phi) * right - b * math.sin(phi) * down
    B = E + a * math.cos(phi) * right + b * math.sin(phi) * down
    want = math.degrees(2 * math.atan(b / a * math.tan(phi / 2)))
    untilted = math.degrees(2 * math.atan(ay / ax * math.tan(phi / 2)))
    n0 = len(kept(store) or [])
    key("a")
    axv.drag(to_std(A), to_std(V))
    time.sleep(0.3)
    axv.move(*to_std(B))
    xdo("click", 1)
    items = wait_kept(store, lambda k: len(k) == n0 + 1 and k[-1]["kind"] == "angle"
                      and k[-1]["points"][4:] != k[-1]["points"][2:4])
    rows = wait_for(lambda: [r for r in all_rows(app) if ANGLE_RE.match(r)], UI_TIMEOUT) or []
    shown = float(ANGLE_RE.match(rows[0]).group(2)) if rows else None
    it = items[-1] if items and items[-1]["kind"] == "angle" else {}
    # Each point placed within 2 screen pixels: the vertex moves the angle by up to e/|VA| +
    # e/|VB|, each end by e over its arm.
    e = 2 / axv.s
    arm = math.hypot(a * (1 + math.cos(phi)), b * math.sin(phi))
    tol = math.degrees(4 * e / arm)
    tap.ok(shown is not None and abs(shown - want) <= tol and "oblique" in it,
           f"f) an angle on the plane tilted by {theta:.2f}° across the body (left edge, front and "
           f"back at ±60°) reads the analytic 2 atan(b/a tan 30°) = {want:.2f}° within {tol:.2f}°",
           f"rows {rows}, kept {it}")
    tap.ok(abs(want - untilted) > tol,
           f"f) ... which differs from the untilted section's {untilted:.2f}° by more than that "
           "(the check can fail)")
    if it.get("oblique"):
        f2 = it["oblique"]
        pts = [np.array(f2["origin_lps"]) + it["points"][2 * k] * f2["pixel_mm"][0] * np.array(f2["right"])
               + it["points"][2 * k + 1] * f2["pixel_mm"][1] * np.array(f2["down"]) for k in range(3)]
        got3 = angle3(pts[0], pts[1], pts[2])
        tap.ok(shown is not None and abs(got3 - shown) <= 0.005 + 1e-9,
               "f) the row's angle is the 3D angle of the kept points (numpy) to its decimals",
               f"numpy {got3:.4f}, row {shown}")
    else:
        tap.ok(False, "f) the kept angle has its plane", f"{it}")

    # g) a rectangle on the turned plane inside the body, against map_coordinates
    try:
        from scipy.ndimage import map_coordinates
    except ImportError:
        tap.skip("g) a rectangle on the turned plane against scipy", "python3-scipy is not installed")
        return items
    key("r")
    P0 = E - 0.55 * a * right - 0.5 * b * down
    P1 = E + 0.05 * a * right + 0.35 * b * down
    axv.drag(to_std(P0), to_std(P1))
    items = wait_kept(store, lambda k: len(k) == n0 + 2 and k[-1]["kind"] == "rectangle")
    rrows = wait_for(lambda: [r for r in all_rows(app) if "Rectangle · oblique plane" in r
                              and ROI_RE.search(r)], UI_TIMEOUT) or []
    time.sleep(0.5)
    screenshot(app, os.path.join(shots, "measure-oblique-angle-roi.png"))
    it = items[-1] if items and items[-1]["kind"] == "rectangle" else {}
    f3 = it.get("oblique")
    if not tap.ok(f3 is not None and rrows, "g) R and a drag on the turned plane keep a rectangle "
                  "with its plane and list its figures", f"{it} {rrows}"):
        return items
    hu, _, _ = hu_volume(ct)
    p = it["points"]
    u0, u1 = sorted((p[0], p[2]))
    v0, v1 = sorted((p[1], p[3]))
    ii, jj = np.meshgrid(np.arange(math.floor(u0) - 1, math.ceil(u1) + 1),
                         np.arange(math.floor(v0) - 1, math.ceil(v1) + 1))
    cu, cv = ii + 0.5, jj + 0.5
    inside = (cu >= u0) & (cu <= u1) & (cv >= v0) & (cv <= v1)
    cu, cv = cu[inside], cv[inside]
    lps = (np.array(f3["origin_lps"])[:, None] + np.outer(f3["right"], cu * f3["pixel_mm"][0])
           + np.outer(f3["down"], cv * f3["pixel_mm"][1]))
    first = vc - np.array([(ni - 1) / 2 * pw, (nj - 1) / 2 * ph, (nk - 1) / 2 * dz])
    idx = np.stack([(lps[2] - first[2]) / dz, (lps[1] - first[1]) / ph, (lps[0] - first[0]) / pw])
    in_vol = all(((idx[d] >= 0) & (idx[d] <= hu.shape[d] - 1)).all() for d in range(3))
    px = map_coordinates(hu, idx, order=1, mode="nearest")
    truth = {"count": int(px.size), "mean": float(px.mean()), "sd": float(px.std()),
             "median": float(np.median(px)), "min": float(px.min()), "max": float(px.max())}
    m = ROI_RE.search(rrows[0])
    got = {"mean": float(m.group(1)), "sd": float(m.group(2)), "median": float(m.group(3)),
           "min": float(m.group(4)), "max": float(m.group(5)), "count": int(m.group(6))}
    good = (got["count"] == truth["count"] and abs(got["mean"] - truth["mean"]) <= 0.01
            and abs(got["sd"] - truth["sd"]) <= 0.01 and abs(got["median"] - truth["median"]) <= 0.06
            and abs(got["min"] - truth["min"]) <= 0.51 and abs(got["max"] - truth["max"]) <= 0.51)
    tap.ok(good and in_vol, "g) the rectangle's count, mean, SD, median, min, max on the turned plane "
           "equal scipy map_coordinates (order 1) of the pydicom volume at its pixel centres",
           f"shown {got}, scipy {truth}, inside the volume {in_vol}")
    tap.ok(truth["sd"] > 1, "g) ... with more than one value in it (the check can fail)", f"{truth}")
    paint(tap, app, axv, to_std, E, a, b, right, down, shots)
    return items


MASK_RE = re.compile(r"^[^:]+: (\d+) voxels, \d+\.\d\d ml in (\d+) slices")


def mask_text(app):
    for n, _ in walk(app.acc):
        if role(n) == "label" and (MASK_RE.match(name(n)) or name(n).startswith("No mask")):
            return name(n)
    return None


def paint(tap, app, axv, to_std, E, a, b, right, down, shots):
    """h) the brush on the turned plane, then undo."""
    before = mask_text(app)
    key("b")
    time.sleep(0.5)
    P0 = E + 0.45 * a * right - 0.6 * b * down
    P1 = E + 0.45 * a * right + 0.6 * b * down
    axv.drag(to_std(P0), to_std(P1), steps=12)
    m = wait_for(lambda: MASK_RE.match(mask_text(app) or ""), UI_TIMEOUT)
    time.sleep(0.5)
    screenshot(app, os.path.join(shots, "brush-oblique.png"))
    tap.ok(m and int(m.group(1)) > 0 and int(m.group(2)) >= 3,
           "h) a brush stroke down the turned axial plane paints voxels in 3 or more axial slices",
           f"before {before!r}, after {mask_text(app)!r}")
    key("ctrl+z")
    undone = wait_for(lambda: (mask_text(app) or "").startswith("No mask")
                      or (lambda mm: mm and int(mm.group(1)) == 0)(MASK_RE.match(mask_text(app) or "")),
                      UI_TIMEOUT)
    tap.ok(undone, "h) Ctrl+Z takes the stroke back", f"{mask_text(app)!r}")
    key("d")  # back to a measuring tool


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--keep")
    args = ap.parse_args()
    tap = Tap()
    with tempfile.TemporaryDirectory(prefix="mm-measure-obl-") as tmp:
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
