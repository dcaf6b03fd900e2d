"""RC-equivariant 1D convolution between any two RC field types.

Covers the regular -> regular maps of RCPS (Shrikumar et al. 2017), the irrep maps of
Mallet & Vert (2021) and every mixed map between ``[regular | +1 | -1]`` layouts: the
weight is built from free parameters by the tying of ``tying.conv_weight_tying``, so the
layer is exactly equivariant for every weight value, and the parameter count is the
dimension of the equivariant subspace.

Exactness needs the length axis to transform by a pure flip, so padding is "same"
(symmetric zeros) with an odd kernel, and there is no stride (strides would not tile
the sequence symmetrically; we coarse-grain with ``RCPool1d`` instead).

``fold=True`` computes the same output with half the multiply-adds (``folded``: the
symmetric/antisymmetric kernels of the irrep basis, folded). It is off by default: on
the CPU we measured, its two GEMMs execute multiply-adds at ~0.3x the rate of oneDNN's
direct convolution at these sizes, so the dense path is faster at every layer of the
default network (``benchmarks/dna_throughput.py``, per-layer table). Either path skips
the kernel taps that read only padding (``taps``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gdl_dna.layers.folded import folded_conv1d
from gdl_dna.layers.taps import same_conv1d
from gdl_dna.layers.tying import bias_tying, conv_weight_tying
from gdl_science.blueprint import EquivariantLinear
from gdl_science.symmetry import RCFieldType


class RCConv1d(EquivariantLinear):
    """(B, in_type.size, L) -> (B, out_type.size, L), equivariant under RC.

    Args:
        in_type / out_type: the channel types of input and output.
        kernel_size: odd, so "same" padding is symmetric (any size with ``padding="valid"``).
        dilation: spacing of the kernel taps; padding grows with it, still symmetric.
        bias: a bias tied like the weight (zero on -1 channels, shared within RC pairs).
        fold: compute with the folded kernels (same output to rounding, half the
            multiply-adds; "same" padding and kernel_size > 1 only, else ignored).
    """

    def __init__(
        self,
        in_type: RCFieldType,
        out_type: RCFieldType,
        kernel_size: int,
        dilation: int = 1,
        bias: bool = True,
        padding: str = "same",
        fold: bool = False,
    ) -> None:
        super().__init__()
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
        if kernel_size % 2 == 0 and padding == "same":
            raise ValueError(
                f"kernel_size must be odd for exact RC equivariance, got {kernel_size}"
            )
        self.in_type, self.out_type = in_type, out_type
        self.kernel_size, self.dilation = kernel_size, dilation
        # "valid" (no padding) takes any kernel: a kernel as long as the input is a dense
        # map over channels x positions that is still RC-equivariant (the positional readout).
        self.padding = dilation * (kernel_size - 1) // 2 if padding == "same" else 0
        self.same = padding == "same"
        # How the output is computed, not what it is: no parameters or state of its own.
        self.fold = fold and self.same and kernel_size > 1
        tying = conv_weight_tying(in_type, out_type, kernel_size)
        self.register_buffer("weight_index", tying.index, persistent=False)
        self.register_buffer("weight_sign", tying.sign, persistent=False)
        fan_in = in_type.size * kernel_size
        bound = 1.0 / math.sqrt(fan_in)
        self.theta = nn.Parameter(torch.empty(tying.num_free).uniform_(-bound, bound))
        if bias:
            btying = bias_tying(out_type)
            self.register_buffer("bias_index", btying.index, persistent=False)
            self.register_buffer("bias_sign", btying.sign, persistent=False)
            self.bias_theta = nn.Parameter(torch.empty(btying.num_free).uniform_(-bound, bound))
        else:
            self.bias_theta = None

    @torch.no_grad()
    def separate_strands_(self) -> None:
        """Zero the weights from partner (reverse-strand) and irrep inputs into the first
        channel of every output pair; tying zeroes the mirror block too.

        After this, the first channels of the regular pairs are a plain convolution of
        the first channels of the input pairs: a stack of such layers starts as one plain
        CNN applied to x (first channels) and to RC x (partners). Training may grow the
        cross-strand weights back; it does not have to unlearn random ones first.
        """
        r_in, r_out = self.in_type.regular, self.out_type.regular
        w = self.weight_index.view(self.out_type.size, self.in_type.size, self.kernel_size)
        cross = w[:r_out, r_in:].reshape(-1)
        cross = cross[cross < self.theta.numel()]  # the forced-zero slot is not a parameter
        self.theta[cross] = 0.0

    @staticmethod
    def _expand(theta: torch.Tensor, index: torch.Tensor, sign: torch.Tensor) -> torch.Tensor:
        padded = torch.cat([theta, theta.new_zeros(1)])  # slot num_free is the forced zero
        return padded[index] * sign.to(theta.dtype)

    def weight(self) -> torch.Tensor:
        """The (C_out, C_in, K) convolution weight, equivariant by construction."""
        w = self._expand(self.theta, self.weight_index, self.weight_sign)
        return w.view(self.out_type.size, self.in_type.size, self.kernel_size)

    def bias(self) -> torch.Tensor | None:
        if self.bias_theta is None:
            return None
        return self._expand(self.bias_theta, self.bias_index, self.bias_sign)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == self.in_type.size, (
            f"expected {self.in_type}, got {x.shape[1]} channels"
        )
        if self.fold:
            return folded_conv1d(
                x, self.weight(), self.bias(), self.in_type, self.out_type, self.dilation
            )
        if self.same:  # taps that read only padding are skipped (``taps``): same output
            return same_conv1d(x, self.weight(), self.bias(), self.dilation)
        return F.conv1d(x, self.weight(), self.bias(), dilation=self.dilation)

    def export(self) -> nn.Conv1d:
        """A plain ``nn.Conv1d`` with the expanded weight, for fast inference."""
        conv = nn.Conv1d(
            self.in_type.size,
            self.out_type.size,
            self.kernel_size,
            padding=self.padding,
            dilation=self.dilation,
            bias=self.bias_theta is not None,
        )
        with torch.no_grad():
            conv.weight.copy_(self.weight())
            if conv.bias is not None:
                conv.bias.copy_(self.bias())
        return conv.to(self.theta.device, self.theta.dtype)

    def extra_repr(self) -> str:
        return (
            f"{self.in_type} -> {self.out_type}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, free_parameters={self.theta.numel()}"
            + (", fold=True" if self.fold else "")
        )
