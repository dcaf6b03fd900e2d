"""Split-column parsing and seeded random splits, shared by every app."""

from __future__ import annotations

import pytest

from gdl_science.io import UserInputError
from gdl_science.training import column_split, parse_split_value, split_indices


@pytest.mark.parametrize(
    "value, part",
    [("train", "train"), (" VAL ", "val"), ("valid", "val"), ("Validation", "val"),
     ("dev", "val"), ("test", "test")],
)
def test_split_values_and_their_aliases(value, part):
    assert parse_split_value(value, "x.tsv line 2") == part


def test_a_bad_split_value_names_the_record():
    with pytest.raises(UserInputError, match=r"x\.tsv line 7: split value 'tran'"):
        column_split(["train", "tran"], ["x.tsv line 6", "x.tsv line 7"])


def test_column_split_indices_and_no_training_rows():
    assert column_split(["test", "train", "val", "train"], ["a"] * 4) == ([1, 3], [2], [0])
    with pytest.raises(UserInputError, match="no training records"):
        column_split(["val", "test"], ["a", "b"])


def test_random_split_is_seeded_and_complete():
    a = split_indices(50, 0.2, 0.1, seed=3)
    assert a == split_indices(50, 0.2, 0.1, seed=3) != split_indices(50, 0.2, 0.1, seed=4)
    assert sorted(a[0] + a[1] + a[2]) == list(range(50)) and (len(a[1]), len(a[2])) == (10, 5)
