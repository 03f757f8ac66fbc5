/* SPDX-License-Identifier: GPL-3.0-or-later */
/* NIfTI-1 with Debian's niftilib: niftilib builds the header (qform and sform) and reads
 * files back; the writer streams header and voxels through zlib into a temporary file itself,
 * so that every write error is seen (niftilib's own writer returns none). */

/* znzlib.h, included by nifti1_io.h, declares its gzip members only with HAVE_ZLIB; the
 * Debian library is built with it. */
#define HAVE_ZLIB 1

#include "mm-nifti.h"

#include "mm-atomic.h"
#include "mm-error.h"

#include <nifti1_io.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

G_DEFINE_QUARK (mm-nifti-error-quark, mm_nifti_error)

/* A single-file NIfTI-1: the 348-byte header, 4 bytes of extension flags (none), voxels. */
#define NIFTI1_VOX_OFFSET 352

/* niftilib prints its errors on stderr unless told not to; ours are returned instead. */
static void
quiet_niftilib (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      nifti_set_debug_level (0);
      g_once_init_leave (&once, 1);
    }
}

static bool
check_name (const char *path, bool *compressed, GError **error)
{
  if (g_str_has_suffix (path, ".nii.gz"))
    *compressed = true;
  else if (g_str_has_suffix (path, ".nii"))
    *compressed = false;
  else
    {
      g_set_error (error, MM_NIFTI_ERROR, MM_NIFTI_ERROR_NAME,
                   "%s: a NIfTI file name must end in .nii.gz (compressed) or .nii", path);
      return false;
    }
  return true;
}

bool
mm_nifti_affine (const MmVolume *vol, double affine[16], GError **error)
{
  g_return_val_if_fail (vol != NULL && affine != NULL, false);

  int n = vol->dims[2];
  const double *p0 = vol->slices[0].position;
  double step[3];
  for (int a = 0; a < 3; a++)
    step[a] = n > 1 ? (vol->slices[n - 1].position[a] - p0[a]) / (n - 1)
                    : vol->direction[6 + a] * vol->spacing[2];
  double step_len = sqrt (step[0] * step[0] + step[1] * step[1] + step[2] * step[2]);

  /* One affine places slice k at p0 + k * step; a series with gaps cannot be described. */
  double worst = 0.0;
  int worst_k = 0;
  for (int k = 1; k < n - 1; k++)
    {
      double d2 = 0.0;
      for (int a = 0; a < 3; a++)
        {
          double d = p0[a] + k * step[a] - vol->slices[k].position[a];
          d2 += d * d;
        }
      if (sqrt (d2) > worst)
        {
          worst = sqrt (d2);
          worst_k = k;
        }
    }
  if (worst > 0.1 * step_len)
    {
      g_set_error (error, MM_NIFTI_ERROR, MM_NIFTI_ERROR_GEOMETRY,
                   "the slices are not evenly spaced: slice %d (%s) lies %.3f mm from where an "
                   "even spacing of %.3f mm puts it, and a NIfTI affine cannot describe that",
                   worst_k,
                   vol->slices[worst_k].file ? vol->slices[worst_k].file : "no file",
                   worst, step_len);
      return false;
    }

  /* LPS to RAS: x and y negated. Columns: i along the row cosine, j along the column cosine,
   * k along the slice step; the translation is the centre of the first voxel. */
  const double sign[3] = { -1.0, -1.0, 1.0 };
  for (int r = 0; r < 3; r++)
    {
      affine[4 * r + 0] = sign[r] * vol->direction[r] * vol->spacing[0];
      affine[4 * r + 1] = sign[r] * vol->direction[3 + r] * vol->spacing[1];
      affine[4 * r + 2] = sign[r] * step[r];
      affine[4 * r + 3] = sign[r] * p0[r];
    }
  affine[12] = affine[13] = affine[14] = 0.0;
  affine[15] = 1.0;
  return true;
}

/* Readers do not get the quaternion's a: they take sqrt (1 - b^2 - c^2 - d^2). Near a half
 * turn (a ~ 0, which is where an axial series lies in RAS, tilted or not) the float rounding
 * of b, c, d moves that by up to ~3e-4 rad, 0.15 mm across 500 mm. So the largest of b, c, d
 * is nudged by single float steps until 1 - (b^2 + c^2 + d^2) is as near the true a^2 (from
 * the rotation's trace) as floats allow; for a half turn it is brought to just below 0, where
 * niftilib (under 1e-7) and nibabel (down to -3.6e-7) take a = 0 and normalise b, c, d. */
static void
refine_quaternion (nifti_image *nim, const mat44 *R)
{
  double trace = R->m[0][0] + R->m[1][1] + (nim->qfac < 0 ? -1.0 : 1.0) * R->m[2][2];
  double a2 = MAX (0.0, (1.0 + trace) / 4.0);
  float *q[3] = { &nim->quatern_b, &nim->quatern_c, &nim->quatern_d };
  int big = 0;
  for (int c = 1; c < 3; c++)
    if (fabsf (*q[c]) > fabsf (*q[big]))
      big = c;
  float *x = q[big];
  if (*x == 0.0f)
    return;
  double best = INFINITY;
  for (int step = 0; step < 64; step++)
    {
      double s = (double) *q[0] * *q[0] + (double) *q[1] * *q[1] + (double) *q[2] * *q[2];
      double w2 = 1.0 - s;
      if (a2 < 1e-7)
        {
          if (w2 > 0.0)
            *x = nextafterf (*x, copysignf (INFINITY, *x)); /* |x| up */
          else if (w2 < -2e-7)
            *x = nextafterf (*x, 0.0f);
          else
            break;
        }
      else
        {
          double err = fabs (w2 - a2);
          if (err >= best)
            break;
          best = err;
          float before = *x;
          *x = nextafterf (*x, w2 > a2 ? copysignf (INFINITY, *x) : 0.0f);
          double s2 = (double) *q[0] * *q[0] + (double) *q[1] * *q[1] + (double) *q[2] * *q[2];
          if (fabs (1.0 - s2 - a2) >= err)
            {
              *x = before;
              break;
            }
        }
    }
}

/* A header-only nifti_image for vol's grid: dimensions, spacing, qform and sform. */
static nifti_image *
image_new (const MmVolume *vol, int datatype, const char *descrip, GError **error)
{
  quiet_niftilib ();
  double A[16];
  if (!mm_nifti_affine (vol, A, error))
    return NULL;

  const int dims[8] = { 3, vol->dims[0], vol->dims[1], vol->dims[2], 1, 1, 1, 1 };
  nifti_image *nim = nifti_make_new_nim (dims, datatype, 0);
  if (nim == NULL)
    {
      g_set_error (error, MM_NIFTI_ERROR, MM_NIFTI_ERROR_FORMAT,
                   "niftilib could not make a header for %d x %d x %d voxels", dims[1],
                   dims[2], dims[3]);
      return NULL;
    }
  nim->nifti_type = NIFTI_FTYPE_NIFTI1_1;
  nim->xyz_units = NIFTI_UNITS_MM;
  nim->time_units = NIFTI_UNITS_UNKNOWN;
  g_strlcpy (nim->descrip, descrip, sizeof nim->descrip);

  /* sform: the affine as it is (it may carry a shear, e.g. from a gantry tilt). */
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++)
      nim->sto_xyz.m[r][c] = (float) A[4 * r + c];
  nim->sto_ijk = nifti_mat44_inverse (nim->sto_xyz);
  nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;

  /* qform: a rotation, scales and a translation. The direction columns are made an exact
   * rotation (niftilib's polar decomposition); nifti_mat44_to_quatern then finds qfac, -1 for a
   * left-handed frame, and the quaternion. */
  double len[3];
  for (int c = 0; c < 3; c++)
    len[c] = sqrt (A[c] * A[c] + A[4 + c] * A[4 + c] + A[8 + c] * A[8 + c]);
  mat44 R = nifti_make_orthog_mat44 (
      (float) (A[0] / len[0]), (float) (A[1] / len[1]), (float) (A[2] / len[2]),
      (float) (A[4] / len[0]), (float) (A[5] / len[1]), (float) (A[6] / len[2]),
      (float) (A[8] / len[0]), (float) (A[9] / len[1]), (float) (A[10] / len[2]));
  mat44 Q = R;
  for (int r = 0; r < 3; r++)
    {
      for (int c = 0; c < 3; c++)
        Q.m[r][c] = (float) (R.m[r][c] * len[c]);
      Q.m[r][3] = (float) A[4 * r + 3];
    }
  Q.m[3][0] = Q.m[3][1] = Q.m[3][2] = 0.0f;
  Q.m[3][3] = 1.0f;
  float dx, dy, dz;
  nifti_mat44_to_quatern (Q, &nim->quatern_b, &nim->quatern_c, &nim->quatern_d, &nim->qoffset_x,
                          &nim->qoffset_y, &nim->qoffset_z, &dx, &dy, &dz, &nim->qfac);
  refine_quaternion (nim, &R);
  nim->qto_xyz = nifti_quatern_to_mat44 (nim->quatern_b, nim->quatern_c, nim->quatern_d,
                                         nim->qoffset_x, nim->qoffset_y, nim->qoffset_z, dx, dy,
                                         dz, nim->qfac);
  nim->qto_ijk = nifti_mat44_inverse (nim->qto_xyz);
  nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  nim->dx = nim->pixdim[1] = dx;
  nim->dy = nim->pixdim[2] = dy;
  nim->dz = nim->pixdim[3] = dz;
  nim->pixdim[0] = nim->qfac;
  nim->iname_offset = NIFTI1_VOX_OFFSET;
  return nim;
}

/* Write nim's header and bytes of voxels to a temporary file beside path (same suffix), fsync
 * it, rename it over path and fsync the folder. */
static bool
write_atomic (const char *path, const nifti_image *nim, const void *voxels, size_t bytes,
              int level, GError **error)
{
  bool compressed;
  if (!check_name (path, &compressed, error) || !mm_atomic_check_target (path, error))
    return false;
  const char *suffix = compressed ? ".nii.gz" : ".nii";
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  base[strlen (base) - strlen (suffix)] = '\0';
  /* The XXXXXX need not end the template (GLib replaces the last one): the suffix stays. */
  g_autofree char *tmp_name = g_strdup_printf (".%s.tmp-XXXXXX%s", base, suffix);
  /* What a killed run left of this file goes first. */
  g_autofree char *stale_prefix = g_strdup_printf (".%s.tmp-", base);
  mm_atomic_remove_stale (dir, stale_prefix, suffix);
  g_autofree char *tmp = g_build_filename (dir, tmp_name, NULL);

  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    return mm_error_errno (error, errno, path, "create a temporary file");

  struct nifti_1_header hdr = nifti_convert_nim2nhdr (nim);
  const char extender[4] = { 0, 0, 0, 0 };
  char mode[8] = "wbT"; /* T: zlib writes the bytes as they are */
  if (compressed)
    g_snprintf (mode, sizeof mode, "wb%d", level);
  int err = 0;
  const char *what = "write";
  int zfd = dup (fd);
  gzFile gz = zfd >= 0 ? gzdopen (zfd, mode) : NULL;
  if (gz == NULL)
    {
      err = zfd < 0 ? errno : ENOMEM;
      if (zfd >= 0)
        close (zfd);
      goto fail;
    }
  gzbuffer (gz, 1 << 20);
  errno = 0;
  if (gzwrite (gz, &hdr, sizeof hdr) != (int) sizeof hdr
      || gzwrite (gz, extender, sizeof extender) != (int) sizeof extender)
    err = errno ? errno : EIO;
  for (size_t done = 0; err == 0 && done < bytes;)
    {
      unsigned chunk = (unsigned) MIN (bytes - done, (size_t) 1 << 26);
      errno = 0;
      if (gzwrite (gz, (const char *) voxels + done, chunk) != (int) chunk)
        err = errno ? errno : EIO;
      done += chunk;
    }
  /* gzclose flushes the last compressed block: its failure is a write failure too. */
  errno = 0;
  if (gzclose (gz) != Z_OK && err == 0)
    err = errno ? errno : EIO;
  if (err)
    goto fail;
  what = "sync to disk";
  if (fsync (fd) != 0)
    {
      err = errno;
      goto fail;
    }
  what = "close";
  if (close (fd) != 0)
    {
      fd = -1;
      err = errno;
      goto fail;
    }
  fd = -1;
  what = "rename the temporary file over";
  if (!mm_atomic_check_target (path, error))
    {
      g_unlink (tmp);
      return false;
    }
  mm_atomic_test_step ();
  if (rename (tmp, path) != 0)
    {
      err = errno;
      goto fail;
    }
  return mm_fsync_dir (dir, error);

fail:
  if (fd >= 0)
    close (fd);
  g_unlink (tmp);
  return mm_error_errno (error, err, path, what);
}

bool
mm_nifti_write_mask (const char *path, const MmMask *mask, const MmVolume *vol, GError **error)
{
  g_return_val_if_fail (path != NULL && mask != NULL && vol != NULL, false);
  g_return_val_if_fail (memcmp (mask->dims, vol->dims, sizeof mask->dims) == 0, false);

  bool compressed;
  if (!check_name (path, &compressed, error))
    return false;
  nifti_image *nim = image_new (vol, DT_UINT8, "Metalmark metal mask (1 = metal)", error);
  if (nim == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return false;
    }
  nim->intent_code = NIFTI_INTENT_LABEL;
  g_strlcpy (nim->intent_name, "metal", sizeof nim->intent_name);
  nim->cal_min = 0.0f;
  nim->cal_max = 1.0f;
  bool ok = write_atomic (path, nim, mask->data, mm_mask_n_voxels (mask), 6, error);
  nifti_image_free (nim);
  return ok;
}

bool
mm_nifti_write_volume (const char *path, const MmVolume *vol, GError **error)
{
  g_return_val_if_fail (path != NULL && vol != NULL, false);

  bool compressed;
  if (!check_name (path, &compressed, error))
    return false;
  bool is_int = vol->type == MM_VOXEL_INT16;
  nifti_image *nim = image_new (vol, is_int ? DT_INT16 : DT_FLOAT32, "Metalmark CT (HU)", error);
  if (nim == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return false;
    }
  /* Voxels are HU as they are: slope 1, intercept 0. */
  nim->scl_slope = 1.0f;
  nim->scl_inter = 0.0f;
  if (vol->has_window)
    {
      nim->cal_min = (float) (vol->window_center - vol->window_width / 2);
      nim->cal_max = (float) (vol->window_center + vol->window_width / 2);
    }
  size_t bytes = mm_volume_n_voxels (vol) * (is_int ? sizeof (int16_t) : sizeof (float));
  /* Level 1: a noisy CT hardly compresses better at 6 and takes several times as long. */
  bool ok = write_atomic (path, nim, vol->voxels, bytes, 1, error);
  nifti_image_free (nim);
  return ok;
}

/* n voxels of type T at src, times slope plus intercept when scaled, nonzero as 1, to dst. */
#define MM_NIFTI_TO_MASK(T)                                                                  \
  do                                                                                         \
    {                                                                                        \
      const T *src = (const T *) buf;                                                        \
      for (size_t v = 0; v < n; v++)                                                         \
        {                                                                                    \
          double x = scaled ? (double) src[v] * slope + inter : (double) src[v];             \
          dst[v] = x != 0.0 && !isnan (x);                                                   \
        }                                                                                    \
    }                                                                                        \
  while (0)

static void
to_mask (int datatype, const void *buf, size_t n, double slope, double inter, uint8_t *dst)
{
  bool scaled = slope != 0.0 && isfinite (slope) && (slope != 1.0 || inter != 0.0);
  switch (datatype)
    {
    case DT_UINT8: MM_NIFTI_TO_MASK (uint8_t); break;
    case DT_INT8: MM_NIFTI_TO_MASK (int8_t); break;
    case DT_INT16: MM_NIFTI_TO_MASK (int16_t); break;
    case DT_UINT16: MM_NIFTI_TO_MASK (uint16_t); break;
    case DT_INT32: MM_NIFTI_TO_MASK (int32_t); break;
    case DT_UINT32: MM_NIFTI_TO_MASK (uint32_t); break;
    case DT_INT64: MM_NIFTI_TO_MASK (int64_t); break;
    case DT_UINT64: MM_NIFTI_TO_MASK (uint64_t); break;
    case DT_FLOAT32: MM_NIFTI_TO_MASK (float); break;
    case DT_FLOAT64: MM_NIFTI_TO_MASK (double); break;
    default: g_assert_not_reached ();
    }
}

static bool
mask_datatype (int datatype)
{
  switch (datatype)
    {
    case DT_UINT8: case DT_INT8: case DT_INT16: case DT_UINT16: case DT_INT32:
    case DT_UINT32: case DT_INT64: case DT_UINT64: case DT_FLOAT32: case DT_FLOAT64:
      return true;
    default:
      return false;
    }
}

static bool
format_error (GError **error, const char *path, const char *format, ...) G_GNUC_PRINTF (3, 4);

static bool
format_error (GError **error, const char *path, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *why = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, MM_NIFTI_ERROR, MM_NIFTI_ERROR_FORMAT, "%s: %s", path, why);
  return false;
}

/* Header of the file being read, as in the file (raw, what niftilib converts) and in native
 * byte order (h). */
typedef struct
{
  struct nifti_1_header raw, h;
  bool swapped, compressed;
  int nbyper, swapsize;
  guint64 vox_offset, data_bytes;
} Header;

/* Read and check the header from gz before anything is allocated: magic, dimensions (one
 * volume of vol's size), voxel type, and where the voxels are, against the file's size
 * (file_size bytes on disk). niftilib's own reader is not used: it believes the header's
 * sizes and fills a short file with zeros. */
static bool
read_header (gzFile gz, const char *path, guint64 file_size, const MmVolume *vol, Header *hd,
             GError **error)
{
  struct nifti_1_header *h = &hd->h;
  if (gzread (gz, &hd->raw, sizeof hd->raw) != (int) sizeof hd->raw)
    return format_error (error, path, "not a single-file NIfTI-1 image (.nii or .nii.gz), or "
                         "its header is damaged");
  *h = hd->raw;
  hd->swapped = h->sizeof_hdr != (int) sizeof *h;
  if (hd->swapped)
    swap_nifti_header (h, 1);
  bool ok = h->sizeof_hdr == (int) sizeof *h && memcmp (h->magic, "n+1", 4) == 0
            && h->dim[0] >= 1 && h->dim[0] <= 7;
  for (int a = 1; ok && a <= h->dim[0]; a++)
    ok = h->dim[a] >= 1;
  if (!ok)
    return format_error (error, path, "not a single-file NIfTI-1 image (.nii or .nii.gz), or "
                         "its header is damaged");

  int d[3] = { h->dim[1], h->dim[0] >= 2 ? h->dim[2] : 1, h->dim[0] >= 3 ? h->dim[3] : 1 };
  bool one_volume = true;
  for (int a = 4; a <= h->dim[0]; a++)
    one_volume = one_volume && h->dim[a] == 1;
  if (memcmp (d, vol->dims, sizeof d) != 0 || !one_volume)
    {
      g_set_error (error, MM_NIFTI_ERROR, MM_NIFTI_ERROR_MISMATCH,
                   "%s: the mask is %d x %d x %d voxels%s but the series is %d x %d x %d", path,
                   d[0], d[1], d[2], one_volume ? "" : " (and more than one volume)",
                   vol->dims[0], vol->dims[1], vol->dims[2]);
      return false;
    }
  if (!mask_datatype (h->datatype))
    return format_error (error, path, "voxel type %s cannot hold a mask",
                         nifti_datatype_string (h->datatype));
  nifti_datatype_sizes (h->datatype, &hd->nbyper, &hd->swapsize);
  if (h->bitpix != 8 * hd->nbyper)
    return format_error (error, path, "the header says %d bits a voxel, but voxel type %s has "
                         "%d", h->bitpix, nifti_datatype_string (h->datatype), 8 * hd->nbyper);
  /* The voxels start at vox_offset, after the header and its extensions; a float in the
   * file, so anything but a whole number past the header is damage. */
  double off = h->vox_offset;
  if (!(off >= sizeof *h + 4 && off <= (double) G_MAXINT64 / 2 && off == floor (off)))
    return format_error (error, path, "its voxel offset %g is not a byte position after the "
                         "header", off);
  hd->vox_offset = (guint64) off;
  hd->data_bytes = (guint64) mm_volume_n_voxels (vol) * (guint64) hd->nbyper;
  guint64 end = hd->vox_offset + hd->data_bytes;
  /* deflate turns one byte into at most 1032: a compressed file that small cannot hold the
   * voxels, whatever its header says. */
  hd->compressed = !gzdirect (gz);
  guint64 most = hd->compressed ? file_size * 1032 : file_size;
  if (end > most)
    return format_error (error, path, "truncated: the header puts %" G_GUINT64_FORMAT " bytes "
                         "of voxels at byte %" G_GUINT64_FORMAT ", but the file %s only %"
                         G_GUINT64_FORMAT " bytes", hd->data_bytes, hd->vox_offset,
                         hd->compressed ? "could hold at most" : "has", most);
  return true;
}

/* The voxels, read in chunks straight into a new mask: a short file is an error, never
 * zeros. */
static MmMask *
read_voxels (gzFile gz, const char *path, const Header *hd, const MmVolume *vol,
             GError **error)
{
  if (gzseek (gz, (z_off_t) hd->vox_offset, SEEK_SET) != (z_off_t) hd->vox_offset)
    {
      format_error (error, path, "truncated: it ends before its voxels start at byte %"
                    G_GUINT64_FORMAT, hd->vox_offset);
      return NULL;
    }
  g_autoptr (MmMask) mask = mm_mask_new_uninitialized (vol->dims);
  if (mask == NULL)
    {
      format_error (error, path, "not enough memory for a mask of %d x %d x %d", vol->dims[0],
                    vol->dims[1], vol->dims[2]);
      return NULL;
    }
  const size_t chunk = 1 << 20; /* voxels */
  g_autofree uint8_t *buf = g_malloc (chunk * hd->nbyper);
  size_t total = mm_mask_n_voxels (mask);
  double slope = hd->h.scl_slope, inter = hd->h.scl_inter;
  for (size_t done = 0; done < total;)
    {
      size_t n = MIN (chunk, total - done), want = n * hd->nbyper;
      int got = gzread (gz, buf, (unsigned) want);
      if (got != (int) want)
        {
          int zerr = Z_OK;
          const char *why = got < 0 ? gzerror (gz, &zerr) : NULL;
          format_error (error, path, "truncated or damaged: the voxels end after %"
                        G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes%s%s%s",
                        (guint64) (done * hd->nbyper + (got > 0 ? (size_t) got : 0)),
                        hd->data_bytes, why ? " (" : "", why ? why : "", why ? ")" : "");
          return NULL;
        }
      if (hd->swapped && hd->swapsize > 1)
        nifti_swap_Nbytes (n, hd->swapsize, buf);
      to_mask (hd->h.datatype, buf, n, slope, inter, mask->data + done);
      done += n;
    }
  return g_steal_pointer (&mask);
}

MmMask *
mm_nifti_read_mask (const char *path, const MmVolume *vol, GError **error)
{
  g_return_val_if_fail (path != NULL && vol != NULL, NULL);
  quiet_niftilib ();

  /* O_NONBLOCK: a FIFO under the name must not hang; fstat refuses it. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    {
      mm_error_errno (error, errno, path, "open");
      return NULL;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      format_error (error, path, "not a regular file");
      return NULL;
    }
  gzFile gz = gzdopen (fd, "rb");
  if (gz == NULL)
    {
      close (fd);
      mm_error_errno (error, ENOMEM, path, "read");
      return NULL;
    }
  Header hd;
  MmMask *mask = NULL;
  nifti_image *nim = NULL;
  if (!read_header (gz, path, (guint64) st.st_size, vol, &hd, error))
    goto out;
  /* niftilib turns the header into the qform and sform matrices, reading nothing more. */
  nim = nifti_convert_nhdr2nim (hd.raw, path);
  if (nim == NULL)
    {
      format_error (error, path, "not a NIfTI-1 file, or its header is damaged");
      goto out;
    }

  /* Where the file puts its voxels: the sform if set (what ITK and nibabel prefer), else the
   * qform. */
  const int *d = vol->dims;
  const mat44 *M;
  const char *which;
  if (nim->sform_code > 0)
    M = &nim->sto_xyz, which = "sform";
  else if (nim->qform_code > 0)
    M = &nim->qto_xyz, which = "qform";
  else
    {
      g_set_error (error, MM_NIFTI_ERROR, MM_NIFTI_ERROR_MISMATCH,
                   "%s: neither qform nor sform is set, so its voxels have no position", path);
      goto out;
    }
  for (int corner = 0; corner < 8; corner++)
    {
      double ijk[3] = { (corner & 1) ? d[0] - 1 : 0, (corner & 2) ? d[1] - 1 : 0,
                        (corner & 4) ? d[2] - 1 : 0 };
      double lps[3], want[3], got[3], dist2 = 0.0;
      mm_volume_index_to_lps (vol, ijk[0], ijk[1], ijk[2], lps);
      mm_lps_to_ras (lps, want);
      for (int r = 0; r < 3; r++)
        {
          got[r] = (double) M->m[r][0] * ijk[0] + (double) M->m[r][1] * ijk[1]
                   + (double) M->m[r][2] * ijk[2] + (double) M->m[r][3];
          dist2 += (got[r] - want[r]) * (got[r] - want[r]);
        }
      if (sqrt (dist2) > MM_NIFTI_AFFINE_TOLERANCE_MM)
        {
          g_set_error (error, MM_NIFTI_ERROR, MM_NIFTI_ERROR_MISMATCH,
                       "%s: its %s puts voxel (%g, %g, %g) at RAS (%.3f, %.3f, %.3f) mm but the "
                       "series has it at (%.3f, %.3f, %.3f) mm, %.3f mm away (at most %g allowed)",
                       path, which, ijk[0], ijk[1], ijk[2], got[0], got[1], got[2], want[0],
                       want[1], want[2], sqrt (dist2), MM_NIFTI_AFFINE_TOLERANCE_MM);
          goto out;
        }
    }
  mask = read_voxels (gz, path, &hd, vol, error);

out:
  if (nim)
    nifti_image_free (nim);
  gzclose (gz);
  return mask;
}
