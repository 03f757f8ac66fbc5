/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Writing data elements with GDCM: string padding and decimal strings. */
#include "mm-dicom-element.hh"

#include <glib.h>

#include <cstring>

namespace mm
{

void
put_str (gdcm::DataSet &ds, uint16_t g, uint16_t e, const gdcm::VR &vr, const std::string &v)
{
  std::string s = v;
  if (s.size () % 2)
    s += vr == gdcm::VR::UI ? '\0' : ' ';
  gdcm::DataElement de (gdcm::Tag (g, e));
  de.SetVR (vr);
  de.SetByteValue (s.data (), (uint32_t) s.size ());
  ds.Replace (de);
}

std::string
ds_value (double v)
{
  char buf[32];
  for (int prec = 12; prec > 0; prec--)
    {
      g_snprintf (buf, sizeof buf, "%.*g", prec, v);
      if (std::strlen (buf) <= 16)
        break;
    }
  return buf;
}

std::string
ds_values (const double *v, int n)
{
  std::string s;
  for (int a = 0; a < n; a++)
    s += (a ? "\\" : "") + ds_value (v[a]);
  return s;
}

} // namespace mm
