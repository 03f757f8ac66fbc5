#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Model files against a safetensors reader and writer written here from the format's
description (json + numpy, none of our code): names, shapes, dtype, values and metadata of
files Metalmark writes, and files written here read back by Metalmark. TAP output."""

import argparse
import json
import os
import struct
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, results, run as _run  # noqa: E402


def run(tool, *args):
    return _run(tool, *args, timeout=120)


def read_safetensors(path):
    """-> (header length, metadata, {name: float32 array}, raw header bytes)."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    raw = data[8:8 + n]
    header = json.loads(raw)
    meta = header.pop("__metadata__", {})
    body = data[8 + n:]
    tensors, ranges = {}, []
    for name, t in header.items():
        assert t["dtype"] == "F32", (name, t["dtype"])
        begin, end = t["data_offsets"]
        ranges.append((begin, end))
        a = np.frombuffer(body[begin:end], dtype="<f4")
        tensors[name] = a.reshape(t["shape"])
    ranges.sort()
    covered = all(b == e for (_, e), (b, _) in zip([(0, 0)] + ranges, ranges))
    assert covered and ranges[-1][1] == len(body), "data area not tiled by the tensors"
    return n, meta, tensors, raw


def write_safetensors(path, meta, tensors, pad=True):
    header, offset, blobs = {}, 0, []
    if meta:
        header["__metadata__"] = meta
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    raw = json.dumps(header).encode()
    if pad:
        raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def expected_shapes(depth, width):
    """mm-unet.h's architecture in PyTorch's state_dict names (bench/nn/reference_torch.py)."""
    c = [width << l for l in range(depth)]
    shapes = {}

    def block(prefix, cin, cout):
        shapes[prefix + ".conv1.weight"] = [cout, cin, 3, 3]
        shapes[prefix + ".conv2.weight"] = [cout, cout, 3, 3]
        for bn in ("bn1", "bn2"):
            for p in ("weight", "bias", "running_mean", "running_var"):
                shapes["%s.%s.%s" % (prefix, bn, p)] = [cout]

    for l in range(depth):
        block("enc.%d" % l, 3 if l == 0 else c[l - 1], c[l])
    for l in range(depth - 1):
        shapes["dec.%d.up.weight" % l] = [c[l + 1], c[l], 2, 2]
        shapes["dec.%d.up.bias" % l] = [c[l]]
        block("dec.%d" % l, 2 * c[l], c[l])
    shapes["head.weight"] = [1, c[0], 1, 1]
    shapes["head.bias"] = [1]
    return shapes


def dump(tool, path):
    rc, out, err = run(tool, "dump", path)
    if rc != 0:
        return None, err
    d = json.loads(out)
    return {t["name"]: np.array(t["values"], dtype=np.float32).reshape(t["shape"])
            for t in d["tensors"]}, d["metadata"]


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    tool = ap.parse_args().tool
    tmp = tempfile.mkdtemp(prefix="mm-safetensors-")

    for depth, width, seed in ((2, 4, 1), (3, 2, 7), (1, 5, 3)):
        what = "depth %d width %d" % (depth, width)
        path = os.path.join(tmp, "d%dw%d.safetensors" % (depth, width))
        rc, _, err = run(tool, "write", path, "--depth", depth, "--width", width, "--seed", seed)
        check("%s: written" % what, rc == 0, err)
        if rc != 0:
            continue
        n, meta, tensors, raw = read_safetensors(path)
        check("%s: header padded with spaces to a multiple of 8" % what,
              n % 8 == 0 and raw.rstrip(b" ").endswith(b"}"))
        want = expected_shapes(depth, width)
        check("%s: tensor names are PyTorch's state_dict names" % what,
              set(tensors) == set(want), sorted(set(tensors) ^ set(want)))
        bad = [k for k in want if k in tensors and list(tensors[k].shape) != want[k]]
        check("%s: shapes" % what, not bad,
              ["%s %s != %s" % (k, list(tensors[k].shape), want[k]) for k in bad])
        arch = json.loads(meta.get("architecture", "{}"))
        check("%s: metadata" % what,
              meta.get("format") == "metalmark-unet" and meta.get("format_version") == "1"
              and arch == {"type": "unet2d", "depth": depth, "width": width,
                           "in_channels": 3, "out_channels": 1, "norm": "batchnorm"}
              and meta.get("input_transform") == "hu-3window-v1"
              and meta.get("input_transform_description", "").startswith("c0=clamp(")
              and meta.get("training_data") == "nn-model-tool"
              and json.loads(meta.get("metrics", "null")) == {"dice": 0.5}
              and meta.get("program", "").startswith("metalmark ")
              and len(meta.get("created", "")) == 20, meta)
        ours, ours_meta = dump(tool, path)
        check("%s: our reader loads it" % what, ours is not None, ours_meta)
        if ours is None:
            continue
        check("%s: values equal, bit for bit" % what,
              set(ours) == set(tensors) and all(same_bits(ours[k], tensors[k]) for k in ours))
        conv = tensors["enc.0.conv1.weight"]
        check("%s: weights are random, batch norm starts at 1 / 0" % what,
              np.unique(conv).size > conv.size // 2 and np.all(tensors["enc.0.bn1.weight"] == 1)
              and np.all(tensors["enc.0.bn1.running_mean"] == 0))
        check("%s: metadata as our reader sees it" % what, ours_meta == meta)

    # Files written here: tensor order reversed, unpadded header, new values.
    path = os.path.join(tmp, "d2w4.safetensors")
    _, meta, tensors, _ = read_safetensors(path)
    rng = np.random.default_rng(5)
    mine = {k: rng.standard_normal(v.shape).astype(np.float32)
            for k, v in reversed(list(tensors.items()))}
    other = os.path.join(tmp, "python.safetensors")
    write_safetensors(other, meta, mine, pad=False)
    misaligned = struct.unpack("<Q", open(other, "rb").read(8))[0] % 4 != 0
    ours, err = dump(tool, other)
    check("a file written here (unpadded so the data is misaligned, reordered) loads",
          misaligned and ours is not None and all(same_bits(ours[k], mine[k]) for k in mine),
          err)

    def refused(name, meta2, tensors2, expect):
        write_safetensors(other, meta2, tensors2)
        rc, _, err = run(tool, "dump", other)
        check("refused: %s" % name, rc == 1 and expect in err and other in err, err)

    refused("missing tensor", meta, {k: v for k, v in mine.items() if k != "head.bias"},
            "tensor 'head.bias' is missing")
    refused("extra tensor", meta, dict(mine, extra=np.zeros(3, np.float32)),
            "tensor 'extra' is not part of this network")
    wrong = dict(mine)
    wrong["enc.0.conv1.weight"] = np.zeros((4, 3, 3, 1), np.float32)
    refused("wrong shape", meta, wrong,
            "tensor 'enc.0.conv1.weight' has shape [4,3,3,1], this network needs [4,3,3,3]")
    refused("newer format version", dict(meta, format_version="2"), mine,
            "written by a newer Metalmark (format version 2)")
    refused("no metadata", {}, mine, "is not a Metalmark model")

    # An F16 tensor, as a half-precision export would hold.
    write_safetensors(other, meta, mine)
    data = open(other, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header["head.bias"]["dtype"] = "F16"
    raw = json.dumps(header).encode()
    open(other, "wb").write(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    rc, _, err = run(tool, "dump", other)
    check("refused: F16 tensor", rc == 1 and "tensor 'head.bias' has dtype F16" in err, err)

    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
