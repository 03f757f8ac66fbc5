#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli export end to end: NIfTI mask and CT (nibabel) and DICOM SEG (pydicom,
dcmdump) checked against geometry and pixels computed independently from the DICOM files, on
an axial and a tilted phantom; round trip of a NIfTI mask; failures leave nothing behind.
TAP output."""

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

import nibabel
import numpy as np
import pydicom

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, results, finish, read_png_gray8 as taplib_read_png  # noqa: E402


def skip(name, why):
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), name, why))


def run(cli, *args, user=None, max_file_size=None):
    cmd = [cli] + [str(a) for a in args]
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd

    def limit():
        # Writes past the limit fail with EFBIG (the signal that would kill is ignored).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_size, max_file_size))

    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       preexec_fn=limit if max_file_size else None)
    return p.returncode, p.stdout, p.stderr


def read_png_gray8(path):
    """The PNG as a (rows, columns) array, by the test's own reader (taplib), not libpng."""
    w, h, data = taplib_read_png(path)
    return np.frombuffer(data, np.uint8).reshape(h, w)


def read_stack(dirname):
    """A label stack as (manifest, array [k][j][i] of 0/1) in the manifest's index order."""
    m = json.load(open(os.path.join(dirname, "manifest.json")))
    slices = sorted(m["slices"], key=lambda s: s["index"])
    planes = [read_png_gray8(os.path.join(dirname, s["file"])) for s in slices]
    return m, slices, (np.stack(planes) // 255).astype(np.uint8)


class Series:
    """A CT series read with pydicom alone: slices sorted along the normal, HU, geometry."""

    def __init__(self, folder):
        files = [os.path.join(folder, f) for f in os.listdir(folder)]
        dss = [pydicom.dcmread(f) for f in files]
        iop = np.array(dss[0].ImageOrientationPatient, float)
        self.row, self.col = iop[:3], iop[3:]
        self.normal = np.cross(self.row, self.col)
        dss.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float),
                                            self.normal)))
        self.ds = dss
        self.ipp = [np.array(d.ImagePositionPatient, float) for d in dss]
        self.ps = [float(v) for v in dss[0].PixelSpacing]  # row spacing, column spacing
        self.uids = [d.SOPInstanceUID for d in dss]
        self.sop_class = dss[0].SOPClassUID
        self.hu = np.stack([d.pixel_array.astype(np.float64) * float(d.RescaleSlope)
                            + float(d.RescaleIntercept) for d in dss])
        self.rows, self.cols = int(dss[0].Rows), int(dss[0].Columns)

    def ras(self, i, j, k):
        lps = self.ipp[k] + i * self.ps[1] * self.row + j * self.ps[0] * self.col
        return lps * np.array([-1.0, -1.0, 1.0])


def voxels(series, rng, n_random=25):
    ni, nj, nk = series.cols, series.rows, len(series.ipp)
    out = [(i, j, k) for i in (0, ni - 1) for j in (0, nj - 1) for k in (0, nk - 1)]
    out += [(rng.randrange(ni), rng.randrange(nj), rng.randrange(nk)) for _ in range(n_random)]
    return out


def max_affine_error(affine, series, points):
    worst = 0.0
    for i, j, k in points:
        got = affine @ np.array([i, j, k, 1.0])
        worst = max(worst, float(np.linalg.norm(got[:3] - series.ras(i, j, k))))
    return worst


def leftovers(folder):
    return [f for f in os.listdir(folder) if ".tmp-" in f or f.startswith(".")]


def one_line(err):
    return len(err.strip().splitlines()) == 1


def check_nifti_mask(tag, path, series, truth, rng):
    img = nibabel.load(path)
    check("%s: mask NIfTI is gzip-compressed NIfTI-1" % tag,
          open(path, "rb").read(2) == b"\x1f\x8b"
          and isinstance(img, nibabel.Nifti1Image))
    data = np.asanyarray(img.dataobj)
    nk = len(series.ipp)
    check("%s: mask NIfTI shape is (columns, rows, slices)" % tag,
          data.shape == (series.cols, series.rows, nk), data.shape)
    check("%s: mask NIfTI is uint8" % tag, data.dtype == np.uint8, data.dtype)
    check("%s: mask NIfTI voxels equal the truth stack" % tag,
          data.shape == (series.cols, series.rows, nk)
          and np.array_equal(np.transpose(data, (2, 1, 0)), truth),
          "differing voxels: %d" % (np.count_nonzero(np.transpose(data, (2, 1, 0)) != truth)
                                    if data.shape == (series.cols, series.rows, nk) else -1))
    hdr = img.header
    check("%s: qform_code and sform_code are 1 (scanner)" % tag,
          int(hdr["qform_code"]) == 1 and int(hdr["sform_code"]) == 1,
          (hdr["qform_code"], hdr["sform_code"]))
    pts = voxels(series, rng)
    err = max_affine_error(img.affine, series, pts)
    check("%s: sform maps corners and random voxels to the DICOM RAS points (1e-3 mm)" % tag,
          err <= 1e-3, "worst %.6f mm" % err)
    qerr = max_affine_error(hdr.get_qform(), series, pts)
    check("%s: qform maps them to the same points (1e-3 mm)" % tag, qerr <= 1e-3,
          "worst %.6f mm" % qerr)
    check("%s: qfac is +1 (the DICOM frame is right-handed)" % tag,
          float(hdr["pixdim"][0]) == 1.0, hdr["pixdim"])
    return img


def check_nifti_ct(tag, path, series, mask_img, rng):
    img = nibabel.load(path)
    data = np.asanyarray(img.dataobj)
    check("%s: CT NIfTI is int16 of shape (columns, rows, slices)" % tag,
          data.dtype == np.int16 and data.shape == (series.cols, series.rows, len(series.ipp)),
          (data.dtype, data.shape))
    check("%s: CT NIfTI voxels equal pydicom's HU" % tag,
          data.shape == (series.cols, series.rows, len(series.ipp))
          and np.array_equal(np.transpose(data, (2, 1, 0)).astype(np.float64), series.hu))
    check("%s: CT NIfTI has no scaling (slope 1, intercept 0)" % tag,
          np.array_equal(img.dataobj.get_unscaled(), data))
    err = max_affine_error(img.affine, series, voxels(series, rng))
    check("%s: CT NIfTI affine maps voxels to the DICOM RAS points (1e-3 mm)" % tag,
          err <= 1e-3, "worst %.6f mm" % err)
    check("%s: CT and mask NIfTI share the affine" % tag,
          np.allclose(img.affine, mask_img.affine, atol=1e-6))


def check_seg(tag, path, series, truth):
    try:
        ds = pydicom.dcmread(path)
        frames = ds.pixel_array
    except Exception as e:  # noqa: BLE001 - any failure to read is the finding
        check("%s: pydicom reads the SEG and its pixels" % tag, False, repr(e))
        return
    check("%s: pydicom reads the SEG and its pixels" % tag, True)
    ct = series.ds[0]
    nk = len(series.ipp)
    check("%s: SOP class is Segmentation Storage" % tag,
          ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
          and ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID, ds.SOPClassUID)
    check("%s: Modality SEG, BINARY, 1 bit" % tag,
          ds.Modality == "SEG" and ds.SegmentationType == "BINARY" and ds.BitsAllocated == 1
          and ds.BitsStored == 1 and ds.HighBit == 0)
    check("%s: NumberOfFrames equals the slices" % tag, int(ds.NumberOfFrames) == nk,
          ds.NumberOfFrames)
    check("%s: Rows and Columns equal the CT's" % tag,
          ds.Rows == series.rows and ds.Columns == series.cols)
    check("%s: same Study Instance UID, Frame of Reference UID, patient" % tag,
          ds.StudyInstanceUID == ct.StudyInstanceUID
          and ds.FrameOfReferenceUID == ct.FrameOfReferenceUID
          and ds.PatientID == ct.PatientID and ds.PatientName == ct.PatientName)
    new_uids = (ds.SeriesInstanceUID, ds.SOPInstanceUID)
    check("%s: new Series and SOP Instance UIDs of the 2.25.<uuid> form" % tag,
          ds.SeriesInstanceUID != ct.SeriesInstanceUID
          and all(u.startswith("2.25.") and u[5:].isdigit() and len(u) <= 64
                  and (u[5] != "0" or len(u) == 6) for u in new_uids), new_uids)
    seg = ds.SegmentSequence
    check("%s: one segment 'Metal' with SCT category and type codes" % tag,
          len(seg) == 1 and seg[0].SegmentNumber == 1 and seg[0].SegmentLabel == "Metal"
          and seg[0].SegmentedPropertyCategoryCodeSequence[0].CodingSchemeDesignator == "SCT"
          and seg[0].SegmentedPropertyCategoryCodeSequence[0].CodeValue == "260787004"
          and seg[0].SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator == "SCT"
          and seg[0].SegmentedPropertyTypeCodeSequence[0].CodeValue == "40388003")
    shared = ds.SharedFunctionalGroupsSequence[0]
    pm = shared.PixelMeasuresSequence[0]
    check("%s: shared Pixel Measures equal the CT's pixel spacing and slice spacing" % tag,
          np.allclose([float(v) for v in pm.PixelSpacing], series.ps, atol=1e-6)
          and abs(float(pm.SliceThickness)
                  - float(np.linalg.norm(series.ipp[-1] - series.ipp[0])) / (nk - 1)) < 1e-4,
          (pm.PixelSpacing, pm.SliceThickness))
    check("%s: shared Plane Orientation equals the CT's" % tag,
          np.allclose([float(v) for v in shared.PlaneOrientationSequence[0]
                       .ImageOrientationPatient],
                      [float(v) for v in ct.ImageOrientationPatient], atol=1e-6))
    pf = ds.PerFrameFunctionalGroupsSequence
    ipp_ok = len(pf) == nk and all(
        np.allclose([float(v) for v in pf[k].PlanePositionSequence[0].ImagePositionPatient],
                    series.ipp[k], atol=1e-4) for k in range(min(nk, len(pf))))
    check("%s: each frame's Image Position (Patient) equals its CT slice's" % tag, ipp_ok)
    refs = [pf[k].DerivationImageSequence[0].SourceImageSequence[0] for k in range(len(pf))]
    check("%s: each frame references its CT slice's SOP Instance UID and class" % tag,
          [r.ReferencedSOPInstanceUID for r in refs] == series.uids
          and all(r.ReferencedSOPClassUID == series.sop_class for r in refs))
    check("%s: each frame is of segment 1" % tag,
          all(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber == 1 for f in pf)
          and [list(f.FrameContentSequence[0].DimensionIndexValues) for f in pf]
          == [[1, k + 1] for k in range(nk)])
    rs = ds.ReferencedSeriesSequence
    check("%s: Referenced Series Sequence lists the CT series and all its instances" % tag,
          len(rs) == 1 and rs[0].SeriesInstanceUID == ct.SeriesInstanceUID
          and sorted(r.ReferencedSOPInstanceUID for r in rs[0].ReferencedInstanceSequence)
          == sorted(series.uids))
    frames = np.asarray(frames).reshape((-1, series.rows, series.cols))
    check("%s: pixel_array frames equal the mask" % tag,
          frames.shape == truth.shape and np.array_equal(frames, truth),
          "shape %s vs %s" % (frames.shape, truth.shape))
    p = subprocess.run(["dcmdump", path], capture_output=True, text=True)
    bad = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.startswith(("E:", "W:"))]
    check("%s: dcmdump exits 0 with no E:/W: lines" % tag, p.returncode == 0 and not bad,
          "\n".join(bad[:10]) or p.stderr)


def export_checks(cli, tmp, name, phantom_args, rng):
    ph = os.path.join(tmp, name)
    rc, out, err = run(cli, "phantom", ph, *phantom_args)
    check("%s: phantom exits 0" % name, rc == 0, err)
    series = Series(os.path.join(ph, "ct"))
    manifest, slices, truth = read_stack(os.path.join(ph, "truth"))
    check("%s: truth manifest index order is the order along the normal" % name,
          [s["sop_instance_uid"] for s in slices] == series.uids)
    check("%s: the phantom has metal" % name, truth.sum() > 0)

    out_dir = os.path.join(tmp, name + "-out")
    os.mkdir(out_dir)
    mask_nii = os.path.join(out_dir, "mask.nii.gz")
    ct_nii = os.path.join(out_dir, "ct.nii.gz")
    seg = os.path.join(out_dir, "seg.dcm")
    rc, out, err = run(cli, "export", os.path.join(ph, "ct"), "--mask",
                       os.path.join(ph, "truth"), "--nifti", mask_nii, "--ct-nifti", ct_nii,
                       "--seg", seg)
    check("%s: export --mask --nifti --ct-nifti --seg exits 0" % name, rc == 0, err)
    check("%s: export leaves no temporary files" % name, leftovers(out_dir) == [],
          leftovers(out_dir))
    mask_img = check_nifti_mask(name, mask_nii, series, truth, rng)
    check_nifti_ct(name, ct_nii, series, mask_img, rng)
    check_seg(name, seg, series, truth)
    return ph, series, truth, mask_nii


def tests(cli, tmp):
    rng = random.Random(20240611)
    axial, series, truth, axial_nii = export_checks(
        cli, tmp, "axial", ["--size", 64, "--slices", 20], rng)
    tilted, tseries, ttruth, tilted_nii = export_checks(
        cli, tmp, "tilted", ["--size", 64, "--slices", 20, "--tilt", 20], rng)
    check("tilted: the slice normal is oblique",
          abs(float(tseries.normal[2])) < 0.99, tseries.normal)

    # The default mask is the threshold segmentation (the noise-free phantom's metal exactly).
    seg_nii = os.path.join(tmp, "segment.nii.gz")
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--nifti", seg_nii)
    check("export with the default segmentation exits 0", rc == 0, err)
    data = np.asanyarray(nibabel.load(seg_nii).dataobj) if rc == 0 else None
    check("the default segmentation equals the truth",
          data is not None and np.array_equal(np.transpose(data, (2, 1, 0)), truth))
    seg_dcm = os.path.join(tmp, "segment.dcm")
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--segment", "--threshold",
                       20000, "--seg", seg_dcm)
    ok = rc == 0
    if ok:
        ds = pydicom.dcmread(seg_dcm)
        ok = ds.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC" \
            and not np.asarray(ds.pixel_array).any()
    check("--segment --threshold 20000: an AUTOMATIC, empty SEG", ok, err)

    # Round trip: the NIfTI mask read back (mm_nifti_read_mask) equals the truth.
    for name, ph, nii, tru in (("axial", axial, axial_nii, truth),
                               ("tilted", tilted, tilted_nii, ttruth)):
        back = os.path.join(tmp, name + "-back")
        rc, out, err = run(cli, "export", os.path.join(ph, "ct"), "--mask-nifti", nii,
                           "--png", back)
        check("%s: export --mask-nifti --png exits 0" % name, rc == 0, err)
        if rc == 0:
            _, _, again = read_stack(back)
            check("%s: NIfTI mask read back equals the truth" % name,
                  np.array_equal(again, tru))
        else:
            check("%s: NIfTI mask read back equals the truth" % name, False)

    # A mask as another tool may save it: int16, big endian, label 7, qform only, uncompressed.
    img = nibabel.load(axial_nii)
    data = np.asanyarray(img.dataobj).astype(">i2") * 7
    other = nibabel.Nifti1Image(data, None, header=img.header.copy().as_byteswapped(">"))
    other.set_data_dtype(">i2")
    other.set_qform(img.header.get_qform(), code=1)
    other.set_sform(None, code=0)
    other_path = os.path.join(tmp, "other-tool.nii")
    nibabel.save(other, other_path)
    check("the other tool's file is big endian with only a qform",
          nibabel.load(other_path).header.endianness == ">"
          and int(nibabel.load(other_path).header["sform_code"]) == 0)
    back = os.path.join(tmp, "other-back")
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--mask-nifti", other_path,
                       "--png", back)
    ok = rc == 0 and np.array_equal(read_stack(back)[2], truth)
    check("an int16 big-endian qform-only mask with label 7 reads back as the truth", ok, err)
    shifted = nibabel.Nifti1Image(np.asanyarray(img.dataobj), img.affine + np.array(
        [[0, 0, 0, 0.01], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]))
    shifted_path = os.path.join(tmp, "shifted.nii.gz")
    nibabel.save(shifted, shifted_path)
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--mask-nifti", shifted_path,
                       "--png", os.path.join(tmp, "never"))
    check("a mask shifted by 0.01 mm: exit 1, one line naming the file",
          rc == 1 and one_line(err) and shifted_path in err and "sform" in err, err)

    # A mask on another grid is refused with one line naming the file.
    rc, out, err = run(cli, "export", os.path.join(tilted, "ct"), "--mask-nifti", axial_nii,
                       "--png", os.path.join(tmp, "never"))
    check("axial mask on the tilted CT: exit 1, one line naming the file and the offset",
          rc == 1 and one_line(err) and axial_nii in err and "RAS" in err
          and not os.path.exists(os.path.join(tmp, "never")), err)
    small = os.path.join(tmp, "small")
    run(cli, "phantom", small, "--size", 48, "--slices", 12)
    rc, out, err = run(cli, "export", os.path.join(small, "ct"), "--mask-nifti", axial_nii,
                       "--png", os.path.join(tmp, "never"))
    check("mask of other dimensions: exit 1, one line naming the file and both sizes",
          rc == 1 and one_line(err) and axial_nii in err and "64 x 64 x 20" in err
          and "48 x 48 x 12" in err, err)
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--mask-nifti",
                       os.path.join(tmp, "missing.nii.gz"), "--png", os.path.join(tmp, "never"))
    check("missing NIfTI mask: exit 1, one line naming it",
          rc == 1 and one_line(err) and "missing.nii.gz" in err, err)
    not_nifti = os.path.join(tmp, "garbage.nii.gz")
    with open(not_nifti, "wb") as f:
        f.write(b"not a nifti file at all" * 40)
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--mask-nifti", not_nifti,
                       "--png", os.path.join(tmp, "never"))
    check("a file that is not NIfTI: exit 1, one line naming it",
          rc == 1 and one_line(err) and not_nifti in err, err)

    # Usage errors.
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"))
    check("export without an output: exit 2", rc == 2 and one_line(err), err)
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--nifti",
                       os.path.join(tmp, "mask.png"))
    check("--nifti with a name not ending in .nii.gz: exit 2 naming it",
          rc == 2 and one_line(err) and "mask.png" in err, err)
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--segment", "--mask",
                       os.path.join(axial, "truth"), "--nifti", seg_nii)
    check("--segment with --mask: exit 2", rc == 2 and one_line(err), err)
    rc, out, err = run(cli, "export", os.path.join(tmp, "nothing-here"), "--nifti", seg_nii)
    check("a PATH with no series: exit 1", rc == 1, err)

    # Outputs that cannot be written: exit 3, one line naming the path, nothing left behind.
    nodir = os.path.join(tmp, "no", "such", "dir")
    for opt, fname in (("--nifti", "m.nii.gz"), ("--ct-nifti", "ct.nii.gz"),
                       ("--seg", "s.dcm")):
        target = os.path.join(nodir, fname)
        rc, out, err = run(cli, "export", os.path.join(axial, "ct"), opt, target)
        check("%s into a missing folder: exit 3, one line naming the path" % opt,
              rc == 3 and one_line(err) and target in err and not os.path.exists(nodir), err)

    # A write that fails half way (files limited to 4 KiB: the CT and the SEG are larger).
    full = os.path.join(tmp, "full")
    os.mkdir(full)
    targets = {"--ct-nifti": os.path.join(full, "ct.nii.gz"),
               "--seg": os.path.join(full, "s.dcm")}
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"),
                       *[a for kv in targets.items() for a in kv])
    before = {p: open(p, "rb").read() for p in targets.values()}
    check("the CT NIfTI and SEG exceed 4 KiB", rc == 0
          and all(len(b) > 4096 for b in before.values()), err)
    for opt, target in targets.items():
        rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--threshold", 20000,
                           opt, target, max_file_size=4096)
        check("%s cut short by the file size limit: exit 3, one line naming the path" % opt,
              rc == 3 and one_line(err) and target in err, "rc %d: %s" % (rc, err))
        check("%s cut short: the previous file is intact, no temporary file left" % opt,
              open(target, "rb").read() == before[target]
              and sorted(os.listdir(full)) == ["ct.nii.gz", "s.dcm"], os.listdir(full))

    ro = os.path.join(tmp, "readonly")
    os.mkdir(ro)
    targets = {"--nifti": os.path.join(ro, "m.nii.gz"),
               "--ct-nifti": os.path.join(ro, "ct.nii.gz"),
               "--seg": os.path.join(ro, "s.dcm")}
    rc, out, err = run(cli, "export", os.path.join(axial, "ct"),
                       *[a for kv in targets.items() for a in kv])
    check("first export into the folder exits 0", rc == 0, err)
    before = {p: open(p, "rb").read() for p in targets.values()}
    inodes = {p: os.stat(p).st_ino for p in targets.values()}
    listing = sorted(os.listdir(ro))
    os.chmod(ro, 0o555)
    user = None
    if os.geteuid() == 0:
        # root writes into read-only folders: the check runs as nobody instead.
        user = 65534
        if shutil.which("setpriv") is None:
            user = -1
        else:
            for d in (tmp,):
                os.chmod(d, 0o755)
    for opt, target in targets.items():
        name = "%s over a file in a read-only folder" % opt
        if user == -1:
            skip(name, "running as root without setpriv")
            continue
        # An empty mask this time, and a rename would change the inode: a write that went
        # through would show.
        rc, out, err = run(cli, "export", os.path.join(axial, "ct"), "--threshold", 20000,
                           opt, target, user=user)
        check(name + ": exit 3, one line naming the path", rc == 3 and one_line(err)
              and target in err, "rc %d: %s" % (rc, err))
        check(name + ": the previous file is intact and no temporary file is left",
              open(target, "rb").read() == before[target]
              and os.stat(target).st_ino == inodes[target]
              and sorted(os.listdir(ro)) == listing, sorted(os.listdir(ro)))
    os.chmod(ro, 0o755)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    cli = os.path.abspath(ap.parse_args().cli)
    tmp = tempfile.mkdtemp(prefix="mm-export-test-")
    try:
        tests(cli, tmp)
    finally:
        for root, dirs, _ in os.walk(tmp):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
