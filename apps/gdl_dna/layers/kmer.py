"""An optional k-mer input layer: one-hot (B, 4, L) -> k-mer indicators (B, 4^k, L-k+1).

Channel j at position t is the probability that the k bases starting at t spell k-mer j
(the product of the per-base probabilities, so IUPAC spreading carries over). RC maps
the k-mer at t to the reverse-complement k-mer at L-k-t, i.e. a length flip plus a
channel permutation. We order the channels so that this permutation is an RC field
type: non-palindromic k-mers in RC-regular pairs (channel i <-> 2r-1-i), palindromic
k-mers (only for even k, e.g. ACGT) as +1 channels.
"""

from __future__ import annotations

import itertools

import torch

from gdl_dna.layers.masking import kmer_mask
from gdl_science.blueprint import EquivariantLinear
from gdl_science.symmetry import ONE_HOT, RCFieldType


def _revcomp_index(kmer: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(3 - b for b in reversed(kmer))  # A,C,G,T = 0..3, complement is 3 - b


def kmer_channel_order(k: int) -> tuple[list[int], RCFieldType]:
    """Base-4 k-mer indices in RC field-type order, and that field type."""
    firsts, seconds, palindromes = [], [], []
    for kmer in itertools.product(range(4), repeat=k):
        rc = _revcomp_index(kmer)
        idx, rc_idx = _base4(kmer), _base4(rc)
        if idx == rc_idx:
            palindromes.append(idx)
        elif idx < rc_idx:
            firsts.append(idx)
            seconds.append(rc_idx)
    order = firsts + seconds[::-1] + palindromes
    return order, RCFieldType(regular=len(firsts), plus=len(palindromes))


def _base4(kmer: tuple[int, ...]) -> int:
    return sum(b * 4 ** (len(kmer) - 1 - i) for i, b in enumerate(kmer))


class KmerEncoding(EquivariantLinear):
    """(B, 4, L) one-hot -> (B, 4^k, L-k+1) k-mer indicators in RC field-type order.

    Not linear in the input (a product of k bases) but it has no parameters and is
    equivariant; it sits where the first linear stage would.
    """

    def __init__(self, k: int) -> None:
        super().__init__()
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.k = k
        order, out_type = kmer_channel_order(k)
        self.register_buffer("order", torch.tensor(order, dtype=torch.long), persistent=False)
        self.in_type, self.out_type = ONE_HOT, out_type

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == 4, f"expected one-hot (B, 4, L), got {x.shape[1]} channels"
        b, _, length = x.shape
        positions = length - self.k + 1
        if positions < 1:
            raise ValueError(f"sequence length {length} is shorter than k={self.k}")
        z = x[:, :, :positions]
        for j in range(1, self.k):
            # Outer product over the alphabet: (B, 4^j, 1, L') * (B, 1, 4, L').
            # Explicit sizes: an empty batch (DDP's empty frame groups) cannot infer -1.
            z = z[:, :, None, :] * x[:, None, :, j : j + positions]
            z = z.reshape(b, 4 ** (j + 1), positions)
        return z[:, self.order]

    def output_mask(self, mask: torch.Tensor) -> torch.Tensor:
        return kmer_mask(mask, self.k)

    def extra_repr(self) -> str:
        return f"k={self.k}, out={self.out_type}"
