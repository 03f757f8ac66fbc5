/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Text from outside (DICOM strings, file names) made safe to show: on a terminal, in a GTK
 * label, in JSON. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A newly allocated copy of s that is valid UTF-8 and holds no control character: C0 controls
 * (tab and newline included), DEL, C1 controls (U+0080..U+009F), the bidirectional overrides
 * and isolates (U+202A..U+202E, U+2066..U+2069) and the line/paragraph separators become
 * U+FFFD, as do bytes that are not UTF-8. An escape sequence thus loses its ESC and shows as
 * text ("\x1b[2J" prints as "�[2J"), so nothing a file says can move the cursor, clear the
 * screen, retitle the terminal or reorder what is printed. NULL gives NULL. */
char *mm_text_printable (const char *s);

/* True when s needs no change by mm_text_printable. */
gboolean mm_text_is_printable (const char *s);

G_END_DECLS
