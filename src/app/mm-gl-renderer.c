/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GL renderer of the 3D view (see mm-gl-renderer.h). */
#include "mm-gl-renderer.h"

#include <epoxy/gl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <math.h>

typedef struct
{
  GLuint vao, vbo, ibo;
  GLsizei n_indices;
} GlMesh;

struct _MmGlRenderer
{
  GLuint program, line_program, legacy_program;
  GLint u_matrix, u_colour, u_zslope, u_line_matrix;
  GLint l_matrix, l_colour, l_toward;
  bool legacy;
  GArray *meshes; /* GlMesh by slot */
  GLuint line_vao, line_vbo;
  /* The smaller buffer drawn into at a reduced resolution, stretched over the viewport. */
  float resolution;
  /* Triangles per draw call of a large mesh, each followed by a glFlush (0: one call). */
  int flush_triangles;
  GLuint fbo, fbo_colour, fbo_depth;
  int fbo_w, fbo_h;
};

/* Flat shading from the screen-space slope of the depth: with the orthographic camera the
 * face's normal in view space is (-dz/dx, -dz/dy, 1) in mm, and the headlight's shade
 * |n . toward| / |n| is 1 / sqrt (1 + |slope|^2) -- the same face shade as the software
 * path (mm-raster.c), with no normals to upload and no varying to interpolate: llvmpipe sets
 * up and interpolates nothing per triangle but the position. zslope turns window depth per
 * pixel into mm per mm. */
static const char *vertex_src =
  "layout(location = 0) in vec3 position;\n"
  "uniform mat4 matrix;\n"
  "void main () { gl_Position = matrix * vec4 (position, 1.0); }\n";
static const char *fragment_src =
  "precision highp float;\n"
  "uniform vec4 colour;\n"
  "uniform vec2 zslope;\n"
  "out vec4 frag;\n"
  "void main () {\n"
  "  vec2 g = vec2 (dFdx (gl_FragCoord.z), dFdy (gl_FragCoord.z)) * zslope;\n"
  "  float s = %.3f + %.3f * inversesqrt (1.0 + dot (g, g));\n"
  "  frag = vec4 (colour.rgb * s, colour.a);\n"
  "}\n";
/* The shading the view used before (the patient-space position as a varying, its
 * derivatives crossed): kept for bench-view3d's side-by-side figures. */
static const char *legacy_vertex_src =
  "layout(location = 0) in vec3 position;\n"
  "uniform mat4 matrix;\n"
  "out vec3 lps;\n"
  "void main () { lps = position; gl_Position = matrix * vec4 (position, 1.0); }\n";
static const char *legacy_fragment_src =
  "precision highp float;\n"
  "in vec3 lps;\n"
  "uniform vec4 colour;\n"
  "uniform vec3 toward;\n"
  "out vec4 frag;\n"
  "void main () {\n"
  "  vec3 n = normalize (cross (dFdx (lps), dFdy (lps)));\n"
  "  float s = %.3f + %.3f * abs (dot (n, toward));\n"
  "  frag = vec4 (colour.rgb * s, colour.a);\n"
  "}\n";
static const char *line_vertex_src =
  "layout(location = 0) in vec3 position;\n"
  "layout(location = 1) in vec4 colour;\n"
  "uniform mat4 matrix;\n"
  "out vec4 c;\n"
  "void main () { c = colour; gl_Position = matrix * vec4 (position, 1.0); }\n";
static const char *line_fragment_src =
  "precision highp float;\n"
  "in vec4 c;\n"
  "out vec4 frag;\n"
  "void main () { frag = c; }\n";

static GLuint
compile (GLenum type, const char *version, const char *body, GError **error)
{
  GLuint s = glCreateShader (type);
  const char *src[2] = { version, body };
  glShaderSource (s, 2, src, NULL);
  glCompileShader (s);
  GLint ok = 0;
  glGetShaderiv (s, GL_COMPILE_STATUS, &ok);
  if (!ok)
    {
      char log[1024] = "";
      glGetShaderInfoLog (s, sizeof log, NULL, log);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The 3D view's GL shader did not build: %s"), log);
      glDeleteShader (s);
      return 0;
    }
  return s;
}

static GLuint
link_program (const char *version, const char *vs, const char *fs, GError **error)
{
  GLuint v = compile (GL_VERTEX_SHADER, version, vs, error);
  if (v == 0)
    return 0;
  GLuint f = compile (GL_FRAGMENT_SHADER, version, fs, error);
  if (f == 0)
    {
      glDeleteShader (v);
      return 0;
    }
  GLuint p = glCreateProgram ();
  glAttachShader (p, v);
  glAttachShader (p, f);
  glLinkProgram (p);
  glDeleteShader (v);
  glDeleteShader (f);
  GLint ok = 0;
  glGetProgramiv (p, GL_LINK_STATUS, &ok);
  if (!ok)
    {
      char log[1024] = "";
      glGetProgramInfoLog (p, sizeof log, NULL, log);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The 3D view's GL shader did not build: %s"), log);
      glDeleteProgram (p);
      return 0;
    }
  return p;
}

/* Measured with bench-view3d on 2 cores (quiet, 500 k bone at rest, 800x600): 29.7-30.2
 * frames/s with llvmpipe's default of one rasteriser thread per CPU, 30.8-31.7 with one
 * (the drawing thread and two rasterisers took turns on two cores). */
void
mm_gl_renderer_prepare_software (void)
{
  guint n = g_get_num_processors ();
  if (n < 2 || g_getenv ("LP_NUM_THREADS") != NULL)
    return;
  char buf[16];
  g_snprintf (buf, sizeof buf, "%u", n - 1);
  g_setenv ("LP_NUM_THREADS", buf, FALSE);
}

MmGlRenderer *
mm_gl_renderer_new (bool es, GError **error)
{
  const char *version = es ? "#version 300 es\n" : "#version 330 core\n";
  g_autofree char *fs = g_strdup_printf (fragment_src, MM_RASTER_AMBIENT, MM_RASTER_DIFFUSE);
  GLuint program = link_program (version, vertex_src, fs, error);
  if (program == 0)
    return NULL;
  GLuint line_program = link_program (version, line_vertex_src, line_fragment_src, error);
  if (line_program == 0)
    {
      glDeleteProgram (program);
      return NULL;
    }
  g_autofree char *lfs = g_strdup_printf (legacy_fragment_src, MM_RASTER_AMBIENT, MM_RASTER_DIFFUSE);
  GLuint legacy_program = link_program (version, legacy_vertex_src, lfs, error);
  if (legacy_program == 0)
    {
      glDeleteProgram (program);
      glDeleteProgram (line_program);
      return NULL;
    }
  MmGlRenderer *r = g_new0 (MmGlRenderer, 1);
  r->program = program;
  r->line_program = line_program;
  r->u_matrix = glGetUniformLocation (program, "matrix");
  r->u_colour = glGetUniformLocation (program, "colour");
  r->u_zslope = glGetUniformLocation (program, "zslope");
  r->legacy_program = legacy_program;
  r->l_matrix = glGetUniformLocation (legacy_program, "matrix");
  r->l_colour = glGetUniformLocation (legacy_program, "colour");
  r->l_toward = glGetUniformLocation (legacy_program, "toward");
  r->u_line_matrix = glGetUniformLocation (line_program, "matrix");
  r->meshes = g_array_new (FALSE, TRUE, sizeof (GlMesh));
  r->resolution = 1;
  glGenVertexArrays (1, &r->line_vao);
  glGenBuffers (1, &r->line_vbo);
  return r;
}

static void
drop_mesh (GlMesh *m)
{
  if (m->vao)
    {
      glDeleteVertexArrays (1, &m->vao);
      glDeleteBuffers (1, &m->vbo);
      glDeleteBuffers (1, &m->ibo);
    }
  *m = (GlMesh) { 0 };
}

void
mm_gl_renderer_clear (MmGlRenderer *r)
{
  for (guint i = 0; i < r->meshes->len; i++)
    drop_mesh (&g_array_index (r->meshes, GlMesh, i));
}

void
mm_gl_renderer_free (MmGlRenderer *r)
{
  if (r == NULL)
    return;
  mm_gl_renderer_clear (r);
  g_array_unref (r->meshes);
  glDeleteVertexArrays (1, &r->line_vao);
  glDeleteBuffers (1, &r->line_vbo);
  if (r->fbo)
    {
      glDeleteFramebuffers (1, &r->fbo);
      glDeleteRenderbuffers (1, &r->fbo_colour);
      glDeleteRenderbuffers (1, &r->fbo_depth);
    }
  glDeleteProgram (r->program);
  glDeleteProgram (r->line_program);
  glDeleteProgram (r->legacy_program);
  g_free (r);
}

void
mm_gl_renderer_set_legacy_shading (MmGlRenderer *r, bool legacy)
{
  r->legacy = legacy;
}

void
mm_gl_renderer_set_flush_triangles (MmGlRenderer *r, int n)
{
  r->flush_triangles = MAX (n, 0);
}

void
mm_gl_renderer_set_resolution (MmGlRenderer *r, float fraction)
{
  r->resolution = fraction > 0 && fraction < 1 ? fraction : 1;
}

/* The offscreen buffer of w x h pixels (colour and depth), made or resized as needed. False
 * when the driver refuses it (the caller then draws at full resolution). */
static bool
ensure_fbo (MmGlRenderer *r, int w, int h)
{
  if (r->fbo && r->fbo_w == w && r->fbo_h == h)
    return true;
  if (r->fbo == 0)
    {
      glGenFramebuffers (1, &r->fbo);
      glGenRenderbuffers (1, &r->fbo_colour);
      glGenRenderbuffers (1, &r->fbo_depth);
    }
  glBindRenderbuffer (GL_RENDERBUFFER, r->fbo_colour);
  glRenderbufferStorage (GL_RENDERBUFFER, GL_RGBA8, w, h);
  glBindRenderbuffer (GL_RENDERBUFFER, r->fbo_depth);
  glRenderbufferStorage (GL_RENDERBUFFER, GL_DEPTH_COMPONENT24, w, h);
  glBindRenderbuffer (GL_RENDERBUFFER, 0);
  glBindFramebuffer (GL_FRAMEBUFFER, r->fbo);
  glFramebufferRenderbuffer (GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, r->fbo_colour);
  glFramebufferRenderbuffer (GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER, r->fbo_depth);
  bool ok = glCheckFramebufferStatus (GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
  r->fbo_w = ok ? w : 0;
  r->fbo_h = ok ? h : 0;
  return ok;
}

void
mm_gl_renderer_set_mesh (MmGlRenderer *r, int slot, const MmMesh *mesh)
{
  g_return_if_fail (slot >= 0);
  if ((guint) slot >= r->meshes->len)
    g_array_set_size (r->meshes, slot + 1);
  GlMesh *m = &g_array_index (r->meshes, GlMesh, slot);
  drop_mesh (m);
  if (mesh == NULL || mesh->n_triangles == 0)
    return;
  glGenVertexArrays (1, &m->vao);
  glBindVertexArray (m->vao);
  glGenBuffers (1, &m->vbo);
  glBindBuffer (GL_ARRAY_BUFFER, m->vbo);
  glBufferData (GL_ARRAY_BUFFER, (GLsizeiptr) (mesh->n_vertices * 3 * sizeof (float)), mesh->positions,
                GL_STATIC_DRAW);
  glEnableVertexAttribArray (0);
  glVertexAttribPointer (0, 3, GL_FLOAT, GL_FALSE, 0, NULL);
  glGenBuffers (1, &m->ibo);
  glBindBuffer (GL_ELEMENT_ARRAY_BUFFER, m->ibo);
  glBufferData (GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr) (mesh->n_triangles * 3 * sizeof (uint32_t)),
                mesh->triangles, GL_STATIC_DRAW);
  m->n_indices = (GLsizei) (mesh->n_triangles * 3);
  glBindVertexArray (0);
}

/* Triangles first .. first + count of the bound mesh; a flush after every flush_triangles
 * drawn (*pending counts them): llvmpipe bins a scene on this thread and rasterises it on its
 * own threads only once the scene is flushed, so a flush after each piece lets them rasterise
 * it while this thread bins the next (in one piece: binning, then rasterising). */
static void
draw_range (MmGlRenderer *r, uint32_t first, uint32_t count, uint32_t *pending)
{
  uint32_t step = r->flush_triangles > 0 ? (uint32_t) r->flush_triangles : UINT32_MAX;
  while (count > 0)
    {
      uint32_t n = MIN (count, step - *pending);
      glDrawElements (GL_TRIANGLES, (GLsizei) (3 * n), GL_UNSIGNED_INT,
                      (const void *) (3 * sizeof (uint32_t) * (size_t) first));
      first += n, count -= n, *pending += n;
      if (*pending == step)
        {
          glFlush ();
          *pending = 0;
        }
    }
}

static void
draw_slot (MmGlRenderer *r, int slot, const float rgba[4])
{
  if (slot < 0 || (guint) slot >= r->meshes->len)
    return;
  GlMesh *m = &g_array_index (r->meshes, GlMesh, slot);
  if (m->vao == 0)
    return;
  glUniform4fv (r->legacy ? r->l_colour : r->u_colour, 1, rgba);
  glBindVertexArray (m->vao);
  uint32_t pending = 0, n_tri = (uint32_t) (m->n_indices / 3);
  bool pieces = r->flush_triangles > 0 && n_tri > (uint32_t) r->flush_triangles;
  if (pieces)
    glFlush (); /* what came before (the clear, the metal) rasterises while this bins */
  draw_range (r, 0, n_tri, &pending);
  if (pieces && pending > 0)
    glFlush ();
}

void
mm_gl_renderer_draw (MmGlRenderer *r, const MmCamera *cam, const int *slots, const float (*rgba)[4],
                     int n, const MmRasterLine *lines, int n_lines, const float background[3])
{
  float matrix[16];
  mm_camera_gl_matrix (cam, matrix);
  /* At a reduced resolution: the scene into the smaller buffer, stretched over the viewport
   * before the lines (drawn sharp at full resolution). */
  GLint vp[4] = { 0, 0, 1, 1 }, target = 0;
  glGetIntegerv (GL_VIEWPORT, vp);
  int sw = MAX ((int) ceilf (vp[2] * r->resolution), 1), sh = MAX ((int) ceilf (vp[3] * r->resolution), 1);
  bool reduced = r->resolution < 1;
  if (reduced)
    {
      glGetIntegerv (GL_DRAW_FRAMEBUFFER_BINDING, &target);
      reduced = ensure_fbo (r, sw, sh);
      glBindFramebuffer (GL_FRAMEBUFFER, reduced ? r->fbo : (GLuint) target);
      if (reduced)
        glViewport (0, 0, sw, sh);
    }
  if (!reduced)
    sw = vp[2], sh = vp[3];
  glClearColor (background[0], background[1], background[2], 1);
  glClearDepthf (1);
  glClear (GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
  glEnable (GL_DEPTH_TEST);
  /* The meshes are closed and wound counter-clockwise seen from outside, and the camera is
   * always outside them (orthographic, near plane beyond the scene): back faces are hidden,
   * and llvmpipe spends much of a frame on their fragments. */
  if (g_getenv ("MM_3D_NO_CULL"))
    glDisable (GL_CULL_FACE);
  else
    {
      glEnable (GL_CULL_FACE);
      glCullFace (GL_BACK);
      glFrontFace (GL_CCW);
    }
  if (r->legacy)
    {
      glUseProgram (r->legacy_program);
      glUniformMatrix4fv (r->l_matrix, 1, GL_FALSE, matrix);
      float toward[3] = { (float) cam->toward[0], (float) cam->toward[1], (float) cam->toward[2] };
      glUniform3fv (r->l_toward, 1, toward);
    }
  else
    {
      /* mm_camera_gl_matrix: one unit of window depth is 4 radius mm along the view; a
       * pixel drawn is width / (pixels drawn across * scale) mm across it. */
      double mm_per_depth = 4 * MAX (cam->radius, 1e-3);
      float zslope[2] = {
        (float) (mm_per_depth * cam->scale * sw / MAX (cam->width, 1)),
        (float) (mm_per_depth * cam->scale * sh / MAX (cam->height, 1)),
      };
      glUseProgram (r->program);
      glUniformMatrix4fv (r->u_matrix, 1, GL_FALSE, matrix);
      glUniform2fv (r->u_zslope, 1, zslope);
    }

  glDepthFunc (GL_LESS);
  glDepthMask (GL_TRUE);
  glDisable (GL_BLEND);
  for (int i = 0; i < n; i++)
    if (rgba[i][3] >= 1)
      draw_slot (r, slots[i], rgba[i]);
  /* The translucent surface in one pass: every front face in front of the opaque parts,
   * blended, the depth not written. Its layers share one colour, so the result hardly
   * depends on their order (only their shade does); a depth pre-pass for the front-most
   * layer alone cost llvmpipe a second pass over the 500 k triangles of bone. */
  glDepthMask (GL_FALSE);
  glEnable (GL_BLEND);
  glBlendFuncSeparate (GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ZERO, GL_ONE);
  for (int i = 0; i < n; i++)
    if (rgba[i][3] < 1)
      draw_slot (r, slots[i], rgba[i]);
  glDisable (GL_BLEND);
  glDepthMask (GL_TRUE);
  glDepthFunc (GL_LESS);
  if (reduced)
    {
      glBindFramebuffer (GL_READ_FRAMEBUFFER, r->fbo);
      glBindFramebuffer (GL_DRAW_FRAMEBUFFER, (GLuint) target);
      glViewport (vp[0], vp[1], vp[2], vp[3]);
      glBlitFramebuffer (0, 0, sw, sh, vp[0], vp[1], vp[0] + vp[2], vp[1] + vp[3], GL_COLOR_BUFFER_BIT,
                         GL_LINEAR);
      glBindFramebuffer (GL_FRAMEBUFFER, (GLuint) target);
    }

  if (n_lines > 0)
    {
      /* Lines on top of everything, as the slice planes are not in the scene. */
      glDisable (GL_DEPTH_TEST);
      g_autofree float *v = g_new (float, (size_t) n_lines * 14);
      for (int l = 0; l < n_lines; l++)
        {
          float *p = v + 14 * l;
          for (int e = 0; e < 2; e++)
            {
              const double *q = e ? lines[l].b : lines[l].a;
              for (int a = 0; a < 3; a++)
                p[7 * e + a] = (float) q[a];
              for (int a = 0; a < 4; a++)
                p[7 * e + 3 + a] = lines[l].rgba[a];
            }
        }
      glUseProgram (r->line_program);
      glUniformMatrix4fv (r->u_line_matrix, 1, GL_FALSE, matrix);
      glBindVertexArray (r->line_vao);
      glBindBuffer (GL_ARRAY_BUFFER, r->line_vbo);
      glBufferData (GL_ARRAY_BUFFER, (GLsizeiptr) ((size_t) n_lines * 14 * sizeof (float)), v, GL_STREAM_DRAW);
      glEnableVertexAttribArray (0);
      glVertexAttribPointer (0, 3, GL_FLOAT, GL_FALSE, 7 * sizeof (float), NULL);
      glEnableVertexAttribArray (1);
      glVertexAttribPointer (1, 4, GL_FLOAT, GL_FALSE, 7 * sizeof (float), (void *) (3 * sizeof (float)));
      glDrawArrays (GL_LINES, 0, n_lines * 2);
      glBindVertexArray (0);
      glEnable (GL_DEPTH_TEST);
    }
  glUseProgram (0);
}
