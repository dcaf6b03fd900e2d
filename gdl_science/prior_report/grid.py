"""The prior-report grid: one cell per (symmetry mode, training fraction, seed).

A cell is an ordinary ``fit`` in its own folder ``cell_<mode>_f<frac>_s<seed>``
(as ensemble members live in ``member_<i>``). The seed draws the model's initial
weights (``seed_everything``) and the nested training subset (``data.subset_seed``);
the data's own ``seed`` is left alone, so every cell has the same validation set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from gdl_science.io.user_error import UserInputError
from gdl_science.training.symmetry_mode import SYMMETRY_MODES


@dataclass(frozen=True)
class Cell:
    """One fit of the grid."""

    index: int
    mode: str
    fraction: float
    seed: int

    @property
    def name(self) -> str:
        """The cell's folder name, e.g. ``cell_equivariant_f0.1_s1``: without the grid
        index, so a grid grown by more seeds, modes or fractions finds its finished cells
        again (``index`` is only the cell's place in this grid, for ``--cell``)."""
        return f"cell_{self.mode}_f{self.fraction:g}_s{self.seed}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def build_grid(
    modes: Sequence[str], fractions: Sequence[float], seeds: Sequence[int]
) -> list[Cell]:
    """Cells ordered by fraction, then seed, then mode: a grid cut short still compares
    every mode at the smallest fractions (the cheapest cells, where the prior should pay)."""
    bad = [m for m in modes if m not in SYMMETRY_MODES]
    if bad:
        raise UserInputError(f"--modes {bad[0]!r}: must be one of {', '.join(SYMMETRY_MODES)}")
    if not modes or not fractions or not seeds:
        raise UserInputError("--modes, --fractions and --seeds each need at least one value")
    for f in fractions:
        if not 0 < f <= 1:
            raise UserInputError(f"--fractions {f}: every fraction must be in (0, 1]")
    if len(set(modes)) < len(modes) or len(set(fractions)) < len(fractions):
        raise UserInputError("--modes and --fractions must not repeat a value")
    if len(set(seeds)) < len(seeds):
        raise UserInputError("--seeds must not repeat a value")
    cells = []
    for fraction in sorted(fractions):
        for seed in seeds:
            for mode in modes:
                cells.append(Cell(len(cells), mode, float(fraction), int(seed)))
    return cells
