#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Usage: bench/seed_ct_disagreement.py CT_DIR THRESHOLD_MASK_DIR MODEL_MASK_DIR OUT.png
                                     [--slices N] [--json FILE]

Where a model and the 3000 HU threshold disagree on a real CT (no exact truth there): draws
the N slices with the most disagreeing voxels (crops around the metal, HU window -1000..12000, so that the fall-off at the edge shows;
red = the threshold's alone, cyan = the model's alone, white outline = both) and prints a
summary of the disputed voxels.

Who is right cannot be measured without truth, but it can be argued from the edge profile: a
scanner blurs a metal edge with a roughly symmetric point spread, so the true edge sits where
the profile crosses half-way between the metal's plateau and the tissue beside it (the
half-maximum rule; docs/ct-simulation.md, the voxel-centre truth). For every disputed voxel
this takes the metal's plateau as the 95th percentile of HU within 7 x 7 voxels around it and
the tissue as the 5th, and counts the voxel as "below half" when its HU is under the mean of
the two: such a voxel is blooming, not metal, by that rule.

Masks are label stacks (manifest.json + PNGs, `metalmark-cli segment` / `predict --out`),
matched to the CT slices by Instance Number. Needs python3-numpy, -opencv, -pydicom.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np
import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import physics_eval as pe  # noqa: E402

LO, HI = -1000.0, 12000.0


def load_ct_by_number(folder):
    """{Instance Number: HU slice} (the seed CT has no SOP Instance UID: Metalmark makes one up,
    so the masks name their slices by Instance Number too)."""
    out, series = {}, None
    for path in sorted(os.listdir(folder)):
        try:
            ds = pydicom.dcmread(os.path.join(folder, path))
        except Exception:
            continue
        if "PixelData" not in ds:
            continue
        uid = str(ds.get("SeriesInstanceUID", ""))
        if series is None:
            series = uid
        elif uid != series:
            sys.exit(f"{folder}: more than one series ({series}, {uid}): give a folder of one series")
        if int(ds.InstanceNumber) in out:
            sys.exit(f"{folder}/{path}: Instance Number {int(ds.InstanceNumber)} twice in one series")
        if "PhotometricInterpretation" not in ds:
            ds.PhotometricInterpretation = "MONOCHROME2"
        out[int(ds.InstanceNumber)] = (ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope)
                                       + float(ds.RescaleIntercept))
    return out


def half_rule(hu, mask_pts):
    """For each (z, y, x) in mask_pts: True when the voxel's HU is below the half-way level of
    its 7 x 7 neighbourhood (95th and 5th percentiles)."""
    out = []
    for z, y, x in mask_pts:
        nb = hu[z, max(y - 3, 0):y + 4, max(x - 3, 0):x + 4]
        top, low = np.percentile(nb, 95), np.percentile(nb, 5)
        out.append(hu[z, y, x] < 0.5 * (top + low))
    return np.array(out, dtype=bool)


def panel(hu, thr, mod, label):
    ys, xs = np.nonzero(thr | mod)
    cy, cx = int(ys.mean()), int(xs.mean())
    r = max(24, int(max(ys.max() - ys.min(), xs.max() - xs.min()) * 0.6) + 8)
    y0, y1 = max(cy - r, 0), min(cy + r, hu.shape[0])
    x0, x1 = max(cx - r, 0), min(cx + r, hu.shape[1])
    g = np.clip((hu[y0:y1, x0:x1] - LO) / (HI - LO) * 255, 0, 255).astype(np.uint8)
    img = cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)
    t, m = thr[y0:y1, x0:x1], mod[y0:y1, x0:x1]
    img[t & ~m] = (0, 0, 255)
    img[m & ~t] = (255, 255, 0)
    both = (t & m).astype(np.uint8)
    edge = both - cv2.erode(both, np.ones((3, 3), np.uint8))
    img[edge > 0] = (255, 255, 255)
    img = cv2.resize(img, (256, 256), interpolation=cv2.INTER_NEAREST)
    bar = np.zeros((22, 256, 3), np.uint8)
    cv2.putText(bar, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    return np.vstack([bar, img])


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("ct")
    ap.add_argument("threshold_mask")
    ap.add_argument("model_mask")
    ap.add_argument("out")
    ap.add_argument("--slices", type=int, default=4)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    by_number = load_ct_by_number(a.ct)
    thr, man = pe.load_stack(a.threshold_mask)
    mod, man2 = pe.load_stack(a.model_mask)
    sl = sorted(man["slices"], key=lambda s: s["index"])
    uids = [s["sop_instance_uid"] for s in sl]
    if uids != [s["sop_instance_uid"] for s in sorted(man2["slices"], key=lambda s: s["index"])]:
        sys.exit("seed_ct_disagreement: the two masks are not of the same slices")
    hu = np.stack([by_number[s["instance_number"]] for s in sl])
    t_only, m_only, both = thr & ~mod, mod & ~thr, thr & mod
    pts = np.argwhere(t_only)
    below = half_rule(hu, pts) if len(pts) else np.zeros(0, bool)
    pts_m = np.argwhere(m_only)
    below_m = half_rule(hu, pts_m) if len(pts_m) else np.zeros(0, bool)
    per_slice = (t_only | m_only).sum(axis=(1, 2))
    worst = [int(k) for k in np.argsort(-per_slice, kind="stable")[:a.slices] if per_slice[k] > 0]
    pct = (lambda v: [round(float(x)) for x in np.percentile(v, [5, 50, 95])] if v.size else None)
    summary = {
        "threshold_voxels": int(thr.sum()), "model_voxels": int(mod.sum()),
        "threshold_only": int(t_only.sum()), "model_only": int(m_only.sum()),
        "threshold_only_hu_p5_p50_p95": pct(hu[t_only]),
        "both_hu_p5_p50_p95": pct(hu[both]),
        "threshold_only_below_half": int(below.sum()),
        "model_only_below_half": int(below_m.sum()),
        "slices": [{"index": k, "instance_number": sl[k]["instance_number"], "disagree": int(per_slice[k]),
                    "threshold_only": int(t_only[k].sum()), "model_only": int(m_only[k].sum())}
                   for k in worst],
    }
    panels = [panel(hu[k], thr[k], mod[k], "#%d  red %d  cyan %d"
                    % (sl[k]["instance_number"], t_only[k].sum(), m_only[k].sum())) for k in worst]
    if panels:
        cv2.imwrite(a.out, np.hstack(panels))
    print(json.dumps(summary, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
