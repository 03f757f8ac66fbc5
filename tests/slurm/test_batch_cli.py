#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli batch without Slurm: hostile Series Instance UIDs never become paths (a
UID with '/' and '..' gets a hashed folder, nothing is written outside the output root), a
UID shared by two studies is split by the reader and both parts are done, shards partition
the series, and usage errors (options batch sets itself, a bad shard, a Slurm array with a
step) are refused with the reason."""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run  # noqa: E402


def set_tags(folder, **tags):
    import pydicom
    for f in sorted(os.listdir(folder)):
        p = os.path.join(folder, f)
        ds = pydicom.dcmread(p)
        for k, v in tags.items():
            setattr(ds, k, v)
        ds.save_as(p)


def statuses(root):
    out = {}
    for name in os.listdir(root):
        p = os.path.join(root, name, "status.json")
        if os.path.exists(p):
            out[name] = json.load(open(p))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    args = ap.parse_args()
    cli = os.path.abspath(args.cli)
    try:
        import pydicom  # noqa: F401
    except ImportError:
        print("1..0 # SKIP python3-pydicom is not installed")
        return 0
    tmp = tempfile.mkdtemp(prefix="mm-batch-cli-")
    try:
        body(cli, tmp)
        predict(cli, tmp, args.model)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


def body(cli, tmp):
    data = os.path.join(tmp, "archive")
    for i in range(4):
        rc, out, err = run(cli, "phantom", "--variant", i + 1, "--seed", 300 + i, "--size", 64,
                           "--slices", 16, "--threads", 1, os.path.join(data, "s%d" % i))
        assert rc == 0, err
    evil = "1.2.3/../../../escaped"
    set_tags(os.path.join(data, "s0", "ct"), SeriesInstanceUID=evil)
    # s2 and s3 share one Series Instance UID in two studies: the reader splits them.
    uid2 = json.loads(run(cli, "info", "--json", os.path.join(data, "s2"))[1])["series_uid"]
    set_tags(os.path.join(data, "s3", "ct"), SeriesInstanceUID=uid2,
             StudyInstanceUID="1.2.826.0.1.3680043.99.1")
    out_root = os.path.join(tmp, "out", "root")
    rc, out, err = run(cli, "batch", "segment", "--root", data, "--out", out_root,
                       "--threads", 1)
    st = statuses(out_root)
    check("4 series found (one UID split in two), all done", rc == 0 and len(st) == 4
          and all(s["state"] == "done" for s in st.values()), "%s\n%s\n%s" % (out, err, st))
    # Each phantom folder holds its truth PNG stack and truth.json beside ct/: 4 x 18 files.
    check("files that are not DICOM are counted once on stderr, naming the first",
          "72 files skipped while finding the series" in err and "truth" in err, err)
    hashed = "h-" + hashlib.sha256(evil.encode()).hexdigest()[:32]
    check("the UID with '/' and '..' got a hashed folder", hashed in st, sorted(st))
    check("nothing written outside the output root",
          sorted(os.listdir(tmp)) == ["archive", "out"]
          and sorted(os.listdir(os.path.join(tmp, "out"))) == ["root"],
          sorted(os.listdir(tmp)))
    split = [s for s in st.values() if s["series_uid"].startswith(uid2)]
    check("both parts of the split UID done, each with its own files and metal",
          len(split) == 2 and all(s["files"] == 16 for s in split)
          and len({(s["result"] or {}).get("metal_voxels") for s in split}) == 2,
          [(s["series_uid"], s["files"], s["result"]) for s in split])

    union = []
    for k in range(3):
        rc, out, err = run(cli, "batch", "segment", "--root", data, "--out",
                           os.path.join(tmp, "out", "shards"), "--shard", "%d/3" % k,
                           "--threads", 1)
        union += [line.split()[1] for line in out.splitlines() if line.startswith("done ")]
    check("shards 0/3, 1/3, 2/3 do every series once", sorted(union) == sorted(st), union)
    rc, out, err = run(cli, "batch", "segment", "--root", data, "--out", out_root,
                       "--dry-run")
    check("--dry-run: everything done already", rc == 0
          and sum(line.startswith("skip ") for line in out.splitlines()) == 4, out)

    for args, what in [(["--", "--out", "/tmp/x"], "--out is set by batch"),
                       (["--", "--series=1.2"], "--series=1.2 is set by batch"),
                       (["--shard", "3/3"], "--shard '3/3'"),
                       (["--shard", "../1"], "--shard '../1'"),
                       (["--", "--threshold", "5"], None)]:
        rc, out, err = run(cli, "batch", "segment", "--root", data, "--out",
                           os.path.join(tmp, "out", "u"), "--threads", 1, *args)
        if what:
            check("refused: %s" % " ".join(args), rc == 2 and what in err, err)
    rc, out, err = run(cli, "batch", "segment", "--root", data, "--out",
                       os.path.join(tmp, "out", "u"), "--threshold", "5")
    check("command options outside -- refused", rc == 2, err)
    env = dict(os.environ, SLURM_ARRAY_TASK_ID="4", SLURM_ARRAY_TASK_COUNT="3",
               SLURM_ARRAY_TASK_MIN="0", SLURM_ARRAY_TASK_MAX="4")
    import subprocess
    p = subprocess.run([cli, "batch", "info", "--root", data, "--out",
                        os.path.join(tmp, "out", "v")], env=env, capture_output=True, text=True)
    check("a Slurm array with a step is refused", p.returncode == 2 and "gaps" in p.stderr,
          p.stderr)
    rc, out, err = run(cli, "batch", "info", "--root", data, "--out",
                       os.path.join(tmp, "out", "info"), "--threads", 1)
    infos = statuses(os.path.join(tmp, "out", "info"))
    check("batch info: info.json per series, its dims in status.json",
          rc == 0 and len(infos) == 4 and all(s["result"]["dims"] == [64, 64, 16]
                                             for s in infos.values()), err)


def predict(cli, tmp, shipped):
    """batch predict: the plain predict's labels byte for byte, the model loaded once per
    process (it is removed after the first series is published: the others still done)."""
    import subprocess
    import time
    data = os.path.join(tmp, "pred-archive")
    for i in range(3):
        rc, out, err = run(cli, "phantom", "--variant", i + 1, "--seed", 400 + i, "--size", 64,
                           "--slices", 16, "--threads", 1, os.path.join(data, "s%d" % i))
    model = os.path.join(tmp, "model.safetensors")
    shutil.copy(shipped, model)
    root = os.path.join(tmp, "pred-out")
    env = dict(os.environ, MM_TEST_BATCH_SLOW_MS="1500")
    p = subprocess.Popen([cli, "batch", "predict", "--root", data, "--out", root, "--threads",
                          "1", "--", "--model", model], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    end = time.time() + 120
    while time.time() < end and not (os.path.isdir(root) and statuses(root)):
        time.sleep(0.05)
    os.unlink(model)
    out, err = p.communicate(timeout=300)
    st = statuses(root)
    check("batch predict: all 3 done although the model file went away after the first "
          "(loaded once)", p.returncode == 0 and len(st) == 3
          and all(s["state"] == "done" for s in st.values()), out + err)
    shutil.copy(shipped, model)
    plain = os.path.join(tmp, "pred-plain")
    rc, out, err = run(cli, "predict", "--threads", 1, "--model", model, "--out", plain,
                       os.path.join(data, "s1", "ct"))
    uid = json.loads(run(cli, "info", "--json", os.path.join(data, "s1", "ct"))[1])["series_uid"]
    labels = os.path.join(root, uid, "labels")
    same = rc == 0 and os.path.isdir(labels) and sorted(os.listdir(plain)) == sorted(
        os.listdir(labels)) and all(open(os.path.join(plain, f), "rb").read() == open(
            os.path.join(labels, f), "rb").read() for f in os.listdir(plain))
    check("batch predict: the labels of predict, byte for byte", same, err)


if __name__ == "__main__":
    sys.exit(main())
