#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Metal artifact reduction (docs/mar.md) on a small physics phantom: `metalmark-cli phantom
--physics --variant 15` (a CoCr hip stem; 256 x 256, 2 slices, about 4 s), corrected by
`metalmark-cli mar` (LI and NMAR, the default 3000 HU mask) and compared with the same scan
simulated without the metal (ct-no-metal). Ring RMSE (HU, clipped to -1000..2000) over the
body within 5 cm of the true metal, without the metal and the mask, over every slice with
metal, as bench/mar-physics measures it. Asserts the issue's targets: NMAR at most 50 % of the
uncorrected ring RMSE and below LI's. The version before the sharp NMAR prior reached 0.61 of
the uncorrected here (NMAR/LI 0.95); this one 0.42 (0.77).
Usage: test_mar_physics.py --cli metalmark-cli"""

import argparse
import glob
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, run  # noqa: E402

try:
    import numpy as np
    import pydicom
    from PIL import Image
    from scipy.ndimage import binary_fill_holes, distance_transform_edt
except ImportError as e:  # pragma: no cover
    print("1..0 # SKIP needs python3-numpy, -scipy, -pydicom and -pil (%s)" % e)
    sys.exit(0)

ap = argparse.ArgumentParser()
ap.add_argument("--cli", required=True)
args = ap.parse_args()
tmp = tempfile.TemporaryDirectory(prefix="mm-marphys-")
T = tmp.name


def series(d):
    out = {}
    for f in glob.glob(os.path.join(d, "*.dcm")):
        ds = pydicom.dcmread(f)
        hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        out[round(float(ds.ImagePositionPatient[2]), 3)] = (ds, hu.astype(np.float32))
    return out


ph = os.path.join(T, "ph")
rc, _, err = run(args.cli, "phantom", ph, "--physics", "--variant", "15", "--slices", "2",
                 "--size", "256", "--threads", "2")
if not check("the physics phantom is written", rc == 0, err.strip()):
    sys.exit(taplib.finish())
outs = {}
for method in ("li", "nmar"):
    rc, _, err = run(args.cli, "mar", os.path.join(ph, "ct"), "--method", method, "--threads",
                     "2", "--out", os.path.join(T, method))
    check("metalmark-cli mar --method %s runs" % method, rc == 0, err.strip())
    outs[method] = series(os.path.join(T, method)) if rc == 0 else {}
scan, ref = series(os.path.join(ph, "ct")), series(os.path.join(ph, "ct-no-metal"))
man = json.load(open(os.path.join(ph, "truth", "manifest.json")))
truth = {s["sop_instance_uid"]: np.array(Image.open(os.path.join(ph, "truth", s["file"]))) != 0
         for s in man["slices"]}
err2 = {"uncorrected": [], "li": [], "nmar": []}
for z, (ds, hu) in sorted(scan.items()):
    metal = truth[ds.SOPInstanceUID]
    if not metal.any() or z not in outs["li"] or z not in outs["nmar"]:
        continue
    r = ref[z][1]
    body = binary_fill_holes(r > -500) & ~metal & (hu < 3000)
    ring = (distance_transform_edt(~metal) * float(ds.PixelSpacing[0]) <= 50) & body
    for k, img in (("uncorrected", hu), ("li", outs["li"][z][1]), ("nmar", outs["nmar"][z][1])):
        d = np.clip(img, -1000, 2000) - np.clip(r, -1000, 2000)
        err2[k].append(d[ring] ** 2)
if check("the phantom has slices with metal", len(err2["nmar"]) > 0):
    rm = {k: float(np.sqrt(np.concatenate(v).mean())) for k, v in err2.items()}
    print("# ring RMSE: uncorrected %.1f, LI %.1f, NMAR %.1f HU (NMAR/uncorrected %.3f, "
          "NMAR/LI %.3f)" % (rm["uncorrected"], rm["li"], rm["nmar"],
                             rm["nmar"] / rm["uncorrected"], rm["nmar"] / rm["li"]))
    check("LI-MAR lowers the ring RMSE", rm["li"] < rm["uncorrected"])
    check("NMAR's ring RMSE is at most 50 %% of the uncorrected (%.0f %%)"
          % (100 * rm["nmar"] / rm["uncorrected"]), rm["nmar"] <= 0.5 * rm["uncorrected"])
    check("NMAR's ring RMSE is below LI's (%.1f vs %.1f HU)" % (rm["nmar"], rm["li"]),
          rm["nmar"] < rm["li"])
sys.exit(taplib.finish())
