#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile values in otherwise valid DICOM files (issue 10, "wrong results and what the numbers
are"): NaN or degenerate orientation, absurd pixel spacing, values that are not HU, Secondary
Capture images, Pixel Padding Range Limit, terminal escapes in strings. Every JSON output is
parsed strictly (no NaN/Infinity, valid UTF-8); numbers are checked against pydicom + numpy
(and nibabel for the NIfTI affine). The series are made from the phantom with pydicom. TAP."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings

import nibabel
import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.tag import Tag

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish  # noqa: E402

CLI = None
TMP = None
PHANTOM = None  # the phantom's DICOM folder


def run(*args):
    """(exit code, stdout bytes, stderr bytes): bytes, so invalid UTF-8 is seen, not hidden."""
    p = subprocess.run([CLI] + [str(a) for a in args], capture_output=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def strict_json(data):
    """The parsed JSON, or an exception: invalid UTF-8, NaN/Infinity literals, "nan.0"..."""
    def no_constant(name):
        raise ValueError("non-standard JSON constant " + name)
    return json.loads(data.decode("utf-8", errors="strict"), parse_constant=no_constant)


def try_json(data):
    try:
        return strict_json(data), ""
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        return None, "%s: %r" % (e, data[:300])


def files_of(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".dcm"))


def raw(ds, tag, vr, text):
    """Set tag to exactly these bytes (pydicom would validate or reformat a parsed value)."""
    b = text.encode("latin-1") if isinstance(text, str) else text
    if len(b) % 2:
        b += b" "
    ds[tag] = RawDataElement(Tag(tag), vr, len(b), b, 0, False, True)


def make(name, fn, src=None):
    """A copy of the phantom series with fn(ds, k) applied to each slice k."""
    out = os.path.join(TMP, name)
    os.makedirs(out)
    for k, f in enumerate(files_of(src or PHANTOM)):
        ds = pydicom.dcmread(f)
        fn(ds, k)
        ds.save_as(os.path.join(out, os.path.basename(f)))
    return out


def hu_volume(folder):
    """(stored, HU) arrays [k][j][i] ordered along the normal, independently of metalmark."""
    dss = [pydicom.dcmread(f) for f in files_of(folder)]
    dss.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    stored = np.stack([d.pixel_array.astype(np.float64) for d in dss])
    slope = float(dss[0].RescaleSlope)
    icpt = float(dss[0].RescaleIntercept)
    return stored, stored * slope + icpt, dss


CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def no_control(data):
    """No C0 (but tab/newline between lines), DEL or C1 control in output bytes."""
    m = CONTROL.search(data)
    return m is None, ("control byte at %d: %r" % (m.start(), data[max(0, m.start() - 40):
                                                                  m.start() + 40]) if m else "")


# ---- 1 and 2: JSON and geometry ------------------------------------------------------------

def test_orientation():
    cases = {
        "nan": "nan\\nan\\nan\\nan\\nan\\nan",
        "half-nan": "1\\0\\0\\0\\nan\\0",
        "parallel": "1\\0\\0\\1\\0\\0",
    }
    for label, iop in cases.items():
        d = make("iop-" + label, lambda ds, k, v=iop: raw(ds, 0x00200037, "DS", v))
        rc, out, err = run("info", "--json", d)
        j, why = try_json(out)
        check("orientation %s: info --json exits 0 and is strict JSON" % label,
              rc == 0 and j is not None, why + err.decode(errors="replace"))
        if j is None:
            continue
        check("orientation %s: the axial identity the warning names is the one used" % label,
              j["orientation_row"] == [1, 0, 0] and j["orientation_column"] == [0, 1, 0]
              and j["orientation_normal"] == [0, 0, 1], json.dumps(j)[:400])
        first = os.path.basename(files_of(d)[0])
        warned = [w for w in j["warnings"] if "(0020,0037)" in w and "axial" in w]
        check("orientation %s: a warning names a file and (0020,0037)" % label,
              warned and any(os.path.basename(f) in warned[0] for f in files_of(d)),
              "\n".join(j["warnings"]) + "\nfirst file " + first)

    # What is exported is what was said: the NIfTI affine and the SEG's orientation.
    d = os.path.join(TMP, "iop-nan")
    stored, hu, dss = hu_volume(d)
    nii = os.path.join(TMP, "iop-nan.nii.gz")
    seg = os.path.join(TMP, "iop-nan-seg.dcm")
    rc, out, err = run("export", d, "--nifti", nii, "--seg", seg)
    check("orientation nan: export --nifti --seg exits 0", rc == 0, err.decode(errors="replace"))
    if rc == 0:
        aff = nibabel.load(nii).affine
        ps = [float(v) for v in dss[0].PixelSpacing]
        z = [float(x.ImagePositionPatient[2]) for x in dss]
        dz = (z[-1] - z[0]) / (len(z) - 1)
        ipp = [float(v) for v in dss[0].ImagePositionPatient]
        want = np.array([[-ps[1], 0, 0, -ipp[0]], [0, -ps[0], 0, -ipp[1]], [0, 0, dz, ipp[2]],
                         [0, 0, 0, 1]])
        check("orientation nan: NIfTI affine is finite and the axial one (LPS->RAS)",
              np.all(np.isfinite(aff)) and np.allclose(aff, want, atol=1e-3),
              "got\n%s\nwant\n%s" % (aff, want))
        s = pydicom.dcmread(seg)
        iop = [float(v) for v in s.SharedFunctionalGroupsSequence[0]
               .PlaneOrientationSequence[0].ImageOrientationPatient]
        check("orientation nan: the SEG's Image Orientation (Patient) is 1\\0\\0\\0\\1\\0",
              iop == [1, 0, 0, 0, 1, 0], str(iop))

    # The label stack manifest of that series: strict JSON, z from the positions.
    out_dir = os.path.join(TMP, "iop-nan-stack")
    rc, out, err = run("segment", d, "--out", out_dir, "--json")
    j, why = try_json(out)
    check("orientation nan: segment --json is strict JSON", rc == 0 and j is not None,
          why + err.decode(errors="replace"))
    mpath = os.path.join(out_dir, "manifest.json")
    j, why = try_json(open(mpath, "rb").read()) if os.path.exists(mpath) else (None, "none")
    check("orientation nan: segment's manifest is strict JSON", rc == 0 and j is not None,
          why + err.decode(errors="replace"))
    if j:
        zs = sorted(s["z_mm"] for s in j["slices"])
        check("orientation nan: manifest z_mm are the IPP z (axial normal)",
              np.allclose(zs, sorted(z), atol=1e-6), "%s vs %s" % (zs, sorted(z)))


def test_spacing():
    for label, value in [("zero", "0\\0"), ("negative", "-0.5\\-0.5"), ("nan", "nan\\nan"),
                         ("1e-170", "1e-170\\1e-170"), ("1e300", "1e300\\1e300"),
                         ("1e20", "1e20\\1e20"),
                         ("one-value", "0.7")]:
        d = make("ps-" + label, lambda ds, k, v=value: raw(ds, 0x00280030, "DS", v))
        rc, out, err = run("info", "--json", d)
        j, why = try_json(out)
        check("spacing %s: info --json exits 0 and is strict JSON" % label,
              rc == 0 and j is not None, why + err.decode(errors="replace"))
        if j is None:
            continue
        check("spacing %s: 1 x 1 mm is what the warning says and what is used" % label,
              j["spacing_mm"][:2] == [1, 1], str(j["spacing_mm"]))
        warned = [w for w in j["warnings"] if "(0028,0030)" in w and "1 x 1 mm" in w]
        check("spacing %s: a warning names a file and (0028,0030)" % label,
              warned and any(os.path.basename(f) in warned[0] for f in files_of(d)),
              "\n".join(j["warnings"]))

    # Slices 1e200 mm apart by their positions: no slice spacing to assume, refused.
    d = make("ipp-1e200", lambda ds, k: raw(ds, 0x00200032, "DS", "0\\0\\%de200" % k))
    rc, out, err = run("info", "--json", d)
    check("positions 1e200 mm apart: info refuses (exit 1) naming (0020,0032)",
          rc == 1 and b"(0020,0032)" in err and out == b"",
          "rc %d\n%s\n%s" % (rc, out[:300], err.decode(errors="replace")))

    # 1e-170 through segment and eval: the distance transform sees 1 mm, never 0.
    d = os.path.join(TMP, "ps-1e-170")
    stack = os.path.join(TMP, "ps-1e-170-stack")
    rc, _, err = run("segment", d, "--out", stack)
    check("spacing 1e-170: segment exits 0", rc == 0, err.decode(errors="replace"))
    rc, out, err = run("eval", "--truth", stack, "--pred", stack, "--json")
    j, why = try_json(out)
    check("spacing 1e-170: eval --json of the stack against itself is strict JSON, Dice 1, "
          "spacing 1 mm", rc == 0 and j is not None and j["dice"] == 1.0
          and j["spacing_mm"][:2] == [1, 1], why + err.decode(errors="replace"))

    # A manifest that says 1e-170 (or 1e200) itself is refused by eval, not fed to the EDT.
    for label, sp in [("1e-170", 1e-170), ("1e200", 1e200)]:
        bad = os.path.join(TMP, "stack-" + label)
        shutil.copytree(os.path.join(os.path.dirname(PHANTOM), "truth"), bad)
        mpath = os.path.join(bad, "manifest.json")
        m = json.load(open(mpath))
        m["spacing_mm"] = [sp, sp, sp]
        json.dump(m, open(mpath, "w"))
        rc, out, err = run("eval", "--truth", bad, "--pred", bad, "--json")
        check("manifest spacing %s: eval exits 1 naming the spacing" % label,
              rc == 1 and b"spacing" in err and out == b"",
              "rc %d\n%s\n%s" % (rc, out[:300], err.decode(errors="replace")))


def test_json_numbers():
    # A uniform series, all of it padding: mean without padding is null, not nan.0.
    def uniform(ds, k):
        a = ds.pixel_array
        a[:] = 24
        ds.PixelData = a.tobytes()
        ds.add_new(0x00280120, "SS", 24)
    d = make("uniform-padding", uniform)
    rc, out, err = run("info", "--json", d)
    j, why = try_json(out)
    check("uniform padding: info --json is strict JSON", rc == 0 and j is not None,
          why + err.decode(errors="replace"))
    if j:
        check("uniform padding: every voxel padding, mean_without_padding null",
              j["padding_voxels"] == j["voxels"] == 64 * 64 * 8
              and j["mean_without_padding"] is None, json.dumps(j)[:600])
    rc, out, err = run("info", d)
    check("uniform padding: info text says n/a", rc == 0 and b"n/a" in out, out[-600:])

    # Number options must be finite: exit 2, nothing written.
    for opt, val in [("--threshold", "nan"), ("--threshold", "inf"), ("--upper", "inf"),
                     ("--min-volume", "nan")]:
        out_dir = os.path.join(TMP, "seg-opt-%s-%s" % (opt.strip("-"), val))
        rc, out, err = run("segment", PHANTOM, "--out", out_dir, opt, val)
        check("segment %s %s: usage error (exit 2), nothing written" % (opt, val),
              rc == 2 and not os.path.exists(out_dir),
              "rc %d\n%s" % (rc, err.decode(errors="replace")))


# ---- 3: what the numbers are ---------------------------------------------------------------

MR_SOP = "1.2.840.10008.5.1.4.1.1.4"
SC_SOP = "1.2.840.10008.5.1.4.1.1.7"


def set_sop_class(ds, uid):
    ds.SOPClassUID = uid
    ds.file_meta.MediaStorageSOPClassUID = uid


def test_units():
    rc, out, err = run("info", "--json", PHANTOM)
    j, why = try_json(out)
    check("phantom (CT, Rescale Type HU): unit HU", j is not None and j.get("unit") == "HU",
          why + (json.dumps(j)[:300] if j else ""))

    def mr(ds, k):
        set_sop_class(ds, MR_SOP)
        ds.Modality = "MR"
        del ds[0x00281054]
    d = make("mr", mr)
    rc, out, err = run("info", "--json", d)
    j, why = try_json(out)
    check("MR without Rescale Type: unit 'stored values'",
          j is not None and j.get("unit") == "stored values",
          why + (json.dumps(j)[:300] if j else ""))
    rc, out, err = run("info", d)
    rows = [l for l in out.splitlines() if re.match(rb"(Maximum|Minimum|Mean)", l)]
    check("MR: info text prints no HU figure",
          rc == 0 and len(rows) == 4 and not any(b"HU" in l for l in rows)
          and all(l.endswith(b"stored values") or b"stored values (" in l for l in rows),
          out.decode(errors="replace"))
    rc, out, err = run("segment", d, "--out", os.path.join(TMP, "mr-stack"))
    check("MR: segment refuses without --force (exit 1, says not HU, nothing written)",
          rc == 1 and b"not HU" in err and not os.path.exists(os.path.join(TMP, "mr-stack")),
          "rc %d\n%s" % (rc, err.decode(errors="replace")))

    model = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data",
                         "models", "metalmark-default.safetensors")
    stack = os.path.join(TMP, "mr-predicted")
    rc, out, err = run("predict", d, "--out", stack, "--model", model)
    check("MR: predict refuses without --force (exit 1, says not HU, nothing written)",
          rc == 1 and b"not HU" in err and not os.path.exists(stack),
          "rc %d\n%s" % (rc, err.decode(errors="replace")))

    d = make("ct-us", lambda ds, k: raw(ds, 0x00281054, "LO", "US"))
    rc, out, err = run("info", "--json", d)
    j, why = try_json(out)
    check("CT with Rescale Type US: unit US", j is not None and j.get("unit") == "US", why)

    # As the seed CT: no Modality, CT only in the meta header's SOP class, no Rescale Type.
    def bare(ds, k):
        del ds[0x00080060]
        del ds[0x00080016]
        del ds[0x00281054]
    d = make("ct-bare", bare)
    rc, out, err = run("info", "--json", d)
    j, why = try_json(out)
    check("no Modality, CT SOP class in the meta header, no Rescale Type: unit HU",
          j is not None and j.get("unit") == "HU", why + err.decode(errors="replace"))

    def sc(ds, k):
        set_sop_class(ds, SC_SOP)
        ds.Modality = "OT"
    d = make("secondary-capture", sc)
    rc, out, err = run("info", "--json", d)
    j, why = try_json(out)
    check("Secondary Capture: a warning says it is not a CT acquisition, info names it",
          j is not None and any("Secondary Capture" in w and "not a CT" in w
                                for w in j["warnings"])
          and j.get("not_a_ct_volume") and SC_SOP in j["not_a_ct_volume"],
          why + (json.dumps(j)[:800] if j else ""))

    def derived(ds, k):
        ds.ImageType = ["DERIVED", "SECONDARY", "SCREENSHOT"]
    d2 = make("derived-secondary", derived)
    stack = os.path.join(TMP, "derived-stack")
    rc, out, err = run("segment", d2, "--out", stack)
    check("CT with Image Type DERIVED\\SECONDARY: segment refuses without --force (exit 1)",
          rc == 1 and b"not a CT volume" in err and not os.path.exists(stack),
          "rc %d\n%s" % (rc, err.decode(errors="replace")))
    rc, out, err = run("segment", d2, "--out", stack, "--force")
    m = json.load(open(os.path.join(stack, "manifest.json"))) if rc == 0 else {}
    check("DERIVED\\SECONDARY with --force: segments, warns, the manifest records the values",
          rc == 0 and b"--force" in err and m.get("parameters", {}).get("values") == "HU",
          "rc %d\n%s" % (rc, err.decode(errors="replace")))
    # A derived axial CT (what `mar` writes, a scanner's reformat): HU on the grid, a CT volume.
    def derived_axial(ds, k):
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    d3 = make("derived-axial", derived_axial)
    rc, out, err = run("info", "--json", d3)
    j, why = try_json(out)
    check("CT with Image Type DERIVED\\SECONDARY\\AXIAL: a CT volume in HU, not flagged",
          j is not None and j.get("unit") == "HU" and not j.get("not_a_ct_volume")
          and not any("not a CT" in w for w in j["warnings"]),
          why + (json.dumps(j)[:800] if j else ""))
    stack3 = os.path.join(TMP, "derived-axial-stack")
    rc, out, err = run("segment", d3, "--out", stack3)
    check("DERIVED\\SECONDARY\\AXIAL: segment runs without --force",
          rc == 0 and b"--force" not in err, "rc %d\n%s" % (rc, err.decode(errors="replace")))

    # A vendor's MIP slab says so after AXIAL: a rendering, not measurements.
    def mip_axial(ds, k):
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL", "MIP"]
    d5 = make("derived-axial-mip", mip_axial)
    rc, out, err = run("info", "--json", d5)
    j, why = try_json(out)
    check("CT with Image Type DERIVED\\SECONDARY\\AXIAL\\MIP: flagged as not a CT volume",
          j is not None and j.get("not_a_ct_volume"), why + (json.dumps(j)[:800] if j else ""))

    def sc_axial(ds, k):
        set_sop_class(ds, SC_SOP)
        ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    d4 = make("sc-derived-axial", sc_axial)
    rc, out, err = run("info", "--json", d4)
    j, why = try_json(out)
    check("Secondary Capture with Image Type DERIVED\\SECONDARY\\AXIAL: still not a CT volume",
          j is not None and j.get("not_a_ct_volume") and SC_SOP in j["not_a_ct_volume"],
          why + (json.dumps(j)[:800] if j else ""))

    rc, out, err = run("export", d, "--nifti", os.path.join(TMP, "sc.nii.gz"))
    check("Secondary Capture: export --segment refuses without --force (exit 1)",
          rc == 1 and not os.path.exists(os.path.join(TMP, "sc.nii.gz")),
          "rc %d\n%s" % (rc, err.decode(errors="replace")))


# ---- 4: Pixel Padding Range Limit ----------------------------------------------------------

def test_padding_range():
    # Stored values are HU + 1024, signed. Padding is stored -1100 .. -1000 (range limit
    # given below the value, as the standard allows either order); a block of each slice is
    # filled with values across that range so that a single padding value would miss most.
    rng = np.random.default_rng(10)

    def pad(ds, k):
        a = ds.pixel_array.copy()
        a[:6, :] = rng.integers(-1100, -999, size=(6, a.shape[1]), dtype=np.int16)
        ds.PixelData = a.astype(np.int16).tobytes()
        ds.add_new(0x00280120, "SS", -1000)
        ds.add_new(0x00280121, "SS", -1100)
    d = make("padding-range", pad)
    stored, hu, _ = hu_volume(d)
    is_pad = (stored >= -1100) & (stored <= -1000)
    want_n = int(is_pad.sum())
    want_mean = float(hu[~is_pad].mean())
    rc, out, err = run("info", "--json", d)
    j, why = try_json(out)
    check("padding range: info --json is strict JSON", rc == 0 and j is not None, why)
    if j:
        check("padding range: padding_voxels = voxels with stored value in [-1100, -1000] "
              "(numpy: %d)" % want_n, j["padding_voxels"] == want_n,
              "got %s" % j["padding_voxels"])
        check("padding range: mean_without_padding equals numpy's (%.6f)" % want_mean,
              j["mean_without_padding"] is not None
              and abs(j["mean_without_padding"] - want_mean) < 1e-9,
              "got %r" % j["mean_without_padding"])
        check("padding range: padding_range is [-2124, -2024] HU",
              j.get("padding_range") == [-2124, -2024], str(j.get("padding_range")))


# ---- 5: terminal escapes -------------------------------------------------------------------

EVIL = "evil\x1b]0;pwned\x07\x1b[2J\x1b[31mred\u009b1m\u202eabc\x7fend"


def test_escapes():
    def evil(ds, k):
        ds.SpecificCharacterSet = "ISO_IR 192"
        raw(ds, 0x0008103E, "LO", EVIL.encode("utf-8"))
    d = make("escapes", evil)
    # A second series of one file, its description invalid UTF-8 and escapes, in the same
    # folder: named on stderr as "also found".
    other = pydicom.dcmread(files_of(PHANTOM)[0])
    other.SeriesInstanceUID = "2.25.1234"
    raw(other, 0x0008103E, "LO", b"latin1 \xe9\x1b[2J")
    other.save_as(os.path.join(d, "other.dcm"))

    rc, out, err = run("info", d)
    ok_out, why_out = no_control(out)
    ok_err, why_err = no_control(err)
    check("escapes: info text on stdout has no control character", rc == 0 and ok_out, why_out)
    check("escapes: warnings and 'also found' on stderr have no control character",
          rc == 0 and ok_err and b"also found" in err, why_err + err.decode(errors="replace"))
    check("escapes: the description is still shown (controls replaced, text kept)",
          b"red" in out and b"end" in out and "\ufffd".encode() in out, out[:400])

    rc, out, err = run("info", "--json", d)
    j, why = try_json(out)
    check("escapes: info --json is strict JSON (valid UTF-8)", rc == 0 and j is not None, why)
    if j:
        texts = [j["series_description"]] + [s["description"] or "" for s in j["series_found"]]
        bad = [t for t in texts if re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e]", t)]
        check("escapes: no control character in JSON string values either", not bad,
              repr(bad))
        check("escapes: JSON output bytes hold no raw ESC or C1", b"\x1b" not in out
              and re.search(rb"\xc2[\x80-\x9f]", out) is None, out[:300])


def main():
    global CLI, TMP, PHANTOM
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    CLI = os.path.abspath(args.cli)
    # pydicom's own complaints about the hostile values it is asked to write.
    warnings.simplefilter("ignore")
    pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE
    pydicom.config.settings.writing_validation_mode = pydicom.config.IGNORE
    with tempfile.TemporaryDirectory(prefix="mm-values-") as tmp:
        TMP = tmp
        rc, _, err = run("phantom", os.path.join(tmp, "phantom"), "--size", 64, "--slices", 8)
        if not check("phantom written", rc == 0, err.decode(errors="replace")):
            return finish()
        PHANTOM = os.path.join(tmp, "phantom", "ct")
        for t in (test_orientation, test_spacing, test_json_numbers, test_units,
                  test_padding_range, test_escapes):
            try:
                t()
            except Exception:  # noqa: BLE001 - reported, and the other groups still run
                check("%s ran to the end" % t.__name__, False, traceback.format_exc())
    return finish()


if __name__ == "__main__":
    sys.exit(main())
