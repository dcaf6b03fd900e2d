"""RC-equivariant batch normalisation.

Statistics and affine parameters live on *fields*, not channels: the two channels of an
RC-regular pair share one mean, variance, scale and shift (RC swaps them), a +1 channel
is normalised as usual, and a -1 channel (RC negates it) is only scaled by its root mean
square: subtracting a mean or adding a shift would not commute with the sign flip.

Because every statistic is pooled over the batch, the length and the RC orbit of each
field, transforming the whole batch by RC leaves the statistics unchanged: the layer is
exactly equivariant in training mode as well as in eval mode.
"""

from __future__ import annotations

import torch
from torch import nn

from gdl_science.blueprint import EquivariantLinear
from gdl_science.symmetry import RCFieldType


def field_of_channel(field_type: RCFieldType) -> torch.Tensor:
    """(C,) field index of each channel, fields ordered [regular pairs | +1 | -1]."""
    r, r2 = field_type.regular, 2 * field_type.regular
    regular = [min(i, r2 - 1 - i) for i in range(r2)]
    irreps = [r + j for j in range(field_type.plus + field_type.minus)]
    return torch.tensor(regular + irreps, dtype=torch.long)


class RCBatchNorm1d(EquivariantLinear):
    """(B, C, L) -> (B, C, L) batch norm with statistics shared across each RC orbit."""

    def __init__(
        self, field_type: RCFieldType, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True
    ) -> None:
        super().__init__()
        self.in_type = self.out_type = field_type
        self.eps, self.momentum = eps, momentum
        n_fields = field_type.invariant_size
        self.register_buffer("field_index", field_of_channel(field_type), persistent=False)
        channels_per_field = torch.bincount(self.field_index, minlength=n_fields).float()
        self.register_buffer("channels_per_field", channels_per_field, persistent=False)
        minus = torch.zeros(n_fields, dtype=torch.bool)
        minus[field_type.regular + field_type.plus :] = True
        self.register_buffer("minus_field", minus, persistent=False)
        self.register_buffer("running_mean", torch.zeros(n_fields))
        self.register_buffer("running_var", torch.ones(n_fields))
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.ones(n_fields))
            # Shifts only for regular and +1 fields; -1 fields stay odd.
            self.bias = nn.Parameter(torch.zeros(field_type.regular + field_type.plus))

    def _field_stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Per-field mean and (biased) variance over batch, length and RC orbit."""
        n_fields = self.channels_per_field.numel()
        # Two plain reductions are faster on CPU than var_mean over dims (0, 2).
        mean_c, sq_c = x.mean(dim=(0, 2)), (x * x).mean(dim=(0, 2))
        counts = self.channels_per_field.to(x.dtype)
        mean = x.new_zeros(n_fields).index_add(0, self.field_index, mean_c) / counts
        sq = x.new_zeros(n_fields).index_add(0, self.field_index, sq_c) / counts
        mean = torch.where(self.minus_field, torch.zeros_like(mean), mean)
        return mean, sq - mean * mean, x.shape[0] * x.shape[2]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == self.in_type.size, (
            f"expected {self.in_type}, got {x.shape[1]} channels"
        )
        if self.training:
            mean, var, n = self._field_stats(x)
            with torch.no_grad():
                unbiased = var * (n / max(n - 1, 1))
                self.running_mean.lerp_(mean.to(self.running_mean.dtype), self.momentum)
                self.running_var.lerp_(unbiased.to(self.running_var.dtype), self.momentum)
        else:
            mean, var = self.running_mean.to(x.dtype), self.running_var.to(x.dtype)
        scale = torch.rsqrt(var + self.eps)
        shift = -mean * scale
        if self.affine:
            scale = scale * self.weight
            bias = torch.cat([self.bias, self.bias.new_zeros(self.in_type.minus)])
            shift = shift * self.weight + bias
        idx = self.field_index
        # One fused pass over x: shift + x * scale, per channel.
        return torch.addcmul(shift[idx][None, :, None], x, scale[idx][None, :, None])

    def extra_repr(self) -> str:
        return f"{self.in_type}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
