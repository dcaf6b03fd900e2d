"""The architecture as one frozen dataclass, and the input lengths it accepts.

``ArchConfig``'s defaults are the recommended model (``configs/dna/default.yaml``
repeats them; a test compares the two) and ``DNATask``'s argument defaults are read
from here, so each default is declared once.

Supported lengths: the convolutions keep the length ("same" padding, odd kernels);
each pool needs RC-symmetric padding to a multiple of its window, which exists unless
the window is even and the length odd (odd windows take every length).
``supported_length`` says which lengths pass, ``frame_length`` rounds a length up to
the nearest one that does, and ``frame_period`` is the step between frames that share
one pooling grid (``gdl_dna.data.framing`` pads batches to such frames, with a mask
that ``DNANet`` threads through every stage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gdl_dna.layers import pooled_length

CHOICES = {
    "head": ("invariant", "strand"),
    "global_pool": ("max", "mean", "maxmean", "flatten"),
    "strand_init": ("mixed", "separate"),
    "strand_trunk": ("conjoined", "tied"),
    "first_activation": ("relu", "exp"),
    "block": ("conv", "gated"),
}


@dataclass(frozen=True)
class ArchConfig:
    """Architecture hyperparameters (all primitive, saved in checkpoints)."""

    channels: Sequence[int] = (32, 32, 32)  # RC-regular pairs per block (2x channels)
    irrep_channels: int = 4  # +1 and -1 irrep channels per block (each)
    kernel_sizes: Sequence[int] = (15, 9, 9)  # odd, one per block
    dilations: Sequence[int] = (1, 2, 4)
    pool_sizes: Sequence[int] = (3, 3, 1)  # local max pool after each block (1 = none)
    kmer: int = 3  # k-mer input layer (1 = plain one-hot)
    head: str = "invariant"  # "invariant" (orientation pooled) or "strand" (equivariant)
    # Before the head, over the length: "max" (motif presence), "mean", "maxmean" (both
    # side by side), or "flatten" (a dense readout of every position; one fixed frame).
    global_pool: str = "max"
    hidden: Sequence[int] = (32,)  # the head's hidden widths
    dropout: float = 0.5  # head dropout
    # Tied strand trunk only: "separate" starts every RC convolution after the first with
    # zero cross-strand weights (one plain CNN run on both strands); "mixed": random.
    strand_init: str = "mixed"
    # The strand head's trunk: "conjoined" (one plain CNN f, p_fwd = f(x), p_rev = f(RC x):
    # the general RC-equivariant map to strand pairs) or "tied" (RC-tied layers).
    strand_trunk: str = "conjoined"
    trunk_dropout: float = 0.1  # dropout on the features after every block (0 = none)
    # The first block's activation: "relu", or "exp" (PWM-like motif detectors, Koo &
    # Ploenzke 2021); later blocks always use ReLU.
    first_activation: str = "relu"
    # Every block's convolution: "conv", or "gated" (value conv * sigmoid(gate conv), the
    # GLU-style gated branch of ConvNova; gdl_dna.layers.gated).
    block: str = "conv"

    def __post_init__(self) -> None:
        n = len(self.channels)
        if not (len(self.kernel_sizes) == len(self.dilations) == len(self.pool_sizes) == n):
            raise ValueError(
                "channels, kernel_sizes, dilations and pool_sizes need one entry per block; got "
                f"{len(self.channels)}, {len(self.kernel_sizes)}, {len(self.dilations)}, "
                f"{len(self.pool_sizes)}"
            )
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                shown = ", ".join(repr(a) for a in allowed)
                raise ValueError(f"{name} must be one of {shown}, got {value!r}")
        if not 0.0 <= self.trunk_dropout < 1.0:
            raise ValueError(f"trunk_dropout must be in [0, 1), got {self.trunk_dropout}")
        if self.kmer < 1:
            raise ValueError(f"kmer must be >= 1, got {self.kmer}")
        bad = [k for k in self.kernel_sizes if k % 2 == 0]
        if bad:
            raise ValueError(f"kernel sizes must be odd for exact RC equivariance, got {bad}")


def supported_length(arch: ArchConfig, length: int) -> bool:
    """Whether every pool can tile ``length`` symmetrically (see module docstring)."""
    length = length - arch.kmer + 1
    if length < 1:
        return False
    for window in arch.pool_sizes:
        if window > 1:
            pooled = pooled_length(length, window)
            if pooled is None:
                return False
            length = pooled
    return True


def trunk_length(arch: ArchConfig, length: int) -> int:
    """The length the conv/pool trunk leaves of a supported input ``length``."""
    length = length - arch.kmer + 1
    for window in arch.pool_sizes:
        if window > 1:
            length = pooled_length(length, window) or 0
    return length


def frame_length(arch: ArchConfig, length: int) -> int:
    """The smallest supported length >= ``length`` (a multiple of all pools always is)."""
    n = max(length, arch.kmer)
    while not supported_length(arch, n):
        n += 1
    return n


def frame_period(arch: ArchConfig) -> int:
    """Frames W and W + period pool on the same grid relative to their centre.

    Odd windows keep the grid centred for every length of one parity (period 2); an even
    window shifts it with the padding, so frames must differ by twice the total stride.
    """
    windows = [w for w in arch.pool_sizes if w > 1]
    if all(w % 2 for w in windows):
        return 2
    total = 1
    for w in windows:
        total *= w
    return 2 * total
