#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Nothing read or written outside the folders given, as an attacker would try it through
metalmark-cli: a DICOMDIR whose Referenced File IDs climb out of its folder (through '..',
a '/' inside a component, an absolute path, a symbolic link), and outputs that are symbolic
links to files elsewhere. Every input is generated here (phantoms from the CLI, the DICOMDIR
by pydicom). TAP output.

Usage: test_paths.py --cli PATH"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, finish, run  # noqa: E402


def write_dicomdir(path, file_ids):
    """A DICOMDIR listing file_ids (each a list of components) as IMAGE records, written by
    pydicom without its value checks (a hostile writer would not run them)."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    import warnings
    warnings.simplefilter("ignore")
    try:
        pydicom.config.settings.writing_validation_mode = pydicom.config.IGNORE
    except AttributeError:
        pass
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.FileSetID = "HOSTILE"
    records = []
    for comps in file_ids:
        r = Dataset()
        r.DirectoryRecordType = "IMAGE"
        r.ReferencedFileID = comps if len(comps) > 1 else comps[0]
        records.append(r)
    ds.DirectoryRecordSequence = Sequence(records)
    ds.save_as(path, write_like_original=False)


def test_dicomdir(cli, tmp):
    """Series A beside the DICOMDIR, series B outside its folder: only A may be read, and each
    entry pointing at B is named in a warning."""
    root = os.path.join(tmp, "dd")
    os.mkdir(root)
    for name, seed in (("a", 1), ("b", 2)):
        rc, _, err = run(cli, "phantom", os.path.join(root, name), "--slices", 4, "--size", 32,
                         "--seed", seed)
        if not check("phantom %s written" % name, rc == 0, err):
            return
    cd = os.path.join(root, "a")
    outside = sorted(os.listdir(os.path.join(root, "b", "ct")))
    b_abs = os.path.join(root, "b", "ct")
    os.symlink(os.path.join(b_abs, outside[0]), os.path.join(cd, "LINK"))
    inside = [["CT", f] for f in sorted(os.listdir(os.path.join(cd, "ct")))]
    hostile = [
        ["CT/../../b/ct/" + outside[1]],          # a path of our own inside one component
        ["..", "b", "ct", outside[2]],            # '..' components
        [b_abs + "/" + outside[3]],               # absolute
        ["LINK"],                                 # a link inside the folder, leading out
    ]
    dicomdir = os.path.join(cd, "DICOMDIR")
    try:
        write_dicomdir(dicomdir, inside + hostile)
    except ImportError as e:
        print("# skipped: pydicom is needed to write the DICOMDIR (%s)" % e)
        return
    rc, b_info, _ = run(cli, "info", "--json", os.path.join(root, "b", "ct"))
    import json
    b_uid = json.loads(b_info)["series_uid"] if rc == 0 else "?"
    rc, out, err = run(cli, "info", "--json", dicomdir)
    check("DICOMDIR with hostile entries: info succeeds on the series inside", rc == 0, err)
    check("no file outside the DICOMDIR's folder is read (series B not found)",
          b_uid != "?" and b_uid not in out and b_uid not in err, out[-600:] + err)
    lines = err.splitlines()
    for comps in hostile:
        shown = "\\".join(comps)
        hit = [ln for ln in lines if dicomdir in ln and shown in ln]
        check("one warning names the DICOMDIR and the entry %s" % shown, len(hit) == 1, err)


def test_symlinked_outputs(cli, tmp):
    """Outputs that are symbolic links to files outside: refused, the target untouched."""
    root = os.path.join(tmp, "links")
    os.mkdir(root)
    rc, _, err = run(cli, "phantom", os.path.join(root, "p"), "--slices", 4, "--size", 32)
    if not check("phantom written", rc == 0, err):
        return
    ct = os.path.join(root, "p", "ct")
    victim = os.path.join(root, "victim.txt")
    with open(victim, "w") as f:
        f.write("precious")

    nii = os.path.join(root, "mask.nii.gz")
    os.symlink(victim, nii)
    rc, _, err = run(cli, "export", ct, "--nifti", nii)
    check("export --nifti onto a symbolic link is refused (exit 3)", rc == 3, err)
    check("the refusal is one line naming the file", nii in err.strip().splitlines()[-1]
          if err.strip() else False, err)
    check("the link and its target are untouched",
          os.path.islink(nii) and open(victim).read() == "precious")

    out = os.path.join(root, "stack")
    os.mkdir(out)
    os.symlink(victim, os.path.join(out, "manifest.json"))
    rc, _, err = run(cli, "segment", ct, "--out", out)
    check("segment into a folder whose manifest.json is a link is refused", rc == 3, err)
    check("the link's target is untouched", open(victim).read() == "precious")

    seg = os.path.join(root, "seg.dcm")
    os.mkfifo(seg)
    rc, _, err = run(cli, "export", ct, "--seg", seg, timeout=60)
    check("export --seg onto a named pipe is refused, not hung", rc == 3, err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mm-hostile-paths-")
    try:
        test_dicomdir(args.cli, tmp)
        test_symlinked_outputs(args.cli, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
