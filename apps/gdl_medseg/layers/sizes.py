"""Input sizes on which the U-Net is exactly equivariant, and padding to them.

A stride-2 pooling samples voxels 0, 2, 4, ...; that set is symmetric about the grid
centre (so a 90° rotation maps it onto itself) only when the size is odd. A U-Net with
``levels`` levels pools ``levels - 1`` times, so every size it pools must be odd:
n_0 odd, n_1 = (n_0 + 1) / 2 odd, ... which holds exactly for n = k * 2^(levels-1) + 1.
The network's total stride is 2^(levels-1); translations by multiples of it commute
with the network (away from the border).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def total_stride(levels: int) -> int:
    return 2 ** (levels - 1)


def is_valid_size(n: int, levels: int) -> bool:
    """True when every pooled size is odd, i.e. n ≡ 1 (mod 2^(levels-1)) and n > 1."""
    return n > 1 and (n - 1) % total_stride(levels) == 0


def valid_size(n: int, levels: int) -> int:
    """The smallest valid size >= n."""
    stride = total_stride(levels)
    k = max(1, -(-(n - 1) // stride))
    return k * stride + 1


Shape = tuple[int, int, int]


def as_shape(size: int | Sequence[int]) -> Shape:
    """A patch or window size as (D, H, W): an int is a cube (checkpoints before
    anisotropic patches store one int)."""
    if isinstance(size, int):
        return (size, size, size)
    values = tuple(int(v) for v in size)
    if len(values) == 1:
        return (values[0],) * 3  # type: ignore[return-value]
    if len(values) != 3:
        raise ValueError(f"a patch size is one int or three, got {list(values)}")
    return values  # type: ignore[return-value]


def is_valid_shape(size: int | Sequence[int], levels: int) -> bool:
    return all(is_valid_size(n, levels) for n in as_shape(size))


def valid_shape(size: int | Sequence[int], levels: int) -> Shape:
    """The smallest valid size >= each axis of ``size``."""
    return tuple(valid_size(n, levels) for n in as_shape(size))  # type: ignore[return-value]


def pad_to_valid(x: torch.Tensor, levels: int) -> tuple[torch.Tensor, tuple[slice, ...]]:
    """Zero-pad (B, C, D, H, W) symmetrically-as-possible to valid sizes.

    Returns the padded tensor and the slices that crop the network's output back.
    """
    pads: list[tuple[int, int]] = []
    crops: list[slice] = []
    for n in x.shape[2:]:
        extra = valid_size(n, levels) - n
        before = extra // 2
        pads.append((before, extra - before))
        crops.append(slice(before, before + n))
    flat = [v for pair in reversed(pads) for v in pair]  # F.pad wants the last axis first
    return F.pad(x, flat), (slice(None), slice(None), *crops)
