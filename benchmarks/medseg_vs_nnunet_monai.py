"""The MONAI row of ``medseg_vs_nnunet.py``; runs with the competitors' venv's Python.

MONAI's ``DynUNet`` (nnU-Net's architecture in MONAI: 4 levels, 3x3x3 kernels, strides
1-2-2-2, the same widths [16, 32, 64, 128] as our default plan), ``DiceCELoss``, AdamW at
lr 0.003 (our default optimiser and rate) with poly decay over the wall-clock budget,
batch 2, patches of ``--patch`` with 33% centred on foreground (nnU-Net's rate), random
flips only. Images get a per-case z-score (nnU-Net's MR scheme). Validation (the given
val cases, whole-case ``sliding_window_inference``) every ``--val-every`` steps keeps the
best weights. The held-out images are then predicted with ``sliding_window_inference``
(Gaussian weighting, overlap 0.5) and written as ``{case}.nii.gz`` in their own geometry.

    python medseg_vs_nnunet_monai.py --data DIR --train a,b,... --val c,... \
        --heldout IMAGES --output PRED --budget-s 600 [--threads 1]

Prints one JSON line: steps, fit wall time, best validation Dice, predict s per case.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from monai.inferers import sliding_window_inference
from monai.losses import DiceCELoss
from monai.networks.nets import DynUNet


def load_case(image: Path, label: Path | None) -> tuple[np.ndarray, np.ndarray | None]:
    x = np.asarray(nib.load(str(image)).dataobj, dtype=np.float32)
    x = (x - x.mean()) / max(float(x.std()), 1e-6)
    if label is None:
        return x, None
    return x, np.rint(np.asarray(nib.load(str(label)).dataobj)).astype(np.int64)


def crop(x: np.ndarray, y: np.ndarray, patch: tuple[int, ...], rng: np.random.Generator,
         foreground: bool) -> tuple[np.ndarray, np.ndarray]:
    """A patch (padded with zeros where the case is smaller), centred on a random
    foreground voxel when ``foreground``, else anywhere."""
    pad = [(max(0, p - n + 1) // 2 + 1,) * 2 for n, p in zip(x.shape, patch)]
    x, y = np.pad(x, pad), np.pad(y, pad)
    if foreground and (y > 0).any():
        fg = np.argwhere(y > 0)
        centre = fg[rng.integers(len(fg))]
    else:
        centre = np.array([rng.integers(n) for n in x.shape])
    start = [int(np.clip(c - p // 2, 0, n - p)) for c, p, n in zip(centre, patch, x.shape)]
    sl = tuple(slice(s, s + p) for s, p in zip(start, patch))
    return x[sl], y[sl]


def batch(cases: list, patch: tuple[int, ...], rng: np.random.Generator, size: int = 2):
    xs, ys = [], []
    for _ in range(size):
        x, y = cases[rng.integers(len(cases))]
        x, y = crop(x, y, patch, rng, rng.random() < 0.33)
        for axis in range(3):  # random flips
            if rng.random() < 0.5:
                x, y = np.flip(x, axis), np.flip(y, axis)
        xs.append(x.copy())
        ys.append(y.copy())
    return torch.from_numpy(np.stack(xs))[:, None], torch.from_numpy(np.stack(ys))[:, None]


def infer(net: torch.nn.Module, x: np.ndarray, patch: tuple[int, ...]) -> np.ndarray:
    with torch.no_grad():
        t = torch.from_numpy(x)[None, None]
        logits = sliding_window_inference(t, patch, 4, net, overlap=0.5, mode="gaussian")
    return logits[0].argmax(0).numpy().astype(np.uint8)


def mean_dice(pred: np.ndarray, ref: np.ndarray, labels: list[int]) -> float:
    scores = []
    for c in labels:
        p, r = pred == c, ref == c
        total = p.sum() + r.sum()
        scores.append(1.0 if total == 0 else 2 * (p & r).sum() / total)
    return float(np.mean(scores))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="nnU-Net raw folder")
    p.add_argument("--train", required=True)
    p.add_argument("--val", required=True)
    p.add_argument("--heldout", type=Path, required=True, help="folder of {case}_0000.nii.gz")
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--budget-s", type=float, required=True)
    p.add_argument("--patch", default="32,48,32")
    p.add_argument("--val-every", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    patch = tuple(int(v) for v in a.patch.split(","))
    labels = sorted(int(v) for v in json.loads((a.data / "dataset.json").read_text())
                    ["labels"].values() if int(v) > 0)

    def read(ids: str) -> list:
        return [load_case(a.data / "imagesTr" / f"{c}_0000.nii.gz",
                          a.data / "labelsTr" / f"{c}.nii.gz") for c in ids.split(",") if c]

    train, val = read(a.train), read(a.val)
    net = DynUNet(3, 1, len(labels) + 1, kernel_size=[3, 3, 3, 3],
                  strides=[1, 2, 2, 2], upsample_kernel_size=[2, 2, 2],
                  filters=[16, 32, 64, 128], norm_name="instance")
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3)
    best, best_state, steps = -1.0, None, 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < a.budget_s:
        for g in opt.param_groups:  # poly decay over the wall-clock budget
            g["lr"] = 3e-3 * (1 - elapsed / a.budget_s) ** 0.9
        net.train()
        x, y = batch(train, patch, rng)
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
        if steps % a.val_every == 0:
            net.eval()
            score = float(np.mean([mean_dice(infer(net, vx, patch), vy, labels)
                                   for vx, vy in val]))
            if score > best:
                best, best_state = score, {k: v.clone() for k, v in net.state_dict().items()}
    fit_wall = time.perf_counter() - start
    net.eval()
    score = float(np.mean([mean_dice(infer(net, vx, patch), vy, labels) for vx, vy in val]))
    if score <= best and best_state is not None:
        net.load_state_dict(best_state)
    best = max(best, score)
    a.output.mkdir(parents=True, exist_ok=True)
    images = sorted(a.heldout.glob("*_0000.nii.gz"))
    t0 = time.perf_counter()
    for path in images:
        img = nib.load(str(path))
        x, _ = load_case(path, None)
        pred = infer(net, x, patch)
        out = nib.Nifti1Image(pred, img.affine, img.header)
        out.set_data_dtype(np.uint8)
        nib.save(out, str(a.output / path.name.replace("_0000.nii.gz", ".nii.gz")))
    per_case = (time.perf_counter() - t0) / max(len(images), 1)
    print(json.dumps({"steps": steps, "fit_wall_s": round(fit_wall, 1), "val_dice_mean": best,
                      "predict_s_per_case": round(per_case, 3),
                      "network": f"MONAI DynUNet filters [16, 32, 64, 128], patch {list(patch)}",
                      "parameters": sum(p.numel() for p in net.parameters())}))


if __name__ == "__main__":
    main()
