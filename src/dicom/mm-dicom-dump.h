/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The data set of one DICOM file as a tree of plain C structs (the tags browser and
 * `metalmark-cli tags`): every element with its tag, VR, dictionary name and value as text,
 * sequences as items holding elements. Bounded against hostile files: nesting depth, node
 * count and value length are capped, binary values summarised, never dumped. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

G_BEGIN_DECLS

typedef struct _MmDicomTag MmDicomTag;

struct _MmDicomTag
{
  guint16 group, element; /* an item of a sequence is (FFFE,E000) */
  char vr[3];             /* "PN", "SQ"...; "" for an item */
  char *keyword;          /* "PatientName"; NULL when the dictionary does not know the tag */
  char *name;             /* "Patient's Name", or a private dictionary's name; NULL if unknown */
  char *creator;          /* private tags: their Private Creator (gggg,00xx); else NULL */
  /* The value as printable text (mm_text_printable): strings as stored (trailing padding
   * removed, values separated by '\'), binary numbers in decimal, OB/OW/UN and Pixel Data as
   * a summary ("<131072 bytes>"). NULL for a sequence or an item. */
  char *value;
  guint64 length;         /* the value's length in bytes */
  bool value_truncated;   /* value was cut at the dump's max_value_chars */
  bool children_truncated; /* children were cut (depth or node cap) */
  GPtrArray *children;    /* MmDicomTag *: a sequence's items, an item's elements; or NULL */
};

typedef struct
{
  guint max_depth;        /* sequence nesting shown; deeper items are cut. 0: 16 */
  guint max_nodes;        /* elements and items in all. 0: 20000 */
  guint max_value_chars;  /* characters of one value. 0: 1024 */
  guint max_numbers;      /* numbers shown of a binary numeric value. 0: 64 */
} MmDicomDumpLimits;

typedef struct
{
  char *path;
  char *transfer_syntax;  /* (0002,0010) as checked */
  MmDicomTag *root;       /* the data set: its children are the top-level elements */
  guint n_nodes;
  bool truncated;         /* some cap was hit somewhere */
} MmDicomDump;

/* Read path's data set (its header: Pixel Data is summarised from its length) and build the
 * tree. limits may be NULL (the defaults). NULL with error (MM_DICOM_ERROR_*) naming the file
 * and the reason when it is not DICOM or damaged. */
MmDicomDump *mm_dicom_dump_file (const char *path, const MmDicomDumpLimits *limits,
                                 GError **error);
void mm_dicom_dump_free (MmDicomDump *dump);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MmDicomDump, mm_dicom_dump_free)

/* "(0010,0010)" into buf (at least 12 bytes). */
void mm_dicom_tag_format_number (const MmDicomTag *tag, char buf[12]);

/* The whole tree as indented text, one element a line ("(0010,0010) PN PatientName  Doe^J"). */
char *mm_dicom_dump_to_text (const MmDicomDump *dump);

/* One element (with its items, for a sequence) in the same form. */
char *mm_dicom_tag_to_text (const MmDicomTag *tag);

/* The whole tree as JSON: {"file", "transfer_syntax", "truncated", "elements": [{"tag":
 * "00100010", "vr", "keyword", "name", "creator", "value", "length", "value_truncated",
 * "items": [[elements...], ...]}]}. */
JsonNode *mm_dicom_dump_to_json (const MmDicomDump *dump);

/* Does tag match query (case-insensitive): its number as "0010,0010", "00100010" or
 * "(0010,0010)" or a part of it, a part of its keyword or name, or a part of its value. */
bool mm_dicom_tag_matches (const MmDicomTag *tag, const char *query);

G_END_DECLS
