#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A label stack is all old or all new, whatever moment metalmark-cli is killed at
(issue 10). `segment` and `export --png` rewrite a stack that already holds another
segmentation; they are killed (1) at each commit step in turn, by MM_TEST_KILL_AT_RENAME=N
(the process _exits just before its Nth rename, link or removal), and (2) by SIGKILL at
random moments of a run; `export --nifti` (one file, one rename) the same way. After each kill the stack is read back by an independent PNG reader
and must equal, slice for slice, either the old segmentation or the new one, and
metalmark-cli must accept it; after the next complete run no temporaries or files of other
generations are left. TAP output.

Usage: test_kill.py --cli PATH [--random N]"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, read_png_gray8, run  # noqa: E402

OLD_THRESHOLD, NEW_THRESHOLD = 3000, 0  # metal only; then the whole body: most slices differ


def read_stack(folder):
    """{slice index: pixels} of the stack as its manifest lists it, or None without one."""
    path = os.path.join(folder, "manifest.json")
    if not os.path.exists(path):
        return None
    m = json.load(open(path))
    return {s["index"]: read_png_gray8(os.path.join(folder, s["file"]))[2] for s in m["slices"]}


def state(folder, old, new):
    """'old', 'new' or a description of what is wrong."""
    try:
        got = read_stack(folder)
    except (OSError, ValueError, AssertionError, KeyError) as e:
        return "unreadable: %s" % e
    if got is None:
        return "no manifest"
    is_old = all(got.get(k) == v for k, v in old.items()) and len(got) == len(old)
    is_new = all(got.get(k) == v for k, v in new.items()) and len(got) == len(new)
    if is_new:
        return "new"
    if is_old:
        return "old"
    n_old = sum(got.get(k) == v for k, v in old.items())
    n_new = sum(got.get(k) == v for k, v in new.items())
    return "a mix: %d slices as old, %d as new, of %d" % (n_old, n_new, len(old))


def leftovers(folder):
    """Files in a stack folder other than its manifest and the PNGs it names."""
    m = json.load(open(os.path.join(folder, "manifest.json")))
    named = {s["file"] for s in m["slices"]} | {"manifest.json"}
    return sorted(set(os.listdir(folder)) - named)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--random", type=int, default=30, help="random SIGKILLs per command")
    args = ap.parse_args()
    cli = args.cli
    rng = random.Random(20261204)
    tmp = tempfile.mkdtemp(prefix="mm-hostile-kill-")
    try:
        ph = os.path.join(tmp, "ph")
        rc, _, err = run(cli, "phantom", ph, "--slices", 12, "--size", 96)
        if not check("phantom written", rc == 0, err):
            return finish()
        ct = os.path.join(ph, "ct")
        commands = {
            "segment": lambda out, thr: ["segment", ct, "--out", out, "--threshold", thr,
                                         "--threads", 2],
            "export --png": lambda out, thr: ["export", ct, "--segment", "--threshold", thr,
                                              "--png", out, "--threads", 2],
        }
        refs = {}
        for label, thr in (("old", OLD_THRESHOLD), ("new", NEW_THRESHOLD)):
            d = os.path.join(tmp, "ref-" + label)
            rc, _, err = run(cli, *commands["segment"](d, thr))
            check("reference stack %s written" % label, rc == 0, err)
            refs[label] = read_stack(d)
        old, new = refs["old"], refs["new"]
        differ = sum(old[k] != new[k] for k in old)
        check("old and new differ in most slices (%d of %d)" % (differ, len(old)),
              differ > len(old) // 2)

        for name, cmd in commands.items():
            work = os.path.join(tmp, "work-" + name.replace(" ", "_"))

            def fresh_old():
                shutil.rmtree(work, ignore_errors=True)
                shutil.copytree(os.path.join(tmp, "ref-old"), work)

            # (1) Killed at each commit step in turn, until a run completes.
            bad, steps, reader_refused = [], 0, []
            for n in range(1, 500):
                fresh_old()
                env = dict(os.environ, MM_TEST_KILL_AT_RENAME=str(n))
                p = subprocess.run([cli] + [str(a) for a in cmd(work, NEW_THRESHOLD)],
                                   env=env, capture_output=True, text=True, timeout=120)
                st = state(work, old, new)
                if p.returncode == 0:
                    steps = n - 1
                    if st != "new":
                        bad.append("completed run: %s" % st)
                    break
                if p.returncode != 137:
                    bad.append("step %d: exit %d: %s" % (n, p.returncode, p.stderr.strip()))
                    break
                if st not in ("old", "new"):
                    bad.append("killed before step %d: %s" % (n, st))
                rc, _, err = run(cli, "export", ct, "--mask", work, "--nifti",
                                 os.path.join(tmp, "check.nii.gz"))
                if rc != 0:
                    reader_refused.append("step %d: %s" % (n, err.strip()))
            check("%s killed before each of its %d commit steps: the stack is all old or all "
                  "new every time" % (name, steps), steps > 0 and not bad, "\n".join(bad))
            check("%s: metalmark-cli reads the stack after each of these kills" % name,
                  not reader_refused, "\n".join(reader_refused))

            # The next complete run cleans up what a killed one left.
            fresh_old()
            env = dict(os.environ, MM_TEST_KILL_AT_RENAME=str(max(1, steps // 2)))
            subprocess.run([cli] + [str(a) for a in cmd(work, NEW_THRESHOLD)], env=env,
                           capture_output=True)
            rc, _, err = run(cli, *cmd(work, OLD_THRESHOLD))
            check("%s after a killed run: complete, old again, nothing left over" % name,
                  rc == 0 and state(work, old, new) == "old" and not leftovers(work),
                  err + str(leftovers(work)))

            # (2) SIGKILL at random moments of a run.
            fresh_old()
            t0 = time.monotonic()
            run(cli, *cmd(work, NEW_THRESHOLD))
            duration = time.monotonic() - t0
            counts, bad = {}, []
            for i in range(args.random):
                fresh_old()
                p = subprocess.Popen([cli] + [str(a) for a in cmd(work, NEW_THRESHOLD)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0, duration * 1.1))
                p.send_signal(signal.SIGKILL)
                p.wait()
                st = state(work, old, new)
                counts[st] = counts.get(st, 0) + 1
                if st not in ("old", "new"):
                    bad.append("kill %d after %.3f s: %s" % (i, duration, st))
            print("# %s: %d random kills within %.3f s: %s" % (name, args.random, duration,
                                                                 counts))
            check("%s SIGKILLed at %d random moments: all old or all new every time"
                  % (name, args.random), not bad, "\n".join(bad))
        single_files(cli, ct, tmp, rng, args.random)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


def single_files(cli, ct, tmp, rng, n_random):
    """export --nifti: one file, replaced by one rename. Killed before it, or at random, the
    file is the old one or the new one byte for byte (the writer is deterministic); the
    temporary a killed run leaves is removed by the next run."""
    folder = os.path.join(tmp, "nifti")
    os.mkdir(folder)
    out = os.path.join(folder, "mask.nii.gz")
    ref = {}
    for label, thr in (("old", OLD_THRESHOLD), ("new", NEW_THRESHOLD)):
        rc, _, err = run(cli, "export", ct, "--segment", "--threshold", thr, "--nifti", out)
        check("reference NIfTI %s written" % label, rc == 0, err)
        ref[label] = open(out, "rb").read()
    check("old and new NIfTI differ", ref["old"] != ref["new"])

    def reset():
        with open(out, "wb") as f:
            f.write(ref["old"])

    reset()
    env = dict(os.environ, MM_TEST_KILL_AT_RENAME="1")
    p = subprocess.run([cli, "export", ct, "--segment", "--threshold", str(NEW_THRESHOLD),
                        "--nifti", out], env=env, capture_output=True)
    check("export --nifti killed before its rename: exit 137, the old file intact",
          p.returncode == 137 and open(out, "rb").read() == ref["old"])
    left = [f for f in os.listdir(folder) if f != "mask.nii.gz"]
    rc, _, err = run(cli, "export", ct, "--segment", "--threshold", NEW_THRESHOLD, "--nifti", out)
    after = [f for f in os.listdir(folder) if f != "mask.nii.gz"]
    check("the next run replaces it and removes the temporary the killed one left (%s)"
          % ", ".join(left), rc == 0 and left and not after
          and open(out, "rb").read() == ref["new"], err + str(after))

    reset()
    t0 = time.monotonic()
    run(cli, "export", ct, "--segment", "--threshold", NEW_THRESHOLD, "--nifti", out)
    duration = time.monotonic() - t0
    bad, counts = [], {}
    for i in range(n_random):
        reset()
        p = subprocess.Popen([cli, "export", ct, "--segment", "--threshold",
                              str(NEW_THRESHOLD), "--nifti", out],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.1))
        p.send_signal(signal.SIGKILL)
        p.wait()
        data = open(out, "rb").read()
        st = "old" if data == ref["old"] else "new" if data == ref["new"] else "other"
        counts[st] = counts.get(st, 0) + 1
        if st == "other":
            bad.append("kill %d: %d bytes, neither old nor new" % (i, len(data)))
    print("# export --nifti: %d random kills within %.3f s: %s" % (n_random, duration, counts))
    check("export --nifti SIGKILLed at %d random moments: old or new every time" % n_random,
          not bad, "\n".join(bad))


if __name__ == "__main__":
    sys.exit(main())
