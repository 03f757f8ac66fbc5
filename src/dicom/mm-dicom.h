/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DICOM series reader and writer: GDCM behind a small C API. This header is the only
 * way into src/dicom; no GDCM type crosses it and every GDCM exception is caught inside. */
#pragma once

#include "mm-mask.h"
#include "mm-volume.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define MM_DICOM_ERROR (mm_dicom_error_quark ())
GQuark mm_dicom_error_quark (void);

typedef enum
{
  MM_DICOM_ERROR_NO_SERIES,    /* nothing usable was found */
  MM_DICOM_ERROR_INCONSISTENT, /* the slices of the series disagree (size, orientation...) */
  MM_DICOM_ERROR_NOT_FOUND,    /* a path or a requested series does not exist */
  MM_DICOM_ERROR_DECODE,       /* pixel data could not be decoded */
  MM_DICOM_ERROR_WRITE,        /* writing a series failed */
  MM_DICOM_ERROR_STREAM,       /* the series cannot be streamed (see slice_func) */
} MmDicomError;

/* A series found while scanning. */
typedef struct
{
  char *uid;           /* Series Instance UID; "UID#2"... for a part split from one UID */
  char *modality;      /* (0008,0060), NULL when no file has it */
  bool is_ct;          /* Modality CT, or a CT SOP class when Modality is missing */
  char *description;   /* may be NULL */
  guint n_files;
  /* Why this is a series of its own beside the others found (a Series Instance UID of its
   * own, or which field split one UID); NULL when it is the only series. */
  char *split_reason;
  /* The files holding its slices, each once, NULL-terminated: a batch hands a series to its
   * worker by these paths instead of making it walk the whole archive again. */
  char **files;
  /* For the series browser (each NULL when no file has it): patient (0010,0010/0020), study
   * (0020,000D), (0008,1030), (0008,0020), series number (0020,0011), Image Type (0008,0008)
   * of the middle slice. */
  char *patient_name, *patient_id, *study_uid, *study_description, *study_date;
  char *series_number, *image_type;
  /* The file of the series' middle slice (along the slice normal), for a thumbnail; a
   * multi-frame file's frame is middle_frame (0-based), else -1. */
  char *middle_file;
  int middle_frame;
} MmDicomSeriesInfo;

/* What a load did besides producing the volume. */
typedef struct
{
  guint files_found;    /* candidate files looked at */
  guint files_read;     /* slices that went into the volume */
  guint files_skipped;  /* not DICOM, not an image, broken, or undecodable */
  GPtrArray *warnings;  /* char *: one line each, naming the file and the reason */
  GPtrArray *series;    /* MmDicomSeriesInfo *: every series found, largest first */
  char *chosen_uid;     /* the series loaded */
  char *chosen_reason;  /* why it was chosen, when there were several */
} MmDicomReport;

MmDicomReport *mm_dicom_report_new (void);
void mm_dicom_report_free (MmDicomReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmDicomReport, mm_dicom_report_free)

/* Progress: fraction in [0, 1]; called from the loading thread. */
typedef void (*MmProgressFunc) (double fraction, gpointer user_data);

/* Streaming: slice k of the sorted series (dims = columns, rows, slices), in HU, from a
 * decoding thread. */
typedef void (*MmDicomSliceFunc) (int k, const int16_t *hu, const int dims[3],
                                  gpointer user_data);
/* The same for a series whose voxels are float (a rescale that is not integral). */
typedef void (*MmDicomSliceFloatFunc) (int k, const float *hu, const int dims[3],
                                       gpointer user_data);

/* Progressive loading (docs/progressive-load.md). volume_func is called once, from the
 * loading thread, as soon as the volume has its geometry and attributes and slice first (the
 * middle one, or *wanted_slice) is decoded; vol->slice_ready flags the slices that are in.
 * From that call on the caller owns vol and must keep it alive until mm_dicom_load returns,
 * which goes on writing slices into it: on success mm_dicom_load returns vol itself, except
 * when a slice failed to decode or a value went beyond int16 — then a volume read afresh
 * (the normal way) that replaces it; on failure or cancellation NULL (vol stays the
 * caller's). ready_func is called from decoding threads after slice k's flag is set. */
typedef void (*MmDicomVolumeFunc) (MmVolume *vol, int first, gpointer user_data);
typedef void (*MmDicomReadyFunc) (int k, gpointer user_data);

/* The headers a scan read (mm_dicom_scan_keep), kept so that a load of one of its series
 * reads no header again: its first slice is decoded right away. Reference-counted and never
 * changed once made, so it may be handed to loads in other threads. */
typedef struct _MmDicomScan MmDicomScan;
MmDicomScan *mm_dicom_scan_ref (MmDicomScan *scan);
void mm_dicom_scan_unref (MmDicomScan *scan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmDicomScan, mm_dicom_scan_unref)

typedef struct
{
  const char *series_uid;   /* pick this series; NULL: the CT series with most slices */
  int n_threads;            /* <= 0: OpenMP's default */
  double orientation_tolerance; /* max difference of direction cosines; 0: default 1e-3 */
  MmProgressFunc progress;
  gpointer progress_data;
  GCancellable *cancellable;
  /* When set, each decoded slice goes to slice_func (from several threads at once) instead of
   * being kept: the volume returned has its geometry but no voxels. A series that needs
   * float voxels, or with a slice that does not decode, fails with MM_DICOM_ERROR_STREAM
   * (nothing else is wrong with it: load it without streaming). */
  MmDicomSliceFunc slice_func;
  gpointer slice_data;
  /* With slice_func: when set, a series needing float voxels streams too, its slices going
   * here (with slice_data) instead of failing. */
  MmDicomSliceFloatFunc slice_float_func;
  /* Progressive loading (see MmDicomVolumeFunc); not with slice_func. */
  MmDicomVolumeFunc volume_func;
  MmDicomReadyFunc ready_func;
  gpointer progressive_data;
  /* Optional, read atomically while decoding: a slice someone waits for (e.g. the one on
   * screen), decoded next when it is not yet; < 0 for none. */
  const gint *wanted_slice;
  /* Optional: a scan of the same paths (mm_dicom_scan_keep). The load then takes the files,
   * headers and warnings from it instead of reading them again; the report is the same as a
   * fresh load's. When any of its files changed size or modification time since the scan
   * (or is gone), the headers are read again instead, as without a scan. */
  const MmDicomScan *scan;
} MmDicomLoadOptions;

void mm_dicom_load_options_init (MmDicomLoadOptions *opts);

/* Load one series from paths: folders (searched recursively), DICOMDIR files, or DICOM
 * files. report (may be NULL) receives counts and warnings, filled also on failure. */
MmVolume *mm_dicom_load (const char *const *paths, guint n_paths, const MmDicomLoadOptions *opts,
                         MmDicomReport *report, GError **error);

/* Only find the series under paths (headers only, no pixels): report->series lists them,
 * largest CT first. False with error when nothing usable is found. */
bool mm_dicom_scan (const char *const *paths, guint n_paths, const MmDicomLoadOptions *opts,
                    MmDicomReport *report, GError **error);

/* mm_dicom_scan, keeping what it read for a later load (MmDicomLoadOptions.scan): a new
 * reference, or NULL with error when nothing usable is found. */
MmDicomScan *mm_dicom_scan_keep (const char *const *paths, guint n_paths,
                                 const MmDicomLoadOptions *opts, MmDicomReport *report,
                                 GError **error);

typedef enum
{
  MM_DICOM_SYNTAX_EXPLICIT, /* explicit VR little endian */
  MM_DICOM_SYNTAX_IMPLICIT, /* implicit VR little endian */
  MM_DICOM_SYNTAX_BIG_ENDIAN,
  MM_DICOM_SYNTAX_RLE,
  MM_DICOM_SYNTAX_JPEG_LOSSLESS, /* JPEG lossless, process 14 SV1 */
  MM_DICOM_SYNTAX_JPEG_LS,       /* JPEG-LS lossless */
  MM_DICOM_SYNTAX_J2K,           /* JPEG 2000 lossless */
} MmDicomSyntax;

/* Parse a name such as "explicit", "rle", "jpegls", "j2k"; false if unknown. */
bool mm_dicom_syntax_from_name (const char *name, MmDicomSyntax *syntax);
const char *mm_dicom_syntax_names (void);

typedef struct
{
  MmDicomSyntax syntax;
  bool shuffle_names;       /* random file names, so file order says nothing */
  guint64 seed;             /* for shuffled names */
  bool padding_tag;         /* write Pixel Padding Value (0028,0120) */
  double padding_value_hu;  /* the padding HU, when padding_tag */
} MmDicomWriteOptions;

/* Write vol (int16 HU) as a CT Image Storage series into dir, one file per slice, stored
 * values = HU + 1024 with Rescale Intercept -1024. */
bool mm_dicom_write_series (const char *dir, const MmVolume *vol, const MmDicomWriteOptions *opts,
                            GError **error);

/* Write vol (int16 HU, its slices' source files readable for the patient and study) as a
 * derived CT series into dir (mm-dicom-derived.cc): new Series and SOP Instance UIDs, Image
 * Type DERIVED\SECONDARY\AXIAL, Series Description description, Derivation Description
 * derivation (nullable), the source's geometry, frame of reference, patient and study. Files
 * MAR000001.dcm... each written to a temporary name and renamed. */
bool mm_dicom_write_derived (const char *dir, const MmVolume *vol, const char *description,
                             const char *derivation, GError **error);

/* ---- DICOM Segmentation export (mm-dicom-seg.cc) ---------------------------------------- */

/* Segment Algorithm Type (0062,0008). */
typedef enum
{
  MM_DICOM_SEG_AUTOMATIC,     /* e.g. the threshold segmentation as it came out */
  MM_DICOM_SEG_SEMIAUTOMATIC, /* a mask that may have been edited: the default */
  MM_DICOM_SEG_MANUAL,
} MmDicomSegAlgorithm;

typedef struct
{
  MmDicomSegAlgorithm algorithm;
  const char *algorithm_name;     /* Segment Algorithm Name (0062,0009); NULL: "Metalmark" */
  const char *series_description; /* (0008,103E); NULL: "Metal (Metalmark)" */
} MmDicomSegOptions;

void mm_dicom_seg_options_init (MmDicomSegOptions *opts);

/* Write mask (on vol's grid) as a DICOM Segmentation (1.2.840.10008.5.1.4.1.1.66.4): BINARY,
 * one segment "Metal", one frame per slice of vol with that slice's Image Position (Patient),
 * each referencing its source SOP Instance UID; vol's study, frame of reference and (read
 * from the first slice's file) patient; new series and SOP Instance UIDs (2.25.<uuid>).
 * Written atomically (temporary file, fsync, rename, fsync of the folder). */
bool mm_dicom_write_seg (const char *path, const MmMask *mask, const MmVolume *vol,
                         GError **error);
/* The same with options; opts may be NULL. */
bool mm_dicom_write_seg_full (const char *path, const MmMask *mask, const MmVolume *vol,
                              const MmDicomSegOptions *opts, GError **error);

G_END_DECLS
