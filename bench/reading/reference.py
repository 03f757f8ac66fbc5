#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference for bench/reading/run: the work bench-reading times, in numpy and scipy on the
same series: 30 mm MIP slabs (numpy max over the planes whose centres lie in the slab) and
the oblique 512 x 512 plane of frame n (scipy.ndimage.map_coordinates, order 1, plus order 0
for the mask overlay). Prints one line per case: name, runs, p50 ms, p95 ms.

Usage: reference.py SERIES_DIR [RUNS]"""

import math
import os
import sys
import time

import numpy as np
import pydicom
import scipy.ndimage as ndi
from scipy.spatial.transform import Rotation


def load(folder):
    ds = [pydicom.dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder))]
    for d in ds:
        if "PhotometricInterpretation" not in d:
            d.PhotometricInterpretation = "MONOCHROME2"  # the seed CT leaves it out
    iop = [float(v) for v in ds[0].ImageOrientationPatient]
    row, col = np.array(iop[:3]), np.array(iop[3:])
    normal = np.cross(row, col)
    ds.sort(key=lambda d: np.array([float(v) for v in d.ImagePositionPatient]) @ normal)
    pos = [np.array([float(v) for v in d.ImagePositionPatient]) @ normal for d in ds]
    vol = np.stack([d.pixel_array.astype(np.int16) * int(d.RescaleSlope)
                    + int(d.RescaleIntercept) for d in ds]).astype(np.int16)
    ps = [float(v) for v in ds[0].PixelSpacing]
    return vol, np.array([ps[1], ps[0], float(np.mean(np.diff(pos)))]), row, col, normal


def pct(t, q):
    t = sorted(t)
    return t[max(0, math.ceil(q * len(t)) - 1)]


def timed(name, runs, fn):
    t = []
    for n in range(runs):
        t0 = time.perf_counter()
        fn(n)
        t.append((time.perf_counter() - t0) * 1e3)
    print("%-34s %4d runs  p50 %8.2f ms  p95 %8.2f ms" % (name, runs, pct(t, 0.5), pct(t, 0.95)))
    sys.stdout.flush()


def main():
    folder = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    vol, sp, row, col, normal = load(folder)
    mask = (vol >= 3000).astype(np.uint8)
    nk, nj, ni = vol.shape
    print("reference: numpy %s, scipy; %s, %d x %d x %d" % (np.__version__, folder, ni, nj, nk))

    # The plane of bench-reading's frame n, in voxel index space (the directions are the
    # identity for the seed CT and the phantom; general ones would go through row/col/normal).
    def plane(n):
        right, down = row.copy(), -normal
        for axis, deg in (([0, 0, 1], 15 + 0.1 * n), ([1, 0, 0], 20 + 0.05 * n)):
            r = Rotation.from_rotvec(np.array(axis, float) * math.radians(deg))
            right, down = r.apply(right), r.apply(down)
        px = min(sp[0], sp[1])
        centre = np.array([(ni - 1) / 2, (nj - 1) / 2, (nk - 1) / 2]) * sp
        x = (np.arange(512) - 255.5) * px
        lps = centre + x[:, None, None] * down + x[None, :, None] * right
        ijk = np.stack([lps @ row, lps @ col, lps @ normal], -1) / sp
        return [ijk[..., 2], ijk[..., 1], ijk[..., 0]]

    coords = [plane(n) for n in range(runs)]
    timed("oblique 512x512 + mask (scipy)", runs,
          lambda n: (ndi.map_coordinates(vol, coords[n], order=1, cval=-1024, output=np.float32),
                     ndi.map_coordinates(mask, coords[n], order=0, cval=0)))
    timed("oblique 512x512 (scipy)", runs,
          lambda n: ndi.map_coordinates(vol, coords[n], order=1, cval=-1024, output=np.float32))
    for axis, name, s in ((0, "axial", sp[2]), (1, "coronal", sp[1]), (2, "sagittal", sp[0])):
        half = int(math.floor(30 / (2 * s) + 1e-6))
        n_d = vol.shape[axis]

        def mip(n, axis=axis, half=half, n_d=n_d):
            d = n_d // 2 - 20 + n % 41
            sl = [slice(None)] * 3
            sl[axis] = slice(max(0, d - half), min(n_d, d + half + 1))
            return vol[tuple(sl)].max(axis=axis)
        timed("MIP 30 mm %s (numpy)" % name, runs, mip)


if __name__ == "__main__":
    main()
