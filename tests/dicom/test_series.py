#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reader's "same series?" predicate (issue 11): files sharing a Series Instance UID but
not a study, a frame of reference or a modality are read as separate series, each with the
reason in `info --json` (series_found[].split_reason) and a warning naming a file; series of
their own UID say so; a file missing the field does not split. Series are made from the
phantom with pydicom. TAP."""

import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback
import warnings

import pydicom

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run  # noqa: E402

CLI = None
TMP = None
PHANTOM = None  # 6 slices


def files_of(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".dcm"))


def variant(name, fn, first_n):
    """The phantom with fn(ds) applied to its first first_n files (in file-name order)."""
    out = os.path.join(TMP, name)
    shutil.copytree(PHANTOM, out)
    for f in files_of(out)[:first_n]:
        ds = pydicom.dcmread(f)
        fn(ds)
        ds.save_as(f)
    return out


def info(*args):
    rc, out, err = run(CLI, "info", "--json", *args)
    return rc, (json.loads(out) if rc == 0 else None), err


def uid_of(folder):
    return str(pydicom.dcmread(files_of(folder)[0], stop_before_pixels=True).SeriesInstanceUID)


def test_split(name, fn, field):
    d = variant(name, fn, 2)
    uid = uid_of(d)
    rc, j, err = info(d)
    if not check("%s: info reads the folder" % name, rc == 0, err):
        return
    found = j["series_found"]
    check("%s: two series found (4 + 2 files)" % name,
          [s["files"] for s in found] == [4, 2], json.dumps(found, indent=1))
    check("%s: the larger part is read: 4 slices" % name,
          j["files_read"] == 4 and j["dims"][2] == 4, "files_read %s" % j["files_read"])
    if len(found) == 2:
        why = found[1]["split_reason"] or ""
        check("%s: the split-off part is named %s#2" % (name, uid), found[1]["uid"] == uid + "#2",
              found[1]["uid"])
        check("%s: its split_reason names %s and both values" % (name, field),
              field in why and why.count("'") >= 4, why)
        check("%s: a warning names one of its files and the reason" % name,
              any(field in w and ".dcm" in w for w in j["warnings"]),
              "\n".join(j["warnings"]))
        rc, j2, err = info(d, "--series", uid + "#2")
        check("%s: --series %s#2 reads the 2 split-off slices" % (name, uid),
              rc == 0 and j2["files_read"] == 2 and j2["series_uid"] == uid,
              err or json.dumps(j2 and j2["series_found"]))


def new_uid(attr):
    """Sets attr to one new UID (the same in every file it is applied to)."""
    uid = pydicom.uid.generate_uid()

    def fn(ds):
        setattr(ds, attr, uid)
    return fn


def test_own_uids():
    d = os.path.join(TMP, "two-uids")
    shutil.copytree(PHANTOM, os.path.join(d, "a"))
    shutil.copytree(PHANTOM, os.path.join(d, "b"))
    for f in files_of(os.path.join(d, "b"))[:3]:
        os.unlink(f)
    uid_b = pydicom.uid.generate_uid()
    for f in files_of(os.path.join(d, "b")):
        ds = pydicom.dcmread(f)
        ds.SeriesInstanceUID = uid_b
        ds.save_as(f)
    rc, j, err = info(d)
    if not check("own UIDs: info reads the folder", rc == 0, err):
        return
    found = j["series_found"]
    check("own UIDs: two series, 6 and 3 files, each 'its own Series Instance UID'",
          [s["files"] for s in found] == [6, 3]
          and all(s["split_reason"] == "its own Series Instance UID (0020,000E)" for s in found),
          json.dumps(found, indent=1))
    check("own UIDs: no split warning", not any("are read as series" in w for w in j["warnings"]),
          "\n".join(j["warnings"]))


def test_missing_field_does_not_split():
    def drop(ds):
        del ds.FrameOfReferenceUID
    d = variant("no-frame-uid", drop, 1)
    rc, j, err = info(d)
    check("missing Frame of Reference UID in one file: one series of 6, no split_reason",
          rc == 0 and [s["files"] for s in j["series_found"]] == [6]
          and j["series_found"][0]["split_reason"] is None,
          err or json.dumps(j["series_found"]))


def main():
    global CLI, TMP, PHANTOM
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    CLI = os.path.abspath(ap.parse_args().cli)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="mm-series-") as tmp:
        TMP = tmp
        rc, _, err = run(CLI, "phantom", os.path.join(tmp, "phantom"), "--size", 32,
                         "--slices", 6)
        if not check("phantom written", rc == 0, err):
            return finish()
        PHANTOM = os.path.join(tmp, "phantom", "ct")
        cases = [
            lambda: test_split("frame", new_uid("FrameOfReferenceUID"),
                               "Frame of Reference UID (0020,0052)"),
            lambda: test_split("study", new_uid("StudyInstanceUID"),
                               "Study Instance UID (0020,000D)"),
            lambda: test_split("modality", lambda ds: setattr(ds, "Modality", "OT"),
                               "Modality (0008,0060)"),
            test_own_uids,
            test_missing_field_does_not_split,
        ]
        for t in cases:
            try:
                t()
            except Exception:  # noqa: BLE001 - reported, and the other cases still run
                check("a case ran to the end", False, traceback.format_exc())
    return finish()


if __name__ == "__main__":
    sys.exit(main())
