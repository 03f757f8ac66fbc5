#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""
Usage: rescale_variant.py SRC_DIR DST_DIR KIND

Rewrites every DICOM file of SRC_DIR (one folder, not recursive) into DST_DIR with the same
HU but another Rescale Slope / Intercept and pixel representation, with pydicom + numpy,
for bench/info-run (speed by header kind) and tests (HU against an independent reading):

  i0      stored = HU, intercept 0, signed 16-bit
  m1024s  stored = HU + 1024, intercept -1024, signed 16-bit
  m1024u  stored = HU + 1024, intercept -1024, unsigned 16-bit (HU below -1024 clipped)
  m1024   intercept -1024, unsigned when every value fits, else signed (as scanners write)
  f       slope 0.5, intercept -1024.25, signed: HU in quarter units, so float voxels

Study/Series Date and Time are set to the first file's. Pixel Padding Value and Smallest/Largest Image Pixel Value are dropped (they are stored
values of the old encoding).
"""
import glob
import os
import sys

import numpy as np
import pydicom


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip())
    src, dst, kind = sys.argv[1:4]
    if kind not in ("i0", "m1024s", "m1024u", "m1024", "f"):
        sys.exit("rescale_variant.py: unknown KIND %r" % kind)
    os.makedirs(dst, exist_ok=True)
    files = sorted(f for f in glob.glob(os.path.join(src, "*")) if os.path.isfile(f))
    if not files:
        sys.exit("rescale_variant.py: %s holds no file" % src)
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    for f in files:
        ds = pydicom.dcmread(f)
        # One study and series time for all: `metalmark-cli phantom` stamps each file with
        # its own Study Time, which makes dcm2niix split the series into many volumes.
        for tag in ("StudyDate", "StudyTime", "SeriesDate", "SeriesTime"):
            if tag in first:
                setattr(ds, tag, first.data_element(tag).value)
        if "PhotometricInterpretation" not in ds:  # the seed CT and the phantom omit it
            ds.PhotometricInterpretation = "MONOCHROME2"
        hu = (ds.pixel_array.astype(np.float64) * float(getattr(ds, "RescaleSlope", 1))
              + float(getattr(ds, "RescaleIntercept", 0)))
        if kind == "i0":
            st, sl, ic, rep = hu, 1, 0, 1
        elif kind == "m1024s":
            st, sl, ic, rep = hu + 1024, 1, -1024, 1
        elif kind == "m1024u":
            st, sl, ic, rep = np.clip(hu, -1024, None) + 1024, 1, -1024, 0
        elif kind == "m1024":
            st, sl, ic = hu + 1024, 1, -1024
            rep = 1 if st.min() < 0 else 0
        else:
            st, sl, ic, rep = (hu + 1024.25) / 0.5, 0.5, -1024.25, 1
        st = np.rint(st)
        dt = np.int16 if rep else np.uint16
        if st.min() < np.iinfo(dt).min or st.max() > np.iinfo(dt).max:
            sys.exit("rescale_variant.py: %s: stored values %g..%g do not fit %s"
                     % (f, st.min(), st.max(), dt.__name__))
        ds.PixelRepresentation = rep
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
        ds.RescaleSlope, ds.RescaleIntercept = sl, ic
        for tag in ("PixelPaddingValue", "PixelPaddingRangeLimit",
                    "SmallestImagePixelValue", "LargestImagePixelValue"):
            if tag in ds:
                del ds[tag]
        ds.PixelData = st.astype(dt).tobytes()
        ds.save_as(os.path.join(dst, os.path.basename(f)))


if __name__ == "__main__":
    main()
