"""Test-time mirroring (nnU-Net's TTA): the softmax averaged over flips of the input.

Which axes are mirrored follows the plan's group (``layers.groups``), i.e. the flips the
data says are plausible poses:
- ``mirror`` (anatomy in a canonical pose, e.g. Hippocampus): only its axis (left-right);
  mirroring anterior-posterior would show the network poses it never meets;
- ``flips`` / ``octahedral`` (random poses): all three axes (nnU-Net's 3D default);
- ``inplane`` (anisotropic): the two in-plane axes.

The passes are the subsets of those axes (2^k flips). A network that is *exactly*
equivariant to some of these flips (the mirror-equivariant U-Net to its own flip; the
octahedral one to the flip pairs that are rotations) already gives, for such a flip g,
g^-1 f(g x) = f(x): those passes would repeat a pass. ``tta_flips(..., "auto")`` keeps one
flip per coset of the flips the network is equivariant to, so the mirror-equivariant net
on Hippocampus runs 1 pass where the plain net runs 2, with the same average (equal up
to float rounding; ``tests/medseg/test_tta.py``).
"""

from __future__ import annotations

import itertools
from typing import Literal

import torch

from gdl_medseg.layers.groups import GridGroup, make_group

TTAMode = Literal["auto", "all", "off"]
Flip = tuple[int, ...]  # spatial axes (0, 1, 2 of D, H, W) flipped in one pass


def mirror_axes(group: str, axis: int) -> tuple[int, ...]:
    """The spatial axes test-time mirroring flips for a plan's ``group`` and ``axis``."""
    if group == "mirror":
        return (axis,)
    if group == "inplane":
        return tuple(a for a in range(3) if a != axis)
    return (0, 1, 2)


def _signs(flip: Flip) -> tuple[int, int, int]:
    return tuple(-1 if a in flip else 1 for a in range(3))  # type: ignore[return-value]


def tta_flips(axes: tuple[int, ...], mode: TTAMode, group: GridGroup | None = None) -> list[Flip]:
    """The flips to average over: ``off`` -> [()]; ``all`` -> every subset of ``axes``;
    ``auto`` -> one subset per coset of those the network (exactly equivariant to
    ``group``, None for a plain net) maps to the same output."""
    if mode == "off":
        return [()]
    flips = [f for k in range(len(axes) + 1) for f in itertools.combinations(sorted(axes), k)]
    if mode == "all" or group is None:
        return flips
    elements = group.elements
    in_group = [
        _signs(f)
        for f in flips
        if any(torch.equal(torch.diag(torch.tensor(_signs(f))), e) for e in elements)
    ]
    covered: set[tuple[int, int, int]] = set()
    kept = []
    for f in flips:  # smallest flips first: the identity is always the first pass
        s = _signs(f)
        if s in covered:
            continue
        kept.append(f)
        covered |= {tuple(a * b for a, b in zip(s, h)) for h in in_group}  # type: ignore[misc]
    return kept


def task_flips(task: object, mode: TTAMode) -> list[Flip]:
    """The flips for a trained ``MedSegTask`` (its plan's group; equivariant or not).

    ``auto`` mirrors only where the model knows the mirrored poses: an ``augment`` model
    (trained on them) gets every pass; a ``none`` model, which never saw a flipped scan,
    gets one (on Hippocampus mirroring it lowered held-out Dice by 0.022 at a 10-minute
    budget: ``benchmarks/results/medseg_augment_ab.md``); an equivariant one gets the
    passes its symmetry does not already cover."""
    if mode == "auto" and getattr(task, "symmetry", "none") == "none":
        return [()]
    group_name, axis = task.group_name, task.axis  # type: ignore[attr-defined]
    group = make_group(group_name, axis) if task.equivariant else None  # type: ignore[attr-defined]
    return tta_flips(mirror_axes(group_name, axis), mode, group)


def describe(flips: list[Flip], mode: TTAMode) -> str:
    """e.g. "off (1 pass)", "auto: 2 passes (identity, flip 0)"."""
    if mode == "off":
        return "off (1 pass)"
    if flips == [()]:
        return f"{mode}: 1 pass (the model is equivariant to the flips, or a none model)"
    shown = ", ".join("identity" if not f else "flip " + "+".join(map(str, f)) for f in flips)
    return f"{mode}: {len(flips)} passes ({shown})"
