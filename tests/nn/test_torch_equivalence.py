#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The C U-Net against PyTorch in float64 (bench/nn/reference_torch.py, the same network and
loss): nn-torch-tool dumps its parameters, outputs, gradients and Adam steps; torch loads the
same parameters and computes them independently. TAP output.

Errors are max |C - torch| / max |torch| over a tensor (float32 against float64)."""

import argparse
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
except ImportError:
    print("1..0 # SKIP python3-torch not installed (python3-torch, python3-numpy)")
    sys.exit(0)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "bench", "nn"))
from reference_torch import UNet, dice_bce_loss  # noqa: E402

CONFIGS = [  # depth, width, batch, height, cols
    (1, 4, 1, 8, 8),
    (2, 4, 2, 16, 16),
    (3, 8, 1, 32, 32),
    (3, 8, 2, 32, 48),
]
TOL_FORWARD = 1e-4    # logits, running statistics
TOL_LOSS = 1e-5       # loss terms, relative
TOL_GRAD = 1e-3       # parameter and input gradients
TOL_ADAM = 1e-3       # parameter updates, from the same gradients

results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(("ok %d - %s" if cond else "not ok %d - %s") % (len(results), name))
    for line in str(detail).splitlines() if not cond else []:
        print("# " + line)
    sys.stdout.flush()


def rel_err(c, t):
    c = np.asarray(c, np.float64).ravel()
    t = (t.detach().numpy() if torch.is_tensor(t) else np.asarray(t, np.float64)).ravel()
    if not np.all(np.isfinite(c)):
        return float("inf")
    return float(np.abs(c - t).max() / max(np.abs(t).max(), 1e-30))


def close(what, c, t, tol):
    e = rel_err(c, t)
    check("%s (err %.1e)" % (what, e), e < tol, "tolerance %.0e" % tol)


def worst(what, pairs, tol):
    """One line for many tensors: the largest error and which tensor it is."""
    errs = {name: rel_err(c, t) for name, c, t in pairs}
    name = max(errs, key=errs.get)
    check("%s, %d tensors (worst %s, err %.1e)" % (what, len(errs), name, errs[name]),
          errs[name] < tol, "\n".join("%s %.2e" % kv for kv in errs.items() if kv[1] >= tol))


def run_config(tool, tmp, depth, width, batch, h, w):
    tag = "depth %d width %d batch %d %dx%d" % (depth, width, batch, h, w)
    rng = np.random.default_rng(depth * 1000 + w)
    x = rng.uniform(0, 1, (batch, 3, h, w)).astype("<f4")
    t = (rng.uniform(0, 1, (batch, h, w)) < 0.2).astype(np.uint8)
    d = os.path.join(tmp, "d%d-w%d-b%d-%dx%d" % (depth, width, batch, h, w))
    os.makedirs(d)
    x.tofile(os.path.join(d, "input.f32"))
    t.tofile(os.path.join(d, "target.u8"))
    p = subprocess.run([tool, "--depth", str(depth), "--width", str(width), "--batch",
                        str(batch), "--size", "%dx%d" % (h, w), "--seed", "7",
                        "--input", os.path.join(d, "input.f32"),
                        "--target", os.path.join(d, "target.u8"), "--out", d],
                       capture_output=True, text=True, timeout=300)
    check("%s: nn-torch-tool runs" % tag, p.returncode == 0, p.stderr[-2000:])
    if p.returncode != 0:
        return
    index = json.load(open(os.path.join(d, "index.json")))
    shapes = {q["name"]: q["shape"] for q in index["params"]}
    trainable = [q["name"] for q in index["params"] if q["trainable"]]

    def load(name, shape=None):
        a = np.fromfile(os.path.join(d, name + ".f32"), "<f4").astype(np.float64)
        return torch.from_numpy(a.reshape(shape if shape is not None else -1))

    def param(stage, name):
        return load(stage + "." + name, shapes[name])

    net = UNet(depth, width).double()
    sd = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    same = {k: list(v.shape) for k, v in sd.items()} == shapes
    check("%s: parameter names and shapes as torch's state_dict" % tag, same,
          "C: %s\ntorch: %s" % (shapes, {k: list(v.shape) for k, v in sd.items()}))
    if not same:
        return
    tnames = {k for k, v in net.named_parameters()}  # the order may differ from torch's
    check("%s: trainable parameters as torch's" % tag, tnames == set(trainable),
          "C only: %s\ntorch only: %s" % (set(trainable) - tnames, tnames - set(trainable)))

    def set_params(stage):
        with torch.no_grad():
            for k, v in sd.items():
                v.copy_(param(stage, k))

    X = torch.from_numpy(x.astype(np.float64))
    T = torch.from_numpy(t)
    n = batch * h * w

    # Inference mode: running statistics.
    set_params("init")
    net.eval()
    with torch.no_grad():
        close("%s: logits, inference mode" % tag, load("logits_eval"), net(X), TOL_FORWARD)

    # Training mode: batch statistics, loss, every gradient, running statistics.
    net.train()
    Xg = X.clone().requires_grad_()
    z = net(Xg)
    z.retain_grad()
    loss, bce, dice = dice_bce_loss(z, T)
    loss.backward()
    close("%s: logits, training mode" % tag, load("logits_train"), z, TOL_FORWARD)
    l1 = index["loss1"]
    for key, v in (("loss", loss), ("bce", bce), ("soft_dice", dice)):
        close("%s: %s" % (tag, key), [l1[key]], [v.item()], TOL_LOSS)
    close("%s: d loss / d logits" % tag, load("grad_logits"), z.grad.reshape(-1), TOL_GRAD)
    for k, v in net.named_parameters():
        close("%s: gradient %s" % (tag, k), param("grad1", k), v.grad, TOL_GRAD)
    close("%s: input gradient" % tag, load("input_grad", (batch, 3, h, w)), Xg.grad, TOL_GRAD)
    worst("%s: running mean/var after one training forward" % tag,
          [(k, param("step1", k), v) for k, v in sd.items() if k not in trainable], TOL_FORWARD)

    # The loss alone, on C's own logits: values, d loss / d logits, hard Dice counts.
    zc = load("logits_train", (batch, h, w)).requires_grad_()
    lc, bc, dc = dice_bce_loss(zc, T)
    lc.backward()
    pred = zc.detach() >= 0
    tp, fp, fn = int((pred & (T == 1)).sum()), int((pred & (T == 0)).sum()), \
        int((~pred & (T == 1)).sum())
    hard = 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)
    err = max(rel_err([l1["loss"], l1["bce"], l1["soft_dice"]], [lc.item(), bc.item(), dc.item()]),
              rel_err(load("grad_logits"), zc.grad), abs(l1["hard_dice"] - hard))
    check("%s: loss on C's logits: terms, gradient, hard Dice counts (err %.1e)" % (tag, err),
          err < TOL_LOSS and (l1["tp"], l1["fp"], l1["fn"]) == (tp, fp, fn),
          "C tp/fp/fn %s, expected %s" % ((l1["tp"], l1["fp"], l1["fn"]), (tp, fp, fn)))

    # Second iteration from C's parameters after one step: refreshed weights, overwritten
    # (not accumulated) gradients.
    set_params("step1")
    net.zero_grad()
    loss2, _, _ = dice_bce_loss(net(X), T)
    loss2.backward()
    close("%s: loss, second iteration" % tag, [index["loss2"]["loss"]], [loss2.item()], TOL_LOSS)
    worst("%s: gradients, second iteration" % tag,
          [(k, param("grad2", k), v.grad) for k, v in net.named_parameters()], TOL_GRAD)

    # Adam from C's own gradients: two steps, compared as updates.
    ps = [param("init", k).clone().requires_grad_() for k in trainable]
    opt = torch.optim.Adam(ps, lr=1e-3)
    prev_c = {k: param("init", k) for k in trainable}
    for step in (1, 2):
        prev_t = [q.detach().clone() for q in ps]
        for k, q in zip(trainable, ps):
            q.grad = param("grad%d" % step, k)
        opt.step()
        cur_c = {k: param("step%d" % step, k) for k in trainable}
        worst("%s: Adam step %d, parameter updates" % (tag, step),
              [(k, cur_c[k] - prev_c[k], q.detach() - p0)
               for k, q, p0 in zip(trainable, ps, prev_t)], TOL_ADAM)
        prev_c = cur_c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tool", required=True, help="the nn-torch-tool executable")
    a = ap.parse_args()
    torch.set_num_threads(2)
    print("# torch %s" % torch.__version__)
    with tempfile.TemporaryDirectory(prefix="mm-nn-torch.") as tmp:
        for cfg in CONFIGS:
            run_config(a.tool, tmp, *cfg)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
