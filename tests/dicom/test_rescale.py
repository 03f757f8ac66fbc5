#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stored values to HU for the header kinds real series use (issue 12): intercept -1024 signed
and unsigned, an integer slope, a non-integer slope and intercept (float HU), 12 stored bits
with garbage above them. For each, every voxel `metalmark-cli export --ct-nifti` writes and
the figures of `info --json` must equal an independent computation with pydicom + numpy
(stored bits masked and sign-extended by numpy here, rescaled in float64). The series are made
from a noisy phantom with pydicom. TAP."""

import argparse
import json
import os
import sys
import tempfile
import traceback
import warnings

import nibabel
import numpy as np
import pydicom

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run  # noqa: E402

CLI = None
TMP = None


def files_of(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".dcm"))


def phantom_hu(folder):
    """The phantom's HU per file, by pydicom (the phantom omits Photometric Interpretation)."""
    out = []
    for f in files_of(folder):
        ds = pydicom.dcmread(f)
        ds.PhotometricInterpretation = "MONOCHROME2"
        hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) \
            + float(ds.RescaleIntercept)
        out.append((f, ds, hu))
    return out


def write_variant(name, source, slope, icpt, signed, bits_stored=16, garbage=False,
                  low_spot=False):
    """The phantom with stored = round((HU - icpt) / slope) in the given encoding; low_spot
    puts a few voxels below the padding inside the body (so the padding is not the volume's
    minimum, and the figures cannot come from per-slice minima)."""
    out = os.path.join(TMP, name)
    os.makedirs(out)
    rng = np.random.default_rng(12)
    for f, ds, hu in source:
        if low_spot:
            hu = hu.copy()
            hu[30:33, 30:33] = -3000
        st = np.rint((hu - icpt) / slope)
        lo, hi = (-(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1) if signed \
            else (0, (1 << bits_stored) - 1)
        st = np.clip(st, lo, hi).astype(np.int64)
        raw = st & ((1 << bits_stored) - 1)  # two's complement in the stored bits
        if garbage:
            # Bits above Bits Stored are not part of the value (PS3.5 8.1.1): fill them.
            raw |= rng.integers(0, 1 << (16 - bits_stored), size=raw.shape) << bits_stored
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, bits_stored, bits_stored - 1
        ds.PixelRepresentation = 1 if signed else 0
        ds.RescaleSlope, ds.RescaleIntercept = slope, icpt
        for tag in ("PixelPaddingValue", "SmallestImagePixelValue", "LargestImagePixelValue"):
            if tag in ds:
                del ds[tag]
        ds.PixelData = raw.astype(np.uint16).tobytes()
        ds.save_as(os.path.join(out, os.path.basename(f)))
    return out


def truth(folder):
    """HU [k][j][i] ordered along the normal, from the raw bytes: numpy masks the stored bits
    and sign-extends them itself (not trusting any reader), then rescales in float64."""
    dss = [pydicom.dcmread(f) for f in files_of(folder)]
    dss.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    vols = []
    for d in dss:
        raw = np.frombuffer(d.PixelData, dtype="<u2").astype(np.int64)
        raw = raw.reshape(int(d.Rows), int(d.Columns))
        bits = int(d.BitsStored)
        v = raw & ((1 << bits) - 1)
        if int(d.PixelRepresentation) == 1:
            v = np.where(v >= 1 << (bits - 1), v - (1 << bits), v)
        vols.append(v.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept))
    return np.stack(vols)


def check_kind(name, folder, want_float):
    hu = truth(folder)
    nii = os.path.join(TMP, name + ".nii.gz")
    rc, _, err = run(CLI, "export", folder, "--ct-nifti", nii)
    if not check("%s: export --ct-nifti" % name, rc == 0, err):
        return
    a = np.asarray(nibabel.load(nii).dataobj).transpose(2, 1, 0)
    check("%s: voxels are %s" % (name, "float32" if want_float else "int16"),
          a.dtype == (np.float32 if want_float else np.int16), str(a.dtype))
    if want_float:
        want = hu.astype(np.float32)  # the float nearest the exact value
        same = a.shape == want.shape and np.array_equal(a, want)
    else:
        want = np.rint(hu)
        same = a.shape == want.shape and np.array_equal(a.astype(np.float64), want)
    diff = "" if same or a.shape != want.shape else \
        "max |difference| %g at %s" % (np.abs(a - want).max(),
                                        np.unravel_index(np.abs(a - want).argmax(), a.shape))
    check("%s: every voxel equals pydicom + numpy's HU" % name, same,
          diff or "shapes %s %s" % (a.shape, want.shape))

    rc, out, err = run(CLI, "info", "--json", folder)
    if not check("%s: info --json" % name, rc == 0, err):
        return
    j = json.loads(out)
    h = hu if want_float else np.rint(hu)
    if want_float:
        h = h.astype(np.float32).astype(np.float64)
    pad = j.get("padding_value")
    is_pad = np.zeros(h.shape, bool)
    if pad is not None:
        is_pad = (h > pad - 0.5) & (h < pad + 0.5) if want_float else h == pad
    figures = {
        "max": h.max(), "min": h.min(), "mean": h.mean(),
        "mean_without_padding": h[~is_pad].mean() if (~is_pad).any() else None,
    }
    for key, v in figures.items():
        got = j.get(key)
        check("%s: info %s equals numpy's (%r)" % (name, key, v),
              got is not None and v is not None and abs(got - v) <= 1e-9 * max(1, abs(v)),
              "got %r" % got)
    check("%s: info padding_voxels equals numpy's count (%d)" % (name, int(is_pad.sum())),
          j.get("padding_voxels", 0) == int(is_pad.sum()), "got %r" % j.get("padding_voxels"))


def main():
    global CLI, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    CLI = os.path.abspath(ap.parse_args().cli)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="mm-rescale-") as tmp:
        TMP = tmp
        ph = os.path.join(tmp, "phantom")
        rc, _, err = run(CLI, "phantom", ph, "--size", 64, "--slices", 6, "--noise", 25)
        if not check("phantom written", rc == 0, err):
            return finish()
        src = phantom_hu(os.path.join(ph, "ct"))
        kinds = [
            ("intercept -1024 signed", dict(slope=1, icpt=-1024, signed=True), False),
            ("intercept -1024 unsigned", dict(slope=1, icpt=-1024, signed=False), False),
            ("slope 2 intercept -1024", dict(slope=2, icpt=-1024, signed=True), False),
            ("voxels below the padding", dict(slope=1, icpt=-1024, signed=True, low_spot=True),
             False),
            ("slope 0.37 intercept -1024.3", dict(slope=0.37, icpt=-1024.3, signed=True),
             True),
            ("12 stored bits, garbage above", dict(slope=1, icpt=-1024, signed=True,
                                                   bits_stored=12, garbage=True), False),
            ("12 stored bits unsigned, slope 1.5",
             dict(slope=1.5, icpt=-1024, signed=False, bits_stored=12, garbage=True), True),
        ]
        for i, (name, kw, want_float) in enumerate(kinds):
            try:
                check_kind(name, write_variant("v%d" % i, src, **kw), want_float)
            except Exception:  # noqa: BLE001 - reported, and the other kinds still run
                check("%s ran to the end" % name, False, traceback.format_exc())
    return finish()


if __name__ == "__main__":
    sys.exit(main())
