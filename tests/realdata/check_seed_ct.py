#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Independent check of metalmark-cli info/segment against the real seed CT, using pydicom/numpy/scipy/cv2 only."""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import pydicom
from scipy import ndimage

SKIP = 77
EXPECTED_FILES = 200

# Segmentation runs to compare: (label, extra CLI arguments, threshold, upper, min_volume)
SEGMENT_RUNS = [
    ("default", [], 3000.0, None, 0.0),
    ("min-volume 50", ["--min-volume", "50"], 3000.0, None, 50.0),
    ("threshold 2000 upper 10000", ["--threshold", "2000", "--upper", "10000"], 2000.0, 10000.0, 0.0),
    ("threshold 1500 min-volume 50", ["--threshold", "1500", "--min-volume", "50"], 1500.0, None, 50.0),
]


class Tap:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print(f"ok - {what}")
        else:
            self.failed += 1
            print(f"not ok - {what}" + (f" ({detail})" if detail else ""))
        sys.stdout.flush()
        return cond

    @staticmethod
    def note(text):
        print(f"# {text}")
        sys.stdout.flush()


def close(a, b, abs_tol=0.0, rel_tol=0.0):
    if a is None or b is None:
        return False
    return math.isclose(float(a), float(b), rel_tol=rel_tol, abs_tol=abs_tol)


def vec_close(a, b, abs_tol):
    if a is None or b is None or len(a) != len(b):
        return False
    return all(close(x, y, abs_tol=abs_tol) for x, y in zip(a, b))


# ---------------------------------------------------------------- reading

def load_series(folder):
    """Read every file with pydicom; return slices sorted along the normal and a skip count."""
    slices = []
    skipped = 0
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            continue
        try:
            ds = pydicom.dcmread(path, force=True)
        except Exception:
            skipped += 1
            continue
        if "PixelData" not in ds or "ImagePositionPatient" not in ds:
            skipped += 1
            continue
        if "PhotometricInterpretation" not in ds:
            ds.PhotometricInterpretation = "MONOCHROME2"  # single-sample data without the tag
        slices.append(ds)
    if not slices:
        return None, skipped
    row = np.array([float(v) for v in slices[0].ImageOrientationPatient[:3]])
    col = np.array([float(v) for v in slices[0].ImageOrientationPatient[3:]])
    normal = np.cross(row, col)
    for ds in slices:
        ds._mm_pos = float(np.dot(np.array([float(v) for v in ds.ImagePositionPatient]), normal))
    slices.sort(key=lambda ds: ds._mm_pos)
    return slices, skipped


def slice_hu(ds):
    slope = float(ds.get("RescaleSlope", 1.0) or 1.0)
    intercept = float(ds.get("RescaleIntercept", 0.0) or 0.0)
    return ds.pixel_array.astype(np.float64) * slope + intercept


def compute_reference(slices):
    first, last = slices[0], slices[-1]
    rows, cols = int(first.Rows), int(first.Columns)
    row_cos = np.array([float(v) for v in first.ImageOrientationPatient[:3]])
    col_cos = np.array([float(v) for v in first.ImageOrientationPatient[3:]])
    normal = np.cross(row_cos, col_cos)
    row_spacing = float(first.PixelSpacing[0])  # between rows (vertical step)
    col_spacing = float(first.PixelSpacing[1])  # between columns (horizontal step)
    pos = np.array([ds._mm_pos for ds in slices])
    slice_spacing = float(np.mean(np.diff(pos))) if len(pos) > 1 else float(first.get("SliceThickness", 1.0))

    yy, xx = np.mgrid[0:rows, 0:cols]
    cy, cx = (rows - 1) / 2.0, (cols - 1) / 2.0
    radius = min(rows, cols) / 2.0
    outside = (xx - cx) ** 2 + (yy - cy) ** 2 > radius ** 2

    hu = np.empty((len(slices), rows, cols), dtype=np.float64)
    for k, ds in enumerate(slices):
        hu[k] = slice_hu(ds)

    values, counts = np.unique(hu[:, outside], return_counts=True)
    padding = float(values[np.argmax(counts)])
    padding_share = float(counts.max()) / float(counts.sum())
    is_pad = hu == padding
    padding_voxels = int(np.count_nonzero(is_pad))
    total = float(hu.sum())
    pad_sum = padding * padding_voxels
    ipp_first = np.array([float(v) for v in first.ImagePositionPatient])
    ipp_last = np.array([float(v) for v in last.ImagePositionPatient])
    first_voxel = ipp_first
    last_voxel = ipp_last + (cols - 1) * col_spacing * row_cos + (rows - 1) * row_spacing * col_cos
    centre = (first_voxel + last_voxel) / 2.0
    return {
        "hu": hu,
        "dims": [cols, rows, len(slices)],
        "spacing": [col_spacing, row_spacing, slice_spacing],
        "row_cos": row_cos.tolist(),
        "col_cos": col_cos.tolist(),
        "normal": normal,
        "positions": pos,
        "max": float(hu.max()),
        "min": float(hu.min()),
        "mean": total / hu.size,
        "mean_without_padding": (total - pad_sum) / (hu.size - padding_voxels),
        "padding": padding,
        "padding_share_outside": padding_share,
        "padding_voxels": padding_voxels,
        "first_voxel": first_voxel.tolist(),
        "last_voxel": last_voxel.tolist(),
        "centre_lps": centre.tolist(),
        "centre_ras": [-centre[0], -centre[1], centre[2]],
        "sop_uids": [str(ds.file_meta.get("MediaStorageSOPInstanceUID", "")) for ds in slices],
        "instance_numbers": [int(ds.InstanceNumber) if "InstanceNumber" in ds else None for ds in slices],
    }


def expected_mask(ref, threshold, upper, min_volume):
    hu = ref["hu"]
    mask = hu >= threshold
    if upper is not None:
        mask &= hu <= upper
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    voxel_volume = ref["spacing"][0] * ref["spacing"][1] * ref["spacing"][2]
    keep = sizes * voxel_volume >= min_volume
    keep[0] = False
    kept = int(np.count_nonzero(keep[1:]))
    mask = keep[labels]
    return mask, kept, n - kept, voxel_volume


# ---------------------------------------------------------------- CLI

def run_cli(cli, args):
    proc = subprocess.run([cli] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    data = None
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        pass
    return proc.returncode, data, proc.stderr.strip()


def check_info(tap, cli, folder, ref):
    rc, info, err = run_cli(cli, ["info", folder, "--json"])
    tap.check(rc == 0 and isinstance(info, dict), "info --json exits 0 and prints JSON", f"rc={rc} {err[:200]}")
    if not isinstance(info, dict):
        return
    tap.check(info.get("dims") == ref["dims"], f"info dims == {ref['dims']}", f"cli {info.get('dims')}")
    tap.check(vec_close(info.get("spacing_mm"), ref["spacing"], 1e-6),
              f"info spacing_mm == {ref['spacing']}", f"cli {info.get('spacing_mm')}")
    tap.check(vec_close(info.get("orientation_row"), ref["row_cos"], 1e-6)
              and vec_close(info.get("orientation_column"), ref["col_cos"], 1e-6),
              "info orientation_row/column match Image Orientation (Patient)",
              f"cli {info.get('orientation_row')} {info.get('orientation_column')}")
    tap.check(info.get("max") == ref["max"], f"info max == {ref['max']:g}", f"cli {info.get('max')}")
    tap.check(info.get("min") == ref["min"], f"info min == {ref['min']:g}", f"cli {info.get('min')}")
    tap.check(close(info.get("mean"), ref["mean"], rel_tol=1e-6),
              f"info mean == {ref['mean']:.6f}", f"cli {info.get('mean')}")
    tap.check(info.get("padding_value") is not None and float(info["padding_value"]) == ref["padding"],
              f"info padding_value == {ref['padding']:g}",
              f"cli {info.get('padding_value')} (source {info.get('padding_source')})")
    tap.check(info.get("padding_voxels") == ref["padding_voxels"],
              f"info padding_voxels == {ref['padding_voxels']}", f"cli {info.get('padding_voxels')}")
    tap.check(close(info.get("mean_without_padding"), ref["mean_without_padding"], rel_tol=1e-6),
              f"info mean_without_padding == {ref['mean_without_padding']:.6f}",
              f"cli {info.get('mean_without_padding')}")
    tap.check(vec_close(info.get("first_voxel_lps_mm"), ref["first_voxel"], 1e-3),
              f"info first_voxel_lps_mm == {fmt(ref['first_voxel'])}", f"cli {info.get('first_voxel_lps_mm')}")
    tap.check(vec_close(info.get("last_voxel_lps_mm"), ref["last_voxel"], 1e-3),
              f"info last_voxel_lps_mm == {fmt(ref['last_voxel'])}", f"cli {info.get('last_voxel_lps_mm')}")
    tap.check(vec_close(info.get("centre_lps_mm"), ref["centre_lps"], 1e-3),
              f"info centre_lps_mm == {fmt(ref['centre_lps'])}", f"cli {info.get('centre_lps_mm')}")
    tap.check(vec_close(info.get("centre_ras_mm"), ref["centre_ras"], 1e-3),
              f"info centre_ras_mm == {fmt(ref['centre_ras'])}", f"cli {info.get('centre_ras_mm')}")
    tap.check(info.get("files_read") == EXPECTED_FILES, f"info files_read == {EXPECTED_FILES}",
              f"cli {info.get('files_read')}")
    tap.check(info.get("files_skipped") == 0, "info files_skipped == 0", f"cli {info.get('files_skipped')}")


def fmt(v):
    return "[" + ", ".join(f"{x:.4f}" for x in v) + "]"


def check_segment(tap, cli, folder, ref, workdir, label, extra, threshold, upper, min_volume):
    out = os.path.join(workdir, label.replace(" ", "_"))
    rc, summary, err = run_cli(cli, ["segment", folder, "--out", out, "--json"] + extra)
    tap.check(rc == 0 and isinstance(summary, dict), f"[{label}] segment --json exits 0 and prints JSON",
              f"rc={rc} {err[:200]}")
    want, kept, dropped, voxel_volume = expected_mask(ref, threshold, upper, min_volume)
    want_voxels = int(np.count_nonzero(want))
    want_slices_with_metal = int(np.count_nonzero(want.any(axis=(1, 2))))
    tap.note(f"[{label}] reference: {want_voxels} metal voxels, {kept} components kept, {dropped} dropped, "
             f"{want_slices_with_metal} slices with metal, {want_voxels * voxel_volume / 1000.0:.4f} ml")
    if isinstance(summary, dict):
        tap.check(summary.get("metal_voxels") == want_voxels, f"[{label}] summary metal_voxels == {want_voxels}",
                  f"cli {summary.get('metal_voxels')}")
        tap.check(summary.get("components") == kept, f"[{label}] summary components == {kept}",
                  f"cli {summary.get('components')}")
        tap.check(summary.get("components_dropped") == dropped,
                  f"[{label}] summary components_dropped == {dropped}", f"cli {summary.get('components_dropped')}")
        tap.check(summary.get("slices_with_metal") == want_slices_with_metal,
                  f"[{label}] summary slices_with_metal == {want_slices_with_metal}",
                  f"cli {summary.get('slices_with_metal')}")
        tap.check(close(summary.get("volume_ml"), want_voxels * voxel_volume / 1000.0, rel_tol=1e-6),
                  f"[{label}] summary volume_ml == {want_voxels * voxel_volume / 1000.0:.6f}",
                  f"cli {summary.get('volume_ml')}")

    try:
        with open(os.path.join(out, "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError) as exc:
        tap.check(False, f"[{label}] manifest.json readable", str(exc))
        return
    entries = manifest.get("slices", [])
    nz = ref["dims"][2]
    tap.check(manifest.get("dims") == ref["dims"] and len(entries) == nz,
              f"[{label}] manifest dims == {ref['dims']} with {nz} slice entries",
              f"dims {manifest.get('dims')}, {len(entries)} entries")

    bad_index, bad_uid, bad_inst, bad_z, bad_values, bad_count, unreadable = [], [], [], [], [], [], []
    mismatch_voxels = 0
    mismatch_slices = []
    for i, e in enumerate(entries):
        idx = e.get("index")
        if idx != i:
            bad_index.append(i)
        if not isinstance(idx, int) or not 0 <= idx < nz:
            continue
        if e.get("sop_instance_uid") != ref["sop_uids"][idx]:
            bad_uid.append(idx)
        if e.get("instance_number") != ref["instance_numbers"][idx]:
            bad_inst.append(idx)
        if not close(e.get("z_mm"), ref["positions"][idx], abs_tol=1e-3):
            bad_z.append((idx, e.get("z_mm"), ref["positions"][idx]))
        img = cv2.imread(os.path.join(out, str(e.get("file"))), cv2.IMREAD_UNCHANGED)
        rows, cols = ref["dims"][1], ref["dims"][0]
        if img is None or img.dtype != np.uint8 or img.shape != (rows, cols):
            unreadable.append((idx, None if img is None else (img.dtype, img.shape)))
            continue
        if not np.isin(img, (0, 255)).all():
            bad_values.append((idx, np.unique(img)[:6].tolist()))
        got = img == 255
        if e.get("voxels") != int(np.count_nonzero(got)):
            bad_count.append((idx, e.get("voxels"), int(np.count_nonzero(got))))
        diff = int(np.count_nonzero(got != want[idx]))
        if diff:
            mismatch_voxels += diff
            mismatch_slices.append(idx)

    tap.check(not bad_index, f"[{label}] manifest indices run 0..{nz - 1} in order", f"bad at {bad_index[:5]}")
    tap.check(not bad_uid, f"[{label}] manifest sop_instance_uid == MediaStorageSOPInstanceUID of each slice",
              f"{len(bad_uid)} wrong, first at {bad_uid[:5]}")
    tap.check(not bad_inst, f"[{label}] manifest instance_number matches each slice",
              f"{len(bad_inst)} wrong, first at {bad_inst[:5]}")
    tap.check(not bad_z, f"[{label}] manifest z_mm == position projected on the normal (1e-3 mm)",
              f"{len(bad_z)} wrong, first {bad_z[:3]}")
    tap.check(not unreadable, f"[{label}] every PNG is readable, 8-bit, {ref['dims'][0]}x{ref['dims'][1]}",
              f"{len(unreadable)} bad, first {unreadable[:3]}")
    tap.check(not bad_values, f"[{label}] PNG values only 0/255", f"first {bad_values[:3]}")
    tap.check(not bad_count, f"[{label}] manifest voxels per slice == PNG count", f"first {bad_count[:3]}")
    tap.check(mismatch_voxels == 0 and not unreadable,
              f"[{label}] PNG masks equal numpy threshold + scipy 26-connected labelling voxel for voxel",
              f"{mismatch_voxels} voxels differ in {len(mismatch_slices)} slices, first {mismatch_slices[:5]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cli", required=True, help="path to metalmark-cli")
    args = parser.parse_args()

    folder = os.environ.get("MM_SEED_CT")
    if not folder:
        print("SKIP: MM_SEED_CT not set (the real seed CT lives in ../shared/data/seed-ct)")
        return SKIP
    if not os.path.isdir(folder):
        print(f"SKIP: MM_SEED_CT={folder} is not a folder (the real seed CT lives in ../shared/data/seed-ct)")
        return SKIP

    tap = Tap()
    slices, skipped = load_series(folder)
    tap.check(slices is not None and len(slices) == EXPECTED_FILES and skipped == 0,
              f"pydicom reads {EXPECTED_FILES} image files, none skipped",
              f"read {0 if slices is None else len(slices)}, skipped {skipped}")
    if not slices:
        print(f"{tap.passed} passed, {tap.failed} failed")
        return 1
    uids = {str(ds.get("SeriesInstanceUID", "")) for ds in slices}
    tap.check(len(uids) == 1, "all files belong to one series", f"{sorted(uids)}")

    ref = compute_reference(slices)
    tap.note(f"reference: dims {ref['dims']}, spacing {ref['spacing']}, max {ref['max']:g}, min {ref['min']:g}, "
             f"mean {ref['mean']:.6f}, mean_without_padding {ref['mean_without_padding']:.6f}")
    tap.note(f"reference: padding {ref['padding']:g} ({ref['padding_share_outside'] * 100:.2f}% of pixels outside "
             f"the inscribed circle), padding_voxels {ref['padding_voxels']}, centre LPS {fmt(ref['centre_lps'])}, "
             f"RAS {fmt(ref['centre_ras'])}")

    if not (os.path.isfile(args.cli) and os.access(args.cli, os.X_OK)):
        tap.check(False, f"metalmark-cli is an executable at {args.cli}")
        print(f"{tap.passed} passed, {tap.failed} failed")
        return 1

    check_info(tap, args.cli, folder, ref)
    with tempfile.TemporaryDirectory(prefix="mm-seed-ct-") as workdir:
        for label, extra, threshold, upper, min_volume in SEGMENT_RUNS:
            check_segment(tap, args.cli, folder, ref, workdir, label, extra, threshold, upper, min_volume)

    print(f"{tap.passed} passed, {tap.failed} failed")
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
