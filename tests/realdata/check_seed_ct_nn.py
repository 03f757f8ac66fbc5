#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shipped default model on the real seed CT, zero-shot (it was trained on phantoms only):
`metalmark-cli predict` against the threshold masks (>= 3000 HU, computed here with pydicom and
numpy, not by Metalmark), Dice and HD95 computed here with scipy. Exit 77 (skipped) without
MM_SEED_CT."""

import argparse
import glob
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import pydicom
from scipy import ndimage

SKIP = 77
DICE_MIN = 0.90   # the zero-shot target
HD95_MAX_MM = 2.0


def load_ct(folder):
    slices = []
    for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True):
        if not os.path.isfile(path):
            continue
        try:
            ds = pydicom.dcmread(path)
        except Exception:
            continue
        if "PixelData" not in ds:
            continue
        # the seed CT has no Photometric Interpretation: MONOCHROME2, as Metalmark assumes
        ds.PhotometricInterpretation = "MONOCHROME2"
        hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        ipp = np.array([float(v) for v in ds.ImagePositionPatient])
        iop = np.array([float(v) for v in ds.ImageOrientationPatient])
        normal = np.cross(iop[:3], iop[3:])
        slices.append((float(ipp @ normal), hu, [float(v) for v in ds.PixelSpacing]))
    slices.sort(key=lambda s: s[0])
    z = [s[0] for s in slices]
    spacing = (float(np.median(np.diff(z))), slices[0][2][0], slices[0][2][1])
    return np.stack([s[1] for s in slices]), spacing


def load_stack(folder):
    files = sorted(glob.glob(os.path.join(folder, "mask-*.png")))
    return np.stack([cv2.imread(f, cv2.IMREAD_GRAYSCALE) > 0 for f in files])


def surface_distances(a, b, spacing):
    st = ndimage.generate_binary_structure(3, 1)
    sa = a & ~ndimage.binary_erosion(a, st, border_value=0)
    sb = b & ~ndimage.binary_erosion(b, st, border_value=0)
    return np.concatenate([ndimage.distance_transform_edt(~sb, sampling=spacing)[sa],
                           ndimage.distance_transform_edt(~sa, sampling=spacing)[sb]])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    args = ap.parse_args()
    seed = os.environ.get("MM_SEED_CT")
    if not seed:
        print("1..0 # SKIP MM_SEED_CT is not set (the real seed CT is not part of the repository)")
        return SKIP
    if not os.path.isdir(seed):
        print(f"1..0 # SKIP MM_SEED_CT={seed} is not a folder")
        return SKIP
    print("1..4")
    ct, spacing = load_ct(seed)
    truth = ct >= 3000
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "pred")
        r = subprocess.run([args.cli, "predict", seed, "--model", args.model, "--out", out],
                           capture_output=True, text=True)
        print(("ok" if r.returncode == 0 else "not ok") + " 1 - predict exits 0"
              + ("" if r.returncode == 0 else f" ({r.stderr.strip()})"))
        if r.returncode != 0:
            return 1
        pred = load_stack(out)
    ok = pred.shape == truth.shape
    print(("ok" if ok else "not ok") + f" 2 - one mask slice per CT slice {pred.shape}")
    if not ok:
        return 1
    tp = int((truth & pred).sum())
    dice = 2 * tp / (int(truth.sum()) + int(pred.sum()))
    d = surface_distances(truth, pred, spacing)
    hd95 = float(np.percentile(d, 95))
    print(f"# truth {int(truth.sum())} voxels, predicted {int(pred.sum())}, TP {tp}; "
          f"spacing {spacing}; ASSD {d.mean():.3f} mm")
    print(("ok" if dice >= DICE_MIN else "not ok") + f" 3 - zero-shot Dice {dice:.4f} >= {DICE_MIN}")
    print(("ok" if hd95 <= HD95_MAX_MM else "not ok")
          + f" 4 - zero-shot HD95 {hd95:.3f} mm <= {HD95_MAX_MM} mm")
    return 0 if dice >= DICE_MIN and hd95 <= HD95_MAX_MM else 1


if __name__ == "__main__":
    sys.exit(main())
