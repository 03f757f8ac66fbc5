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
 * Later variants: pieces of 3 k to 50 k, positions as normalized shorts, 16-bit indices per
 * piece (FLOOR_SHORT_PIECE=N triangles; skipped when a piece spans more than 65 536
 * vertices), and each triangle's corners turned for Mesa's vertex lookups in pieces of
 * MM_SURFACE_PIECE_TRIANGLES (mm_mesh_order_corners; FLOOR_SIM=1: this file's own simulation
 * with segments of FLOOR_SEG indices, 1 023 by default, to find Mesa's
 * segment length). FLOOR_ONLY=3,5: only those variants (numbered from 0).
 * Prints per frame: wall ms, the drawing thread's CPU ms (vertex shading, setup, binning:
 * llvmpipe does them on the thread that calls GL) and llvmpipe's rasteriser threads' CPU ms,
 * and the frame rate two idle cores would reach at best: 1000 / max (drawing, all / 2). */
#include "bench-mesh-common.h"
#include "mm-camera.h"
#include "mm-mesh-order.h"

#include <epoxy/egl.h>
#include <epoxy/gl.h>
#include <math.h>
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
  bool short_index; /* 16-bit indices per piece with a base vertex (needs pieces) */
  bool short_pos;   /* positions as normalized GL_SHORT, the box folded into the matrix */
  bool rotated;     /* each triangle's indices turned so that its cached vertices come first */
} Variant;

/* Mesa's draw module (draw_pt_vsplit.c) splits an indexed draw into segments of 1 023
 * indices and looks each index up in a direct-mapped cache of 256 entries (index % 256),
 * emptied per segment: a miss is a branch it cannot predict. Turning a triangle's indices
 * cyclically (the same triangle, the same winding) so that the indices it has seen come
 * first makes the pattern hit, hit, then maybe miss. */
static uint32_t *
rotated_indices (const MmMesh *mesh, int pieces)
{
  size_t n = 3 * mesh->n_triangles, step = pieces > 0 ? 3 * (size_t) pieces : n;
  uint32_t *idx = g_new (uint32_t, n), cache[256];
  size_t seglen = g_getenv ("FLOOR_SEG") ? (size_t) atoi (g_getenv ("FLOOR_SEG")) : 1023;
  for (size_t at = 0; at < n; at += step)
    for (size_t seg = at; seg < MIN (at + step, n); seg += seglen)
      {
        memset (cache, 0xff, sizeof cache);
        for (size_t t = seg; t < MIN (MIN (seg + seglen, at + step), n); t += 3)
          {
            const uint32_t *v = mesh->triangles + t;
            bool hit[3];
            for (int k = 0; k < 3; k++)
              hit[k] = cache[v[k] % 256] == v[k];
            int r = 0; /* the rotation that puts the hits first */
            for (int k = 0; k < 3; k++)
              if (hit[k] && !hit[(k + 2) % 3])
                r = k;
            for (int k = 0; k < 3; k++)
              {
                idx[t + k] = v[(k + r) % 3];
                cache[idx[t + k] % 256] = idx[t + k];
              }
          }
      }
  return idx;
}

/* The pieces' 16-bit indices: each piece's indices less its lowest vertex, which becomes
 * the draw's base vertex. NULL when a piece spans more than 65 536 vertices. */
static uint16_t *
short_indices (const MmMesh *mesh, int pieces, GLint **base_out)
{
  size_t n_pieces = (mesh->n_triangles + (size_t) pieces - 1) / (size_t) pieces;
  uint16_t *idx = g_new (uint16_t, 3 * mesh->n_triangles);
  GLint *base = g_new (GLint, n_pieces);
  for (size_t p = 0; p < n_pieces; p++)
    {
      size_t a = 3 * p * (size_t) pieces, b = MIN (a + 3 * (size_t) pieces, 3 * mesh->n_triangles);
      uint32_t lo = UINT32_MAX, hi = 0;
      for (size_t i = a; i < b; i++)
        lo = MIN (lo, mesh->triangles[i]), hi = MAX (hi, mesh->triangles[i]);
      if (hi - lo > 65535)
        {
          g_free (idx), g_free (base);
          return NULL;
        }
      base[p] = (GLint) lo;
      for (size_t i = a; i < b; i++)
        idx[i] = (uint16_t) (mesh->triangles[i] - lo);
    }
  *base_out = base;
  return idx;
}

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
  GLuint ribo;
  {
    uint32_t *rot = g_getenv ("FLOOR_SIM") ? rotated_indices (mesh, 73 * MM_MESH_ORDER_SEGMENT_TRIANGLES) : NULL;
    if (rot == NULL)
      {
        MmMesh *copy = (MmMesh *) mesh;
        g_autoptr (MmMesh) turned = mm_mesh_concat (&copy, 1);
        mm_mesh_order_corners (turned); /* as the view draws it: pieces of 73 segments */
        rot = g_memdup2 (turned->triangles, 3 * mesh->n_triangles * sizeof (uint32_t));
      }
    glGenBuffers (1, &ribo);
    glBindBuffer (GL_ELEMENT_ARRAY_BUFFER, ribo);
    glBufferData (GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr) (mesh->n_triangles * 3 * sizeof (uint32_t)), rot,
                  GL_STATIC_DRAW);
    g_free (rot);
  }
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
  /* The compact variants' buffers: positions as normalized shorts over the mesh's box, and
   * 16-bit indices per piece. */
  double blo[3], bhi[3];
  mm_mesh_bounds (mesh, blo, bhi);
  int16_t *spos = g_new (int16_t, 4 * mesh->n_vertices);
  for (size_t v = 0; v < mesh->n_vertices; v++)
    {
      for (int k = 0; k < 3; k++)
        {
          double hk = MAX ((bhi[k] - blo[k]) / 2, 1e-6), c = (bhi[k] + blo[k]) / 2;
          spos[4 * v + k] = (int16_t) lrint (CLAMP ((mesh->positions[3 * v + k] - c) / hk, -1, 1) * 32767);
        }
      spos[4 * v + 3] = 32767;
    }
  GLuint svao, svbo, sibo = 0;
  glGenVertexArrays (1, &svao);
  glBindVertexArray (svao);
  glGenBuffers (1, &svbo);
  glBindBuffer (GL_ARRAY_BUFFER, svbo);
  glBufferData (GL_ARRAY_BUFFER, (GLsizeiptr) (mesh->n_vertices * 4 * sizeof (int16_t)), spos, GL_STATIC_DRAW);
  glEnableVertexAttribArray (0);
  glVertexAttribPointer (0, 3, GL_SHORT, GL_TRUE, 4 * sizeof (int16_t), NULL);
  glBindBuffer (GL_ELEMENT_ARRAY_BUFFER, ibo);
  g_free (spos);
  const int short_piece = g_getenv ("FLOOR_SHORT_PIECE") ? atoi (g_getenv ("FLOOR_SHORT_PIECE")) : 25000;
  GLint *piece_base = NULL;
  uint16_t *sidx = short_indices (mesh, short_piece, &piece_base);
  if (sidx != NULL)
    {
      glGenBuffers (1, &sibo);
      glBindBuffer (GL_ELEMENT_ARRAY_BUFFER, sibo);
      glBufferData (GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr) (mesh->n_triangles * 3 * sizeof (uint16_t)), sidx,
                    GL_STATIC_DRAW);
      g_free (sidx);
    }
  else
    printf ("16-bit pieces of %d: a piece spans more than 65 536 vertices\n", short_piece);
  glBindVertexArray (vao);

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
    { "view's shading, pieces of 3 k", true, true, false, 3000 },
    { "view's shading, pieces of 6 k", true, true, false, 6000 },
    { "view's shading, pieces of 12 k", true, true, false, 12000 },
    { "view's shading, pieces of 50 k", true, true, false, 50000 },
    { "view's shading, 25 k, short positions", true, true, false, 25000, false, true },
    { "view's shading, pieces, 16-bit indices", true, true, false, -1, true, false },
    { "view's shading, pieces, short pos + 16-bit", true, true, false, -1, true, true },
    { "culled, short positions + 16-bit", false, false, true, -1, true, true },
    { "view's shading, corners turned", true, true, false, 73 * MM_MESH_ORDER_SEGMENT_TRIANGLES, false, false, true },
    { "culled, corners turned", false, false, true, 73 * MM_MESH_ORDER_SEGMENT_TRIANGLES, false, false, true },
    { "culled, pieces of 25 k", false, false, true, 25000 },
    { "culled, corners turned, short positions", false, false, true, 73 * MM_MESH_ORDER_SEGMENT_TRIANGLES, false, true, true },
    { "view's shading, turned, short positions", true, true, false, 73 * MM_MESH_ORDER_SEGMENT_TRIANGLES, false, true, true },
  };
  const char *only = g_getenv ("FLOOR_ONLY"); /* a comma list of variant numbers */
  printf ("%-46s %9s %9s %9s %9s %11s\n", "variant", "wall ms", "drawing", "raster", "fps", "2 idle cores");
  for (int round = 0; round < 2; round++)
    for (size_t v = 0; v < G_N_ELEMENTS (variants); v++)
      {
        Variant vv = variants[v];
        const Variant *var = &vv;
        if (only != NULL)
          {
            g_autofree char *key = g_strdup_printf (",%zu,", v);
            g_autofree char *list = g_strdup_printf (",%s,", only);
            if (strstr (list, key) == NULL)
              continue;
          }
        if (vv.pieces < 0)
          vv.pieces = short_piece;
        if (vv.short_index && sibo == 0)
          continue;
        glBindVertexArray (vv.short_pos ? svao : vao);
        glBindBuffer (GL_ELEMENT_ARRAY_BUFFER, vv.short_index ? sibo : vv.rotated ? ribo : ibo);
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
            if (var->short_pos) /* the normalized box [-1, 1] to mm, folded into the matrix */
              {
                double c[3], hh[3];
                for (int k = 0; k < 3; k++)
                  c[k] = (bhi[k] + blo[k]) / 2, hh[k] = MAX ((bhi[k] - blo[k]) / 2, 1e-6);
                for (int r = 0; r < 4; r++)
                  {
                    double t = m[12 + r];
                    for (int k = 0; k < 3; k++)
                      t += m[4 * k + r] * c[k];
                    m[12 + r] = (float) t;
                    for (int k = 0; k < 3; k++)
                      m[4 * k + r] = (float) (m[4 * k + r] * hh[k]);
                  }
              }
            glUniformMatrix4fv (glGetUniformLocation (p, "matrix"), 1, GL_FALSE, m);
            glClearColor (0.1f, 0.11f, 0.13f, 1);
            glDepthMask (GL_TRUE);
            glClear (GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
            glDepthMask (var->blend ? GL_FALSE : GL_TRUE);
            GLsizei n = (GLsizei) (3 * mesh->n_triangles), step = var->pieces > 0 ? 3 * var->pieces : n;
            for (GLsizei at = 0; at < n; at += step)
              {
                if (var->short_index)
                  glDrawElementsBaseVertex (GL_TRIANGLES, MIN (step, n - at), GL_UNSIGNED_SHORT,
                                            (const void *) (sizeof (uint16_t) * (size_t) at), piece_base[at / step]);
                else
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
