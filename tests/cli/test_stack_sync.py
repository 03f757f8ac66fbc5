#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A label stack is durable before anything names it (issue 12 batched its fsyncs): the
system calls of `metalmark-cli segment`, recorded by strace (not by our code), show that
every PNG is written in full before the first PNG is synced (the sync pass comes after all
writes, so the disk writes them in parallel), every PNG's temporary file is fsynced before it
is renamed into place, the folder is synced after the last PNG rename and before the
manifest is renamed over the old one, and the manifest's temporary file is synced before that
rename. A crash then leaves the old stack or the whole new one (test_kill.py kills at each
step; this checks what a power cut would find on disk). Also for a second write over the
first (a new generation beside the old one until the manifest moves). TAP output."""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish  # noqa: E402

CALL = re.compile(r"^(\d+)\s+(\w+)\((.*)$")
FD_PATH = re.compile(r"^\d+<([^>]*)>")


def trace(argv, log, cwd):
    # LeakSanitizer cannot run under ptrace (CI's sanitizer build): leaks are checked by the
    # other suites; address and undefined-behaviour checks stay on here.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    subprocess.run(["strace", "-f", "-y", "-qq", "-o", log, "-e",
                    "trace=write,pwrite64,writev,fsync,fdatasync,syncfs,rename,renameat,"
                    "renameat2"] + argv, check=True, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, env=env)
    events = []  # (call, path, second path)
    for line in open(log):
        m = CALL.match(line.strip())
        if not m or m.group(2) == "resumed":
            continue
        name, rest = m.group(2), m.group(3)
        if name in ("write", "pwrite64", "writev", "fsync", "fdatasync", "syncfs"):
            p = FD_PATH.match(rest)
            events.append((name, p.group(1) if p else "", ""))
        elif name.startswith("rename"):
            quoted = re.findall(r'"((?:[^"\\]|\\.)*)"', rest)
            if len(quoted) >= 2:
                src, dst = (os.path.normpath(os.path.join(cwd, q)) for q in quoted[:2])
                events.append(("rename", src, dst))
    return events


def check_order(label, events, out):
    png_tmp = re.compile(re.escape(out) + r"/mask-[^/]*\.png\.tmp-\w{6}$")
    man_tmp = re.compile(re.escape(out) + r"/manifest\.json\.tmp-\w{6}$")
    idx = lambda pred: [i for i, e in enumerate(events) if pred(e)]  # noqa: E731
    writes = idx(lambda e: e[0] in ("write", "pwrite64", "writev") and png_tmp.match(e[1]))
    syncs = idx(lambda e: e[0] in ("fsync", "fdatasync") and png_tmp.match(e[1]))
    renames = idx(lambda e: e[0] == "rename" and png_tmp.match(e[1]))
    dir_syncs = idx(lambda e: e[0] in ("fsync", "fdatasync") and e[1] == out)
    man_sync = idx(lambda e: e[0] in ("fsync", "fdatasync") and man_tmp.match(e[1]))
    man_ren = idx(lambda e: e[0] == "rename" and man_tmp.match(e[1])
                  and e[2] == out + "/manifest.json")
    n_png = len([f for f in os.listdir(out) if f.endswith(".png")])
    check("%s: one rename per PNG of the stack (%d)" % (label, n_png),
          n_png > 0 and len(renames) == n_png, "%d renames" % len(renames))
    check("%s: every PNG is written before the first is synced (a sync pass after all "
          "writes)" % label, writes and syncs and max(writes) < min(syncs),
          "last write %s, first sync %s" % (max(writes or [-1]), min(syncs or [-1])))
    synced_before = all(any(events[s][1] == events[r][1] for s in syncs if s < r)
                        for r in renames)
    check("%s: every PNG's temporary file is fsynced before it is renamed" % label,
          renames and synced_before)
    check("%s: no PNG is renamed before every PNG is synced" % label,
          renames and syncs and max(syncs) < min(renames))
    check("%s: the manifest is synced, then renamed once" % label,
          len(man_ren) == 1 and man_sync and max(man_sync) < man_ren[0], (man_sync, man_ren))
    between = [d for d in dir_syncs if renames and max(renames) < d < (man_ren or [0])[0]]
    check("%s: the folder is synced after the last PNG rename, before the manifest's"
          % label, bool(between))
    check("%s: the folder is synced after the manifest's rename" % label,
          man_ren and any(d > man_ren[0] for d in dir_syncs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    a = ap.parse_args()
    cli = os.path.abspath(a.cli)
    if shutil.which("strace") is None:
        print("1..0 # SKIP strace is missing (apt-get install strace; "
              "build-aux/install-deps test)")
        return 0
    with tempfile.TemporaryDirectory(prefix="mm-stack-sync.") as tmp:
        tmp = os.path.realpath(tmp)
        subprocess.run([cli, "phantom", os.path.join(tmp, "ph"), "--size", "64", "--slices",
                        "12"], check=True, stdout=subprocess.DEVNULL)
        out = os.path.join(tmp, "seg")
        ct = os.path.join(tmp, "ph", "ct")
        ev = trace([cli, "segment", ct, "--out", out, "--threads", "2"],
                   os.path.join(tmp, "t1"), tmp)
        check_order("first write", ev, out)
        # Over the first stack, with another threshold so that slices change.
        ev = trace([cli, "segment", ct, "--out", out, "--threads", "2", "--threshold", "2000"],
                   os.path.join(tmp, "t2"), tmp)
        check_order("second write", ev, out)
        names = sorted(f for f in os.listdir(out))
        check("second write: only the new generation is left",
              all("-g2." in f for f in names if f.endswith(".png")) and
              not any(".tmp-" in f for f in names), names)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
