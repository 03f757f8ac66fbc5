/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The floor under bench-view3d (issue 14): what Mesa's llvmpipe needs to draw a mesh of N
 * triangles at 800x600 with nothing else around it -- no GTK, no window, no compositing, no
 * X server: an EGL context without a surface (Mesa's surfaceless platform), an offscreen
 * colour + depth buffer, one glDrawElements of the mesh's static buffers, glFinish. Variants
 * in one run: a constant colour opaque (the cheapest shader there is), the same blended
 * without depth writes (as the view's translucent bone), the view's shading (the slope of the
 * depth), every triangle culled (what vertex work, clipping and culling alone cost) and the
 * draw split into flushed pieces (llvmpipe's threads rasterise a piece while the drawing
 * thread bins the next). Usage:
 *   bench-gl-floor [--seconds N] MESH_FILE   (a mesh saved by bench-view3d --cache DIR)
 * Prints per frame: wall ms, the drawing thread's CPU ms (vertex shading, setup, binning:
 * llvmpipe does them on the thread that calls GL) and llvmpipe's rasteriser threads' CPU ms,
 * and the frame rate two idle cores would reach at best: 1000 / max (drawing, all / 2). */
#include "bench-mesh-common.h"
#include "mm-camera.h"

#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
thread_cpu_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* llvmpipe's rasteriser threads ("llvmpipe-N"): their CPU time so far, ms. */
static double
raster_cpu_ms (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  double sum = 0;
  for (const char *e; dir != NULL && (e = g_dir_read_name (dir)) != NULL;)
    {
      char path[64], comm[32] = "";
      g_snprintf (path, sizeof path, "/proc/self/task/%s/comm", e);
      FILE *f = fopen (path, "r");
      if (f == NULL)
        continue;
      bool raster = fgets (comm, sizeof comm, f) != NULL && g_str_has_prefix (comm, "llvmpipe");
      fclose (f);
      g_snprintf (path, sizeof path, "/proc/self/task/%s/schedstat", e);
      unsigned long long ns = 0;
      if (raster && (f = fopen (path, "r")) != NULL)
        {
          if (fscanf (f, "%llu", &ns) == 1)
            sum += ns / 1e6;
          fclose (f);
        }
    }
  return sum;
}

static GLuint
program (const char *vs, const char *fs)
{
  GLuint p = glCreateProgram ();
  const char *src[2] = { vs, fs };
  GLenum type[2] = { GL_VERTEX_SHADER, GL_FRAGMENT_SHADER };
  for (int i = 0; i < 2; i++)
    {
      GLuint s = glCreateShader (type[i]);
      const char *both[2] = { "#version 330 core\n", src[i] };
      glShaderSource (s, 2, both, NULL);
      glCompileShader (s);
      GLint ok = 0;
      glGetShaderiv (s, GL_COMPILE_STATUS, &ok);
      if (!ok)
        {
          char log[1024] = "";
          glGetShaderInfoLog (s, sizeof log, NULL, log);
          fprintf (stderr, "bench-gl-floor: shader: %s\n", log);
          exit (1);
        }
      glAttachShader (p, s);
      glDeleteShader (s);
    }
  glLinkProgram (p);
  return p;
}

static const char *vs_src = "layout(location = 0) in vec3 position;\n"
                            "uniform mat4 matrix;\n"
                            "void main () { gl_Position = matrix * vec4 (position, 1.0); }\n";
static const char *flat_src = "uniform vec4 colour;\n"
                              "out vec4 frag;\n"
                              "void main () { frag = colour; }\n";
/* The view's shading (mm-gl-renderer.c). */
static const char *slope_src = "uniform vec4 colour;\n"
                               "uniform vec2 zslope;\n"
                               "out vec4 frag;\n"
                               "void main () {\n"
                               "  vec2 g = vec2 (dFdx (gl_FragCoord.z), dFdy (gl_FragCoord.z)) * zslope;\n"
                               "  float s = 0.35 + 0.65 * inversesqrt (1.0 + dot (g, g));\n"
                               "  frag = vec4 (colour.rgb * s, colour.a);\n"
                               "}\n";

typedef struct
{
  const char *name;
  bool slope, blend, cull_all;
  int pieces; /* triangles per flushed piece, 0: one call */
} Variant;

int
main (int argc, char **argv)
{
  double seconds = 4;
  const char *file = NULL;
  for (int a = 1; a < argc; a++)
    if (strcmp (argv[a], "--seconds") == 0 && a + 1 < argc)
      {
        double v = atof (argv[++a]);
        seconds = CLAMP (v, 1, 600);
      }
    else
      file = argv[a];
  if (file == NULL)
    {
      fprintf (stderr, "usage: bench-gl-floor [--seconds N] MESH_FILE (from bench-view3d --cache DIR)\n");
      return 2;
    }
  g_autofree char *dir = g_path_get_dirname (file), *base = g_path_get_basename (file);
  if (g_str_has_suffix (base, ".mesh"))
    base[strlen (base) - 5] = 0;
  g_autoptr (MmMesh) mesh = bench_mesh_cache_load (dir, base);
  if (mesh == NULL)
    {
      fprintf (stderr, "bench-gl-floor: %s: not a mesh saved by bench-view3d --cache\n", file);
      return 1;
    }

  EGLDisplay dpy = eglGetPlatformDisplayEXT (EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, NULL);
  if (dpy == EGL_NO_DISPLAY || !eglInitialize (dpy, NULL, NULL) || !eglBindAPI (EGL_OPENGL_API))
    {
      fprintf (stderr, "bench-gl-floor: no surfaceless EGL display (Mesa's EGL_MESA_platform_surfaceless)\n");
      return 1;
    }
  const EGLint ctx_attr[] = { EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
                              EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE };
  EGLContext ctx = eglCreateContext (dpy, EGL_NO_CONFIG_KHR, EGL_NO_CONTEXT, ctx_attr);
  if (ctx == EGL_NO_CONTEXT || !eglMakeCurrent (dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx))
    {
      fprintf (stderr, "bench-gl-floor: no GL 3.3 core context without a surface\n");
      return 1;
    }
  const int w = 800, h = 600;
  GLuint fbo, rb[2];
  glGenFramebuffers (1, &fbo);
  glGenRenderbuffers (2, rb);
  glBindRenderbuffer (GL_RENDERBUFFER, rb[0]);
  glRenderbufferStorage (GL_RENDERBUFFER, GL_RGBA8, w, h);
  glBindRenderbuffer (GL_RENDERBUFFER, rb[1]);
  glRenderbufferStorage (GL_RENDERBUFFER, GL_DEPTH24_STENCIL8, w, h); /* as GtkGLArea's */
  glBindFramebuffer (GL_FRAMEBUFFER, fbo);
  glFramebufferRenderbuffer (GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb[0]);
  glFramebufferRenderbuffer (GL_FRAMEBUFFER, GL_DEPTH_STENCIL_ATTACHMENT, GL_RENDERBUFFER, rb[1]);
  glViewport (0, 0, w, h);

  GLuint vao, vbo, ibo;
  glGenVertexArrays (1, &vao);
  glBindVertexArray (vao);
  glGenBuffers (1, &vbo);
  glBindBuffer (GL_ARRAY_BUFFER, vbo);
  glBufferData (GL_ARRAY_BUFFER, (GLsizeiptr) (mesh->n_vertices * 3 * sizeof (float)), mesh->positions, GL_STATIC_DRAW);
  glEnableVertexAttribArray (0);
  glVertexAttribPointer (0, 3, GL_FLOAT, GL_FALSE, 0, NULL);
  glGenBuffers (1, &ibo);
  glBindBuffer (GL_ELEMENT_ARRAY_BUFFER, ibo);
  glBufferData (GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr) (mesh->n_triangles * 3 * sizeof (uint32_t)), mesh->triangles,
                GL_STATIC_DRAW);
  GLuint flat = program (vs_src, flat_src), slope = program (vs_src, slope_src);

  MmCamera cam = { .width = w, .height = h };
  double lo[3], hi[3];
  mm_mesh_bounds (mesh, lo, hi);
  mm_camera_set_standard (&cam, 'A');
  mm_camera_fit (&cam, lo, hi);
  printf ("%s: %zu triangles, %zu vertices; GL: %s, %s; LP_NUM_THREADS=%s; %d x %d, %.0f s a variant\n", file,
          mesh->n_triangles, mesh->n_vertices, glGetString (GL_RENDERER), glGetString (GL_VERSION),
          g_getenv ("LP_NUM_THREADS") ? g_getenv ("LP_NUM_THREADS") : "(unset)", w, h, seconds);
  double load[3];
  bench_load_average (load);
  printf ("load average %.1f\n", load[0]);

  const Variant variants[] = {
    { "constant colour, opaque", false, false, false, 0 },
    { "constant colour, blended, no depth writes", false, true, false, 0 },
    { "the view's shading, blended (the bone)", true, true, false, 0 },
    { "every triangle culled", false, false, true, 0 },
    { "constant colour, opaque, pieces of 25 k", false, false, false, 25000 },
    { "the view's shading, blended, pieces of 25 k", true, true, false, 25000 },
  };
  printf ("%-46s %9s %9s %9s %9s %11s\n", "variant", "wall ms", "drawing", "raster", "fps", "2 idle cores");
  for (int round = 0; round < 2; round++)
    for (size_t v = 0; v < G_N_ELEMENTS (variants); v++)
      {
        const Variant *var = &variants[v];
        GLuint p = var->slope ? slope : flat;
        glUseProgram (p);
        float bone[4] = { 0.93f, 0.90f, 0.82f, var->blend ? 0.35f : 1.0f };
        glUniform4fv (glGetUniformLocation (p, "colour"), 1, bone);
        double mm_per_depth = 4 * MAX (cam.radius, 1e-3);
        float zs[2] = { (float) (mm_per_depth * cam.scale), (float) (mm_per_depth * cam.scale) };
        glUniform2fv (glGetUniformLocation (p, "zslope"), 1, zs);
        glEnable (GL_DEPTH_TEST);
        glEnable (GL_CULL_FACE);
        glCullFace (var->cull_all ? GL_FRONT_AND_BACK : GL_BACK);
        glDepthMask (var->blend ? GL_FALSE : GL_TRUE);
        if (var->blend)
          {
            glEnable (GL_BLEND);
            glBlendFuncSeparate (GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ZERO, GL_ONE);
          }
        else
          glDisable (GL_BLEND);
        double t0 = 0, c0 = 0, r0 = 0;
        int frames = 0;
        double start = bench_now_ms ();
        for (;;)
          {
            double now = bench_now_ms ();
            if (frames == 0 && now - start > 1000) /* one second of warm-up */
              t0 = now, c0 = thread_cpu_ms (), r0 = raster_cpu_ms (), frames = 0;
            if (t0 > 0 && now - t0 > seconds * 1000)
              break;
            mm_camera_rotate (&cam, 4, 1);
            float m[16];
            mm_camera_gl_matrix (&cam, m);
            glUniformMatrix4fv (glGetUniformLocation (p, "matrix"), 1, GL_FALSE, m);
            glClearColor (0.1f, 0.11f, 0.13f, 1);
            glDepthMask (GL_TRUE);
            glClear (GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
            glDepthMask (var->blend ? GL_FALSE : GL_TRUE);
            GLsizei n = (GLsizei) (3 * mesh->n_triangles), step = var->pieces > 0 ? 3 * var->pieces : n;
            for (GLsizei at = 0; at < n; at += step)
              {
                glDrawElements (GL_TRIANGLES, MIN (step, n - at), GL_UNSIGNED_INT,
                                (const void *) (sizeof (uint32_t) * (size_t) at));
                if (var->pieces > 0)
                  glFlush ();
              }
            glFinish ();
            if (t0 > 0)
              frames++;
          }
        double wall = (bench_now_ms () - t0) / frames, cpu = (thread_cpu_ms () - c0) / frames;
        double raster = (raster_cpu_ms () - r0) / frames;
        /* On two idle cores: the drawing thread's work, then what the rasteriser threads did
         * not do meanwhile spread over both (a lower bound on the wall time: they cannot go
         * faster than their share). */
        printf ("%-46s %9.1f %9.1f %9.1f %9.1f %11.1f\n", var->name, wall, cpu, raster, 1000 / wall,
                1000 / MAX (cpu, (cpu + raster) / 2));
        fflush (stdout);
      }
  bench_load_average (load);
  printf ("load average %.1f\n", load[0]);
  return 0;
}
