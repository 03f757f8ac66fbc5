#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli pacs against a real Orthanc (Debian's orthanc + orthanc-dicomweb), started
here on loopback with its own configuration, free ports and a temporary storage folder:
find equals Orthanc's own REST answers, get retrieves the stored files (SOP Instance UIDs,
bytes, decoded voxels, info), send stores a SEG that Orthanc lists under the right study
and whose frames pydicom reads equal to the mask. Skipped (with the package named) when
Orthanc or its DICOMweb plugin is missing. The hostile servers are in test_pacs_hostile.py.
TAP output."""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import nibabel
import numpy as np
import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run  # noqa: E402
from orthanclib import (PASSWORD, USER, Orthanc, dicomweb_plugin,  # noqa: E402,F401
                        free_port)

def sop_uids(folder):
    return sorted(pydicom.dcmread(os.path.join(folder, f), stop_before_pixels=True)
                  .SOPInstanceUID for f in os.listdir(folder))


def by_sop(folder):
    """{SOP Instance UID: file bytes}."""
    out = {}
    for f in os.listdir(folder):
        p = os.path.join(folder, f)
        out[pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID] = open(p, "rb").read()
    return out


def info_json(cli, folder):
    rc, out, err = run(cli, "info", "--json", folder)
    return json.loads(out) if rc == 0 else err


def decoded(cli, folder, work, name):
    """The voxels as Metalmark decodes them (also JPEG-LS, which pydicom here cannot)."""
    path = os.path.join(work, name + ".nii.gz")
    rc, _, err = run(cli, "export", folder, "--ct-nifti", path)
    return np.asarray(nibabel.load(path).dataobj) if rc == 0 else err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = ap.parse_args().cli
    if shutil.which("Orthanc") is None:
        print("1..0 # SKIP Orthanc is not installed (Debian package orthanc)")
        return 0
    if dicomweb_plugin() is None:
        print("1..0 # SKIP the DICOMweb plugin is not installed (Debian package "
              "orthanc-dicomweb)")
        return 0
    work = tempfile.mkdtemp(prefix="mm-pacs-")
    orthanc = None
    try:
        orthanc = Orthanc(work)
        tests(cli, work, orthanc)
    finally:
        if orthanc:
            orthanc.stop()
            check("Orthanc stopped", orthanc.proc.poll() is not None)
        shutil.rmtree(work, ignore_errors=True)
    return finish()


def tests(cli, work, orthanc):
    pw = os.path.join(work, "password")
    with open(pw, "w") as f:
        f.write(PASSWORD + "\n")
    auth = ["--url", orthanc.url, "--auth", "basic", "--user", USER, "--password-file", pw]

    # Three series: axial, tilted, JPEG-LS; each its own study.
    phantoms = {}
    for name, extra in (("axial", []), ("tilted", ["--tilt", "20", "--seed", "2"]),
                        ("jpegls", ["--syntax", "jpegls", "--seed", "3"])):
        d = os.path.join(work, name)
        rc, _, err = run(cli, "phantom", "--slices", "16", "--size", "64", *extra, d)
        if not check("phantom %s written" % name, rc == 0, err):
            return
        phantoms[name] = os.path.join(d, "ct")
        for f in sorted(os.listdir(phantoms[name])):
            orthanc.rest("/instances", open(os.path.join(phantoms[name], f), "rb").read())

    # echo: the credentials matter, and a wrong root or port is said in one line.
    rc, out, err = run(cli, "pacs", "echo", *auth)
    check("echo with the right credentials succeeds", rc == 0 and "OK" in out, err)
    rc, out, err = run(cli, "pacs", "echo", "--url", orthanc.url)
    check("echo without credentials: exit 1, one line naming HTTP 401",
          rc == 1 and "HTTP 401" in err and len(err.strip().splitlines()) == 1, err)
    check("the password appears in no output", PASSWORD not in out + err)
    rc, out, err = run(cli, "pacs", "echo", "--url", orthanc.base + "/no-such-root",
                       "--auth", "basic", "--user", USER, "--password-file", pw)
    check("echo on a wrong root: HTTP 404 in one line",
          rc == 1 and "HTTP 404" in err and len(err.strip().splitlines()) == 1, err)
    rc, out, err = run(cli, "pacs", "echo", "--url", "http://127.0.0.1:%d/dicom-web" % free_port())
    check("echo on a closed port: 'cannot connect' in one line",
          rc == 1 and "cannot connect" in err and len(err.strip().splitlines()) == 1, err)

    # find: every study, with Orthanc's REST answer as truth.
    rc, out, err = run(cli, "pacs", "find", "--json", *auth)
    found = json.loads(out) if rc == 0 else []
    truth = {}
    for sid in orthanc.rest("/studies"):
        st = orthanc.rest("/studies/" + sid)
        n_inst = len(orthanc.rest("/studies/%s/instances" % sid))
        truth[st["MainDicomTags"]["StudyInstanceUID"]] = (
            st["PatientMainDicomTags"].get("PatientName"), st["PatientMainDicomTags"].get(
                "PatientID"), st["MainDicomTags"].get("StudyDate"), len(st["Series"]), n_inst)
    mine = {s["study_uid"]: (s["patient_name"], s["patient_id"], s["date"], s["series"],
                             s["instances"]) for s in found}
    check("find --json lists the studies Orthanc's REST API lists, with patient, date and "
          "counts", rc == 0 and mine == truth and len(truth) == 3, "%s\n%s\n%s" % (err, mine, truth))
    rc, out, err = run(cli, "pacs", "find", "--json", "--modality", "MR", *auth)
    check("find --modality MR: none", rc == 0 and json.loads(out) == [], err + out)
    rc, out, err = run(cli, "pacs", "find", "--json", "--date", "19900101-19901231", *auth)
    check("find --date in 1990: none", rc == 0 and json.loads(out) == [], err + out)
    some_date = next(iter(truth.values()))[2]
    rc, out, err = run(cli, "pacs", "find", "--json", "--date", some_date + "-", "--modality",
                       "CT", "--patient", "Phantom*", *auth)
    check("find --date FROM- --modality CT --patient Phantom*: all three",
          rc == 0 and len(json.loads(out)) == 3, err + out)
    rc, out, err = run(cli, "pacs", "find", "--json", "--patient-id", "MM-PHANTOM",
                       "--patient", "Phantom^Metalmark", *auth)
    check("find --patient-id and an exact --patient with '^': all three",
          rc == 0 and len(json.loads(out)) == 3, err + out)
    rc, out, err = run(cli, "pacs", "find", "--json", "--patient", "Nobody*", *auth)
    check("find --patient Nobody*: none", rc == 0 and json.loads(out) == [], err + out)
    rc, out, err = run(cli, "pacs", "find", "--date", "2024-01-01", *auth)
    check("find --date in another format: usage error (exit 2)", rc == 2, err)

    # find --study: the series, against /series of Orthanc.
    series_of = {}
    for study_uid in truth:
        rc, out, err = run(cli, "pacs", "find", "--json", "--study", study_uid, *auth)
        lst = json.loads(out) if rc == 0 else []
        lookup = orthanc.rest("/tools/lookup", study_uid.encode(), "POST")
        sid = lookup[0]["ID"]
        ref = sorted((orthanc.rest("/series/" + s)["MainDicomTags"]["SeriesInstanceUID"],
                      len(orthanc.rest("/series/%s/instances" % s)))
                     for s in orthanc.rest("/studies/" + sid)["Series"])
        check("find --study %s: series and instance counts equal Orthanc's" % study_uid[:12],
              sorted((s["series_uid"], s["instances"]) for s in lst) == ref, "%s %s" % (lst, ref))
        if lst:
            series_of[study_uid] = lst[0]["series_uid"]

    # get: each phantom into a new folder.
    for name, src in phantoms.items():
        ds = pydicom.dcmread(os.path.join(src, sorted(os.listdir(src))[0]),
                             stop_before_pixels=True)
        out_dir = os.path.join(work, "got-" + name)
        rc, out, err = run(cli, "pacs", "get", *auth, "--study", ds.StudyInstanceUID,
                           "--series", ds.SeriesInstanceUID, "--out", out_dir)
        if not check("get %s: exit 0, prints the folder" % name,
                     rc == 0 and out.strip() == out_dir, err):
            continue
        check("get %s: the SOP Instance UIDs are the stored ones" % name,
              sop_uids(out_dir) == sop_uids(src))
        check("get %s: every file is byte-identical to the one stored" % name,
              by_sop(out_dir) == by_sop(src))
        a, b = decoded(cli, src, work, name + "-src"), decoded(cli, out_dir, work, name + "-got")
        check("get %s: decoded voxels equal the source's" % name,
              isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b))
        if name == "axial":
            hu_src = [pydicom.dcmread(os.path.join(src, f)).pixel_array for f in sorted(os.listdir(src))]
            check("get axial: pydicom decodes the same pixels from the retrieved files",
                  sorted(x.tobytes() for x in hu_src) == sorted(
                      pydicom.dcmread(os.path.join(out_dir, f)).pixel_array.tobytes()
                      for f in os.listdir(out_dir)))
        check("get %s: info on the retrieved series equals info on the source" % name,
              info_json(cli, out_dir) == info_json(cli, src))
        check("get %s: no temporary folder left beside it" % name,
              not [f for f in os.listdir(work) if ".partial-" in f])
        rc, out, err = run(cli, "pacs", "get", *auth, "--study", ds.StudyInstanceUID,
                           "--series", ds.SeriesInstanceUID, "--out", out_dir)
        check("get %s again into the full folder: exit 3, folder untouched" % name,
              rc == 3 and "not empty" in err and len(os.listdir(out_dir)) == 16, err)

    # The cache: a second get is served from it; the least recently used series is evicted
    # past the bound; a damaged cached series is fetched again. Three series of 20 slices of
    # 176 x 176 (64 KiB files, 1.3 MB a series): a 3 MB bound holds two, not three.
    cache = os.path.join(work, "cache")
    uids = []
    for k in range(3):
        d = os.path.join(work, "cache-src-%d" % k)
        run(cli, "phantom", "--slices", "20", "--size", "176", "--seed", str(11 + k), d)
        files = sorted(os.listdir(os.path.join(d, "ct")))
        for f in files:
            orthanc.rest("/instances", open(os.path.join(d, "ct", f), "rb").read())
        ds = pydicom.dcmread(os.path.join(d, "ct", files[0]), stop_before_pixels=True)
        uids.append((ds.StudyInstanceUID, ds.SeriesInstanceUID))

    def cache_get(k):
        rc, out, err = run(cli, "pacs", "get", *auth, "--study", uids[k][0], "--series",
                           uids[k][1], "--cache-dir", cache, "--cache-max-mb", "3")
        time.sleep(1.1)  # folder times have one-second steps on some file systems
        return rc, out.strip(), err

    got = [cache_get(0), cache_get(1)]
    check("get into the cache: exit 0, a folder of 20 files under it for each",
          all(rc == 0 and out.startswith(cache) and len(os.listdir(out)) == 20
              for rc, out, _ in got), got)
    a, b = got[0][1], got[1][1]
    mtime_b = os.path.getmtime(b)
    rc, out, err = cache_get(0)
    check("the first series again: the same cache folder, not fetched again (the other "
          "untouched)", rc == 0 and out == a and os.path.getmtime(b) == mtime_b, err)
    rc, c, err = cache_get(2)
    check("a third series past the 3 MB bound: the least recently used (the second) is "
          "evicted, the first and third kept",
          rc == 0 and os.path.isdir(a) and not os.path.exists(b) and os.path.isdir(c),
          "%s %s" % (err, os.listdir(cache)))
    victim = os.path.join(a, sorted(os.listdir(a))[3])
    open(victim, "wb").close()  # as a power loss could leave it: the rename is not synced
    rc, out, err = cache_get(0)
    check("a cached series with an empty file is fetched again, whole",
          rc == 0 and out == a and os.path.getsize(victim) > 1000
          and sop_uids(a) == sorted(pydicom.dcmread(os.path.join(work, "cache-src-0", "ct", f),
                                                    stop_before_pixels=True).SOPInstanceUID
                                    for f in os.listdir(os.path.join(work, "cache-src-0",
                                                                     "ct"))), err)
    rc, out, err = run(cli, "pacs", "get", *auth, "--study", uids[1][0], "--series",
                       uids[1][1], "--cache-dir", cache, "--cache-max-mb", "0")
    check("a bound of 0 MB: the new series kept, every other evicted",
          rc == 0 and os.listdir(cache) == [os.path.basename(out.strip())],
          "%s %s" % (err, os.listdir(cache)))

    # send: the axial phantom's threshold SEG, back under its study.
    src = phantoms["axial"]
    seg = os.path.join(work, "axial-seg.dcm")
    rc, _, err = run(cli, "export", src, "--segment", "--seg", seg)
    check("export --seg of the axial phantom", rc == 0, err)
    rc, out, err = run(cli, "pacs", "send", *auth, seg)
    check("send the SEG: exit 0, '1 of 1 instances accepted'",
          rc == 0 and "1 of 1 instances accepted" in out, err + out)
    sent = pydicom.dcmread(seg)
    lookup = orthanc.rest("/tools/lookup", sent.StudyInstanceUID.encode(), "POST")
    sid = lookup[0]["ID"] if lookup else None
    segs = [s for s in orthanc.rest("/studies/%s" % sid)["Series"]
            if orthanc.rest("/series/" + s)["MainDicomTags"].get("Modality") == "SEG"] if sid else []
    check("Orthanc lists a SEG series under the CT's study", len(segs) == 1)
    if segs:
        inst = orthanc.rest("/series/%s/instances" % segs[0])
        stored = orthanc.rest("/instances/%s/file" % inst[0]["ID"])
        path = os.path.join(work, "stored-seg.dcm")
        open(path, "wb").write(stored)
        ds = pydicom.dcmread(path)
        frames = np.asarray(ds.pixel_array).reshape((-1, ds.Rows, ds.Columns))
        cts = {tuple(round(float(v), 3) for v in d.ImagePositionPatient): d for d in
               (pydicom.dcmread(os.path.join(src, f)) for f in os.listdir(src))}
        ok = len(frames) == len(cts)
        for k, fg in enumerate(ds.PerFrameFunctionalGroupsSequence):
            key = tuple(round(float(v), 3) for v in fg.PlanePositionSequence[0].ImagePositionPatient)
            ct = cts.get(key)
            if ct is None:
                ok = False
                break
            hu = ct.pixel_array * float(ct.RescaleSlope) + float(ct.RescaleIntercept)
            ok = ok and np.array_equal(frames[k].astype(bool), hu >= 3000)
        check("pydicom reads the stored SEG's frames equal to the mask (HU >= 3000, slice by "
              "slice position)", ok and frames.any())
        check("the stored SEG is the one sent (SOP Instance UID)",
              ds.SOPInstanceUID == sent.SOPInstanceUID)

    # send: a file Orthanc refuses (SOP Instance UID only in the file meta, as the seed CT).
    bad = pydicom.dcmread(os.path.join(src, sorted(os.listdir(src))[0]))
    del bad.SOPInstanceUID
    badpath = os.path.join(work, "no-sop-uid.dcm")
    bad.save_as(badpath, write_like_original=False)
    rc, out, err = run(cli, "pacs", "send", *auth, badpath)
    check("send a file without SOP Instance UID in the data set: exit 1, one line with the "
          "reason", rc == 1 and "SOP Instance UID" in err and len(err.strip().splitlines()) == 1,
          err + out)
    rc, out, err = run(cli, "pacs", "send", *auth, os.path.join(work, "password"))
    check("send a file that is not DICOM: refused before sending, exit 1",
          rc == 1 and "not a DICOM Part 10 file" in err, err)

    dicomdir_series(cli, work, orthanc, auth)


def dicomdir_series(cli, work, orthanc, auth):
    """Someone else's series (pydicom's DICOMDIR test set: other patients, MR and CT, JPEG and
    uncompressed, several series a study) stored in Orthanc: find lists what Orthanc lists
    for those patients, and get retrieves a series byte for byte."""
    root = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files", "dicomdirtests")
    def image(path):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            return "SOPInstanceUID" in ds and "SeriesInstanceUID" in ds
        except Exception:  # noqa: BLE001 - not a DICOM file (pydicom's folder has others)
            return False
    files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
             if not f.startswith("DICOMDIR") and image(os.path.join(d, f))]
    if not files:
        check("pydicom's DICOMDIR test series are installed (python3-pydicom) # SKIP not found", True)
        return
    stored = 0
    for f in files:
        try:
            orthanc.rest("/instances", open(f, "rb").read())
            stored += 1
        except Exception:  # Orthanc may refuse a file; what it keeps is the truth below
            pass
    patients = sorted({str(pydicom.dcmread(f, stop_before_pixels=True).PatientID) for f in files})
    check("Orthanc took pydicom's DICOMDIR series (%d of %d files)" % (stored, len(files)),
          stored > 0)
    for pid in patients:
        rc, out, err = run(cli, "pacs", "find", "--json", "--patient-id", pid, *auth)
        found = json.loads(out) if rc == 0 else []
        truth = {}
        for sid in orthanc.rest("/studies"):
            st = orthanc.rest("/studies/" + sid)
            if st["PatientMainDicomTags"].get("PatientID") != pid:
                continue
            truth[st["MainDicomTags"]["StudyInstanceUID"]] = (
                len(st["Series"]), len(orthanc.rest("/studies/%s/instances" % sid)))
        mine = {x["study_uid"]: (x["series"], x["instances"]) for x in found}
        check("find --patient-id %s: the studies, series and instance counts Orthanc lists"
              % pid, bool(rc == 0 and mine == truth and truth), "%s\n%s\n%s" % (err, mine, truth))
    # get: the series with the most instances, against the files stored.
    by_series = {}
    for f in files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        by_series.setdefault((ds.StudyInstanceUID, ds.SeriesInstanceUID), []).append(f)
    (study, series), members = max(by_series.items(), key=lambda kv: len(kv[1]))
    out_dir = os.path.join(work, "got-dicomdir")
    rc, out, err = run(cli, "pacs", "get", *auth, "--study", study, "--series", series,
                       "--out", out_dir)
    want = sorted(str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in members)
    check("get the largest DICOMDIR series (%d instances): exit 0, the stored SOP Instance UIDs"
          % len(members), rc == 0 and sop_uids(out_dir) == want, err)
    if rc == 0:
        # pydicom's DICOMDIR test files carry no pixel data (stripped to keep them small): the
        # whole files are compared.
        src = {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID): open(f, "rb").read()
               for f in members}
        got = {str(k): v for k, v in by_sop(out_dir).items()}
        check("get the DICOMDIR series: every file is byte-identical to the one stored",
              src == got, "%d stored, %d got" % (len(src), len(got)))


if __name__ == "__main__":
    sys.exit(main())
