#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/halfmax_referee.py (issue 17, part 2): the half-maximum rule on generated metal
whose truth is exact. A disc of metal (voxel centre inside the circle) at 15000 HU in 40 HU
tissue, blurred by a Gaussian point spread of 1.2 voxels: the 3000 HU threshold takes the
bloom as metal, the rule finds the edge. A large disc with an uneven interior keeps its
interior. A plateau clipped at 3071 HU gets the threshold's answer. TAP output."""

import os
import sys

import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from taplib import check, finish  # noqa: E402
import halfmax_referee as hr  # noqa: E402


def disc(n, r, cx, cy):
    y, x = np.mgrid[0:n, 0:n]
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def volume(truth2d, metal_hu, sigma, slices=3):
    img = np.where(truth2d, metal_hu, 40.0)
    img = gaussian_filter(img, sigma) if sigma > 0 else img
    return np.stack([img] * slices), np.stack([truth2d] * slices)


def main():
    # A small rod: the bloom above 3000 HU is about as wide as the rod's edge zone.
    truth2d = disc(64, 5.3, 31.4, 32.2)
    hu, truth = volume(truth2d, 15000.0, 1.2)
    thr = hu >= 3000
    hm = hr.halfmax_mask(hu)
    d_thr, d_hm = hr.dice(thr, truth), hr.dice(hm, truth)
    check("the 3000 HU threshold over-segments a blurred rod", thr.sum() > truth.sum() * 1.2,
          "%d against %d truth voxels" % (thr.sum(), truth.sum()))
    check("the half-max rule finds the rod's edge (Dice >= 0.95)", d_hm >= 0.95, "Dice %.4f" % d_hm)
    check("the half-max rule beats the threshold by >= 0.1", d_hm >= d_thr + 0.1,
          "half-max %.4f, threshold %.4f" % (d_hm, d_thr))

    # A large implant with an uneven interior (8000..20000 HU): no holes inside.
    big = disc(96, 30, 48, 48)
    rng = np.random.default_rng(5)
    inner = 8000 + 12000 * gaussian_filter(rng.random((96, 96)), 2) / 1.0
    img = gaussian_filter(np.where(big, np.clip(inner, 8000, 20000), 40.0), 1.2)
    hu2 = np.stack([img] * 2)
    hm2 = hr.halfmax_mask(hu2)
    deep = distance_transform_edt(big) >= 5
    check("deep inside a large implant every voxel stays metal", hm2[0][deep].all(),
          "%d of %d deep voxels lost" % ((~hm2[0][deep]).sum(), deep.sum()))

    # Clipped at 3071 HU: a flat plateau; the rule cannot see the edge and keeps the threshold.
    clipped = np.minimum(hu, 3071)
    check("on a clipped scan the rule gives the threshold's mask",
          np.array_equal(hr.halfmax_mask(clipped), clipped >= 3000))

    # dice: both empty is 1 (mm-metrics' convention), disjoint is 0.
    e = np.zeros((2, 2), bool)
    check("dice of two empty masks is 1", hr.dice(e, e) == 1.0)
    check("dice of disjoint masks is 0", hr.dice(np.eye(2, dtype=bool), ~np.eye(2, dtype=bool)) == 0.0)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
