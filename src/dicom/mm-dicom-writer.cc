/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Writing a volume as a CT Image Storage series with GDCM, in any of the transfer syntaxes
 * the reader must handle (the phantom's files). */
#include "mm-dicom.h"
#include "mm-dicom-element.hh"
#include "mm-dicom-private.hh"

#include <gdcmAttribute.h>
#include <gdcmImage.h>
#include <gdcmImageChangeTransferSyntax.h>
#include <gdcmImageWriter.h>
#include <gdcmTrace.h>

#include <cerrno>
#include <cmath>
#include <glib/gstdio.h>
#include <stdexcept>
#include <cstring>
#include <numeric>
#include <omp.h>
#include <string>
#include <vector>

namespace
{

struct SyntaxName
{
  const char *name;
  MmDicomSyntax syntax;
  gdcm::TransferSyntax::TSType ts;
};

const SyntaxName syntax_names[] = {
  { "explicit", MM_DICOM_SYNTAX_EXPLICIT, gdcm::TransferSyntax::ExplicitVRLittleEndian },
  { "implicit", MM_DICOM_SYNTAX_IMPLICIT, gdcm::TransferSyntax::ImplicitVRLittleEndian },
  { "bigendian", MM_DICOM_SYNTAX_BIG_ENDIAN, gdcm::TransferSyntax::ExplicitVRBigEndian },
  { "rle", MM_DICOM_SYNTAX_RLE, gdcm::TransferSyntax::RLELossless },
  { "jpeg", MM_DICOM_SYNTAX_JPEG_LOSSLESS, gdcm::TransferSyntax::JPEGLosslessProcess14_1 },
  { "jpegls", MM_DICOM_SYNTAX_JPEG_LS, gdcm::TransferSyntax::JPEGLSLossless },
  { "j2k", MM_DICOM_SYNTAX_J2K, gdcm::TransferSyntax::JPEG2000Lossless },
};

} // namespace

bool
mm_dicom_syntax_from_name (const char *name, MmDicomSyntax *syntax)
{
  for (const SyntaxName &s : syntax_names)
    if (g_ascii_strcasecmp (name, s.name) == 0)
      {
        *syntax = s.syntax;
        return true;
      }
  return false;
}

const char *
mm_dicom_syntax_names (void)
{
  return "explicit, implicit, bigendian, rle, jpeg, jpegls, j2k";
}

static bool write_series_unguarded (const char *dir, const MmVolume *vol,
                                    const MmDicomWriteOptions *opts, GError **error);

/* No C++ exception leaves the C API. */
bool
mm_dicom_write_series (const char *dir, const MmVolume *vol, const MmDicomWriteOptions *opts,
                       GError **error)
{
  GError *err = nullptr;
  bool ok = false;
  try
    {
      mm::ensure_dictionaries (); /* GDCM's ImageWriter takes VRs from them */
      ok = write_series_unguarded (dir, vol, opts, &err);
    }
  catch (const std::exception &e)
    {
      g_clear_error (&err);
      g_set_error (&err, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE, "%s: cannot write: %s", dir,
                   e.what ());
    }
  catch (...)
    {
      g_clear_error (&err);
      g_set_error (&err, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE, "%s: cannot write", dir);
    }
  if (err)
    {
      g_propagate_error (error, err);
      return false;
    }
  return ok;
}

static bool
write_series_unguarded (const char *dir, const MmVolume *vol, const MmDicomWriteOptions *opts,
                        GError **error)
{
  g_return_val_if_fail (dir && vol && opts, false);
  g_return_val_if_fail (vol->type == MM_VOXEL_INT16, false);
  gdcm::Trace::SetWarning (false);
  gdcm::Trace::SetDebug (false);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE, "%s: cannot create folder: %s",
                   dir, g_strerror (errno));
      return false;
    }
  gdcm::TransferSyntax::TSType ts = gdcm::TransferSyntax::ExplicitVRLittleEndian;
  for (const SyntaxName &s : syntax_names)
    if (s.syntax == opts->syntax)
      ts = s.ts;

  int n = vol->dims[2];
  /* Shuffled names: a permutation from the seed, so nothing can be learnt from file order. */
  std::vector<int> perm (n);
  std::iota (perm.begin (), perm.end (), 0);
  if (opts->shuffle_names)
    {
      GRand *rand = g_rand_new_with_seed ((guint32) (opts->seed * 2654435761u + 17));
      for (int a = n - 1; a > 0; a--)
        std::swap (perm[a], perm[g_rand_int_range (rand, 0, a + 1)]);
      g_rand_free (rand);
    }

  /* One study and series date and time for all slices: GDCM's writer would otherwise stamp
   * each file with the moment it was written, and a reader that stacks by study time
   * (dcm2niix) splits the series into many volumes. */
  GDateTime *now = g_date_time_new_now_utc ();
  g_autofree char *date_c = g_date_time_format (now, "%Y%m%d");
  g_autofree char *time_c = g_date_time_format (now, "%H%M%S");
  g_date_time_unref (now);
  const std::string series_date (date_c), series_time (time_c);

  GError *first_error = nullptr;
#pragma omp parallel for schedule (dynamic, 1)
  for (int k = 0; k < n; k++)
    {
      std::string why;
      try
        {
          const MmSliceInfo *s = &vol->slices[k];
          std::vector<int16_t> stored;
          gdcm::SmartPointer<gdcm::Image> im = mm::ct_slice_image (vol, k, stored);

          gdcm::ImageChangeTransferSyntax change;
          change.SetTransferSyntax (ts);
          change.SetInput (*im);
          if (ts != gdcm::TransferSyntax::ExplicitVRLittleEndian && !change.Change ())
            {
              why = "GDCM cannot encode this transfer syntax";
              throw std::runtime_error (why);
            }
          const gdcm::Image &out = ts != gdcm::TransferSyntax::ExplicitVRLittleEndian
                                       ? change.GetOutput () : *im;

          gdcm::ImageWriter writer;
          writer.SetImage (out);
          gdcm::DataSet &ds = writer.GetFile ().GetDataSet ();
          mm::put_str (ds, 0x0008, 0x0016, gdcm::VR::UI, "1.2.840.10008.5.1.4.1.1.2");
          mm::put_str (ds, 0x0008, 0x0018, gdcm::VR::UI, s->sop_instance_uid);
          mm::put_str (ds, 0x0008, 0x0020, gdcm::VR::DA, series_date);
          mm::put_str (ds, 0x0008, 0x0021, gdcm::VR::DA, series_date);
          mm::put_str (ds, 0x0008, 0x0030, gdcm::VR::TM, series_time);
          mm::put_str (ds, 0x0008, 0x0031, gdcm::VR::TM, series_time);
          mm::put_str (ds, 0x0008, 0x0060, gdcm::VR::CS, vol->modality ? vol->modality : "CT");
          mm::put_str (ds, 0x0008, 0x0070, gdcm::VR::LO, "Metalmark");
          mm::put_str (ds, 0x0008, 0x103e, gdcm::VR::LO,
                      vol->series_description ? vol->series_description : "");
          mm::put_str (ds, 0x0010, 0x0010, gdcm::VR::PN, "Phantom^Metalmark");
          mm::put_str (ds, 0x0010, 0x0020, gdcm::VR::LO, "MM-PHANTOM");
          mm::put_str (ds, 0x0018, 0x0050, gdcm::VR::DS, mm::ds_value (vol->spacing[2] * 1.25));
          mm::put_str (ds, 0x0020, 0x000d, gdcm::VR::UI, vol->study_uid ? vol->study_uid : "");
          mm::put_str (ds, 0x0020, 0x000e, gdcm::VR::UI, vol->series_uid ? vol->series_uid : "");
          mm::put_str (ds, 0x0020, 0x0011, gdcm::VR::IS, "1");
          mm::put_str (ds, 0x0020, 0x0013, gdcm::VR::IS, std::to_string (s->instance_number));
          mm::put_str (ds, 0x0020, 0x0032, gdcm::VR::DS, mm::ds_values (s->position, 3));
          mm::put_str (ds, 0x0020, 0x0037, gdcm::VR::DS, mm::ds_values (vol->direction, 6));
          mm::put_str (ds, 0x0020, 0x0052, gdcm::VR::UI,
                      vol->frame_of_reference_uid ? vol->frame_of_reference_uid : "");
          /* Slice Location against the normal, as the seed CT has it: readers must not use it. */
          mm::put_str (ds, 0x0020, 0x1041, gdcm::VR::DS, mm::ds_value (-mm_volume_slice_z (vol, k)));
          /* GDCM's writer puts "US" (unspecified) there by default; these values are HU. */
          mm::put_str (ds, 0x0028, 0x1054, gdcm::VR::LO, "HU");
          double psp[2] = { vol->spacing[1], vol->spacing[0] };
          mm::put_str (ds, 0x0028, 0x0030, gdcm::VR::DS, mm::ds_values (psp, 2));
          if (vol->has_window)
            {
              mm::put_str (ds, 0x0028, 0x1050, gdcm::VR::DS, mm::ds_value (vol->window_center));
              mm::put_str (ds, 0x0028, 0x1051, gdcm::VR::DS, mm::ds_value (vol->window_width));
            }
          if (opts->padding_tag)
            {
              /* Pixel Padding Value (0028,0120), SS for signed pixels, in stored units. */
              int16_t pv = (int16_t) std::lrint (opts->padding_value_hu + 1024.0);
              gdcm::DataElement de (gdcm::Tag (0x0028, 0x0120));
              de.SetVR (gdcm::VR::SS);
              de.SetByteValue ((const char *) &pv, 2);
              ds.Replace (de);
            }

          int number = opts->shuffle_names ? perm[k] : s->instance_number;
          g_autofree char *name
              = opts->shuffle_names
                    ? g_strdup_printf ("x%08x.dcm", (unsigned) (number * 2654435761u) ^ 0x5bd1e995u)
                    : g_strdup_printf ("CT%06d.dcm", number);
          g_autofree char *path = g_build_filename (dir, name, nullptr);
          g_autofree char *tmp = g_strdup_printf ("%s.tmp", path);
          writer.SetFileName (tmp);
          if (!writer.Write () || rename (tmp, path) != 0)
            {
              g_unlink (tmp);
              why = std::string (path) + ": cannot write";
              throw std::runtime_error (why);
            }
        }
      catch (const std::exception &e)
        {
#pragma omp critical (mm_dicom_write_error)
          if (first_error == nullptr)
            g_set_error (&first_error, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE,
                         "%s: slice %d: %s", dir, k, why.empty () ? e.what () : why.c_str ());
        }
      catch (...)
        {
#pragma omp critical (mm_dicom_write_error)
          if (first_error == nullptr)
            g_set_error (&first_error, MM_DICOM_ERROR, MM_DICOM_ERROR_WRITE,
                         "%s: slice %d: GDCM failed while writing it", dir, k);
        }
    }
  if (first_error)
    {
      g_propagate_error (error, first_error);
      return false;
    }
  return true;
}

gdcm::SmartPointer<gdcm::Image>
mm::ct_slice_image (const MmVolume *vol, int k, std::vector<int16_t> &stored)
{
  const int w = vol->dims[0], h = vol->dims[1];
  const MmSliceInfo *s = &vol->slices[k];
  stored.resize ((size_t) w * h);
  const int16_t *src = (const int16_t *) vol->voxels + (size_t) k * w * h;
  for (size_t x = 0; x < stored.size (); x++)
    stored[x] = (int16_t) CLAMP ((int) src[x] + 1024, G_MININT16, G_MAXINT16);
  gdcm::SmartPointer<gdcm::Image> im = new gdcm::Image;
  im->SetNumberOfDimensions (2);
  im->SetDimension (0, w);
  im->SetDimension (1, h);
  im->SetPixelFormat (gdcm::PixelFormat::INT16);
  im->SetPhotometricInterpretation (gdcm::PhotometricInterpretation::MONOCHROME2);
  im->SetSpacing (0, vol->spacing[0]);
  im->SetSpacing (1, vol->spacing[1]);
  for (unsigned a = 0; a < 3; a++)
    im->SetOrigin (a, s->position[a]);
  im->SetDirectionCosines (vol->direction);
  im->SetIntercept (-1024.0);
  im->SetSlope (1.0);
  gdcm::DataElement pixel (gdcm::Tag (0x7fe0, 0x0010));
  pixel.SetByteValue ((const char *) stored.data (), (uint32_t) (stored.size () * 2));
  im->SetDataElement (pixel);
  im->SetTransferSyntax (gdcm::TransferSyntax::ExplicitVRLittleEndian);
  return im;
}
