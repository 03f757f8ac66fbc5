/* SPDX-License-Identifier: GPL-3.0-or-later */
/* MmApplication: single instance; every path opened gets its own window. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MM_TYPE_APPLICATION (mm_application_get_type ())
G_DECLARE_FINAL_TYPE (MmApplication, mm_application, MM, APPLICATION, AdwApplication)

MmApplication *mm_application_new (void);

G_END_DECLS
