/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The reader's walk: the files a load's paths name (see mm-dicom-reader.hh). */
#include "mm-dicom-reader.hh"

#include <algorithm>
#include <set>

namespace mm
{
namespace
{

bool
is_dicomdir_name (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  return g_ascii_strcasecmp (base, "DICOMDIR") == 0;
}

/* Every regular file below dir, skipping hidden entries and our own project folders;
 * FIFOs, devices and sockets go to special (never opened: a FIFO would block). */
void
walk (const std::string &dir, std::vector<std::string> &out, std::vector<std::string> &special,
      int depth)
{
  if (depth > 32)
    return;
  GDir *d = g_dir_open (dir.c_str (), 0, nullptr);
  if (d == nullptr)
    return;
  std::vector<std::string> names;
  while (const char *name = g_dir_read_name (d))
    names.emplace_back (name);
  g_dir_close (d);
  std::sort (names.begin (), names.end ());
  for (const std::string &name : names)
    {
      if (name[0] == '.' || g_str_has_suffix (name.c_str (), ".metalmark"))
        continue;
      std::string path = dir + "/" + name;
      if (g_file_test (path.c_str (), G_FILE_TEST_IS_SYMLINK)
          && g_file_test (path.c_str (), G_FILE_TEST_IS_DIR))
        continue; /* no symlink loops */
      if (g_file_test (path.c_str (), G_FILE_TEST_IS_DIR))
        walk (path, out, special, depth + 1);
      else if (g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
        {
          /* A DICOMDIR inside a scanned folder only repeats what the walk finds. */
          if (!is_dicomdir_name (path.c_str ()))
            out.push_back (path);
        }
      else if (g_file_test (path.c_str (), G_FILE_TEST_EXISTS))
        special.push_back (path);
    }
}

} // namespace

bool
collect_files (Loader &L, const char *const *paths, guint n_paths,
               std::vector<std::string> &files, GError **error)
{
  for (guint p = 0; p < n_paths; p++)
    {
      const char *path = paths[p];
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NOT_FOUND,
                       "%s: no such file or folder", path);
          return false;
        }
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          std::string dir (path);
          while (dir.size () > 1 && dir.back () == '/')
            dir.pop_back ();
          std::vector<std::string> special;
          walk (dir, files, special, 0);
          for (const std::string &f : special)
            L.warn (f + ": skipped: not a regular file (FIFOs, devices and sockets are not read)");
        }
      else if (is_dicomdir_name (path))
        {
          std::string why;
          std::vector<std::string> refused;
          bool ok = read_dicomdir (path, files, why, refused);
          for (const std::string &r : refused)
            L.warn (std::string (path) + ": skipped " + r);
          if (!ok)
            {
              g_set_error (error, MM_DICOM_ERROR, MM_DICOM_ERROR_NO_SERIES, "%s: %s", path,
                           why.c_str ());
              return false;
            }
        }
      else
        files.emplace_back (path);
    }
  /* The same file named twice (a folder and a file in it) counts once. */
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (const std::string &f : files)
    {
      g_autofree char *canon = g_canonicalize_filename (f.c_str (), nullptr);
      if (seen.insert (canon).second)
        unique.push_back (f);
    }
  files.swap (unique);
  return true;
}

} // namespace mm
