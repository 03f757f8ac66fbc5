#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli pacs --dimse (DCMTK's DcmSCU) against a real Orthanc's DICOM port, on
loopback with its own configuration: our AE title is a known modality allowed echo, find,
get and store, unknown AE titles are refused. echo; find equals Orthanc's REST answers (and
the DICOMweb find's JSON); get (C-GET) returns the stored SOP Instance UIDs and voxels, also
of the JPEG-LS series; send (C-STORE) of a SEG appears under its study. Hostile: a closed
port, a refused association, a server that never answers: one line, nothing written.
Orthanc is always stopped. TAP output."""

import argparse
import os
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pydicom

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run  # noqa: E402
from orthanclib import (PASSWORD, USER, Orthanc, dicomweb_plugin,  # noqa: E402
                        dimse_config, free_port)
from test_pacs import decoded, info_json, sop_uids  # noqa: E402

OUR_AET, PACS_AET = "MMTEST", "ORTHANCTEST"


def one_line(err):
    return len(err.strip().splitlines()) == 1


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
    work = tempfile.mkdtemp(prefix="mm-dimse-")
    orthanc = None
    try:
        # Our AE title known with every permission; no "always allow" for unknown callers.
        orthanc = Orthanc(work, extra=dimse_config(OUR_AET, PACS_AET))
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
    web = ["--url", orthanc.url, "--auth", "basic", "--user", USER, "--password-file", pw]
    peer = "%s@127.0.0.1:%d" % (PACS_AET, orthanc.dicom)
    dimse = ["--dimse", peer, "--aet", OUR_AET, "--timeout", "20"]

    phantoms = {}
    for name, extra in (("axial", []), ("jpegls", ["--syntax", "jpegls", "--seed", "3"])):
        d = os.path.join(work, name)
        rc, _, err = run(cli, "phantom", "--slices", "16", "--size", "64", *extra, d)
        if not check("phantom %s written" % name, rc == 0, err):
            return
        phantoms[name] = os.path.join(d, "ct")
        for f in sorted(os.listdir(phantoms[name])):
            orthanc.rest("/instances", open(os.path.join(phantoms[name], f), "rb").read())

    rc, out, err = run(cli, "pacs", "echo", *dimse)
    check("C-ECHO as the known AE title: exit 0, OK", rc == 0 and "OK" in out and
          "C-ECHO" in out, err + out)

    # find: against Orthanc's REST API, and equal to the DICOMweb find's JSON.
    rc, out, err = run(cli, "pacs", "find", "--json", *dimse)
    found = json.loads(out) if rc == 0 else []
    truth = {}
    for sid in orthanc.rest("/studies"):
        st = orthanc.rest("/studies/" + sid)
        truth[st["MainDicomTags"]["StudyInstanceUID"]] = (
            st["PatientMainDicomTags"].get("PatientName"),
            st["PatientMainDicomTags"].get("PatientID"), st["MainDicomTags"].get("StudyDate"),
            len(st["Series"]), len(orthanc.rest("/studies/%s/instances" % sid)))
    mine = {s["study_uid"]: (s["patient_name"], s["patient_id"], s["date"], s["series"],
                             s["instances"]) for s in found}
    check("C-FIND studies equals Orthanc's REST answer (patient, date, counts)",
          rc == 0 and mine == truth and len(truth) == 2, "%s\n%s\n%s" % (err, mine, truth))
    rc2, out2, err2 = run(cli, "pacs", "find", "--json", *web)
    web_found = json.loads(out2) if rc2 == 0 else None
    key = lambda s: s["study_uid"]  # noqa: E731
    check("find --json: the same keys per study as the DICOMweb find",
          web_found is not None and [sorted(s) for s in sorted(found, key=key)]
          == [sorted(s) for s in sorted(web_found, key=key)], "%s\n%s" % (found, web_found))
    check("find --json: the same values as the DICOMweb find (UIDs, patient, date, modalities, "
          "counts)",
          web_found is not None and sorted(found, key=key) == sorted(web_found, key=key),
          "%s\n%s" % (found, web_found))
    some_date = next(iter(truth.values()))[2]
    for filters, want in ((["--modality", "MR"], 0), (["--modality", "CT"], 2),
                          (["--date", "19900101-19901231"], 0),
                          (["--date", some_date + "-", "--patient", "Phantom*"], 2),
                          (["--patient-id", "MM-PHANTOM", "--patient", "Phantom^Metalmark"], 2),
                          (["--limit", "1"], 1)):
        rc, out, err = run(cli, "pacs", "find", "--json", *filters, *dimse)
        check("C-FIND %s: %d studies" % (" ".join(filters), want),
              rc == 0 and len(json.loads(out)) == want, err + out)
    rc, out, err = run(cli, "pacs", "find", "--json", "--patient", "Nobody*", *dimse)
    check("C-FIND --patient Nobody*: none", rc == 0 and json.loads(out) == [], err + out)
    for study_uid in truth:
        rc, out, err = run(cli, "pacs", "find", "--json", "--study", study_uid, *dimse)
        rc2, out2, _ = run(cli, "pacs", "find", "--json", "--study", study_uid, *web)
        check("C-FIND series of %s equals the DICOMweb find" % study_uid[:14],
              rc == 0 and rc2 == 0 and json.loads(out) == json.loads(out2), err + out + out2)

    # get: C-GET into a new folder, also the JPEG-LS series.
    for name, src in phantoms.items():
        ds = pydicom.dcmread(os.path.join(src, sorted(os.listdir(src))[0]),
                             stop_before_pixels=True)
        out_dir = os.path.join(work, "got-" + name)
        rc, out, err = run(cli, "pacs", "get", *dimse, "--study", ds.StudyInstanceUID,
                           "--series", ds.SeriesInstanceUID, "--out", out_dir)
        if not check("C-GET %s: exit 0, prints the folder" % name,
                     rc == 0 and out.strip() == out_dir, err):
            continue
        check("C-GET %s: the SOP Instance UIDs are the stored ones" % name,
              sop_uids(out_dir) == sop_uids(src))
        syntaxes = {str(pydicom.dcmread(os.path.join(out_dir, f), stop_before_pixels=True)
                        .file_meta.TransferSyntaxUID) for f in os.listdir(out_dir)}
        want = {str(pydicom.dcmread(os.path.join(src, f), stop_before_pixels=True)
                    .file_meta.TransferSyntaxUID) for f in os.listdir(src)}
        check("C-GET %s: arrives in the stored transfer syntax %s" % (name, want),
              syntaxes == want, syntaxes)
        a, b = decoded(cli, src, work, name + "-src"), decoded(cli, out_dir, work, name + "-got")
        check("C-GET %s: decoded voxels equal the source's" % name,
              isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b),
              "%s %s" % (type(a), type(b)))
        check("C-GET %s: info equals info on the source" % name,
              info_json(cli, out_dir) == info_json(cli, src))
        check("C-GET %s: no temporary folder left beside it" % name,
              not [f for f in os.listdir(work) if ".part-" in f])

    # get into the cache (no --out).
    cache = os.path.join(work, "cache")
    ds = pydicom.dcmread(os.path.join(phantoms["axial"], sorted(os.listdir(phantoms["axial"]))[0]),
                         stop_before_pixels=True)
    # What a killed C-GET leaves (the hidden .series-KEY.part-XXXXXX of mm-dimse.cc): one
    # two hours old, one being written now by another process.
    stale, live = (os.path.join(cache, ".series-%s.part-%s" % (k, k)) for k in ("old", "new"))
    for d in (stale, live):
        os.makedirs(d)
        with open(os.path.join(d, "000001.dcm"), "wb") as f:
            f.write(b"\0" * 4096)
    old = time.time() - 7200
    os.utime(stale, (old, old))
    rc, out, err = run(cli, "pacs", "get", *dimse, "--study", ds.StudyInstanceUID, "--series",
                       ds.SeriesInstanceUID, "--cache-dir", cache)
    check("C-GET into the cache: a folder of 16 files under it",
          rc == 0 and out.strip().startswith(cache) and len(os.listdir(out.strip())) == 16, err)
    check("the cache's eviction removes a killed C-GET's folder older than an hour and keeps "
          "a fresh one", not os.path.exists(stale) and os.path.isdir(live), os.listdir(cache))
    rc, out, err = run(cli, "pacs", "get", *dimse, "--study", ds.StudyInstanceUID, "--series",
                       "1.2.3.4.5.6", "--out", os.path.join(work, "none"))
    check("C-GET of an unknown series: exit 1, one line, nothing written",
          rc == 1 and one_line(err) and not os.path.exists(os.path.join(work, "none"))
          and not [f for f in os.listdir(work) if ".part-" in f], err)

    # send: C-STORE of the axial phantom's SEG.
    src = phantoms["axial"]
    seg = os.path.join(work, "axial-seg.dcm")
    rc, _, err = run(cli, "export", src, "--segment", "--seg", seg)
    check("export --seg of the axial phantom", rc == 0, err)
    rc, out, err = run(cli, "pacs", "send", *dimse, seg)
    check("C-STORE the SEG: exit 0, '1 of 1 instances accepted'",
          rc == 0 and "1 of 1 instances accepted" in out, err + out)
    sent = pydicom.dcmread(seg, stop_before_pixels=True)
    lookup = orthanc.rest("/tools/lookup", sent.SOPInstanceUID.encode(), "POST")
    inst = lookup[0]["ID"] if lookup else None
    parent = orthanc.rest("/instances/%s/study" % inst) if inst else {}
    check("Orthanc's REST API lists the sent SEG instance under the CT's study",
          inst is not None and parent.get("MainDicomTags", {}).get("StudyInstanceUID")
          == sent.StudyInstanceUID, lookup)
    rc, out, err = run(cli, "pacs", "send", *dimse, pw)
    check("C-STORE of a file that is not DICOM: exit 1 before connecting, one line",
          rc == 1 and "not a DICOM Part 10 file" in err and one_line(err), err)

    # Hostile: closed port, refused association, a server that accepts and never answers.
    got = os.path.join(work, "hostile")
    get = ["--study", ds.StudyInstanceUID, "--series", ds.SeriesInstanceUID, "--out", got]
    closed = "%s@127.0.0.1:%d" % (PACS_AET, free_port())
    rc, out, err = run(cli, "pacs", "get", "--dimse", closed, "--aet", OUR_AET, *get)
    check("C-GET on a closed port: exit 1, one line saying it cannot connect, nothing written",
          rc == 1 and one_line(err) and "cannot connect" in err and not os.path.exists(got),
          err)
    rc, out, err = run(cli, "pacs", "echo", "--dimse", peer, "--aet", "STRANGER")
    check("C-ECHO as an unknown AE title: the association refused, one line",
          rc == 1 and one_line(err) and "refused" in err.lower(), err)
    rc, out, err = run(cli, "pacs", "get", "--dimse", peer, "--aet", "STRANGER", *get)
    check("C-GET as an unknown AE title: exit 1, one line, nothing written",
          rc == 1 and one_line(err) and not os.path.exists(got)
          and not [f for f in os.listdir(work) if ".part-" in f], err)
    rc, out, err = run(cli, "pacs", "find", "--dimse", "no-port@127.0.0.1", "--aet", OUR_AET)
    check("--dimse without a port: usage-like error in one line", rc != 0 and one_line(err)
          and "AET@HOST:PORT" in err, err)

    for bad in ("%s@127.0.0.1:0" % PACS_AET, "%s@127.0.0.1:70000" % PACS_AET,
                "ABCDEFGHIJKLMNOPQ@127.0.0.1:104", "A\\B@127.0.0.1:104", "@127.0.0.1:104",
                "%s@:104" % PACS_AET):
        rc, out, err = run(cli, "pacs", "echo", "--dimse", bad)
        check("--dimse %r: exit 2, one line naming AET@HOST:PORT" % bad,
              rc == 2 and one_line(err) and "AET@HOST:PORT" in err, err)
    rc, out, err = run(cli, "pacs", "echo", "--dimse", peer, "--aet", "A\\B")
    check("--aet with a backslash: exit 2, one line", rc == 2 and one_line(err), err)

    # A larger series (120 x 512 x 512, 61 MB): C-GET is not much slower than WADO-RS (with
    # Nagle's algorithm on, as Debian's DCMTK leaves it, each instance waited about 50 ms for
    # the delayed ACK: 6 s against 0.5 s); then Ctrl+C during a C-GET.
    big = os.path.join(work, "big")
    run(cli, "phantom", "--slices", "120", "--size", "512", "--seed", "7", big)
    for f in sorted(os.listdir(os.path.join(big, "ct"))):
        orthanc.rest("/instances", open(os.path.join(big, "ct", f), "rb").read())
    bds = pydicom.dcmread(os.path.join(big, "ct", sorted(os.listdir(os.path.join(big, "ct")))[0]),
                          stop_before_pixels=True)
    buid = ["--study", bds.StudyInstanceUID, "--series", bds.SeriesInstanceUID]
    took = {"dimse": [], "web": []}
    for k in range(2):
        for name, conn in (("dimse", dimse), ("web", web)):
            t0 = time.monotonic()
            rc, _, err = run(cli, "pacs", "get", *conn, *buid, "--out",
                             os.path.join(work, "t-%s-%d" % (name, k)))
            took[name].append(time.monotonic() - t0 if rc == 0 else 1e9)
    check("C-GET of 120 instances: at most 3 x the WADO-RS time + 1 s (best of 2: %.2f s "
          "against %.2f s)" % (min(took["dimse"]), min(took["web"])),
          min(took["dimse"]) <= 3 * min(took["web"]) + 1.0, took)
    p = subprocess.Popen([cli, "pacs", "get", *dimse, *buid, "--out", got, "--progress"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b""
    while b"instances" not in seen:
        ch = p.stderr.read(1)
        if not ch:
            break
        seen += ch
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    err = (seen + err).decode(errors="replace")
    check("Ctrl+C during C-GET: exit 1, 'interrupted', nothing at the destination nor beside it",
          p.returncode == 1 and "interrupted" in err and not os.path.exists(got)
          and not [f for f in os.listdir(work) if ".part-" in f], err)

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    held = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.5)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])  # accepted, never answered
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    mute = "%s@127.0.0.1:%d" % (PACS_AET, silent.getsockname()[1])
    rc, out, err = run(cli, "pacs", "get", "--dimse", mute, "--aet", OUR_AET, "--timeout", "2",
                       *get)
    stop.set()
    t.join()
    for c in held:
        c.close()
    silent.close()
    check("C-GET from a server that never answers: exit 1 after the timeout, one line, "
          "nothing written", rc == 1 and one_line(err) and not os.path.exists(got)
          and not [f for f in os.listdir(work) if ".part-" in f], err)


if __name__ == "__main__":
    sys.exit(main())
