"""The U-Net topology on plain tensors: the ``none``/``augment`` network and the export target.

    x (B, C_in, D, H, W)
      -> encoder[0] -> skip_0 -> pool -> encoder[1] -> skip_1 -> pool -> ... -> encoder[L-1]
      -> [project] -> upsample to skip_{L-2}, concat [up, skip] -> decoder[0] -> ... -> head
      -> logits (B, n_classes, D, H, W)

Two decoders (``compact``):
- classic: the coarse maps (c_{i+1} channels) are upsampled whole and joined to the skip
  (c_i), so decoder i convolves c_{i+1} + c_i channels at the fine size;
- compact (nnU-Net's and MONAI's DynUNet's layout): a 1×1 projection takes the coarse
  maps to c_i channels *before* upsampling (DynUNet's transposed convolution does the
  same), so decoder i convolves 2 c_i. With ``BoxPool3d`` in place of the blur pooling it
  is 1.3x faster per CPU training step on the Hippocampus plan (benchmarks/medseg_cost.py).

Deep supervision (nnU-Net): with ``aux_heads``, training-mode forward also returns the
logits of the coarser decoder stages, [full, 1/2, 1/4, ...] (each (B, K, d, h, w) at its
stage's size); eval-mode forward always returns the full-resolution logits only.

``build_plain_unet`` makes it from Conv3d/BatchNorm3d/ELU with given channel widths;
``EquivariantUNet.export()`` fills the same topology with the plain modules escnn
exports, so an exported network runs without escnn.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gdl_medseg.layers.plain_layers import BlurPool3d, BoxPool3d, plain_block, upsample_to
from gdl_science.blueprint import count_parameters, match_parameter_count


class UNet(nn.Module):
    """Encoder blocks, pools, decoder blocks and a head, wired as a U-Net."""

    def __init__(
        self,
        encoders: Sequence[nn.Module],
        pools: Sequence[nn.Module],
        decoders: Sequence[nn.Module],
        head: nn.Module,
        move_axis: tuple[int, int] | None = None,
        aux_heads: Sequence[nn.Module] = (),
        projections: Sequence[nn.Module] = (),
    ) -> None:
        """``move_axis=(a, b)``: run the layers with spatial axis a moved to b (an exported
        in-plane network turns about grid axis b), and move it back on output.
        ``projections[j]`` (the compact decoder, one per decoder, coarsest first) maps the
        coarse maps before they are upsampled for decoder j; none: the classic decoder."""
        super().__init__()
        self.move_axis = move_axis
        if len(pools) != len(encoders) - 1 or len(decoders) != len(pools):
            raise ValueError("a U-Net with L encoders needs L-1 pools and L-1 decoders")
        self.encoders = nn.ModuleList(encoders)
        self.pools = nn.ModuleList(pools)
        self.decoders = nn.ModuleList(decoders)
        self.head = head
        # aux_heads[j] reads decoder j's output (the coarsest first); the last decoder's
        # output goes to ``head``.
        if len(aux_heads) not in (0, len(decoders) - 1):
            raise ValueError("deep supervision needs one aux head per decoder but the last")
        self.aux_heads = nn.ModuleList(aux_heads)
        if len(projections) not in (0, len(decoders)):
            raise ValueError("the compact decoder needs one projection per decoder")
        self.projections = nn.ModuleList(projections)

    @property
    def levels(self) -> int:
        return len(self.encoders)

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        if self.move_axis is not None and self.move_axis[0] != self.move_axis[1]:
            a, b = self.move_axis
            return self._forward(x.movedim(2 + a, 2 + b)).movedim(2 + b, 2 + a)
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        skips = []
        for level, encoder in enumerate(self.encoders):
            x = encoder(x)
            if level < len(self.pools):
                skips.append(x)
                x = self.pools[level](x)
        aux = []
        for j, (decoder, skip) in enumerate(zip(self.decoders, reversed(skips))):
            if self.projections:
                x = self.projections[j](x)  # (B, c_j, coarse) before the upsampling
            x = decoder(torch.cat([upsample_to(x, skip.shape[2:]), skip], dim=1))
            if self.training and j < len(self.aux_heads):
                aux.append(self.aux_heads[j](x))
        out = self.head(x)
        return [out, *reversed(aux)] if aux else out


def build_plain_unet(
    in_channels: int,
    n_classes: int,
    channels: Sequence[int],
    convs_per_level: int = 2,
    norm: str = "instance",
    deep_supervision: bool = False,
    compact: bool = False,
) -> UNet:
    """A plain U-Net; ``channels[i]`` feature maps at level i. ``compact``: box pooling and
    projected decoder inputs; otherwise the escnn net's blur pooling and classic decoder."""
    channels = list(channels)
    encoders = [
        plain_block(in_channels if i == 0 else channels[i - 1], c, convs_per_level, norm)
        for i, c in enumerate(channels)
    ]
    pools = [BoxPool3d() if compact else BlurPool3d(c) for c in channels[:-1]]
    joined = [
        (channels[i] if compact else channels[i + 1]) + channels[i]
        for i in range(len(channels) - 1)
    ]
    decoders = [
        plain_block(joined[i], channels[i], convs_per_level, norm)
        for i in reversed(range(len(channels) - 1))
    ]
    projections = (
        [
            nn.Conv3d(channels[i + 1], channels[i], 1, bias=False)
            for i in reversed(range(len(channels) - 1))
        ]
        if compact
        else []
    )
    head = nn.Conv3d(channels[0], n_classes, kernel_size=1)
    aux = (
        [nn.Conv3d(channels[i], n_classes, 1) for i in reversed(range(1, len(channels) - 1))]
        if deep_supervision
        else []
    )
    return UNet(encoders, pools, decoders, head, aux_heads=aux, projections=projections)


def matched_plain_channels(
    target_params: int,
    in_channels: int,
    n_classes: int,
    widths: Sequence[int],
    convs_per_level: int,
    norm: str = "instance",
    compact: bool = False,
) -> list[int]:
    """Channel widths proportional to ``widths`` whose plain U-Net has about ``target_params``."""

    def count(chans: list[int]) -> int:
        return count_parameters(
            build_plain_unet(in_channels, n_classes, chans, convs_per_level, norm, compact=compact)
        )

    return match_parameter_count(widths, count, target_params)
