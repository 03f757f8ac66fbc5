/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GDCM's data dictionaries, loaded when first needed instead of at process start.
 *
 * Why: gdcmGlobal.h holds a Schwarz counter (`static Global GlobalInstance;` in every file that
 * includes it), so loading libgdcmDICT runs gdcm::Global's constructor before main(), and that
 * fills the public, private ("shadow") and CSA dictionaries: some 10,000 std::map nodes, about
 * 15-18 ms of CPU and as much again to free them at exit, in every process (issue 12: most of
 * `metalmark-cli info`'s fixed cost). GDCM has no option to defer it. Reading a series needs
 * none of it: the header pass and the decoders read values by tag and VR from the data set
 * (mm-dicom-header.cc) and never ask a dictionary. Writing (ImageWriter's helpers compute VRs
 * from the dictionary) and the tag dump (names, VRs of private tags) do.
 *
 * How: the three LoadDefault member functions are defined here with default visibility, so the
 * dynamic linker binds libgdcmDICT's own calls to them (they go through its PLT) to these,
 * which do nothing at start-up; mm::ensure_dictionaries() then runs GDCM's real ones, found
 * with dlsym (RTLD_NEXT), once. If a GDCM build ever binds those calls internally
 * (-Bsymbolic), the dictionaries are simply loaded at start-up as before: ensure_dictionaries
 * sees them filled and loads nothing twice. The test dicom-dictionary checks both halves:
 * empty after reading a series, filled (with names) once the tag dump needs them. */
#include "mm-dicom-private.hh"

#include <gdcmCSAHeaderDict.h>
#include <gdcmDict.h>
#include <gdcmDicts.h>
#include <gdcmGlobal.h>

#include <dlfcn.h>
#include <glib.h>
#include <mutex>

/* Set once ensure_dictionaries runs the real loaders: from then on a call (there is none
 * after start-up in GDCM itself) goes straight to them. */
static bool loading_allowed;

template <typename T>
static void
call_real (const char *symbol, T *dict)
{
  using Fn = void (*) (T *);
  auto fn = reinterpret_cast<Fn> (dlsym (RTLD_NEXT, symbol));
  if (fn == nullptr)
    g_error ("GDCM's %s cannot be found: %s", symbol, dlerror ());
  fn (dict);
}

namespace gdcm
{
/* The mangled names are those of the definitions below (checked by the test, which would
 * see empty dictionaries after ensure_dictionaries otherwise). */
__attribute__ ((visibility ("default"))) void
Dict::LoadDefault ()
{
  if (loading_allowed)
    call_real ("_ZN4gdcm4Dict11LoadDefaultEv", this);
}

__attribute__ ((visibility ("default"))) void
PrivateDict::LoadDefault ()
{
  if (loading_allowed)
    call_real ("_ZN4gdcm11PrivateDict11LoadDefaultEv", this);
}

__attribute__ ((visibility ("default"))) void
CSAHeaderDict::LoadDefault ()
{
  if (loading_allowed)
    call_real ("_ZN4gdcm13CSAHeaderDict11LoadDefaultEv", this);
}
} // namespace gdcm

/* GDCM's dictionaries without Global::GetDicts, which asserts (in Debian's build) that they
 * are filled: the object behind Global's static Internals pointer, whose first member is
 * the Dicts (gdcmGlobal.cxx, class GlobalInternal; the same in every GDCM 2.x and 3.x). */
static gdcm::Dicts *
global_dicts ()
{
  auto internals = static_cast<void **> (dlsym (RTLD_DEFAULT, "_ZN4gdcm6Global9InternalsE"));
  return internals && *internals ? static_cast<gdcm::Dicts *> (*internals) : nullptr;
}

namespace mm
{

bool
dictionaries_loaded ()
{
  const gdcm::Dicts *d = global_dicts ();
  return d && !d->IsEmpty ();
}

void
ensure_dictionaries ()
{
  static std::once_flag once;
  std::call_once (once, [] {
    gdcm::Dicts *d = global_dicts ();
    if (d == nullptr)
      g_error ("GDCM's dictionaries cannot be found (gdcm::Global::Internals)");
    if (!d->IsEmpty ())
      return; /* loaded at start-up: GDCM's calls were not ours to take */
    loading_allowed = true;
    /* Dicts::LoadDefaults is protected (Global's friend): GDCM's own, by its symbol. It calls
     * the three loaders above, which now pass on to GDCM's. */
    call_real ("_ZN4gdcm5Dicts12LoadDefaultsEv", d);
  });
}

} // namespace mm

/* For the test only (not in mm-dicom.h): whether GDCM's public dictionary is filled. */
extern "C" bool
mm_dicom_dictionaries_loaded_for_test (void)
{
  return mm::dictionaries_loaded ();
}
