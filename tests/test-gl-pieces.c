/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The 3D view's GL renderer (src/app/mm-gl-renderer.c) drawing a large mesh in flushed pieces
 * (mm_gl_renderer_set_flush_triangles, how the view draws its 500 k bone so that llvmpipe
 * rasterises one piece while it bins the next) gives the same picture to the bit as one draw
 * call: two overlapping translucent spheres of 3 480 triangles each (their blended layers
 * show any change of order; triangles of a few pixels, so a lost or doubled one shows) over
 * an opaque box, from several directions, in pieces of 97 (a remainder in every mesh) and
 * 1 000. And the picture is the scene: the pixels the
 * spheres and box cover match their analytic projection (discs and a rectangle seen from the
 * front). Runs on Mesa's surfaceless EGL platform (llvmpipe without a display); skipped,
 * saying so, where there is none. */
#include "mm-camera.h"
#include "mm-gl-renderer.h"

#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <math.h>
#include <string.h>

enum { W = 320, H = 240 };

static const float background[3] = { 0.1f, 0.11f, 0.13f };

/* A UV sphere of rows x cols quads (2 triangles each but at the poles, where each row-0 and
 * row-n vertex lies on the pole), outward. */
static MmMesh *
sphere (const double c[3], double r, int rows, int cols)
{
  MmMesh *m = mm_mesh_new ((size_t) (rows + 1) * cols, (size_t) 2 * rows * cols);
  for (int i = 0; i <= rows; i++)
    for (int j = 0; j < cols; j++)
      {
        double th = G_PI * i / rows, ph = 2 * G_PI * j / cols;
        float *p = m->positions + 3 * ((size_t) i * cols + j);
        p[0] = (float) (c[0] + r * sin (th) * cos (ph));
        p[1] = (float) (c[1] + r * sin (th) * sin (ph));
        p[2] = (float) (c[2] + r * cos (th));
      }
  m->n_vertices = (size_t) (rows + 1) * cols;
  size_t t = 0;
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++)
      {
        uint32_t a = i * cols + j, b = i * cols + (j + 1) % cols, d = (i + 1) * cols + j,
                 e = (i + 1) * cols + (j + 1) % cols;
        if (i > 0) /* a degenerate triangle at the poles otherwise */
          memcpy (m->triangles + 3 * t++, (uint32_t[3]) { a, d, b }, sizeof (uint32_t[3]));
        if (i < rows - 1)
          memcpy (m->triangles + 3 * t++, (uint32_t[3]) { b, d, e }, sizeof (uint32_t[3]));
      }
  m->n_triangles = t;
  g_assert_cmpfloat (mm_mesh_volume (m), >, 0); /* outward, as the renderer culls back faces */
  return m;
}

static MmMesh *
box (const double lo[3], const double hi[3])
{
  MmMesh *m = mm_mesh_new (8, 12);
  for (int v = 0; v < 8; v++)
    for (int a = 0; a < 3; a++)
      m->positions[3 * v + a] = (float) ((v >> a) & 1 ? hi[a] : lo[a]);
  static const uint32_t tris[36] = { 0, 2, 1, 1, 2, 3, 4, 5, 6, 5, 7, 6, 0, 1, 4, 1, 5, 4,
                                     2, 6, 3, 3, 6, 7, 0, 4, 2, 2, 4, 6, 1, 3, 5, 3, 7, 5 };
  memcpy (m->triangles, tris, sizeof tris);
  m->n_vertices = 8;
  m->n_triangles = 12;
  g_assert_cmpfloat (mm_mesh_volume (m), >, 0);
  return m;
}

static bool
gl_up (void)
{
  EGLDisplay dpy = eglGetPlatformDisplayEXT (EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
  if (dpy == EGL_NO_DISPLAY || !eglInitialize (dpy, NULL, NULL) || !eglBindAPI (EGL_OPENGL_API))
    return false;
  const EGLint attr[] = { EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
                          EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE };
  EGLContext ctx = eglCreateContext (dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, attr);
  if (ctx == EGL_NO_CONTEXT || !eglMakeCurrent (dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx))
    return false;
  GLuint fbo, rb[2];
  glGenFramebuffers (1, &fbo);
  glGenRenderbuffers (2, rb);
  glBindRenderbuffer (GL_RENDERBUFFER, rb[0]);
  glRenderbufferStorage (GL_RENDERBUFFER, GL_RGBA8, W, H);
  glBindRenderbuffer (GL_RENDERBUFFER, rb[1]);
  glRenderbufferStorage (GL_RENDERBUFFER, GL_DEPTH24_STENCIL8, W, H);
  glBindFramebuffer (GL_FRAMEBUFFER, fbo);
  glFramebufferRenderbuffer (GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb[0]);
  glFramebufferRenderbuffer (GL_FRAMEBUFFER, GL_DEPTH_STENCIL_ATTACHMENT, GL_RENDERBUFFER, rb[1]);
  glViewport (0, 0, W, H);
  return glCheckFramebufferStatus (GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
}

static void
draw (MmGlRenderer *r, const MmCamera *cam, int pieces, uint8_t *out)
{
  static const int slots[3] = { 0, 1, 2 };
  static const float rgba[3][4] = { { 0.95f, 0.75f, 0.25f, 1 }, { 0.93f, 0.90f, 0.82f, 0.35f },
                                    { 0.5f, 0.8f, 0.9f, 0.35f } };
  mm_gl_renderer_set_flush_triangles (r, pieces);
  mm_gl_renderer_draw (r, cam, slots, rgba, 3, NULL, 0, background);
  glReadPixels (0, 0, W, H, GL_RGBA, GL_UNSIGNED_BYTE, out);
}

static void
test_pieces (void)
{
  if (!gl_up ())
    {
      g_test_skip ("no GL 3.3 context on Mesa's surfaceless EGL platform here: flushed pieces untested");
      return;
    }
  g_autoptr (GError) error = NULL;
  MmGlRenderer *r = mm_gl_renderer_new (false, &error);
  g_assert_no_error (error);
  const double c1[3] = { -12, 0, 0 }, c2[3] = { 12, 0, 0 }, lo[3] = { -6, -40, -6 }, hi[3] = { 6, 40, 6 };
  g_autoptr (MmMesh) s1 = sphere (c1, 20, 30, 60), s2 = sphere (c2, 20, 30, 60), b = box (lo, hi);
  g_assert_cmpuint (s1->n_triangles, ==, 2 * 30 * 60 - 60 - 60);
  mm_gl_renderer_set_mesh (r, 0, b);
  mm_gl_renderer_set_mesh (r, 1, s1);
  mm_gl_renderer_set_mesh (r, 2, s2);
  MmCamera cam = { .width = W, .height = H };
  const double all_lo[3] = { -32, -40, -20 }, all_hi[3] = { 32, 40, 20 };
  mm_camera_set_standard (&cam, 'A');
  mm_camera_fit (&cam, all_lo, all_hi);
  g_autofree uint8_t *one = g_malloc (W * H * 4), *split = g_malloc (W * H * 4);

  /* From the front: the covered pixels against the projection of the two discs and the box. */
  draw (r, &cam, 0, one);
  long covered = 0, expected = 0, wrong = 0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        const uint8_t *p = one + 4 * ((size_t) (H - 1 - y) * W + x); /* GL rows go up */
        bool drawn = abs (p[0] - (int) lroundf (background[0] * 255)) > 2
                     || abs (p[2] - (int) lroundf (background[2] * 255)) > 2;
        double o[3], d[3];
        mm_camera_ray (&cam, x + 0.5, y + 0.5, o, d);
        bool in = false;
        const double *cs[2] = { c1, c2 };
        for (int s = 0; s < 2; s++)
          {
            /* Distance of the sphere's centre from the ray. */
            double v[3] = { cs[s][0] - o[0], cs[s][1] - o[1], cs[s][2] - o[2] };
            double t = v[0] * d[0] + v[1] * d[1] + v[2] * d[2];
            double q = v[0] * v[0] + v[1] * v[1] + v[2] * v[2] - t * t;
            in = in || q < 20.0 * 20.0;
          }
        /* The box seen from the front: its extent along the screen's axes. */
        double rx = o[0] * cam.right[0] + o[1] * cam.right[1] + o[2] * cam.right[2];
        double uy = o[0] * cam.up[0] + o[1] * cam.up[1] + o[2] * cam.up[2];
        in = in || (fabs (rx) < 6 && fabs (uy) < 6);
        covered += drawn;
        expected += in;
        wrong += drawn != in;
      }
  g_test_message ("from the front: %ld pixels drawn, %ld by the projection, %ld differ", covered, expected, wrong);
  g_assert_cmpint (expected, >, W * H / 16);
  /* The facets of a 30 x 60 sphere cut the disc's edge: a pixel in a hundred may differ. */
  g_assert_cmpint (wrong, <, expected / 100);

  /* In pieces, from several directions: the same bytes. */
  for (int view = 0; view < 6; view++)
    {
      if (view > 0)
        mm_camera_rotate (&cam, 53, 31);
      draw (r, &cam, 0, one);
      const int pieces[] = { 97, 1000 };
      for (int k = 0; k < 2; k++)
        {
          draw (r, &cam, pieces[k], split);
          long differ = 0;
          for (size_t i = 0; i < (size_t) W * H * 4; i++)
            differ += one[i] != split[i];
          g_test_message ("view %d, pieces of %d: %ld bytes differ", view, pieces[k], differ);
          g_assert_cmpint (differ, ==, 0);
        }
    }
  mm_gl_renderer_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/gl/pieces", test_pieces);
  return g_test_run ();
}
