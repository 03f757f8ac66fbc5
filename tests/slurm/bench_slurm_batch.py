#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark for docs/scaling.md (not a test): throughput of `metalmark-cli batch segment`
as a Slurm array job with 1, 2 and 4 tasks on one node (slurmlib), over N phantom series of
the seed CT's size (512 x 512 x 200, written once), and the per-series stage times from
status.json; also the real seed CT's stage times when MM_SEED_CT is set. Prints Markdown.

  python3 tests/slurm/bench_slurm_batch.py --cli build/src/cli/metalmark-cli [--series 8]
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import run  # noqa: E402
import slurmlib  # noqa: E402


def stage_table(root):
    rows = []
    for name in sorted(os.listdir(root)):
        p = os.path.join(root, name, "status.json")
        if os.path.exists(p):
            s = json.load(open(p))
            if s["state"] == "done":
                rows.append(s["timings_s"])
    return rows


def summary(rows):
    out = {}
    for k in ("total", "read", "segment", "write"):
        v = [r[k] for r in rows if k in r]
        if v:
            out[k] = (statistics.median(v), min(v), max(v))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--series", type=int, default=8)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--slices", type=int, default=200)
    ap.add_argument("--tasks", default="1,2,4")
    args = ap.parse_args()
    cli = os.path.abspath(args.cli)
    tmp = tempfile.mkdtemp(prefix="mm-slurm-bench-")
    try:
        data = os.path.join(tmp, "data")
        for i in range(args.series):
            rc, out, err = run(cli, "phantom", "--variant", i + 1, "--seed", 500 + i,
                               "--size", args.size, "--slices", args.slices, "--noise", 20,
                               os.path.join(data, "s%d" % i), timeout=1200)
            assert rc == 0, err
            shutil.rmtree(os.path.join(data, "s%d" % i, "truth"), ignore_errors=True)
        print("| tasks | threads/task | series | wall s | series/min | median total s/series |")
        print("|---|---|---|---|---|---|")
        per_stage = None
        with slurmlib.Cluster(os.path.join(tmp, "slurm")) as c:
            script = os.path.join(tmp, "job.sh")
            with open(script, "w") as f:
                f.write("#!/bin/sh\nexec %s batch segment --root %s --out \"$OUT\" "
                        "--threads \"$THREADS\"\n" % (cli, data))
            configs = [(int(t), 1) for t in args.tasks.split(",")] + [(1, 2)]
            for tasks, threads in configs:
                out_root = os.path.join(tmp, "out-%d-%d" % (tasks, threads))
                t0 = time.time()
                job = c.sbatch("--array=0-%d" % (tasks - 1), "-c", "1", "-o",
                               os.path.join(tmp, "%A_%a.log"), script, OUT=out_root,
                               THREADS=str(threads))
                c.wait_job(job, 3600)
                wall = time.time() - t0
                rows = stage_table(out_root)
                sm = summary(rows)
                print("| %d | %d | %d | %.1f | %.2f | %.2f |" % (
                    tasks, threads, len(rows), wall, 60 * len(rows) / wall, sm["total"][0]))
                sys.stdout.flush()
                if tasks == 1 and threads == 1:
                    per_stage = sm
        print()
        print("Per series, 1 task x 1 thread (median, min, max; read/segment/write are "
              "thread-seconds):")
        print()
        for k, (med, lo, hi) in per_stage.items():
            print("- %s: %.2f s (%.2f to %.2f)" % (k, med, lo, hi))
        seed = os.environ.get("MM_SEED_CT")
        if seed:
            for threads in (1, 2):
                out_root = os.path.join(tmp, "seed-%d" % threads)
                run(cli, "batch", "segment", "--root", seed, "--out", out_root, "--threads",
                    threads, timeout=1200)
                sm = summary(stage_table(out_root))
                print("- seed CT, %d thread(s): " % threads + ", ".join(
                    "%s %.2f s" % (k, v[0]) for k, v in sm.items()))
    finally:
        if os.environ.get("MM_TEST_KEEP") is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp, file=sys.stderr)


if __name__ == "__main__":
    main()
