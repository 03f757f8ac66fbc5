#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli end to end on phantoms: every figure of `info` against the phantom's truth,
`segment` against the analytic mask, exit codes and error lines. TAP output."""

import argparse
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, read_png_gray8, run  # noqa: E402


def stack(dirname):
    m = json.load(open(os.path.join(dirname, "manifest.json")))
    return m, [read_png_gray8(os.path.join(dirname, s["file"]))[2] for s in m["slices"]]


def close(a, b, tol):
    return abs(a - b) <= tol * max(1.0, abs(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = ap.parse_args().cli
    tmp = tempfile.mkdtemp(prefix="mm-cli-test-")
    try:
        tests(cli, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


def tests(cli, tmp):
    ph = os.path.join(tmp, "ph")
    rc, out, err = run(cli, "phantom", ph, "--size", 128, "--slices", 30)
    check("phantom exits 0", rc == 0, err)
    truth = json.load(open(os.path.join(ph, "truth.json")))

    rc, out, err = run(cli, "info", os.path.join(ph, "ct"), "--json")
    check("info --json exits 0", rc == 0, err)
    info = json.loads(out)
    check("dims", info["dims"] == truth["dims"], (info["dims"], truth["dims"]))
    check("spacing", all(close(a, b, 1e-9) for a, b in zip(info["spacing_mm"],
                                                          truth["spacing_mm"])))
    nf = truth["noise_free"]
    for key in ("max", "min"):
        check("%s equals the phantom's" % key, info[key] == nf[key], (info[key], nf[key]))
    for key in ("mean", "mean_without_padding"):
        check("%s equals the phantom's to 1e-9" % key, close(info[key], nf[key], 1e-9),
              (info[key], nf[key]))
    check("padding value detected", info["padding_value"] == truth["padding_value"]
          and info["padding_source"] == "detected-outside-fov", info["padding_source"])
    check("padding voxels", info["padding_voxels"] == truth["padding_voxels"])
    for key in ("centre_lps_mm", "centre_ras_mm"):
        check("%s to 1e-3 mm" % key,
              all(abs(a - b) <= 1e-3 for a, b in zip(info[key], truth[key])),
              (info[key], truth[key]))
    check("files read/skipped", info["files_read"] == 30 and info["files_skipped"] == 0)
    check("series uid", info["series_uid"] == truth["series_uid"])

    rc, text, err = run(cli, "info", os.path.join(ph, "ct"))
    check("text info shows the centre", rc == 0 and "12.500, -30.250, 820.400" in text, text)

    # Segment: the noise-free phantom gives exactly the analytic mask, file for file.
    seg = os.path.join(tmp, "seg")
    rc, out, err = run(cli, "segment", os.path.join(ph, "ct"), "--out", seg, "--json")
    check("segment exits 0", rc == 0, err)
    summary = json.loads(out)
    check("metal voxels equal the truth", summary["metal_voxels"] == truth["metal_voxels"],
          (summary["metal_voxels"], truth["metal_voxels"]))
    check("components equal the truth", summary["components"] == truth["metal_components"])
    m_seg, s_seg = stack(seg)
    m_tru, s_tru = stack(os.path.join(ph, "truth"))
    check("segment mask equals the analytic mask voxel for voxel", s_seg == s_tru)
    check("PNG values are 0 and 255 only",
          all(set(s) <= {0, 255} for s in s_seg))
    check("manifest slices (files, UIDs) equal the truth's",
          [(s["file"], s["sop_instance_uid"]) for s in m_seg["slices"]]
          == [(s["file"], s["sop_instance_uid"]) for s in m_tru["slices"]])
    # z goes through the DS text of Image Position (Patient): equal to 1e-4 mm.
    check("manifest z_mm equal the truth's to 1e-4 mm",
          all(abs(a["z_mm"] - b["z_mm"]) < 1e-4
              for a, b in zip(m_seg["slices"], m_tru["slices"])))
    check("manifest records the parameters", m_seg["parameters"]["threshold_hu"] == 3000)
    zs = [s["z_mm"] for s in m_seg["slices"]]
    check("slices ascend along the normal", zs == sorted(zs) and len(set(zs)) == len(zs))

    # --min-volume drops the fragment (second object) and keeps the stem.
    objs = truth["metal_objects"]
    limit = (objs[0]["volume_mm3"] + objs[1]["volume_mm3"]) / 2
    rc, out, err = run(cli, "segment", os.path.join(ph, "ct"), "--out",
                       os.path.join(tmp, "seg2"), "--min-volume", limit, "--json")
    s2 = json.loads(out) if rc == 0 else {}
    check("--min-volume drops the small object",
          rc == 0 and s2["components"] == 1 and s2["metal_voxels"] == objs[0]["voxels"], err)
    rc, out, err = run(cli, "segment", os.path.join(ph, "ct"), "--out",
                       os.path.join(tmp, "seg3"), "--upper", objs[0]["hu"] - 1, "--json")
    s3 = json.loads(out) if rc == 0 else {}
    check("--upper excludes the stem", rc == 0 and s3["metal_voxels"] == objs[1]["voxels"], err)

    # Noise: Dice against the analytic mask stays >= 0.99.
    noisy = os.path.join(tmp, "noisy")
    run(cli, "phantom", noisy, "--size", 128, "--slices", 30, "--noise", 400, "--seed", 4)
    rc, out, err = run(cli, "segment", os.path.join(noisy, "ct"), "--out",
                       os.path.join(tmp, "segn"))
    _, a = stack(os.path.join(tmp, "segn"))
    _, b = stack(os.path.join(noisy, "truth"))
    na = sum(p.count(255) for p in a)
    nb = sum(q.count(255) for q in b)
    inter = sum(sum(1 for x, y in zip(p, q) if x and y) for p, q in zip(a, b))
    dice = 2 * inter / (na + nb)
    check("noisy phantom (SD 400 HU) Dice >= 0.99 (%.5f)" % dice,
          rc == 0 and 0.99 <= dice < 1.0, err)

    # Every transfer syntax, shuffled names, 1 and 2 threads: the same figures.
    ref = None
    for syntax in ("explicit", "implicit", "bigendian", "rle", "jpeg", "jpegls", "j2k"):
        d = os.path.join(tmp, "syn-" + syntax)
        run(cli, "phantom", d, "--size", 64, "--slices", 12, "--noise", 30, "--syntax", syntax,
            "--shuffle-names", "--seed", 8)
        rc, out, err = run(cli, "info", os.path.join(d, "ct"), "--json")
        got = json.loads(out) if rc == 0 else {}
        keys = ("dims", "max", "min", "mean", "mean_without_padding", "centre_lps_mm")
        vals = {k: got.get(k) for k in keys}
        if ref is None:
            ref = vals
        check("syntax %s gives the same figures" % syntax, rc == 0 and vals == ref,
              err or (vals, ref))
    d = os.path.join(tmp, "syn-j2k", "ct")
    _, o1, _ = run(cli, "info", d, "--json", "--threads", 1)
    _, o2, _ = run(cli, "info", d, "--json", "--threads", 2)
    check("1 and 2 threads give identical info", o1 == o2 and o1 != "")
    # Without --threads info runs one thread more than the cores (libgomp then stops
    # spinning): the same figures.
    _, o3, _ = run(cli, "info", d, "--json")
    check("the default threads (cores + 1) give identical info", o3 == o1 and o1 != "")

    # Exit codes and error lines.
    rc, out, err = run(cli)
    check("no command: exit 2", rc == 2)
    rc, out, err = run(cli, "frobnicate")
    check("unknown command: exit 2", rc == 2 and "frobnicate" in err)
    for cmd in ("info", "segment", "phantom"):
        rc, out, err = run(cli, cmd, "--help")
        check("%s --help: exit 0 with usage" % cmd, rc == 0 and "Usage" in out)
    rc, out, err = run(cli, "info", "--bogus", ph)
    check("unknown option: exit 2", rc == 2)
    missing = os.path.join(tmp, "does-not-exist")
    rc, out, err = run(cli, "info", missing)
    check("missing path: exit 1, one line naming it",
          rc == 1 and missing in err and len(err.strip().splitlines()) == 1, err)
    empty = os.path.join(tmp, "empty")
    os.makedirs(empty)
    open(os.path.join(empty, "readme.txt"), "w").write("no images here\n")
    rc, out, err = run(cli, "info", empty)
    last = err.strip().splitlines()[-1] if err.strip() else ""
    check("folder without DICOM: exit 1, error naming it", rc == 1 and empty in last, err)
    rc, out, err = run(cli, "segment", os.path.join(ph, "ct"), "--out", "/proc/metalmark-no")
    check("unwritable output: exit 3, error naming it",
          rc == 3 and "/proc/metalmark-no" in err, (rc, err))
    rc, out, err = run(cli, "segment", os.path.join(ph, "ct"))
    check("segment without --out: exit 2", rc == 2, err)

    # Phantom variants (training data): the truth is exactly what segment finds, also in the
    # --truth-labels stack; the same (seed, variant) is the same phantom, another one differs.
    var = os.path.join(tmp, "var")
    labels = os.path.join(tmp, "var-labels")
    rc, out, err = run(cli, "phantom", var, "--variant", 3, "--size", 128, "--slices", 24,
                       "--noise", 20, "--truth-labels", labels)
    check("phantom --variant 3 --truth-labels exits 0", rc == 0, err)
    vt = json.load(open(os.path.join(var, "truth.json"))) if rc == 0 else {}
    check("truth.json names the variant and its objects",
          vt.get("variant") == 3 and 1 <= len(vt.get("metal_objects", [])) <= 4
          and sum(o["voxels"] for o in vt["metal_objects"]) == vt["metal_voxels"]
          and all(3000 <= o["hu"] <= 25000 for o in vt["metal_objects"]), vt)
    rc, out, err = run(cli, "segment", os.path.join(var, "ct"), "--out",
                       os.path.join(tmp, "var-seg"), "--json")
    vs = json.loads(out) if rc == 0 else {}
    check("variant: segment finds the truth's voxels and components",
          rc == 0 and vs["metal_voxels"] == vt["metal_voxels"] > 0
          and vs["components"] == vt["metal_components"], (vs, err))
    m_vs, s_vs = stack(os.path.join(tmp, "var-seg"))
    m_vt, s_vt = stack(os.path.join(var, "truth"))
    m_vl, s_vl = stack(labels)
    check("variant: segment mask equals the truth voxel for voxel", s_vs == s_vt)
    check("--truth-labels stack equals the truth (PNGs, files, UIDs)",
          s_vl == s_vt and [(s["file"], s["sop_instance_uid"]) for s in m_vl["slices"]]
          == [(s["file"], s["sop_instance_uid"]) for s in m_vt["slices"]])
    check("--truth-labels manifest records the variant",
          m_vl["parameters"]["variant"] == 3 and m_vl["parameters"]["noise_sd"] == 20)
    again = os.path.join(tmp, "var-again")
    run(cli, "phantom", again, "--variant", 3, "--size", 128, "--slices", 24, "--noise", 20)
    _, s_again = stack(os.path.join(again, "truth"))
    _, i1, _ = run(cli, "info", os.path.join(var, "ct"), "--json")
    _, i2, _ = run(cli, "info", os.path.join(again, "ct"), "--json")
    check("same seed and variant: the same phantom",
          s_again == s_vt and i1 == i2 and i1 != ""
          and json.load(open(os.path.join(again, "truth.json"))) == vt)
    other = os.path.join(tmp, "var-other")
    run(cli, "phantom", other, "--variant", 4, "--size", 128, "--slices", 24, "--noise", 20)
    _, i3, _ = run(cli, "info", os.path.join(other, "ct"), "--json")
    info3 = json.loads(i3) if i3 else {}
    check("another variant: another phantom",
          info3.get("mean") != json.loads(i1).get("mean")
          and info3.get("series_uid") != vt["series_uid"])
    neg = os.path.join(tmp, "var-neg")
    rc, out, err = run(cli, "phantom", neg, "--variant", 10, "--size", 96, "--slices", 8,
                       "--noise", 20)
    nt = json.load(open(os.path.join(neg, "truth.json"))) if rc == 0 else {}
    rc2, out, err2 = run(cli, "segment", os.path.join(neg, "ct"), "--out",
                         os.path.join(tmp, "var-neg-seg"), "--json")
    check("variant 10 has no metal, and segment finds none",
          rc == 0 and nt["metal_voxels"] == 0 and nt["metal_objects"] == []
          and rc2 == 0 and json.loads(out)["metal_voxels"] == 0, err + err2)
    rc, out, err = run(cli, "phantom", os.path.join(tmp, "var-bad"), "--variant", -1)
    check("--variant -1: exit 2 naming the variant", rc == 2 and "variant" in err, err)
    rc, out, err = run(cli, "phantom", "--help")
    check("phantom --help documents --variant and --truth-labels",
          "--variant" in out and "--truth-labels" in out)


if __name__ == "__main__":
    sys.exit(main())
