"""Messy training tables: text in target cells, conflicting duplicates, molecules that
have no force field (2D fallback). None of them may abort a fit."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from gdl_molprop.data.chem import prepare_smiles
from gdl_molprop.data.settings import PrepSettings
from gdl_molprop.datamodule import MolPropDataModule

from .conftest import GOOD_ROWS, write_csv

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "molprop"


@pytest.fixture
def messy_csv(tmp_path: Path) -> Path:
    rows = [list(r) for r in GOOD_ROWS]
    rows[1][2] = ">10"  # an assay limit
    rows[3][2] = "n.d."
    rows.append(("ethanol_again", "OCC", "-0.5"))  # ethanol, conflicting value
    rows.append(("toluene_again", "Cc1ccccc1", "-2.21"))  # a duplicate that agrees
    return write_csv(tmp_path / "messy.csv", rows)


def test_text_targets_are_masked_and_counted(messy_csv, capsys):
    dm = MolPropDataModule(path=str(messy_csv), prep=PrepSettings(geometry="2d"), cache_dir="none")
    assert dm.task_names == ["logS"]
    err = capsys.readouterr().err
    assert "2 row(s) with a non-numeric target, masked" in err
    assert "line 3 (id=phenol): non-numeric target 'logS'='>10'" in err
    records = dm.table().records
    assert math.isnan(records[1].targets[0]) and dm.non_numeric_rows == 2


def test_conflicting_duplicates_warn_with_a_count(messy_csv, capsys):
    dm = MolPropDataModule(path=str(messy_csv), prep=PrepSettings(geometry="2d"), cache_dir="none")
    dm.task_names  # noqa: B018 - reads the table
    err = capsys.readouterr().err
    assert "warning:" in err and "1 molecule(s) appear more than once" in err
    assert "lines 2, 14" in err and dm.conflicting_duplicates == 1


def test_fit_on_a_messy_table_succeeds(messy_csv, tmp_path, capsys):
    from gdl_molprop.cli import SPEC

    from gdl_science.cli import run_app

    code = run_app(
        SPEC,
        ["fit", "--config", str(CONFIGS / "small.yaml"), "--data.path", str(messy_csv),
         "--trainer.max_epochs", "1", "--trainer.default_root_dir", str(tmp_path / "r"),
         "--trainer.enable_progress_bar", "false"],
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err[-2000:]
    assert "non-numeric target" in err and "conflicting targets" in err


def test_no_forcefield_molecule_falls_back_to_2d(monkeypatch):
    import gdl_molprop.data.conformers as conformers

    monkeypatch.setattr(conformers, "optimise_conformers", lambda mol_h: None)
    mmff = PrepSettings(forcefield="mmff", embed_hydrogens=True, fallback_2d=False)
    strict = prepare_smiles("CCO", mmff)
    assert strict.status == "no_forcefield"
    kept = prepare_smiles("CCO", PrepSettings(forcefield="mmff", embed_hydrogens=True))
    assert kept.status == "ok" and "2d_only" in kept.note.split(";")
    assert "no_forcefield" in kept.note and kept.conformers.shape[0] == 0
