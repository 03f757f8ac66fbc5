#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every committed fuzzer crasher (fuzz/regressions/TARGET/FILE) run again, so that what the
fuzzers once found stays fixed in every build, not only in the fuzzing one:

  * through its target's code (the libFuzzer binary in a fuzzing build, else the replay tool
    linked from the same source): it must exit 0 within the time limit, no signal, no
    sanitizer report;
  * DICOM inputs also through `metalmark-cli info` (a DICOMDIR under the name DICOMDIR), as
    a user would open them: exit 0 or 1, no signal, one error line naming the file.

Memory is bounded as in build-aux/fuzz: one allocation above 2 GB is a crash (the replay
tools' malloc, ASan's max_allocation_size_mb, libFuzzer's -malloc_limit_mb), and peak RSS
above 512 MB (2 GB in sanitized builds) fails, so a small file that makes a reader believe
a huge size fails here too.

An input listed in fuzz/regressions/KNOWN ("TARGET/FILE  reason") is a crash found but not
fixed yet: it is reported as a TAP TODO (not ok # TODO while it still fails, ok # TODO once
fixed: then remove its line), so the suite stays green but the crash stays visible.

Usage: test_regressions.py --regressions DIR --cli PATH [--libfuzzer]
                           --tool NAME PATH [--tool NAME PATH ...]
"""

import argparse
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import taplib  # noqa: E402

TIMEOUT = 60
# Peak memory allowed to one run: the inputs are at most a few KB and the readers' own
# baseline is under 30 MB, so a plain build has no business above 512 MB; sanitized builds
# carry shadow memory and quarantine, hence libFuzzer's -rss_limit_mb of build-aux/fuzz.
MAX_RSS_MB = 512
MAX_RSS_MB_SANITIZED = 2048
ADDRESS_SPACE = 4 << 30


def is_sanitized(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def limit_address_space():
    # Bounds what the run can take from the machine; ASan's shadow needs more, so only for
    # plain builds.
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(cmd, sanitized):
    """(exit code, or None on timeout / too much memory; stderr with the reason)."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [
        env.get("ASAN_OPTIONS", ""), "max_allocation_size_mb=2048",
        "allocator_may_return_null=0"]))
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, env=env, start_new_session=True,
                                preexec_fn=None if sanitized else limit_address_space)
        deadline = time.monotonic() + TIMEOUT
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = -signal.SIGKILL
                return None, "timed out after %d s" % TIMEOUT
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    rss_mb = usage.ru_maxrss / 1024
    limit = MAX_RSS_MB_SANITIZED if sanitized else MAX_RSS_MB
    if rss_mb > limit:
        return None, "%s\npeak RSS %.0f MB, more than %d MB" % (text, rss_mb, limit)
    return os.waitstatus_to_exitcode(status), text


def report(name, ok, detail, known):
    """One TAP line; a KNOWN input is a TODO either way."""
    if known is None:
        taplib.check(name, ok, detail)
        return
    taplib.results.append(True)
    print("%s %d - %s # TODO %s" % ("ok" if ok else "not ok", len(taplib.results), name, known))
    if ok:
        print("# fixed: remove its line from fuzz/regressions/KNOWN")
    else:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()


def tail(text, n=12):
    lines = (text or "").strip().splitlines()
    return "\n".join(lines[-n:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--regressions", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--libfuzzer", action="store_true")
    ap.add_argument("--tool", nargs=2, action="append", default=[], metavar=("NAME", "PATH"))
    args = ap.parse_args()

    known = {}
    known_path = os.path.join(args.regressions, "KNOWN")
    if os.path.exists(known_path):
        for line in open(known_path):
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, reason = line.partition(" ")
                known[key] = reason.strip() or "not fixed yet"

    cli_sanitized = is_sanitized(args.cli)
    seen = set()
    scratch = tempfile.mkdtemp(prefix="mm-fuzz-regressions-")
    try:
        for name, tool in args.tool:
            folder = os.path.join(args.regressions, name)
            files = sorted(f for f in os.listdir(folder)) if os.path.isdir(folder) else []
            sanitized = is_sanitized(tool)
            for f in files:
                path = os.path.join(folder, f)
                key = "%s/%s" % (name, f)
                seen.add(key)
                cmd = [tool, path]
                if args.libfuzzer:
                    cmd[1:1] = ["-rss_limit_mb=2048", "-malloc_limit_mb=2048", "-timeout=%d" % TIMEOUT]
                rc, err = run(cmd, sanitized)
                report("%s: %s" % (name, f), rc == 0, "exit %s\n%s" % (rc, tail(err)),
                       known.get(key))
                if not name.startswith("dicom"):
                    continue
                given = path
                if name == "dicomdir":
                    d = os.path.join(scratch, f)
                    os.makedirs(d, exist_ok=True)
                    given = os.path.join(d, "DICOMDIR")
                    shutil.copyfile(path, given)
                rc, err = run([args.cli, "info", given], cli_sanitized)
                lines = (err or "").strip().splitlines()
                ok = rc in (0, 1) and (rc == 0 or (lines and given in lines[-1]))
                report("metalmark-cli info %s" % key, ok, "exit %s\n%s" % (rc, tail(err)),
                       known.get(key))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for key in sorted(set(known) - seen):
        taplib.check("KNOWN names an existing input: " + key, False,
                     "fuzz/regressions/%s does not exist" % key)
    if not taplib.results:
        taplib.check("the regression folder was read (no inputs committed yet)",
                     os.path.isdir(args.regressions))
    return taplib.finish()


if __name__ == "__main__":
    sys.exit(main())
