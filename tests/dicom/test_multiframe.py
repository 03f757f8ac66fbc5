#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Multi-frame DICOM read as the single-frame series it came from. The phantom's slices are
assembled by an independent writer (pydicom, here) into Enhanced CT and Legacy Converted
Enhanced CT files with functional groups, in shuffled frame order, uncompressed, RLE (pydicom's
encoder, one fragment per frame) and JPEG-LS (dcmtk's dcmcjpls, one or several fragments per
frame, with and without an offset table); then `info --json`, `segment` and `export` must give
what they give on the single-frame series. Classic multi-frame files (a multi-frame MR made
here, RT Dose grids from pydicom's corpus) open with a warning instead of being refused; broken
multi-frame files are refused with a reason. TAP output."""

import argparse
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless,
                         generate_uid)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, results, finish, run, read_png_gray8  # noqa: E402

ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
LEGACY_CT = "1.2.840.10008.5.1.4.1.1.2.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
CORPUS = "/usr/lib/python3/dist-packages/pydicom/data/test_files"


def skip(name, why):
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), name, why))


def read_series(folder):
    """The phantom's single-frame slices (pydicom datasets), in file-name order."""
    return [pydicom.dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder))]


def seq(*items):
    return Sequence(list(items))


def item(**kw):
    d = Dataset()
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def assemble(slices, path, sop_class, seed, per_frame_rescale=False, orientation_per_frame=False,
             stacks=None, times=None, classic=False, encapsulated=False):
    """One multi-frame file from single-frame slices. Frames in a shuffled order, each with
    its own Plane Position; Pixel Measures, Plane Orientation and Pixel Value Transformation
    shared (or per frame). per_frame_rescale: every other frame stores values + 100 with its
    intercept lowered by 100, so a reader that ignores per-frame rescale gets other numbers.
    stacks / times: Stack ID and Temporal Position Index per frame (in slice order).
    classic: no functional groups at all (a plain multi-frame image).
    encapsulated: the slices are compressed; their codestreams become the frames as they are
    (no decoding here), in the slices' transfer syntax."""
    rng = random.Random(seed)
    order = list(range(len(slices)))
    if not classic:
        rng.shuffle(order)
    first = slices[0]
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    for kw in ("StudyDate", "StudyTime", "PatientName", "PatientID", "StudyInstanceUID",
               "FrameOfReferenceUID", "Manufacturer", "SeriesDescription"):
        setattr(ds, kw, getattr(first, kw))
    ds.Modality = "MR" if sop_class == MR_IMAGE else "CT"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 2
    ds.InstanceNumber = 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    for kw in ("SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns",
               "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation"):
        setattr(ds, kw, getattr(first, kw))
    ds.NumberOfFrames = len(order)
    frames = []
    slope, icpt = float(first.RescaleSlope), float(first.RescaleIntercept)
    if classic:
        # A plain multi-frame image: the first frame's plane, nothing per frame.
        ds.ImagePositionPatient = first.ImagePositionPatient
        ds.ImageOrientationPatient = first.ImageOrientationPatient
        ds.PixelSpacing = first.PixelSpacing
        ds.RescaleSlope, ds.RescaleIntercept = first.RescaleSlope, first.RescaleIntercept
        for k in order:
            frames.append(slices[k].pixel_array.astype(np.int16))
    else:
        orient = item(ImageOrientationPatient=first.ImageOrientationPatient)
        measures = item(PixelSpacing=first.PixelSpacing, SliceThickness=first.SliceThickness)
        rescale = item(RescaleIntercept=icpt, RescaleSlope=slope, RescaleType="HU")
        shared = Dataset()
        shared.PixelMeasuresSequence = seq(measures)
        if not orientation_per_frame:
            shared.PlaneOrientationSequence = seq(orient)
        if not per_frame_rescale:
            shared.PixelValueTransformationSequence = seq(rescale)
        voi = item(WindowCenter=first.WindowCenter, WindowWidth=first.WindowWidth)
        shared.FrameVOILUTSequence = seq(voi)
        ds.SharedFunctionalGroupsSequence = seq(shared)
        per = []
        for pos, k in enumerate(order):
            s = slices[k]
            if encapsulated:
                from pydicom.encaps import generate_pixel_data_frame
                pixels = next(generate_pixel_data_frame(s.PixelData, 1))
            else:
                pixels = s.pixel_array.astype(np.int16)
            f = Dataset()
            f.PlanePositionSequence = seq(item(ImagePositionPatient=s.ImagePositionPatient))
            stack = stacks[k] if stacks else "1"
            content = item(StackID=stack, InStackPositionNumber=k + 1,
                           DimensionIndexValues=[1, k + 1])
            if times:
                content.TemporalPositionIndex = times[k]
            f.FrameContentSequence = seq(content)
            if orientation_per_frame:
                f.PlaneOrientationSequence = seq(copy.deepcopy(orient))
            if per_frame_rescale:
                shift = 100 if pos % 2 else 0
                pixels = (pixels + shift).astype(np.int16)
                f.PixelValueTransformationSequence = seq(
                    item(RescaleIntercept=icpt - shift, RescaleSlope=slope, RescaleType="HU"))
            if times and times[k] > 1:
                pixels = (pixels + 500).astype(np.int16)  # another phase: other numbers
            per.append(f)
            frames.append(pixels)
        ds.PerFrameFunctionalGroupsSequence = Sequence(per)
        dim_org = generate_uid()
        ds.DimensionOrganizationSequence = seq(item(DimensionOrganizationUID=dim_org))
        ds.DimensionIndexSequence = seq(
            item(DimensionOrganizationUID=dim_org, DimensionIndexPointer=0x00209056,
                 FunctionalGroupPointer=0x00209111),
            item(DimensionOrganizationUID=dim_org, DimensionIndexPointer=0x00209057,
                 FunctionalGroupPointer=0x00209111))
    ds.is_little_endian, ds.is_implicit_VR = True, False
    if encapsulated:
        from pydicom.encaps import encapsulate
        ds.file_meta.TransferSyntaxUID = first.file_meta.TransferSyntaxUID
        ds.PixelData = encapsulate(frames, has_bot=True)
        ds["PixelData"].VR = "OB"
        ds.save_as(path, write_like_original=False)
        return ds, None
    arr = np.stack(frames)
    ds.PixelData = arr.tobytes()
    ds.save_as(path, write_like_original=False)
    return ds, arr


def info(cli, path):
    rc, out, err = run(cli, "info", "--json", "--threads", 2, path)
    try:
        return rc, json.loads(out), err
    except ValueError:
        return rc, None, err + out


def same_info(a, b):
    """What must be equal between the single-frame series and the multi-frame file."""
    if a is None or b is None:
        return False, "no JSON"
    diffs = []
    for key in ("dims", "spacing_mm", "centre_lps_mm", "first_voxel_lps_mm",
                "last_voxel_lps_mm", "orientation_normal", "max", "min", "mean",
                "voxel_type", "window_center_width"):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, str) or va is None or vb is None:
            if va != vb:
                diffs.append("%s: %s != %s" % (key, va, vb))
        elif not np.allclose(np.array(va, float), np.array(vb, float), rtol=0, atol=1e-6):
            diffs.append("%s: %s != %s" % (key, va, vb))
    return not diffs, "\n".join(diffs)


def read_stack(folder):
    m = json.load(open(os.path.join(folder, "manifest.json")))
    planes = []
    for s in sorted(m["slices"], key=lambda s: s["index"]):
        w, h, data = read_png_gray8(os.path.join(folder, s["file"]))
        planes.append(np.frombuffer(data, np.uint8).reshape(h, w))
    return m, np.stack(planes)


def nifti_data(path):
    import nibabel
    img = nibabel.load(path)
    return img.affine, np.asarray(img.dataobj)


def compare_all(cli, tmp, name, original, mf_path, ref, expect_warning=None):
    """info, segment, export on mf_path against the single-frame original."""
    rc, got, err = info(cli, mf_path)
    ok, why = same_info(ref["info"], got)
    check("%s: info --json equals the single-frame series" % name, rc == 0 and ok,
          "rc %d\n%s\n%s" % (rc, why, err))
    if expect_warning is not None:
        warnings = "\n".join(got.get("warnings", [])) if got else ""
        check("%s: warns %r" % (name, expect_warning), expect_warning in warnings, warnings)
    out = os.path.join(tmp, name + "-seg")
    rc, _, err = run(cli, "segment", mf_path, "--out", out, "--threads", 2)
    if check("%s: segment succeeds" % name, rc == 0, err):
        _, mask = read_stack(out)
        check("%s: segment mask equals the single-frame one voxel for voxel" % name,
              mask.shape == ref["mask"].shape and np.array_equal(mask, ref["mask"]),
              "shape %s vs %s, %d voxels differ" % (
                  mask.shape, ref["mask"].shape,
                  int(np.sum(mask != ref["mask"])) if mask.shape == ref["mask"].shape else -1))
        # The stack is read back against the multi-frame file (frames share one UID).
        nii = os.path.join(tmp, name + "-fromstack.nii.gz")
        rc, _, err = run(cli, "export", mf_path, "--mask", out, "--nifti", nii, "--threads", 2)
        check("%s: export reads its own label stack back" % name, rc == 0, err)
    nii = os.path.join(tmp, name + "-mask.nii.gz")
    ct = os.path.join(tmp, name + "-ct.nii.gz")
    rc, _, err = run(cli, "export", mf_path, "--segment", "--nifti", nii, "--ct-nifti", ct,
                     "--threads", 2)
    if check("%s: export succeeds" % name, rc == 0, err):
        for label, path, ref_path in (("mask", nii, ref["nii"]), ("CT", ct, ref["ct"])):
            a1, d1 = nifti_data(path)
            a0, d0 = nifti_data(ref_path)
            check("%s: NIfTI %s equals the single-frame export (affine and voxels)"
                  % (name, label),
                  np.allclose(a1, a0, atol=1e-4) and d1.shape == d0.shape
                  and np.array_equal(d1, d0),
                  "affine\n%s\nvs\n%s\nshape %s vs %s" % (a1, a0, d1.shape, d0.shape))


def dcmcjpls(src, dst, *opts):
    p = subprocess.run(["dcmcjpls"] + list(opts) + [src, dst], capture_output=True, text=True)
    return p.returncode == 0 and os.path.exists(dst), p.stderr + p.stdout


def refragment(src, dst, n, bot):
    """src's frames (one fragment each) split into n fragments per frame by pydicom."""
    from pydicom.encaps import encapsulate, generate_pixel_data_frame
    ds = pydicom.dcmread(src)
    frames = list(generate_pixel_data_frame(ds.PixelData, int(ds.NumberOfFrames)))
    ds.PixelData = encapsulate(frames, fragments_per_frame=n, has_bot=bot)
    ds.save_as(dst, write_like_original=False)


def fragments_per_frame(path):
    """(fragments per frame, whether the Basic Offset Table has entries), read directly."""
    import struct
    ds = pydicom.dcmread(path)
    data, pos, sizes = ds.PixelData, 0, []
    while pos + 8 <= len(data):
        g, e, n = struct.unpack("<HHI", data[pos:pos + 8])
        if (g, e) != (0xfffe, 0xe000):
            break
        sizes.append(n)
        pos += 8 + n
    return (len(sizes) - 1) / int(ds.NumberOfFrames), sizes[0] > 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    cli = args.cli
    tmp = tempfile.mkdtemp(prefix="mm-multiframe-")
    try:
        for tilt in (0, 15):
            tag = "tilt%d" % tilt
            ph = os.path.join(tmp, "ph-" + tag)
            rc, _, err = run(cli, "phantom", ph, "--size", 64, "--slices", 20, "--tilt", tilt,
                             "--threads", 2)
            if not check("%s: phantom written" % tag, rc == 0, err):
                continue
            series = os.path.join(ph, "ct")
            slices = read_series(series)
            ref = {}
            rc, ref["info"], err = info(cli, series)
            check("%s: the single-frame series reads" % tag, rc == 0, err)
            out = os.path.join(tmp, tag + "-ref-seg")
            run(cli, "segment", series, "--out", out, "--threads", 2)
            _, ref["mask"] = read_stack(out)
            check("%s: the phantom has metal (the comparison means something)" % tag,
                  ref["mask"].sum() > 0)
            ref["nii"] = os.path.join(tmp, tag + "-ref-mask.nii.gz")
            ref["ct"] = os.path.join(tmp, tag + "-ref-ct.nii.gz")
            rc, _, err = run(cli, "export", series, "--segment", "--nifti", ref["nii"],
                             "--ct-nifti", ref["ct"], "--threads", 2)
            check("%s: the single-frame series exports" % tag, rc == 0, err)

            # Enhanced CT, uncompressed, shuffled frames, per-frame rescale.
            enh = os.path.join(tmp, tag + "-enhanced.dcm")
            assemble(slices, enh, ENHANCED_CT, seed=1 + tilt, per_frame_rescale=True)
            compare_all(cli, tmp, tag + "-enhanced", series, enh, ref)

            # Legacy Converted Enhanced CT, orientation per frame, shared rescale.
            leg = os.path.join(tmp, tag + "-legacy.dcm")
            assemble(slices, leg, LEGACY_CT, seed=7 + tilt, orientation_per_frame=True)
            compare_all(cli, tmp, tag + "-legacy", series, leg, ref)

            # RLE by pydicom's own encoder: one fragment per frame, basic offset table.
            rle = os.path.join(tmp, tag + "-enhanced-rle.dcm")
            ds, arr = assemble(slices, os.path.join(tmp, "plain.dcm"), ENHANCED_CT,
                               seed=3 + tilt, per_frame_rescale=True)
            try:
                ds.compress(RLELossless, arr)
                ds.save_as(rle, write_like_original=False)
                per, bot = fragments_per_frame(rle)
                check("%s: the RLE file has one fragment per frame" % tag, per == 1, per)
                compare_all(cli, tmp, tag + "-enhanced-rle", series, rle, ref)
            except Exception as e:  # noqa: BLE001 (pydicom without its RLE encoder)
                skip("%s: RLE Enhanced CT" % tag, "pydicom cannot RLE-encode: %s" % e)

            # JPEG 2000 and JPEG lossless codestreams as the phantom's writer (GDCM) makes
            # them for single-frame files, assembled into Enhanced CT files by pydicom.
            for syntax in ("j2k", "jpeg"):
                comp = os.path.join(tmp, "ph-%s-%s" % (tag, syntax))
                rc, _, err = run(cli, "phantom", comp, "--size", 64, "--slices", 20, "--tilt",
                                 tilt, "--syntax", syntax, "--threads", 2)
                if not check("%s: %s phantom written" % (tag, syntax), rc == 0, err):
                    continue
                dst = os.path.join(tmp, "%s-enhanced-%s.dcm" % (tag, syntax))
                assemble(read_series(os.path.join(comp, "ct")), dst, ENHANCED_CT,
                         seed=30 + tilt, encapsulated=True)
                compare_all(cli, tmp, "%s-enhanced-%s" % (tag, syntax), series, dst, ref)

            # JPEG-LS by dcmtk: one fragment per frame; several with an offset table;
            # several without one (frames found by their JPEG-LS start markers).
            if shutil.which("dcmcjpls") is None:
                skip("%s: JPEG-LS Enhanced CT" % tag, "dcmcjpls (dcmtk) not installed")
                continue
            one = os.path.join(tmp, "%s-jpegls.dcm" % tag)
            ok, msg = dcmcjpls(os.path.join(tmp, "plain.dcm"), one)
            if not check("%s: dcmcjpls wrote the JPEG-LS file" % tag, ok, msg):
                continue
            for label, want_many, want_bot in (("jpegls", False, True),
                                               ("jpegls-frag-bot", True, True),
                                               ("jpegls-frag-nobot", True, False)):
                dst = os.path.join(tmp, "%s-%s.dcm" % (tag, label))
                if want_many:
                    refragment(one, dst, 3, want_bot)
                per, bot = fragments_per_frame(dst)
                check("%s-%s: %s fragment per frame, offset table %s" % (
                    tag, label, "more than one" if want_many else "one",
                    "present" if want_bot else "empty"),
                    (per > 1) == want_many and bot == want_bot, "%s fragments/frame, bot %s"
                    % (per, bot))
                compare_all(cli, tmp, "%s-%s" % (tag, label), series, dst, ref)

        ph = os.path.join(tmp, "ph-tilt15")
        slices = read_series(os.path.join(ph, "ct"))

        # A DICOM SEG exported from the Enhanced file references its frames: each SEG frame
        # names the source frame at its own position (Referenced Frame Number), and the
        # source instance is listed once.
        enh = os.path.join(tmp, "tilt15-enhanced.dcm")
        seg = os.path.join(tmp, "tilt15-enhanced-seg.dcm")
        rc, _, err = run(cli, "export", enh, "--segment", "--seg", seg, "--threads", 2)
        if check("SEG of an Enhanced CT: export succeeds", rc == 0, err):
            src = pydicom.dcmread(enh)
            pos = {i + 1: np.array(f.PlanePositionSequence[0].ImagePositionPatient, float)
                   for i, f in enumerate(src.PerFrameFunctionalGroupsSequence)}
            sg = pydicom.dcmread(seg)
            bad = []
            for f in sg.PerFrameFunctionalGroupsSequence:
                ref = f.DerivationImageSequence[0].SourceImageSequence[0]
                p = np.array(f.PlanePositionSequence[0].ImagePositionPatient, float)
                n = int(ref.get("ReferencedFrameNumber", 0))
                if ref.ReferencedSOPInstanceUID != src.SOPInstanceUID or n not in pos \
                        or not np.allclose(pos[n], p, atol=1e-3):
                    bad.append((n, p))
            inst = sg.ReferencedSeriesSequence[0].ReferencedInstanceSequence
            check("SEG of an Enhanced CT: every frame references the source frame at its "
                  "position; the source instance is listed once",
                  not bad and len(sg.PerFrameFunctionalGroupsSequence) == 20 and len(inst) == 1
                  and inst[0].ReferencedSOPInstanceUID == src.SOPInstanceUID,
                  "%d bad frames, first %s; %d instances listed" % (len(bad), bad[:1], len(inst)))

        # An Enhanced CT series written one frame per file (geometry only in the functional
        # groups) reads as the single-frame series.
        one_per_file = os.path.join(tmp, "enhanced-one-per-file")
        os.makedirs(one_per_file)
        uid = generate_uid()
        for k, s in enumerate(slices):
            path = os.path.join(one_per_file, "f%02d.dcm" % k)
            ds, _ = assemble([s], path, ENHANCED_CT, seed=k)
            ds.SeriesInstanceUID = uid
            ds.save_as(path, write_like_original=False)
        rc, got, err = info(cli, one_per_file)
        ref_info = info(cli, os.path.join(ph, "ct"))[1]
        ok, why = same_info(ref_info, got)
        check("Enhanced CT one frame per file (tilted): info equals the single-frame series",
              rc == 0 and ok, "rc %d\n%s\n%s" % (rc, why, err))

        ph = os.path.join(tmp, "ph-tilt0")
        slices = read_series(os.path.join(ph, "ct"))

        # Two stacks (the first 12 slices and the last 8): the larger one is read.
        two = os.path.join(tmp, "stacks.dcm")
        stacks = ["A"] * 12 + ["B"] * 8
        assemble(slices, two, ENHANCED_CT, seed=5, stacks=stacks)
        rc, got, err = info(cli, two)
        warnings = "\n".join(got.get("warnings", [])) if got else err
        check("two stacks: the larger (12 frames) is read and the other named",
              rc == 0 and got["dims"][2] == 12 and 'stack "A"' in warnings
              and '"B" (8 frames)' in warnings, "rc %d\n%s\n%s" % (rc, got and got["dims"],
                                                                    warnings))
        # Two temporal positions at the same places: the first phase is read, with a word.
        timed = os.path.join(tmp, "temporal.dcm")
        both = slices[:10] + slices[:10]
        assemble(both, timed, ENHANCED_CT, seed=6, times=[1] * 10 + [2] * 10)
        rc, got, err = info(cli, timed)
        warnings = "\n".join(got.get("warnings", [])) if got else err
        check("temporal positions: 10 frames of phase 1 read, with a warning",
              rc == 0 and got["dims"][2] == 10 and "temporal positions" in warnings
              and got["max"] == max(float(np.max(s.pixel_array)) + float(s.RescaleIntercept)
                                    for s in slices[:10]),
              "rc %d\n%s\n%s" % (rc, got and (got["dims"], got["max"]), warnings))

        # A classic multi-frame MR (no functional groups): a stack with no 3D geometry.
        mr = os.path.join(tmp, "classic-mr.dcm")
        _, arr = assemble(slices, mr, MR_IMAGE, seed=0, classic=True)
        rc, got, err = info(cli, mr)
        warnings = "\n".join(got.get("warnings", [])) if got else err
        hu = arr.astype(np.float64) + float(slices[0].RescaleIntercept)
        check("classic multi-frame MR: opens as 20 frames with unit spacing and a warning",
              rc == 0 and got["dims"] == [64, 64, 20] and abs(got["spacing_mm"][2] - 1) < 1e-9
              and "no 3D geometry" in warnings
              and got["max"] == hu.max() and got["min"] == hu.min()
              and abs(got["mean"] - hu.mean()) < 1e-6,
              "rc %d\n%s\n%s" % (rc, got and (got["dims"], got["spacing_mm"]), warnings))

        # An 8-bit XA cine (classic, unsigned bytes), uncompressed and JPEG lossless (dcmtk's
        # dcmcjpeg): opens with the warning, values as written.
        rng = np.random.default_rng(3)
        cine = rng.integers(0, 256, size=(12, 48, 40), dtype=np.uint8)
        cine[:, 10:20, 10:30] = 200  # some structure for the JPEG predictor
        xa = Dataset()
        xa.file_meta = FileMetaDataset()
        xa.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.12.1"
        xa.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        xa.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        xa.SOPClassUID = xa.file_meta.MediaStorageSOPClassUID
        xa.SOPInstanceUID = xa.file_meta.MediaStorageSOPInstanceUID
        xa.Modality, xa.SeriesInstanceUID, xa.StudyInstanceUID = "XA", generate_uid(), generate_uid()
        xa.SamplesPerPixel, xa.PhotometricInterpretation = 1, "MONOCHROME2"
        xa.Rows, xa.Columns, xa.NumberOfFrames = 48, 40, 12
        xa.BitsAllocated, xa.BitsStored, xa.HighBit, xa.PixelRepresentation = 8, 8, 7, 0
        xa.FrameTime, xa.FrameIncrementPointer = 33.3, 0x00181063
        xa.PixelData = cine.tobytes()
        xa.is_little_endian, xa.is_implicit_VR = True, False
        xa_path = os.path.join(tmp, "xa-cine.dcm")
        xa.save_as(xa_path, write_like_original=False)
        xa_paths = [("XA cine", xa_path)]
        if shutil.which("dcmcjpeg"):
            xa_jpeg = os.path.join(tmp, "xa-cine-jpeg.dcm")
            p = subprocess.run(["dcmcjpeg", "+el", xa_path, xa_jpeg], capture_output=True,
                               text=True)
            if check("dcmcjpeg wrote a JPEG lossless XA cine", p.returncode == 0, p.stderr):
                xa_paths.append(("JPEG lossless XA cine", xa_jpeg))
        else:
            skip("JPEG lossless XA cine", "dcmcjpeg (dcmtk) not installed")
        for label, path in xa_paths:
            rc, got, err = info(cli, path)
            warnings = "\n".join(got.get("warnings", [])) if got else err
            check("%s: 12 frames of 40 x 48, values as written, no-geometry warning" % label,
                  rc == 0 and got["dims"] == [40, 48, 12] and "no 3D geometry" in warnings
                  and got["max"] == cine.max() and got["min"] == cine.min()
                  and abs(got["mean"] - cine.mean()) < 1e-9,
                  "rc %d\n%s\n%s" % (rc, got and (got["dims"], got["max"], got["mean"]),
                                       warnings))

        # An Enhanced CT split over two files of one series: the frames of both, in order.
        split = os.path.join(tmp, "split")
        os.makedirs(split)
        uid = generate_uid()
        for part, chunk in enumerate((slices[:9], slices[9:])):
            path = os.path.join(split, "part%d.dcm" % part)
            ds, _ = assemble(chunk, path, ENHANCED_CT, seed=20 + part)
            ds.SeriesInstanceUID = uid
            ds.save_as(path, write_like_original=False)
        rc, got, err = info(cli, split)
        ok, why = same_info(info(cli, os.path.join(ph, "ct"))[1], got)
        check("an Enhanced CT in two files of one series: info equals the single-frame series",
              rc == 0 and ok, "rc %d\n%s\n%s" % (rc, why, err))

        # RT Dose grids from pydicom's corpus: classic, positioned by Grid Frame Offset Vector,
        # implicit, big endian and RLE; values checked against pydicom's decoding.
        for name in ("rtdose.dcm", "rtdose_expb.dcm", "rtdose_rle.dcm"):
            path = os.path.join(CORPUS, name)
            if not os.path.exists(path):
                skip("corpus %s" % name, "not in this pydicom install")
                continue
            d = pydicom.dcmread(path)
            px = d.pixel_array.astype(np.float64)
            gfov = [float(v) for v in d.GridFrameOffsetVector]
            rc, got, err = info(cli, path)
            check("corpus %s: %d frames read, spacing from Grid Frame Offset Vector, values "
                  "as pydicom decodes them" % (name, int(d.NumberOfFrames)),
                  rc == 0 and got["dims"] == [int(d.Columns), int(d.Rows), int(d.NumberOfFrames)]
                  and abs(got["spacing_mm"][2] - abs(gfov[-1] - gfov[0]) / (len(gfov) - 1)) < 1e-6
                  and got["max"] == px.max() and got["min"] == px.min()
                  and abs(got["mean"] - px.mean()) < 1e-3 * abs(px.mean()),
                  "rc %d\n%s\n%s" % (rc, got and (got["dims"], got["spacing_mm"], got["max"],
                                                  got["min"], got["mean"]), err))

        # Damaged compressed frames are left out with a reason naming the frame, before any
        # codec sees them (GDCM's RLE decoder faults on a bad segment table, and its JPEG-LS
        # path asserts or writes past its buffer when the codestream is larger than the
        # header says).
        from pydicom.encaps import encapsulate, generate_pixel_data_frame
        rle = os.path.join(tmp, "tilt0-enhanced-rle.dcm")
        if os.path.exists(rle):
            ds = pydicom.dcmread(rle)
            frames = [bytearray(f) for f in generate_pixel_data_frame(ds.PixelData, 20)]
            frames[4][0:4] = (0).to_bytes(4, "little")  # no segments
            frames[5][8:12] = (len(frames[5]) + 100).to_bytes(4, "little")  # beyond the frame
            frames[6] = frames[6][:len(frames[6]) // 2]  # cut short
            ds.PixelData = encapsulate([bytes(f) for f in frames], has_bot=True)
            bad_rle = os.path.join(tmp, "bad-rle.dcm")
            ds.save_as(bad_rle, write_like_original=False)
            rc, got, err = info(cli, bad_rle)
            warnings = "\n".join(got.get("warnings", [])) if got else err
            check("damaged RLE frames: left out, each named with its reason",
                  rc == 0 and got["dims"][2] == 17
                  and "frame 5: its RLE frame has 0 segments" in warnings
                  and "frame 6: its RLE segment 1 lies outside the frame" in warnings
                  and "frame 7: its RLE segment" in warnings, "rc %d\n%s" % (rc, warnings))
        jls = os.path.join(tmp, "tilt0-jpegls.dcm")
        if os.path.exists(jls):
            ds = pydicom.dcmread(jls)
            frames = [bytearray(f) for f in generate_pixel_data_frame(ds.PixelData, 20)]
            at = frames[2].find(b"\xff\xf7")
            frames[2][at + 7:at + 9] = (80).to_bytes(2, "big")  # 80 columns, not 64
            ds.PixelData = encapsulate([bytes(f) for f in frames], has_bot=True)
            bad_jls = os.path.join(tmp, "bad-jpegls.dcm")
            ds.save_as(bad_jls, write_like_original=False)
            rc, got, err = info(cli, bad_jls)
            warnings = "\n".join(got.get("warnings", [])) if got else err
            check("a JPEG-LS frame larger than the header says: left out with its reason",
                  rc == 0 and got["dims"][2] == 19
                  and "frame 3: its JPEG-LS codestream is 80 x 64, the header says 64 x 64"
                  in warnings, "rc %d\n%s" % (rc, warnings))
            # The multi-frame path uses the single-frame path's strict marker walk: bytes
            # between marker segments (an assertion in GDCM's IJG codecs) are refused by name.
            ds = pydicom.dcmread(jls)
            frames = [bytearray(f) for f in generate_pixel_data_frame(ds.PixelData, 20)]
            at = frames[3].find(b"\xff\xda")
            frames[3][at:at] = bytes(26)
            ds.PixelData = encapsulate([bytes(f) for f in frames], has_bot=True)
            stray = os.path.join(tmp, "stray-jpegls.dcm")
            ds.save_as(stray, write_like_original=False)
            rc, got, err = info(cli, stray)
            warnings = "\n".join(got.get("warnings", [])) if got else err
            check("a JPEG-LS frame with stray bytes before its scan: left out with its reason",
                  rc == 0 and got["dims"][2] == 19
                  and "frame 4: its JPEG-LS stream has stray bytes between marker segments"
                  in warnings, "rc %d\n%s" % (rc, warnings))

        # Pixel Padding Value with a Pixel Padding Range Limit (0028,0121): every value from
        # -2048 to -1000 HU is padding, so the air at -1000 HU counts too.
        padded = os.path.join(tmp, "padding-range.dcm")
        ds, arr = assemble(slices, padded, ENHANCED_CT, seed=12)
        icpt = float(slices[0].RescaleIntercept)
        ds.PixelPaddingValue = int(-2048 - icpt)
        ds.PixelPaddingRangeLimit = int(-1000 - icpt)
        ds["PixelPaddingValue"].VR = ds["PixelPaddingRangeLimit"].VR = "SS"
        ds.save_as(padded, write_like_original=False)
        hu = arr.astype(np.float64) + icpt
        pad = (hu >= -2048) & (hu <= -1000)
        rc, got, err = info(cli, padded)
        check("Pixel Padding Range Limit: every value in the range is padding (count and mean "
              "without padding as numpy finds them)",
              rc == 0 and got["padding_voxels"] == int(pad.sum())
              and int(pad.sum()) > int((hu == -2048).sum())
              and abs(got["mean_without_padding"] - hu[~pad].mean()) < 1e-9
              and got["padding_value"] == -2048 and got.get("padding_range") == [-2048, -1000],
              "rc %d\n%s" % (rc, got and {k: got[k] for k in (
                  "padding_voxels", "mean_without_padding", "padding_value") if k in got}))

        # Refused with a reason: frames missing from the pixel data, and a Per-frame
        # Functional Groups Sequence that does not match Number of Frames.
        short = os.path.join(tmp, "short.dcm")
        ds, _ = assemble(slices, short, ENHANCED_CT, seed=8)
        ds.NumberOfFrames = 2000
        ds.save_as(short, write_like_original=False)
        rc, out, err = run(cli, "info", short)
        check("Number of Frames beyond the pixel data: refused before allocating, with a reason",
              rc == 1 and "expected" in err and "2000 frames" in err, "rc %d\n%s" % (rc, err))
        bad = os.path.join(tmp, "bad-groups.dcm")
        ds, _ = assemble(slices, bad, ENHANCED_CT, seed=9)
        ds.PerFrameFunctionalGroupsSequence = ds.PerFrameFunctionalGroupsSequence[:19]
        ds.save_as(bad, write_like_original=False)
        rc, out, err = run(cli, "info", bad)
        check("a functional group per frame missing: refused with a reason",
              rc == 1 and "has 19 items for 20 frames" in err, "rc %d\n%s" % (rc, err))
        tilted = os.path.join(tmp, "one-frame-tilted.dcm")
        ds, _ = assemble(slices, tilted, ENHANCED_CT, seed=11, orientation_per_frame=True)
        ds.PerFrameFunctionalGroupsSequence[6].PlaneOrientationSequence[0] \
            .ImageOrientationPatient = [1, 0, 0, 0, 0.9848, 0.1736]
        ds.save_as(tilted, write_like_original=False)
        rc, out, err = run(cli, "info", tilted)
        check("a frame in another orientation: refused, naming the file and the frame",
              rc == 1 and "differ in orientation" in err and tilted + " (frame 7)" in err,
              "rc %d\n%s" % (rc, err))
        nopos = os.path.join(tmp, "no-position.dcm")
        ds, _ = assemble(slices, nopos, ENHANCED_CT, seed=10)
        del ds.PerFrameFunctionalGroupsSequence[4].PlanePositionSequence
        ds.save_as(nopos, write_like_original=False)
        rc, out, err = run(cli, "info", nopos)
        check("a frame without Plane Position: refused with a reason",
              rc == 1 and "frame 5 has no Plane Position" in err, "rc %d\n%s" % (rc, err))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
