"""What ``check-symmetry`` checks a DNA model on, and what the model guarantees."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gdl_science.io import UserInputError


def symmetry_inputs(
    length: int, input_path: str | None = None, n: int = 16, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """(n, 4, length) sequences: the first valid records of a file (framed at the
    checkpoint's window), or random one-hot DNA with N codes and padding (seeded)."""
    if input_path is not None:
        from gdl_dna.data import encode_window, iter_records

        xs = []
        for record in iter_records(input_path):
            if record.error is None:
                xs.append(encode_window(record.sequence, length))
            if len(xs) == n:
                break
        if not xs:
            raise UserInputError(f"{input_path}: no valid sequence to check symmetry on")
        return torch.stack(xs).to(dtype)
    g = torch.Generator().manual_seed(0)
    x = F.one_hot(torch.randint(4, (n, length), generator=g), 4).transpose(1, 2).to(dtype)
    x[:, :, torch.rand(length, generator=g) < 0.05] = 0.25  # some N
    x[0, :, : length // 10] = 0.0  # padding
    return x


def guarantee(head: str, symmetry: str, evidence: str | None) -> str:
    """One line: what RC does to this model's outputs, and why it has that head."""
    if symmetry == "none":
        what = "no RC guarantee (symmetry none: the error below is what it learned)"
    elif head == "strand":
        what = "strand-equivariant: RC swaps the two strands' outputs (strand head)"
    elif symmetry == "equivariant":
        what = "RC-invariant by construction: p(x) = p(RC x) (invariant head)"
    else:
        what = "RC-invariant by test-time averaging of both strands (augment)"
    return f"model: {what}" + (f"; chosen by the {evidence}" if evidence else "")
