"""The DNA network as a blueprint, in an RC-equivariant and a plain (untied) flavour.

Equivariant: [k-mer encoding] -> (RCConv1d -> RCBatchNorm1d -> RCPointwise -> RCPool1d)
per block -> RCGlobalPool1d (max over the length) -> RCInvariantPool (both orientations
pooled) -> MLPHead, or -> StrandHead for strand-specific tasks. Plain: the same blocks
with nn.Conv1d / BatchNorm1d / ReLU / MaxPool1d and untied weights, widths scaled so that
both have the same number of trainable parameters (``match_parameters``), since that is
the comparison users want. The stages live in ``gdl_dna.layers``; the architecture and
the lengths it accepts in ``gdl_dna.config``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch
from torch import nn

from gdl_dna.config import ArchConfig, trunk_length
from gdl_dna.layers import (
    KmerEncoding,
    MaskedBatchNorm1d,
    RCBatchNorm1d,
    RCConv1d,
    RCGlobalPool1d,
    RCPointwise,
    RCPool1d,
    StrandHead,
)
from gdl_dna.layers.gated import GatedConv1d, RCGatedConv1d
from gdl_dna.layers.masking import run_stage
from gdl_dna.layers.plain import GlobalPool, PositionalReadout, ReLU, SymmetricMaxPool1d
from gdl_dna.layers.readouts import MaxMeanPool, RCPositionalReadout
from gdl_dna.layers.trunk_stages import ExpActivation, FeatureDropout
from gdl_science.blueprint import (
    Blueprint,
    MLPHead,
    RCInvariantPool,
    count_parameters,
    match_parameter_count,
)
from gdl_science.symmetry import ONE_HOT, RCFieldType


class DNANet(Blueprint):
    """The blueprint with an optional (B, 1, L) padding mask threaded through the stages.

    Without a mask it is the plain composition. With one, each stage handles it as it
    declares (``gdl_dna.layers.masking.run_stage``): normalisations and global pools see
    only valid positions, activations are re-zeroed on padding, and pools and the k-mer
    layer shrink the mask with the features. A new stage type needs no change here.
    """

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for name in self.stage_names:
            x, mask = run_stage(getattr(self, name), x, mask)
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
        conv = RCGatedConv1d if arch.block == "gated" else RCConv1d
        stages += [
            (f"conv{i}", conv(in_type, t, k, dilation=d)),
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
        stages.append(("readout", RCPositionalReadout(in_type, readout_type, k, padding="valid")))
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
        # conv0 (value and gate) reads one-hot bases: every input is "forward"; kept mixed.
        convs = [m for name, module in stages if name != "conv0" for m in module.modules()
                 if isinstance(m, RCConv1d)]  # fmt: skip
        for conv in convs:
            conv.separate_strands_()
    return DNANet(stages)


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
        act = ExpActivation() if i == 0 and arch.first_activation == "exp" else ReLU()
        conv = (
            GatedConv1d(in_ch, c, k, dilation=d) if arch.block == "gated"
            else nn.Conv1d(in_ch, c, k, dilation=d, padding=d * (k - 1) // 2)
        )  # fmt: skip
        stages += [
            (f"conv{i}", conv),
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
        stages.append(("readout", PositionalReadout(in_ch, width, trunk_length(arch, length))))
        stages.append(("readout_act", ReLU()))
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
