"""Train/val/test splits: random, Bemis–Murcko scaffold (balanced), k-fold, or a ``split``
column (parsed by the core's ``column_split``); ``assign_splits`` picks one.

All functions take and return row indices, are seeded, and never look at the targets.
Scaffolds are computed on the parent molecule (``standardize.parent_molecule``), so a
salt and its free base are one scaffold group. The scaffold split follows Chemprop's
``scaffold_balanced``: scaffold sets larger than half the val/test size go to train
first, the rest are shuffled, then sets fill train, val and test in turn, so no
scaffold is shared between two splits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from gdl_molprop.data.standardize import parent_molecule
from gdl_science.training import column_split, split_indices

Split = tuple[list[int], list[int], list[int]]


def scaffold_of(smiles: str) -> str:
    """Bemis–Murcko scaffold SMILES of the parent molecule; unparsable SMILES are their
    own group (the raw text)."""
    mol = Chem.MolFromSmiles(smiles.strip()) if smiles.strip() else None
    if mol is None:
        return f"unparsed:{smiles}"
    try:
        parent, _ = parent_molecule(mol)
        return MurckoScaffold.MurckoScaffoldSmiles(mol=parent, includeChirality=False)
    except Exception:  # RDKit can fail on exotic valences; treat as its own scaffold
        return f"unparsed:{smiles}"


def scaffold_groups(scaffolds: Sequence[str]) -> list[list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(scaffolds):
        groups[s].append(i)
    return list(groups.values())


def _fill(groups: list[list[int]], sizes: tuple[int, int, int]) -> Split:
    """Assign whole groups to train until full, then val, then test (the rest)."""
    out: Split = ([], [], [])
    n_train, n_val, _ = sizes
    for group in groups:
        if len(out[0]) + len(group) <= n_train:
            out[0].extend(group)
        elif len(out[1]) + len(group) <= n_val:
            out[1].extend(group)
        else:
            out[2].extend(group)
    return sorted(out[0]), sorted(out[1]), sorted(out[2])


def scaffold_split(
    scaffolds: Sequence[str], val_fraction: float, test_fraction: float, seed: int
) -> Split:
    n = len(scaffolds)
    n_val, n_test = round(val_fraction * n), round(test_fraction * n)
    n_train = n - n_val - n_test
    groups = scaffold_groups(scaffolds)
    rng = np.random.default_rng(seed)
    big = [g for g in groups if len(g) > n_val / 2 or len(g) > n_test / 2]
    small = [g for g in groups if not (len(g) > n_val / 2 or len(g) > n_test / 2)]
    rng.shuffle(big)
    rng.shuffle(small)
    return _fill(big + small, (n_train, n_val, n_test))


def random_split(n: int, val_fraction: float, test_fraction: float, seed: int) -> Split:
    return split_indices(n, val_fraction, test_fraction, seed)


def kfold_split(
    n: int,
    num_folds: int,
    fold: int,
    val_fraction: float,
    seed: int,
    scaffolds: Sequence[str] | None = None,
) -> Split:
    """Fold ``fold`` of ``num_folds`` is the test set; val is ``val_fraction`` of the rest.

    With scaffolds, whole scaffold groups are dealt to folds (largest first, each to the
    currently smallest fold), so the test folds are scaffold-disjoint.
    """
    if not 0 <= fold < num_folds:
        raise ValueError(f"fold must be in [0, {num_folds}); got {fold}")
    rng = np.random.default_rng(seed)
    if scaffolds is None:
        groups = [[int(i)] for i in rng.permutation(n)]
    else:
        groups = scaffold_groups(scaffolds)
        rng.shuffle(groups)
        groups.sort(key=len, reverse=True)
    folds: list[list[int]] = [[] for _ in range(num_folds)]
    for group in groups:
        min(folds, key=len).extend(group)
    test = sorted(folds[fold])
    rest = sorted(i for k, f in enumerate(folds) if k != fold for i in f)
    if scaffolds is None:
        tr, va, _ = split_indices(len(rest), val_fraction, 0.0, seed + 1)
    else:
        tr, va, _ = scaffold_split([scaffolds[i] for i in rest], val_fraction, 0.0, seed + 1)
    return [rest[i] for i in tr], [rest[i] for i in va], test


def assign_splits(
    smiles: Sequence[str],
    split_labels: Sequence[str | None],
    where: Sequence[str],
    strategy: str,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    num_folds: int = 0,
    fold: int = 0,
) -> list[int]:
    """0 (train), 1 (val) or 2 (test) per row, by ``strategy`` (random, scaffold, column)
    or, with ``num_folds > 1``, fold ``fold`` of a (scaffold) k-fold split as the test set.

    where: "file line N" per row, for the column split's error messages.
    """
    n = len(smiles)
    if num_folds > 1:
        scaffolds = [scaffold_of(s) for s in smiles] if strategy == "scaffold" else None
        train, val, test = kfold_split(n, num_folds, fold, val_fraction, seed, scaffolds)
    elif strategy == "column":
        train, val, test = column_split(list(split_labels), list(where))
    elif strategy == "scaffold":
        scaffolds = [scaffold_of(s) for s in smiles]
        train, val, test = scaffold_split(scaffolds, val_fraction, test_fraction, seed)
    else:
        train, val, test = random_split(n, val_fraction, test_fraction, seed)
    assert len(train) + len(val) + len(test) == n, "split must cover every row once"
    assign = [0] * n
    for i in val:
        assign[i] = 1
    for i in test:
        assign[i] = 2
    return assign
