#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile DICOM input against metalmark-cli: every case is a small file generated here from
the CLI's own phantom series (with pydicom, or byte by byte), each one that crashed, hung,
allocated gigabytes or was silently accepted before the reader's checks. A case passes when
the CLI exits 0 or 1 (never a signal, a sanitizer report or a hang), names the bad file and
the reason in one line, and still loads the rest of the series with the right numbers.
Run it also against an ASan + UBSan build (--cli build-asan/src/cli/metalmark-cli). TAP."""

import argparse
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish  # noqa: E402

import pydicom  # noqa: E402
from pydicom.encaps import decode_data_sequence, encapsulate  # noqa: E402

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


class Run:
    """One CLI run: exit code (None after a timeout), stdout, stderr, peak RSS in MB."""

    def __init__(self, rc, out, err, rss_mb):
        self.rc, self.out, self.err, self.rss_mb = rc, out, err, rss_mb

    def sane(self):
        """Exit 0 or 1, no signal, no sanitizer report, no hang."""
        return self.rc in (0, 1) and not any(m in self.err for m in SANITIZER_MARKS)

    def json(self):
        try:
            return json.loads(self.out)
        except ValueError:
            return None

    def detail(self):
        return "exit %s, peak %.0f MB\n%s" % (self.rc, self.rss_mb, "\n".join(self.err.splitlines()[-6:]))


def run(cli, *args, timeout=60, limit_memory=True):
    env = dict(os.environ)
    # Sanitizer reports must not be mistaken for exit 1 (bad input); GDCM leaks a little on
    # some failure paths, which is not what is tested here.
    env["ASAN_OPTIONS"] = "exitcode=86:detect_leaks=0:abort_on_error=0"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=87"
    env["OMP_NUM_THREADS"] = "2"

    def limits():
        # A regression must not eat the machine: 4 GB of address space (not under ASan,
        # whose shadow memory needs terabytes of it).
        if limit_memory and not RUN_UNDER_ASAN:
            resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([cli] + [str(a) for a in args], stdin=subprocess.DEVNULL, stdout=out,
                             stderr=err, env=env, preexec_fn=limits, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                rc = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.killpg(p.pid, signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                rc = None
                break
            time.sleep(0.01)
        p.returncode = 0
        out.seek(0)
        err.seek(0)
        return Run(rc, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                   ru.ru_maxrss / 1024.0)


RUN_UNDER_ASAN = False


def warned(r, path, *words):
    """A warning (or error) line of stderr names path and says each of words."""
    return any(path in line and all(w in line for w in words) for line in r.err.splitlines())


def frames(ds):
    return decode_data_sequence(ds.PixelData)


def replace_frame(src, dst, edit, **changes):
    """dst: src with its (single) compressed frame passed through edit(bytearray), and the
    header changed as given (a different position and SOP Instance UID, so the file is an
    extra slice of the same series)."""
    ds = pydicom.dcmread(src)
    f = bytearray(frames(ds)[0])
    edit(f)
    ds.PixelData = encapsulate([bytes(f)])
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".9"
    ds.ImagePositionPatient = [0, 0, 999]
    for k, v in changes.items():
        setattr(ds, k, v)
    ds.save_as(dst)


def series_copy(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst


def same_numbers(a, b):
    keys = ("dims", "max", "min", "mean", "files_read")
    return a is not None and b is not None and all(a[k] == b[k] for k in keys)


def tests(cli, tmp):
    ph = {}
    for syntax in ("explicit", "rle", "jpeg", "jpegls", "j2k"):
        d = os.path.join(tmp, "ph-" + syntax)
        r = run(cli, "phantom", d, "--size", 32, "--slices", 4, "--syntax", syntax)
        check("phantom %s written" % syntax, r.rc == 0, r.detail())
        ph[syntax] = os.path.join(d, "ct")
    for size in (16, 64):
        run(cli, "phantom", os.path.join(tmp, "j2k-%d" % size), "--size", size, "--slices", 1,
            "--syntax", "j2k")
    truth = run(cli, "info", ph["explicit"], "--json").json()
    check("the explicit phantom reads", truth is not None and truth["files_read"] == 4)
    first = lambda d: os.path.join(d, "CT000001.dcm")  # noqa: E731

    # ---- Compressed pixel data whose codestream disagrees with the header ----------------
    def extra_slice(name, syntax, edit, *reason):
        d = series_copy(ph[syntax], os.path.join(tmp, name))
        bad = os.path.join(d, "extra.dcm")
        replace_frame(first(ph[syntax]), bad, edit)
        r = run(cli, "info", d, "--json")
        j = r.json()
        check("%s: exit 0, no crash, the 4 good slices read" % name,
              r.sane() and r.rc == 0 and j is not None and j["files_read"] == 4
              and j["files_skipped"] == 1 and j["max"] == truth["max"], r.detail())
        check("%s: one warning names the file and why" % name, warned(r, bad, *reason), r.err)

    def j2k_from(size):
        donor = pydicom.dcmread(first(os.path.join(tmp, "j2k-%d" % size, "ct")))
        cs = frames(donor)[0]

        def edit(f):
            f[:] = cs
        return edit

    # 64 x 64 codestream in a 32 x 32 series: GDCM wrote 4x the buffer (heap corruption).
    extra_slice("j2k-larger-codestream", "j2k", j2k_from(64), "64 x 64", "32 x 32")
    # 16 x 16: a quarter of the slice was uninitialised memory.
    extra_slice("j2k-smaller-codestream", "j2k", j2k_from(16), "16 x 16", "32 x 32")

    def j2k_precision(bits):
        def edit(f):
            i = f.find(b"\xff\x51")
            f[i + 40] = (f[i + 40] & 0x80) | (bits - 1)
        return edit
    # 17-bit samples into a 16-bit buffer: double free; 8-bit ones: half the slice unset.
    extra_slice("j2k-17-bit-samples", "j2k", j2k_precision(17), "17-bit", "Bits Allocated 16")
    extra_slice("j2k-8-bit-samples", "j2k", j2k_precision(8), "8-bit", "Bits Allocated 16")

    def j2k_components(f):
        i = f.find(b"\xff\x51")
        lsiz = struct.unpack(">H", f[i + 2:i + 4])[0]
        # Two more components like the first, in the SIZ marker (Csiz 3, Lsiz to match).
        f[i + 2 + lsiz:i + 2 + lsiz] = bytes(f[i + 40:i + 43]) * 2
        f[i + 2:i + 4] = struct.pack(">H", lsiz + 6)
        f[i + 38:i + 40] = struct.pack(">H", 3)
    extra_slice("j2k-3-components", "j2k", j2k_components, "3 components")

    def rle_segments(n):
        def edit(f):
            f[0:4] = struct.pack("<I", n)
        return edit
    # 0 segments: SIGFPE (a division by the segment count); 1: half the bytes, read as a
    # slice without a word.
    extra_slice("rle-0-segments", "rle", rle_segments(0), "0 segments", "2 expected")
    extra_slice("rle-1-segment", "rle", rle_segments(1), "1 segment", "2 expected")

    def rle_offset(f):
        f[8:12] = struct.pack("<I", len(f) + 1000)
    extra_slice("rle-offset-past-end", "rle", rle_offset, "offset", "segment 2")

    def sof(marker_codes, field, value):
        def edit(f):
            i = min(f.find(bytes([0xff, m])) for m in marker_codes if f.find(bytes([0xff, m])) >= 0)
            if field == "precision":
                f[i + 4] = value
            else:
                y, x = struct.unpack(">HH", f[i + 5:i + 9])
                f[i + 5:i + 9] = struct.pack(">HH", y + value, x + value)
        return edit
    jpeg_sof = (0xc0, 0xc1, 0xc3)
    # 17-bit precision: GDCM's JPEG codec segfaulted.
    extra_slice("jpeg-17-bit-precision", "jpeg", sof(jpeg_sof, "precision", 17), "17-bit")
    extra_slice("jpeg-8-bit-precision", "jpeg", sof(jpeg_sof, "precision", 8), "8-bit")
    extra_slice("jpeg-larger-frame", "jpeg", sof(jpeg_sof, "size", 8), "40 x 40", "32 x 32")
    extra_slice("jpegls-larger-frame", "jpegls", sof((0xf7,), "size", 8), "40 x 40", "32 x 32")
    extra_slice("jpegls-8-bit-precision", "jpegls", sof((0xf7,), "precision", 8), "8-bit")

    # Every compressed phantom still reads with the explicit phantom's numbers.
    for syntax in ("rle", "jpeg", "jpegls", "j2k"):
        j = run(cli, "info", ph[syntax], "--json").json()
        check("%s phantom reads with the same numbers as explicit" % syntax,
              same_numbers(j, truth), (j, truth))


def main():
    global RUN_UNDER_ASAN
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--keep", help="write the cases here and keep them")
    a = ap.parse_args()
    ldd = subprocess.run(["ldd", a.cli], capture_output=True, text=True).stdout
    RUN_UNDER_ASAN = "libasan" in ldd
    tmp = a.keep or tempfile.mkdtemp(prefix="mm-dicom-hostile-")
    os.makedirs(tmp, exist_ok=True)
    try:
        tests(a.cli, tmp)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
