"""The octahedral-equivariant 3D U-Net (escnn), following the blueprint's four stages.

- linear equivariant layers: ``ExactR3Conv`` between regular fields of the cube group;
- nonlinearities: an equivariant instance norm (or ``IIDBatchNorm3d``) then ``ELU``,
  pointwise on regular fields;
- local pooling: ``PointwiseAvgPoolAntialiased3D`` (Gaussian blur, stride 2);
- no invariant pooling: segmentation is equivariant, so the head maps to one *trivial*
  (scalar) field per class and the logits rotate with the input.

The decoder upsamples (trilinear, align_corners) to the skip's size, joins the skip with
``tensor_directsum`` and convolves. Exactly equivariant to the 24 cube rotations on
inputs whose size satisfies ``sizes.is_valid_size`` (odd at every pooled level), and to
translations by the total stride away from the border.
Shapes: (B, in_channels, D, H, W) -> (B, n_classes, D, H, W).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from gdl_medseg.layers.escnn_layers import ExactR3Conv, equivariant_block
from gdl_medseg.layers.groups import ESCNN_GROUPS
from gdl_medseg.layers.plain_layers import BlurPool3d, upsample_to
from gdl_medseg.layers.unet import UNet
from gdl_science.symmetry.escnn_compat import import_escnn

escnn = import_escnn()
from escnn import gspaces  # noqa: E402
from escnn import nn as enn  # noqa: E402

# escnn's C4 (rot2dOnR3) turns about our grid axis 0 (measured with escnn_fields); the
# in-plane network moves the data's through-plane axis there and back.
C4_AXIS = 0


class EquivariantUNet(nn.Module):
    """``widths[i]`` regular fields at level i (24 channels each for the octahedral group).

    ``group="inplane"``: for strongly anisotropic data only the 4 rotations about the
    through-plane grid axis ``axis`` (0, 1 or 2) are physical; the network is then
    C4-equivariant about that axis (regular fields of 4 channels).
    """

    def __init__(
        self,
        in_channels: int,
        n_classes: int,
        widths: Sequence[int],
        convs_per_level: int = 2,
        pool_sigma: float = 0.66,
        group: str = "octahedral",
        axis: int = 2,
        norm: str = "instance",
        deep_supervision: bool = False,
    ) -> None:
        super().__init__()
        self._init_args = (in_channels, n_classes, list(widths), convs_per_level, pool_sigma,
                           group, axis, norm, deep_supervision)
        if group not in ESCNN_GROUPS:
            raise ValueError(f"group must be one of {list(ESCNN_GROUPS)}, got {group!r}")
        self.group = group
        self.axis = axis
        self.gspace = gspaces.octaOnR3() if group == "octahedral" else gspaces.rot2dOnR3(n=4)
        gs = self.gspace
        self.in_type = enn.FieldType(gs, in_channels * [gs.trivial_repr])
        self.out_type = enn.FieldType(gs, n_classes * [gs.trivial_repr])
        types = [enn.FieldType(gs, w * [gs.regular_repr]) for w in widths]
        self.encoders = nn.ModuleList(
            equivariant_block(self.in_type if i == 0 else types[i - 1], t, convs_per_level, norm)
            for i, t in enumerate(types)
        )
        self.pools = nn.ModuleList(
            enn.PointwiseAvgPoolAntialiased3D(t, sigma=pool_sigma, stride=2) for t in types[:-1]
        )
        self.decoders = nn.ModuleList(
            equivariant_block(types[i + 1] + types[i], types[i], convs_per_level, norm)
            for i in reversed(range(len(types) - 1))
        )
        self.head = ExactR3Conv(types[0], self.out_type, kernel_size=1)
        # Deep supervision (nnU-Net): aux_heads[j] maps decoder j's output (the coarsest
        # first; every decoder but the last) to class logits; trivial fields, so the
        # coarse logits are as equivariant as the full-resolution ones.
        self.aux_heads = nn.ModuleList(
            ExactR3Conv(types[i], self.out_type, kernel_size=1)
            for i in (reversed(range(1, len(types) - 1)) if deep_supervision else ())
        )
        # escnn shares kernel-basis modules between layers of equal field types, across
        # networks: if another network was cast to float64, ours would inherit float64
        # buffers. A new network starts in the default dtype.
        self.to(torch.get_default_dtype())

    def __deepcopy__(self, memo: dict) -> EquivariantUNet:
        """Rebuild and load the state: escnn's group elements cannot be deep-copied (their
        ``__hash__`` runs before their attributes exist), and the core's symmetry check
        works on a deep copy of the task."""
        param = next(self.parameters())
        new = EquivariantUNet(*self._init_args).to(param.device, param.dtype)
        # The trainable state only: escnn's cached eval-mode filters are recomputed from it
        # (identically) when the copy is put in eval mode.
        new.train()
        wanted = new.state_dict().keys()
        new.load_state_dict({k: v for k, v in self.state_dict().items() if k in wanted})
        return new.train(self.training)

    @property
    def levels(self) -> int:
        return len(self.encoders)

    def _to_group_axes(self, x: torch.Tensor) -> torch.Tensor:
        if self.group == "inplane" and self.axis != C4_AXIS:
            return x.movedim(2 + self.axis, 2 + C4_AXIS)
        return x

    def _from_group_axes(self, x: torch.Tensor) -> torch.Tensor:
        if self.group == "inplane" and self.axis != C4_AXIS:
            return x.movedim(2 + C4_AXIS, 2 + self.axis)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor | list[torch.Tensor]:
        """Plain tensors in and out, so the task treats both networks alike; in training
        mode with aux heads, [full, 1/2, 1/4, ...] logits, as ``UNet.forward``."""
        h: Any = self.in_type(self._to_group_axes(x))
        skips = []
        for level, encoder in enumerate(self.encoders):
            h = encoder(h)
            if level < len(self.pools):
                skips.append(h)
                h = self.pools[level](h)
        aux = []
        for j, (decoder, skip) in enumerate(zip(self.decoders, reversed(skips))):
            up = enn.GeometricTensor(upsample_to(h.tensor, skip.shape[2:]), h.type)
            h = decoder(enn.tensor_directsum([up, skip]))
            if self.training and j < len(self.aux_heads):
                aux.append(self._from_group_axes(self.aux_heads[j](h).tensor))
        out = self._from_group_axes(self.head(h).tensor)
        return [out, *reversed(aux)] if aux else out

    @torch.no_grad()
    def export(self) -> UNet:
        """The same network as plain PyTorch modules (Conv3d, BatchNorm3d, ELU, BlurPool3d).

        The exported convolutions hold the projected (exactly equivariant) filters, so
        the exported network keeps the symmetry; it no longer needs escnn. The
        deep-supervision heads are training-only and are left out.
        """
        was_training = self.training
        self.eval()
        try:
            exported = UNet(
                [enc.export() for enc in self.encoders],
                [BlurPool3d.from_escnn(p) for p in self.pools],
                [dec.export() for dec in self.decoders],
                self.head.export(),
                move_axis=(self.axis, C4_AXIS) if self.group == "inplane" else None,
            )
        finally:
            self.train(was_training)
        return exported.eval()
