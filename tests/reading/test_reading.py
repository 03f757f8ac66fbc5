#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reading tools (issue 13) against independent computations: slabs pixel for pixel
against numpy, oblique reslices against scipy.ndimage.map_coordinates (order 1), ROI
statistics against numpy with the pixel-centre rule written here again, distances and angles
against 3D geometry and the phantom's known sizes, on an axial and a tilted phantom (and the
seed CT when MM_SEED_CT names it). Voxels and geometry come from the DICOM files by pydicom,
not from Metalmark. TAP output."""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile

import nibabel
import numpy as np
import pydicom
import scipy.ndimage as ndi
from scipy.spatial.transform import Rotation

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, results, run  # noqa: E402

# Trilinear values of Metalmark are computed in double and stored as float32: 2e-3 HU plus
# float32's rounding of the value covers them; scipy computes in double from the same voxels.
RESLICE_ABS_TOL = 2e-3
RESLICE_REL_TOL = 2e-7


def skip(name, why):
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), name, why))


def strict_json(text):
    """JSON with no NaN or Infinity (Python's json accepts them unless told not to)."""
    def bad(c):
        raise ValueError("non-finite JSON constant %s" % c)
    return json.loads(text, parse_constant=bad)


class Series:
    """A DICOM series read by pydicom: V[k, j, i] in HU (float64) and its regular grid."""

    def __init__(self, folder):
        slices = []
        for name in sorted(os.listdir(folder)):
            ds = pydicom.dcmread(os.path.join(folder, name))
            if "PhotometricInterpretation" not in ds:
                ds.PhotometricInterpretation = "MONOCHROME2"  # the seed CT leaves it out
            slices.append(ds)
        iop = [float(v) for v in slices[0].ImageOrientationPatient]
        self.row = np.array(iop[:3])
        self.col = np.array(iop[3:])
        self.normal = np.cross(self.row, self.col)
        pos = [np.array([float(v) for v in ds.ImagePositionPatient]) for ds in slices]
        order = np.argsort([p @ self.normal for p in pos])
        slices = [slices[o] for o in order]
        pos = [pos[o] for o in order]
        self.p0 = pos[0]
        along = np.array([p @ self.normal for p in pos])
        ps = [float(v) for v in slices[0].PixelSpacing]
        # PixelSpacing is [between rows, between columns].
        self.sp = np.array([ps[1], ps[0], float(np.mean(np.diff(along)))])
        self.V = np.stack([ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope)
                           + float(ds.RescaleIntercept) for ds in slices])
        self.nk, self.nj, self.ni = self.V.shape

    def to_index(self, lps):
        """(..., 3) LPS points to (..., 3) continuous (i, j, k)."""
        d = np.asarray(lps) - self.p0
        return np.stack([d @ self.row / self.sp[0], d @ self.col / self.sp[1],
                         d @ self.normal / self.sp[2]], axis=-1)

    def to_lps(self, ijk):
        ijk = np.asarray(ijk, dtype=float)
        return (self.p0 + ijk[..., 0:1] * self.sp[0] * self.row
                + ijk[..., 1:2] * self.sp[1] * self.col + ijk[..., 2:3] * self.sp[2] * self.normal)

    def trilinear(self, ijk, cval):
        c = np.asarray(ijk).reshape(-1, 3)
        out = ndi.map_coordinates(self.V, [c[:, 2], c[:, 1], c[:, 0]], order=1,
                                  mode="constant", cval=cval)
        return out.reshape(np.asarray(ijk).shape[:-1])

    # Standard planes as the viewer shows them (mm-render.h): axial u = i, v = j, depth k;
    # coronal u = i, v = last slice - k, depth j; sagittal u = j, v = last slice - k, depth i.
    def depth_axis(self, plane):
        return {"axial": 0, "coronal": 1, "sagittal": 2}[plane]  # axis of V

    def plane_spacing(self, plane):
        return {"axial": (self.sp[0], self.sp[1], self.sp[2]),
                "coronal": (self.sp[0], self.sp[2], self.sp[1]),
                "sagittal": (self.sp[1], self.sp[2], self.sp[0])}[plane]

    def plane_image(self, plane, stack):
        """A reduced (k, j, i) -> 2D array shown as the plane (rows v, columns u)."""
        if plane == "axial":
            return stack  # (j, i)
        return stack[::-1]  # (k, i) or (k, j), v = last - k

    def axes(self, plane):
        return {"axial": (self.row, self.col), "coronal": (self.row, -self.normal),
                "sagittal": (self.col, -self.normal)}[plane]


def npy(path):
    return np.load(path)


# ------------------------------------------------------------------------------- slabs

def slab_truth(s, plane, index, thickness, mode):
    """The rule written again: a plane counts when its centre lies within thickness / 2 of
    the current plane's centre (a millionth of a spacing of slack)."""
    axis = s.depth_axis(plane)
    spacing = s.plane_spacing(plane)[2]
    n = s.V.shape[axis]
    keep = [d for d in range(n) if abs(d - index) * spacing <= thickness / 2 + 1e-6 * spacing]
    sub = np.take(s.V, keep, axis=axis)
    f = {"mip": np.max, "minip": np.min, "mean": np.mean}[mode]
    red = f(sub, axis=axis)
    return s.plane_image(plane, red).astype(np.float32), keep


def check_slabs(cli, tag, folder, s, tmp):
    bad = []
    n_cases = 0
    out = os.path.join(tmp, "slab.npy")
    for plane in ("axial", "coronal", "sagittal"):
        depth = s.V.shape[s.depth_axis(plane)]
        for index in (0, depth // 2, depth - 1):
            for thickness in (0, 3.1, 10, 1e4):
                for mode in ("mip", "minip", "mean"):
                    rc, so, se = run(cli, "slab", folder, "--plane", plane, "--index", index,
                                     "--thickness", thickness, "--mode", mode, "--npy", out)
                    n_cases += 1
                    if rc != 0:
                        bad.append("%s %d %g %s: exit %d %s" % (plane, index, thickness, mode,
                                                                rc, se))
                        continue
                    j = strict_json(so)
                    got = npy(out)
                    want, keep = slab_truth(s, plane, index, thickness, mode)
                    if got.dtype != np.float32 or got.shape != want.shape \
                            or not np.array_equal(got, want) \
                            or (j["first"], j["last"]) != (keep[0], keep[-1]):
                        diff = (np.abs(got.astype(float) - want).max()
                                if got.shape == want.shape else got.shape)
                        bad.append("%s %d %g %s: max diff %s, planes %s..%s vs %s..%s"
                                   % (plane, index, thickness, mode, diff, j["first"],
                                      j["last"], keep[0], keep[-1]))
    check("%s: %d slabs (3 planes x ends and middle x 4 thicknesses x MIP/MinIP/mean) equal "
          "numpy pixel for pixel, and cover the planes whose centres lie in the slab"
          % (tag, n_cases), not bad, "\n".join(bad[:10]))


# ----------------------------------------------------------------------------- reslice

def plane_pixels(centre, right, down, w, h, px):
    x = (np.arange(w) - (w - 1) / 2) * px
    y = (np.arange(h) - (h - 1) / 2) * px
    return (centre + y[:, None, None] * down + x[None, :, None] * right)  # (h, w, 3)


def expected_axes(s, plane, rotations):
    right, down = (np.array(a, dtype=float) for a in s.axes(plane))
    for axis, deg in rotations:
        r = Rotation.from_rotvec(np.array(axis) / np.linalg.norm(axis) * math.radians(deg))
        right, down = r.apply(right), r.apply(down)
    return right, down


def near_boundary(s, ijk):
    """Samples within a millionth of a voxel of the box of voxel centres: which side they
    fall on depends on the last bit of the arithmetic, so they are not compared."""
    lim = np.array([s.ni - 1, s.nj - 1, s.nk - 1])
    return np.any((np.abs(ijk) < 1e-6) | (np.abs(ijk - lim) < 1e-6), axis=-1)


def near_half(ijk):
    """Nearest-neighbour samples within a millionth of a voxel of a cell boundary."""
    return np.any(np.abs(ijk - np.floor(ijk) - 0.5) < 1e-6, axis=-1)


def check_reslice(cli, tag, folder, s, tmp, rng, mask_nii, mask_arr):
    out = os.path.join(tmp, "res.npy")
    mout = os.path.join(tmp, "resmask.npy")
    bad, bad_mask, bad_geom = [], [], []
    worst = 0.0
    n_cases = n_outside = 0
    centre_vox = np.array([(s.ni - 1) / 2, (s.nj - 1) / 2, (s.nk - 1) / 2])
    for case in range(8):
        plane = ("axial", "coronal", "sagittal")[case % 3]
        rots = [(list(rng.normal(size=3)), float(rng.uniform(-40, 40)))
                for _ in range(1 + case % 2)]
        w, h = int(rng.integers(40, 90)), int(rng.integers(40, 90))
        px = float(rng.uniform(0.6, 1.4))
        args = ["reslice", folder, "--plane", plane, "--width", w, "--height", h,
                "--pixel", "%.17g" % px, "--outside", -3000, "--npy", out,
                "--mask-nifti", mask_nii, "--mask-npy", mout]
        cv = centre_vox + rng.uniform(-6, 6, size=3)
        if case % 2:
            centre = s.to_lps(cv)
            args += ["--centre-lps", ",".join("%.17g" % c for c in centre)]
        else:
            centre = s.to_lps(cv)
            args += ["--centre-voxel", ",".join("%.17g" % c for c in cv)]
        for axis, deg in rots:
            args += ["--rotate", ",".join("%.17g" % a for a in axis + [deg])]
        rc, so, se = run(cli, *args)
        n_cases += 1
        if rc != 0:
            bad.append("case %d: exit %d %s" % (case, rc, se))
            continue
        j = strict_json(so)
        right, down = expected_axes(s, plane, rots)
        lps = plane_pixels(centre, right, down, w, h, px)
        ijk = s.to_index(lps)
        want = s.trilinear(ijk, -3000.0)
        got = npy(out).astype(np.float64)
        ok = ~near_boundary(s, ijk)
        err = np.abs(got - want)[ok]
        tol = RESLICE_ABS_TOL + RESLICE_REL_TOL * np.abs(want[ok])
        worst = max(worst, float(err.max()) if err.size else 0.0)
        inside = np.all((ijk >= 0) & (ijk <= [s.ni - 1, s.nj - 1, s.nk - 1]), axis=-1)
        n_outside += int((~inside).sum())
        if got.shape != (h, w) or np.any(err > tol) or not np.any(inside & ok) \
                or np.any(got[~inside & ok] != -3000):
            bad.append("case %d (%s, %s): max error %.4g HU, inside %d of %d"
                       % (case, plane, rots, err.max(), inside.sum(), inside.size))
        # Nearest neighbour: the voxel whose cell holds the pixel centre, 0 outside.
        r = np.floor(ijk + 0.5).astype(int)
        inb = np.all((r >= 0) & (r < [s.ni, s.nj, s.nk]), axis=-1)
        rc_ = np.clip(r, 0, [s.ni - 1, s.nj - 1, s.nk - 1])
        mwant = np.where(inb, mask_arr[rc_[..., 2], rc_[..., 1], rc_[..., 0]], 0)
        mgot = npy(mout)
        okm = ~near_half(ijk)
        if mgot.shape != (h, w) or not np.array_equal(mgot[okm], mwant[okm]) \
                or mwant.sum() == 0:
            bad_mask.append("case %d: %d pixels differ of %d (%d in the mask)"
                            % (case, int((mgot != mwant)[okm].sum()), okm.sum(), mwant.sum()))
        # Geometry: corners in LPS and voxels, directions, normal.
        for key, (x, y) in (("pixel_0_0", (0, 0)), ("pixel_last_0", (w - 1, 0)),
                            ("pixel_0_last", (0, h - 1))):
            if not np.allclose(j[key]["lps"], lps[y, x], atol=1e-6) \
                    or not np.allclose(j[key]["voxel"], ijk[y, x], atol=1e-6):
                bad_geom.append("case %d %s: %s vs %s / %s" % (case, key, j[key], lps[y, x],
                                                               ijk[y, x]))
        if not np.allclose(j["right"], right, atol=1e-9) \
                or not np.allclose(j["down"], down, atol=1e-9) \
                or not np.allclose(j["normal"], np.cross(right, down), atol=1e-9):
            bad_geom.append("case %d axes %s %s vs %s %s" % (case, j["right"], j["down"], right,
                                                             down))
    check("%s: %d oblique reslices equal scipy map_coordinates(order=1) within %g HU + %g "
          "relative (worst %.2g HU), outside value beyond the voxel centres"
          % (tag, n_cases, RESLICE_ABS_TOL, RESLICE_REL_TOL, worst), not bad and n_outside > 0,
          "\n".join(bad))
    check("%s: the mask resliced nearest-neighbour equals numpy's nearest voxel" % tag,
          not bad_mask, "\n".join(bad_mask))
    check("%s: the LPS and voxel positions of the corner pixels and the axes are exact" % tag,
          not bad_geom, "\n".join(bad_geom[:6]))

    # A standard plane through reslice is the plane itself.
    bad = []
    for plane in ("axial", "coronal", "sagittal"):
        d = s.V.shape[s.depth_axis(plane)] // 3
        rc, so, se = run(cli, "reslice", folder, "--plane", plane, "--index", d, "--npy", out)
        want = s.plane_image(plane, np.take(s.V, d, axis=s.depth_axis(plane)))
        got = npy(out) if rc == 0 else None
        if got is None or got.shape != want.shape or np.abs(got - want).max() > 1e-2:
            bad.append("%s %d: exit %d %s" % (plane, d, rc, se))
    check("%s: reslice of a standard plane equals its voxels (within 0.01 HU)" % tag, not bad,
          "\n".join(bad))


def check_oblique_slab(cli, tag, folder, s, tmp, rng):
    """Oblique slabs (MIP, MinIP, mean along the plane's normal) against scipy: samples at
    k * step along the normal, k = -m..m with m = floor(T / 2 step), each
    map_coordinates(order=1); samples outside the box of voxel centres do not count (NaN
    here), a pixel with none is the outside value."""
    out = os.path.join(tmp, "oslab.npy")
    bad, worst, n_cases, n_partial = [], 0.0, 0, 0
    centre_vox = np.array([(s.ni - 1) / 2, (s.nj - 1) / 2, (s.nk - 1) / 2])
    step = float(min(s.sp))
    for case, mode in enumerate(("mip", "minip", "mean", "mip", "mean", "minip")):
        plane = ("axial", "coronal", "sagittal")[case % 3]
        rots = [(list(rng.normal(size=3)), float(rng.uniform(-40, 40)))]
        w, h, px = int(rng.integers(40, 70)), int(rng.integers(40, 70)), float(rng.uniform(0.7, 1.3))
        thickness = float(rng.uniform(3, 15))
        cv = centre_vox + rng.uniform(-6, 6, size=3)
        centre = s.to_lps(cv)
        args = ["reslice", folder, "--plane", plane, "--width", w, "--height", h,
                "--pixel", "%.17g" % px, "--outside", -3000, "--npy", out,
                "--centre-lps", ",".join("%.17g" % c for c in centre),
                "--slab-mode", mode, "--thickness", "%.17g" % thickness]
        for axis, deg in rots:
            args += ["--rotate", ",".join("%.17g" % a for a in axis + [deg])]
        rc, so, se = run(cli, *args)
        n_cases += 1
        if rc != 0:
            bad.append("case %d: exit %d %s" % (case, rc, se))
            continue
        j = strict_json(so)
        right, down = expected_axes(s, plane, rots)
        normal = np.cross(right, down)
        m = int(math.floor(thickness / (2 * step) + 1e-6))
        samples, near = [], np.zeros((h, w), bool)
        for k in range(-m, m + 1):
            ijk = s.to_index(plane_pixels(centre + k * step * normal, right, down, w, h, px))
            inside = np.all((ijk >= 0) & (ijk <= [s.ni - 1, s.nj - 1, s.nk - 1]), axis=-1)
            near |= near_boundary(s, ijk)
            samples.append(np.where(inside, s.trilinear(ijk, 0.0), np.nan))
        st = np.stack(samples)
        cnt = np.sum(~np.isnan(st), axis=0)
        with np.errstate(all="ignore"):
            red = {"mip": np.nanmax, "minip": np.nanmin, "mean": np.nanmean}[mode]
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = np.where(cnt > 0, red(st, axis=0), -3000.0)
        got = npy(out).astype(np.float64)
        ok = ~near
        err = np.abs(got - want)[ok]
        tol = RESLICE_ABS_TOL + RESLICE_REL_TOL * np.abs(want[ok])
        worst = max(worst, float(err.max()) if err.size else 0.0)
        n_partial += int(((cnt > 0) & (cnt < 2 * m + 1)).sum())
        if got.shape != (h, w) or np.any(err > tol) or j.get("slab_samples") != 2 * m + 1 \
                or abs(j.get("slab_step", 0) - step) > 1e-9:
            bad.append("case %d (%s %s %.2f mm): max error %.4g HU, samples %s vs %d"
                       % (case, plane, mode, thickness, err.max(), j.get("slab_samples"), 2 * m + 1))
    check("%s: %d oblique slabs (MIP, MinIP, mean along the normal) equal scipy "
          "map_coordinates(order=1) samples within %g HU + %g relative (worst %.2g HU; %d pixels "
          "with part of the slab outside)" % (tag, n_cases, RESLICE_ABS_TOL, RESLICE_REL_TOL,
                                             worst, n_partial),
          not bad and n_partial > 0, "\n".join(bad))


def check_letters(cli, folder):
    """Known answers on the untilted phantom: axial R/L, A/P; turned 90 degrees about S the
    right edge is P; turned 30 degrees it is LP (both components above the 0.1 cut)."""
    rc, so, se = run(cli, "reslice", folder, "--plane", "axial", "--width", 16, "--height", 16)
    ok = rc == 0 and strict_json(so)["letters"] == {"left": "R", "right": "L", "top": "A",
                                                    "bottom": "P"}
    check("letters of the axial plane: R L A P", ok, so + se)
    rc, so, se = run(cli, "reslice", folder, "--rotate", "0,0,1,90", "--width", 16)
    lt = strict_json(so)["letters"] if rc == 0 else {}
    check("letters after a 90 degree turn about S: right P, bottom R",
          lt.get("right") == "P" and lt.get("bottom") == "R", so + se)
    rc, so, se = run(cli, "reslice", folder, "--rotate", "0,0,1,30", "--width", 16)
    lt = strict_json(so)["letters"] if rc == 0 else {}
    check("letters after a 30 degree turn about S: right LP, left RA",
          lt.get("right") == "LP" and lt.get("left") == "RA", so + se)
    rc, so, se = run(cli, "reslice", folder, "--plane", "coronal", "--width", 16)
    lt = strict_json(so)["letters"] if rc == 0 else {}
    check("letters of the coronal plane: top S, bottom I", lt.get("top") == "S"
          and lt.get("bottom") == "I" and lt.get("right") == "L", so + se)


# --------------------------------------------------------------------------------- ROI

def roi_mask(shape, kind, pts):
    """The pixel-centre rule written again (mm-roi.h): pixel (u, v) has its centre at
    (u + 0.5, v + 0.5)."""
    h, w = shape
    cy, cx = np.mgrid[0:h, 0:w] + 0.5
    if kind == "rect":
        x0, y0, x1, y1 = pts
        return ((cx >= min(x0, x1)) & (cx <= max(x0, x1)) & (cy >= min(y0, y1))
                & (cy <= max(y0, y1)))
    if kind == "ellipse":
        x0, y0, x1, y1 = pts
        mx, my, a, b = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
        return ((cx - mx) / a) ** 2 + ((cy - my) / b) ** 2 <= 1
    # Polygon: even-odd, an edge crossing when exactly one end has y > cy, counted when the
    # centre is left of the crossing.
    xs, ys = pts[0::2], pts[1::2]
    inside = np.zeros(shape, bool)
    n = len(xs)
    for p in range(n):
        q = (p - 1) % n
        xi, yi, xj, yj = xs[p], ys[p], xs[q], ys[q]
        crosses = (yi > cy) != (yj > cy)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = (xj - xi) * (cy - yi) / (yj - yi) + xi
        inside ^= crosses & (cx < xc)
    return inside


def numpy_stats(vals, pixel_area=None, voxel_ml=None):
    v = np.asarray(vals, dtype=np.float64)
    st = {"count": int(v.size)}
    if pixel_area is not None:
        st["area_mm2"] = v.size * pixel_area
    if voxel_ml is not None:
        st["volume_ml"] = v.size * voxel_ml
    if v.size:
        st.update(mean=float(v.mean()), sd=float(v.std()), median=float(np.median(v)),
                  min=float(v.min()), max=float(v.max()))
    else:
        st.update(mean=0.0, sd=0.0, median=0.0, min=0.0, max=0.0)
    return st


def stats_match(got, want):
    if got.get("count") != want["count"]:
        return False
    for k, v in want.items():
        if k == "count":
            continue
        if not math.isclose(got[k], v, rel_tol=1e-9, abs_tol=1e-6):
            return False
    return True


def fmt(pts):
    return ",".join("%.17g" % p for p in pts)


def check_roi(cli, tag, folder, s, tmp, rng, planes=("axial", "coronal", "sagittal")):
    out = os.path.join(tmp, "roi.npy")
    bad, n_cases, n_cut = [], 0, 0
    for plane in planes:
        axis = s.depth_axis(plane)
        d = s.V.shape[axis] // 2 + 1
        img = s.plane_image(plane, np.take(s.V, d, axis=axis))
        h, w = img.shape
        pw, ph, _ = s.plane_spacing(plane)
        shapes = []
        for _ in range(3):
            x0, x1 = sorted(rng.uniform(-0.2 * w, 1.2 * w, 2))
            y0, y1 = sorted(rng.uniform(-0.2 * h, 1.2 * h, 2))
            shapes.append(("rect", [x0, y0, x1, y1]))
            shapes.append(("ellipse", [x1, y1, x0, y0]))
        # Half-integer corners: pixel centres on the rectangle's edges count.
        shapes.append(("rect", [2.5, 3.5, w / 2 + 0.5, h / 2 + 0.5]))
        # Cut by the image border on every side.
        shapes.append(("ellipse", [-w * 0.3, -h * 0.3, w * 1.3, h * 1.3]))
        for _ in range(3):
            k = int(rng.integers(3, 12))
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            rad = rng.uniform(0.1, 0.7, k)
            cxp, cyp = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
            pts = np.stack([cxp + rad * w * np.cos(ang), cyp + rad * h * np.sin(ang)], 1)
            shapes.append(("polygon", list(pts.ravel())))
        # Self-intersecting (a bow tie): even-odd.
        shapes.append(("polygon", [0.1 * w, 0.1 * h, 0.9 * w, 0.8 * h, 0.9 * w, 0.13 * h,
                                   0.12 * w, 0.85 * h]))
        for kind, pts in shapes:
            rc, so, se = run(cli, "measure", folder, "--plane", plane, "--index", d,
                             "--" + kind, fmt(pts), "--roi-npy", out)
            n_cases += 1
            m = roi_mask(img.shape, kind, pts)
            want = numpy_stats(img[m], pixel_area=pw * ph)
            xs, ys = np.array(pts[0::2]), np.array(pts[1::2])
            n_cut += bool(xs.min() < 0 or ys.min() < 0 or xs.max() > w or ys.max() > h)
            if rc != 0:
                bad.append("%s %s: exit %d %s" % (plane, kind, rc, se))
                continue
            got = strict_json(so)["roi"]
            if not stats_match(got, want) or not np.array_equal(npy(out), m.astype(np.uint8)):
                bad.append("%s %s %s:\n got %s\nwant %s" % (plane, kind, fmt(pts), got, want))
    check("%s: %d ROIs (rectangle, ellipse, polygon; %d cut by the border) on %s: count, "
          "area, mean, SD, median, min, max equal numpy on the pixel-centre rule"
          % (tag, n_cases, n_cut, "/".join(planes)), not bad and n_cut > 0, "\n".join(bad[:6]))


def check_roi_oblique(cli, tag, folder, s, tmp):
    """An ellipse on an oblique plane reaching outside the volume: the pixels outside do not
    count; statistics against map_coordinates with NaN outside."""
    w, h, px = 130, 110, 1.1
    rots = [([1, 0.3, 0.2], 25.0)]
    cv = np.array([(s.ni - 1) / 2, (s.nj - 1) / 2, (s.nk - 1) / 2])
    centre = s.to_lps(cv)
    pts = [5.2, -3.7, 120.9, 101.3]
    rc, so, se = run(cli, "measure", folder, "--centre-voxel", fmt(cv), "--rotate",
                     fmt(rots[0][0] + [rots[0][1]]), "--width", w, "--height", h, "--pixel", px,
                     "--ellipse", fmt(pts))
    right, down = expected_axes(s, "axial", rots)
    ijk = s.to_index(plane_pixels(centre, right, down, w, h, px))
    img = s.trilinear(ijk, np.nan)
    m = roi_mask((h, w), "ellipse", pts) & np.isfinite(img)
    want = numpy_stats(img[m], pixel_area=px * px)
    got = strict_json(so)["roi"] if rc == 0 else {}
    ok = rc == 0 and got["count"] == want["count"] and all(
        math.isclose(got[k], want[k], rel_tol=1e-6, abs_tol=1e-2) for k in want)
    outside = (roi_mask((h, w), "ellipse", pts) & ~np.isfinite(img)).sum()
    check("%s: ellipse on an oblique plane, %d of its pixels outside the volume: statistics "
          "equal numpy on map_coordinates within 0.01 HU" % (tag, outside),
          ok and outside > 0, "got %s\nwant %s\n%s" % (got, want, se))


def check_mask_stats(cli, tag, folder, s, mask_nii, mask_arr):
    vox_ml = float(np.prod(s.sp)) / 1000
    rc, so, se = run(cli, "measure", folder, "--mask-nifti", mask_nii)
    got = strict_json(so)["mask"] if rc == 0 else {}
    want = numpy_stats(s.V[mask_arr > 0], voxel_ml=vox_ml)
    check("%s: statistics of a mask (%d voxels, %.3f ml) equal numpy" % (tag, want["count"],
                                                                          want["volume_ml"]),
          rc == 0 and stats_match(got, want), "got %s\nwant %s\n%s" % (got, want, se))
    lab, n = ndi.label(mask_arr > 0, structure=np.ones((3, 3, 3)))
    bad = []
    for c in (1, n // 2 + 1, n):
        rc, so, se = run(cli, "measure", folder, "--mask-nifti", mask_nii, "--component", c)
        got = strict_json(so)["mask"] if rc == 0 else {}
        want = numpy_stats(s.V[lab == c], voxel_ml=vox_ml)
        if not stats_match(got, want):
            bad.append("component %d: got %s want %s %s" % (c, got, want, se))
    check("%s: statistics of components 1, %d, %d of %d (26-connected, scan order) equal "
          "scipy.ndimage.label + numpy" % (tag, n // 2 + 1, n, n), not bad and n >= 3,
          "\n".join(bad))
    rc, so, se = run(cli, "measure", folder, "--mask-nifti", mask_nii, "--component", n + 1)
    check("%s: --component past the last: exit 1 naming the count" % tag,
          rc == 1 and str(n) in se and len(se.strip().splitlines()) == 1, se)


# ------------------------------------------------------------------------ measurements

def check_measure_geometry(cli, tag, folder, s, rng):
    bad = []
    for case in range(6):
        plane = ("axial", "coronal", "sagittal")[case % 3]
        oblique = case >= 3
        pts = list(rng.uniform(0, 60, 6))
        args = ["measure", folder, "--plane", plane, "--distance", fmt(pts[:4]),
                "--angle", fmt(pts)]
        if oblique:
            args += ["--rotate", "0.2,1,0.4,33", "--width", 64, "--height", 64, "--pixel", 0.8]
        rc, so, se = run(cli, *args)
        if rc != 0:
            bad.append("case %d: exit %d %s" % (case, rc, se))
            continue
        j = strict_json(so)
        # The plane points in LPS from the corners the JSON gives, checked by reslice above.
        o = np.array(j["pixel_0_0"]["lps"])
        ex = (np.array(j["pixel_last_0"]["lps"]) - o) / (j["size"][0] - 1)
        ey = (np.array(j["pixel_0_last"]["lps"]) - o) / (j["size"][1] - 1)

        def lps(x, y):
            return o + (x - 0.5) * ex + (y - 0.5) * ey
        a, b, c = lps(*pts[0:2]), lps(*pts[2:4]), lps(*pts[4:6])
        dist = np.linalg.norm(b - a)
        u, v = a - b, c - b
        ang = math.degrees(math.acos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v),
                                             -1, 1)))
        if not math.isclose(j["distance_mm"], dist, rel_tol=1e-9) \
                or not math.isclose(j["angle_deg"], ang, abs_tol=1e-6):
            bad.append("case %d %s: %s mm %s deg vs %s %s" % (case, plane, j["distance_mm"],
                                                               j["angle_deg"], dist, ang))
    check("%s: distance and angle on standard (anisotropic coronal/sagittal) and oblique planes "
          "equal the 3D distance and angle of the points in LPS" % tag, not bad,
          "\n".join(bad))


def check_profile(cli, tag, folder, s):
    rc, so, se = run(cli, "measure", folder, "--rotate", "1,1,0,35", "--width", 100,
                     "--height", 100, "--profile", "-20,30.25,95.5,61", "--step", 0.7)
    ok = rc == 0
    detail = se
    if ok:
        p = strict_json(so)["profile"]
        a, e = np.array(p["start_lps"]), np.array(p["end_lps"])
        n = p["samples"]
        length = np.linalg.norm(e - a)
        t = np.linspace(0, 1, n)
        want = s.trilinear(s.to_index(a + t[:, None] * (e - a)), np.nan)
        got = np.array([np.nan if x is None else x for x in p["hu"]])
        same_nan = np.array_equal(np.isnan(got), np.isnan(want))
        fin = np.isfinite(want)
        err = np.abs(got[fin] - want[fin]).max() if fin.any() else 0
        spacing_ok = length / (n - 1) <= 0.7 + 1e-9 and (n == 2 or length / (n - 2) > 0.7)
        ok = same_nan and err < 1e-6 and spacing_ok and np.isnan(got).any() and fin.any() \
            and np.allclose(p["pos_mm"], t * length)
        detail = "n %d length %.3f err %s nan same %s" % (n, length, err, same_nan)
    check("%s: HU profile on an oblique plane equals map_coordinates at samples <= 0.7 mm apart "
          "(null outside the volume)" % tag, ok, detail)


def crossings(pos, hu, level):
    """Positions where the profile crosses level, linearly between samples."""
    out = []
    for a in range(len(hu) - 1):
        h0, h1 = hu[a], hu[a + 1]
        if h0 is None or h1 is None:
            continue
        if (h0 - level) * (h1 - level) < 0:
            out.append(pos[a] + (level - h0) / (h1 - h0) * (pos[a + 1] - pos[a]))
    return out


def check_known_size(cli, tag, folder, s, truth):
    """The body ellipse's width (2 x 0.8 R, R = half the field of view, mm-phantom.c) measured
    along a profile through the centre: on the axial plane, and on planes turned by theta about
    the column axis, where a cylinder along the normal is 1 / cos(theta) wider. Edges found at
    the half-way level between air and tissue; within a pixel of truth."""
    R = 0.5 * s.ni * s.sp[0]
    width = 2 * 0.8 * R
    cv = np.array([(s.ni - 1) / 2, (s.nj - 1) / 2, (s.nk - 1) / 2])
    bad = []
    for theta in (0, 20, 35):
        w = int(1.3 * width / math.cos(math.radians(theta)) / s.sp[0])
        y = 0.5 * w  # the row through the centre
        args = ["measure", folder, "--centre-voxel", fmt(cv), "--width", w, "--height", w,
                "--pixel", s.sp[0], "--profile", fmt([0, y, w, y]), "--step", 0.25,
                "--distance", fmt([0, y, w, y])]
        if theta:
            args += ["--rotate", fmt(list(s.col) + [theta])]
        rc, so, se = run(cli, *args)
        if rc != 0:
            bad.append("theta %d: exit %d %s" % (theta, rc, se))
            continue
        p = strict_json(so)["profile"]
        x = crossings(p["pos_mm"], p["hu"], -480)
        want = width / math.cos(math.radians(theta))
        got = x[-1] - x[0] if len(x) >= 2 else float("nan")
        if not abs(got - want) <= s.sp[0]:
            bad.append("theta %d: %.3f mm, truth %.3f mm (crossings %s)" % (theta, got, want, x))
    check("%s: the body's width measured on the profile within a pixel (%.3f mm) of 2 x 0.8 R "
          "/ cos(theta), theta 0, 20, 35 degrees" % (tag, s.sp[0]), not bad, "\n".join(bad))


# ------------------------------------------------------------------------------ hostile

def check_hostile(cli, folder, tmp):
    cases = [
        (["slab", folder, "--thickness", "-1"], 2, "thickness"),
        (["slab", folder, "--thickness", "nan"], 2, "thickness"),
        (["slab", folder, "--mode", "median"], 2, "mode"),
        (["slab", folder, "--index", "100000"], 2, "index"),
        (["slab", folder, "--plane", "axial", "--index", "9999"], 2, "index"),
        (["slab", folder, "--rotate", "0,0,1,10"], 2, "standard"),
        (["reslice", folder, "--width", "5000"], 2, "width"),
        (["reslice", folder, "--pixel", "1e9"], 2, "pixel"),
        (["reslice", folder, "--centre-lps", "1,2"], 2, "centre-lps"),
        (["reslice", folder, "--centre-lps", "1,2,inf"], 2, "centre-lps"),
        (["reslice", folder, "--centre-lps", "1,2,3", "--centre-voxel", "1,2,3"], 2, "exclude"),
        (["reslice", folder, "--right", "0,0,0"], 2, "right"),
        (["reslice", folder, "--right", "1,0,0", "--down", "2,0,0"], 2, "parallel"),
        (["reslice", folder, "--rotate", "0,0,0,10"], 2, "axis"),
        (["reslice", folder, "--rotate", "1,0,0"], 2, "rotate"),
        (["reslice", folder, "--outside", "1e300"], 2, "outside"),
        (["reslice", folder, "--plane", "oblique"], 2, "plane"),
        (["reslice", folder, "--slab-mode", "max", "--thickness", "5"], 2, "slab-mode"),
        (["reslice", folder, "--thickness", "-5", "--slab-mode", "mip"], 2, "thickness"),
        (["reslice", folder, "--thickness", "5", "--slab-mode", "mip", "--slab-step", "1e-9"], 2,
         "slab-step"),
        (["reslice", folder, "--mask-npy", os.path.join(tmp, "m.npy")], 2, "mask"),
        (["measure", folder], 2, "nothing"),
        (["measure", folder, "--polygon", "1,2,3,4"], 2, "polygon"),
        (["measure", folder, "--polygon", "1,2,3,4,5,6,7"], 2, "polygon"),
        (["measure", folder, "--rect", "1,2,3,4", "--ellipse", "1,2,3,4"], 2, "exclude"),
        (["measure", folder, "--rect", "1,2,3,4e99"], 2, "rect"),
        (["measure", folder, "--component", "1"], 2, "component"),
        (["measure", folder, "--distance", "1,2,3,4", "--step", "-1"], 2, "step"),
        (["slab", folder, "--npy", os.path.join(tmp, "no-such-dir", "x.npy")], 3, "x.npy"),
    ]
    bad = []
    for args, code, word in cases:
        rc, so, se = run(cli, *args)
        lines = se.strip().splitlines()
        if rc != code or not lines or word not in se.lower() and word not in se:
            bad.append("%s: exit %d (want %d): %s" % (" ".join(args[2:]), rc, code, se))
    check("%d bad inputs to slab, reslice, measure: usage errors (exit 2) naming the option, "
          "an unwritable output exit 3" % len(cases), not bad, "\n".join(bad))

    # An empty ROI is a count of 0 and zeros, never NaN or Infinity.
    rc, so, se = run(cli, "measure", folder, "--rect", "-50,-50,-10,-10", "--angle",
                     "1,1,1,1,2,2")
    try:
        j = strict_json(so)
        ok = rc == 0 and j["roi"] == {"count": 0, "area_mm2": 0, "mean": 0, "sd": 0,
                                      "median": 0, "min": 0, "max": 0} and j["angle_deg"] is None
    except Exception as e:  # noqa: BLE001
        ok, se = False, "%s %s" % (e, so)
    check("an ROI outside the image: count 0 and zeros; a zero-length angle arm: null (JSON "
          "without NaN or Infinity)", ok, so + se)


def make_series(cli, tmp, name, *args):
    d = os.path.join(tmp, name)
    rc, so, se = run(cli, "phantom", d, *args)
    if rc != 0:
        raise RuntimeError("phantom %s: %s" % (name, se))
    return os.path.join(d, "ct")


def write_mask_nifti(cli, tmp, folder, s, name, mask):
    """A NIfTI mask on the series' grid: the geometry from the CLI's own CT export (an
    independent mask reader would reject a wrong one), the voxels from numpy."""
    ct = os.path.join(tmp, name + "-ct.nii.gz")
    rc, so, se = run(cli, "export", folder, "--ct-nifti", ct)
    if rc != 0:
        raise RuntimeError(se)
    img = nibabel.load(ct)
    out = os.path.join(tmp, name + "-mask.nii.gz")
    m = nibabel.Nifti1Image(np.ascontiguousarray(mask.transpose(2, 1, 0)).astype(np.uint8),
                            img.affine, img.header)
    m.set_data_dtype(np.uint8)
    m.header.set_slope_inter(1, 0)
    nibabel.save(m, out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = ap.parse_args().cli
    rng = np.random.default_rng(13)
    tmp = tempfile.mkdtemp(prefix="mm-reading-")
    try:
        noisy = make_series(cli, tmp, "noisy", "--size", 64, "--slices", 30, "--noise", 40)
        clean = make_series(cli, tmp, "clean", "--size", 96, "--slices", 60)
        tilted = make_series(cli, tmp, "tilted", "--size", 96, "--slices", 60, "--tilt", 20,
                             "--noise", 10)
        for tag, folder in (("phantom", noisy), ("tilted phantom", tilted)):
            s = Series(folder)
            # A random mask of blobs, so that nearest-neighbour errors show.
            blobs = ndi.binary_dilation(rng.random(s.V.shape) < 0.002, iterations=2)
            blobs |= s.V >= 3000
            mnii = write_mask_nifti(cli, tmp, folder, s, tag.replace(" ", "-"), blobs)
            check_slabs(cli, tag, folder, s, tmp)
            check_reslice(cli, tag, folder, s, tmp, rng, mnii, blobs.astype(np.uint8))
            check_oblique_slab(cli, tag, folder, s, tmp, rng)
            check_roi(cli, tag, folder, s, tmp, rng)
            check_roi_oblique(cli, tag, folder, s, tmp)
            check_mask_stats(cli, tag, folder, s, mnii, blobs)
            check_measure_geometry(cli, tag, folder, s, rng)
            check_profile(cli, tag, folder, s)
        check_letters(cli, clean)
        for tag, folder in (("phantom", clean), ("tilted phantom", tilted)):
            check_known_size(cli, tag, folder, Series(folder), None)
        check_hostile(cli, noisy, tmp)

        seed = os.environ.get("MM_SEED_CT")
        if not seed or not os.path.isdir(seed):
            skip("seed CT: ROI statistics and a 30 mm MIP against numpy",
                 "MM_SEED_CT does not name the seed CT folder")
        else:
            s = Series(seed)
            check_roi(cli, "seed CT", seed, s, tmp, rng, planes=("axial", "coronal"))
            out = os.path.join(tmp, "seed-mip.npy")
            bad = []
            for plane in ("axial", "sagittal"):
                idx = s.V.shape[s.depth_axis(plane)] // 2
                rc, so, se = run(cli, "slab", seed, "--plane", plane, "--index", idx,
                                 "--thickness", 30, "--npy", out)
                want, _ = slab_truth(s, plane, idx, 30, "mip")
                if rc != 0 or not np.array_equal(npy(out), want):
                    bad.append("%s: exit %d %s" % (plane, rc, se))
            check("seed CT: 30 mm MIP axial and sagittal equal numpy pixel for pixel", not bad,
                  "\n".join(bad))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
