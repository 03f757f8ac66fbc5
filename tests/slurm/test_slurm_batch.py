#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli batch under a real single-node Slurm (slurmlib): 8 phantom series (metal
variants, two without metal, one damaged) segmented by an array job of 4 tasks equal a
serial run byte for byte (status.json but for its timings, hosts and times); the damaged
series failed with its reason, the others done, each in the shard its UID hashes to. Then
one task is cancelled while a series is written but not published, and a resubmission
completes with nothing lost and nothing done twice. Skipped (naming the package) without
Slurm or munge."""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import check, finish, run  # noqa: E402
import slurmlib  # noqa: E402

VOLATILE = {"timings_s", "started_utc", "finished_utc", "host", "pid", "shard",
            "slurm_job_id", "slurm_array_job_id", "slurm_array_task_id"}


def make_series(cli, data):
    """8 series: variants with metal, 10 and 20 without, one damaged. {dir name: uid}."""
    uids = {}
    for i, variant in enumerate([1, 2, 3, 10, 4, 20, 5, 6]):
        d = os.path.join(data, "s%d" % i)
        # The damaged one JPEG-LS, so damage leaves its headers (found, grouped) and breaks
        # only the decoding.
        syntax = ["--syntax", "jpegls"] if i == 7 else []
        rc, out, err = run(cli, "phantom", "--variant", variant, "--seed", 100 + i, "--size", 96,
                           "--slices", 24, "--threads", 1, *syntax, d)
        assert rc == 0, err
        rc, out, err = run(cli, "info", "--json", "--threads", 1, d)
        uids["s%d" % i] = json.loads(out)["series_uid"]
    # The damaged one: the end of every slice's JPEG-LS stream zeroed (same length).
    ct = os.path.join(data, "s7", "ct")
    for f in os.listdir(ct):
        p = os.path.join(ct, f)
        size = os.path.getsize(p)
        with open(p, "r+b") as fh:
            fh.seek(size - 1500)
            fh.write(bytes(1400))
    return uids


def folder_of(uid):
    ok = 0 < len(uid) <= 64 and all(c in "0123456789." for c in uid) \
        and "" not in uid.split(".")
    return uid if ok else "h-" + hashlib.sha256(uid.encode()).hexdigest()[:32]


def shard_of(uid, n):
    return int.from_bytes(hashlib.sha256(uid.encode()).digest()[:8], "big") % n


def tree(root):
    """{relative path: bytes} of every file under root but .partial."""
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != ".partial"]
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def same_outputs(a, b):
    """Differences between two batch roots, status.json compared without volatile fields."""
    ta, tb = tree(a), tree(b)
    diffs = []
    if set(ta) != set(tb):
        diffs.append("files differ: %s" % sorted(set(ta) ^ set(tb)))
    for k in sorted(set(ta) & set(tb)):
        if os.path.basename(k) == "status.json":
            sa = {x: y for x, y in json.loads(ta[k]).items() if x not in VOLATILE}
            sb = {x: y for x, y in json.loads(tb[k]).items() if x not in VOLATILE}
            if sa != sb:
                diffs.append("%s: %s / %s" % (k, sa, sb))
        elif ta[k] != tb[k]:
            diffs.append("%s differs" % k)
    return diffs


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
    args = ap.parse_args()
    cli = os.path.abspath(args.cli)
    missing = slurmlib.missing_tools()
    if missing:
        print("1..0 # SKIP not installed: %s" % ", ".join(missing))
        return 0
    tmp = tempfile.mkdtemp(prefix="mm-slurm-")
    try:
        return body(cli, tmp)
    finally:
        if os.environ.get("MM_TEST_KEEP") is None:
            shutil.rmtree(tmp, ignore_errors=True)


def body(cli, tmp):
    data = os.path.join(tmp, "data")
    uids = make_series(cli, data)
    damaged = folder_of(uids["s7"])
    serial = os.path.join(tmp, "serial")
    rc, out, err = run(cli, "batch", "segment", "--root", data, "--out", serial,
                       "--shard", "0/1", "--threads", 1, timeout=600)
    st = statuses(serial)
    check("serial run: one folder per series, named by the UID", sorted(st) ==
          sorted(folder_of(u) for u in uids.values()), "%s\n%s" % (sorted(st), err))
    check("serial run: exit 1 (a series failed)", rc == 1, "rc %d\n%s" % (rc, err))
    check("serial run: the damaged series failed with a reason naming a file",
          st.get(damaged, {}).get("state") == "failed"
          and data in st.get(damaged, {}).get("reason", ""), st.get(damaged))
    check("serial run: the 7 others done",
          sorted(n for n, s in st.items() if s["state"] == "done")
          == sorted(folder_of(uids["s%d" % i]) for i in range(7)))
    nometal = [st[folder_of(uids[s])]["result"]["metal_voxels"] for s in ("s3", "s5")]
    check("variants 10 and 20 have no metal", nometal == [0, 0], nometal)
    # The batch's labels are the plain segment command's, byte for byte.
    plain = os.path.join(tmp, "plain")
    rc, out, err = run(cli, "segment", "--threads", 1, "--out", plain,
                       os.path.join(data, "s0"))
    ta = tree(plain)
    tb = {k[len("labels/"):]: v for k, v in tree(os.path.join(serial, folder_of(uids["s0"])))
          .items() if k.startswith("labels/")}
    check("batch labels equal the segment command's", rc == 0 and ta == tb and len(ta) > 24,
          "%d %d" % (len(ta), len(tb)))

    rc, out, err = run(cli, "batch", "segment", "--root", data, "--out", serial,
                       "--shard", "0/1", "--threads", 1, timeout=600)
    again = statuses(serial)
    check("rerun: every done series skipped, untouched",
          all(again[n]["finished_utc"] == st[n]["finished_utc"]
              for n in st if st[n]["state"] == "done") and out.count("skip") == 7, out)
    rc, out, err = run(cli, "batch", "segment", "--root", data, "--out", serial,
                       "--shard", "0/1", "--threads", 1, "--", "--threshold", "3100",
                       timeout=600)
    lines = out.splitlines()
    check("other options: done again",
          sum(x.startswith("done ") for x in lines) == 7
          and not any(x.startswith("skip ") for x in lines), out)

    with slurmlib.Cluster(os.path.join(tmp, "slurm")) as c:
        array = os.path.join(tmp, "array")
        script = os.path.join(tmp, "job.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nexec %s batch segment --root %s --out \"$OUT\" --threads 1\n"
                    % (cli, data))
        logs = os.path.join(tmp, "logs")
        os.makedirs(logs)
        t0 = time.time()
        job = c.sbatch("--array=0-3", "-o", os.path.join(logs, "%A_%a.out"), "--chdir", tmp,
                       script, OUT=array)
        c.wait_job(job)
        check("array job of 4 tasks ended", True, "%.1f s" % (time.time() - t0))
        # The serial root was redone with --threshold 3100: compare with a fresh serial run.
        serial2 = os.path.join(tmp, "serial2")
        run(cli, "batch", "segment", "--root", data, "--out", serial2, "--shard", "0/1",
            "--threads", 1, timeout=600)
        # The archive indexed once (no task reads the headers again): the same outputs.
        index = os.path.join(tmp, "index.tsv")
        rc1, _, err1 = run(cli, "batch", "index", "--root", data, "--out", index)
        indexed = os.path.join(tmp, "indexed")
        run(cli, "batch", "segment", "--index", index, "--out", indexed, "--threads", 1,
            timeout=600)
        diffs = same_outputs(serial2, indexed)
        check("batch index, then --index: the serial run's outputs", rc1 == 0 and not diffs,
              err1 + "\n".join(diffs[:10]))
        diffs = same_outputs(serial2, array)
        check("array outputs equal the serial run's byte for byte", not diffs,
              "\n".join(diffs[:10]) + "\n" + "".join(
                  open(os.path.join(logs, x)).read() for x in os.listdir(logs)))
        sa = statuses(array)
        check("array: each series done by the task its UID hashes to",
              all(s["shard"] == "%d/4" % shard_of(s["series_uid"], 4)
                  and s["slurm_array_task_id"] == str(shard_of(s["series_uid"], 4))
                  and s["slurm_array_job_id"] == job for s in sa.values()),
              [(s["shard"], s.get("slurm_array_task_id")) for s in sa.values()])
        check("array: damaged failed with its reason, 7 done",
              sa.get(damaged, {}).get("state") == "failed"
              and sum(s["state"] == "done" for s in sa.values()) == 7)

        # Cancel a task while it holds a written, unpublished series.
        by_shard = {}
        for s, u in uids.items():
            by_shard.setdefault(shard_of(u, 4), []).append(folder_of(u))
        victim = max(by_shard, key=lambda k: len(by_shard[k]))
        second = os.path.join(tmp, "second")
        job = c.sbatch("--array=0-3", "-o", os.path.join(logs, "%A_%a.out"), "--chdir", tmp,
                       script, OUT=second, MM_TEST_BATCH_SLOW_MS="2500")
        end = time.time() + 300
        while time.time() < end:
            done = [n for n in by_shard[victim]
                    if os.path.exists(os.path.join(second, n, "status.json"))]
            if done:
                break
            time.sleep(0.1)
        c.scancel("%s_%d" % (job, victim))
        c.wait_job(job)
        first = statuses(second)
        lost = [n for n in by_shard[victim] if n not in first]
        check("cancelled task %d: published %d of its %d series, left the rest unpublished"
              % (victim, len(by_shard[victim]) - len(lost), len(by_shard[victim])),
              len(lost) >= 1 and len(lost) < len(by_shard[victim]),
              "%s %s" % (by_shard[victim], sorted(first)))
        partial = os.listdir(os.path.join(second, ".partial"))
        check("the cancelled series' work folder is left under .partial, not published",
              any(p.split(".XXX")[0].startswith(tuple(lost)) for p in partial), partial)
        check("every published folder is complete (status.json; labels when done)",
              all(os.path.isdir(os.path.join(second, n, "labels")) or s["state"] == "failed"
                  for n, s in first.items()))
        job2 = c.sbatch("--array=0-3", "-o", os.path.join(logs, "%A_%a.out"), "--chdir", tmp,
                        script, OUT=second)
        c.wait_job(job2)
        final = statuses(second)
        check("resubmitted: nothing lost (all 8 series)", len(final) == 8, sorted(final))
        untouched = [n for n, s in first.items() if s["state"] == "done"
                     and (final[n]["finished_utc"] != s["finished_utc"]
                          or final[n]["slurm_array_job_id"] != job)]
        check("resubmitted: nothing done twice (%d done first, kept with their time and job)"
              % sum(s["state"] == "done" for s in first.values()), not untouched, untouched)
        check("resubmitted: the lost series done by the second job",
              all(final[n]["slurm_array_job_id"] == job2 for n in lost))
        check("resubmitted: .partial holds nothing of the cancelled task",
              not os.listdir(os.path.join(second, ".partial")),
              os.listdir(os.path.join(second, ".partial")))
        diffs = same_outputs(serial2, second)
        check("after cancel and resubmission the outputs equal the serial run's", not diffs,
              "\n".join(diffs[:10]))

    check("the daemons are stopped", all(p.poll() is not None for p in c.procs),
          [p.args[0] for p in c.procs if p.poll() is None])

    rep = os.path.join(tmp, "report.csv")
    repj = os.path.join(tmp, "report.json")
    rc, out, err = run(cli, "report", second, "--csv", rep, "--json", repj)
    rows = open(rep).read().splitlines() if os.path.exists(rep) else []
    j = json.load(open(repj)) if os.path.exists(repj) else {}
    check("report: 8 rows, 7 done, 1 failed, the failure listed",
          rc == 0 and len(rows) == 9 and j.get("done") == 7 and j.get("failed") == 1
          and damaged in err, "%s\n%s" % (err, rows))
    vol = {r["folder"]: r["metal_voxels"] for r in j.get("series", [])}
    check("report: metal voxels as in status.json",
          all(vol[n] == s["result"]["metal_voxels"] for n, s in statuses(second).items()
              if s["state"] == "done"))
    # Dice against the phantoms' truth label stacks, laid out as TRUTH/<series folder>/.
    truth = os.path.join(tmp, "truth")
    for i in (0, 1, 2):
        shutil.copytree(os.path.join(data, "s%d" % i, "truth"),
                        os.path.join(truth, folder_of(uids["s%d" % i])))
    rc, out, err = run(cli, "report", second, "--json", repj, "--truth", truth)
    j = json.load(open(repj))
    dice = {r["folder"]: r["dice"] for r in j["series"]}
    with_truth = [folder_of(uids["s%d" % i]) for i in (0, 1, 2)]
    check("report --truth: Dice of the phantoms with truth above 0.9, none for the others",
          all(dice[n] is not None and dice[n] > 0.9 for n in with_truth)
          and all(dice[n] is None for n in dice if n not in with_truth), dice)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
