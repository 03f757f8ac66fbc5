#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Surface extraction beside scikit-image in one run (issue 14): bench-mesh times Metalmark on
the seed CT's metal and its bone at 300 HU and dumps the two masks; scikit-image's
marching_cubes (Lewiner) then runs on the very same voxels (padded by one so it closes) and
the ratios are printed. No timed assertion: the machine is shared; the load is printed.

Usage: bench/mesh-vs-skimage.py [SERIES_DIR] [--runs N] [--bench build/bench/bench-mesh]"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from skimage import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def p50(f, runs):
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = f()
        t.append(1000 * (time.perf_counter() - t0))
    return statistics.median(t), min(t), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("series", nargs="?", default=os.environ.get("MM_SEED_CT"))
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "bench-mesh"))
    a = ap.parse_args()
    if not a.series:
        sys.exit("mesh-vs-skimage: give SERIES_DIR or set MM_SEED_CT")
    with tempfile.TemporaryDirectory(prefix="mm-bench-mesh-") as tmp:
        p = subprocess.run([a.bench, "--runs", str(a.runs), "--dump", tmp, a.series],
                           capture_output=True, text=True, check=True)
        print(p.stdout, end="")
        grid = json.load(open(os.path.join(tmp, "grid.json")))
        nx, ny, nz = grid["dims"]
        sx, sy, sz = grid["spacing"]
        metal = np.fromfile(os.path.join(tmp, "metal.u8"), np.uint8).reshape(nz, ny, nx)
        bone = np.fromfile(os.path.join(tmp, "bone.u8"), np.uint8).reshape(nz, ny, nx)
    ours = {m.group(1).strip(): float(m.group(2)) for m in
            re.finditer(r"^(\S.*?)\s+p50\s+([\d.]+) ms  min", p.stdout, re.M)}
    spacing = (sz, sy, sx)

    def mc(vol):
        v = np.pad(vol, 1).astype(np.float32)
        verts, faces, _, _ = measure.marching_cubes(v, 0.5, spacing=spacing)
        return verts, faces

    k, j, i = np.nonzero(metal)
    crop = metal[k.min():k.max() + 1, j.min():j.max() + 1, i.min():i.max() + 1]
    rows = []
    t_full, _, (v, f) = p50(lambda: mc(metal), a.runs)
    t_crop, _, _ = p50(lambda: mc(crop), a.runs)
    ours_metal = ours["metal surface (box, components, marching cubes)"]
    rows.append(("metal, skimage on the whole mask", t_full, len(f), ours_metal))
    rows.append(("metal, skimage on the metal's box", t_crop, len(f), ours_metal))
    t_bone, _, (vb, fb) = p50(lambda: mc(bone), max(a.runs // 3, 1))
    rows.append(("bone at 300 HU, skimage on the whole mask", t_bone, len(fb),
                 ours["bone surface at 300 HU (marching cubes)"]))
    load = open("/proc/loadavg").read().split()[:3]
    print("\nscikit-image marching_cubes (Lewiner), 1 thread, load average %s:" % " ".join(load))
    print("%-44s %12s %10s %14s %8s" % ("", "skimage p50", "triangles", "Metalmark p50",
                                         "ratio"))
    for what, t, n, o in rows:
        print("%-44s %9.1f ms %10d %11.1f ms %7.1fx" % (what, t, n, o, t / o))
    print("skimage metal area %.1f mm2" % measure.mesh_surface_area(v, f))


if __name__ == "__main__":
    main()
