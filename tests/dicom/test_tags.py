#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli tags (the tags browser's dump, issue 13) against pydicom on the same file:
strings, numbers, a sequence's items, a private tag named by GDCM's private dictionary, in
explicit and implicit VR. Hostile dumps: sequences nested deeper than the cap, a 16 MB value,
100 000 items: bounded output, a clear error or a cut marked as such, never a crash. And
pydicom's own test files (big endian, implicit, deflated, compressed): every top-level value
that is not binary equals pydicom's. TAP."""

import argparse
import json
import os
import sys
import tempfile
import traceback
import warnings

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run  # noqa: E402

CLI = None


def tags_json(path, *extra):
    rc, out, err = run(CLI, "tags", "--json", path, *extra)
    return rc, (json.loads(out) if rc == 0 else None), err


def find(elements, tag):
    for e in elements:
        if e["tag"] == tag:
            return e
    return None


def expected_text(elem):
    """pydicom's value as the dump writes it: values joined by '\\', numbers as numbers."""
    v = elem.value
    if isinstance(v, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(x) for x in v)
    return str(v)


def as_text(v):
    """pydicom gives an implicit VR element it cannot name as bytes (VR UN)."""
    return v.decode("ascii").rstrip(" \0") if isinstance(v, bytes) else str(v)


def enrich(path_in, path_out, implicit):
    ds = pydicom.dcmread(path_in)
    item1, item2 = Dataset(), Dataset()
    item1.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item1.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.1"
    item2.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item2.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.2"
    ds.ReferencedImageSequence = Sequence([item1, item2])
    ds.PatientName = "Doe^Jane^Q"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    # A private block GDCM's dictionary knows: SIEMENS CSA HEADER (0029,xx08) "CSA Image
    # Header Type".
    block = ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True)
    block.add_new(0x08, "CS", "IMAGE NUM 4")
    # and one it cannot know.
    other = ds.private_block(0x0031, "NOBODY KNOWS ME", create=True)
    other.add_new(0x01, "LO", "secret value")
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    else:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.is_implicit_VR = implicit
    ds.is_little_endian = True
    ds.save_as(path_out)
    return pydicom.dcmread(path_out)


def test_against_pydicom(src, tmp, implicit):
    name = "implicit" if implicit else "explicit"
    path = os.path.join(tmp, "tags-%s.dcm" % name)
    ds = enrich(src, path, implicit)
    rc, dump, err = tags_json(path)
    if not check("%s: tags --json succeeds" % name, rc == 0, err):
        return
    els = dump["elements"]
    for kw in ["PatientName", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "Modality",
               "ImageType", "ImagePositionPatient", "PixelSpacing", "Rows", "Columns",
               "BitsAllocated", "RescaleIntercept"]:
        elem = ds[kw]
        tag = "%08X" % elem.tag
        e = find(els, tag)
        check("%s: %s (%s) equals pydicom's" % (name, kw, tag),
              e is not None and e["keyword"] == kw and e["value"] == expected_text(elem)
              and e["vr"] == elem.VR,
              "dump: %r\npydicom: %r %r" % (e, elem.VR, expected_text(elem)))
    # The sequence: two items, each with pydicom's UIDs.
    seq = find(els, "00081140")
    ok = seq is not None and seq["vr"] == "SQ" and len(seq["items"]) == 2
    if ok:
        for k, item in enumerate(ds.ReferencedImageSequence):
            e = find(seq["items"][k], "00081155")
            ok = ok and e is not None and e["value"] == item.ReferencedSOPInstanceUID
    check("%s: ReferencedImageSequence has pydicom's 2 items and their UIDs" % name, ok,
          json.dumps(seq, indent=1))
    # Private tags: the creator, its name from GDCM's private dictionary, the value.
    e = find(els, "00291008")
    check("%s: private (0029,1008) named by the dictionary, creator and value as pydicom's"
          % name,
          e is not None and e.get("creator") == "SIEMENS CSA HEADER"
          and e["name"] == "CSA Image Header Type"
          and e["value"] == str(ds[0x00291008].value), json.dumps(e))
    e = find(els, "00311001")
    check("%s: unknown private (0031,1001): creator, no name, pydicom's value" % name,
          e is not None and e.get("creator") == "NOBODY KNOWS ME" and e["name"] is None
          and e["value"] == as_text(ds[0x00311001].value), json.dumps(e))
    e = find(els, "7FE00010")
    check("%s: Pixel Data summarised, not dumped" % name,
          e is not None and e["value"] == "<%d bytes>" % len(ds.PixelData), json.dumps(e))
    # Every top-level element pydicom sees is in the dump (and nothing else).
    want = sorted("%08X" % el.tag for el in ds)
    got = sorted(e["tag"] for e in els)
    check("%s: the same %d top-level elements as pydicom" % (name, len(want)), want == got,
          "only pydicom: %s\nonly dump: %s" % (sorted(set(want) - set(got)),
                                                sorted(set(got) - set(want))))
    # The text form names the same things.
    rc, out, err = run(CLI, "tags", path)
    check("%s: text dump lists the sequence's items and the private name" % name,
          rc == 0 and "(0008,1155) UI ReferencedSOPInstanceUID  1.2.3.4.5.6.7.2" in out
          and "SIEMENS CSA HEADER" in out and "(7FE0,0010) OW PixelData" in out, out[:3000])


def nested(depth):
    inner = Dataset()
    inner.PatientID = "deep"
    for _ in range(depth):
        outer = Dataset()
        outer.ReferencedImageSequence = Sequence([inner])
        inner = outer
    return inner


def save_plain(ds_body, src, path):
    ds = pydicom.dcmread(src)
    for el in ds_body:
        ds.add(el)
    ds.save_as(path)


def test_hostile(src, tmp):
    # Nested 6 deep (the structure check allows 16 levels of sequences and items): the
    # dump's --max-depth cuts it.
    path = os.path.join(tmp, "nest6.dcm")
    save_plain(nested(6), src, path)
    rc, dump, err = tags_json(path, "--max-depth", 4)
    depth, node = 0, find(dump["elements"], "00081140") if dump else None
    while node is not None and node.get("items"):
        depth += 1
        node = find(node["items"][0], "00081140")
    check("6-deep sequences with --max-depth 4: 4 levels shown, the cut marked",
          rc == 0 and depth == 4 and dump["truncated"], "rc %d depth %d %s" % (rc, depth, err))
    rc, dump, err = tags_json(path)
    check("6-deep sequences, default cap: all shown", rc == 0 and not dump["truncated"], err)
    # 200 deep: refused with a sentence naming the file, no crash.
    path = os.path.join(tmp, "nest200.dcm")
    save_plain(nested(200), src, path)
    rc, out, err = run(CLI, "tags", "--json", path)
    check("200-deep sequences: exit 1 with one line naming the file, no crash",
          rc == 1 and path in err and len(err.splitlines()) == 1 and out == "",
          "rc %d\n%s" % (rc, err[:500]))
    # A 16 MB value: cut at --max-value, output small.
    path = os.path.join(tmp, "huge.dcm")
    big = Dataset()
    big.add_new(0x00204000, "LT", "A" * (16 << 20))
    save_plain(big, src, path)
    rc, dump, err = tags_json(path, "--max-value", 100)
    e = find(dump["elements"], "00204000") if dump else None
    check("16 MB LT value: 100 characters shown, marked truncated, length stated",
          rc == 0 and e["value"] == "A" * 100 and e["value_truncated"]
          and e["length"] == 16 << 20, "rc %d %s" % (rc, err))
    rc, out, err = run(CLI, "tags", "--json", path)
    check("16 MB LT value, default cap: output under 64 KB", rc == 0 and len(out) < 65536,
          "%d bytes" % len(out))
    # 100 000 items: the node cap holds, the output is bounded.
    path = os.path.join(tmp, "wide.dcm")
    wide = Dataset()
    items = []
    for k in range(100000):
        it = Dataset()
        it.ReferencedSOPInstanceUID = "1.2.%d" % k
        items.append(it)
    wide.ReferencedImageSequence = Sequence(items)
    save_plain(wide, src, path)
    rc, dump, err = tags_json(path)
    check("100 000 items: at most 20000 nodes, marked truncated, exit 0",
          rc == 0 and dump["nodes"] <= 20000 and dump["truncated"]
          and "cut" in err, "rc %d %s" % (rc, err[:300]))
    # Not DICOM: a clear error.
    path = os.path.join(tmp, "not.dcm")
    with open(path, "wb") as f:
        f.write(b"hello" * 100)
    rc, out, err = run(CLI, "tags", path)
    check("not DICOM: exit 1 naming the file", rc == 1 and path in err, err)


def test_pydicom_corpus():
    """Every top-level value that is not binary, in every file of pydicom's own test files that
    both read (big endian, implicit VR, deflated, compressed pixels...), equals pydicom's; FL
    and FD as numbers, AT in either notation."""
    import glob
    root = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
    files = sorted(f for f in glob.glob(os.path.join(root, "**", "*"), recursive=True)
                   if os.path.isfile(f))
    if not files:
        check("pydicom's test files: skipped, not installed with pydicom here", True)
        return
    n_files = n_values = 0
    bad = []
    for f in files:
        rc, out, err = run(CLI, "tags", "--json", f)
        if rc not in (0, 1):
            bad.append("%s: exit %d %s" % (f, rc, err[:200]))
            continue
        if rc != 0:
            continue
        try:
            ds = pydicom.dcmread(f, force=True)
        except Exception:
            continue
        shown = {e["tag"]: e for e in json.loads(out)["elements"]}
        n_files += 1
        for el in ds:
            v = el.value
            if (el.VR in ("SQ", "OB", "OW", "UN", "OF", "OD", "OL", "OV") or el.tag == 0x7FE00010
                    or v is None or isinstance(v, bytes) or "%08X" % el.tag not in shown):
                continue
            got = shown["%08X" % el.tag].get("value")
            vals = list(v) if isinstance(v, (list, pydicom.multival.MultiValue)) else [v]
            n_values += 1
            if el.VR in ("FL", "FD"):
                try:
                    ok = all(abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))
                             for a, b in zip(got.split("\\"), vals)) and \
                        len(got.split("\\")) == len(vals)
                except ValueError:
                    ok = False
            elif el.VR == "AT":
                ok = got == "\\".join("(%04X,%04X)" % (t >> 16, t & 0xFFFF) for t in vals)
            else:
                ok = got is not None and got.replace(" ", "") == "\\".join(
                    str(x) for x in vals).replace(" ", "")
            if not ok:
                bad.append("%s %08X %s: dump %r, pydicom %r" % (os.path.basename(f), el.tag,
                                                                 el.VR, got, vals))
    check("pydicom's test files: %d values of %d files equal pydicom's, no crash"
          % (n_values, n_files), n_files > 50 and not bad, "\n".join(bad[:20]))


def main():
    global CLI
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    CLI = os.path.abspath(ap.parse_args().cli)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="mm-tags-") as tmp:
        rc, _, err = run(CLI, "phantom", os.path.join(tmp, "phantom"), "--size", 32,
                         "--slices", 3)
        if not check("phantom written", rc == 0, err):
            return finish()
        ct = os.path.join(tmp, "phantom", "ct")
        src = os.path.join(ct, sorted(f for f in os.listdir(ct) if f.endswith(".dcm"))[0])
        for fn in [lambda: test_against_pydicom(src, tmp, False),
                   lambda: test_against_pydicom(src, tmp, True),
                   lambda: test_hostile(src, tmp),
                   test_pydicom_corpus]:
            try:
                fn()
            except Exception:
                check("no exception", False, traceback.format_exc())
    return finish()


if __name__ == "__main__":
    sys.exit(main())
