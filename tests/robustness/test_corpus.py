#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Robustness test: `metalmark-cli info` on pydicom's test corpus and on damaged CT slices must exit 0/1, never crash or hang.
"""
Runs `metalmark-cli info PATH` on

  * every file of Debian's pydicom test corpus (recursively; DICOMDIR files are
    passed as themselves, so they are read as DICOMDIRs),
  * the corpus folder and each of its subfolders, as folders,
  * truncated, bit-flipped and field-damaged copies of one real slice (from the
    first file of $MM_SEED_CT if set, else of a small phantom written by the
    CLI), each alone and once all together as one folder,

and checks that the exit code is 0 or 1 (never a signal, a timeout or another
code), that on exit 1 the last line of stderr is one non-empty line that
names the path given, and that peak RSS stays within 256 MB + 4 x the input size
(a damaged 0.5 MB file must not make the reader allocate gigabytes).  Prints
`ok - ...` / `not ok - ...` per case and ends with `N passed, M failed`.
Exit 0 all passed, 1 some failed, 77 skipped (no corpus).

Usage: test_corpus.py --cli PATH [--corpus DIR] [--timeout S] [--jobs N]
                      [--max-rss-mb MB (0: no RSS check)] [--rss-per-byte K]
"""

import argparse
import concurrent.futures
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CORPUS = "/usr/lib/python3/dist-packages/pydicom/data/test_files"
SEED = 20240611


def run_info(cli, path, timeout):
    """Runs `cli info path`; returns (returncode or None on timeout, stdout, stderr,
    peak RSS in KiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([cli, "info", path], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)
        deadline = time.monotonic() + timeout
        timed_out = False
        delay = 0.002
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                timed_out = True
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                pid, status, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        rc = os.waitstatus_to_exitcode(status)
        proc.returncode = rc          # reaped here; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return (None if timed_out else rc), out.read(), err.read(), ru.ru_maxrss


def input_bytes(path):
    if os.path.isdir(path):
        total = 0
        for dirpath, _, files in os.walk(path):
            for f in files:
                try:
                    total += os.path.getsize(os.path.join(dirpath, f))
                except OSError:
                    pass
        return total
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def signal_name(n):
    try:
        return signal.Signals(n).name
    except ValueError:
        return "signal %d" % n


def check(cli, label, path, timeout, rss_base_mb, rss_per_byte):
    """Returns (passed, description, detail lines)."""
    try:
        rc, out, err, rss_kib = run_info(cli, path, timeout)
    except OSError as e:
        return False, "%s: cannot run %s: %s" % (label, cli, e), []
    err_text = err.decode("utf-8", "replace")
    tail = [l for l in err_text.splitlines()[-4:]]
    detail = ["stderr: " + l for l in tail]
    if rss_base_mb > 0 and rc is not None and rc >= 0:
        size = input_bytes(path)
        budget_kib = rss_base_mb * 1024 + rss_per_byte * size / 1024
        if rss_kib > budget_kib:
            return False, ("%s: exit %d but peak RSS %.0f MB for %d KB of input "
                           "(budget %.0f MB)" % (label, rc, rss_kib / 1024, size // 1024,
                                                 budget_kib / 1024)), detail
    if rc is None:
        return False, "%s: hang (killed after %g s)" % (label, timeout), detail
    if rc < 0:
        return False, "%s: killed by %s" % (label, signal_name(-rc)), detail
    if rc >= 128:
        return False, "%s: exit %d (signal %s?)" % (label, rc, signal_name(rc - 128)), detail
    if rc == 0:
        if not out.strip():
            return False, "%s: exit 0 but nothing on stdout" % label, detail
        return True, "%s: exit 0" % label, []
    if rc != 1:
        return False, "%s: exit %d, expected 0 or 1" % (label, rc), detail
    if not err_text.strip():
        return False, "%s: exit 1 with empty stderr" % label, []
    if not err_text.endswith("\n"):
        return False, "%s: exit 1, stderr's last line is not terminated" % label, detail
    last = err_text.splitlines()[-1]
    if not last.strip():
        return False, "%s: exit 1, stderr's last line is empty" % label, detail
    if "\r" in last:
        return False, "%s: exit 1, stderr's last line holds a carriage return" % label, detail
    if path not in last:
        return False, "%s: exit 1, stderr's last line does not name %s" % (label, path), detail
    last = last.strip()
    return True, "%s: exit 1, %s" % (label, last if len(last) <= 240 else last[:237] + "..."), []


# --- damaged copies -------------------------------------------------------

def find_explicit_le(data, group, element, vr):
    """Offset of the value of a short explicit-VR-LE element, or None."""
    key = (group.to_bytes(2, "little") + element.to_bytes(2, "little") + vr)
    pos = data.find(key, 132)
    if pos < 0:
        return None
    return pos + 8


def pixel_data_offset(data):
    """Offset of the (7FE0,0010) Pixel Data tag, or None: the first occurrence that
    looks like an element header (explicit OB/OW/UN, or an implicit length that
    reaches the end of the file), else the first occurrence."""
    tag = b"\xe0\x7f\x10\x00"
    n = len(data)
    first = None
    pos = data.find(tag, 132 if n > 132 else 0)
    while pos >= 0:
        if first is None:
            first = pos
        if data[pos + 4:pos + 6] in (b"OW", b"OB", b"UN"):
            return pos
        if pos + 8 <= n and int.from_bytes(data[pos + 4:pos + 8], "little") in (n - pos - 8,
                                                                               0xFFFFFFFF):
            return pos
        pos = data.find(tag, pos + 1)
    return first


def make_damaged(src, outdir):
    """Writes damaged copies of src into outdir; returns [(label, path)]."""
    with open(src, "rb") as f:
        data = f.read()
    n = len(data)
    cases = []

    def write(name, blob, label):
        path = os.path.join(outdir, name)
        with open(path, "wb") as f:
            f.write(blob)
        cases.append((label, path))

    # Truncations.
    cuts = []
    pix = pixel_data_offset(data)
    extra = []
    if pix is not None:
        # Inside the data set (between the meta header and the pixel data), and
        # inside the pixel data element's own tag/VR/length.
        meta_end = 132
        if data[128:132] == b"DICM" and data[132:136] == b"\x02\x00\x00\x00":
            meta_end = 144 + int.from_bytes(data[140:144], "little")
        extra = [(meta_end + pix) // 2, pix + 6]
    for c in [0, 128, 132, 200] + extra + [n // 2, n - 1]:
        if 0 <= c < n and c not in cuts:
            cuts.append(c)
    for c in cuts:
        write("trunc-%07d.dcm" % c, data[:c], "truncated at %d of %d bytes" % (c, n))

    # Random byte flips, fixed seed.
    rng = random.Random(SEED)
    head_end = min(n, 2048)
    pix_lo = (pix + 12) if pix is not None and pix + 12 < n else head_end
    for k in range(40):
        blob = bytearray(data)
        mode = k % 4
        spots = []
        if mode in (0, 2, 3):          # header
            spots += [rng.randrange(128, head_end) for _ in range(rng.randint(1, 4))]
        if mode in (1, 2):             # pixel data
            spots += [rng.randrange(pix_lo, n) for _ in range(rng.randint(1, 4))]
        if mode == 3 and pix is not None:   # the pixel data element's tag, VR and length
            spots.append(rng.randrange(pix, min(n, pix + 12)))
        for s in spots:
            blob[s] ^= rng.randint(1, 255)
        where = ",".join(str(s) for s in sorted(spots))
        write("flip-%02d.dcm" % k, bytes(blob),
              "%d byte flips at %s" % (len(spots), where))

    # Targeted damage to the fields a pixel reader trusts (explicit VR LE only).
    targets = [
        ("rows0", 0x0028, 0x0010, b"US", (0).to_bytes(2, "little")),
        ("rows65535", 0x0028, 0x0010, b"US", (65535).to_bytes(2, "little")),
        ("cols0", 0x0028, 0x0011, b"US", (0).to_bytes(2, "little")),
        ("cols65535", 0x0028, 0x0011, b"US", (65535).to_bytes(2, "little")),
        ("bitsalloc0", 0x0028, 0x0100, b"US", (0).to_bytes(2, "little")),
        ("bitsalloc12", 0x0028, 0x0100, b"US", (12).to_bytes(2, "little")),
        ("bitsalloc64", 0x0028, 0x0100, b"US", (64).to_bytes(2, "little")),
        ("bitsstored0", 0x0028, 0x0101, b"US", (0).to_bytes(2, "little")),
        ("bitsstored40", 0x0028, 0x0101, b"US", (40).to_bytes(2, "little")),
        ("highbit99", 0x0028, 0x0102, b"US", (99).to_bytes(2, "little")),
        ("samples0", 0x0028, 0x0002, b"US", (0).to_bytes(2, "little")),
        ("samples3", 0x0028, 0x0002, b"US", (3).to_bytes(2, "little")),
    ]
    for name, g, e, vr, value in targets:
        off = find_explicit_le(data, g, e, vr)
        if off is None or off + len(value) > n:
            continue
        blob = bytearray(data)
        blob[off:off + len(value)] = value
        write("field-%s.dcm" % name, bytes(blob), "field damage %s" % name)

    if pix is not None and data[pix + 4:pix + 6] in (b"OW", b"OB") and pix + 12 <= n:
        for name, length in (("pixlen-undef", 0xFFFFFFFF), ("pixlen-huge", 0x7FFFFFF0),
                             ("pixlen-odd", 0x00000003), ("pixlen-zero", 0)):
            blob = bytearray(data)
            blob[pix + 8:pix + 12] = length.to_bytes(4, "little")
            write("field-%s.dcm" % name, bytes(blob), "field damage %s" % name)
    # A group length claiming the whole file in the meta header.
    if n > 144 and data[128:132] == b"DICM":
        blob = bytearray(data)
        if data[132:136] == b"\x02\x00\x00\x00":
            blob[140:144] = (0xFFFFFFF0).to_bytes(4, "little")
            write("field-metalen-huge.dcm", bytes(blob), "field damage meta group length")
    return cases


def pick_source(cli, tmp, timeout):
    seed_dir = os.environ.get("MM_SEED_CT")
    if seed_dir:
        files = sorted(f for f in os.listdir(seed_dir)
                       if os.path.isfile(os.path.join(seed_dir, f)))
        if files:
            return os.path.join(seed_dir, files[0]), "first file of MM_SEED_CT"
        print("# MM_SEED_CT=%s holds no file; using a phantom" % seed_dir)
    ph = os.path.join(tmp, "phantom")
    r = subprocess.run([cli, "phantom", ph, "--size", "64", "--slices", "4"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=timeout * 3)
    if r.returncode != 0:
        return None, "phantom failed (exit %d): %s" % (
            r.returncode, r.stderr.decode("utf-8", "replace").strip())
    files = sorted(os.listdir(os.path.join(ph, "ct")))
    if not files:
        return None, "phantom wrote no file"
    return os.path.join(ph, "ct", files[len(files) // 2]), "phantom slice"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--cli", default=os.path.join(root, "build", "src", "cli", "metalmark-cli"))
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--max-rss-mb", type=float, default=256.0,
                    help="peak RSS budget: this many MB plus --rss-per-byte times the input "
                         "size; 0 turns the check off (default 256)")
    ap.add_argument("--rss-per-byte", type=float, default=4.0)
    args = ap.parse_args()

    if not os.path.isdir(args.corpus):
        print("SKIP: pydicom test corpus %s missing (install python3-pydicom)" % args.corpus)
        return 77
    if not (os.path.isfile(args.cli) and os.access(args.cli, os.X_OK)):
        print("not ok - CLI %s is not an executable file" % args.cli)
        print("0 passed, 1 failed")
        return 1
    cli = os.path.abspath(args.cli)

    cases = []
    corpus = os.path.abspath(args.corpus)
    for dirpath, dirnames, filenames in os.walk(corpus):
        dirnames.sort()
        rel = os.path.relpath(dirpath, corpus)
        cases.append(("corpus folder %s" % rel, dirpath))
        for f in sorted(filenames):
            p = os.path.join(dirpath, f)
            kind = "DICOMDIR" if f.upper().startswith("DICOMDIR") else "file"
            cases.append(("corpus %s %s" % (kind, os.path.relpath(p, corpus)), p))

    tmp = tempfile.mkdtemp(prefix="mm-robust-")
    try:
        src, why = pick_source(cli, tmp, args.timeout)
        if src is None:
            cases_damaged = []
            setup_fail = "damaged copies: " + why
        else:
            setup_fail = None
            print("# damaged copies of %s (%s)" % (src, why))
            ddir = os.path.join(tmp, "damaged")
            os.mkdir(ddir)
            cases_damaged = [("damaged %s (%s)" % (os.path.basename(p), lab), p)
                             for lab, p in make_damaged(src, ddir)]
            cases_damaged.append(("damaged folder, all %d copies together"
                                  % len(cases_damaged), ddir))
        cases += cases_damaged

        passed = failed = 0
        if setup_fail:
            print("not ok - " + setup_fail)
            failed += 1
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            futs = [ex.submit(check, cli, lab, p, args.timeout,
                               args.max_rss_mb, args.rss_per_byte) for lab, p in cases]
            for fut in futs:
                ok, desc, detail = fut.result()
                print(("ok - " if ok else "not ok - ") + desc)
                for d in detail:
                    print("#   " + d)
                if ok:
                    passed += 1
                else:
                    failed += 1
        sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
