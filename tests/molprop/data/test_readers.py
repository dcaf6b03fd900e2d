"""Readers: CSV/TSV, SDF, .smi; file-level errors name the file and line."""

from __future__ import annotations

import math

import pytest
from gdl_molprop.data.readers import read_csv, read_records, read_sdf, read_smi
from rdkit import Chem
from rdkit.Chem import AllChem

from gdl_science.io import UserInputError

from ..conftest import write_csv


def test_csv_targets_blank_is_missing(tmp_path):
    path = write_csv(
        tmp_path / "m.csv",
        [("a", "CCO", "1.5", ""), ("b", "CCN", "", "0.25")],
        header=("id", "smiles", "t1", "t2"),
    )
    recs = list(read_csv(path, targets=["t1", "t2"]))
    assert [r.id for r in recs] == ["a", "b"] and [r.line for r in recs] == [2, 3]
    assert recs[0].targets[0] == 1.5 and math.isnan(recs[0].targets[1])
    assert math.isnan(recs[1].targets[0]) and recs[1].targets[1] == 0.25


def test_csv_default_targets_are_numeric_columns(tmp_path):
    path = write_csv(
        tmp_path / "m.csv",
        [("a", "CCO", "1.5", "x", "train")],
        header=("id", "smiles", "y", "comment", "split"),
    )
    rec = next(read_csv(path))
    assert rec.targets == [1.5] and rec.split == "train"


def test_missing_smiles_column_lists_columns(tmp_path):
    path = write_csv(tmp_path / "m.csv", [("a", "CCO", "1")], header=("id", "SMILES_str", "y"))
    with pytest.raises(
        UserInputError,
        match=r"m\.csv line 1: no SMILES column 'smiles'.*"
        r"'id', 'SMILES_str', 'y'",
    ):
        list(read_csv(path))


def test_non_numeric_target_is_masked_with_a_note(tmp_path):
    path = write_csv(
        tmp_path / "m.csv", [("a", "CCO", "1"), ("b", "CCN", "high")], header=("id", "smiles", "y")
    )
    first, second = read_csv(path, targets=["y"])
    assert first.targets == [1.0] and first.notes == []
    assert math.isnan(second.targets[0])
    assert second.notes == ["non-numeric target 'y'='high'"]


def test_nan_text_is_missing_and_inf_is_an_error(tmp_path):
    path = write_csv(
        tmp_path / "m.csv", [("a", "CCO", "NaN"), ("b", "CCN", "inf")], header=("id", "smiles", "y")
    )
    recs = read_csv(path, targets=["y"])
    assert math.isnan(next(recs).targets[0])
    with pytest.raises(UserInputError, match=r"line 3.*infinite"):
        next(recs)


def test_tsv_and_missing_target_column(tmp_path):
    path = tmp_path / "m.tsv"
    path.write_text("smiles\ty\nCCO\t1\n")
    assert next(read_csv(path)).targets == [1.0]
    with pytest.raises(UserInputError, match=r"target column.*'z'.*not found"):
        list(read_csv(path, targets=["z"]))


def test_sdf_properties_and_coordinates(tmp_path):
    path = tmp_path / "m.sdf"
    writer = Chem.SDWriter(str(path))
    for i, smi in enumerate(["CCO", "c1ccccc1"]):
        m = Chem.AddHs(Chem.MolFromSmiles(smi))
        AllChem.EmbedMolecule(m, randomSeed=1)
        m.SetProp("_Name", f"mol{i}")
        m.SetProp("energy", str(-1.5 * i))
        writer.write(m)
    writer.close()
    recs = list(read_sdf(path, targets=["energy"]))
    assert [r.id for r in recs] == ["mol0", "mol1"]
    assert recs[1].targets == [-1.5] and recs[1].source.molblock is not None
    with pytest.raises(UserInputError, match=r"record 1 \(mol0\): no property 'gap'"):
        list(read_sdf(path, targets=["gap"]))


def test_smi_names_and_header(tmp_path):
    path = tmp_path / "m.smi"
    path.write_text("smiles name\nCCO ethanol\nc1ccccc1\tbenzene\nCCN\n\n")
    recs = list(read_smi(path))
    assert [(r.source.smiles, r.id, r.line) for r in recs] == [
        ("CCO", "ethanol", 2),
        ("c1ccccc1", "benzene", 3),
        ("CCN", "4", 4),
    ]


def test_unknown_format_and_smi_for_training(tmp_path):
    with pytest.raises(UserInputError, match="unknown input format"):
        read_records(tmp_path / "m.xlsx")
    with pytest.raises(UserInputError, match="no targets"):
        read_records(tmp_path / "m.smi", with_targets=True)


def test_real_esol_trailing_spaces(esol_csv):
    """ESOL's SMILES carry trailing spaces; they must parse, not become 'names'."""
    from gdl_molprop.data.chem import PrepSettings
    from gdl_molprop.data.pipeline import prepare_many

    target = "measured log solubility in mols per litre"
    recs = [r for _, r in zip(range(30), read_csv(esol_csv, targets=[target]))]
    assert recs[0].source.smiles.endswith(" ")  # as in the original file
    mols = prepare_many([r.source for r in recs], PrepSettings(geometry="2d"))
    assert all(m.ok for m in mols)
    assert all(-12 < r.targets[0] < 2 for r in recs)
