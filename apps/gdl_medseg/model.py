"""The medseg networks, built from the task's primitive hyperparameters.

One U-Net topology (``layers.unet.UNet``), three ways to fill it:
- ``none``/``augment``: plain Conv3d blocks with ``channels[i]`` feature maps at level i;
- equivariant, group ``mirror`` or ``flips``: group convolutions (``layers.group_conv``)
  on regular fields of a reflection group, the same channel counts as the plain net
  (``channels[i] / |G|`` fields), so the compute is the plain net's;
- equivariant, group ``octahedral`` or ``inplane``: escnn's steerable convolutions on
  regular fields of the 24 cube rotations (or C4 about one axis), ``layers.escnn_unet``.

The plain and reflection-group nets come in two layouts (``compact``: box pooling and a
projected decoder, nnU-Net's; or the escnn net's classic one, which the plain net of an
escnn plan keeps so that the modes differ only in weight tying).

All map (B, in_channels, D, H, W) -> logits (B, n_classes, D, H, W); in training mode
with deep supervision they return [full, 1/2, 1/4, ...] logits (``UNet.forward``).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from gdl_medseg.layers.group_conv import GroupConv3d, GroupHead, group_block
from gdl_medseg.layers.groups import ESCNN_GROUPS, GridGroup, make_group
from gdl_medseg.layers.plain_layers import BlurPool3d, BoxPool3d
from gdl_medseg.layers.unet import UNet, build_plain_unet, matched_plain_channels
from gdl_science.blueprint import count_parameters
from gdl_science.io import UserInputError


def build_group_unet(
    group: GridGroup,
    in_channels: int,
    n_classes: int,
    fields: Sequence[int],
    convs_per_level: int = 2,
    deep_supervision: bool = False,
    compact: bool = False,
) -> UNet:
    """A G-CNN U-Net: ``fields[i]`` regular fields (|G| channels each) at level i.

    ``compact``: box pooling and 1×1 group convolutions projecting the coarse fields
    before upsampling (``layers.unet``); both are equivariant on regular fields."""
    n = len(group)
    fields = list(fields)
    encoders = [
        group_block(group, in_channels if i == 0 else fields[i - 1], f, convs_per_level, i == 0)
        for i, f in enumerate(fields)
    ]
    pools = [BoxPool3d() if compact else BlurPool3d(f * n) for f in fields[:-1]]
    joined = [(fields[i] if compact else fields[i + 1]) + fields[i] for i in range(len(fields) - 1)]
    decoders = [
        group_block(group, joined[i], fields[i], convs_per_level)
        for i in reversed(range(len(fields) - 1))
    ]
    projections = (
        [GroupConv3d(group, fields[i + 1], fields[i], 1) for i in reversed(range(len(fields) - 1))]
        if compact
        else []
    )
    head = GroupHead(n, fields[0], n_classes)
    aux = (
        [GroupHead(n, fields[i], n_classes) for i in reversed(range(1, len(fields) - 1))]
        if deep_supervision
        else []
    )
    return UNet(encoders, pools, decoders, head, aux_heads=aux, projections=projections)


def is_compact(layout: str, group: str) -> bool:
    """``--model.unet`` resolved: "auto" is compact for the reflection groups and classic
    for the escnn groups, whose networks exist in the classic layout only."""
    escnn_group = group in ESCNN_GROUPS
    if layout == "compact" and escnn_group:
        raise UserInputError(
            f"--model.unet compact: the {group} networks (escnn) exist in the classic "
            "layout only; use --model.unet auto or classic"
        )
    return layout == "compact" or (layout == "auto" and not escnn_group)


def group_order(group: str) -> int:
    return ESCNN_GROUPS[group] if group in ESCNN_GROUPS else len(make_group(group))


def build_network(
    equivariant: bool,
    in_channels: int,
    n_classes: int,
    channels: Sequence[int],
    group: str,
    axis: int,
    convs_per_level: int = 2,
    norm: str = "instance",
    deep_supervision: bool = False,
    compact: bool = False,
    matched: bool = False,
) -> nn.Module:
    """The network; ``channels[i]`` feature maps at level i in every mode.

    The equivariant nets round ``channels[i]`` to whole regular fields (at least one).
    ``compact`` (box pooling, projected decoder; ``layers.unet``) is built for the plain
    and the reflection-group nets; the escnn nets keep the classic layout. ``matched``:
    the plain net's widths scaled to the equivariant net's parameter count.
    """
    channels = list(channels)
    if not equivariant:
        if matched:
            twin = build_network(
                True,
                in_channels,
                n_classes,
                channels,
                group,
                axis,
                convs_per_level,
                compact=compact,
            )
            channels = matched_plain_channels(
                count_parameters(twin),
                in_channels,
                n_classes,
                channels,
                convs_per_level,
                norm,
                compact,
            )
        return build_plain_unet(
            in_channels, n_classes, channels, convs_per_level, norm, deep_supervision, compact
        )
    order = group_order(group)
    fields = [max(1, round(c / order)) for c in channels]
    if group in ESCNN_GROUPS:
        if compact:
            raise ValueError(f"the compact U-Net is not built for the escnn group {group!r}")
        from gdl_medseg.layers.escnn_unet import EquivariantUNet

        return EquivariantUNet(
            in_channels,
            n_classes,
            fields,
            convs_per_level,
            group=group,
            axis=axis,
            norm=norm,
            deep_supervision=deep_supervision,
        )
    return build_group_unet(
        make_group(group, axis),
        in_channels,
        n_classes,
        fields,
        convs_per_level,
        deep_supervision,
        compact,
    )


__all__ = ["ESCNN_GROUPS", "build_group_unet", "build_network", "group_order", "is_compact"]
