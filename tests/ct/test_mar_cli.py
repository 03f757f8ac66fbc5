#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli mar (issue 17, part 3) on a small generated phantom: the derived series read
back with pydicom (an independent reader): new Series and SOP Instance UIDs, Image Type
DERIVED\\SECONDARY, the description naming the method, the source's geometry, patient and
study, the metal put back unchanged, slices without metal unchanged, the artifacts changed;
a label-stack mask; hostile and wrong input refused with one-line errors.
Usage: test_mar_cli.py --cli metalmark-cli"""

import argparse
import glob
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, run  # noqa: E402

try:
    import numpy as np
    import pydicom
except ImportError as e:  # pragma: no cover
    print("1..0 # SKIP needs python3-numpy and python3-pydicom (%s)" % e)
    sys.exit(0)

ap = argparse.ArgumentParser()
ap.add_argument("--cli", required=True)
args = ap.parse_args()
tmp = tempfile.TemporaryDirectory(prefix="mm-mar-cli-")
T = tmp.name


def ok(cond, name, detail=""):
    return check(name, cond, detail)


def series(d):
    out = []
    for f in sorted(glob.glob(os.path.join(d, "*.dcm"))):
        ds = pydicom.dcmread(f)
        hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        out.append((ds, hu))
    out.sort(key=lambda t: float(t[0].ImagePositionPatient[2]))
    return out


ph = os.path.join(T, "ph")
rc, _, err = run(args.cli, "phantom", "--size", 128, "--slices", 8, ph)
ok(rc == 0, "phantom written", err)
src = series(os.path.join(ph, "ct"))

for method, label in (("nmar", "NMAR (Metalmark)"), ("li", "LI-MAR (Metalmark)")):
    out = os.path.join(T, "out-" + method)
    rc, _, err = run(args.cli, "mar", os.path.join(ph, "ct"), "--method", method, "--out", out)
    ok(rc == 0, "%s: exit 0" % method, err)
    res = series(out)
    ok(len(res) == len(src), "%s: %d slices written" % (method, len(res)))
    if len(res) != len(src):
        continue
    uids = {d.SeriesInstanceUID for d, _ in res}
    ok(len(uids) == 1 and src[0][0].SeriesInstanceUID not in uids,
       "%s: one new Series Instance UID" % method)
    sops = {d.SOPInstanceUID for d, _ in res}
    ok(len(sops) == len(res) and not sops & {d.SOPInstanceUID for d, _ in src},
       "%s: new SOP Instance UIDs" % method)
    ok(all(list(d.ImageType)[:2] == ["DERIVED", "SECONDARY"] for d, _ in res),
       "%s: Image Type DERIVED\\SECONDARY" % method)
    ok(all(d.SeriesDescription == label for d, _ in res),
       "%s: Series Description '%s'" % (method, label), res[0][0].SeriesDescription)
    same = all(a.StudyInstanceUID == b.StudyInstanceUID and a.PatientName == b.PatientName
               and a.PatientID == b.PatientID
               and a.FrameOfReferenceUID == b.FrameOfReferenceUID
               and list(a.ImagePositionPatient) == list(b.ImagePositionPatient)
               and list(a.ImageOrientationPatient) == list(b.ImageOrientationPatient)
               and list(a.PixelSpacing) == list(b.PixelSpacing)
               for (a, _), (b, _) in zip(res, src))
    ok(same, "%s: study, patient, frame of reference and geometry of the source" % method)
    metal_same = all(np.array_equal(r[s >= 3000], s[s >= 3000])
                     for (_, r), (_, s) in zip(res, src))
    ok(metal_same, "%s: metal pixels (>= 3000 HU) put back unchanged" % method)
    clean_same = all(np.array_equal(r, s) for (_, r), (_, s) in zip(res, src)
                     if not (s >= 3000).any())
    ok(clean_same, "%s: slices without metal unchanged" % method)
    changed = [float(np.abs(r - s)[(s < 3000) & (s > -1000)].mean())
               for (_, r), (_, s) in zip(res, src) if (s >= 3000).any()]
    ok(changed and min(changed) > 1, "%s: slices with metal corrected (mean change %s HU)"
       % (method, ", ".join("%.0f" % c for c in changed)))

# A label-stack mask (the phantom's truth) works; one of another grid is refused.
rc, _, err = run(args.cli, "mar", os.path.join(ph, "ct"), "--mask", os.path.join(ph, "truth"),
                 "--out", os.path.join(T, "out-mask"))
ok(rc == 0 and len(glob.glob(os.path.join(T, "out-mask", "*.dcm"))) == 8,
   "a label-stack mask is used", err)
ph2 = os.path.join(T, "ph2")
run(args.cli, "phantom", "--size", 64, "--slices", 4, ph2)
rc, _, err = run(args.cli, "mar", os.path.join(ph, "ct"), "--mask", os.path.join(ph2, "truth"),
                 "--out", os.path.join(T, "out-bad"))
ok(rc == 1 and len(err.strip().splitlines()) == 1 and "truth" in err,
   "a mask of another grid is refused in one line naming it", err)
ok(not glob.glob(os.path.join(T, "out-bad", "*")), "nothing written for a refused mask")
# Hostile or wrong command lines.
rc, _, err = run(args.cli, "mar", os.path.join(ph, "ct"), "--out", os.path.join(T, "out-nmar"))
ok(rc == 3 and "not empty" in err and "out-nmar" in err,
   "a folder that is not empty is refused (exit 3) naming it", err)
rc, _, err = run(args.cli, "mar", os.path.join(ph, "ct"), "--method", "magic", "--out",
                 os.path.join(T, "x"))
ok(rc == 2 and "magic" in err, "an unknown method is a usage error", err)
rc, _, err = run(args.cli, "mar", os.path.join(ph, "ct"), "--views", 3, "--out",
                 os.path.join(T, "x"))
ok(rc == 2, "too few views is a usage error", err)
rc, _, err = run(args.cli, "mar", os.path.join(T, "nothing-here"), "--out", os.path.join(T, "y"))
ok(rc == 1 and len(err.strip().splitlines()) >= 1, "a missing series is an input error", err)
sys.exit(taplib.finish())
