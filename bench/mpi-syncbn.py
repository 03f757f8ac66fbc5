#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Synchronised batch norm, measured (docs/scaling.md, "MPI training").

1. Validation Dice: the phantom of nn-train-cli (64 x 64 x 24, depth 3 width 8, 8 patches of
   32 x 32 a step, 40 steps x 10 epochs, interleaved split) trained by one process with batch
   8 and by 2 MPI ranks with batch 4 each; the best epoch's validation Dice of each, and
   both models' predict scored by eval on a held-out phantom neither has seen (--variant V,
   another seed, noise 20 HU).
2. Training images/s and CPU seconds (children's user + system time) for 1 process x 2
   threads (batch 8), 1 process x 1 thread (batch 8) and 2 ranks x 1 thread (batch 4 each),
   synchronised and per-rank batch norm, alternating in rounds so that all see the same machine load.

Usage: bench/mpi-syncbn.py BUILD_DIR [--rounds N] [--steps S] [--variant V] [--patch P]
       [--no-dice]"""

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]


def timed(cmd, env=None):
    """(wall s, CPU s of the children, stdout) of a command that must succeed."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(map(str, cmd)), p.stderr))
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, p.stdout


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--variant", type=int, default=3)
    ap.add_argument("--patch", type=int, default=32)
    ap.add_argument("--no-dice", action="store_true", help="throughput only")
    a = ap.parse_args()
    cli = os.path.join(a.build, "src", "cli", "metalmark-cli")
    nn = os.path.join(a.build, "src", "cli", "metalmark-cli-nn")
    tmp = tempfile.mkdtemp(prefix="mm-syncbn-")
    env1 = dict(os.environ, OMP_NUM_THREADS="1")
    try:
        ph, held = os.path.join(tmp, "ph"), os.path.join(tmp, "held")
        timed([cli, "phantom", ph, "--size", 64, "--slices", 24])
        timed([cli, "segment", os.path.join(ph, "ct"), "--out", os.path.join(tmp, "masks")])
        timed([cli, "phantom", held, "--size", 64, "--slices", 24, "--variant", a.variant,
               "--seed", 5, "--noise", 20])
        data = ["--data", os.path.join(ph, "ct"), "--masks", os.path.join(tmp, "masks")]
        net = ["--depth", 3, "--width", 8, "--patch", 32, "--steps-per-epoch", 40, "--seed", 7,
               "--epochs", 10, "--val-split", "interleaved", "--threads", 1]

        if a.no_dice:
            dice_runs = ()
        else:
            print("## Validation Dice")
            print("| set-up | best epoch | validation Dice | held-out phantom Dice "
                  "(predict + eval) |")
            print("|---|---|---|---|")
            dice_runs = (
                ("1 process, batch 8", [cli, "train", *data, "--batch", 8, *net], None),
                ("2 ranks x batch 4 (synchronised batch norm)",
                 MPIRUN + ["-np", 2, nn, "train", *data, "--batch", 4, *net], env1),
                ("2 ranks x batch 4, per-rank batch norm (MM_NN_SYNC_BN=0)",
                 MPIRUN + ["-x", "MM_NN_SYNC_BN=0", "-np", 2, nn, "train", *data,
                           "--batch", 4, *net], env1))
        for i, (name, cmd, env) in enumerate(dice_runs):
            out = os.path.join(tmp, "dice-%d" % i, "m.safetensors")
            timed(cmd + ["--out", out], env)
            r = rows(out + ".csv")
            best = max(r, key=lambda x: float(x["val_dice"]))
            pred = out + ".pred"
            timed([cli, "predict", os.path.join(held, "ct"), "--model", out, "--out", pred,
                   "--threads", 1])
            _, _, so = timed([cli, "eval", "--truth", os.path.join(held, "truth"), "--pred",
                              pred, "--json"])
            print("| %s | %s | %.4f | %.4f |" % (name, best["epoch"], float(best["val_dice"]),
                                                 json.loads(so)["dice"]))

        print("\n## Training images/s and CPU time (%d steps of 8 patches of %d x %d, no "
              "validation)" % (a.steps, a.patch, a.patch))
        tp = ["--depth", 3, "--width", 8, "--patch", a.patch, "--steps-per-epoch", a.steps,
              "--seed", 7, "--epochs", 1, "--val-split", "none"]
        print("| round | set-up | images/s (trainer) | wall s | CPU s | CPU s / 1000 images |")
        print("|---|---|---|---|---|---|")
        for rnd in range(1, a.rounds + 1):
            for i, (name, cmd, env) in enumerate((
                    ("1 process x 2 threads", [cli, "train", *data, "--batch", 8, *tp,
                                               "--threads", 2], None),
                    ("1 process x 1 thread", [cli, "train", *data, "--batch", 8, *tp,
                                              "--threads", 1], env1),
                    ("2 ranks x 1 thread", MPIRUN + ["-np", 2, nn, "train", *data,
                                                     "--batch", 4, *tp, "--threads", 1],
                     env1),
                    ("2 ranks x 1 thread, per-rank batch norm",
                     MPIRUN + ["-x", "MM_NN_SYNC_BN=0", "-np", 2, nn, "train", *data,
                               "--batch", 4, *tp, "--threads", 1], env1))):
                out = os.path.join(tmp, "tp-%d-%d" % (rnd, i), "m.safetensors")
                wall, cpu, _ = timed(cmd + ["--out", out], env)
                ips = float(rows(out + ".csv")[-1]["images_per_s"])
                print("| %d | %s | %.1f | %.1f | %.1f | %.1f |"
                      % (rnd, name, ips, wall, cpu, cpu / (8 * a.steps) * 1000))
        print("\nload average at the end: %.1f %.1f %.1f" % os.getloadavg())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
