#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The U-Net of src/nn/mm-unet.h in PyTorch, with the same state_dict names, the same loss and
Adam; times training and inference the way bench/nn/bench-nn.c does, one JSON line out.

  reference_torch.py --train --batch 8 --size 128 --depth 3 --width 8 --steps 20 --warmup 3
  reference_torch.py --infer --batch 4 --size 512 --slices 40 [--channels-last]
  reference_torch.py --train --data BATCHES --init WEIGHTS ...   (files bench-nn wrote:
      the same batches and initial weights as the C side, so the loss curves compare)

tests/nn/test_torch_equivalence.py imports UNet and dice_bce_loss from here."""

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Module):
    """[conv 3x3 (pad 1, no bias) -> batch norm -> ReLU] x 2; dec blocks also hold `up`."""

    def __init__(self, cin, cout, up_from=None):
        super().__init__()
        if up_from is not None:
            self.up = nn.ConvTranspose2d(up_from, cout, 2, stride=2)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)  # eps 1e-5, momentum 0.1, unbiased running_var
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)

    def block(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(x)))


class UNet(nn.Module):
    def __init__(self, depth=4, width=8, in_channels=3):
        super().__init__()
        c = [width << l for l in range(depth)]
        self.enc = nn.ModuleList(
            DoubleConv(in_channels if l == 0 else c[l - 1], c[l]) for l in range(depth))
        self.dec = nn.ModuleList(  # dec[l] for level l = 0 .. depth-2
            DoubleConv(2 * c[l], c[l], up_from=c[l + 1]) for l in range(depth - 1))
        self.head = nn.Conv2d(c[0], 1, 1)
        nn.init.constant_(self.head.bias, math.log(0.01 / 0.99))  # p = 0.01 at the start

    def forward(self, x):
        skips = []
        for l, e in enumerate(self.enc):
            x = e.block(x if l == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for l in range(len(self.dec) - 1, -1, -1):
            d = self.dec[l]
            x = d.block(torch.cat([skips[l], d.up(x)], dim=1))
        return self.head(x)[:, 0]  # batch x H x W logits


def dice_bce_loss(logits, target):
    """bce (mean over pixels) + 1 - soft Dice over the whole batch, smoothing 1."""
    t = target.to(logits.dtype)
    bce = F.binary_cross_entropy_with_logits(logits, t)
    p = torch.sigmoid(logits)
    dice = (2 * (p * t).sum() + 1) / (p.sum() + t.sum() + 1)
    return bce + 1 - dice, bce, dice


def synthetic_hu(rng, batch, h, w):
    """CT-like slices: air, a soft-tissue ellipse with noise, a bone ring, 1-3 metal discs."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.full((batch, h, w), -1000.0, np.float32)
    for b in range(batch):
        r = ((xx - w / 2) / (0.45 * w)) ** 2 + ((yy - h / 2) / (0.4 * h)) ** 2
        s = out[b]
        s[r < 1] = 40 + 20 * rng.standard_normal(int((r < 1).sum()))
        s[(r > 0.7) & (r < 0.8)] = 1000
        for _ in range(rng.integers(1, 4)):
            cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
            rad = rng.uniform(0.01, 0.04) * min(h, w) + 1
            s[(xx - cx) ** 2 + (yy - cy) ** 2 < rad * rad] = rng.uniform(3000, 15000)
    return np.clip(out, -32768, 32767).astype(np.int16)


def input_transform(hu):
    """mm-nn-input.h: hu-3window-v1, batch x H x W int16 -> batch x 3 x H x W float32."""
    v = hu.astype(np.float32)
    return np.stack([np.clip((v + 1000) / 2000, 0, 1), np.clip(v / 4000, 0, 1),
                     np.clip((v - 2000) / 18000, 0, 1)], axis=1)


def read_safetensors(path):
    """name -> float32 array, from a safetensors file of F32 tensors (mm-safetensors.h)."""
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise SystemExit("%s: tensor %s is %s, not F32" % (path, name, t["dtype"]))
        b, e = t["data_offsets"]
        out[name] = np.frombuffer(blob[8 + n + b:8 + n + e], "<f4").reshape(t["shape"])
    return out


def load_init(net, path):
    """The C side's initial weights and running statistics, by state_dict name."""
    tensors = read_safetensors(path)
    state = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit("%s: missing %s, unexpected %s" % (path, missing, unexpected))


def read_batches(path, batch, size):
    t = read_safetensors(path)
    x, target = t["x"], t["target"]
    if x.shape[1:] != (batch, 3, size, size) or target.shape != (x.shape[0], batch, size, size):
        raise SystemExit("%s: not batches of %d x 3 x %d x %d" % (path, batch, size, size))
    return [(torch.from_numpy(x[d].copy()), torch.from_numpy((target[d] >= 0.5).astype(np.uint8)))
            for d in range(x.shape[0])]


def synthetic_batch(rng, batch, size):
    hu = synthetic_hu(rng, batch, size, size)
    return torch.from_numpy(input_transform(hu)), torch.from_numpy((hu >= 3000).astype(np.uint8))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--train", action="store_true")
    mode.add_argument("--infer", action="store_true")
    ap.add_argument("--batch", type=int, help="default 8 to train, 4 to infer")
    ap.add_argument("--size", type=int, help="default 128 to train, 512 to infer")
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--slices", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", help="training batches written by bench-nn --write-data")
    ap.add_argument("--init", help="initial weights written by bench-nn --write-init")
    a = ap.parse_args()
    a.batch = a.batch or (8 if a.train else 4)
    a.size = a.size or (128 if a.train else 512)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    net = UNet(a.depth, a.width)
    if a.init:
        load_init(net, a.init)
    net = net.to(memory_format=fmt)
    res = {"impl": "torch-channels-last" if a.channels_last else "torch", "depth": a.depth,
           "width": a.width, "batch": a.batch, "size": a.size, "threads": a.threads}

    if a.train:
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        net.train()
        data = (read_batches(a.data, a.batch, a.size) if a.data else
                [synthetic_batch(rng, a.batch, a.size) for _ in range(4)])
        data = [(x.contiguous(memory_format=fmt), t) for x, t in data]
        losses = []
        for i in range(a.warmup + a.steps):
            if i == a.warmup:
                t0, c0 = time.perf_counter(), time.process_time()
            x, t = data[i % len(data)]
            opt.zero_grad(set_to_none=True)
            loss, _, _ = dice_bce_loss(net(x), t)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        res.update(mode="train", steps=a.steps, seconds=dt, cpu_seconds=cpu,
                   images_per_s=a.steps * a.batch / dt, warmup=a.warmup, losses=losses)
    else:
        net.eval()
        steps = max(1, math.ceil(a.slices / a.batch))
        x, _ = synthetic_batch(rng, a.batch, a.size)
        x = x.contiguous(memory_format=fmt)
        with torch.no_grad():
            for i in range(a.warmup + steps):
                if i == a.warmup:
                    t0, c0 = time.perf_counter(), time.process_time()
                p = torch.sigmoid(net(x))
                metal = int((p >= 0.5).sum())
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        res.update(mode="infer", slices=steps * a.batch, seconds=dt, cpu_seconds=cpu,
                   slices_per_s=steps * a.batch / dt, metal_pixels=metal)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
