#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""metalmark-cli mesh end to end (issue 14): the STL, PLY and OBJ files read back by VTK's
readers (python3-vtk9), surface area against scikit-image's marching_cubes +
mesh_surface_area on the same mask (python3-skimage), bounds against the mask's RAS extent
computed from the DICOM files with pydicom, edges checked by vtkFeatureEdges; on an axial
and a tilted phantom and, with MM_SEED_CT, on the seed CT's metal. TAP output."""

import argparse
import json
import os
import sys
import tempfile

import numpy as np
import pydicom

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, results, finish, run, read_png_gray8  # noqa: E402


def skip(name, why):
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), name, why))


try:
    import vtk
    from vtk.util.numpy_support import vtk_to_numpy
except ImportError:
    vtk = None
try:
    from skimage import measure
except ImportError:
    measure = None


class Geometry:
    """The series' grid from pydicom alone: index (i, j, k) -> LPS mm, slices by UID."""

    def __init__(self, folder):
        dss = [pydicom.dcmread(os.path.join(folder, f), stop_before_pixels=True)
               for f in os.listdir(folder)]
        iop = np.array(dss[0].ImageOrientationPatient, float)
        self.row, self.col = iop[:3], iop[3:]
        self.normal = np.cross(self.row, self.col)
        dss.sort(key=lambda d: float(np.dot(np.array(d.ImagePositionPatient, float),
                                            self.normal)))
        self.ipp = np.array([np.array(d.ImagePositionPatient, float) for d in dss])
        ps = [float(v) for v in dss[0].PixelSpacing]
        self.sx, self.sy = ps[1], ps[0]
        z = self.ipp @ self.normal
        self.sz = float(np.mean(np.diff(z))) if len(z) > 1 else 1.0
        # (0008,0018), else the meta header's (0002,0003), as the label stack keys slices.
        self.uids = [d.get("SOPInstanceUID") or d.file_meta.MediaStorageSOPInstanceUID
                     for d in dss]
        self.dims = (int(dss[0].Columns), int(dss[0].Rows), len(dss))

    def lps(self, i, j, k):
        """Points (arrays of continuous indices) in LPS mm (k interpolated between IPPs)."""
        k = np.asarray(k, float)
        k0 = np.clip(np.floor(k).astype(int), 0, len(self.ipp) - 2)
        t = (k - k0)[..., None]
        base = (1 - t) * self.ipp[k0] + t * self.ipp[k0 + 1]
        return (base + np.asarray(i, float)[..., None] * self.sx * self.row
                + np.asarray(j, float)[..., None] * self.sy * self.col)


def read_stack(dirname, geom):
    """A label stack as a [k][j][i] 0/1 array in the series' order (matched by SOP UID)."""
    m = json.load(open(os.path.join(dirname, "manifest.json")))
    by_uid = {s["sop_instance_uid"]: s for s in m["slices"]}
    planes = []
    for uid in geom.uids:
        w, h, data = read_png_gray8(os.path.join(dirname, by_uid[uid]["file"]))
        planes.append(np.frombuffer(data, np.uint8).reshape(h, w) > 0)
    return np.stack(planes).astype(np.uint8)


def ras_extent(mask, geom):
    """Bounds (min, max) in RAS mm of the mask's voxels as boxes: every corner of every
    boundary voxel (centre +- half a voxel along the grid axes)."""
    k, j, i = np.nonzero(mask)
    pts = []
    for di in (-0.5, 0.5):
        for dj in (-0.5, 0.5):
            for dk in (-0.5, 0.5):
                pts.append(geom.lps(i + di, j + dj, k + dk))
    p = np.concatenate(pts) * np.array([-1.0, -1.0, 1.0])
    return p.min(axis=0), p.max(axis=0)


def skimage_area(mask, geom):
    """scikit-image's marching cubes on the same mask (a ring of zeros so it closes)."""
    padded = np.pad(mask, 1).astype(np.float32)
    verts, faces, _, _ = measure.marching_cubes(padded, 0.5, spacing=(geom.sz, geom.sy, geom.sx))
    return measure.mesh_surface_area(verts, faces), len(faces)


def read_vtk(path):
    ext = path.rsplit(".", 1)[1]
    reader = {"stl": vtk.vtkSTLReader, "ply": vtk.vtkPLYReader, "obj": vtk.vtkOBJReader}[ext]()
    reader.SetFileName(path)
    reader.Update()
    return reader.GetOutput()


def polydata_area_volume(poly):
    pts = vtk_to_numpy(poly.GetPoints().GetData()).astype(np.float64)
    cells = vtk_to_numpy(poly.GetPolys().GetData()).reshape(-1, 4)
    assert (cells[:, 0] == 3).all()
    a, b, c = pts[cells[:, 1]], pts[cells[:, 2]], pts[cells[:, 3]]
    cross = np.cross(b - a, c - a)
    o = pts.mean(axis=0)
    vol = np.einsum("ij,ij->i", a - o, np.cross(b - o, c - o)).sum() / 6.0
    return 0.5 * np.linalg.norm(cross, axis=1).sum(), vol


def open_edges(poly):
    """Boundary plus non-manifold edges by VTK's own edge analysis (points merged first)."""
    clean = vtk.vtkCleanPolyData()
    clean.SetInputData(poly)
    clean.Update()
    fe = vtk.vtkFeatureEdges()
    fe.SetInputData(clean.GetOutput())
    fe.BoundaryEdgesOn()
    fe.NonManifoldEdgesOn()
    fe.FeatureEdgesOff()
    fe.ManifoldEdgesOff()
    fe.Update()
    return fe.GetOutput().GetNumberOfCells()


def parse_written(out):
    for line in out.splitlines():
        if line.startswith("Written"):
            return int(line.split("(")[1].split(",")[1].split()[0])
    return -1


def check_case(cli, name, ct, mask_args, mask, geom, tmp, strict_bounds=True):
    lo, hi = ras_extent(mask, geom)
    voxel = min(geom.sx, geom.sy, geom.sz)
    sk_area, sk_faces = skimage_area(mask, geom)
    for fmt in ("stl", "ply", "obj"):
        out = os.path.join(tmp, "%s.%s" % (name.replace(" ", "-"), fmt))
        rc, so, se = run(cli, "mesh", ct, *mask_args, "--out", out)
        if not check("%s %s: mesh exits 0" % (name, fmt), rc == 0, se):
            continue
        n = parse_written(so)
        poly = read_vtk(out)
        check("%s %s: VTK reads %d triangles, as written" % (name, fmt, n),
              poly.GetNumberOfPolys() == n, (poly.GetNumberOfPolys(), n))
        b = poly.GetBounds()
        blo, bhi = np.array(b[0::2]), np.array(b[1::2])
        err = max(np.abs(blo - lo).max(), np.abs(bhi - hi).max())
        check("%s %s: bounds = the mask's RAS extent to 0.5 voxel (%.3f mm)" % (name, fmt, err),
              err <= 0.5 * voxel, (blo, bhi, lo, hi))
        area, vol = polydata_area_volume(poly)
        check("%s %s: area %.1f mm2 within 5 %% of skimage's %.1f" % (name, fmt, area, sk_area),
              abs(area - sk_area) <= 0.05 * sk_area)
        vvox = mask.sum() * geom.sx * geom.sy * geom.sz
        check("%s %s: volume %.1f mm3 positive (outward normals) within 5 %% of the voxels' "
              "%.1f" % (name, fmt, vol, vvox), 0 < vol and abs(vol - vvox) <= 0.05 * vvox)
        check("%s %s: VTK finds no boundary or non-manifold edge" % (name, fmt),
              open_edges(poly) == 0)
    return sk_faces


def tests(cli, tmp):
    for tilt in (0, 20):
        ph = os.path.join(tmp, "ph%d" % tilt)
        rc, _, err = run(cli, "phantom", ph, "--size", 128, "--slices", 30, "--tilt", tilt)
        if not check("phantom (tilt %d) exits 0" % tilt, rc == 0, err):
            return
        ct, truth = os.path.join(ph, "ct"), os.path.join(ph, "truth")
        geom = Geometry(ct)
        mask = read_stack(truth, geom)
        check_case(cli, "phantom tilt %d" % tilt, ct, ["--mask", truth], mask, geom, tmp)

    ph = os.path.join(tmp, "ph0")
    ct, truth = os.path.join(ph, "ct"), os.path.join(ph, "truth")
    geom = Geometry(ct)
    # LPS: x and y negated against the RAS file, triangles and z unchanged.
    ras, lps = os.path.join(tmp, "ras.ply"), os.path.join(tmp, "lps.ply")
    run(cli, "mesh", ct, "--mask", truth, "--out", ras)
    rc, _, err = run(cli, "mesh", ct, "--mask", truth, "--out", lps, "--lps")
    pr, pl = read_vtk(ras), read_vtk(lps)
    a = vtk_to_numpy(pr.GetPoints().GetData())
    b = vtk_to_numpy(pl.GetPoints().GetData())
    check("--lps negates x and y of every vertex", rc == 0 and a.shape == b.shape
          and np.array_equal(a * np.array([-1, -1, 1], np.float32), b), err)
    # One component: its own triangles only, the default (--segment) finds the same parts.
    rc, so, err = run(cli, "mesh", ct, "--out", os.path.join(tmp, "all.stl"))
    parts = [l for l in so.splitlines() if l.startswith("Part")]
    check("--segment finds the phantom's 2 metal parts", rc == 0 and len(parts) == 2, so + err)
    rc, so2, err = run(cli, "mesh", ct, "--component", 2, "--out", os.path.join(tmp, "c2.stl"))
    n2 = int(parts[1].split(":")[1].split()[0]) if len(parts) == 2 else -1
    check("--component 2 writes that part's %d triangles" % n2,
          rc == 0 and parse_written(so2) == n2 and read_vtk(os.path.join(tmp, "c2.stl"))
          .GetNumberOfPolys() == n2, so2 + err)
    # Smoothing and decimation: the budget met, still closed, volume kept.
    out = os.path.join(tmp, "dec.ply")
    rc, so, err = run(cli, "mesh", ct, "--mask", truth, "--smooth", 10, "--max-triangles", 600,
                      "--out", out)
    poly = read_vtk(out) if rc == 0 else None
    check("--smooth 10 --max-triangles 600: at most 600 triangles, closed",
          poly is not None and poly.GetNumberOfPolys() <= 600 and open_edges(poly) == 0,
          so + err)
    base = read_vtk(os.path.join(tmp, "phantom-tilt-0.ply"))
    if poly is not None:
        v0, v1 = polydata_area_volume(base)[1], polydata_area_volume(poly)[1]
        check("smoothed + decimated volume within 5 %% (%.1f vs %.1f mm3)" % (v1, v0),
              abs(v1 - v0) <= 0.05 * v0)
    # Bone as context: --above 300 gives one closed surface.
    out = os.path.join(tmp, "bone.stl")
    rc, so, err = run(cli, "mesh", ct, "--above", 300, "--out", out)
    check("--above 300: one closed surface", rc == 0 and open_edges(read_vtk(out)) == 0,
          so + err)
    # Usage errors: every number range-checked, nothing written.
    bad = os.path.join(tmp, "bad.stl")
    for args, code, what in (
            (["--smooth", -1], 2, "--smooth -1"), (["--smooth", 1001], 2, "--smooth 1001"),
            (["--max-triangles", 3], 2, "--max-triangles 3"),
            (["--max-triangles", "1e99"], 2, "--max-triangles 1e99"),
            (["--component", -1], 2, "--component -1"), (["--component", 9], 1, "--component 9"),
            (["--format", "vrml"], 2, "--format vrml"), (["--above", "nan"], 2, "--above nan"),
            (["--mask", truth, "--segment"], 2, "--mask with --segment"),
            (["--above", 300, "--component", 1], 2, "--component with --above")):
        rc, _, err = run(cli, "mesh", ct, *[str(a) for a in args], "--out", bad)
        check("%s: exit %d, one-line reason, nothing written" % (what, code),
              rc == code and err.strip() and len(err.strip().splitlines()) == 1
              and not os.path.exists(bad), (rc, err))
    rc, _, err = run(cli, "mesh", ct)
    check("no --out: exit 2", rc == 2, err)
    link = os.path.join(tmp, "link.stl")
    os.symlink(os.path.join(tmp, "target.stl"), link)
    rc, _, err = run(cli, "mesh", ct, "--mask", truth, "--out", link)
    check("--out through a symbolic link refused (exit 3), target not created",
          rc == 3 and not os.path.exists(os.path.join(tmp, "target.stl")), err)
    rc, so, _ = run(cli, "--help")
    check("metalmark-cli --help lists mesh", rc == 0 and "\n  mesh " in so, so)

    seed = os.environ.get("MM_SEED_CT")
    if not seed or not os.path.isdir(seed):
        skip("seed CT metal mesh", "MM_SEED_CT is not set to the seed CT folder")
        return
    stack = os.path.join(tmp, "seed-metal")
    rc, _, err = run(cli, "segment", seed, "--out", stack, timeout=600)
    if not check("segment the seed CT", rc == 0, err):
        return
    geom = Geometry(seed)
    mask = read_stack(stack, geom)
    check_case(cli, "seed CT metal", seed, ["--mask", stack], mask, geom, tmp)
    rc, so, err = run(cli, "mesh", seed, "--mask", stack, "--out", os.path.join(tmp, "s.stl"))
    parts = [l for l in so.splitlines() if l.startswith("Part")]
    check("seed CT metal: 3 parts (%d)" % len(parts), len(parts) == 3, so)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()
    if vtk is None or measure is None:
        print("1..0 # SKIP python3-vtk9 or python3-skimage is not installed "
              "(build-aux/install-deps test)")
        return 0
    with tempfile.TemporaryDirectory(prefix="mm-mesh-") as tmp:
        tests(args.cli, tmp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
