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
import torch.nn.functional as F
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

    takes_mask = True  # statistics over valid positions (masking.run_stage)

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

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, C, L); ``mask`` (B, 1, L) marks valid positions: padding is left out of
        the batch statistics (eval mode needs no mask: it is a per-position affine map)."""
        assert x.shape[1] == self.in_type.size, (
            f"expected {self.in_type}, got {x.shape[1]} channels"
        )
        weight = self.weight if self.affine else x.new_ones(self.channels_per_field.numel())
        bias_f = (
            torch.cat([self.bias, self.bias.new_zeros(self.in_type.minus)])
            if self.affine
            else x.new_zeros(self.channels_per_field.numel())
        )
        if not self.training:
            scale = torch.rsqrt(self.running_var.to(x.dtype) + self.eps) * weight
            shift = bias_f - self.running_mean.to(x.dtype) * scale
            idx = self.field_index
            return channel_affine(x, scale[idx], shift[idx])
        y, mean, var, n = _RCBatchNormFn.apply(
            x,
            weight,
            bias_f,
            self.field_index,
            self.channels_per_field,
            self.minus_field,
            self.eps,
            mask,
            sync_group(),
        )
        with torch.no_grad():
            unbiased = var * (n / (n - 1).clamp_min(1))
            # An empty batch (a parity group no rank has, under DDP) leaves them as they are.
            momentum = (n > 0).to(self.running_mean.dtype) * self.momentum
            self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
            self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)
        return y

    def extra_repr(self) -> str:
        return f"{self.in_type}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


def channel_affine(
    x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor | None
) -> torch.Tensor:
    """x * scale[c] + shift[c] on (B, C, L), by the native eval-mode batch-norm kernel.

    With mean 0, variance 1 and eps 0 it is exactly this affine map, computed by one
    vectorised per-channel pass; ``torch.addcmul`` with broadcast (C,) operands runs a
    much slower broadcasting loop on CPU.
    """
    zeros = scale.new_zeros(scale.shape)
    ones = scale.new_ones(scale.shape)
    return F.batch_norm(x, zeros, ones, scale, shift, False, 0.0, 0.0)


def channel_sum(x: torch.Tensor) -> torch.Tensor:
    """(B, C, L) -> (C,): the batch axis first (a vectorised sum of contiguous (C, L)
    slices), then the short length axis; faster on CPU than ``x.sum(dim=(0, 2))``."""
    return x.sum(dim=0).sum(dim=-1)


def sync_group() -> bool:
    """Whether batch statistics are summed over DDP ranks (as ``SyncBatchNorm`` does)."""
    dist = torch.distributed
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _all_reduce_sum(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Sum equal-dtype 1-D tensors over every rank in one collective."""
    flat = torch.cat(tensors)
    torch.distributed.all_reduce(flat)
    return list(torch.split(flat, [t.numel() for t in tensors]))


class _RCBatchNormFn(torch.autograd.Function):
    """Training-mode RC batch norm with a hand-written backward.

    Autograd through the textbook formula takes about ten passes over x; this takes four
    forward (two reductions, one per-channel affine) and five backward, like native batch
    norm. Shapes: x (B, C, L); weight, bias (F,) per field; field_index (C,); mask
    (B, 1, L) or None. Under DDP (``sync``) the per-field sums of the forward and of the
    backward are summed over ranks, so every rank normalises with the global batch's
    statistics and the gradients are those of one process with the global batch.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, field_index, counts, minus, eps, mask, sync):  # type: ignore[override]
        n_fields = counts.numel()
        xm = x if mask is None else x * mask
        positions = x.new_tensor(x.shape[0] * x.shape[2]) if mask is None else mask.sum()
        s1 = x.new_zeros(n_fields).index_add(0, field_index, channel_sum(xm))
        s2 = x.new_zeros(n_fields).index_add(0, field_index, channel_sum(xm * x))
        n = positions * counts.to(x.dtype)  # elements per field
        if sync:
            s1, s2, n = _all_reduce_sum(s1, s2, n)
        n_safe = n.clamp_min(1)  # an empty batch has no statistics (and no outputs)
        mean = torch.where(minus, torch.zeros_like(s1), s1 / n_safe)  # -1 fields: not centred
        var = (s2 / n_safe - mean * mean).clamp_min(0)
        invstd = torch.rsqrt(var + eps)
        a = (invstd * weight)[field_index]  # per-channel scale
        b = (bias - mean * invstd * weight)[field_index]
        ctx.sync = sync
        ctx.save_for_backward(x, weight, field_index, minus, n, mean, invstd, mask)
        ctx.mark_non_differentiable(mean, var, n)
        return channel_affine(x, a, b), mean, var, n

    @staticmethod
    def backward(ctx, grad_y, _grad_mean, _grad_var, _grad_n):  # type: ignore[override]
        x, weight, field_index, minus, n, mean, invstd, mask = ctx.saved_tensors
        n_fields = n.numel()
        # Every output position depends on the statistics (also padding, whose gradient
        # is zero once the network masks it), so these sums run over all positions.
        sum_g = x.new_zeros(n_fields).index_add(0, field_index, channel_sum(grad_y))
        sum_gx = x.new_zeros(n_fields).index_add(0, field_index, channel_sum(grad_y * x))
        # Parameter gradients are this rank's share (DDP averages them over ranks).
        grad_weight = (sum_gx - mean * sum_g) * invstd  # sum of grad * normalised x
        grad_bias = sum_g
        if ctx.sync:
            sum_g, sum_gx = _all_reduce_sum(sum_g, sum_gx)
        sum_gxhat = (sum_gx - mean * sum_g) * invstd
        # dx = a * (g - mean_g - xhat * mean_gxhat); mean_g drops for -1 fields (no centring).
        # Only valid positions entered the statistics, so only they get the second term.
        a = invstd * weight
        n = n.clamp_min(1)
        mean_g = torch.where(minus, torch.zeros_like(sum_g), sum_g / n)
        k = sum_gxhat / n
        beta = -a * invstd * k  # coefficient of x
        alpha = -a * mean_g + a * invstd * k * mean  # constant term
        idx = field_index
        # In place on one fresh tensor: out-of-place addcmuls with broadcast (C,)
        # operands allocate twice and run a slow broadcasting loop.
        dx = channel_affine(x, beta[idx], alpha[idx])
        if mask is not None:
            dx.mul_(mask)
        dx.addcmul_(grad_y, a[idx][None, :, None])
        return dx, grad_weight, grad_bias, None, None, None, None, None, None
