"""Splits: scaffold splits share no scaffold; k-fold test folds partition the data."""

from __future__ import annotations

import pytest
from gdl_molprop.data.splits import kfold_split, scaffold_of, scaffold_split

from gdl_science.io import UserInputError
from gdl_science.training import column_split

SMILES = [
    "c1ccccc1O",
    "c1ccccc1N",
    "c1ccccc1C",
    "c1ccccc1Cl",
    "c1ccccc1Br",  # benzene scaffold
    "C1CCCCC1O",
    "C1CCCCC1N",
    "C1CCCCC1C",  # cyclohexane
    "c1ccncc1C",
    "c1ccncc1O",  # pyridine
    "CCO",
    "CCCN",
    "CC(C)O",
    "CCCC",  # acyclic
    "c1ccc2ccccc2c1",
    "c1ccc2ccccc2c1O",  # naphthalene
    "C1CCOC1",
    "C1CCNC1",
    "c1ccoc1",
    "c1ccsc1",
]


def test_scaffold_of():
    assert scaffold_of("c1ccccc1CCO") == "c1ccccc1"
    assert scaffold_of("CCO") == ""
    assert scaffold_of("C1CC").startswith("unparsed:")


def test_scaffold_split_is_scaffold_disjoint_and_complete():
    scaffolds = [scaffold_of(s) for s in SMILES]
    train, val, test = scaffold_split(scaffolds, 0.2, 0.2, seed=0)
    assert sorted(train + val + test) == list(range(len(SMILES)))
    sets = [{scaffolds[i] for i in part} for part in (train, val, test)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert len(train) >= len(SMILES) * 0.5 and val and test


def test_split_column_uses_the_core_parser():
    # molprop has no split-column parser of its own any more (issue 9): the core's.
    assert column_split(["train", "VAL", "test", "valid"], ["l2", "l3", "l4", "l5"]) == (
        [0],
        [1, 3],
        [2],
    )
    with pytest.raises(UserInputError, match="l3: split value 'later'"):
        column_split(["train", "later"], ["l2", "l3"])


@pytest.mark.parametrize("use_scaffolds", [False, True])
def test_kfold_folds_partition(use_scaffolds):
    scaffolds = [scaffold_of(s) for s in SMILES] if use_scaffolds else None
    tests = []
    for fold in range(4):
        train, val, test = kfold_split(len(SMILES), 4, fold, 0.1, seed=3, scaffolds=scaffolds)
        assert sorted(train + val + test) == list(range(len(SMILES)))
        tests.append(set(test))
        if use_scaffolds:
            assert not {scaffolds[i] for i in test} & {scaffolds[i] for i in train + val}
    assert set().union(*tests) == set(range(len(SMILES)))
    assert sum(len(t) for t in tests) == len(SMILES)
