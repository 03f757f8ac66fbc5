#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing onto a full disk: segment and export into a tiny tmpfs fail with exit 3 and one line
naming the file, leave no temporary files, and leave the previous stack and NIfTI byte for
byte as they were. Needs root (mount) and runs in its own mount namespace (unshare -m), so a
crash cannot leave a mount behind; otherwise it reports itself skipped. TAP output."""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

results = []


def check(name, cond, detail=""):
    results.append(cond)
    print(("ok %d - %s" if cond else "not ok %d - %s") % (len(results), name))
    if not cond and detail:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()


def tree_digest(path):
    out = {}
    for root, _, files in os.walk(path):
        for f in sorted(files):
            p = os.path.join(root, f)
            out[os.path.relpath(p, path)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return out


def run(cli, *args):
    p = subprocess.run([cli] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def mount_tmpfs(path, size):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path], check=True)


def fill(path):
    """Fill the file system holding path, leaving (almost) nothing free."""
    fd = os.open(os.path.join(path, "filler"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_files(path):
    return [f for _, _, files in os.walk(path) for f in files if ".tmp" in f]


def tests(cli, tmp):
    ph = os.path.join(tmp, "ph")
    rc, _, err = run(cli, "phantom", ph, "--size", 128, "--slices", 40)
    check("phantom written", rc == 0, err)
    ct = os.path.join(ph, "ct")

    # 1. Nothing fits: a clear error, exit 3, no temporary files.
    small = os.path.join(tmp, "small")
    os.makedirs(small)
    mount_tmpfs(small, "32k")
    out = os.path.join(small, "seg")
    rc, _, err = run(cli, "segment", ct, "--out", out)
    lines = err.strip().splitlines()
    check("segment onto a full disk: exit 3", rc == 3, (rc, err))
    check("one error line naming the output and the reason",
          len(lines) == 1 and small in lines[0] and "space" in lines[0].lower(), err)
    check("no temporary files left", temp_files(small) == [], temp_files(small))

    # 2. A complete stack and NIfTI, then the disk fills: a new write fails, the old stays.
    roomy = os.path.join(tmp, "roomy")
    os.makedirs(roomy)
    mount_tmpfs(roomy, "4m")
    out = os.path.join(roomy, "seg")
    nii = os.path.join(roomy, "mask.nii.gz")
    rc, _, err = run(cli, "segment", ct, "--out", out)
    check("segment with room: exit 0", rc == 0, err)
    rc, _, err = run(cli, "export", ct, "--segment", "--nifti", nii)
    check("export NIfTI with room: exit 0", rc == 0, err)
    before = tree_digest(roomy)
    fill(roomy)
    rc, _, err = run(cli, "segment", ct, "--out", out, "--threshold", 1000)
    check("segment again onto the full disk: exit 3", rc == 3, (rc, err))
    rc2, _, err2 = run(cli, "export", ct, "--segment", "--threshold", 1000, "--nifti", nii)
    check("export NIfTI onto the full disk: exit 3 naming the file",
          rc2 == 3 and nii in err2 and len(err2.strip().splitlines()) == 1, (rc2, err2))
    os.unlink(os.path.join(roomy, "filler"))
    after = tree_digest(roomy)
    check("the previous stack and NIfTI are unchanged, byte for byte", before == after,
          sorted(set(before.items()) ^ set(after.items()))[:5])
    check("no temporary files left", temp_files(roomy) == [], temp_files(roomy))
    rc, out_json, err = run(cli, "eval", "--truth", os.path.join(ph, "truth"), "--pred", out,
                            "--json")
    dice = json.loads(out_json).get("dice") if rc == 0 else None
    check("the kept stack still reads as the analytic mask (Dice 1)", dice == 1.0,
          (rc, err, out_json[:300]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = os.path.abspath(ap.parse_args().cli)
    if os.environ.get("MM_FULL_DISK_NS") != "1":
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            print("1..0 # SKIP needs root and unshare to mount a small tmpfs")
            return 0
        # Where a private mount namespace is not permitted (a container without
        # CAP_SYS_ADMIN, a chroot whose / is no mount point) say so and skip, not fail.
        probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                               capture_output=True, text=True)
        if probe.returncode != 0:
            why = (probe.stderr.strip().splitlines() or ["exit %d" % probe.returncode])[-1]
            print("1..0 # SKIP no private mount namespace here (unshare -m: %s)" % why)
            return 0
        env = dict(os.environ, MM_FULL_DISK_NS="1")
        p = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                            os.path.abspath(__file__), "--cli", cli], env=env)
        if p.returncode == 77:
            print("1..0 # SKIP this machine does not allow mounting a tmpfs in a mount namespace")
            return 0
        return p.returncode
    tmp = tempfile.mkdtemp(prefix="mm-full-disk-")
    try:
        probe = os.path.join(tmp, "probe")
        os.makedirs(probe)
        try:
            mount_tmpfs(probe, "64k")
        except (subprocess.CalledProcessError, OSError):
            return 77
        tests(cli, tmp)
    finally:
        subprocess.run("umount %s/*/ 2>/dev/null" % tmp, shell=True)
        shutil.rmtree(tmp, ignore_errors=True)
    failed = results.count(False)
    print("1..%d" % len(results))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
