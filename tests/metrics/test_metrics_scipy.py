#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli eval against an independent numpy + scipy computation on random blobby
masks (thresholded smoothed noise, anisotropic spacing) written as PNG label stacks with
OpenCV; the per-slice CSV, the empty-mask conventions and the exit codes. TAP output."""

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile

import cv2
import numpy as np
from scipy import ndimage

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run  # noqa: E402


def write_stack(path, mask, spacing, uids=None, instances=None):
    """mask is indexed [slice, row, column]; spacing is [column, row, slice] in mm, as in the
    manifest. File names as mm_label_stack_file_name: mask-%04d.png, or mask-%04d-i%d.png
    with an instance number."""
    os.makedirs(path)
    nz, ny, nx = mask.shape
    slices = []
    for k in range(nz):
        inst = None if instances is None else int(instances[k])
        name = "mask-%04d.png" % k if inst is None else "mask-%04d-i%d.png" % (k, inst)
        assert cv2.imwrite(os.path.join(path, name), (mask[k] * 255).astype(np.uint8))
        slices.append({"index": k, "file": name,
                       "sop_instance_uid": None if uids is None else uids[k],
                       "instance_number": inst, "z_mm": k * spacing[2],
                       "voxels": int(mask[k].sum())})
    manifest = {"format": "metalmark-label-stack", "version": 1,
                "series_uid": "1.2.826.0.1.3680043.8.498.1", "dims": [nx, ny, nz],
                "spacing_mm": list(spacing), "label": {"name": "metal", "value": 255},
                "parameters": None, "slices": slices}
    with open(os.path.join(path, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


def blobs(rng, shape, sigma, fraction):
    """Smoothed noise thresholded so that about fraction of the voxels are set."""
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    return noise > np.quantile(noise, 1.0 - fraction), noise


def reference(truth, pred, spacing):
    """The figures computed independently: surfaces by 6-connected erosion (border outside),
    distances by scipy's exact EDT with the anisotropic sampling, HD95 as numpy's default
    percentile of both directed sets pooled, ASSD their mean."""
    tp = int((truth & pred).sum())
    nt, np_ = int(truth.sum()), int(pred.sum())
    ref = {"tp": tp, "fp": np_ - tp, "fn": nt - tp, "truth_voxels": nt, "pred_voxels": np_}
    ref["dice"] = 2.0 * tp / (nt + np_)
    ref["iou"] = tp / (nt + np_ - tp)
    ref["precision"] = tp / np_
    ref["recall"] = tp / nt
    voxel_ml = spacing[0] * spacing[1] * spacing[2] / 1000.0
    ref["volume_difference_ml"] = (np_ - nt) * voxel_ml
    ref["volume_difference_percent"] = 100.0 * (np_ - nt) / nt
    st = ndimage.generate_binary_structure(3, 1)
    st_t = truth & ~ndimage.binary_erosion(truth, structure=st, border_value=0)
    st_p = pred & ~ndimage.binary_erosion(pred, structure=st, border_value=0)
    sampling = (spacing[2], spacing[1], spacing[0])  # array axes are slice, row, column
    d_tp = ndimage.distance_transform_edt(~st_p, sampling=sampling)[st_t]
    d_pt = ndimage.distance_transform_edt(~st_t, sampling=sampling)[st_p]
    pooled = np.concatenate([d_tp, d_pt])
    ref["truth_surface_voxels"] = int(st_t.sum())
    ref["pred_surface_voxels"] = int(st_p.sum())
    ref["hd95_mm"] = float(np.percentile(pooled, 95))
    ref["assd_mm"] = float(pooled.mean())
    ref["hausdorff_mm"] = float(pooled.max())
    return ref


def rel_close(a, b, rtol):
    return a is not None and abs(a - b) <= rtol * max(abs(b), 1e-300)


def compare(name, got, ref):
    ints = ["tp", "fp", "fn", "truth_voxels", "pred_voxels", "truth_surface_voxels",
            "pred_surface_voxels"]
    bad = ["%s %s != %s" % (k, got.get(k), ref[k]) for k in ints if got.get(k) != ref[k]]
    for k in ["dice", "iou", "precision", "recall"]:
        if not rel_close(got.get(k), ref[k], 1e-6):
            bad.append("%s %r vs scipy %r" % (k, got.get(k), ref[k]))
    for k in ["hd95_mm", "assd_mm", "hausdorff_mm"]:
        if got.get(k) is None or abs(got[k] - ref[k]) > 1e-3:
            bad.append("%s %r vs scipy %r" % (k, got.get(k), ref[k]))
    for k in ["volume_difference_ml", "volume_difference_percent"]:
        if got.get(k) is None or abs(got[k] - ref[k]) > 1e-9 * max(1.0, abs(ref[k])):
            bad.append("%s %r vs %r" % (k, got.get(k), ref[k]))
    check("%s: eval agrees with scipy (Dice %.4f, HD95 %.3f mm, ASSD %.3f mm)"
          % (name, ref["dice"], ref["hd95_mm"], ref["assd_mm"]), not bad, "\n".join(bad))


def eval_json(cli, truth, pred, *extra):
    rc, out, err = run(cli, "eval", "--truth", truth, "--pred", pred, "--json", *extra)
    if rc != 0:
        return rc, None, err
    return rc, json.loads(out), err


def tests(cli, tmp):
    rng = np.random.default_rng(20240611)
    # (slices, rows, columns), smoothing sigma per axis, spacing [column, row, slice] mm.
    cases = [
        ((12, 40, 48), (1.0, 3.0, 3.0), (0.7, 0.9, 2.5), 0.15),
        ((20, 64, 64), (1.5, 4.0, 4.0), (0.976, 0.976, 1.6), 0.08),
        ((33, 50, 71), (2.0, 2.5, 3.5), (1.3, 0.6, 3.0), 0.2),
        ((7, 30, 25), (0.8, 1.5, 1.5), (0.5, 0.5, 5.0), 0.3),
    ]
    for n, (shape, sigma, spacing, fraction) in enumerate(cases):
        truth, noise = blobs(rng, shape, sigma, fraction)
        # A prediction that mostly overlaps: the same noise, perturbed and re-thresholded.
        wobble = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
        field = noise + 0.6 * wobble * noise.std() / wobble.std()
        pred = field > np.quantile(field, 1.0 - fraction * rng.uniform(0.7, 1.3))
        uids = ["1.2.826.0.1.3680043.8.498.%d.%d" % (n, k) for k in range(shape[0])]
        with_instances = n % 2 == 1
        inst = [shape[0] - k for k in range(shape[0])] if with_instances else None
        tdir, pdir = os.path.join(tmp, "t%d" % n), os.path.join(tmp, "p%d" % n)
        write_stack(tdir, truth, spacing, uids, inst)
        write_stack(pdir, pred, spacing, uids if n != 2 else None, inst)
        name = "%dx%dx%d spacing %s" % (shape[2], shape[1], shape[0], spacing)
        csv_path = os.path.join(tmp, "slices%d.csv" % n)
        rc, got, err = eval_json(cli, tdir, pdir, "--csv", csv_path)
        check("%s: eval exits 0" % name, rc == 0, err)
        if got is None:
            continue
        compare(name, got, reference(truth, pred, spacing))

        # The per-slice CSV.
        with open(csv_path) as f:
            rows = list(csv.DictReader(f))
        bad = []
        if len(rows) != shape[0]:
            bad.append("%d rows for %d slices" % (len(rows), shape[0]))
        for k, row in enumerate(rows[:shape[0]]):
            t, p = int(truth[k].sum()), int(pred[k].sum())
            dice = 2.0 * int((truth[k] & pred[k]).sum()) / (t + p) if t + p else 1.0
            if (int(row["index"]) != k or row["sop_instance_uid"] != uids[k]
                    or int(row["truth_voxels"]) != t or int(row["pred_voxels"]) != p
                    or abs(float(row["dice"]) - dice) > 1e-8):
                bad.append("slice %d: %r, expected dice %r, %d / %d voxels" % (k, row, dice, t, p))
        check("%s: per-slice CSV" % name, not bad, "\n".join(bad[:5]))

        if n == 0:
            rc1, one, _ = eval_json(cli, tdir, pdir, "--threads", "1")
            rc2, two, _ = eval_json(cli, tdir, pdir, "--threads", "2")
            check("1 and 2 threads give the same JSON", rc1 == rc2 == 0 and one == two)
            rc, out, err = run(cli, "eval", "--truth", tdir, "--pred", pdir)
            check("table output names Dice and HD95",
                  rc == 0 and "Dice" in out and "HD95" in out, out + err)
            # The reverse comparison: Dice and the distances are symmetric.
            rc, rev, err = eval_json(cli, pdir, tdir)
            check("swapping truth and pred keeps Dice, HD95, ASSD",
                  rc == 0 and rev["dice"] == got["dice"]
                  and abs(rev["hd95_mm"] - got["hd95_mm"]) < 1e-9
                  and abs(rev["assd_mm"] - got["assd_mm"]) < 1e-9
                  and rev["precision"] == got["recall"], rev)

    # Empty masks.
    shape, spacing = (5, 20, 24), (0.8, 0.8, 2.0)
    cube = np.zeros(shape, bool)
    cube[1:4, 5:12, 6:15] = True
    e1, e2, c = (os.path.join(tmp, x) for x in ("e1", "e2", "c"))
    write_stack(e1, np.zeros(shape, bool), spacing)
    write_stack(e2, np.zeros(shape, bool), spacing)
    write_stack(c, cube, spacing)
    rc, got, err = eval_json(cli, e1, e2)
    check("empty vs empty: Dice 1, IoU 1, distances 0",
          rc == 0 and got["dice"] == 1 and got["iou"] == 1 and got["hd95_mm"] == 0
          and got["assd_mm"] == 0, (rc, got, err))
    rc, got, err = eval_json(cli, c, e1)
    check("empty prediction: Dice 0, recall 0, precision and distances null",
          rc == 0 and got["dice"] == 0 and got["recall"] == 0 and got["precision"] is None
          and got["hd95_mm"] is None and got["assd_mm"] is None
          and abs(got["volume_difference_percent"] + 100) < 1e-9, (rc, got, err))
    rc, out, err = run(cli, "eval", "--truth", c, "--pred", e1)
    check("empty prediction, table: n/a", rc == 0 and "n/a" in out, out + err)

    # Inputs that do not match: exit 1 with the file named.
    other = os.path.join(tmp, "other-dims")
    write_stack(other, np.zeros((5, 20, 25), bool), spacing)
    rc, out, err = run(cli, "eval", "--truth", c, "--pred", other)
    check("different dims: exit 1, one line naming the manifest",
          rc == 1 and other in err and len(err.strip().splitlines()) == 1, (rc, err))
    sp = os.path.join(tmp, "other-spacing")
    write_stack(sp, cube, (0.8, 0.8, 2.5))
    rc, out, err = run(cli, "eval", "--truth", c, "--pred", sp)
    check("different spacing: exit 1", rc == 1 and "spacing" in err, (rc, err))
    ua, ub = os.path.join(tmp, "uid-a"), os.path.join(tmp, "uid-b")
    write_stack(ua, cube, spacing, ["1.2.3.%d" % k for k in range(5)])
    write_stack(ub, cube, spacing, ["1.2.3.%d" % k for k in (0, 1, 3, 2, 4)])
    rc, out, err = run(cli, "eval", "--truth", ua, "--pred", ub)
    check("slices of other SOP Instance UIDs: exit 1", rc == 1 and "1.2.3.3" in err, (rc, err))
    rc, out, err = run(cli, "eval", "--truth", c, "--pred", os.path.join(tmp, "nope"))
    check("missing stack: exit 1", rc == 1 and "nope" in err, (rc, err))
    rc, out, err = run(cli, "eval", "--truth", c)
    check("no --pred: exit 2", rc == 2, (rc, err))
    rc, out, err = run(cli, "eval", "--truth", c, "--pred", c, "--csv", "/proc/metalmark-no.csv")
    check("unwritable CSV: exit 3 naming it",
          rc == 3 and "/proc/metalmark-no.csv" in err, (rc, err))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = ap.parse_args().cli
    tmp = tempfile.mkdtemp(prefix="mm-metrics-test-")
    try:
        tests(cli, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
