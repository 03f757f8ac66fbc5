#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Usage: bench/physics_eval.py [--work DIR] [--size N] [--slices N] [--seed S] [--kinds K,...]
                             [--doses D,...] [--model NAME=FILE ...] [--seed-ct DIR]
                             [--markdown FILE] [--json FILE] [--threads N] [--scipy-check]

Segmentation against the exact metal truth on held-out physics phantoms (issue 17, part 2).
For every implant kind (a variant whose metal is that kind, found from the plain phantom's
truth.json at --seed), every dose, unclipped and 12-bit clipped, `metalmark-cli phantom
--physics` scans the variant and this prints Dice and HD95 against the exact truth of
  (a) the 3000 HU threshold (`metalmark-cli segment`),
  (b) the best single threshold for that scan chosen in hindsight: Dice of HU >= t for every
      integer t from -1024 to 32767 from two histograms (all voxels, truth voxels), the
      highest Dice, the lowest t on ties; the mask of that t is then segmented and evaluated
      like (a), so both figures come from `metalmark-cli eval` (src/core/mm-metrics),
  (c...) each --model (`metalmark-cli predict`), default: the shipped model.
The clipped scan is the unclipped one with its values limited to 3071 HU (the simulator's
--clip-12bit does exactly that after reconstruction, with the same noise seed; --verify-clip
simulates one with --clip-12bit and compares). With --seed-ct, each model's zero-shot Dice and
HD95 on that real CT against its 3000 HU threshold mask (no exact truth there).

The held-out seed (default 9001) must differ from every seed used for training
(build-aux/train-default-model uses 1, build-aux/train-physics-model 7).

MM_CLI: metalmark-cli (default build/src/cli/metalmark-cli). Nothing is built.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import cv2
import numpy as np
import pydicom

KINDS = ("stem", "cup", "screws", "nail", "plate", "wires")
HU_MIN, HU_MAX = -1024, 32767
CLIP_HU = 3071


def cli_path():
    return os.environ.get("MM_CLI", "build/src/cli/metalmark-cli")


def run(*args, log=None):
    """Runs metalmark-cli with args; stdout as text; exits with its stderr on failure."""
    cmd = [cli_path()] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("physics_eval: %s failed (%d):\n%s" % (" ".join(cmd), p.returncode, p.stderr))
    return p.stdout


# ---- the hindsight threshold --------------------------------------------------------------

def dice_per_threshold(hu, truth, lo=HU_MIN, hi=HU_MAX):
    """Dice of (hu >= t) against truth for every integer t in lo..hi, as an array indexed
    t - lo. hu may be float: for an integer t, v >= t exactly when floor(v) >= t. Both masks
    empty gives Dice 1 (mm-metrics' convention)."""
    c = np.clip(np.floor(np.asarray(hu, dtype=np.float64)), lo - 1, hi).astype(np.int64) - (lo - 1)
    n = hi - lo + 2
    h_all = np.bincount(c.ravel(), minlength=n)
    h_truth = np.bincount(c[truth].ravel(), minlength=n)
    # voxels >= t: the sum of bins t..hi (bin 0 holds everything below lo)
    pred = np.cumsum(h_all[::-1])[::-1][1:]
    tp = np.cumsum(h_truth[::-1])[::-1][1:]
    nt = int(truth.sum())
    denom = pred + nt
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(denom > 0, 2.0 * tp / np.maximum(denom, 1), 1.0)
    return d


def best_threshold(hu, truth, lo=HU_MIN, hi=HU_MAX):
    """(t, Dice) of the highest Dice over integer thresholds lo..hi, the lowest t on ties."""
    d = dice_per_threshold(hu, truth, lo, hi)
    i = int(np.argmax(d))  # argmax returns the first maximum: the lowest threshold
    return lo + i, float(d[i])


# ---- reading -------------------------------------------------------------------------------

def load_ct_by_uid(folder):
    """{SOP Instance UID: HU slice as float64} of the DICOM files in folder."""
    out = {}
    for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True):
        if not os.path.isfile(path):
            continue
        try:
            ds = pydicom.dcmread(path)
        except Exception:
            continue
        if "PixelData" not in ds:
            continue
        if "PhotometricInterpretation" not in ds:  # the seed CT has none; Metalmark assumes it
            ds.PhotometricInterpretation = "MONOCHROME2"
        hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        out[str(ds.get("SOPInstanceUID", path))] = hu
    return out


def load_stack(folder):
    """(mask [slice, row, column] bool, manifest) of a label stack, slices in index order."""
    with open(os.path.join(folder, "manifest.json")) as f:
        man = json.load(f)
    sl = sorted(man["slices"], key=lambda s: s["index"])
    mask = np.stack([cv2.imread(os.path.join(folder, s["file"]), cv2.IMREAD_GRAYSCALE) > 0
                     for s in sl])
    return mask, man


def load_case(ct_dir, truth_dir):
    """(hu, truth, spacing [column, row, slice]) on the truth stack's slices, matched by UID."""
    truth, man = load_stack(truth_dir)
    by_uid = load_ct_by_uid(ct_dir)
    hu = np.stack([by_uid[s["sop_instance_uid"]]
                   for s in sorted(man["slices"], key=lambda s: s["index"])])
    return hu, truth, man["spacing_mm"]


# ---- the held-out set ----------------------------------------------------------------------

def variant_kinds(work, seed, variant, size, slices):
    """The implant kinds with truth voxels on the scan's slices of a variant, from the plain
    phantom's truth.json (cheap: no physics; the scene depends on seed and variant, not on the
    simulator)."""
    d = os.path.join(work, "kinds", "s%d-v%d-%d-%d" % (seed, variant, size, slices))
    tj = os.path.join(d, "truth.json")
    if not os.path.exists(tj):
        shutil.rmtree(d, ignore_errors=True)
        run("phantom", d, "--variant", variant, "--seed", seed, "--size", size, "--slices", slices)
    with open(tj) as f:
        t = json.load(f)
    return [o["kind"] for o in t.get("metal_objects", []) if o.get("voxels", 0) > 0]


def choose_variants(work, seed, size, slices, kinds, max_variant=200):
    """For each kind, the variant at seed (lowest first) with the fewest metal objects on the
    scan's slices among those showing that kind: {kind: variant}."""
    best = {}
    for v in range(1, max_variant + 1):
        if v % 10 == 0:
            continue  # no metal
        ks = variant_kinds(work, seed, v, size, slices)
        for k in set(ks):
            if k in kinds and (k not in best or len(ks) < best[k][1]):
                best[k] = (v, len(ks))
        if len(best) == len(kinds) and all(n == 1 for _, n in best.values()):
            break
    return {k: best[k][0] for k in kinds if k in best}


def clip_series(src, dst):
    """A copy of the series in src with stored values limited to CLIP_HU (what the simulator's
    --clip-12bit does after reconstruction). UIDs are kept: it is the same scan, stored as a
    12-bit scanner would, and the truth stack names its slices by SOP Instance UID."""
    os.makedirs(dst, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(src, "*"))):
        ds = pydicom.dcmread(path)
        slope, icpt = float(ds.RescaleSlope), float(ds.RescaleIntercept)
        a = ds.pixel_array
        top = int(round((CLIP_HU - icpt) / slope))
        a = np.minimum(a, top).astype(a.dtype)
        ds.PixelData = a.tobytes()
        ds.save_as(os.path.join(dst, os.path.basename(path)))


def simulate(work, seed, variant, size, slices, dose, threads, clip=False):
    d = os.path.join(work, "scans", "v%d-d%d%s" % (variant, int(dose), "-clip12" if clip else ""))
    if not os.path.exists(os.path.join(d, "truth.json")):
        shutil.rmtree(d, ignore_errors=True)
        args = ["phantom", d, "--physics", "--variant", variant, "--seed", seed, "--size", size,
                "--slices", slices, "--dose", dose, "--threads", threads]
        if clip:
            args.append("--clip-12bit")
        run(*args)
    return d


# ---- evaluation ----------------------------------------------------------------------------

def eval_stack(truth_dir, pred_dir, threads):
    m = json.loads(run("eval", "--truth", truth_dir, "--pred", pred_dir, "--json",
                       "--threads", threads))
    return {"dice": m["dice"], "hd95_mm": m["hd95_mm"], "pred_voxels": m["pred_voxels"],
            "truth_voxels": m["truth_voxels"]}


def segment_eval(ct_dir, truth_dir, out_dir, threshold, threads):
    if not os.path.exists(os.path.join(out_dir, "manifest.json")):
        run("segment", ct_dir, "--out", out_dir, "--threshold", threshold, "--threads", threads)
    return eval_stack(truth_dir, out_dir, threads)


def predict_eval(ct_dir, truth_dir, out_dir, model, threads):
    if not os.path.exists(os.path.join(out_dir, "manifest.json")):
        args = ["predict", ct_dir, "--out", out_dir, "--threads", threads]
        if model:
            args += ["--model", model]
        run(*args)
    return eval_stack(truth_dir, out_dir, threads)


def evaluate_scan(case_dir, ct_dir, tag, models, threads):
    """Figures of one scan: threshold 3000, hindsight, and each model."""
    truth_dir = os.path.join(case_dir, "truth")
    out = os.path.join(case_dir, "eval-" + tag)
    os.makedirs(out, exist_ok=True)
    hu, truth, _ = load_case(ct_dir, truth_dir)
    t_best, d_numpy = best_threshold(hu, truth)
    r = {"threshold_3000": segment_eval(ct_dir, truth_dir, os.path.join(out, "t3000"), 3000,
                                        threads)}
    h = segment_eval(ct_dir, truth_dir, os.path.join(out, "t%d" % t_best), t_best, threads)
    h["threshold_hu"] = t_best
    h["dice_numpy"] = d_numpy
    if abs(h["dice"] - d_numpy) > 1e-9:
        sys.exit("physics_eval: %s: the hindsight threshold %d gives Dice %.9f here but %.9f "
                 "from metalmark-cli eval" % (ct_dir, t_best, d_numpy, h["dice"]))
    r["hindsight"] = h
    for name, model in models:
        r[name] = predict_eval(ct_dir, truth_dir, os.path.join(out, "pred-" + name), model,
                               threads)
    return r


def scipy_check(case_dir, ct_dir, tag):
    """Dice and HD95 of the 3000 HU mask computed independently (tests/metrics'
    numpy + scipy reference) against metalmark-cli eval's."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                    "metrics"))
    from test_metrics_scipy import reference  # noqa: E402
    truth, man = load_stack(os.path.join(case_dir, "truth"))
    pred, _ = load_stack(os.path.join(case_dir, "eval-" + tag, "t3000"))
    ref = reference(truth, pred, man["spacing_mm"])
    got = eval_stack(os.path.join(case_dir, "truth"), os.path.join(case_dir, "eval-" + tag,
                                                                   "t3000"), 1)
    return {"dice_scipy": ref["dice"], "dice_eval": got["dice"], "hd95_scipy": ref["hd95_mm"],
            "hd95_eval": got["hd95_mm"]}


def seed_ct_eval(seed_ct, work, models, threads):
    """Each model's zero-shot figure on a real CT against its 3000 HU threshold mask."""
    d = os.path.join(work, "seed-ct")
    ref = os.path.join(d, "t3000")
    if not os.path.exists(os.path.join(ref, "manifest.json")):
        run("segment", seed_ct, "--out", ref, "--threshold", 3000, "--threads", threads)
    r = {}
    for name, model in models:
        out = os.path.join(d, "pred-" + name)
        t0 = time.monotonic()
        r[name] = predict_eval(seed_ct, ref, out, model, threads)
        r[name]["seconds"] = round(time.monotonic() - t0, 1)
    return r


# ---- the table -----------------------------------------------------------------------------

def fmt(v, spec):
    return "n/a" if v is None else spec % v


def markdown(rows, names, seed_rows):
    head = ["kind", "variant", "dose", "12-bit", "truth vox", "3000 HU Dice / HD95",
            "hindsight t", "hindsight Dice / HD95"] + ["%s Dice / HD95" % n for n in names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def cell(m):
        return "%s / %s" % (fmt(m["dice"], "%.3f"), fmt(m["hd95_mm"], "%.2f"))
    for r in rows:
        f = r["figures"]
        lines.append("| " + " | ".join(
            [r["kind"], str(r["variant"]), "%g" % r["dose"], "yes" if r["clip"] else "no",
             str(f["threshold_3000"]["truth_voxels"]), cell(f["threshold_3000"]),
             str(f["hindsight"]["threshold_hu"]), cell(f["hindsight"])]
            + [cell(f[n]) for n in names]) + " |")

    def mean(sel, key, field):
        v = [r["figures"][key][field] for r in sel if r["figures"][key][field] is not None]
        return (sum(v) / len(v)) if v else None
    for label, sel in (("mean, unclipped", [r for r in rows if not r["clip"]]),
                       ("mean, 12-bit", [r for r in rows if r["clip"]]),
                       ("mean, all", rows)):
        if not sel:
            continue
        cells = ["**%s**" % label, "", "", "", ""]
        for key in ["threshold_3000", "hindsight"] + list(names):
            if key == "hindsight":
                cells.append("")
            cells.append("%s / %s" % (fmt(mean(sel, key, "dice"), "%.3f"),
                                      fmt(mean(sel, key, "hd95_mm"), "%.2f")))
        lines.append("| " + " | ".join(cells) + " |")
    if seed_rows:
        lines += ["", "| model | seed CT Dice vs 3000 HU mask | HD95 mm | predict s |",
                  "|---|---|---|---|"]
        for n, m in seed_rows.items():
            lines.append("| %s | %.4f | %s | %.1f |" % (n, m["dice"], fmt(m["hd95_mm"], "%.2f"),
                                                       m["seconds"]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("--work", default="/tmp/mm-physics-eval")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--slices", type=int, default=16)
    ap.add_argument("--seed", type=int, default=9001)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--doses", default="200000,50000")
    ap.add_argument("--model", action="append", default=[],
                    help="NAME=FILE; default: shipped=the default model")
    ap.add_argument("--seed-ct", default=None)
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--json", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scipy-check", action="store_true")
    ap.add_argument("--verify-clip", action="store_true")
    ap.add_argument("--no-clip", action="store_true", help="unclipped scans only")
    a = ap.parse_args()
    models = [tuple(m.split("=", 1)) for m in a.model] or [("shipped", None)]
    names = [n for n, _ in models]
    kinds = a.kinds.split(",")
    doses = [float(d) for d in a.doses.split(",")]
    os.makedirs(a.work, exist_ok=True)
    t0 = time.monotonic()
    chosen = choose_variants(a.work, a.seed, a.size, a.slices, kinds)
    missing = [k for k in kinds if k not in chosen]
    if missing:
        sys.exit("physics_eval: no variant at seed %d has %s" % (a.seed, ", ".join(missing)))
    print("# held-out variants at seed %d: %s" % (a.seed, json.dumps(chosen)), flush=True)
    rows, checks = [], {}
    for k in kinds:
        v = chosen[k]
        for dose in doses:
            case = simulate(a.work, a.seed, v, a.size, a.slices, dose, a.threads)
            ct = os.path.join(case, "ct")
            variants = [(False, ct, "raw")]
            if not a.no_clip:
                clipped = os.path.join(case, "ct-clip12")
                if not os.path.isdir(clipped):
                    clip_series(ct, clipped + ".tmp")
                    os.rename(clipped + ".tmp", clipped)
                variants.append((True, clipped, "clip12"))
            for clip, ct_dir, tag in variants:
                f = evaluate_scan(case, ct_dir, tag, models, a.threads)
                rows.append({"kind": k, "variant": v, "dose": dose, "clip": clip, "figures": f})
                print("# %s v%d dose %g %s: 3000 %.3f, hindsight %d %.3f, %s" % (
                    k, v, dose, tag, f["threshold_3000"]["dice"], f["hindsight"]["threshold_hu"],
                    f["hindsight"]["dice"],
                    ", ".join("%s %.3f" % (n, f[n]["dice"]) for n in names)), flush=True)
            if a.scipy_check and "scipy" not in checks:
                checks["scipy"] = scipy_check(case, ct, "raw")
            if a.verify_clip and "clip" not in checks and not a.no_clip:
                real = simulate(a.work, a.seed, v, a.size, a.slices, dose, a.threads, clip=True)
                x = load_ct_by_uid(os.path.join(real, "ct"))
                y = load_ct_by_uid(os.path.join(case, "ct-clip12"))
                checks["clip"] = {"identical": x.keys() == y.keys()
                                  and all(np.array_equal(x[u], y[u]) for u in x)}
    seed_rows = seed_ct_eval(a.seed_ct, a.work, models, a.threads) if a.seed_ct else None
    md = markdown(rows, names, seed_rows)
    print(md)
    if checks:
        print("# checks: " + json.dumps(checks))
    print("# %.0f s" % (time.monotonic() - t0))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(md)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seed": a.seed, "size": a.size, "slices": a.slices, "variants": chosen,
                       "rows": rows, "seed_ct": seed_rows, "checks": checks}, f, indent=1)


if __name__ == "__main__":
    main()
