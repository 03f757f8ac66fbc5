// SPDX-License-Identifier: GPL-3.0-or-later
// DIMSE with DCMTK's DcmSCU behind the C API of mm-dimse.h. The only C++ of the network layer;
// it allocates the same GLib structs as the DICOMweb calls.
#include "mm-dimse.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/oflog/oflog.h>

#include <glib/gstdio.h>
#include <string.h>

namespace
{

void
quiet_dcmtk ()
{
  mm_dimse_init ();
}

// An OFCondition's text on one line (DCMTK joins causes with newlines).
char *
one_line (const OFCondition &cond)
{
  char *s = g_strdup (cond.text ());
  for (char *p = s; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ';';
  return s;
}

void
set_error (GError **error, const MmDimsePeer *peer, const char *what, const OFCondition &cond)
{
  g_autofree char *name = mm_dimse_peer_name (peer);
  g_autofree char *text = one_line (cond);
  int code = G_IO_ERROR_FAILED;
  const char *hint = "";
  if (cond == DUL_ASSOCIATIONREJECTED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "PACS %s refused the association of our AE title %s: check the called AE "
                   "title and that the PACS lists ours as a modality",
                   name, peer->our_aet);
      return;
    }
  else if (cond == DIMSE_NODATAAVAILABLE || strstr (text, "imeout") || strstr (text, "timed out"))
    {
      code = G_IO_ERROR_TIMED_OUT;
      hint = " (no answer in time)";
    }
  else if (strstr (text, "TCP Initialization Error") || strstr (text, "refused"))
    {
      code = G_IO_ERROR_CONNECTION_REFUSED;
      hint = " (cannot connect: check host and port)";
    }
  g_set_error (error, G_IO_ERROR, code, "PACS %s: %s failed: %s%s", name, what, text, hint);
}

// One SCU configured for peer, not yet associated.
void
configure (DcmSCU &scu, const MmDimsePeer *peer)
{
  quiet_dcmtk ();
  scu.setAETitle (peer->our_aet);
  scu.setPeerAETitle (peer->called_aet);
  scu.setPeerHostName (peer->host);
  scu.setPeerPort ((Uint16) peer->port);
  scu.setConnectionTimeout ((Sint32) peer->timeout_s);
  scu.setACSETimeout (peer->timeout_s);
  scu.setDIMSEBlockingMode (DIMSE_NONBLOCKING);
  scu.setDIMSETimeout (peer->timeout_s);
  scu.setVerbosePCMode (OFFalse);
}

OFList<OFString>
uncompressed ()
{
  OFList<OFString> ts;
  ts.push_back (UID_LittleEndianExplicitTransferSyntax);
  ts.push_back (UID_LittleEndianImplicitTransferSyntax);
  return ts;
}

bool
associate (DcmSCU &scu, const MmDimsePeer *peer, GError **error)
{
  OFCondition c = scu.initNetwork ();
  if (c.good ())
    c = scu.negotiateAssociation ();
  if (c.bad ())
    {
      set_error (error, peer, "the association", c);
      return false;
    }
  return true;
}

void
finish (DcmSCU &scu, bool ok)
{
  if (!scu.isConnected ())
    return;
  if (ok)
    scu.releaseAssociation ();
  else
    scu.abortAssociation ();
}

char *
get_string (DcmItem *ds, const DcmTagKey &tag)
{
  OFString v;
  if (ds->findAndGetOFStringArray (tag, v).bad () || v.empty ())
    return NULL;
  return g_strdup (v.c_str ());
}

gint64
get_int (DcmItem *ds, const DcmTagKey &tag)
{
  OFString v;
  if (ds->findAndGetOFString (tag, v).bad () || v.empty ())
    return -1;
  char *end = NULL;
  gint64 n = g_ascii_strtoll (v.c_str (), &end, 10);
  return end && *end == '\0' && n >= 0 ? n : -1;
}

void
put (DcmDataset &q, const DcmTagKey &tag, const char *value)
{
  q.putAndInsertString (tag, value ? value : "");
}

// The C-FIND answers of q (pending responses' data sets), or NULL with the error.
OFList<QRResponse *> *
find (const MmDimsePeer *peer, DcmDataset &q, GError **error)
{
  DcmSCU scu;
  configure (scu, peer);
  scu.addPresentationContext (UID_FINDStudyRootQueryRetrieveInformationModel, uncompressed ());
  if (!associate (scu, peer, error))
    return NULL;
  T_ASC_PresentationContextID pc
    = scu.findPresentationContextID (UID_FINDStudyRootQueryRetrieveInformationModel, "");
  if (pc == 0)
    {
      g_autofree char *name = mm_dimse_peer_name (peer);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "PACS %s: does not accept C-FIND (Study Root)", name);
      finish (scu, true);
      return NULL;
    }
  auto *rsp = new OFList<QRResponse *>;
  OFCondition c = scu.sendFINDRequest (pc, &q, rsp);
  Uint16 last = rsp->empty () ? 0xFFFF : rsp->back ()->m_status;
  if (c.bad () || (last != STATUS_Success && last != STATUS_FIND_Pending_MatchesAreContinuing
                   && last != STATUS_FIND_Pending_WarningUnsupportedOptionalKeys))
    {
      if (c.bad ())
        set_error (error, peer, "C-FIND", c);
      else
        {
          g_autofree char *name = mm_dimse_peer_name (peer);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "PACS %s: C-FIND refused with status 0x%04x", name, last);
        }
      for (QRResponse *r : *rsp)
        delete r;
      delete rsp;
      finish (scu, false);
      return NULL;
    }
  finish (scu, true);
  return rsp;
}

void
free_responses (OFList<QRResponse *> *rsp)
{
  for (QRResponse *r : *rsp)
    delete r;
  delete rsp;
}

char *
date_range (const MmPacsQuery *q)
{
  if (q->date_from == NULL && q->date_to == NULL)
    return NULL;
  return g_strdup_printf ("%s-%s", q->date_from ? q->date_from : "",
                          q->date_to ? q->date_to : "");
}

// The receiving side of C-GET: each C-STORE the server sends on our association is written
// into the temporary folder under a number, never a name from the data set.
class GetSCU : public DcmSCU
{
public:
  const char *dir = NULL;
  const MmPacsLimits *lim = NULL;
  MmPacsProgress progress = NULL;
  gpointer user = NULL;
  GCancellable *cancellable = NULL;
  guint n = 0;
  guint64 bytes = 0;
  GError *failure = NULL; // the first local failure (disk, limit, cancel)

  OFCondition
  handleSTORERequest (const T_ASC_PresentationContextID, DcmDataset *incoming,
                      OFBool &continue_session, Uint16 &status) override
  {
    continue_session = OFTrue;
    status = STATUS_Success;
    if (failure == NULL && g_cancellable_set_error_if_cancelled (cancellable, &failure))
      ;
    else if (failure == NULL && n >= lim->max_instances)
      g_set_error (&failure, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "the series has more than %u instances", lim->max_instances);
    if (failure == NULL)
      {
        char name[32];
        g_snprintf (name, sizeof name, "%06u.dcm", n + 1);
        g_autofree char *path = g_build_filename (dir, name, NULL);
        E_TransferSyntax xfer = incoming->getOriginalXfer ();
        DcmFileFormat ff (incoming, OFFalse); // takes the data set over: no second copy
        incoming = NULL;
        OFCondition c = ff.saveFile (path, xfer, EET_ExplicitLength, EGL_recalcGL,
                                     EPD_noChange, 0, 0, EWM_createNewMeta);
        GStatBuf st;
        if (c.bad () || g_stat (path, &st) != 0)
          {
            g_autofree char *text = one_line (c);
            g_set_error (&failure, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: cannot write: %s",
                         path, text);
          }
        else
          {
            n++;
            bytes += (guint64) st.st_size;
            if (bytes > lim->max_bytes || (guint64) st.st_size > lim->max_part_bytes)
              g_set_error (&failure, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                           "the series is larger than the limit of %" G_GUINT64_FORMAT
                           " bytes", lim->max_bytes);
            else if (progress)
              progress (bytes, n, user);
          }
      }
    delete incoming;
    if (failure)
      {
        // Refuse this instance and stop waiting: the caller aborts the association.
        status = STATUS_STORE_Refused_OutOfResources;
        continue_session = OFFalse;
      }
    return EC_Normal;
  }
};

void
remove_partial (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

} // namespace

void
mm_dimse_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      // DCMTK logs warnings to stderr by default; the CLI promises one line per error,
      // which the GError carries.
      OFLog::configure (OFLogger::FATAL_LOG_LEVEL);
      // Debian's DCMTK leaves Nagle's algorithm on unless $TCP_NODELAY says otherwise: our
      // small C-STORE responses then wait for the delayed ACK, about 50 ms an instance of
      // a C-GET (120 instances: 6.0 s, with TCP_NODELAY=1 0.4 s). A value the user set
      // is kept.
      g_setenv ("TCP_NODELAY", "1", FALSE);
      g_once_init_leave (&once, 1);
    }
}

bool
mm_dimse_peer_parse (const char *spec, const char *our_aet, guint timeout_s,
                     MmDimsePeer *peer, GError **error)
{
  memset (peer, 0, sizeof *peer);
  const char *at = spec ? strchr (spec, '@') : NULL;
  const char *colon = at ? strrchr (at, ':') : NULL;
  auto aet_ok = [] (const char *a, gsize len) {
    if (len == 0 || len > 16)
      return false;
    for (gsize i = 0; i < len; i++)
      if ((unsigned char) a[i] < 0x20 || a[i] == '\\' || (unsigned char) a[i] >= 0x7f)
        return false;
    return true;
  };
  char *end = NULL;
  guint64 port = colon ? g_ascii_strtoull (colon + 1, &end, 10) : 0;
  if (at == NULL || colon == NULL || colon == at + 1 || !aet_ok (spec, (gsize) (at - spec))
      || end == colon + 1 || *end != '\0' || port == 0 || port > 65535)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "'%s' is not AET@HOST:PORT (an AE title of 1 to 16 characters, a port "
                   "1 to 65535)",
                   spec ? spec : "");
      return false;
    }
  const char *ours = our_aet ? our_aet : MM_DIMSE_OUR_AET_DEFAULT;
  if (!aet_ok (ours, strlen (ours)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "our AE title '%s' must have 1 to 16 characters without backslash", ours);
      return false;
    }
  peer->called_aet = g_strndup (spec, (gsize) (at - spec));
  peer->host = g_strndup (at + 1, (gsize) (colon - at - 1));
  peer->port = (guint) port;
  peer->our_aet = g_strdup (ours);
  peer->timeout_s = timeout_s ? timeout_s : MM_PACS_TIMEOUT_DEFAULT;
  return true;
}

void
mm_dimse_peer_clear (MmDimsePeer *peer)
{
  g_clear_pointer (&peer->called_aet, g_free);
  g_clear_pointer (&peer->host, g_free);
  g_clear_pointer (&peer->our_aet, g_free);
}

char *
mm_dimse_peer_name (const MmDimsePeer *peer)
{
  return g_strdup_printf ("%s@%s:%u", peer->called_aet, peer->host, peer->port);
}

bool
mm_dimse_echo (const MmDimsePeer *peer, GError **error)
{
  DcmSCU scu;
  configure (scu, peer);
  scu.addPresentationContext (UID_VerificationSOPClass, uncompressed ());
  if (!associate (scu, peer, error))
    return false;
  OFCondition c = scu.sendECHORequest (0);
  if (c.bad ())
    set_error (error, peer, "C-ECHO", c);
  finish (scu, c.good ());
  return c.good ();
}

GPtrArray *
mm_dimse_find_studies (const MmDimsePeer *peer, const MmPacsQuery *q, GError **error)
{
  DcmDataset k;
  g_autofree char *dates = date_range (q);
  put (k, DCM_QueryRetrieveLevel, "STUDY");
  put (k, DCM_StudyInstanceUID, NULL);
  put (k, DCM_PatientName, q->patient_name);
  put (k, DCM_PatientID, q->patient_id);
  put (k, DCM_AccessionNumber, q->accession);
  put (k, DCM_StudyDate, dates);
  put (k, DCM_StudyTime, NULL);
  put (k, DCM_StudyDescription, NULL);
  put (k, DCM_ModalitiesInStudy, q->modality);
  put (k, DCM_NumberOfStudyRelatedSeries, NULL);
  put (k, DCM_NumberOfStudyRelatedInstances, NULL);
  OFList<QRResponse *> *rsp = find (peer, k, error);
  if (rsp == NULL)
    return NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) mm_pacs_study_free);
  for (QRResponse *r : *rsp)
    {
      if (r->m_dataset == NULL || (q->limit && out->len >= q->limit))
        continue;
      g_autofree char *uid = get_string (r->m_dataset, DCM_StudyInstanceUID);
      if (!mm_pacs_uid_ok (uid))
        {
          g_autofree char *name = mm_dimse_peer_name (peer);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "PACS %s: a C-FIND answer without a valid Study Instance UID", name);
          g_ptr_array_unref (out);
          free_responses (rsp);
          return NULL;
        }
      MmPacsStudy *s = g_new0 (MmPacsStudy, 1);
      s->study_uid = g_steal_pointer (&uid);
      s->patient_name = get_string (r->m_dataset, DCM_PatientName);
      s->patient_id = get_string (r->m_dataset, DCM_PatientID);
      s->accession = get_string (r->m_dataset, DCM_AccessionNumber);
      s->date = get_string (r->m_dataset, DCM_StudyDate);
      s->time = get_string (r->m_dataset, DCM_StudyTime);
      s->description = get_string (r->m_dataset, DCM_StudyDescription);
      s->modalities = get_string (r->m_dataset, DCM_ModalitiesInStudy);
      s->n_series = get_int (r->m_dataset, DCM_NumberOfStudyRelatedSeries);
      s->n_instances = get_int (r->m_dataset, DCM_NumberOfStudyRelatedInstances);
      g_ptr_array_add (out, s);
    }
  free_responses (rsp);
  return out;
}

GPtrArray *
mm_dimse_find_series (const MmDimsePeer *peer, const MmPacsQuery *q, GError **error)
{
  if (!mm_pacs_uid_ok (q->study_uid))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "a series search needs the study's UID");
      return NULL;
    }
  DcmDataset k;
  put (k, DCM_QueryRetrieveLevel, "SERIES");
  put (k, DCM_StudyInstanceUID, q->study_uid);
  put (k, DCM_SeriesInstanceUID, NULL);
  put (k, DCM_Modality, q->modality);
  put (k, DCM_SeriesDescription, NULL);
  put (k, DCM_SeriesNumber, NULL);
  put (k, DCM_NumberOfSeriesRelatedInstances, NULL);
  OFList<QRResponse *> *rsp = find (peer, k, error);
  if (rsp == NULL)
    return NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) mm_pacs_series_free);
  for (QRResponse *r : *rsp)
    {
      if (r->m_dataset == NULL || (q->limit && out->len >= q->limit))
        continue;
      g_autofree char *uid = get_string (r->m_dataset, DCM_SeriesInstanceUID);
      if (!mm_pacs_uid_ok (uid))
        continue; // a series without a usable UID cannot be retrieved; not listed
      MmPacsSeries *s = g_new0 (MmPacsSeries, 1);
      s->study_uid = g_strdup (q->study_uid);
      s->series_uid = g_steal_pointer (&uid);
      s->modality = get_string (r->m_dataset, DCM_Modality);
      s->description = get_string (r->m_dataset, DCM_SeriesDescription);
      s->number = get_int (r->m_dataset, DCM_SeriesNumber);
      s->n_instances = get_int (r->m_dataset, DCM_NumberOfSeriesRelatedInstances);
      g_ptr_array_add (out, s);
    }
  free_responses (rsp);
  return out;
}

guint
mm_dimse_get_series (const MmDimsePeer *peer, const char *study_uid, const char *series_uid,
                     const char *dest, const MmPacsLimits *lim, MmPacsProgress progress,
                     gpointer user, GCancellable *cancellable, GError **error)
{
  MmPacsLimits deflim;
  if (lim == NULL)
    {
      mm_pacs_limits_init (&deflim);
      lim = &deflim;
    }
  if (!mm_pacs_uid_ok (study_uid) || !mm_pacs_uid_ok (series_uid))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the study and series UIDs must be UIDs (digits and dots)");
      return 0;
    }
  // The destination: absent, or an empty folder (rename replaces an empty folder).
  if (g_file_test (dest, G_FILE_TEST_EXISTS))
    {
      g_autoptr (GDir) d = g_dir_open (dest, 0, NULL);
      if (d == NULL || g_dir_read_name (d) != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       "%s: exists and is not an empty folder", dest);
          return 0;
        }
    }
  g_autofree char *parent = g_path_get_dirname (dest);
  g_autofree char *base = g_path_get_basename (dest);
  g_autofree char *tmpl = g_strdup_printf ("%s/.%s.part-XXXXXX", parent, base);
  if (g_mkdtemp_full (tmpl, 0755) == NULL)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: cannot create: %s",
                   parent, g_strerror (e));
      return 0;
    }

  GetSCU scu;
  configure (scu, peer);
  scu.dir = tmpl;
  scu.lim = lim;
  scu.progress = progress;
  scu.user = user;
  scu.cancellable = cancellable;
  scu.addPresentationContext (UID_GETStudyRootQueryRetrieveInformationModel, uncompressed ());
  // Each transfer syntax its own presentation context: the server picks, per instance, the
  // context of the syntax it holds, so compressed instances arrive as stored.
  static const char *const classes[]
    = { UID_CTImageStorage, UID_EnhancedCTImageStorage, UID_MRImageStorage,
        UID_EnhancedMRImageStorage, UID_PositronEmissionTomographyImageStorage,
        UID_SecondaryCaptureImageStorage, UID_SegmentationStorage,
        UID_RTStructureSetStorage, UID_RTDoseStorage,
        UID_DigitalXRayImageStorageForPresentation };
  static const char *const compressed[]
    = { UID_JPEGLSLosslessTransferSyntax, UID_JPEGLSLossyTransferSyntax,
        UID_JPEGProcess14SV1TransferSyntax, UID_JPEGProcess14TransferSyntax,
        UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
        UID_RLELosslessTransferSyntax, UID_JPEGProcess1TransferSyntax };
  for (const char *cls : classes)
    {
      scu.addPresentationContext (cls, uncompressed (), ASC_SC_ROLE_SCP);
      for (const char *ts : compressed)
        {
          OFList<OFString> one;
          one.push_back (ts);
          scu.addPresentationContext (cls, one, ASC_SC_ROLE_SCP);
        }
    }
  guint n = 0;
  bool ok = associate (scu, peer, error);
  if (ok)
    {
      T_ASC_PresentationContextID pc
        = scu.findPresentationContextID (UID_GETStudyRootQueryRetrieveInformationModel, "");
      g_autofree char *name = mm_dimse_peer_name (peer);
      if (pc == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "PACS %s: does not accept C-GET (Study Root)", name);
          ok = false;
        }
      else
        {
          DcmDataset k;
          put (k, DCM_QueryRetrieveLevel, "SERIES");
          put (k, DCM_StudyInstanceUID, study_uid);
          put (k, DCM_SeriesInstanceUID, series_uid);
          OFList<RetrieveResponse *> rsp;
          OFCondition c = scu.sendCGETRequest (pc, &k, &rsp);
          RetrieveResponse *last = rsp.empty () ? NULL : rsp.back ();
          if (scu.failure)
            {
              g_propagate_prefixed_error (error, scu.failure, "PACS %s: C-GET stopped: ",
                                          name);
              scu.failure = NULL;
              ok = false;
            }
          else if (c.bad ())
            {
              set_error (error, peer, "C-GET", c);
              ok = false;
            }
          else if (last == NULL || last->m_status != STATUS_Success
                   || last->m_numberOfFailedSubops > 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           "PACS %s: C-GET ended with status 0x%04x (%u failed, %u received): "
                           "is our AE title %s allowed to retrieve, and does the series hold "
                           "only CT, MR, PET, SC, SEG, RT or DX instances?",
                           name, last ? last->m_status : 0xFFFF,
                           last ? last->m_numberOfFailedSubops : 0, scu.n, peer->our_aet);
              ok = false;
            }
          else if (scu.n == 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "PACS %s: no instance of series %s in study %s", name, series_uid,
                           study_uid);
              ok = false;
            }
          for (RetrieveResponse *r : rsp)
            delete r;
        }
      finish (scu, ok);
    }
  g_clear_error (&scu.failure);
  if (ok && g_file_test (dest, G_FILE_TEST_IS_DIR) && g_rmdir (dest) != 0)
    ok = false, g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s: cannot replace", dest);
  if (ok && g_rename (tmpl, dest) != 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: cannot rename into "
                   "place: %s", dest, g_strerror (e));
      ok = false;
    }
  if (ok)
    n = scu.n;
  else
    remove_partial (tmpl);
  return n;
}

bool
mm_dimse_store_files (const MmDimsePeer *peer, const char *const *files, MmPacsStowResult *r,
                      GError **error)
{
  memset (r, 0, sizeof *r);
  DcmSCU scu;
  configure (scu, peer);
  // One presentation context per (SOP class, transfer syntax) of the files.
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; files[i]; i++)
    {
      DcmFileFormat ff;
      OFString cls, ts;
      OFCondition c = ff.loadFile (files[i], EXS_Unknown, EGL_noChange, 4096, ERM_metaOnly);
      if (c.good ())
        {
          ff.getMetaInfo ()->findAndGetOFString (DCM_MediaStorageSOPClassUID, cls);
          ff.getMetaInfo ()->findAndGetOFString (DCM_TransferSyntaxUID, ts);
        }
      if (c.bad () || cls.empty () || ts.empty ())
        {
          g_autofree char *text = c.bad () ? one_line (c) : g_strdup ("no SOP class or "
                                                                    "transfer syntax in its "
                                                                    "file meta information");
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: not a DICOM Part 10 file to send: %s", files[i], text);
          g_hash_table_unref (seen);
          return false;
        }
      g_autofree char *key = g_strdup_printf ("%s %s", cls.c_str (), ts.c_str ());
      if (g_hash_table_add (seen, g_steal_pointer (&key)))
        {
          OFList<OFString> one;
          one.push_back (ts);
          scu.addPresentationContext (cls, one);
          if (ts == UID_LittleEndianExplicitTransferSyntax)
            scu.addPresentationContext (cls, uncompressed ());
        }
    }
  g_hash_table_unref (seen);
  if (!associate (scu, peer, error))
    return false;
  bool ok = true;
  for (guint i = 0; files[i] && ok; i++)
    {
      Uint16 status = 0;
      r->n_sent++;
      OFCondition c = scu.sendSTORERequest (0, files[i], NULL, status);
      if (c.bad ())
        {
          set_error (error, peer, "C-STORE", c);
          ok = false;
        }
      else if (status == STATUS_Success)
        r->n_accepted++;
      else if ((status & 0xF000) == 0xB000)
        {
          r->n_accepted++;
          r->n_warnings++;
          if (r->message == NULL)
            r->message = g_strdup_printf ("%s: stored with warning status 0x%04x", files[i],
                                          status);
        }
      else
        {
          r->n_failed++;
          if (r->message == NULL)
            r->message = g_strdup_printf ("%s: refused with status 0x%04x", files[i], status);
        }
    }
  finish (scu, ok);
  if (!ok)
    mm_pacs_stow_result_clear (r);
  return ok;
}
