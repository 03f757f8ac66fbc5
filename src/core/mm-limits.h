/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Limits on sizes that come from outside (files, command lines), checked before anything is
 * allocated from them. Each says why it is where it is; tests exercise each limit and one
 * past it. */
#pragma once

/* Rows or Columns (0028,0010/0011) of a DICOM image. CT is 512 or 1024; the largest
 * projection detectors are about 4300 wide. 16384 leaves room for any real image while one
 * 16-bit slice stays at 512 MB. */
#define MM_LIMIT_DICOM_SIDE 16384

/* Voxels of a whole volume (columns x rows x slices): 2^31, 4 GB as int16 and 8 GB as
 * float. A 1024 x 1024 x 2000 scan is a quarter of it. */
#define MM_LIMIT_VOLUME_VOXELS (1ull << 31)

/* Bytes of a DICOM header (everything before Pixel Data, or the whole data set of a file
 * without it, such as a DICOMDIR), read into memory for GDCM: a CT header is a few KB, the
 * largest DICOMDIR of a full DVD a few MB. */
#define MM_LIMIT_DICOM_HEADER_BYTES (64ull << 20)

/* Bytes a deflated DICOM data set (1.2.840.10008.1.2.1.99) may inflate to: one slice at
 * MM_LIMIT_DICOM_SIDE plus its header; a deflate bomb stops here. */
#define MM_LIMIT_DICOM_INFLATED_BYTES ((2ull * MM_LIMIT_DICOM_SIDE * MM_LIMIT_DICOM_SIDE) + (64ull << 20))
