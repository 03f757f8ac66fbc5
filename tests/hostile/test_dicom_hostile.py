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

    def stray_bytes(f):
        i = f.find(b"\xff\xda")
        f[i:i] = bytes(26)
    # libjpeg warns of bytes between segments; GDCM's IJG codec asserted on the warning
    # (found by mutating the phantom under ASan).
    extra_slice("jpeg-stray-bytes-before-scan", "jpeg", stray_bytes, "stray bytes")
    extra_slice("jpegls-larger-frame", "jpegls", sof((0xf7,), "size", 8), "40 x 40", "32 x 32")
    extra_slice("jpegls-8-bit-precision", "jpegls", sof((0xf7,), "precision", 8), "8-bit")

    def sof_code(old, new):
        def edit(f):
            i = f.find(bytes([0xff, old]))
            f[i + 1] = new
        return edit
    # A JPEG frame header (SOF3) in a JPEG-LS file, and the reverse: refused by name (the
    # single-frame checker used to see only "a scan before any frame header").
    extra_slice("jpegls-with-jpeg-frame-header", "jpegls", sof_code(0xf7, 0xc3),
                "is JPEG, not the JPEG-LS")
    extra_slice("jpeg-with-jpegls-frame-header", "jpeg", sof_code(0xc3, 0xf7),
                "is JPEG-LS, not the JPEG")

    # Every compressed phantom still reads with the explicit phantom's numbers.
    for syntax in ("rle", "jpeg", "jpegls", "j2k"):
        j = run(cli, "info", ph[syntax], "--json").json()
        check("%s phantom reads with the same numbers as explicit" % syntax,
              same_numbers(j, truth), (j, truth))

    tests_structure(cli, tmp, ph, truth)


def be_no_preamble(src, dst):
    """An ACR-NEMA style copy of src: explicit VR big endian, no preamble, no meta group (its
    first bytes are 00 08)."""
    ds = pydicom.dcmread(src)
    arr = ds.pixel_array
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.preamble = None
    ds.is_little_endian, ds.is_implicit_VR = False, False
    ds.PixelData = arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    ds.save_as(dst, write_like_original=True)


def le_no_preamble(src, dst, implicit):
    ds = pydicom.dcmread(src)
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.preamble = None
    ds.is_little_endian, ds.is_implicit_VR = True, implicit
    ds.save_as(dst, write_like_original=True)


def deflated(src, dst, rows=None, value=None):
    """src deflated (1.2.840.10008.1.2.1.99); with rows, a rows x rows slice of one value."""
    ds = pydicom.dcmread(src)
    if rows:
        ds.Rows = ds.Columns = rows
        ds.PixelData = struct.pack("<%dH" % (rows * rows), *([value] * rows * rows))
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as(dst, write_like_original=False)


def short_pixels(src, dst, rows, cols, n_bytes):
    """src declaring rows x cols with only n_bytes of Pixel Data (explicit VR LE)."""
    ds = pydicom.dcmread(src)
    ds.Rows, ds.Columns = rows, cols
    ds.PixelData = bytes(n_bytes)
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".9"
    ds.ImagePositionPatient = [0, 0, 999]
    ds.save_as(dst)


def dicomdir(series, out):
    """A DICOMDIR (pydicom's FileSet) over copies of series."""
    from pydicom.fileset import FileSet
    fs = FileSet()
    for name in sorted(os.listdir(series)):
        ds = pydicom.dcmread(os.path.join(series, name))
        ds.StudyDate, ds.StudyTime, ds.StudyID = "20240101", "120000", "1"
        ds.SeriesNumber = ds.get("SeriesNumber", 1) or 1
        fs.add(ds)
    fs.write(out)
    return os.path.join(out, "DICOMDIR")


def tests_structure(cli, tmp, ph, truth):
    first = os.path.join(ph["explicit"], "CT000001.dcm")
    one = run(cli, "info", first, "--json").json()

    # ---- Files without a preamble: checked, then parsed in the encoding checked ----------
    be = os.path.join(tmp, "be.dcm")
    be_no_preamble(first, be)
    with open(be, "rb") as f:
        data = f.read()
    check("the big endian copy starts 00 08", data[:2] == b"\x00\x08")
    r = run(cli, "info", be, "--json")
    check("an ACR-NEMA big endian slice reads with the little endian slice's numbers",
          r.sane() and same_numbers(r.json(), one), r.detail())
    for implicit in (False, True):
        p = os.path.join(tmp, "le-%s.dcm" % ("implicit" if implicit else "explicit"))
        le_no_preamble(first, p, implicit)
        r = run(cli, "info", p, "--json")
        check("a slice without preamble (%s VR) reads with the same numbers"
              % ("implicit" if implicit else "explicit"), same_numbers(r.json(), one), r.detail())
    # A meta group without the preamble and DICM prefix (GDCM reads those): the same numbers.
    with open(first, "rb") as f:
        bare = f.read()[132:]
    p = os.path.join(tmp, "bare-meta.dcm")
    with open(p, "wb") as f:
        f.write(bare)
    r = run(cli, "info", p, "--json")
    check("a meta group without preamble reads with the same numbers",
          r.sane() and same_numbers(r.json(), one), r.detail())
    # ... stating a deflated data set that is not: refused, never parsed unchecked.
    p = os.path.join(tmp, "bare-meta-deflate.dcm")
    with open(p, "wb") as f:
        f.write(bare.replace(b"1.2.840.10008.1.2.1\x00", b"1.2.840.10008.1.2.1.99", 1))
    r = run(cli, "info", p)
    check("... stating deflate over plain bytes: exit 1 naming the file", r.sane() and r.rc == 1
          and p in r.err, r.detail())
    # Unknown VRs (found by mutating the phantoms under ASan): in the meta group, GDCM's
    # meta reader asserted; in the data set, its retry with another element reader did.
    with open(first, "rb") as f:
        plain = f.read()
    p = os.path.join(tmp, "meta-vr-ua.dcm")
    assert plain[132 + 4:132 + 6] == b"UL"
    with open(p, "wb") as f:
        f.write(plain[:132 + 4] + b"UA" + plain[132 + 6:])
    r = run(cli, "info", p, "--json")
    check("a meta group element with an unknown VR: no crash, the slice reads",
          r.sane() and same_numbers(r.json(), one), r.detail())
    i = plain.find(b"LO", 300)
    p = os.path.join(tmp, "vr-mo.dcm")
    with open(p, "wb") as f:
        f.write(plain[:i] + b"MO" + plain[i + 2:])
    r = run(cli, "info", p)
    check("a data set element with an unknown VR: exit 1 naming the file and the VR",
          r.sane() and r.rc == 1 and warned(r, p, "invalid VR"), r.detail())
    # An unknown transfer syntax: GDCM would guess; refused with its UID.
    ds = pydicom.dcmread(first)
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5"
    p = os.path.join(tmp, "unknown-ts.dcm")
    ds.save_as(p)
    r = run(cli, "info", p)
    check("an unknown transfer syntax: exit 1 naming it", r.sane() and r.rc == 1
          and warned(r, p, "1.2.3.4.5"), r.detail())
    # Every truncation (the 40-byte one aborted the whole folder: GDCM parsed it unchecked).
    bad = []
    for n in list(range(8, 200, 2)) + list(range(200, len(data), 97)):
        p = os.path.join(tmp, "be-cut.dcm")
        with open(p, "wb") as f:
            f.write(data[:n])
        r = run(cli, "info", p)
        if not (r.sane() and r.rc == 1 and p in r.err.strip().splitlines()[-1]):
            bad.append("%d bytes: %s" % (n, r.detail()))
            if len(bad) >= 3:
                break  # enough to show it (and a hang per case is slow)
    check("every truncation of the big endian slice: exit 1 naming the file, no crash",
          not bad, "\n".join(bad[:3]))
    d = series_copy(ph["explicit"], os.path.join(tmp, "with-be-40"))
    with open(os.path.join(d, "cut40"), "wb") as f:
        f.write(data[:40])
    r = run(cli, "info", d, "--json")
    j = r.json()
    check("a 40-byte 00 08 file in a folder: the series still loads",
          r.sane() and j is not None and j["files_read"] == 4 and j["max"] == truth["max"],
          r.detail())
    check("... and the 40-byte file is named", warned(r, os.path.join(d, "cut40"), "skipped"),
          r.err)

    # ---- DICOMDIR: checked like any file before GDCM parses it -------------------------
    dd = dicomdir(ph["explicit"], os.path.join(tmp, "fileset"))
    r = run(cli, "info", dd, "--json")
    j = r.json()
    check("a DICOMDIR reads its series", r.sane() and j is not None and j["files_read"] == 4
          and j["max"] == truth["max"], r.detail())
    with open(dd, "rb") as f:
        ddata = f.read()
    bad, n_cuts = [], 0
    for n in range(0, len(ddata), max(1, len(ddata) // 70)):
        with open(dd, "wb") as f:
            f.write(ddata[:n])
        n_cuts += 1
        r = run(cli, "info", dd)
        if not (r.sane() and r.rc == 1 and dd in r.err.strip().splitlines()[-1]):
            bad.append("%d bytes: %s" % (n, r.detail()))
            if len(bad) >= 3:
                break  # enough to show it (and a hang per case is slow)
    with open(dd, "wb") as f:
        f.write(ddata)
    check("%d truncations of a DICOMDIR: exit 1 naming it, no crash" % n_cuts, not bad,
          "%d bad\n%s" % (len(bad), "\n".join(bad[:3])))

    # ---- Sizes believed before they were checked ---------------------------------------
    for rows, cols, words in ((65535, 65535, ("65535 x 65535", "exceed the limit")),
                              (16385, 16, ("16385 x 16", "exceed the limit")),
                              (16384, 16384, ("holds", "bytes", "16384 x 16384"))):
        d = series_copy(ph["explicit"], os.path.join(tmp, "big-%dx%d" % (rows, cols)))
        bad = os.path.join(d, "big.dcm")
        short_pixels(first, bad, rows, cols, 64)
        r = run(cli, "segment", d, "--out", os.path.join(tmp, "seg-%d" % rows), "--json")
        check("%d x %d with 64 bytes of pixels (%d-byte file): segment exits 0 with the rest"
              % (cols, rows, os.path.getsize(bad)), r.sane() and r.rc == 0, r.detail())
        check("... names the file and why", warned(r, bad, *words), r.err)
        # Alone, it was believed: 8 GB per thread for 65535 x 65535, then std::bad_alloc.
        r = run(cli, "segment", bad, "--out", os.path.join(tmp, "seg1-%d" % rows))
        check("... alone: exit 1 naming the file and why", r.sane() and r.rc == 1
              and warned(r, bad, *words), r.detail())
        if not RUN_UNDER_ASAN:
            check("... peak memory %.0f MB < 300 MB (nothing allocated from the lie)"
                  % r.rss_mb, r.rss_mb < 300)

    # ---- Deflated data sets: inflated here, to the end of the stream --------------------
    dz = os.path.join(tmp, "deflated-small.dcm")
    src = pydicom.dcmread(first)
    deflated(first, dz, rows=64, value=1500)
    hu = 1500 * float(src.get("RescaleSlope", 1)) + float(src.get("RescaleIntercept", 0))
    r = run(cli, "info", dz, "--json")
    j = r.json()
    check("a deflated slice whose payload is small (%d bytes for 8 KB) reads"
          % os.path.getsize(dz), r.sane() and j is not None and j["max"] == hu
          and j["min"] == hu and j["dims"] == [64, 64, 1], r.detail())
    d = os.path.join(tmp, "deflated")
    os.makedirs(d)
    for name in sorted(os.listdir(ph["explicit"])):
        deflated(os.path.join(ph["explicit"], name), os.path.join(d, name))
    r = run(cli, "info", d, "--json")
    check("a deflated series reads with the explicit series' numbers",
          same_numbers(r.json(), truth), r.detail())
    big = os.path.join(tmp, "ph-128")
    run(cli, "phantom", big, "--size", 128, "--slices", 1)
    full = os.path.join(tmp, "deflated-128.dcm")
    deflated(os.path.join(big, "ct", "CT000001.dcm"), full)
    with open(full, "rb") as f:
        zdata = f.read()
    bad = []
    for pct in range(30, 100, 3):
        p = os.path.join(tmp, "deflated-cut.dcm")
        with open(p, "wb") as f:
            f.write(zdata[:len(zdata) * pct // 100])
        r = run(cli, "info", p, timeout=30)
        if not (r.sane() and r.rc == 1 and warned(r, p, "truncated")):
            bad.append("%d%%: %s" % (pct, r.detail()))
            if len(bad) >= 3:
                break
    check("truncated deflated slices: exit 1, 'truncated', no hang (48%% hung at 2 GB)",
          not bad, "\n".join(bad[:3]))
    with open(os.path.join(d, "CT000009.dcm"), "wb") as f:
        f.write(zdata[:len(zdata) * 9 // 10])
    r = run(cli, "info", d, "--json", timeout=30)
    j = r.json()
    check("a truncated deflated slice in a deflated series: the rest reads",
          r.sane() and j is not None and j["files_read"] == 4 and j["files_skipped"] == 1,
          r.detail())

    # ---- FIFOs: never opened for reading (it would wait for a writer forever) -----------
    fifo = os.path.join(tmp, "fifo.dcm")
    os.mkfifo(fifo)
    r = run(cli, "info", fifo, timeout=20)
    check("a FIFO as input: exit 1 at once, naming it", r.rc == 1 and warned(r, fifo, "regular"),
          r.detail())
    d = series_copy(ph["explicit"], os.path.join(tmp, "with-fifo"))
    os.mkfifo(os.path.join(d, "zz.dcm"))
    r = run(cli, "info", d, "--json", timeout=20)
    j = r.json()
    check("a FIFO in a folder: the series loads, the FIFO is named",
          j is not None and j["files_read"] == 4
          and warned(r, os.path.join(d, "zz.dcm"), "regular"), r.detail())
    r = run(cli, "info", os.path.join(d, "zz.dcm"), first, timeout=20)
    check("a FIFO next to a file: the file loads", r.rc == 0, r.detail())


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
