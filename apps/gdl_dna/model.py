"""The DNA network as a blueprint, in an RC-equivariant and a plain (untied) flavour.

Equivariant: [k-mer encoding] -> (RCConv1d -> RCBatchNorm1d -> RCPointwise -> RCPool1d)
per block -> RCGlobalPool1d (max over the length) -> RCInvariantPool (both orientations
pooled) -> MLPHead, or -> StrandHead for strand-specific tasks. Plain: the same blocks
with nn.Conv1d / BatchNorm1d / ReLU / MaxPool1d and untied weights, widths scaled so that
both have the same number of trainable parameters (``match_parameters``), since that is
the comparison users want.

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
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from gdl_dna.layers import (
    KmerEncoding,
    MaskedBatchNorm1d,
    RCBatchNorm1d,
    RCConv1d,
    RCGlobalPool1d,
    RCPointwise,
    RCPool1d,
    StrandHead,
    block_max,
    kmer_mask,
    masked_max,
    masked_mean,
    pool_mask,
    pooled_length,
    rc_safe_padding,
)
from gdl_dna.layers.readouts import MaxMeanPool
from gdl_dna.layers.trunk_stages import ExpActivation, FeatureDropout
from gdl_science.blueprint import (
    Blueprint,
    LocalPooling,
    MLPHead,
    RCInvariantPool,
    count_parameters,
    match_parameter_count,
)
from gdl_science.symmetry import ONE_HOT, RCFieldType


@dataclass(frozen=True)
class ArchConfig:
    """Architecture hyperparameters (all primitive, saved in checkpoints)."""

    channels: Sequence[int] = (32, 32, 32)  # RC-regular pairs per block (2x channels)
    irrep_channels: int = 4  # +1 and -1 irrep channels per block (each)
    kernel_sizes: Sequence[int] = (15, 9, 9)  # odd, one per block
    dilations: Sequence[int] = (1, 2, 4)
    pool_sizes: Sequence[int] = (4, 4, 1)  # local max pool after each block (1 = none)
    kmer: int = 1  # k-mer input layer (1 = plain one-hot)
    head: str = "invariant"  # "invariant" or "strand"
    # Before the head: "max" (motif presence), "mean" or "maxmean" (both, side by side)
    # over the length, or "flatten": a
    # dense RC-equivariant readout over channels x positions (position-aware, e.g.
    # promoters aligned on the TSS; needs one fixed frame, the checkpoint's window).
    global_pool: str = "max"
    hidden: Sequence[int] = field(default_factory=lambda: (32,))
    dropout: float = 0.1
    # "separate": every RC convolution after the first starts with zero cross-strand
    # weights, so the net starts as one plain CNN run on both strands (for strand-specific
    # labels); "mixed": the usual random init of every tied weight.
    strand_init: str = "mixed"
    # The strand head's trunk: "conjoined" (one plain CNN f, p_fwd = f(x), p_rev = f(RC x):
    # the general RC-equivariant map to strand pairs) or "tied" (RC-tied layers).
    strand_trunk: str = "conjoined"
    # Dropout on the trunk's features after every block (0 = none; the head has its own).
    trunk_dropout: float = 0.0
    # The first block's activation: "relu", or "exp" (PWM-like motif detectors, Koo &
    # Ploenzke 2021); later blocks always use ReLU.
    first_activation: str = "relu"

    def __post_init__(self) -> None:
        n = len(self.channels)
        if not (len(self.kernel_sizes) == len(self.dilations) == len(self.pool_sizes) == n):
            raise ValueError(
                "channels, kernel_sizes, dilations and pool_sizes need one entry per block; got "
                f"{len(self.channels)}, {len(self.kernel_sizes)}, {len(self.dilations)}, "
                f"{len(self.pool_sizes)}"
            )
        if self.global_pool not in ("max", "mean", "maxmean", "flatten"):
            raise ValueError(
                "global_pool must be 'max', 'mean', 'maxmean' or 'flatten', got "
                f"{self.global_pool!r}"
            )
        if self.strand_init not in ("mixed", "separate"):
            raise ValueError(f"strand_init must be 'mixed' or 'separate', got {self.strand_init!r}")
        if self.strand_trunk not in ("conjoined", "tied"):
            raise ValueError(
                f"strand_trunk must be 'conjoined' or 'tied', got {self.strand_trunk!r}"
            )
        if self.first_activation not in ("relu", "exp"):
            raise ValueError(
                f"first_activation must be 'relu' or 'exp', got {self.first_activation!r}"
            )
        if not 0.0 <= self.trunk_dropout < 1.0:
            raise ValueError(f"trunk_dropout must be in [0, 1), got {self.trunk_dropout}")
        if self.head not in ("invariant", "strand"):
            raise ValueError(f"head must be 'invariant' or 'strand', got {self.head!r}")
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


class DNANet(Blueprint):
    """The blueprint with an optional (B, 1, L) padding mask threaded through the stages.

    Without a mask it is the plain composition. With one, normalisations and global
    pools see only valid positions, activations are re-zeroed on padding, and pools and
    the k-mer layer shrink the mask with the features (``gdl_dna.layers.masking``).
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for name in self.stage_names:
            stage = getattr(self, name)
            if mask is None:
                x = stage(x)
            elif isinstance(stage, MASKED_STAGES):
                x = stage(x, mask)
            else:
                x = stage(x)
                if isinstance(stage, (RCPointwise, nn.ReLU, ExpActivation)):
                    x = x * mask
                elif isinstance(stage, (RCPool1d, SymmetricMaxPool1d)):
                    mask = pool_mask(mask, stage.window)
                elif isinstance(stage, KmerEncoding):
                    mask = kmer_mask(mask, stage.k)
            if x.dim() == 2 or name == "readout":  # no length left to mask
                mask = None
        return x


def hidden_types(arch: ArchConfig) -> list[RCFieldType]:
    m = arch.irrep_channels
    return [RCFieldType(regular=c, plus=m, minus=m) for c in arch.channels]


def build_equivariant(arch: ArchConfig, n_outputs: int, length: int = 0) -> Blueprint:
    stages: list[tuple[str, nn.Module]] = []
    in_type = ONE_HOT
    if arch.kmer > 1:
        stages.append(("kmer", KmerEncoding(arch.kmer)))
        in_type = stages[-1][1].out_type
    for i, (t, k, d, w) in enumerate(
        zip(hidden_types(arch), arch.kernel_sizes, arch.dilations, arch.pool_sizes)
    ):
        act = ExpActivation(t) if i == 0 and arch.first_activation == "exp" else RCPointwise(t)
        stages += [
            (f"conv{i}", RCConv1d(in_type, t, k, dilation=d)),
            (f"norm{i}", RCBatchNorm1d(t)),
            (f"act{i}", act),
        ]
        if w > 1:
            stages.append((f"pool{i}", RCPool1d(t, w)))
        if arch.trunk_dropout > 0:
            stages.append((f"drop{i}", FeatureDropout(arch.trunk_dropout, t)))
        in_type = t
    hidden = arch.hidden[0] if arch.hidden else 16
    if arch.global_pool == "flatten":
        # A kernel as long as the trunk's output: one dense, RC-equivariant map of every
        # channel at every position to ``hidden`` RC-regular pairs (length 1 after it).
        readout_type = RCFieldType(regular=hidden)
        k = trunk_length(arch, length)
        stages.append(("readout", RCConv1d(in_type, readout_type, k, padding="valid")))
        stages.append(("readout_act", RCPointwise(readout_type)))
        in_type = readout_type
    elif arch.global_pool == "maxmean":
        stages.append(("global_pool", MaxMeanPool(in_type)))
        in_type = stages[-1][1].out_type
    else:
        stages.append(("global_pool", RCGlobalPool1d(in_type, arch.global_pool)))
    if arch.head == "strand":
        stages.append(("head", StrandHead(in_type, n_outputs, hidden=hidden)))
    else:
        stages.append(("invariant_pool", RCInvariantPool(in_type)))
        stages.append(
            ("head", MLPHead(in_type.invariant_size, n_outputs, arch.hidden, arch.dropout))
        )
    if arch.strand_init == "separate":
        convs = [m for _, module in stages for m in module.modules() if isinstance(m, RCConv1d)]
        for conv in convs[1:]:  # the first reads one-hot bases: every input is "forward"
            conv.separate_strands_()
    return DNANet(stages)


class SymmetricMaxPool1d(LocalPooling):
    """The plain network's pool, with the same RC-symmetric padding as ``RCPool1d`` so
    both flavours accept the same lengths and have the same shapes."""

    def __init__(self, window: int) -> None:
        super().__init__()
        self.window = window

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad = rc_safe_padding(x.shape[-1], self.window)
        if pad is None:
            raise ValueError(
                f"length {x.shape[-1]} cannot be pooled by {self.window} symmetrically"
            )
        return block_max(F.pad(x, (pad // 2, pad // 2)), self.window)


class GlobalPool(nn.Module):
    """(B, C, L) -> (B, C): the plain network's global pooling (no orientation pairing)."""

    def __init__(self, reduce: str) -> None:
        super().__init__()
        self.reduce = reduce

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        pooled = masked_max(x, mask) if self.reduce == "max" else masked_mean(x, mask)
        return pooled.squeeze(-1)


# Stages that take the padding mask (normalisations and global pools see valid positions only).
MASKED_STAGES = (RCBatchNorm1d, MaskedBatchNorm1d, RCGlobalPool1d, GlobalPool, MaxMeanPool)


def build_plain(
    arch: ArchConfig, n_outputs: int, widths: Sequence[int], length: int = 0
) -> Blueprint:
    stages: list[tuple[str, nn.Module]] = []
    in_ch = 4
    if arch.kmer > 1:
        stages.append(("kmer", KmerEncoding(arch.kmer)))
        in_ch = 4**arch.kmer
    for i, (c, k, d, w) in enumerate(
        zip(widths, arch.kernel_sizes, arch.dilations, arch.pool_sizes)
    ):
        act = ExpActivation() if i == 0 and arch.first_activation == "exp" else nn.ReLU()
        stages += [
            (f"conv{i}", nn.Conv1d(in_ch, c, k, dilation=d, padding=d * (k - 1) // 2)),
            (f"norm{i}", MaskedBatchNorm1d(c)),
            (f"act{i}", act),
        ]
        if w > 1:
            stages.append((f"pool{i}", SymmetricMaxPool1d(w)))
        if arch.trunk_dropout > 0:
            stages.append((f"drop{i}", FeatureDropout(arch.trunk_dropout)))
        in_ch = c
    # A strand head on a plain net is just more outputs: forward then reverse strand.
    n_out = 2 * n_outputs if arch.head == "strand" else n_outputs
    if arch.global_pool == "flatten":
        # The same readout untied: 2 * hidden channels, as the equivariant pairs have.
        width = 2 * (arch.hidden[0] if arch.hidden else 16)
        stages.append(("readout", nn.Conv1d(in_ch, width, trunk_length(arch, length))))
        stages.append(("readout_act", nn.ReLU()))
        stages.append(("global_pool", GlobalPool("mean")))  # (B, width, 1) -> (B, width)
        in_ch = width
    elif arch.global_pool == "maxmean":
        stages.append(("global_pool", MaxMeanPool()))
        in_ch *= 2
    else:
        stages.append(("global_pool", GlobalPool(arch.global_pool)))
    stages.append(("head", MLPHead(in_ch, n_out, arch.hidden, arch.dropout)))
    return DNANet(stages)


def plain_widths(
    arch: ArchConfig, n_outputs: int, target_parameters: int | None, length: int = 0
) -> list[int]:
    """Channel widths of the plain net: the equivariant channel counts scaled by one
    factor chosen so the parameter count is as close as possible to ``target_parameters``
    (None: same channel counts, i.e. about twice the parameters)."""
    base = [t.size for t in hidden_types(arch)]
    if target_parameters is None:
        return base

    def count(widths: list[int]) -> int:
        return count_parameters(build_plain(arch, n_outputs, widths, length))

    return match_parameter_count(base, count, target_parameters)


class ConjoinedStrandNet(nn.Module):
    """Strand-specific outputs from one plain CNN ``f`` run on both strands.

    (B, 4, L) -> (B, 2n) laid out as RCFieldType(regular=n): channel j is f(x)_j (label j
    on the given strand), channel 2n-1-j is f(RC x)_j (label j on the other strand). RC
    swaps the two exactly. This is the *general* RC-equivariant map to strand pairs: any
    forward prediction f is allowed (for a strand-specific target the symmetry constrains
    only how the two strands' outputs relate, not f), so it is as accurate as ``none``.
    """

    def __init__(self, plain: nn.Module, n_outputs: int) -> None:
        super().__init__()
        self.plain = plain
        self.in_type, self.out_type = ONE_HOT, RCFieldType(regular=n_outputs)

    def forward_strand(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """(B, n): the given strand only (what training needs: half the cost)."""
        return self.plain(x, mask)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        rc_x = x.flip(1, 2)  # one-hot A,C,G,T: RC flips both axes
        rc_mask = None if mask is None else mask.flip(-1)
        return torch.cat([self.plain(x, mask), self.plain(rc_x, rc_mask).flip(1)], dim=1)


def build_network(
    arch: ArchConfig,
    n_outputs: int,
    equivariant: bool,
    match_parameters: bool = True,
    length: int = 0,
) -> Blueprint:
    """The network for a symmetry mode: tied (equivariant) or plain with matched size.

    ``length``: the fixed frame, needed only by the ``flatten`` readout."""
    if equivariant and arch.head == "strand" and arch.strand_trunk == "conjoined":
        # One plain CNN for the given strand, built exactly as ``none`` builds it (same
        # widths and, at the same seed, the same initial weights), so the given strand's
        # prediction is the one ``none`` would make and the other strand's follows by RC.
        single = replace(arch, head="invariant")
        return ConjoinedStrandNet(
            build_network(single, n_outputs, False, match_parameters, length), n_outputs
        )
    if equivariant:
        return build_equivariant(arch, n_outputs, length)
    target = (
        count_parameters(build_equivariant(arch, n_outputs, length)) if match_parameters else None
    )
    return build_plain(arch, n_outputs, plain_widths(arch, n_outputs, target, length), length)
