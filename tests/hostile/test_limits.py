#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sizes from outside are checked before they are believed (docs/limits.md): metalmark-cli
on generated hostile inputs (deep JSON, PNG bombs, huge manifests, truncated NIfTI, numeric
options) at each limit and one past it. Every refusal must be an exit code, never a signal,
with one error line naming the file or option; memory is measured with wait4. TAP output."""

import argparse
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, read_png_gray8, run  # noqa: E402

# The values of src/core/mm-limits.h, written out again: the test states the documented
# limits rather than reading them from the code it checks.
IMAGE_SIDE = 16384
SLICES = 16384
VOXELS = 1 << 31
JSON_DEPTH = 64
JSON_BYTES = 64 << 20
THREADS = 256
PATCH = 4096
TRAIN_BATCH = 1024
TRAIN_STEP = 1 << 25
PREDICT_BATCH = 16
HU = 1e6
EPOCHS = 10000
STEPS_PER_EPOCH = 100000
MODEL_BYTES = 4 << 30

MIB = 1 << 20


def run_rss(cmd, *args):
    """(exit code or -signal, stdout, stderr, peak RSS in MiB) of one run, from wait4. Linux
    counts the pages of the forked test process before exec too, so the figures are compared
    with a baseline run or a bound well above it, never read as the program's own."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen([cmd] + [str(a) for a in args], stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (p.returncode, out.read().decode(), err.read().decode(),
                usage.ru_maxrss / 1024.0)


def no_signal(rc):
    return rc >= 0


def one_line_naming(err, *needles):
    """The last stderr line names every needle, and holds no control characters."""
    lines = [l for l in err.splitlines() if l.strip()]
    return bool(lines) and all(n in lines[-1] for n in needles)


# ---- generated inputs ----

def png_chunk(kind, body):
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))


def png_bytes(width, height, rows=None, depth=8, colour=0, idat=None):
    """A PNG by hand: IHDR as given, IDAT of the filtered rows (all zero when rows is None),
    or the raw idat bytes when given."""
    if idat is None:
        c = zlib.compressobj(1)
        parts = []
        line = bytes(1 + width)
        for y in range(height):
            parts.append(c.compress(b"\0" + rows[y] if rows is not None else line))
        parts.append(c.flush())
        idat = b"".join(parts)
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def label_name(index, n, instance=None):
    width = 4
    m = n - 1
    while m >= 10000:
        width += 1
        m //= 10
    return "mask-%0*d.png" % (width, index) if instance is None else \
        "mask-%0*d-i%d.png" % (width, index, instance)


def write_stack(d, dims, pngs=True, pad=None, raw_manifest=None):
    """A label stack of dims [w, h, n] of empty slices (no PNGs when pngs is False); pad
    adds a member "pad" holding that JSON text."""
    os.makedirs(d, exist_ok=True)
    w, h, n = dims
    slices = []
    empty = png_bytes(w, h) if pngs else None
    for k in range(n):
        name = label_name(k, n)
        slices.append({"index": k, "file": name, "sop_instance_uid": None,
                       "instance_number": None, "z_mm": float(k), "voxels": 0})
        if pngs:
            open(os.path.join(d, name), "wb").write(empty)
    m = {"format": "metalmark-label-stack", "version": 1, "series_uid": "1.2.3",
         "dims": dims, "spacing_mm": [1.0, 1.0, 1.0],
         "label": {"name": "metal", "value": 255}, "parameters": None, "slices": slices}
    text = json.dumps(m)
    if pad is not None:
        text = text[:-1] + ', "pad": ' + pad + "}"
    if raw_manifest is not None:
        text = raw_manifest
    open(os.path.join(d, "manifest.json"), "w").write(text)
    return d


def nested(depth):
    """JSON nesting depth levels: [[...]]"""
    return "[" * depth + "]" * depth


# ---- the checks ----

def json_limits(cli, tmp, ph):
    truth = os.path.join(ph, "truth")
    # 200 KB of '[' as a manifest: json-glib recursed until the stack ran out.
    bad = os.path.join(tmp, "deep")
    shutil.copytree(truth, bad)
    manifest = os.path.join(bad, "manifest.json")
    open(manifest, "w").write("[" * 200000)
    rc, _, err = run(cli, "eval", "--truth", bad, "--pred", truth)
    check("manifest.json of 200000 '[': exit 1, one line naming it and the nesting",
          rc == 1 and one_line_naming(err, manifest, "nests more than %d" % JSON_DEPTH), err)

    # At the limit and one past: a valid manifest with a member nested to a total depth of
    # JSON_DEPTH (the manifest object is one level).
    at = write_stack(os.path.join(tmp, "depth-at"), [8, 8, 2], pad=nested(JSON_DEPTH - 1))
    rc, out, err = run(cli, "eval", "--truth", at, "--pred", at)
    check("manifest nested %d deep (the limit) is read" % JSON_DEPTH, rc == 0, err)
    past = write_stack(os.path.join(tmp, "depth-past"), [8, 8, 2], pad=nested(JSON_DEPTH))
    rc, out, err = run(cli, "eval", "--truth", past, "--pred", at)
    check("manifest nested %d deep: exit 1 naming the nesting" % (JSON_DEPTH + 1),
          rc == 1 and one_line_naming(err, "manifest.json", "nests more than"), err)

    # Size: JSON_BYTES exactly (padded with spaces) is read, one byte more is refused unread.
    at = write_stack(os.path.join(tmp, "bytes-at"), [8, 8, 2])
    text = open(os.path.join(at, "manifest.json")).read()
    open(os.path.join(at, "manifest.json"), "w").write(text + " " * (JSON_BYTES - len(text)))
    rc, out, err = run(cli, "eval", "--truth", at, "--pred", at)
    check("manifest of %d MiB (the limit) is read" % (JSON_BYTES >> 20), rc == 0, err)
    past = write_stack(os.path.join(tmp, "bytes-past"), [8, 8, 2])
    open(os.path.join(past, "manifest.json"), "w").write(text + " " * (JSON_BYTES + 1
                                                                          - len(text)))
    rc, out, err = run(cli, "eval", "--truth", past, "--pred", at)
    check("manifest one byte over %d MiB: exit 1 naming its size" % (JSON_BYTES >> 20),
          rc == 1 and one_line_naming(err, "manifest.json", str(JSON_BYTES + 1)), err)

    # Empty: json-glib gives no root at all, which its accessors turned into criticals.
    empty = write_stack(os.path.join(tmp, "empty"), [8, 8, 2], raw_manifest="")
    rc, out, err = run(cli, "eval", "--truth", empty, "--pred", at)
    check("empty manifest.json: exit 1 naming it", rc == 1
          and one_line_naming(err, "manifest.json", "empty"), err)

    # A FIFO as manifest.json: mapping it blocked forever.
    fifo = os.path.join(tmp, "fifo")
    os.makedirs(fifo)
    os.mkfifo(os.path.join(fifo, "manifest.json"))
    try:
        rc, out, err = run(cli, "eval", "--truth", fifo, "--pred", at, timeout=30)
    except subprocess.TimeoutExpired:
        rc, err = None, "timed out"
    check("a FIFO as manifest.json: exit 1 at once, 'not a regular file'",
          rc == 1 and one_line_naming(err, "manifest.json", "not a regular file"), err)


def safetensors_file(path, header_text, body):
    raw = header_text.encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + body)


def model_limits(cli, tmp, ph, model):
    data = open(model, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    # A model's metadata holds JSON in strings (architecture, metrics, training data), parsed
    # again when the model is loaded.
    h = json.loads(json.dumps(header))
    h["__metadata__"]["architecture"] = "[" * 200000
    deep_meta = os.path.join(tmp, "deep-meta.safetensors")
    safetensors_file(deep_meta, json.dumps(h), body)
    rc, out, err = run(cli, "predict", os.path.join(ph, "ct"), "--model", deep_meta,
                       "--out", os.path.join(tmp, "p1"))
    check("model whose architecture metadata is 200000 '[': exit 1 naming the file",
          rc == 1 and one_line_naming(err, deep_meta, "architecture"), err)
    # The header itself nested deep behind a comment holding a quote: json-glib skips C
    # comments, a scan that does not would think the brackets are inside a string.
    text = json.dumps(header)
    text = text[:-1] + ', /* " */ "x": ' + nested(200000) + "}"
    hidden = os.path.join(tmp, "hidden-deep.safetensors")
    safetensors_file(hidden, text, body)
    rc, out, err = run(cli, "predict", os.path.join(ph, "ct"), "--model", hidden,
                       "--out", os.path.join(tmp, "p2"))
    check("model header nested 200000 deep behind /* \" */: exit 1 naming the nesting",
          rc == 1 and one_line_naming(err, hidden, "nests deeper"), err)
    # The same with a single-quoted string, which json-glib also accepts.
    text = json.dumps(header)
    text = text[:-1] + ", 'it\"s': " + nested(200000) + "}"
    quoted = os.path.join(tmp, "quoted-deep.safetensors")
    safetensors_file(quoted, text, body)
    rc, out, err = run(cli, "predict", os.path.join(ph, "ct"), "--model", quoted,
                       "--out", os.path.join(tmp, "p3"))
    check("model header nested 200000 deep after 'it\"s': exit 1 naming the nesting",
          rc == 1 and one_line_naming(err, quoted, "nests deeper"), err)


def model_size_limits(cli, tmp, ph, model):
    # The shipped model grown with a hole to the size limit: its header shows the tensors
    # end long before, so it is refused without reading the 4 GiB (which took 22 s and
    # 4.2 GB of memory), and one byte more is refused from its size alone.
    for size, needle in ((MODEL_BYTES, "belong to no tensor"),
                         (MODEL_BYTES + 1, "%d bytes, more than" % (MODEL_BYTES + 1))):
        path = os.path.join(tmp, "sparse-%d.safetensors" % size)
        shutil.copyfile(model, path)
        os.truncate(path, size)
        rc, out, err, rss = run_rss(cli, "predict", os.path.join(ph, "ct"), "--model", path,
                                    "--out", os.path.join(tmp, "p-sparse"))
        check("model file of %d bytes (%s the limit), mostly a hole: exit 1 naming it, "
              "%.0f MiB used" % (size, "at" if size == MODEL_BYTES else "one past", rss),
              rc == 1 and one_line_naming(err, path, needle) and rss < 256, err)
        os.unlink(path)


def png_limits(cli, tmp, ph):
    truth = os.path.join(ph, "truth")
    m = json.load(open(os.path.join(truth, "manifest.json")))
    w, h = m["dims"][0], m["dims"][1]
    # A real bomb at the largest side: 16384² of zeros (256 MiB decoded, 1 MB on disk) where
    # the stack's slices are small. It must be refused from its header, not decoded.
    bomb = os.path.join(tmp, "bomb")
    shutil.copytree(truth, bomb)
    victim = os.path.join(bomb, m["slices"][1]["file"])
    open(victim, "wb").write(png_bytes(IMAGE_SIDE, IMAGE_SIDE))
    rc, out, err, rss = run_rss(cli, "eval", "--truth", bomb, "--pred", truth,
                                     "--threads", 1)
    check("PNG declaring %d² in a %dx%d stack: exit 1 naming it and both sizes"
          % (IMAGE_SIDE, w, h),
          rc == 1 and one_line_naming(err, victim, "%d x %d" % (IMAGE_SIDE, IMAGE_SIDE),
                                      "%d x %d" % (w, h)), err)
    rc0, _, _, rss0 = run_rss(cli, "eval", "--truth", truth, "--pred", truth,
                                   "--threads", 1)
    check("... refused before decoding: peak memory %.0f MiB, %.0f MiB for the intact "
          "stack (decoding it takes 256 MiB)" % (rss, rss0),
          rc0 == 0 and rss < rss0 + 64, "%.0f vs %.0f MiB" % (rss, rss0))

    # The example: 65535² declared by a small file (the rows are not all there).
    small = os.path.join(tmp, "bomb65535")
    shutil.copytree(truth, small)
    victim = os.path.join(small, m["slices"][2]["file"])
    c = zlib.compressobj(9)
    idat = c.compress(bytes(65536 * 64)) + c.flush()
    open(victim, "wb").write(png_bytes(65535, 65535, idat=idat))
    rc, out, err = run(cli, "eval", "--truth", small, "--pred", truth)
    check("PNG declaring 65535 x 65535: exit 1 naming it, its size and the limit",
          rc == 1 and one_line_naming(err, victim, "65535 x 65535", str(IMAGE_SIDE)), err)

    # Side at the limit and one past (1-pixel-high slices keep it small).
    at = write_stack(os.path.join(tmp, "side-at"), [IMAGE_SIDE, 1, 1])
    rc, out, err = run(cli, "eval", "--truth", at, "--pred", at)
    check("stack of %d x 1 slices (the limit) is read" % IMAGE_SIDE, rc == 0, err)
    past = write_stack(os.path.join(tmp, "side-past"), [IMAGE_SIDE + 1, 1, 1])
    rc, out, err = run(cli, "eval", "--truth", past, "--pred", past)
    check("stack of %d x 1 slices: exit 1 naming the manifest and the limit"
          % (IMAGE_SIDE + 1),
          rc == 1 and one_line_naming(err, "manifest.json", str(IMAGE_SIDE)), err)
    # A PNG over the limit where the manifest is within it: the PNG's header is refused.
    odd = write_stack(os.path.join(tmp, "side-png"), [IMAGE_SIDE, 1, 1])
    open(os.path.join(odd, label_name(0, 1)), "wb").write(png_bytes(IMAGE_SIDE + 1, 1))
    rc, out, err = run(cli, "eval", "--truth", odd, "--pred", at)
    check("PNG of %d x 1 in a %d x 1 stack: exit 1 naming it" % (IMAGE_SIDE + 1, IMAGE_SIDE),
          rc == 1 and one_line_naming(err, label_name(0, 1), str(IMAGE_SIDE + 1)), err)
    # A FIFO in place of a PNG: opening it for the header blocked forever.
    fifo = os.path.join(tmp, "fifo-png")
    shutil.copytree(truth, fifo)
    victim = os.path.join(fifo, m["slices"][3]["file"])
    os.unlink(victim)
    os.mkfifo(victim)
    try:
        rc, out, err = run(cli, "eval", "--truth", fifo, "--pred", truth, timeout=30)
    except subprocess.TimeoutExpired:
        rc, err = None, "timed out"
    check("a FIFO in place of a PNG: exit 1 at once naming it, 'not a regular file'",
          rc == 1 and one_line_naming(err, victim, "not a regular file"), err)
    # Bit depth and colour type as the PNG specification allows them, checked in the header.
    bad = write_stack(os.path.join(tmp, "depth3"), [8, 8, 1])
    open(os.path.join(bad, label_name(0, 1)), "wb").write(png_bytes(8, 8, depth=3))
    rc, out, err = run(cli, "eval", "--truth", bad, "--pred", bad)
    check("PNG of bit depth 3: exit 1 naming it, 'bit depth 3'",
          rc == 1 and one_line_naming(err, label_name(0, 1), "bit depth 3"), err)


def manifest_limits(cli, tmp):
    # The example: 20000 x 20000 x 20 declared, no PNGs at all.
    big = write_stack(os.path.join(tmp, "huge"), [20000, 20000, 20], pngs=False)
    rc, out, err, rss = run_rss(cli, "eval", "--truth", big, "--pred", big)
    check("manifest declaring 20000x20000x20 without PNGs: exit 1 naming the manifest and "
          "the limit, %.0f MiB used" % rss,
          rc == 1 and one_line_naming(err, "manifest.json", str(IMAGE_SIDE)) and rss < 256,
          err)
    # Voxels at the limit (16384 x 16384 x 8 = 2^31), PNGs missing: the dims pass, the files
    # are looked for before the 2 GiB mask is allocated.
    n = VOXELS // (IMAGE_SIDE * IMAGE_SIDE)
    at = write_stack(os.path.join(tmp, "voxels-at"), [IMAGE_SIDE, IMAGE_SIDE, n], pngs=False)
    rc, out, err, rss = run_rss(cli, "eval", "--truth", at, "--pred", at)
    check("manifest of %d voxels (the limit) without PNGs: exit 1 'missing', %.0f MiB used "
          "(the mask would be 2048)" % (VOXELS, rss),
          rc == 1 and one_line_naming(err, label_name(0, n), "missing") and rss < 256, err)
    past = write_stack(os.path.join(tmp, "voxels-past"), [IMAGE_SIDE, IMAGE_SIDE, n + 1],
                       pngs=False)
    rc, out, err, rss = run_rss(cli, "eval", "--truth", past, "--pred", past)
    check("manifest of %d voxels: exit 1 naming the voxel limit, %.0f MiB used"
          % (IMAGE_SIDE * IMAGE_SIDE * (n + 1), rss),
          rc == 1 and one_line_naming(err, "manifest.json", str(VOXELS)) and rss < 256, err)
    # Slices at the limit (1 x 1 pixels each) and one past.
    at = write_stack(os.path.join(tmp, "slices-at"), [1, 1, SLICES])
    rc, out, err = run(cli, "eval", "--truth", at, "--pred", at)
    check("stack of %d slices (the limit) is read" % SLICES, rc == 0, err)
    past = write_stack(os.path.join(tmp, "slices-past"), [1, 1, SLICES + 1], pngs=False)
    rc, out, err = run(cli, "eval", "--truth", past, "--pred", past)
    check("stack of %d slices: exit 1 naming the manifest and the limit" % (SLICES + 1),
          rc == 1 and one_line_naming(err, "manifest.json", str(SLICES)), err)


def nifti_limits(cli, tmp, ph):
    ct = os.path.join(ph, "ct")
    truth = os.path.join(ph, "truth")
    _, want = stack_pixels(truth)
    nii = os.path.join(tmp, "m.nii")
    rc, out, err = run(cli, "export", ct, "--mask", truth, "--nifti", nii)
    if not check("export --nifti m.nii exits 0", rc == 0, err):
        return
    full = open(nii, "rb").read()
    vox_offset = int(struct.unpack("<f", full[108:112])[0])

    def read_back(path, name):
        out_dir = os.path.join(tmp, "back-" + name)
        rc, out, err = run(cli, "export", ct, "--mask-nifti", path, "--png", out_dir)
        return rc, err, out_dir

    # Exactly the bytes the header asks for (the limit): read back equal to the truth.
    for name, data in (("m.nii", full), ("m.nii.gz", gzip.compress(full))):
        path = os.path.join(tmp, "whole-" + name)
        open(path, "wb").write(data)
        rc, err, out_dir = read_back(path, name)
        check("%s holding every voxel byte is read back equal to the truth" % name,
              rc == 0 and stack_pixels(out_dir)[1] == want, err)

    # The voxels are now read by our code: big-endian files (header and voxels swapped)
    # still come back equal, in an integer and a float type.
    try:
        import nibabel as nib
        import numpy as np
    except ImportError:
        nib = None
    if nib is None:
        print("# skipped: big-endian NIfTI (no nibabel to write them)")
    else:
        im = nib.load(nii)
        data = np.asarray(im.dataobj)
        for dt, name in ((">u2", "be16.nii"), (">f8", "be64.nii.gz")):
            hdr = im.header.as_byteswapped(">")
            hdr.set_data_dtype(np.dtype(dt))
            img = nib.Nifti1Image(data.astype(dt) * 3, im.affine, hdr)
            img.set_sform(im.get_sform(), int(im.header["sform_code"]))
            img.set_qform(im.get_qform(), int(im.header["qform_code"]))
            path = os.path.join(tmp, name)
            nib.save(img, path)
            rc, err, out_dir = read_back(path, name)
            check("big-endian %s (%s) is read back equal to the truth" % (name, dt),
                  rc == 0 and nib.load(path).header.endianness == ">"
                  and stack_pixels(out_dir)[1] == want, err)

    # One byte short, plain and compressed (the compressed stream itself intact).
    for name, data in (("short.nii", full[:-1]), ("short.nii.gz", gzip.compress(full[:-1]))):
        path = os.path.join(tmp, name)
        open(path, "wb").write(data)
        rc, err, _ = read_back(path, name)
        check("%s one voxel byte short: exit 1 naming it, 'truncated'" % name,
              rc == 1 and one_line_naming(err, path, "truncated"), err)
    # A .nii.gz cut in the middle of its compressed stream.
    gz = gzip.compress(full)
    path = os.path.join(tmp, "cut.nii.gz")
    open(path, "wb").write(gz[:len(gz) * 2 // 3])
    rc, err, _ = read_back(path, "cut")
    check("cut.nii.gz (compressed stream cut): exit 1 naming it", rc == 1
          and one_line_naming(err, path, "truncated"), err)

    def patched(name, offset, fmt, value):
        b = bytearray(full)
        struct.pack_into(fmt, b, offset, value)
        path = os.path.join(tmp, name)
        open(path, "wb").write(bytes(b))
        return path

    # vox_offset past the end of the file: the voxels cannot be there.
    path = patched("far.nii", 108, "<f", 1e9)
    rc, err, _ = read_back(path, "far")
    check("vox_offset 1e9 in a %d-byte file: exit 1 naming it" % len(full),
          rc == 1 and one_line_naming(err, path, "truncated"), err)
    path = patched("inside.nii", 108, "<f", 100.0)
    rc, err, _ = read_back(path, "inside")
    check("vox_offset 100 (inside the header): exit 1 naming it",
          rc == 1 and one_line_naming(err, path, "voxel offset"), err)
    # bitpix that does not match the datatype (uint8 stored, 64 bits claimed).
    path = patched("bitpix.nii", 72, "<h", 64)
    rc, err, _ = read_back(path, "bitpix")
    check("bitpix 64 for uint8 voxels: exit 1 naming it", rc == 1
          and one_line_naming(err, path, "bits a voxel"), err)
    # dims declaring 32767 slices: refused from the header (the series has 8).
    path = patched("dims.nii", 46, "<h", 32767)
    rc, err, _ = read_back(path, "dims")
    check("dim[3] 32767: exit 1 naming it and the series' size", rc == 1
          and one_line_naming(err, path, "32767"), err)
    check("(the test's NIfTI has its voxels at byte 352)", vox_offset == 352, vox_offset)


def stack_pixels(d):
    m = json.load(open(os.path.join(d, "manifest.json")))
    return m, [read_png_gray8(os.path.join(d, s["file"]))[2] for s in m["slices"]]


def option_limits(cli, tmp, ph):
    missing = os.path.join(tmp, "no-such-series")
    model_missing = os.path.join(tmp, "no-such-model.safetensors")
    stack = os.path.join(ph, "truth")
    # (command and arguments that fail fast with exit 1 once the options are accepted,
    #  option, lowest, highest, whole numbers?)
    base = {
        "info": ["info", missing],
        "segment": ["segment", missing, "--out", os.path.join(tmp, "o")],
        "export": ["export", missing, "--png", os.path.join(tmp, "o")],
        "mesh": ["mesh", missing, "--out", os.path.join(tmp, "o.stl")],
        "eval": ["eval", "--truth", missing, "--pred", stack],
        "phantom": ["phantom", "/dev/null/phantom"],
        "train": ["train", "--data", missing, "--masks", stack, "--out",
                  os.path.join(tmp, "m.safetensors")],
        "predict": ["predict", missing, "--model", model_missing, "--out",
                    os.path.join(tmp, "o")],
    }
    table = [("info", "threads", 0, THREADS, True),
             ("segment", "threads", 0, THREADS, True),
             ("segment", "threshold", -HU, HU, False),
             ("segment", "upper", -HU, HU, False),
             ("segment", "min-volume", 0, 1e9, False),
             ("export", "threads", 0, THREADS, True),
             ("export", "threshold", -HU, HU, False),
             ("mesh", "threads", 0, THREADS, True),
             ("mesh", "threshold", -HU, HU, False),
             ("mesh", "above", -HU, HU, False),
             ("mesh", "smooth", 0, 1000, True),
             ("mesh", "max-triangles", 0, 2**32 - 1, True),
             ("mesh", "component", 0, 2**31 - 1, True),
             ("eval", "threads", 0, THREADS, True),
             ("phantom", "slices", 1, 4096, True),
             ("phantom", "size", 16, 4096, True),
             ("phantom", "noise", 0, 10000, False),
             ("phantom", "tilt", -90, 90, False),
             ("phantom", "variant", 0, 2**31 - 1, True),
             ("phantom", "seed", 0, 2**63 - 1, True),
             ("phantom", "threads", 0, THREADS, True),
             ("train", "epochs", 1, EPOCHS, True),
             ("train", "time-budget", 1e-3, 30 * 86400, False),
             ("train", "steps-per-epoch", 1, STEPS_PER_EPOCH, True),
             ("train", "blocks", 2, SLICES, True),
             ("train", "val-block", 0, SLICES - 1, True),
             ("train", "guard", 0, SLICES, True),
             ("train", "depth", 1, 6, True),
             ("train", "width", 1, 4096, True),
             ("train", "batch", 1, TRAIN_BATCH, True),
             ("train", "patch", 1, PATCH, True),
             ("train", "lr", 1e-9, 1, False),
             ("train", "seed", 0, 2**63 - 1, True),
             ("train", "threads", 0, THREADS, True),
             ("predict", "batch", 1, PREDICT_BATCH, True),
             ("predict", "threads", 0, THREADS, True)]
    for command, option, lo, hi, whole in table:
        args = list(base[command])
        # The other factors of a size stay small while one is at its limit.
        small = {"phantom": {"size": 16, "slices": 1},
                 "train": {"batch": 1, "patch": 16, "width": 1}}.get(command, {})
        for k, v in small.items():
            if k != option:
                args += ["--" + k, v]
        if option == "upper":
            args += ["--threshold", -HU]  # --upper may not be below it
        fmt = (lambda v: "%d" % v) if whole else (lambda v: repr(float(v)))
        accepted = []
        for v in (lo, hi):
            rc, out, err = run(cli, *(args + ["--" + option, fmt(v)]))
            if rc == 2 or not no_signal(rc):
                accepted.append((fmt(v), rc, err))
        check("%s --%s %s and %s (the limits) are accepted" % (command, option, fmt(lo),
                                                                 fmt(hi)),
              not accepted, accepted)
        below = lo - 1 if whole else lo - max(abs(lo), 1) * 0.5
        above = hi + 1 if whole else hi * 2 if hi > 0 else hi + 1
        for v in (below, above):
            rc, out, err = run(cli, *(args + ["--" + option, fmt(v)]))
            range_text = ("%d to %d" if whole else "%g to %g") % (lo, hi)
            check("%s --%s %s: exit 2 naming the option and the range" % (command, option,
                                                                         fmt(v)),
                  rc == 2 and one_line_naming(err, "--" + option, range_text), err)
        if not whole:
            for v in ("nan", "inf"):
                rc, out, err = run(cli, *(args + ["--" + option, v]))
                check("%s --%s %s: exit 2 naming the option" % (command, option, v),
                      rc == 2 and one_line_naming(err, "--" + option, "not a number"), err)

    # The examples, and what the limits let through run for real.
    for args in (["info", os.path.join(ph, "ct"), "--threads", 100000],
                 ["train", "--data", os.path.join(ph, "ct"), "--masks", stack, "--out",
                  os.path.join(tmp, "m2.safetensors"), "--batch", 1000000],
                 ["train", "--data", os.path.join(ph, "ct"), "--masks", stack, "--out",
                  os.path.join(tmp, "m3.safetensors"), "--patch", 100000]):
        rc, out, err = run(cli, *args)
        check("%s %s %s: exit 2 naming the option" % (args[0], args[-2], args[-1]),
              rc == 2 and one_line_naming(err, args[-2], "out of range"), err)
    rc, out, err = run(cli, "info", os.path.join(ph, "ct"), "--threads", THREADS)
    check("info --threads %d on a real series: exit 0" % THREADS, rc == 0, err)
    env = dict(os.environ, OMP_NUM_THREADS="100000")
    p = subprocess.run([cli, "info", os.path.join(ph, "ct")], capture_output=True,
                       text=True, env=env, timeout=300)
    check("OMP_NUM_THREADS=100000 info: exit 0 (held to %d threads)" % THREADS,
          p.returncode == 0, p.stderr)
    # A training step over the memory limit, each factor within its own range.
    for batch, patch, width, ok in ((TRAIN_STEP // (128 * 128 * 8), 128, 8, True),
                                    (TRAIN_STEP // (128 * 128 * 8) + 1, 128, 8, False)):
        rc, out, err = run(cli, *(base["train"] + ["--batch", batch, "--patch", patch,
                                                   "--width", width]))
        if ok:
            check("train --batch %d --patch %d --width %d (%d values a step, the limit) is "
                  "accepted" % (batch, patch, width, batch * patch * patch * width),
                  rc == 1 and no_signal(rc), err)
        else:
            check("train --batch %d --patch %d --width %d: exit 2 naming the step limit"
                  % (batch, patch, width),
                  rc == 2 and one_line_naming(err, "--batch", str(TRAIN_STEP)), err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mm-limits-test-")
    try:
        ph = os.path.join(tmp, "ph")
        rc, out, err = run(a.cli, "phantom", ph, "--size", 64, "--slices", 8)
        if check("phantom 64 x 64 x 8 written", rc == 0, err):
            json_limits(a.cli, tmp, ph)
            model_limits(a.cli, tmp, ph, a.model)
            model_size_limits(a.cli, tmp, ph, a.model)
            png_limits(a.cli, tmp, ph)
            manifest_limits(a.cli, tmp)
            nifti_limits(a.cli, tmp, ph)
            option_limits(a.cli, tmp, ph)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
