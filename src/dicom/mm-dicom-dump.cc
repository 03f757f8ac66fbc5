/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The tags dump (mm-dicom-dump.h): the file's structure checked first (GDCM asserts on
 * damaged files), GDCM parses the checked header from memory, and its data set becomes a
 * tree of plain C structs within the caller's caps. */
#include "mm-dicom-dump.h"
#include "mm-dicom.h"
#include "mm-dicom-private.hh"
#include "mm-dicom-util.hh"

#include "mm-text.h"

#include <gdcmDicts.h>
#include <gdcmGlobal.h>
#include <gdcmReader.h>

#include <cstring>
#include <set>

namespace mm
{
namespace
{

struct Dumper
{
  MmDicomDumpLimits lim;
  guint n_nodes = 0;
  bool truncated = false;
  const gdcm::Dicts &dicts = gdcm::Global::GetInstance ().GetDicts ();

  MmDicomTag *
  node (uint16_t g, uint16_t e)
  {
    n_nodes++;
    MmDicomTag *t = g_new0 (MmDicomTag, 1);
    t->group = g;
    t->element = e;
    return t;
  }

  /* The Private Creator of a private element (gggg,xxee): the value of (gggg,00xx). Looked up
   * here rather than with GDCM's DataSet::GetPrivateCreator, which asserts when that element
   * holds no bytes (a sequence in a hostile file). */
  static std::string
  private_creator (const gdcm::DataSet &ds, uint16_t g, uint16_t e)
  {
    uint16_t block = e >> 8;
    if (block < 0x10)
      return "";
    const gdcm::Tag ct (g, block);
    if (!ds.FindDataElement (ct))
      return "";
    const gdcm::ByteValue *bv = ds.GetDataElement (ct).GetByteValue ();
    if (bv == nullptr || bv->GetPointer () == nullptr)
      return "";
    std::string s (bv->GetPointer (), bv->GetLength ());
    while (!s.empty () && (s.back () == ' ' || s.back () == '\0'))
      s.pop_back ();
    return s;
  }

  /* Name, keyword and the dictionary's VR (for implicit VR files) of an element. */
  void
  describe (const gdcm::DataSet &ds, const gdcm::DataElement &de, MmDicomTag *t,
            gdcm::VR &dict_vr)
  {
    const gdcm::Tag &tag = de.GetTag ();
    dict_vr = gdcm::VR::INVALID;
    if (tag.IsPrivate ())
      {
        if (tag.IsPrivateCreator ())
          {
            t->name = g_strdup ("Private Creator");
            dict_vr = gdcm::VR::LO;
            return;
          }
        std::string owner = private_creator (ds, tag.GetGroup (), tag.GetElement ());
        if (owner.empty ())
          return;
        t->creator = mm_text_printable (owner.c_str ());
        const gdcm::PrivateDict &pd = dicts.GetPrivateDict ();
        gdcm::PrivateTag pt (tag.GetGroup (), tag.GetElement (), owner.c_str ());
        if (!pd.FindDictEntry (pt))
          return;
        const gdcm::DictEntry &entry = pd.GetDictEntry (pt);
        if (entry.GetName () && *entry.GetName ())
          t->name = mm_text_printable (entry.GetName ());
        if (entry.GetKeyword () && *entry.GetKeyword ())
          t->keyword = mm_text_printable (entry.GetKeyword ());
        dict_vr = entry.GetVR ();
        return;
      }
    if (tag.GetGroup () == 0xffff) /* the dictionary's sentinel */
      return;
    const gdcm::DictEntry &entry = dicts.GetDictEntry (tag);
    if (entry.GetName () && *entry.GetName ())
      t->name = mm_text_printable (entry.GetName ());
    if (entry.GetKeyword () && *entry.GetKeyword ())
      t->keyword = mm_text_printable (entry.GetKeyword ());
    dict_vr = entry.GetVR ();
  }

  /* Append s to out, cut at the value cap. */
  void
  set_value (MmDicomTag *t, const std::string &s)
  {
    std::string v = s;
    if (v.size () > lim.max_value_chars)
      {
        v.resize (lim.max_value_chars);
        /* Do not leave half a UTF-8 sequence: mm_text_printable would show it as U+FFFD. */
        while (!v.empty () && ((unsigned char) v.back () & 0xc0) == 0x80)
          v.pop_back ();
        if (!v.empty () && ((unsigned char) v.back () & 0x80))
          v.pop_back ();
        t->value_truncated = true;
        truncated = true;
      }
    t->value = mm_text_printable (v.c_str ());
  }

  static bool
  is_string_vr (const char *vr)
  {
    static const char *const vrs[] = { "AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT",
                                       "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT" };
    for (const char *v : vrs)
      if (!std::strcmp (vr, v))
        return true;
    return false;
  }

  /* A shortest decimal that reads back as v (float when single). */
  static std::string
  number (double v, bool single)
  {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    for (int prec = 1; prec <= 17; prec++)
      {
        g_ascii_formatd (buf, sizeof buf, fmt ("%%.%dg", prec).c_str (), v);
        double back = g_ascii_strtod (buf, nullptr);
        if (single ? (float) back == (float) v : back == v)
          break;
      }
    return buf;
  }

  /* Binary numbers (values in the host's order: GDCM swaps big endian data on reading). */
  std::string
  numbers (const char *vr, const char *p, size_t len)
  {
    size_t size = 0;
    if (!std::strcmp (vr, "US") || !std::strcmp (vr, "SS"))
      size = 2;
    else if (!std::strcmp (vr, "UL") || !std::strcmp (vr, "SL") || !std::strcmp (vr, "FL")
             || !std::strcmp (vr, "AT"))
      size = 4;
    else if (!std::strcmp (vr, "FD") || !std::strcmp (vr, "SV") || !std::strcmp (vr, "UV"))
      size = 8;
    size_t n = len / size;
    std::string out;
    for (size_t i = 0; i < n && i < lim.max_numbers; i++)
      {
        const char *q = p + i * size;
        if (i)
          out += '\\';
        if (!std::strcmp (vr, "US"))
          { uint16_t x; std::memcpy (&x, q, 2); out += std::to_string (x); }
        else if (!std::strcmp (vr, "SS"))
          { int16_t x; std::memcpy (&x, q, 2); out += std::to_string (x); }
        else if (!std::strcmp (vr, "UL"))
          { uint32_t x; std::memcpy (&x, q, 4); out += std::to_string (x); }
        else if (!std::strcmp (vr, "SL"))
          { int32_t x; std::memcpy (&x, q, 4); out += std::to_string (x); }
        else if (!std::strcmp (vr, "AT"))
          {
            uint16_t x[2];
            std::memcpy (x, q, 4);
            out += fmt ("(%04X,%04X)", x[0], x[1]);
          }
        else if (!std::strcmp (vr, "FL"))
          { float x; std::memcpy (&x, q, 4); out += number (x, true); }
        else if (!std::strcmp (vr, "FD"))
          { double x; std::memcpy (&x, q, 8); out += number (x, false); }
        else if (!std::strcmp (vr, "SV"))
          { int64_t x; std::memcpy (&x, q, 8); out += std::to_string (x); }
        else
          { uint64_t x; std::memcpy (&x, q, 8); out += std::to_string (x); }
      }
    if (n > lim.max_numbers)
      out += fmt ("\\… (%zu values)", n);
    return out;
  }

  bool
  is_number_vr (const char *vr)
  {
    static const char *const vrs[] = { "US", "SS", "UL", "SL", "FL", "FD", "AT", "SV", "UV" };
    for (const char *v : vrs)
      if (!std::strcmp (vr, v))
        return true;
    return false;
  }

  static bool
  printable_ascii (const char *p, size_t len)
  {
    size_t n = len;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\0'))
      n--;
    if (n == 0)
      return false;
    for (size_t i = 0; i < n; i++)
      if ((unsigned char) p[i] < 0x20 || (unsigned char) p[i] > 0x7e)
        return false;
    return true;
  }

  void
  value_of (const gdcm::DataElement &de, MmDicomTag *t)
  {
    const gdcm::ByteValue *bv = de.GetByteValue ();
    if (bv == nullptr || bv->GetPointer () == nullptr)
      {
        if (de.GetSequenceOfFragments ())
          set_value (t, "<encapsulated>");
        else
          set_value (t, "");
        return;
      }
    const char *p = bv->GetPointer ();
    size_t len = bv->GetLength ();
    if (is_string_vr (t->vr))
      {
        /* Only the part shown is copied: a hostile value may be hundreds of MB. */
        size_t n = len < (size_t) lim.max_value_chars + 8 ? len : (size_t) lim.max_value_chars + 8;
        std::string s (p, n);
        if (n == len)
          while (!s.empty () && (s.back () == ' ' || s.back () == '\0'))
            s.pop_back ();
        if (n < len)
          {
            set_value (t, s);
            t->value_truncated = true;
            truncated = true;
          }
        else
          set_value (t, s);
      }
    else if (is_number_vr (t->vr))
      set_value (t, numbers (t->vr, p, len));
    else if (!std::strcmp (t->vr, "UN") && len <= lim.max_value_chars && printable_ascii (p, len))
      {
        /* An implicit VR element the dictionary does not know (a private one, mostly) is
         * often text: shown as such, as pydicom and dcmdump do. */
        std::string s (p, len);
        while (!s.empty () && (s.back () == ' ' || s.back () == '\0'))
          s.pop_back ();
        set_value (t, s);
      }
    else
      set_value (t, fmt ("<%zu bytes>", len));
  }

  void
  dataset (const gdcm::DataSet &ds, MmDicomTag *parent, guint depth)
  {
    parent->children = g_ptr_array_new_with_free_func (
        [] (gpointer p) { mm_dicom_tag_free_internal ((MmDicomTag *) p); });
    for (const gdcm::DataElement &de : ds.GetDES ())
      {
        if (n_nodes >= lim.max_nodes)
          {
            parent->children_truncated = true;
            truncated = true;
            return;
          }
        element (ds, de, parent, depth);
      }
  }

  void
  element (const gdcm::DataSet &ds, const gdcm::DataElement &de, MmDicomTag *parent,
           guint depth)
  {
    const gdcm::Tag &tag = de.GetTag ();
    MmDicomTag *t = node (tag.GetGroup (), tag.GetElement ());
    g_ptr_array_add (parent->children, t);
    t->length = de.GetVL ().IsUndefined () ? 0 : (guint64) (uint32_t) de.GetVL ();
    gdcm::VR dict_vr;
    describe (ds, de, t, dict_vr);
    gdcm::VR vr = de.GetVR ();
    if (vr == gdcm::VR::INVALID || vr == gdcm::VR::UN)
      vr = dict_vr; /* implicit VR: the dictionary's (UN when it does not know the tag) */
    const char *vs = gdcm::VR::GetVRString (vr);
    if (vs == nullptr || vr == gdcm::VR::INVALID)
      vs = "UN";
    /* "US or SS" etc.: the first */
    t->vr[0] = vs[0];
    t->vr[1] = vs[0] ? vs[1] : 0;
    t->vr[2] = 0;
    /* GetValue asserts on an empty element. */
    bool sq = vr == gdcm::VR::SQ
              || (!de.IsEmpty ()
                  && dynamic_cast<const gdcm::SequenceOfItems *> (&de.GetValue ()) != nullptr);
    if (!sq)
      {
        value_of (de, t);
        return;
      }
    std::strcpy (t->vr, "SQ");
    gdcm::SmartPointer<gdcm::SequenceOfItems> seq = checked_sq (de);
    t->children = g_ptr_array_new_with_free_func (
        [] (gpointer p) { mm_dicom_tag_free_internal ((MmDicomTag *) p); });
    if (!seq)
      return;
    if (depth + 1 > lim.max_depth)
      {
        t->children_truncated = seq->GetNumberOfItems () > 0;
        truncated = truncated || t->children_truncated;
        return;
      }
    for (gdcm::SequenceOfItems::SizeType i = 1; i <= seq->GetNumberOfItems (); i++)
      {
        if (n_nodes >= lim.max_nodes)
          {
            t->children_truncated = true;
            truncated = true;
            return;
          }
        const gdcm::Item &item = seq->GetItem (i);
        MmDicomTag *it = node (0xfffe, 0xe000);
        it->name = g_strdup_printf ("Item %u", (unsigned) i);
        it->length = item.GetVL ().IsUndefined () ? 0 : (guint64) (uint32_t) item.GetVL ();
        g_ptr_array_add (t->children, it);
        dataset (item.GetNestedDataSet (), it, depth + 1);
      }
  }

public:
  static void mm_dicom_tag_free_internal (MmDicomTag *t);
};

void
Dumper::mm_dicom_tag_free_internal (MmDicomTag *t)
{
  if (t == nullptr)
    return;
  g_free (t->keyword);
  g_free (t->name);
  g_free (t->creator);
  g_free (t->value);
  if (t->children)
    g_ptr_array_unref (t->children);
  g_free (t);
}

} // namespace
} // namespace mm

extern "C" {

void
mm_dicom_dump_free (MmDicomDump *dump)
{
  if (dump == nullptr)
    return;
  g_free (dump->path);
  g_free (dump->transfer_syntax);
  mm::Dumper::mm_dicom_tag_free_internal (dump->root);
  g_free (dump);
}

MmDicomDump *
mm_dicom_dump_file (const char *path, const MmDicomDumpLimits *limits, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  mm::ensure_dictionaries (); /* names and VRs of the elements */
  mm::Dumper d;
  d.lim = limits ? *limits : MmDicomDumpLimits{};
  if (d.lim.max_depth == 0)
    d.lim.max_depth = 16;
  if (d.lim.max_nodes == 0)
    d.lim.max_nodes = 20000;
  if (d.lim.max_value_chars == 0)
    d.lim.max_value_chars = 1024;
  if (d.lim.max_numbers == 0)
    d.lim.max_numbers = 64;
  g_autofree char *shown = mm_text_printable (path);
  std::string why;
  mm::FileLayout layout;
  MmDicomDump *dump = nullptr;
  try
    {
      if (!mm::check_structure (path, why, layout))
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE, "%s: %s", shown,
                       why.c_str ());
          return nullptr;
        }
      gdcm::Reader reader;
      mm::MemBuf membuf;
      std::istream stream (&membuf);
      membuf.set (layout.header);
      reader.SetStream (stream);
      const gdcm::Tag pixel_tag (0x7fe0, 0x0010);
      std::set<gdcm::Tag> skip = { pixel_tag };
      if (!reader.ReadUpToTag (pixel_tag, skip))
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE,
                       "%s: not a DICOM file, or its header is damaged", shown);
          return nullptr;
        }
      const gdcm::DataSet &ds = reader.GetFile ().GetDataSet ();
      dump = g_new0 (MmDicomDump, 1);
      dump->path = g_strdup (path);
      dump->transfer_syntax = mm_text_printable (layout.transfer_syntax.c_str ());
      dump->root = d.node (0, 0);
      d.n_nodes = 0;
      d.dataset (ds, dump->root, 0);
      /* Pixel Data is not parsed (it may be most of the file): summarised from the checked
       * layout; its VR as the writer would have chosen it (OW for native pixels of more than
       * 8 bits, else OB). */
      if (layout.pixel_end > layout.pixel_start && d.n_nodes < d.lim.max_nodes)
        {
          MmDicomTag *t = d.node (0x7fe0, 0x0010);
          t->keyword = g_strdup ("PixelData");
          t->name = g_strdup ("Pixel Data");
          /* Bits Allocated (0028,0100), US */
          int bits = 0;
          const gdcm::Tag ba (0x0028, 0x0100);
          if (ds.FindDataElement (ba))
            {
              const gdcm::ByteValue *bv = ds.GetDataElement (ba).GetByteValue ();
              uint16_t v;
              if (bv && bv->GetPointer () && bv->GetLength () == 2)
                {
                  std::memcpy (&v, bv->GetPointer (), 2);
                  bits = v;
                }
            }
          bool ow = layout.pixel_length > 0 && bits > 8;
          std::strcpy (t->vr, ow ? "OW" : "OB");
          t->length = layout.pixel_length;
          t->value = layout.pixel_length > 0
                         ? g_strdup_printf ("<%" G_GUINT64_FORMAT " bytes>", layout.pixel_length)
                         : g_strdup_printf ("<encapsulated, %" G_GUINT64_FORMAT " bytes>",
                                            layout.pixel_end - layout.pixel_value);
          g_ptr_array_add (dump->root->children, t);
        }
      dump->n_nodes = d.n_nodes;
      dump->truncated = d.truncated;
      return dump;
    }
  catch (const std::bad_alloc &)
    {
      mm_dicom_dump_free (dump);
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE, "%s: out of memory", shown);
    }
  catch (const std::exception &e)
    {
      mm_dicom_dump_free (dump);
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE, "%s: %s", shown, e.what ());
    }
  catch (...)
    {
      mm_dicom_dump_free (dump);
      g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_DECODE,
                   "%s: the DICOM reader failed on it", shown);
    }
  return nullptr;
}

} // extern "C"
