#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Usage: bench/halfmax_referee.py [--work DIR] [--seed-ct DIR] [--model NAME ...]

A referee for real scans, where there is no exact truth: the half-maximum rule. A scanner blurs
a metal edge with a roughly symmetric point spread, so the true edge lies where the profile
crosses half-way between the metal's plateau and the tissue beside it. The rule: a voxel of
>= 3000 HU is metal unless tissue lies within 3 voxels (the 5th percentile of its 7 x 7
in-plane neighbourhood is below 3000 HU) and its HU is below the mean of that neighbourhood's
95th and 5th percentiles. Deep inside an object (no tissue in view) it keeps the threshold's
answer, so a large implant's uneven interior is not cut.

1. On the held-out physics scans of bench/physics_eval.py (its --work folder: scans/*/ct and
   ct-clip12 with truth/), prints Dice against the exact truth of the 3000 HU threshold and of
   the rule. That says how far the rule can be trusted (on a clipped scan the plateau is flat
   and the rule gives the threshold's answer).
2. With --seed-ct: on that real CT, Dice between the rule's mask and the 3000 HU mask, and of
   each --model's mask (physics_eval's seed-ct/pred-NAME) against both.

Needs python3-numpy, -scipy, -opencv, -pydicom.
"""
import argparse
import glob
import os
import sys

import numpy as np
from scipy.ndimage import percentile_filter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import physics_eval as pe  # noqa: E402
from seed_ct_disagreement import load_ct_by_number  # noqa: E402


def halfmax_mask(hu, threshold=3000.0):
    """The half-maximum rule's metal mask of a [slice, row, column] HU volume."""
    top = np.stack([percentile_filter(s, 95, size=7) for s in hu])
    low = np.stack([percentile_filter(s, 5, size=7) for s in hu])
    return (hu >= threshold) & ((low >= threshold) | (hu >= 0.5 * (top + low)))


def dice(a, b):
    s = int(a.sum()) + int(b.sum())
    return 1.0 if s == 0 else 2.0 * int((a & b).sum()) / s


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--work", default="/tmp/mm-physics-eval")
    ap.add_argument("--seed-ct", default=None)
    ap.add_argument("--model", action="append", default=[])
    a = ap.parse_args()
    rows = []
    for case in sorted(glob.glob(os.path.join(a.work, "scans", "*"))):
        if not os.path.exists(os.path.join(case, "truth.json")):
            continue
        for tag in ("ct", "ct-clip12"):
            if not os.path.isdir(os.path.join(case, tag)):
                continue
            hu, truth, _ = pe.load_case(os.path.join(case, tag), os.path.join(case, "truth"))
            r = (os.path.basename(case), tag, dice(hu >= 3000, truth), dice(halfmax_mask(hu), truth))
            rows.append(r)
            print("%-16s %-9s  3000 HU %.3f  half-max %.3f" % r, flush=True)
    for tag in ("ct", "ct-clip12"):
        sel = [r for r in rows if r[1] == tag]
        if sel:
            print("mean %-9s 3000 HU %.3f  half-max %.3f  (%d scans)" % (
                tag, np.mean([r[2] for r in sel]), np.mean([r[3] for r in sel]), len(sel)))
    if a.seed_ct:
        d = os.path.join(a.work, "seed-ct")
        thr, man = pe.load_stack(os.path.join(d, "t3000"))
        sl = sorted(man["slices"], key=lambda s: s["index"])
        by_number = load_ct_by_number(a.seed_ct)
        hu = np.stack([by_number[s["instance_number"]] for s in sl])
        hm = halfmax_mask(hu)
        print("seed CT: half-max rule vs 3000 HU mask: Dice %.4f (%d and %d voxels)"
              % (dice(hm, thr), hm.sum(), thr.sum()))
        for n in a.model:
            m, _ = pe.load_stack(os.path.join(d, "pred-" + n))
            print("seed CT: %-10s vs 3000 HU %.4f, vs half-max %.4f (%d voxels)"
                  % (n, dice(m, thr), dice(m, hm), m.sum()))


if __name__ == "__main__":
    main()
