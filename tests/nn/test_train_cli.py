#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli train and predict end to end on a small phantom: a tiny U-Net overfits it to
validation Dice > 0.9 within a short CPU budget, predict's stack scores Dice > 0.9 with
`eval`, the curves are valid, one seed gives the same tensors, Ctrl+C leaves a checkpoint
that resumes to exactly the uninterrupted result, and damaged or foreign model files are
refused with one line naming the file. TAP output."""

import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run as _run  # noqa: E402

# A tiny network (about 30 000 weights) on 8 x 32 x 32 patches, 400 steps: a few seconds.
# One thread: layers this small gain nothing from two, and on a machine busy with other
# suites every OpenMP barrier waits for a descheduled thread (ten times slower, measured).
ARCH = ["--depth", "3", "--width", "8"]
NET = ["--batch", "8", "--patch", "32", "--steps-per-epoch", "40", "--seed", "7"]
THREADS = ["--threads", "1"]
EPOCHS = 10
CSV_HEADER = "epoch,train_loss,train_dice,val_dice,val_hd95_mm,seconds,images_per_s"


def run(cli, *args):
    return _run(cli, *args, timeout=600)


def safetensors(path):
    """(metadata, tensor entries, tensor bytes) by an independent reader (json + struct)."""
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    return meta, header, data[8 + n:]


def write_safetensors(path, meta, entries, body):
    header = dict(entries)
    header["__metadata__"] = meta
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + body)


def read_csv(path):
    lines = open(path).read().splitlines()
    rows = [dict(zip(lines[0].split(","), line.split(","))) for line in lines[1:]]
    return lines[0], rows


def num(s):
    return float(s) if s != "" else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = ap.parse_args().cli
    tmp = tempfile.mkdtemp(prefix="mm-train-test-")
    try:
        tests(cli, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


def train(cli, tmp, out, *extra, arch=ARCH, threads=THREADS):
    start = time.monotonic()
    rc, so, se = run(cli, "train", "--data", os.path.join(tmp, "ph", "ct"),
                     "--masks", os.path.join(tmp, "masks"), "--out", out, *arch, *NET,
                     *threads, *extra)
    return rc, so, se, time.monotonic() - start


def tests(cli, tmp):
    ph = os.path.join(tmp, "ph")
    rc, _, err = run(cli, "phantom", ph, "--size", 64, "--slices", 24)
    check("phantom exits 0", rc == 0, err)
    masks = os.path.join(tmp, "masks")
    rc, _, err = run(cli, "segment", os.path.join(ph, "ct"), "--out", masks)
    check("segment gives the training masks", rc == 0, err)

    # Overfitting: the interleaved split trains on every object. (With the default blocks
    # split the 4000 HU fragment of a 24-slice phantom lies only in the validation block, so
    # its Dice measures generalisation to a metal never seen, and depends on the seed.)
    model = os.path.join(tmp, "a", "model.safetensors")
    overfit = ["--epochs", EPOCHS, "--val-split", "interleaved"]
    rc, out, err, took = train(cli, tmp, model, *overfit)
    print("# training: %.1f s for %d epochs" % (took, EPOCHS))
    check("train exits 0", rc == 0, err)
    for suffix in ("", ".csv", ".png", ".ckpt"):
        check("train writes MODEL%s" % suffix, os.path.isfile(model + suffix))
    check("train prints the best epoch", "Best epoch" in out, out)
    check("progress is a line per epoch when stderr is not a terminal",
          sum(line.startswith("epoch ") for line in err.splitlines()) == EPOCHS
          and "\r" not in err, err)

    header, rows = read_csv(model + ".csv")
    check("CSV header", header == CSV_HEADER, header)
    check("CSV has a row per epoch", [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1)),
          rows)
    val = [num(r["val_dice"]) for r in rows]
    print("# validation Dice per epoch: %s" % val)
    check("validation Dice > 0.9 (a tiny network overfits the phantom)", max(val) > 0.9, val)
    check("CSV figures are numbers in range",
          all(0 <= num(r["train_dice"]) <= 1 and num(r["train_loss"]) > 0
              and num(r["images_per_s"]) > 0 for r in rows), rows)
    seconds = [num(r["seconds"]) for r in rows]
    check("CSV seconds increase", seconds == sorted(seconds), seconds)

    png = open(model + ".png", "rb").read()
    check("plot is a PNG", png[:8] == b"\x89PNG\r\n\x1a\n")
    w, h = struct.unpack(">II", png[16:24])
    check("plot is 800 x 480", (w, h) == (800, 480), (w, h))

    meta, entries, body = safetensors(model)
    metrics = json.loads(meta.get("metrics", "{}"))
    arch = json.loads(meta.get("architecture", "{}"))
    check("model records its architecture", arch.get("depth") == 3 and arch.get("width") == 8,
          meta)
    check("model records the best validation Dice",
          abs(metrics.get("val_dice", -1) - max(val)) < 1e-5, metrics)
    check("model records its best epoch of all",
          metrics.get("epochs") == EPOCHS and val[metrics.get("epoch", 0) - 1] == max(val),
          metrics)
    training = json.loads(meta.get("training_data", "{}"))
    vols = training.get("volumes", [{}])
    check("model records its training data and split",
          vols[0].get("series") == os.path.join(ph, "ct") and vols[0].get("dims") == [64, 64, 24]
          and "every 5th" in vols[0].get("split", ""), training)

    # Prediction, scored by eval against the phantom's own truth.
    pred = os.path.join(tmp, "pred")
    rc, out, err = run(cli, "predict", os.path.join(ph, "ct"), "--model", model, "--out", pred,
                       *THREADS)
    check("predict exits 0", rc == 0, err)
    check("predict prints a summary", "Metal voxels" in out and "slices/s" in out, out)
    rc, out, err = run(cli, "eval", "--truth", os.path.join(ph, "truth"), "--pred", pred,
                       "--json")
    dice = json.loads(out)["dice"] if rc == 0 else None
    print("# predict vs truth: Dice %s" % dice)
    check("eval scores predict's stack Dice > 0.9", dice is not None and dice > 0.9, err)

    # Determinism: the same seed and thread count give the same tensors (the metadata holds
    # times and speeds, which differ); once more with two threads, where oneDNN splits its
    # reductions between them.
    again = os.path.join(tmp, "b", "model.safetensors")
    rc, _, err, _ = train(cli, tmp, again, *overfit)
    _, entries2, body2 = safetensors(again)
    check("same seed twice: identical tensors", rc == 0 and entries == entries2 and body == body2,
          err)
    two = [os.path.join(tmp, "b2", name) for name in ("x", "y")]
    for path in two:
        rc, _, err, _ = train(cli, tmp, path, "--epochs", 2, threads=["--threads", "2"])
    check("same seed twice with two threads: identical tensors",
          rc == 0 and safetensors(two[0])[1:] == safetensors(two[1])[1:], err)

    # Ctrl+C after the first epoch: a clean stop with a checkpoint; --resume to one more epoch
    # than was finished equals training that many epochs without a stop, bit for bit.
    intr = os.path.join(tmp, "c", "model.safetensors")
    cmd = [cli, "train", "--data", os.path.join(ph, "ct"), "--masks", masks, "--out", intr,
           "--epochs", 200] + ARCH + NET + THREADS
    with open(os.path.join(tmp, "c.err"), "w") as errf:
        p = subprocess.Popen([str(a) for a in cmd], stdout=subprocess.DEVNULL, stderr=errf)
        deadline = time.monotonic() + 300
        while not os.path.exists(intr + ".csv") and p.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=300)
    err = open(os.path.join(tmp, "c.err")).read()
    check("SIGINT: exit 130 after saving", rc == 130, (rc, err))
    check("SIGINT: says how to resume", "--resume" in err, err)
    check("SIGINT: checkpoint and best model exist",
          os.path.isfile(intr + ".ckpt") and os.path.isfile(intr))
    done = len(read_csv(intr + ".csv")[1])
    rc, _, err = run(cli, "train", "--data", os.path.join(ph, "ct"), "--masks", masks,
                     "--out", intr, "--resume", "--epochs", done + 1, *THREADS)
    check("--resume finishes", rc == 0, err)
    check("--resume continues the curves", len(read_csv(intr + ".csv")[1]) == done + 1)
    ref = os.path.join(tmp, "d", "model.safetensors")
    rc, _, err, _ = train(cli, tmp, ref, "--epochs", done + 1)
    check("interrupted and resumed equals uninterrupted, bit for bit",
          rc == 0 and safetensors(intr)[1:] == safetensors(ref)[1:], err)
    split = json.loads(safetensors(intr)[0]["training_data"])["volumes"][0]["split"]
    check("the default split validates on the middle block of five",
          split.startswith("validation slices 9-13 (block 2 of 5"), split)
    rc, _, err = run(cli, "train", "--data", os.path.join(ph, "ct"), "--masks", masks,
                     "--out", intr, "--resume", "--depth", 2)
    check("--resume refuses architecture options (exit 2)", rc == 2, err)

    # Fine-tuning from a model, and training without validation.
    tuned = os.path.join(tmp, "e", "model.safetensors")
    rc, out, err, _ = train(cli, tmp, tuned, "--epochs", 1, "--init", model,
                            "--val-split", "none", arch=[])
    check("--init fine-tunes, --val-split none trains", rc == 0 and "fine-tuned from" in err,
          err)
    rows = read_csv(tuned + ".csv")[1] if rc == 0 else []
    check("without validation the Dice columns are empty",
          rows and rows[0]["val_dice"] == "" and rows[0]["val_hd95_mm"] == "", rows)

    # Bad model files: one line naming the file, exit 1.
    bad = os.path.join(tmp, "bad")
    os.makedirs(bad)
    good = open(model, "rb").read()
    cases = {
        "garbage": os.urandom(4096),
        "empty": b"",
        "truncated": good[:len(good) // 2],
    }
    meta, entries, body = safetensors(model)
    arch = json.loads(meta["architecture"])
    arch["depth"] = 4
    deeper = dict(meta, architecture=json.dumps(arch))
    for name, content in cases.items():
        with open(os.path.join(bad, name), "wb") as f:
            f.write(content)
    write_safetensors(os.path.join(bad, "wrong-architecture"), deeper, entries, body)
    renamed = {("x" + k): v for k, v in entries.items()}
    write_safetensors(os.path.join(bad, "foreign-tensors"), meta, renamed, body)
    for name in list(cases) + ["wrong-architecture", "foreign-tensors", "missing"]:
        path = os.path.join(bad, name)
        rc, out, err = run(cli, "predict", os.path.join(ph, "ct"), "--model", path, "--out",
                           os.path.join(tmp, "never"))
        check("predict --model %s: exit 1, one line naming the file" % name,
              rc == 1 and err.count("\n") == 1 and path in err, (rc, err))
    check("predict wrote nothing for bad models", not os.path.exists(os.path.join(tmp, "never")))
    path = os.path.join(bad, "garbage")
    rc, _, err, _ = train(cli, tmp, os.path.join(tmp, "f", "m"), "--init", path, arch=[])
    check("train --init garbage: exit 1 naming the file", rc == 1 and path in err, err)

    # Resuming on other data or with nothing to resume.
    other = os.path.join(tmp, "ph2")
    run(cli, "phantom", other, "--size", 64, "--slices", 20)
    rc, _, err = run(cli, "train", "--data", os.path.join(other, "ct"), "--masks",
                     os.path.join(other, "truth"), "--out", intr, "--resume")
    check("--resume on other data is refused (exit 1)", rc == 1 and "other data" in err, err)
    rc, _, err = run(cli, "train", "--data", os.path.join(ph, "ct"), "--masks", masks,
                     "--out", os.path.join(tmp, "none", "m"), "--resume")
    check("--resume without a checkpoint is refused (exit 1)", rc == 1 and ".ckpt" in err, err)

    # Usage errors.
    data = ["--data", os.path.join(ph, "ct")]
    for name, args in (("no --out", data + ["--masks", masks]),
                       ("unknown --val-split", data + ["--masks", masks, "--out", "m",
                                                       "--val-split", "random"]),
                       ("no --masks", data + ["--out", "m"]),
                       ("--init with --width", data + ["--masks", masks, "--out", "m",
                                                       "--init", model, "--width", 16])):
        rc, _, err = run(cli, "train", *args)
        check("train, %s: exit 2" % name, rc == 2, err)

if __name__ == "__main__":
    sys.exit(main())
