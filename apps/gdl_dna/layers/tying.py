"""Weight tying for RC-equivariant linear maps, shared by the convolution and the bias.

RC acts on the channels of every field type by a *signed permutation*: channel c of
RC·x is ``sign[c] * x[perm[c]]`` (plus a flip of the length axis). A linear map is
RC-equivariant iff its weight is a fixed point of the involution

    T(W)[o, c, k] = sign_out[o] * sign_in[c] * W[perm_out[o], perm_in[c], K-1-k].

T permutes (with signs) the entries of W, so its orbits have size 1 or 2. Each orbit of
size 2 is one free parameter (its partner is the same value times a sign); a fixed entry
is free when its sign is +1 and forced to zero when it is -1. ``TiedIndex`` stores, for
every entry of W, which free parameter it reads and with which sign, so that
``W = sign * theta[index]`` builds an exactly equivariant weight from exactly as many
parameters as the equivariant subspace has dimensions (no redundant parameters).
"""

from __future__ import annotations

import torch

from gdl_science.symmetry import RCFieldType


def channel_action(field_type: RCFieldType) -> tuple[torch.Tensor, torch.Tensor]:
    """(perm, sign) with RC·x[c] = sign[c] * x[perm[c]] on the channel axis."""
    r2 = 2 * field_type.regular
    perm = list(range(r2 - 1, -1, -1)) + list(range(r2, field_type.size))
    sign = [1.0] * (r2 + field_type.plus) + [-1.0] * field_type.minus
    return torch.tensor(perm, dtype=torch.long), torch.tensor(sign)


class TiedIndex:
    """Free-parameter index and sign of every entry of a tensor with an involutive symmetry.

    ``partner[e]`` and ``sign[e]`` describe the involution T(W)[e] = sign[e] * W[partner[e]]
    on flat entries e. After construction: ``num_free`` parameters, ``index`` (flat entry
    -> parameter, ``num_free`` for entries forced to zero) and ``sign``.
    """

    def __init__(self, partner: torch.Tensor, sign: torch.Tensor) -> None:
        entries = torch.arange(partner.numel())
        representative = torch.minimum(entries, partner)  # one entry names each orbit
        zero = (partner == entries) & (sign < 0)  # W[e] = -W[e] forces zero
        free_orbits = torch.unique(representative[~zero])  # sorted
        self.num_free = int(free_orbits.numel())
        index = torch.searchsorted(free_orbits, representative)
        # The representative reads its parameter as is; its partner reads it times a sign.
        out_sign = torch.where(entries == representative, torch.ones_like(sign), sign)
        index[zero] = self.num_free  # reads the extra zero slot appended to theta
        out_sign[zero] = 0.0
        self.index = index
        self.sign = out_sign


def conv_weight_tying(in_type: RCFieldType, out_type: RCFieldType, kernel_size: int) -> TiedIndex:
    """Tying of a (C_out, C_in, K) convolution weight between two RC field types."""
    perm_in, sign_in = channel_action(in_type)
    perm_out, sign_out = channel_action(out_type)
    c_out, c_in, k = out_type.size, in_type.size, kernel_size
    grid = torch.arange(c_out * c_in * k).reshape(c_out, c_in, k)
    partner = grid[perm_out][:, perm_in].flip(-1).reshape(-1)
    sign = (sign_out[:, None, None] * sign_in[None, :, None]).expand(c_out, c_in, k).reshape(-1)
    return TiedIndex(partner, sign.contiguous())


def bias_tying(out_type: RCFieldType) -> TiedIndex:
    """Tying of a (C_out,) bias: b = sign_out * b[perm_out] (zero on -1 channels)."""
    perm, sign = channel_action(out_type)
    return TiedIndex(perm, sign)
