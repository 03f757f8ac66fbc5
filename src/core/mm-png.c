/* SPDX-License-Identifier: GPL-3.0-or-later */
/* 8-bit grayscale PNG through libpng: encode to memory, then one atomic file write. */
#include "mm-png.h"

#include "mm-atomic.h"

#include <gio/gio.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>
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

bool
mm_png_read_gray8 (const char *path, uint8_t **pixels, int *width, int *height, GError **error)
{
  png_image image;
  memset (&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file (&image, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a readable PNG (%s)",
                   path, image.message);
      return false;
    }
  image.format = PNG_FORMAT_GRAY;
  uint8_t *buf = g_try_malloc (PNG_IMAGE_SIZE (image));
  if (buf == NULL)
    {
      png_image_free (&image);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: PNG too large (%u x %u)", path,
                   image.width, image.height);
      return false;
    }
  if (!png_image_finish_read (&image, NULL, buf, 0, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: PNG data is damaged (%s)",
                   path, image.message);
      g_free (buf);
      png_image_free (&image);
      return false;
    }
  *pixels = buf;
  *width = image.width;
  *height = image.height;
  png_image_free (&image);
  return true;
}
