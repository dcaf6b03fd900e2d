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

from gdl_medseg.layers.sizes import Shape, as_shape, valid_shape
from gdl_science.io import progress

# One window over the whole (padded) case when it has at most this many times the
# patch's voxels: a Hippocampus case (~35x50x36) with a 33x49x33 patch is then one
# 41x57x41 forward instead of 8 overlapping windows (4.4x less compute per case).
WHOLE_CASE_GROWTH = 2.0


def gaussian_importance(size: int | Sequence[int], sigma_scale: float = 1 / 8) -> torch.Tensor:
    """(P0, P1, P2) weights peaking at the window centre, so window borders count less."""
    g = []
    for n in as_shape(size):
        axis = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
        g.append(torch.exp(-(axis**2) / (2 * (n * sigma_scale) ** 2)))
    w = g[0][:, None, None] * g[1][None, :, None] * g[2][None, None, :]
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


def case_window(
    spatial: Sequence[int], patch: int | Sequence[int], levels: int, growth: float
) -> Shape:
    """The window for a case of ``spatial`` voxels: the patch, or (when that costs at most
    ``growth`` times the patch's voxels) the whole case at the network's valid sizes.

    The network is fully convolutional, so a larger window only adds context; it never
    shrinks below the patch the network was trained on."""
    patch = as_shape(patch)
    whole = valid_shape(tuple(max(int(n), p) for n, p in zip(spatial, patch)), levels)
    if growth > 0 and np.prod(whole) <= growth * np.prod(patch):
        return whole
    return patch


def window_corners(
    spatial: Sequence[int], size: int | Sequence[int], overlap: float
) -> list[tuple[int, int, int]]:
    """Start voxel (a, b, c) of every window over a (padded) volume of ``spatial`` voxels."""
    starts = [window_starts(int(n), p, overlap) for n, p in zip(spatial, as_shape(size))]
    return [(a, b, c) for a in starts[0] for b in starts[1] for c in starts[2]]


@torch.no_grad()
def sliding_window(
    nets: Sequence[torch.nn.Module],
    image: np.ndarray,
    size: int | Sequence[int],
    n_classes: int,
    overlap: float = 0.5,
    window_batch: int = 4,
    device: str | torch.device = "cpu",
    background: np.ndarray | None = None,
    desc: str = "",
    flips: Sequence[tuple[int, ...]] = ((),),
) -> np.ndarray:
    """image (C, X, Y, Z) -> class probabilities (K, X, Y, Z), averaged over ``nets``.

    ``background`` (X, Y, Z) bool, optional: voxels known to be background (e.g. below an
    intensity threshold). A window lying wholly inside it is not run; it counts as a
    certain background prediction (class 0 with probability 1), so the result equals the
    full run wherever the networks are confident of background there. With more windows
    than one batch, a progress bar counts the windows of the case (``desc``).
    ``flips``: test-time mirroring (``gdl_medseg.tta``): each entry names the spatial
    axes flipped in one pass; every pass's softmax is flipped back and the passes are
    averaged (the default, one pass with no flip, is plain inference).
    """
    shape = as_shape(size)
    spatial = np.array(image.shape[1:])
    padded_shape = np.maximum(spatial, shape)
    before = (padded_shape - spatial) // 2
    inner = tuple(slice(b, b + n) for b, n in zip(before, spatial))
    if (padded_shape == spatial).all():
        x = image  # no padding needed: no volume-sized copy
    else:
        x = np.zeros((image.shape[0], *padded_shape), dtype=np.float32)
        x[(slice(None), *inner)] = image
    skip = None
    if background is not None:
        skip = np.ones(tuple(padded_shape), dtype=bool)  # padding is background too
        skip[inner] = background
    weight = gaussian_importance(shape)
    probs = torch.zeros((n_classes, *padded_shape), dtype=torch.float32)
    norm = torch.zeros(tuple(padded_shape), dtype=torch.float32)
    s0, s1, s2 = shape
    corners = window_corners(padded_shape, shape, overlap)

    def region(a: int, b: int, c: int) -> tuple[slice, slice, slice]:
        return slice(a, a + s0), slice(b, b + s1), slice(c, c + s2)

    def mirrored(batch: torch.Tensor, axes: tuple[int, ...]) -> torch.Tensor:
        # batch (B, C, D, H, W): spatial axis a is tensor dim 2 + a
        return batch.flip([2 + a for a in axes]) if axes else batch

    def run(chunk: list[tuple[int, int, int]]) -> None:
        batch = torch.from_numpy(np.stack([x[(slice(None), *region(*k))] for k in chunk]))
        batch = batch.to(device)
        p = None  # a running sum over passes x nets: one (B, K, window) buffer, not many
        for axes in flips:
            for net in nets:
                q = mirrored(net(mirrored(batch, axes)).softmax(1), axes)
                p = q if p is None else p + q
        assert p is not None
        p = p / (len(flips) * len(nets))
        for k, pw in zip(chunk, p.float().cpu()):
            probs[(slice(None), *region(*k))] += pw * weight
            norm[region(*k)] += weight

    chunk: list[tuple[int, int, int]] = []
    windows = progress(corners, total=len(corners), desc=desc, unit="window") if (
        len(corners) > window_batch
    ) else corners
    for corner in windows:
        if skip is not None and skip[region(*corner)].all():
            probs[(0, *region(*corner))] += weight
            norm[region(*corner)] += weight
            continue
        chunk.append(corner)
        if len(chunk) == window_batch:
            run(chunk)
            chunk = []
    if chunk:
        run(chunk)
    probs /= norm
    return probs[(slice(None), *inner)].numpy()
