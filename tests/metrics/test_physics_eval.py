#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/physics_eval.py (issue 17, part 2): the hindsight threshold search on a hand-made case
whose answer is worked out below, against a brute-force loop on random float values, and the
whole bench on a tiny physics phantom (64 x 64 x 3: 3000 HU threshold, hindsight threshold,
the shipped model; Dice and HD95 from metalmark-cli eval, checked against scipy; the clipped
copy against the simulator's own --clip-12bit). TAP output."""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
from taplib import check, finish  # noqa: E402
import physics_eval as pe  # noqa: E402


def hand_case():
    """Ten metal voxels: six at 5000 HU, four partial-volume edges at 2500. Outside: two at
    2600, one streak at 4000.5, the rest 1000. Dice of HU >= t (TP / pred / truth 10):
      t <= 1000:        every voxel, 10 / 100 -> 20 / 110
      1000 < t <= 2500: 10 / 13 -> 20 / 23 = 0.8696
      2500 < t <= 2600: 6 / 9   -> 12 / 19 = 0.6316
      2600 < t <= 4000: 6 / 7   -> 12 / 17 = 0.7059 (3000 HU is here)
      t = 4001..5000:   6 / 6 with 4000.5 left out -> 12 / 16 = 0.75
      t > 5000:         nothing -> 0
    so the best is 20/23, first reached at t = 1001."""
    hu = np.full(100, 1000.0)
    truth = np.zeros(100, bool)
    hu[:6], truth[:6] = 5000, True
    hu[6:10], truth[6:10] = 2500, True
    hu[10:12] = 2600
    hu[12] = 4000.5
    return hu.reshape(1, 10, 10), truth.reshape(1, 10, 10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    a = ap.parse_args()
    os.environ["MM_CLI"] = a.cli

    hu, truth = hand_case()
    d = pe.dice_per_threshold(hu, truth)
    at = lambda t: d[t - pe.HU_MIN]  # noqa: E731
    check("hand case: Dice at 1000, 1001, 2500, 2600, 3000, 4000, 4001, 5000, 5001",
          np.allclose([at(1000), at(1001), at(2500), at(2600), at(3000), at(4000), at(4001),
                       at(5000), at(5001)],
                      [20 / 110, 20 / 23, 20 / 23, 12 / 19, 12 / 17, 12 / 17, 0.75, 0.75, 0.0]),
          [at(t) for t in (1000, 1001, 2500, 2600, 3000, 4000, 4001, 5000, 5001)])
    t, dice = pe.best_threshold(hu, truth)
    check("hand case: the best threshold is 1001 HU (the lowest reaching 20/23)",
          t == 1001 and abs(dice - 20 / 23) < 1e-12, (t, dice))
    # Without the edge voxels in the truth, the streak decides: 4001 keeps it out.
    t2, dice2 = pe.best_threshold(hu, (hu >= 5000))
    check("hand case, core only: 4001 HU (4000.5 is below it), Dice 1", t2 == 4001 and dice2 == 1.0,
          (t2, dice2))
    got = pe.best_threshold(np.zeros((1, 4, 4)), np.zeros((1, 4, 4), bool))
    check("no metal, every voxel 0 HU: 1 HU is the first threshold leaving both masks empty "
          "(Dice 1)", got == (1, 1.0), got)

    rng = np.random.default_rng(17)
    hu = rng.normal(1500, 1800, (3, 20, 20))
    truth = hu + rng.normal(0, 900, hu.shape) > 3500
    d = pe.dice_per_threshold(hu, truth, -2000, 9000)
    brute = np.array([2.0 * (truth & (hu >= t)).sum() / (truth.sum() + (hu >= t).sum())
                      for t in range(-2000, 9001)])
    check("random float volume: Dice for every threshold -2000..9000 as a brute-force loop",
          np.allclose(d, brute, rtol=0, atol=1e-12), float(np.abs(d - brute).max()))
    t, dice = pe.best_threshold(hu, truth, -2000, 9000)
    check("random float volume: the best threshold is the brute force's first maximum",
          t == -2000 + int(np.argmax(brute)) and abs(dice - brute.max()) < 1e-12,
          (t, dice, -2000 + int(np.argmax(brute))))

    with tempfile.TemporaryDirectory(prefix="mm-physeval-") as tmp:
        js = os.path.join(tmp, "out.json")
        p = subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "bench",
                                                          "physics_eval.py"),
                            "--work", os.path.join(tmp, "w"), "--size", "64", "--slices", "3",
                            "--kinds", "stem", "--doses", "200000", "--threads", "2",
                            "--scipy-check", "--verify-clip", "--json", js],
                           capture_output=True, text=True, timeout=900)
        check("bench on a 64 x 64 x 3 physics phantom exits 0", p.returncode == 0,
              p.stdout + p.stderr)
        if p.returncode != 0:
            return finish()
        r = json.load(open(js))
        rows = r["rows"]
        check("two rows: unclipped and 12-bit", [x["clip"] for x in rows] == [False, True],
              rows)
        ok = all(x["figures"]["hindsight"]["dice"] >= x["figures"]["threshold_3000"]["dice"]
                 for x in rows)
        check("hindsight Dice >= 3000 HU Dice (3000 is among the thresholds searched)", ok, rows)
        clip = rows[1]["figures"]["hindsight"]["threshold_hu"]
        check("12-bit: a hindsight threshold above 3071 would find nothing; it is <= 3071",
              clip <= 3071 or rows[1]["figures"]["hindsight"]["dice"] == 0, clip)
        c = r["checks"]
        check("Dice and HD95 of metalmark-cli eval equal scipy's",
              abs(c["scipy"]["dice_scipy"] - c["scipy"]["dice_eval"]) < 1e-9
              and abs(c["scipy"]["hd95_scipy"] - c["scipy"]["hd95_eval"]) < 1e-6, c)
        check("the clipped copy equals the simulator's --clip-12bit scan", c["clip"]["identical"],
              c)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
