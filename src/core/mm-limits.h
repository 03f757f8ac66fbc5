/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Limits on every size that comes from outside (files, command lines), each checked before
 * anything is allocated from it. One plain list of #defines, each with its reason;
 * docs/limits.md gives the same table for users. Tests sit at each limit and one past it. */
#pragma once

/* Columns or rows of an image, mask slice or label PNG. CT slices are 512 (1024 on some
 * scanners, 2048 for flat-panel and micro-CT); 16384 is 8x the largest, and one 8-bit slice
 * of that side is 256 MiB. */
#define MM_LIMIT_IMAGE_SIDE 16384

/* Slices of a mask (label stack, NIfTI, journal). A whole body (2 m) at 0.125 mm is 16000
 * slices; nothing real is thicker. */
#define MM_LIMIT_SLICES 16384

/* Voxels of one volume or mask: 2^31, a 2 GiB mask and a 4 GiB 16-bit volume, more than a
 * desktop should be asked to hold; voxel counts then also fit a signed 32-bit int. */
#define MM_LIMIT_VOXELS (1ull << 31)

/* Nesting of any JSON read (manifest.json, model metadata, train state). Metalmark's own
 * files nest at most 5 deep; json-glib recurses once per level, so deeper input could run
 * a thread out of stack (200 KB of '[' crashes the main thread). */
#define MM_LIMIT_JSON_DEPTH 64

/* Bytes of a JSON file (manifest.json: about 250 bytes a slice, 4 MB at MM_LIMIT_SLICES);
 * it is read whole before parsing. */
#define MM_LIMIT_JSON_BYTES (64u << 20)

/* Bytes of an edit journal (journal.bin), read whole on open. It holds the edits since the
 * last fold (two quiet seconds after an edit): kilobytes to a few MB; 1 GiB is ten
 * rewrites of every slice of a 512 x 512 x 2000 mask of random voxels (95 MB each). */
#define MM_LIMIT_JOURNAL_BYTES (1ull << 30)

/* --threads of metalmark-cli (0: all cores). Each thread holds slice-sized buffers (info
 * measured 1.3 MB a thread on 256 x 256 slices, 16 MB and more at 2048²) and more threads
 * than cores only add contention: 256 covers two 64-core processors with SMT. */
#define MM_LIMIT_THREADS 256

/* train --patch: side of a training patch in pixels (default 128); patch² must fit an int,
 * and no CT slice is wider. */
#define MM_LIMIT_PATCH 4096

/* train --batch: patches per step (default 8). */
#define MM_LIMIT_TRAIN_BATCH 1024

/* batch x patch² x width: the activations of one training step. Measured: about 140 bytes
 * of activations and gradients per pixel and first-level channel (1.1 KB a pixel at width
 * 8), so 2^25 is about 4.5 GB; the default step (8 x 128² x 8) is 2^20. */
#define MM_LIMIT_TRAIN_STEP (1u << 25)

/* predict --batch: slices per batch of each thread (default 1). Measured 355 bytes a pixel
 * at width 8, so 16 slices of 512² are 1.5 GB per thread; larger batches were not faster
 * (256² slices: 0.48 s at batch 1, 0.42 s at 4, 0.80 s at 16). */
#define MM_LIMIT_PREDICT_BATCH 16

/* --threshold and --upper of segment and export, HU: any CT value (16-bit stored values
 * times a rescale slope) lies well inside; beyond, a typing slip. */
#define MM_LIMIT_HU 1e6

/* train --epochs and --steps-per-epoch: their product, the step counter, stays below 2^31. */
#define MM_LIMIT_EPOCHS 10000
#define MM_LIMIT_STEPS_PER_EPOCH 100000

/* Bytes of a model or checkpoint file (safetensors), read whole once its header has shown
 * where every tensor lies. The shipped model is 130 KB; 4 GiB holds a checkpoint (weights
 * and two Adam moments) of some 350 million parameters, far beyond what trains on a CPU. */
#define MM_LIMIT_MODEL_BYTES (4ull << 30)

/* DICOM input (src/dicom/mm-dicom-check.cc, mm-dicom-header.cc). */

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
