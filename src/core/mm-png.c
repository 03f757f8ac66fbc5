/* SPDX-License-Identifier: GPL-3.0-or-later */
/* 8-bit grayscale PNG through libpng: encode to memory, then one atomic file write. */
#include "mm-png.h"

#include "mm-atomic.h"
#include "mm-error.h"
#include "mm-limits.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <png.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static void
write_to_array_cb (png_structp png, png_bytep data, png_size_t len)
{
  g_byte_array_append (png_get_io_ptr (png), data, len);
}

static void
flush_nothing_cb (png_structp png)
{
}

GBytes *
mm_png_encode_gray8 (const uint8_t *pixels, int width, int height, GError **error)
{
  const char *path = "PNG";
  g_return_val_if_fail (pixels && width > 0 && height > 0, NULL);

  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct (png) : NULL;
  GByteArray *buf = g_byte_array_sized_new (4096);
  png_bytep *rows = g_new (png_bytep, height);
  if (info == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: out of memory encoding", path);
      png_destroy_write_struct (&png, NULL);
      g_byte_array_unref (buf);
      g_free (rows);
      return NULL;
    }
  if (setjmp (png_jmpbuf (png)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: libpng failed to encode", path);
      png_destroy_write_struct (&png, &info);
      g_byte_array_unref (buf);
      g_free (rows);
      return NULL;
    }
  png_set_write_fn (png, buf, write_to_array_cb, flush_nothing_cb);
  png_set_IHDR (png, info, width, height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  /* Masks are long runs of 0 and 255: no filter and run-length deflate compress them to a
   * few hundred bytes, several times faster than general deflate. */
  png_set_filter (png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
  png_set_compression_level (png, Z_BEST_SPEED);
  png_set_compression_strategy (png, Z_RLE);
  for (int y = 0; y < height; y++)
    rows[y] = (png_bytep) pixels + (size_t) y * width;
  png_set_rows (png, info, rows);
  png_write_png (png, info, PNG_TRANSFORM_IDENTITY, NULL);
  png_destroy_write_struct (&png, &info);
  g_free (rows);

  return g_byte_array_free_to_bytes (buf);
}

bool
mm_png_write_gray8 (const char *path, const uint8_t *pixels, int width, int height,
                    bool durable, GError **error)
{
  g_return_val_if_fail (path != NULL, false);
  g_autoptr (GBytes) png = mm_png_encode_gray8 (pixels, width, height, error);
  if (png == NULL)
    return false;
  gsize len;
  const void *data = g_bytes_get_data (png, &len);
  return mm_atomic_write (path, data, len, durable, error);
}

/* The IHDR chunk, which the PNG specification puts first: signature (8 bytes), length (4),
 * "IHDR", 13 bytes of fields, CRC (4). */
#define IHDR_END 33

static inline guint32
get_be32 (const uint8_t *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static bool
read_error (GError **error, const char *path, const char *format, ...) G_GNUC_PRINTF (3, 4);

static bool
read_error (GError **error, const char *path, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *why = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path, why);
  return false;
}

/* The header from the first IHDR_END bytes of fp, checked as the specification allows and
 * against MM_LIMIT_IMAGE_SIDE: what the image will cost is known before libpng sees it. */
static bool
read_header (FILE *fp, const char *path, MmPngHeader *h, GError **error)
{
  static const uint8_t signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  uint8_t b[IHDR_END];
  if (fread (b, 1, sizeof b, fp) != sizeof b || memcmp (b, signature, 8) != 0)
    return read_error (error, path, "not a PNG file");
  if (get_be32 (b + 8) != 13 || memcmp (b + 12, "IHDR", 4) != 0
      || get_be32 (b + 29) != (guint32) crc32 (0, b + 12, 17))
    return read_error (error, path, "not a readable PNG (its IHDR header is damaged)");
  h->width = get_be32 (b + 16);
  h->height = get_be32 (b + 20);
  h->bit_depth = b[24];
  h->colour_type = b[25];
  h->interlaced = b[28] == 1;
  /* The combinations of the PNG specification, table 11.1. */
  int d = h->bit_depth;
  bool depth_ok;
  switch (h->colour_type)
    {
    case 0: depth_ok = d == 1 || d == 2 || d == 4 || d == 8 || d == 16; break;
    case 3: depth_ok = d == 1 || d == 2 || d == 4 || d == 8; break;
    case 2: case 4: case 6: depth_ok = d == 8 || d == 16; break;
    default: depth_ok = false;
    }
  if (!depth_ok || b[26] != 0 || b[27] != 0 || b[28] > 1 || h->width == 0 || h->height == 0
      || h->width > G_MAXINT32 || h->height > G_MAXINT32)
    return read_error (error, path, "not a readable PNG (bit depth %d, colour type %d, "
                      "%u x %u pixels is not a valid PNG image)", d, h->colour_type, h->width,
                      h->height);
  if (h->width > MM_LIMIT_IMAGE_SIDE || h->height > MM_LIMIT_IMAGE_SIDE)
    return read_error (error, path, "the PNG declares %u x %u pixels, more than the %d a "
                      "side may have", h->width, h->height, MM_LIMIT_IMAGE_SIDE);
  return true;
}

/* path opened for reading if it is a regular file: O_NONBLOCK so that a FIFO under the
 * name is refused rather than waited on. */
static FILE *
open_regular (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      int err = errno;
      if (fd >= 0)
        close (fd);
      mm_error_errno (error, err, path, "open");
      return NULL;
    }
  FILE *fp = S_ISREG (st.st_mode) ? fdopen (fd, "rb") : NULL;
  if (fp == NULL)
    {
      close (fd);
      read_error (error, path, "not a regular file");
    }
  return fp;
}

bool
mm_png_read_header (const char *path, MmPngHeader *header, GError **error)
{
  g_return_val_if_fail (path != NULL && header != NULL, false);
  FILE *fp = open_regular (path, error);
  if (fp == NULL)
    return false;
  bool ok = read_header (fp, path, header, error);
  fclose (fp);
  return ok;
}

bool
mm_png_read_gray8 (const char *path, int width, int height, uint8_t **pixels, GError **error)
{
  g_return_val_if_fail (path != NULL && pixels != NULL && width > 0 && height > 0, false);
  FILE *fp = open_regular (path, error);
  if (fp == NULL)
    return false;
  /* The size is checked before libpng allocates or decodes anything: a small file can
   * declare 65535 x 65535 pixels (4 GiB decoded). */
  MmPngHeader h = { 0 };
  if (!read_header (fp, path, &h, error))
    {
      fclose (fp);
      return false;
    }
  if (h.width != (guint32) width || h.height != (guint32) height)
    {
      fclose (fp);
      return read_error (error, path, "is %u x %u pixels, the series' slices are %d x %d",
                        h.width, h.height, width, height);
    }
  rewind (fp);

  png_image image;
  memset (&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_stdio (&image, fp))
    {
      fclose (fp);
      return read_error (error, path, "not a readable PNG (%s)", image.message);
    }
  image.format = PNG_FORMAT_GRAY;
  uint8_t *buf = NULL;
  if (image.width != h.width || image.height != h.height
      || (buf = g_try_malloc (PNG_IMAGE_SIZE (image))) == NULL)
    {
      png_image_free (&image);
      fclose (fp);
      return read_error (error, path, "cannot decode a PNG of %u x %u pixels", h.width,
                        h.height);
    }
  if (!png_image_finish_read (&image, NULL, buf, 0, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: PNG data is damaged (%s)",
                   path, image.message);
      g_free (buf);
      png_image_free (&image);
      fclose (fp);
      return false;
    }
  png_image_free (&image);
  fclose (fp);
  *pixels = buf;
  return true;
}
