"""Gaussian-weighted sliding-window inference (nnU-Net: sigma = patch/8, overlap 0.5).

Memory is bounded for volumes of any size: the input stays a numpy array on the CPU,
the network sees one batch of ``window_batch`` windows at a time (on ``device``), and
the K class probabilities are stitched into one float32 CPU buffer (K x X x Y x Z x 4
bytes) with one weight map.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def gaussian_importance(size: int, sigma_scale: float = 1 / 8) -> torch.Tensor:
    """(P, P, P) weights peaking at the window centre, so window borders count less."""
    axis = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(axis**2) / (2 * (size * sigma_scale) ** 2))
    w = g[:, None, None] * g[None, :, None] * g[None, None, :]
    w = w / w.max()
    # Window corners get ~1e-9: floor them so every voxel's weights sum to a usable norm.
    return w.clamp(min=1e-4).float()


def window_starts(n: int, size: int, overlap: float) -> list[int]:
    """Start offsets covering [0, n) with windows of ``size`` stepping size*(1-overlap)."""
    if n <= size:
        return [0]
    step = max(1, int(size * (1 - overlap)))
    count = int(np.ceil((n - size) / step)) + 1
    return sorted({int(np.rint(v)) for v in np.linspace(0, n - size, count)})


@torch.no_grad()
def sliding_window(
    nets: Sequence[torch.nn.Module],
    image: np.ndarray,
    size: int,
    n_classes: int,
    overlap: float = 0.5,
    window_batch: int = 4,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """image (C, X, Y, Z) -> class probabilities (K, X, Y, Z), averaged over ``nets``."""
    spatial = np.array(image.shape[1:])
    padded_shape = np.maximum(spatial, size)
    before = (padded_shape - spatial) // 2
    x = np.zeros((image.shape[0], *padded_shape), dtype=np.float32)
    x[(slice(None), *(slice(b, b + n) for b, n in zip(before, spatial)))] = image
    weight = gaussian_importance(size)
    probs = torch.zeros((n_classes, *padded_shape), dtype=torch.float32)
    norm = torch.zeros(tuple(padded_shape), dtype=torch.float32)
    starts = [window_starts(int(n), size, overlap) for n in padded_shape]
    corners = [(a, b, c) for a in starts[0] for b in starts[1] for c in starts[2]]
    for i in range(0, len(corners), window_batch):
        chunk = corners[i : i + window_batch]
        batch = torch.from_numpy(
            np.stack([x[:, a : a + size, b : b + size, c : c + size] for a, b, c in chunk])
        ).to(device)
        p = torch.stack([net(batch).softmax(1) for net in nets]).mean(0).float().cpu()
        for (a, b, c), pw in zip(chunk, p):
            probs[:, a : a + size, b : b + size, c : c + size] += pw * weight
            norm[a : a + size, b : b + size, c : c + size] += weight
    probs /= norm
    crop = tuple(slice(b, b + n) for b, n in zip(before, spatial))
    return probs[(slice(None), *crop)].numpy()
