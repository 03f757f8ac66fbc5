#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Reference for bench/run: what `metalmark-cli segment` does, in pydicom + numpy + scipy + OpenCV.
"""
Usage: reference_segment.py SERIES_DIR OUT_DIR [--threshold HU] [--min-volume MM3]

Reads every DICOM image file under SERIES_DIR (recursively), rescales the stored
values to HU, orders the slices by Image Position (Patient) projected on the
slice normal, thresholds HU >= threshold, labels 26-connected 3D components
(scipy.ndimage.label with a full 3x3x3 structure), drops components smaller
than --min-volume, and writes one 0/255 PNG per slice (cv2.imwrite) plus a
small manifest.json into OUT_DIR.  Prints the metal voxel and component counts
so they can be compared with `metalmark-cli segment`.

Meant for Debian's /usr/bin/python3 with python3-pydicom, python3-numpy,
python3-scipy and python3-opencv.
"""

import argparse
import json
import os
import sys

import cv2
import numpy as np
import pydicom
from scipy import ndimage


def main():
    ap = argparse.ArgumentParser(description="pydicom/numpy/scipy/OpenCV metal segmentation")
    ap.add_argument("series_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--threshold", type=float, default=3000.0)
    ap.add_argument("--min-volume", type=float, default=0.0, help="mm^3")
    args = ap.parse_args()

    slices = []
    for dirpath, dirnames, filenames in os.walk(args.series_dir):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                ds = pydicom.dcmread(path)
            except Exception:
                continue
            if "PixelData" not in ds or "ImagePositionPatient" not in ds:
                continue
            slices.append(ds)
    if not slices:
        print("reference_segment: %s: no DICOM image" % args.series_dir, file=sys.stderr)
        return 1
    series = slices[0].get("SeriesInstanceUID")
    slices = [s for s in slices if s.get("SeriesInstanceUID") == series]

    iop = np.array([float(v) for v in slices[0].ImageOrientationPatient], dtype=np.float64)
    normal = np.cross(iop[:3], iop[3:])
    slices.sort(key=lambda s: float(np.dot(normal, [float(v) for v in s.ImagePositionPatient])))

    rows, cols = int(slices[0].Rows), int(slices[0].Columns)
    vol = np.empty((len(slices), rows, cols), dtype=np.float32)
    for k, ds in enumerate(slices):
        slope = float(ds.get("RescaleSlope", 1.0))
        icpt = float(ds.get("RescaleIntercept", 0.0))
        if "PhotometricInterpretation" not in ds:   # missing: MONOCHROME2, as in the seed CT
            ds.PhotometricInterpretation = "MONOCHROME2"
        vol[k] = ds.pixel_array.astype(np.float32) * slope + icpt

    mask = vol >= args.threshold
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    if args.min_volume > 0 and n > 0:
        sp = [float(v) for v in slices[0].PixelSpacing]
        if len(slices) > 1:
            p0 = np.dot(normal, [float(v) for v in slices[0].ImagePositionPatient])
            p1 = np.dot(normal, [float(v) for v in slices[-1].ImagePositionPatient])
            dz = abs(p1 - p0) / (len(slices) - 1)
        else:
            dz = float(slices[0].get("SliceThickness", 1.0))
        voxel_mm3 = sp[0] * sp[1] * dz
        keep = sizes * voxel_mm3 >= args.min_volume
        keep[0] = False
        mask = keep[labels]
        kept = int(keep[1:].sum())
    else:
        kept = n

    os.makedirs(args.out_dir, exist_ok=True)
    out = mask.astype(np.uint8) * 255
    files = []
    for k, ds in enumerate(slices):
        name = "mask-%04d-i%d.png" % (k, int(ds.get("InstanceNumber", k)))
        if not cv2.imwrite(os.path.join(args.out_dir, name), out[k]):
            print("reference_segment: cannot write %s" % name, file=sys.stderr)
            return 3
        files.append({"index": k, "file": name, "voxels": int(np.count_nonzero(out[k]))})
    with open(os.path.join(args.out_dir, "manifest.json"), "w") as f:
        json.dump({"series_uid": str(series), "dims": [cols, rows, len(slices)],
                   "threshold_hu": args.threshold, "slices": files}, f, indent=1)

    print("Metal voxels    %d" % int(np.count_nonzero(mask)))
    print("Components      %d (%d dropped)" % (kept, n - kept))
    print("Written         %s (%d PNGs and manifest.json)" % (args.out_dir, len(slices)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
